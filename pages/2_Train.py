"""Train: the whole RunConfig as a form; launch one run or a sweep. Training happens in the background."""
from __future__ import annotations

import streamlit as st

import ui
from cnnkit import data, estimate, sweep
from cnnkit.config import FIELD_PARAMS, RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import registry
from ui import forms

DATA_FIELDS = ["dataset", "subset", "test_subset", "input_size", "normalize", "permute_pixels"]
OPTIM_FIELDS = ["epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "schedule", "warmup_epochs",
                "step_milestones", "step_gamma", "init", "seed"]
MORE_FIELDS = ["shuffle", "label_smoothing", "augment", "crop_padding", "device", "amp", "softmax_before_loss",
               "reports_per_epoch"]
RECIPE_FIELDS = sorted({k for n in registry.names() for k in registry.get(n).recipe})
MAX_AXES = 3

store = ui.page("Train", ":material/rocket_launch:")
st.title("Train")
st.caption("Every field is checked as you type. Launch queues the run; a supervisor process trains it in the "
           "background, so you can close this tab.")


def apply_recipe() -> None:
    """Prefill the hyperparameters from the chosen model's reference recipe (d2l's where d2l trains it)."""
    spec = registry.get(st.session_state["train.model"])
    for key in RECIPE_FIELDS:
        forms.set_value(f"train.{key}", FIELD_PARAMS[key], spec.recipe.get(key, FIELD_PARAMS[key].default))
    if spec.in_channels == 3 and st.session_state.get("train.dataset") != "cifar10":
        forms.set_value("train.dataset", FIELD_PARAMS["dataset"], "cifar10")


with ui.guard():
    names = registry.names()
    if "train.model" not in st.session_state:
        st.session_state["train.model"] = "lenet"
        apply_recipe()
    c1, c2 = st.columns([3, 1])
    model = c1.selectbox("model", names, key="train.model", on_change=apply_recipe, persist_state="session",
                         format_func=lambda n: f"{n} — {registry.get(n).description}")
    c2.button("Reset to recipe", on_click=apply_recipe, help="the model's reference lr, batch, init, epochs")
    spec = registry.get(model)
    if spec.recipe:
        st.caption("Recipe: " + ", ".join(f"{k}={v}" for k, v in spec.recipe.items()) + f" · {spec.paper}")

    errors: list[ConfigError] = []
    values: dict = {}
    st.markdown("**Architecture knobs**")
    knobs, errs = forms.form(spec.knobs, f"train.knob.{model}", columns=4, persist=True)
    errors += errs
    options = {k: v for k, v in knobs.items() if v != spec.knobs[k].default}
    if not spec.knobs:
        st.caption(f"{model} has no knobs.")
    st.markdown("**Data**")
    v, errs = forms.form(FIELD_PARAMS, "train", names=DATA_FIELDS, columns=6, persist=True)
    values.update(v)
    errors += errs
    st.markdown("**Optimisation**")
    v, errs = forms.form(FIELD_PARAMS, "train", names=OPTIM_FIELDS, columns=6, persist=True)
    values.update(v)
    errors += errs
    with st.expander("Regularisation, augmentation, device, logging"):
        v, errs = forms.form(FIELD_PARAMS, "train", names=MORE_FIELDS, columns=4, persist=True)
        values.update(v)
        errors += errs

    config = None
    if not errors:
        try:
            config = RunConfig.from_dict({"model": model, "model_options": options, **values})
            config.check_fits()
        except ConfigError as exc:
            errors.append(exc)
            config = None
    for exc in errors:
        st.error(str(exc))

    dataset_ok = True
    if config is not None and not data.is_available(config.dataset):
        dataset_ok = False
        spec_d = data.get_spec(config.dataset)
        st.error(f"{spec_d.title} is not installed here: {spec_d.how_to_get}.")

    st.divider()
    if config is not None:
        device = ui.device_summary()
        est = estimate.estimate(config, store, gpu_available=bool(device["gpu"]))
        st.info(f"**≈ {ui.fmt_seconds(est.epoch_seconds)} per epoch, {ui.fmt_seconds(est.total_seconds)} for "
                f"{config.epochs} epoch{'s' * (config.epochs > 1)}** ({est.train_images:,} training images). "
                f"{est.note}.")

    c1, c2, c3 = st.columns([2, 2, 1])
    name = c1.text_input("run name", key="train.name", placeholder=config.label() if config else "",
                         help="empty: the model and its options")
    tags_text = c2.text_input("tags", key="train.tags", placeholder="comma, separated")
    tags = [t.strip() for t in tags_text.split(",") if t.strip()]
    launch = c3.button("Launch", type="primary", disabled=config is None or not dataset_ok, key="train.launch")
    if launch and config is not None:
        run_id = store.create_run(config, name=name.strip() or None, tags=tags)
        st.success(f"Run {run_id} queued. {ui.start_supervisor(store)}")
        st.page_link("pages/3_Runs.py", label="Watch it on the Runs page", icon=":material/list_alt:")

    st.subheader("Sweep")
    st.caption("Several values of any field or knob × seeds → one group of runs (compare them grouped). "
               "Separate values with commas; for list values (fc, channels) separate the levels with |, "
               "e.g. `120,84|256`.")
    keys = [""] + [k for k in FIELD_PARAMS if k != "model"] + sorted(spec.knobs)
    axes: list[tuple[str, str]] = []
    cols = st.columns(MAX_AXES)
    for i in range(MAX_AXES):
        with cols[i]:
            key = st.selectbox(f"axis {i + 1}", keys, key=f"train.sweep.key{i}",
                               format_func=lambda k: k or "—", persist_state="session")
            text = st.text_input(f"values {i + 1}", key=f"train.sweep.values{i}", persist_state="session",
                                 placeholder="e.g. 0.01,0.1,0.9", disabled=not key)
            if key and text.strip():
                axes.append((key, text))
    c1, c2, c3 = st.columns([1, 2, 1])
    seeds = c1.number_input("seeds", min_value=1, max_value=sweep.MAX_SEEDS, value=2, step=1, key="train.sweep.seeds",
                            help=f"each combination is repeated with seeds seed … seed+N−1 (at most {sweep.MAX_SEEDS})")
    group_name = c2.text_input("group name", key="train.sweep.group", placeholder="e.g. lenet lr sweep")
    configs: list[RunConfig] = []
    if config is not None and (axes or seeds > 1):
        try:
            configs = sweep.expand(config, axes, int(seeds))
        except ConfigError as exc:
            st.error(str(exc))
    if configs:
        swept = [k for k, _ in axes]
        run_names = [sweep.run_name(c, swept, int(seeds)) for c in configs]
        st.caption(f"{len(configs)} runs: " + "; ".join(run_names[:8]) + (" …" if len(configs) > 8 else ""))
    go = c3.button("Sweep", disabled=not configs or not dataset_ok, key="train.sweep.go")
    if go and configs:
        meta_axes = {k: v for k, v in axes} | ({"seed": f"{int(seeds)} seeds"} if seeds > 1 else {})
        group = store.create_group("sweep", group_name.strip() or f"{config.label()} sweep", {"axes": meta_axes})
        ids = store.create_runs(configs, group, names=run_names, tags=tags)
        st.success(f"{len(ids)} runs queued in group {group}. {ui.start_supervisor(store)}")
        st.page_link("pages/4_Compare.py", label="Compare the group", icon=":material/monitoring:",
                     query_params={"group": group})
