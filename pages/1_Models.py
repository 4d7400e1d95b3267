"""Models: per-layer anatomy of the architectures — shapes, parameters, MACs, where they sit."""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

import ui
from cnnkit import plots
from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.insight import layer_profile, memory
from cnnkit.models import anatomy, registry, shapes
from cnnkit.views import models as view
from ui import forms

COUNT = st.column_config.NumberColumn(format="localized")
LAYER_COLUMNS = {"params": COUNT, "MACs": COUNT, "% of params": st.column_config.NumberColumn(format="%.2f"),
                 "% of MACs": st.column_config.NumberColumn(format="%.2f")}
TIME_COLUMNS = {c: st.column_config.NumberColumn(format="%.1f")
                for c in ("% of MACs", "% of time", "forward ms", "backward ms")}


@st.cache_data(show_spinner=False, max_entries=256)
def describe(model: str, channels: int, size: int | None, options_json: str) -> dict:
    return anatomy.describe(model, channels, size, 10, **json.loads(options_json)).to_dict()


@st.cache_data(show_spinner=False, max_entries=256)
def training_memory(model: str, channels: int, size: int | None, batch: int, optimizer: str,
                    options_json: str) -> memory.TrainingMemory:
    return memory.training_memory(model, channels, size, 10, batch, optimizer, **json.loads(options_json))


@st.cache_data(show_spinner="Profiling one training step on the CPU…", max_entries=32)
def step_times(model: str, channels: int, size: int | None, batch: int, options_json: str
               ) -> tuple[list[dict], float]:
    """time_shares rows of one profiled training step, and the step's wall time in ms."""
    options = json.loads(options_json)
    step = layer_profile.profile_step(model, channels, size, 10, batch, **options)
    return layer_profile.time_shares(anatomy.describe(model, channels, size, 10, **options), step), step.step_ms


@st.cache_data(show_spinner=False, max_entries=256)
def smallest_input(model: str, channels: int, options_json: str) -> int | None:
    return shapes.smallest_input(model, channels, json.loads(options_json))


def model_picker() -> list[str]:
    """The architectures to show; a link such as ?model=lenet&model=alexnet picks them, and the URL follows."""
    names = registry.names()
    if "models.chosen" not in st.session_state:
        st.session_state["models.chosen"] = [m for m in st.query_params.get_all("model") if m in names] or ["lenet"]
    chosen = st.multiselect("Architectures", names, key="models.chosen",
                            format_func=lambda n: f"{n} — {registry.get(n).description.split(':')[0]}")
    if chosen:
        st.query_params["model"] = chosen
    elif "model" in st.query_params:
        del st.query_params["model"]
    return chosen


def display_options() -> tuple[str, bool]:
    """The dataset (it sets the input channels) and whether bars use a log axis."""
    top = st.columns(3)
    dataset = top[0].selectbox("Dataset (input channels)", list(DATASETS), key="models.dataset",
                               format_func=lambda d: f"{DATASETS[d].title} ({DATASETS[d].channels} ch)")
    log = top[1].toggle("log scale", key="models.log", help="bars on a log axis: small layers become visible")
    top[2].caption("Options that differ from a model's defaults are part of its label below.")
    return dataset, log


def memory_options() -> tuple[int, str]:
    """The batch size and optimizer the activation columns and the training-memory estimate assume."""
    c = st.columns([1, 1, 2])
    batch = int(c[0].number_input("batch size", 1, memory.MAX_BATCH, 256, key="models.batch",
                                  help="for the activation memory per layer and the training-memory estimate"))
    optimizer = c[1].selectbox("optimizer", list(memory.STATES_PER_PARAM), key="models.optimizer",
                               help="its state per parameter: SGD none, momentum one, Adam two")
    c[2].caption("Activation memory is each layer's output for the whole batch; the training estimate adds "
                 "weights, gradients, optimizer state and what the backward pass holds.")
    return batch, optimizer


def variant_form(name: str) -> tuple[dict[str, Any], int | None, list[ConfigError]]:
    """The input size and knobs of one model: (changed options, input side, errors)."""
    spec = registry.get(name)
    size_param = view.input_size_param(spec.native_input)
    c1, c2 = st.columns([1, 3])
    with c1:
        raw_size = forms.widget(size_param, f"models.{name}.input_size")
    with c2:
        options, errors = forms.form(spec.knobs, f"models.{name}", columns=3)
    try:
        size = forms.read(size_param, raw_size)
    except ConfigError as exc:
        errors.append(exc)
        size = None
    return view.changed_options(spec.knobs, options), size, errors


def totals(anat: dict, smallest: int | None) -> None:
    split = anat["split"]
    m = st.columns(5)
    m[0].metric("parameters", ui.fmt_count(anat["total_params"]), help=f"{anat['total_params']:,}")
    m[1].metric("MACs / image", ui.fmt_count(anat["macs"]), help=f"{anat['macs']:,}")
    m[2].metric("FC share of params", f"{100 * split['fc']['params_share']:.1f} %")
    m[3].metric("conv share of MACs", f"{100 * split['conv']['macs_share']:.1f} %")
    m[4].metric("min input", f"{smallest}×{smallest}" if smallest else "> 1024",
                help="smallest square input for which no feature map collapses")


