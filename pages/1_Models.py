"""Models: per-layer anatomy of the architectures — shapes, parameters, MACs, where they sit."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import ui
from cnnkit import anatomy, plots
from cnnkit.data import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.models import registry
from cnnkit.params import Param
from ui import forms

ui.page("Models", ":material/layers:")
st.title("Models")
st.caption("Where the weights and the compute sit. The fully connected layers hold most of the parameters "
           "of LeNet, AlexNet and VGG; the convolutions do most of the multiply-accumulates.")


@st.cache_data(show_spinner=False, max_entries=256)
def describe(model: str, channels: int, size: int | None, options_json: str) -> dict:
    return anatomy.describe(model, channels, size, 10, **json.loads(options_json)).to_dict()


@st.cache_data(show_spinner=False, max_entries=256)
def smallest_input(model: str, channels: int, options_json: str) -> int | None:
    options = json.loads(options_json)
    return anatomy.min_input_size(lambda side: registry.build_model(model, channels, 10, side, **options), channels)


with ui.guard():
    names = registry.names()
    if "models.chosen" not in st.session_state:  # a link such as ?model=lenet&model=alexnet picks the models
        st.session_state["models.chosen"] = [m for m in st.query_params.get_all("model") if m in names] or ["lenet"]
    chosen = st.multiselect("Architectures", names, key="models.chosen",
                            format_func=lambda n: f"{n} — {registry.get(n).description.split(':')[0]}")
    if chosen:
        st.query_params["model"] = chosen
    elif "model" in st.query_params:
        del st.query_params["model"]
    top = st.columns(3)
    dataset = top[0].selectbox("Dataset (input channels)", list(DATASETS), key="models.dataset",
                               format_func=lambda d: f"{DATASETS[d].title} ({DATASETS[d].channels} ch)")
    log = top[1].toggle("log scale", key="models.log", help="bars on a log axis: small layers become visible")
    top[2].caption("Options that differ from a model's defaults are part of its label below.")

    results: dict[str, dict] = {}
    for i, name in enumerate(chosen):
        spec = registry.get(name)
        with st.expander(f"**{name}** — {spec.description}", expanded=i == 0):
            st.caption(f"Paper: {spec.paper} · native input {spec.native_input}×{spec.native_input}")
            size_param = Param("input_size", "int", None, low=8, high=512, optional=True,
                                     help=f"input side in pixels; empty = native {spec.native_input}")
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
            channels = registry.in_channels_for(name, dataset)
            options = {k: v for k, v in options.items() if v != spec.knobs[k].default}
            label = name + ("(" + ",".join(f"{k}={forms.to_state(spec.knobs[k], v)}" for k, v in options.items())
                            + ")" if options else "") + (f"@{size}" if size else "")
            if errors:
                for exc in errors:
                    st.error(str(exc))
                continue
            options_json = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
                                      sort_keys=True)
            try:
                registry.check_fits(name, options, size, dataset)
                anat = describe(name, channels, size, options_json)
            except ConfigError as exc:
                st.error(str(exc))
                continue
            smallest = smallest_input(name, channels, options_json)
            results[label] = anat
            split = anat["split"]
            m = st.columns(5)
            m[0].metric("parameters", ui.fmt_count(anat["total_params"]), help=f"{anat['total_params']:,}")
            m[1].metric("MACs / image", ui.fmt_count(anat["macs"]), help=f"{anat['macs']:,}")
            m[2].metric("FC share of params", f"{100 * split['fc']['params_share']:.1f} %")
            m[3].metric("conv share of MACs", f"{100 * split['conv']['macs_share']:.1f} %")
            m[4].metric("min input", f"{smallest}×{smallest}" if smallest else "> 1024",
                        help="smallest square input for which no feature map collapses")
            layers = pd.DataFrame(anat["layers"])
            table = pd.DataFrame({
                "layer": layers["name"], "type": layers["type"], "kind": layers["kind"],
                "output shape": layers["output_shape"].map(lambda s: "×".join(map(str, s))),
                "params": layers["params"], "% of params": 100 * layers["param_share"], "MACs": layers["macs"],
                "% of MACs": 100 * layers["macs"] / max(1, layers["macs"].sum()),
            })
            t1, t2, t3 = st.tabs(["Layers", "Parameters per layer", "MACs per layer"])
            with t1:
                st.dataframe(table, hide_index=True, column_config={
                    "params": st.column_config.NumberColumn(format="localized"),
                    "MACs": st.column_config.NumberColumn(format="localized"),
                    "% of params": st.column_config.NumberColumn(format="%.2f"),
                    "% of MACs": st.column_config.NumberColumn(format="%.2f")})
            with t2:
                st.plotly_chart(plots.layer_bars(anat["layers"], "params", log, f"{label}: parameters per layer"),
                                key=f"models.{name}.params")
            with t3:
                st.plotly_chart(plots.layer_bars(anat["layers"], "macs", log, f"{label}: MACs per layer"),
                                key=f"models.{name}.macs")

    if len(results) > 1:
        st.subheader("Side by side")
        totals = pd.DataFrame([{
            "model": label, "input": "×".join(map(str, a["input"])), "params": a["total_params"],
            "MACs": a["macs"], "FC % of params": 100 * a["split"]["fc"]["params_share"],
            "conv % of params": 100 * a["split"]["conv"]["params_share"],
            "conv % of MACs": 100 * a["split"]["conv"]["macs_share"]} for label, a in results.items()])
        st.dataframe(totals, hide_index=True, column_config={
            "params": st.column_config.NumberColumn(format="localized"),
            "MACs": st.column_config.NumberColumn(format="localized"),
            **{c: st.column_config.NumberColumn(format="%.1f") for c in totals.columns if "%" in c}})
        c1, c2 = st.columns(2)
        splits = {label: a["split"] for label, a in results.items()}
        c1.plotly_chart(plots.split_bars(splits, "params", log, "parameters by layer kind"), key="models.split.params")
        c2.plotly_chart(plots.split_bars(splits, "macs", log, "MACs by layer kind"), key="models.split.macs")
    elif not chosen:
        st.info("Pick one or more architectures.")
