"""Train: the whole RunConfig as a form; launch one run, a sweep or a search. Training happens in the background."""
from __future__ import annotations

from typing import Any

import streamlit as st

import ui
from cnnkit import estimate, search, sweep
from cnnkit.config import FIELD_PARAMS, RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import registry
from cnnkit.views import models as model_view
from cnnkit.views import search as search_view
from cnnkit.views import train as view
from cnnkit.views.common import missing_dataset
from ui import forms

DATA_FIELDS = ["dataset", "subset", "test_subset", "input_size", "normalize", "permute_pixels"]
OPTIM_FIELDS = ["epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "schedule", "warmup_epochs",
                "step_milestones", "step_gamma", "init", "seed"]
MORE_FIELDS = ["shuffle", "label_smoothing", "augment", "crop_padding", "device", "amp", "softmax_before_loss",
               "reports_per_epoch"]
MAX_AXES = 3


def apply_recipe() -> None:
    """Prefill the hyperparameters from the chosen model's reference recipe (d2l's where d2l trains it)."""
    values = view.recipe_values(st.session_state["train.model"], st.session_state.get("train.dataset"))
    for key, value in values.items():
        forms.set_value(f"train.{key}", FIELD_PARAMS[key], value)


def model_picker() -> str:
    if "train.model" not in st.session_state:
        st.session_state["train.model"] = "lenet"
        apply_recipe()
    c1, c2 = st.columns([3, 1])
    model = c1.selectbox("model", registry.names(), key="train.model", on_change=apply_recipe,
                         persist_state="session", format_func=lambda n: f"{n} — {registry.get(n).description}")
    c2.button("Reset to recipe", on_click=apply_recipe, help="the model's reference lr, batch, init, epochs")
    spec = registry.get(model)
    if spec.recipe:
        st.caption("Recipe: " + ", ".join(f"{k}={v}" for k, v in spec.recipe.items()) + f" · {spec.paper}")
    return model


def config_form(model: str) -> RunConfig | None:
    """The knobs and every field of the config, checked as typed; the config, or None after showing why not."""
    spec = registry.get(model)
    st.markdown("**Architecture knobs**")
    knobs, errors = forms.form(spec.knobs, f"train.knob.{model}", columns=4, persist=True)
    if not spec.knobs:
        st.caption(f"{model} has no knobs.")
    values: dict[str, Any] = {}
    for title, names, columns in (("Data", DATA_FIELDS, 6), ("Optimisation", OPTIM_FIELDS, 6)):
        st.markdown(f"**{title}**")
        v, errs = forms.form(FIELD_PARAMS, "train", names=names, columns=columns, persist=True)
        values.update(v)
        errors += errs
    with st.expander("Regularisation, augmentation, device, logging"):
        v, errs = forms.form(FIELD_PARAMS, "train", names=MORE_FIELDS, columns=4, persist=True)
        values.update(v)
        errors += errs
    config = None
    if not errors:
        try:
            config = view.form_config(model, model_view.changed_options(spec.knobs, knobs), values)
        except ConfigError as exc:
            errors.append(exc)
    for exc in errors:
        st.error(str(exc))
    return config


def dataset_installed(config: RunConfig | None) -> bool:
    """Whether the config's dataset is here (else say how to get it)."""
    missing = missing_dataset(config.dataset) if config is not None else None
    if missing:
        st.error(missing)
    return not missing


def launch(config: RunConfig | None, dataset_ok: bool) -> list[str]:
    """The cost estimate, the run's name and tags, the Launch button; returns the tags (a sweep uses them too)."""
    if config is not None:
        device = ui.device_summary()
        st.info(view.estimate_text(estimate.estimate(config, store, gpu_available=bool(device["gpu"]))))
    c1, c2, c3 = st.columns([2, 2, 1])
    name = c1.text_input("run name", key="train.name", placeholder=config.label() if config else "",
                         help="empty: the model and its options")
    tags = c2.text_input("tags", key="train.tags", placeholder="comma, separated").split(",")
    if c3.button("Launch", type="primary", disabled=config is None or not dataset_ok, key="train.launch") \
            and config is not None:
        run_id = store.create_run(config, name=name.strip() or None, tags=tags)
        st.success(f"Run {run_id} queued. {ui.start_supervisor(store)}")
        st.page_link("pages/3_Runs.py", label="Watch it on the Runs page", icon=":material/list_alt:")
    return tags