def memory_line(name: str, shape: tuple[int, int, int], size: int | None, batch: int, optimizer: str,
                options_json: str) -> None:
    est = training_memory(name, shape[0], size, batch, optimizer, options_json)
    st.caption(f"**Training memory {est.headline()}**: {est.parts()}")


def time_section(name: str, label: str, shape: tuple[int, int, int], size: int | None, options_json: str) -> None:
    """Share of MACs next to share of time, per layer, from one profiled training step (on request)."""
    c1, c2 = st.columns([1, 3])
    batch = int(c1.number_input("batch for the profile", 1, 1024, 16, key=f"models.{name}.profile_batch",
                                help="one forward and backward pass at this batch runs here, on the CPU"))
    if not c2.toggle("Profile one training step", key=f"models.{name}.profile",
                     help="torch.profiler over a forward and backward pass after a warm-up step"):
        c2.caption("Convolutions hold few weights but do most of the multiply-accumulates; "
                   "profile a step to see where the time goes.")
        return
    rows, step_ms = step_times(name, shape[0], size, batch, options_json)
    st.caption(f"one step at batch {batch}: {step_ms:.0f} ms on the CPU (under the profiler)")
    st.plotly_chart(plots.share_bars(rows, f"{label}: share of MACs vs share of time"), key=f"models.{name}.time")
    st.dataframe(view.time_table(rows), hide_index=True, column_config=TIME_COLUMNS)


def layer_tabs(name: str, label: str, anat: dict, log: bool, batch: int) -> None:
    t1, t2, t3 = st.tabs(["Layers", "Parameters per layer", "MACs per layer"])
    with t1:
        st.dataframe(view.layer_table(anat, batch), hide_index=True, column_config=LAYER_COLUMNS)
    with t2:
        st.plotly_chart(plots.layer_bars(anat["layers"], "params", log, f"{label}: parameters per layer"),
                        key=f"models.{name}.params")
    with t3:
        st.plotly_chart(plots.layer_bars(anat["layers"], "macs", log, f"{label}: MACs per layer"),
                        key=f"models.{name}.macs")


def model_panel(name: str, dataset: str, log: bool, expanded: bool, batch: int, optimizer: str
                ) -> tuple[str, dict] | None:
    """One architecture: its form, totals, layers and bars; returns (label, anatomy) unless it cannot be built."""
    spec = registry.get(name)
    with st.expander(f"**{name}** — {spec.description}", expanded=expanded):
        st.caption(f"Paper: {spec.paper} · native input {spec.native_input}×{spec.native_input}")
        options, size, errors = variant_form(name)
        for exc in errors:
            st.error(str(exc))
        if errors:
            return None
        shape = registry.input_shape(name, dataset, size)
        options_json = view.options_key(options)
        try:
            shapes.check_fits(name, options, shape)
            anat = describe(name, shape[0], size, options_json)
        except ConfigError as exc:
            st.error(str(exc))
            return None
        label = view.variant_label(name, options, size)
        totals(anat, smallest_input(name, shape[0], options_json))
        memory_line(name, shape, size, batch, optimizer, options_json)
        layer_tabs(name, label, anat, log, batch)
        st.markdown("**Where the time goes**: share of the MACs vs share of a training step's time")
        time_section(name, label, shape, size, options_json)
        return label, anat


def side_by_side(anatomies: dict[str, dict], log: bool) -> None:
    st.subheader("Side by side")
    table = view.side_by_side(anatomies)
    st.dataframe(table, hide_index=True, column_config={
        "params": COUNT, "MACs": COUNT,
        **{c: st.column_config.NumberColumn(format="%.1f") for c in table.columns if "%" in c}})
    c1, c2 = st.columns(2)
    splits = {label: a["split"] for label, a in anatomies.items()}
    c1.plotly_chart(plots.split_bars(splits, "params", log, "parameters by layer kind"), key="models.split.params")
    c2.plotly_chart(plots.split_bars(splits, "macs", log, "MACs by layer kind"), key="models.split.macs")


ui.page("Models", ":material/layers:")
st.title("Models")
st.caption("Where the weights and the compute sit. The fully connected layers hold most of the parameters "
           "of LeNet, AlexNet and VGG; the convolutions do most of the multiply-accumulates.")
with ui.guard():
    chosen = model_picker()
    dataset, log = display_options()
    batch, optimizer = memory_options()
    panels = [model_panel(name, dataset, log, i == 0, batch, optimizer) for i, name in enumerate(chosen)]
    anatomies = dict(p for p in panels if p is not None)
    if len(anatomies) > 1:
        side_by_side(anatomies, log)
    elif not chosen:
        st.info("Pick one or more architectures.")
