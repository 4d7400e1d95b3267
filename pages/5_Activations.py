"""Activations: what a trained network sees — feature maps for two test images, filters, mistakes."""
from __future__ import annotations

import streamlit as st

import ui
from cnnkit import activations, data, plots
from cnnkit.errors import CnnkitError

store = ui.page("Activations", ":material/biotech:")
st.title("Activations")
st.caption("Pick a finished run and two test images (say a pullover and a coat): the first and second conv "
           "layers' feature maps side by side, the first layer's filters, where the model errs.")


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=3)
def dataset(name: str) -> data.Data:
    return data.load(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def loaded_run(home: str, run_id: str, finished_at: float) -> activations.LoadedRun:
    """A run's model, cached per store, run and finish time (a resumed run gets its new weights)."""
    return activations.load_run(store, run_id)


def image_picker(ds: data.Data, side: str, default_class: int) -> int:
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


with ui.guard():
    runs = [r for r in store.list_runs(status=("completed", "cancelled"), limit=500)
            if store.checkpoint_path(r.id).exists()]
    run = None
    if runs:
        labels = {r.id: f"{r.name} · {r.id} · {r.dataset} · {r.status}" for r in runs}
        run_id = st.selectbox("run", list(labels), format_func=labels.get, key="act.run")
        run = next(r for r in runs if r.id == run_id)
    tab_maps, tab_errors, tab_preview = st.tabs(["Feature maps and filters", "Confusion and mistakes",
                                                 "Dataset preview"])

    with tab_preview:
        c1, c2 = st.columns([1, 3])
        name = c1.selectbox("dataset", list(data.DATASETS), format_func=lambda d: data.DATASETS[d].title,
                            key="act.preview.dataset")
        per_class = c1.slider("images per class", 1, 16, 8, key="act.preview.n")
        seed = c1.number_input("shuffle", 0, 10_000, 0, key="act.preview.seed", help="another random pick")
        if not data.is_available(name):
            c2.error(f"{data.DATASETS[name].title} is not installed here: {data.DATASETS[name].how_to_get}.")
        else:
            images, titles = activations.preview(dataset(name), per_class, int(seed))
            c2.plotly_chart(plots.image_grid(images.numpy(), titles, cols=per_class, cell=56,
                                             title=f"{data.DATASETS[name].title}: {per_class} test images per class"),
                            key="act.preview.fig")

    if run is None:
        for tab in (tab_maps, tab_errors):
            tab.info("No finished run with a checkpoint yet. Train one (a 1-epoch LeNet takes seconds), "
                     "then come back.")
        st.stop()
    if not data.is_available(run.dataset):
        for tab in (tab_maps, tab_errors):
            tab.error(f"{data.DATASETS[run.dataset].title} is not installed here: "
                      f"{data.DATASETS[run.dataset].how_to_get}.")
        st.stop()
    ds = dataset(run.dataset)
    loaded = loaded_run(str(store.home), run.id, run.finished_at or 0.0)

    with tab_maps:
        classes = ds.spec.classes
        # Pullover (2) vs Coat (4) on Fashion-MNIST: the pair the mission asks about.
        a_default, b_default = (2, 4) if run.dataset == "fashion-mnist" else (0, 1)
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
        cols = st.columns(2)
        for col, side, index, p in zip(cols, "AB", (ia, ib), probs):
            with col:
                label = classes[int(ds.test_y[index])]
                guess = int(p.argmax())
                st.plotly_chart(plots.image_grid(images[[0 if side == "A" else 1]].numpy(), cell=140,
                                                 title=f"{side}: test #{index}, {label}"), key=f"act.img.{side}")
                st.caption(f"predicted **{classes[guess]}** ({100 * float(p[guess]):.1f} %)"
                           + ("" if guess == int(ds.test_y[index]) else " — wrong"))
                for layer in maps:
                    fm = layer.maps[0 if side == "A" else 1].numpy()
                    title = f"{layer.title}: {fm.shape[0]} maps {fm.shape[1]}×{fm.shape[2]}"
                    st.plotly_chart(plots.image_grid(fm, [str(i) for i in range(len(fm))], cols=8, cell=52,
                                                     normalize_each=True, colorscale="viridis", title=title),
                                    key=f"act.maps.{side}.{layer.layer}")
        if maps:
            filters = activations.conv1_filters(loaded)
            shown = filters[:, 0].numpy() if filters.shape[1] != 3 else filters.numpy()
            st.plotly_chart(plots.image_grid(shown, [str(i) for i in range(len(shown))], cols=16, cell=40,
                                             normalize_each=True, colorscale="RdBu",
                                             title=f"conv 1 filters ({filters.shape[0]} × {filters.shape[1]} × "
                                                   f"{filters.shape[2]}×{filters.shape[3]}"
                                                   + (", input channel 0" if filters.shape[1] not in (1, 3) else "")
                                                   + ")"),
                            key="act.filters")

    with tab_errors:
        try:
            preds = activations.predictions(store, run.id)
        except CnnkitError as exc:
            preds = None
            st.info(str(exc))
        if preds is not None:
            k = ds.spec.num_classes
            c1, c2 = st.columns([3, 2])
            normalize = c2.toggle("rows as fractions", value=True, key="act.cm.norm")
            acc = float((preds["label"] == preds["pred"]).float().mean())
            c2.metric("test accuracy (final model)", f"{100 * acc:.2f} %", help=f"{preds['label'].numel():,} images")
            c1.plotly_chart(plots.confusion(activations.confusion_matrix(preds, k), ds.spec.classes, normalize),
                            key="act.cm")
            st.markdown("**Misclassified test images**")
            f1, f2, f3 = st.columns(3)
            true_cls = f1.selectbox("true class", [None, *range(k)], key="act.err.true",
                                    format_func=lambda i: "any" if i is None else ds.spec.classes[i])
            pred_cls = f2.selectbox("predicted class", [None, *range(k)], key="act.err.pred",
                                    format_func=lambda i: "any" if i is None else ds.spec.classes[i])
            limit = f3.slider("how many", 8, 96, 32, step=8, key="act.err.n")
            wrong = activations.misclassified(preds, limit, true_cls, pred_cls)
            if not wrong:
                st.info("No misclassified image matches.")
            else:
                idx = [w[0] for w in wrong]
                titles = [f"#{i} {ds.spec.classes[t][:9]}→{ds.spec.classes[p][:9]}" for i, t, p in wrong]
                st.plotly_chart(plots.image_grid(ds.test_x[idx].numpy(), titles, cols=8, cell=80,
                                                 title="true → predicted"), key="act.wrong")