def axis_pickers(model: str, part: str, label: str, placeholder: str, help: str | None = None
                 ) -> list[tuple[str, str]]:
    """Up to MAX_AXES (key, values as typed) pairs; ``part`` ("sweep", "search") keeps each form's widgets apart."""
    keys = ["", *view.sweep_keys(model)]
    axes = []
    for i, col in enumerate(st.columns(MAX_AXES)):
        with col:
            key = st.selectbox(f"{label} {i + 1}", keys, key=f"train.{part}.key{i}",
                               format_func=lambda k: k or "—", persist_state="session")
            text = st.text_input(f"values {i + 1}", key=f"train.{part}.values{i}", persist_state="session",
                                 placeholder=placeholder, disabled=not key, help=help)
            if key and text.strip():
                axes.append((key, text))
    return axes


def sweep_form(model: str, config: RunConfig | None, dataset_ok: bool, tags: list[str]) -> None:
    st.subheader("Sweep")
    st.caption("Several values of any field or knob × seeds → one group of runs (compare them grouped). "
               "Separate values with commas; for list values (fc, channels) separate the levels with |, "
               "e.g. `120,84|256`.")
    axes = axis_pickers(model, "sweep", "axis", "e.g. 0.01,0.1,0.9")
    c1, c2, c3 = st.columns([1, 2, 1])
    seeds = int(c1.number_input("seeds", min_value=1, max_value=sweep.MAX_SEEDS, value=2, step=1,
                                key="train.sweep.seeds",
                                help=f"each combination is repeated with seeds seed … seed+N−1 "
                                     f"(at most {sweep.MAX_SEEDS})"))
    group_name = c2.text_input("group name", key="train.sweep.group", placeholder="e.g. lenet lr sweep")
    configs: list[RunConfig] = []
    if config is not None and (axes or seeds > 1):
        try:
            configs = sweep.expand(config, axes, seeds)
        except ConfigError as exc:
            st.error(str(exc))
    run_names = view.sweep_run_names(configs, axes, seeds)
    if configs:
        st.caption(view.sweep_preview(run_names))
    if c3.button("Sweep", disabled=not configs or not dataset_ok, key="train.sweep.go") and configs:
        group, ids = store.queue_group(group_name.strip() or f"{config.label()} sweep", configs, dict(axes), seeds,
                                       names=run_names, tags=tags)
        st.success(f"{len(ids)} runs queued in group {group}. {ui.start_supervisor(store)}")
        st.page_link("pages/4_Compare.py", label="Compare the group", icon=":material/monitoring:",
                     query_params={"group": group})


def search_form(model: str, config: RunConfig | None, dataset_ok: bool, tags: list[str]) -> None:
    st.subheader("Search")
    st.caption("An Optuna search for the best final test accuracy: TPE proposes each trial from the results so "
               "far, and with pruning a trial below the median of the completed ones at an epoch is stopped. "
               "Every trial is a run of one group (compare them there).")
    axes = axis_pickers(model, "search", "key", "e.g. log:1e-3:1", search_view.SPACE_HELP)
    c = st.columns([1, 1, 1, 1, 2, 1])
    trials = int(c[0].number_input("trials", min_value=1, max_value=search.TRIALS.high, value=search.TRIALS.default,
                                   step=1, key="train.search.trials"))
    parallel = int(c[1].number_input("at a time", min_value=1, max_value=search.PARALLEL.high, value=1, step=1,
                                     key="train.search.parallel", help="trials in flight at once; 1: each trial "
                                     "learns from all before it"))
    prune = c[2].toggle("prune", key="train.search.prune", help="median pruning on the test accuracy of each epoch")
    prune_after = int(c[3].number_input("prune after", min_value=1, max_value=search.PRUNE_AFTER.high,
                                        value=search.PRUNE_AFTER.default, step=1, key="train.search.prune_after",
                                        disabled=not prune, help="completed trials before pruning starts"))
    name = c[4].text_input("search name", key="train.search.name", placeholder="e.g. lenet lr × batch size")
    plan = None
    if config is not None and axes:
        try:
            plan = search_view.search_plan(config, axes, trials, prune, prune_after, parallel, tags)
        except ConfigError as exc:
            st.error(str(exc))
    if plan is not None:
        st.caption(search_view.plan_preview(plan))
    if c[5].button("Search", disabled=plan is None or not dataset_ok, key="train.search.go") and plan is not None:
        group = search.start_search(store, plan, name.strip() or None)
        st.success(f"Search {group} started: its trials are queued one by one. {ui.start_supervisor(store)}")
        st.page_link("pages/4_Compare.py", label="Follow it on the Compare page", icon=":material/monitoring:",
                     query_params={"group": group})


store = ui.page("Train", ":material/rocket_launch:")
st.title("Train")
st.caption("Every field is checked as you type. Launch queues the run; a supervisor process trains it in the "
           "background, so you can close this tab.")
with ui.guard():
    model = model_picker()
    config = config_form(model)
    dataset_ok = dataset_installed(config)
    st.divider()
    tags = launch(config, dataset_ok)
    sweep_form(model, config, dataset_ok, tags)
    search_form(model, config, dataset_ok, tags)
