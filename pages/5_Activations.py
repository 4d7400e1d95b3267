"""Activations: what a trained network sees — feature maps for two test images, filters, mistakes."""
from __future__ import annotations

import streamlit as st
import torch

import ui
from cnnkit import plots
from cnnkit.data import datasets, loading
from cnnkit.errors import CnnkitError
from cnnkit.insight import activations, explain
from cnnkit.store import Run
from cnnkit.views import activations as view
from cnnkit.views.common import missing_dataset
from cnnkit.watch.snapshots import Snapshots

METHOD_NAMES = {"gradcam": "Grad-CAM", "saliency": "gradient saliency"}
NO_RUN = "No finished run with a checkpoint yet. Train one (a 1-epoch LeNet takes seconds), then come back."


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=3)
def dataset(name: str) -> loading.Data:
    return loading.load(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def loaded_run(home: str, run_id: str, finished_at: float) -> activations.LoadedRun:
    """A run's model, cached per store, run and finish time (a resumed run gets its new weights)."""
    return activations.load_run(store, run_id)


def run_picker() -> Run | None:
    runs = view.showable_runs(store)
    if not runs:
        return None
    labels = {r.id: f"{r.name} · {r.id} · {r.dataset} · {r.status}" for r in runs}
    run_id = st.selectbox("run", list(labels), format_func=labels.get, key="act.run")
    return next(r for r in runs if r.id == run_id)


def dataset_preview() -> None:
    """A few test images per class of any installed dataset."""
    c1, c2 = st.columns([1, 3])
    name = c1.selectbox("dataset", list(datasets.DATASETS), format_func=lambda d: datasets.DATASETS[d].title,
                        key="act.preview.dataset")
    per_class = c1.slider("images per class", 1, 16, 8, key="act.preview.n")
    seed = c1.number_input("shuffle", 0, 10_000, 0, key="act.preview.seed", help="another random pick")
    missing = missing_dataset(name)
    if missing:
        c2.error(missing)
        return
    images, titles = activations.preview(dataset(name), per_class, int(seed))
    c2.plotly_chart(plots.image_grid(images.numpy(), titles, cols=per_class, cell=56,
                                     title=f"{datasets.DATASETS[name].title}: {per_class} test images per class"),
                    key="act.preview.fig")


def image_picker(ds: loading.Data, side: str, default_class: int) -> int:
    """Two ways to choose a test image; returns its index in the test set."""
    classes = ds.spec.classes
    mode = st.radio(f"image {side}", ("by class", "by index"), horizontal=True, key=f"act.mode.{side}")
    if mode == "by class":
        cls = st.selectbox(f"class {side}", range(len(classes)), index=default_class, format_func=lambda i: classes[i],
                           key=f"act.class.{side}")
        nth = st.number_input(f"example {side}", 0, 10_000, 0, key=f"act.nth.{side}",
                              help="which example of that class (0 = the first in the test set)")
        return activations.nth_of_class(ds.test_y, cls, int(nth))
    n = ds.test_y.numel()
    return int(st.number_input(f"test index {side} (0–{n - 1})", 0, n - 1, 0, key=f"act.index.{side}"))


def image_column(ds: loading.Data, side: str, index: int, image: torch.Tensor, probs: torch.Tensor,
                 maps: list[activations.FeatureMaps], position: int) -> None:
    """One test image, the model's answer, and its feature maps (``position`` in the batch)."""
    label = int(ds.test_y[index])
    st.plotly_chart(plots.image_grid(image.numpy(), cell=140, title=f"{side}: test #{index}, {ds.spec.classes[label]}"),
                    key=f"act.img.{side}")
    st.caption(view.prediction_text(probs, label, ds.spec.classes))
    for layer in maps:
        st.plotly_chart(view.maps_figure(layer.title, layer.maps[position].numpy()),
                        key=f"act.maps.{side}.{layer.layer}")


def feature_maps(run: Run, ds: loading.Data, loaded: activations.LoadedRun) -> tuple[int, int]:
    """Two test images side by side with the first conv layers' maps, then conv 1's filters; returns the
    images' test indices."""
    a_default, b_default = view.default_pair(run.dataset)
    c1, c2 = st.columns(2)
    with c1:
        ia = image_picker(ds, "A", a_default)
    with c2:
        ib = image_picker(ds, "B", b_default)
    images = ds.test_x[[ia, ib]]
    probs = activations.predict(loaded, images)
    try:
        maps = activations.feature_maps(loaded, images)
    except CnnkitError as exc:
        maps = []
        st.info(str(exc))
    for position, (col, side, index) in enumerate(zip(st.columns(2), "AB", (ia, ib))):
        with col:
            image_column(ds, side, index, images[[position]], probs[position], maps, position)
    if maps:
        st.plotly_chart(view.filters_figure(activations.conv1_filters(loaded)), key="act.filters")
    return ia, ib


def attribution_controls(loaded: activations.LoadedRun) -> tuple[str, str | None]:
    """The method (Grad-CAM where the model has a conv layer) and Grad-CAM's layer (the last conv by default)."""
    methods, note = view.attribution_methods(loaded)
    c1, c2 = st.columns(2)
    method = c1.segmented_control("attribution", methods, default=methods[0], required=True,
                                  format_func=METHOD_NAMES.get, key=f"act.xai.method.{loaded.run_id}")
    if note:
        c2.caption(note)
    if method != "gradcam":
        return method, None
    convs = [name for name, _ in activations.conv_layers(loaded.model)]
    layer = c2.selectbox("Grad-CAM layer", convs, index=len(convs) - 1, key=f"act.xai.layer.{loaded.run_id}",
                         help="the conv layer whose maps are weighed (the last one sees the most)")
    return method, layer


def other_run(run: Run) -> Run | None:
    """A second finished run on the same dataset, to see the same image through its model."""
    others = [r for r in view.showable_runs(store) if r.id != run.id and r.dataset == run.dataset]
    if not others:
        st.caption("Train a second run on the same dataset (say ReLU next to sigmoid) to compare its maps here.")
        return None
    labels = {r.id: f"{r.name} · {r.id} · {r.model}" for r in others}
    chosen = st.selectbox("the same image A under another run", list(labels), format_func=labels.get,
                          key="act.xai.other")
    return next(r for r in others if r.id == chosen)


def attribution(run: Run, ds: loading.Data, loaded: activations.LoadedRun, indices: list[int]) -> None:
    """Grad-CAM or saliency over the two chosen test images, then image A under this run and another."""
    method, layer = attribution_controls(loaded)
    images, labels = ds.test_x[indices], ds.test_y[indices]
    maps, targets, layer_name = explain.attribution_maps(loaded, images, method, layer)
    where = f" on layer {layer_name}" if layer_name else ""
    st.plotly_chart(view.attribution_figure(images, maps, view.attribution_titles(indices, labels, targets,
                                                                                  ds.spec.classes),
                                            f"{METHOD_NAMES[method]}{where}, for the predicted class"),
                    key="act.xai.pair")
    st.caption("The images chosen on the first tab. Each map is scaled to its own range; red is where the "
               "class score depends most on the image.")
    other = other_run(run)
    if other is None:
        return
    second = loaded_run(str(store.home), other.id, other.finished_at or 0.0)
    methods, note = view.attribution_methods(second)
    if method not in methods:  # one method for both, so that the two maps compare
        st.caption(note)
        method, layer = "saliency", None
    pair = [(loaded, layer), (second, None)]  # the other model's layers have other names: its last conv
    results = [explain.attribution_maps(lr, images[:1], method, lay) for lr, lay in pair]
    maps, targets = torch.cat([m for m, _, _ in results]), torch.cat([t for _, t, _ in results])
    titles = view.attribution_titles([indices[0]] * 2, labels[:1].repeat(2), targets, ds.spec.classes,
                                     [run.name, other.name])
    st.plotly_chart(view.attribution_figure(images[:1].repeat(2, 1, 1, 1), maps, titles,
                                            f"{METHOD_NAMES[method]}: one image, two runs"), key="act.xai.runs")


def epoch_column(run: Run, snaps: Snapshots, epoch: int, ds: loading.Data) -> None:
    """One run's snapshot at ``epoch``: where it looks, its filters, its maps, its confusion."""
    figures = view.epoch_figures(snaps, epoch, ds.test_x[snaps.indices], ds.spec.classes)
    st.markdown(f"**{run.name}** · {run.id}")
    st.caption(figures.caption)
    for i, figure in enumerate(filter(None, (figures.attribution, figures.filters, *figures.maps, figures.confusion))):
        st.plotly_chart(figure, key=f"act.epoch.{run.id}.{i}")


def epochs(run: Run, ds: loading.Data) -> None:
    """The run's snapshots epoch by epoch under a slider, beside another run's at the same epoch."""
    try:
        mine = activations.snapshots(store, run.id)
    except CnnkitError as exc:
        st.info(str(exc))
        return
    others = {r.id: r for r in view.runs_with_snapshots(store, run.dataset, run.id)}
    c1, c2 = st.columns(2)  # the slider above this run, the other run's picker above the other
    kept = mine.epochs
    epoch = kept[0] if len(kept) == 1 else c1.select_slider("epoch", kept, value=kept[-1], key=f"act.epoch.{run.id}")
    other = c2.selectbox("beside", [None, *others], key="act.epoch.other",
                         format_func=lambda i: "— (this run alone)" if i is None else f"{others[i].name} · {i}")
    shown = [(run, mine)] + ([(others[other], activations.snapshots(store, other))] if other else [])
    for column, (r, snaps) in zip(st.columns(len(shown)), shown):
        with column:
            epoch_column(r, snaps, epoch, ds)


def mistakes(run: Run, ds: loading.Data) -> None:
    """The confusion matrix and the misclassified test images, filtered by true and predicted class."""
    try:
        preds = activations.predictions(store, run.id)
    except CnnkitError as exc:
        st.info(str(exc))
        return
    classes = ds.spec.classes
    k = ds.spec.num_classes
    c1, c2 = st.columns([3, 2])
    normalize = c2.toggle("rows as fractions", value=True, key="act.cm.norm")
    c2.metric("test accuracy (final model)", f"{100 * view.accuracy(preds):.2f} %",
              help=f"{preds['label'].numel():,} images")
    c1.plotly_chart(plots.confusion(activations.confusion_matrix(preds, k), classes, normalize), key="act.cm")
    st.markdown("**Misclassified test images**")
    f1, f2, f3 = st.columns(3)
    true_cls = f1.selectbox("true class", [None, *range(k)], key="act.err.true",
                            format_func=lambda i: "any" if i is None else classes[i])
    pred_cls = f2.selectbox("predicted class", [None, *range(k)], key="act.err.pred",
                            format_func=lambda i: "any" if i is None else classes[i])
    limit = f3.slider("how many", 8, 96, 32, step=8, key="act.err.n")
    wrong = activations.misclassified(preds, limit, true_cls, pred_cls)
    if not wrong:
        st.info("No misclassified image matches.")
        return
    st.plotly_chart(plots.image_grid(ds.test_x[[w[0] for w in wrong]].numpy(), view.mistake_titles(wrong, classes),
                                     cols=8, cell=80, title="true → predicted"), key="act.wrong")


store = ui.page("Activations", ":material/biotech:")
st.title("Activations")
st.caption("Pick a finished run and two test images (say a pullover and a coat): the first and second conv "
           "layers' feature maps side by side, the first layer's filters, where the model looks (Grad-CAM, "
           "saliency), how all of it changed epoch by epoch, where it errs.")
with ui.guard():
    run = run_picker()
    tab_maps, tab_xai, tab_epochs, tab_errors, tab_preview = st.tabs([
        "Feature maps and filters", "Attribution maps", "Epoch by epoch", "Confusion and mistakes", "Dataset preview"])
    with tab_preview:
        dataset_preview()
    problem = NO_RUN if run is None else missing_dataset(run.dataset)
    if problem:
        for tab in (tab_maps, tab_xai, tab_epochs, tab_errors):
            (tab.info if run is None else tab.error)(problem)
        st.stop()
    ds = dataset(run.dataset)
    loaded = loaded_run(str(store.home), run.id, run.finished_at or 0.0)
    with tab_maps:
        pair = feature_maps(run, ds, loaded)
    with tab_xai:
        attribution(run, ds, loaded, list(pair))
    with tab_epochs:
        epochs(run, ds)
    with tab_errors:
        mistakes(run, ds)
