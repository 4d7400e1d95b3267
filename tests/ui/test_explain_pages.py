"""AppTest of what issue 12 added to the pages: receptive fields, memory and time per layer (Models),
attribution maps (Activations), system metrics (Runs and Compare)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest
from support.apptest import app, assert_clean
from support.runs import trained_run

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.store import Store

requires_fmnist = pytest.mark.skipif(not loading.is_available("fashion-mnist"), reason="Fashion-MNIST is not installed")


def charts(at: AppTest, key: str) -> list:
    """The plotly charts whose widget key contains ``key``."""
    return [c for c in at.get("plotly_chart") if key in c.proto.id]


def real_run(store: Store) -> str:
    return next(r.id for r in store.list_runs() if r.name == "real lenet")


def test_models_page_fields_memory_and_time_per_layer(app_env: Path) -> None:
    at = app("pages/1_Models.py")
    assert_clean(at)
    layers = at.dataframe[0].value
    assert list(layers["receptive field"])[:6] == ["5×5", "5×5", "6×6", "14×14", "14×14", "16×16"]
    assert "fp32 MiB @ 256" in layers.columns
    assert any("Training memory fits in" in c.value and "batch 256 with sgd" in c.value for c in at.caption)
    at.number_input(key="models.batch").set_value(64).run()
    at.selectbox(key="models.optimizer").set_value("adam").run()
    assert "fp32 MiB @ 64" in at.dataframe[0].value.columns
    assert any("batch 64 with adam" in c.value for c in at.caption)
    assert not charts(at, "models.lenet.time"), "profiling runs only when asked for"
    at.number_input(key="models.lenet.profile_batch").set_value(4).run()
    at.toggle(key="models.lenet.profile").set_value(True).run()
    assert_clean(at)
    assert len(charts(at, "models.lenet.time")) == 1
    times = at.dataframe[-1].value
    assert {"% of MACs", "% of time"} <= set(times.columns) and "loss" in set(times["layer"])


@requires_fmnist
def test_activations_page_attribution_maps(lab: Store) -> None:
    at = app("pages/5_Activations.py")
    assert_clean(at)
    assert len(charts(at, "act.xai.pair")) == 1, "Grad-CAM over the two chosen images"
    assert not charts(at, "act.xai.runs") and any("Train a second run" in c.value for c in at.caption)
    run_id = real_run(lab)
    at.selectbox(key=f"act.xai.layer.{run_id}").set_value("0").run()
    at.segmented_control(key=f"act.xai.method.{run_id}").set_value("saliency").run()
    assert_clean(at)
    assert len(charts(at, "act.xai.pair")) == 1


@requires_fmnist
def test_activations_page_one_image_under_two_runs(lab: Store) -> None:
    trained_run(lab, RunConfig(model="mlp", epochs=1, subset=0.02, test_subset=0.05, batch_size=64, device="cpu"),
                "real mlp")
    at = app("pages/5_Activations.py")
    at.selectbox(key="act.run").set_value(real_run(lab)).run()
    assert_clean(at)
    assert len(charts(at, "act.xai.runs")) == 1
    assert any("mlp has no conv layer" in c.value for c in at.caption), "the MLP's map is saliency, and it says so"
    mlp = next(r.id for r in lab.list_runs() if r.name == "real mlp")
    at.selectbox(key="act.run").set_value(mlp).run()
    assert_clean(at)
    assert at.segmented_control(key=f"act.xai.method.{mlp}").options == ["gradient saliency"]


@requires_fmnist
def test_runs_page_shows_a_runs_system_metrics(lab: Store) -> None:
    at = app("pages/3_Runs.py")
    at.multiselect(key="runs.chosen").set_value([real_run(lab)]).run()
    assert_clean(at)
    assert any(e.label.startswith("System metrics") for e in at.expander)
    assert len(charts(at, "runs.system.")) >= 3, "CPU, resident memory and its peak"


@requires_fmnist
def test_compare_page_system_metrics_on_request_and_in_the_exports(lab: Store, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    served: dict[str, object] = {}
    original = DeltaGenerator.download_button

    def recording(self: DeltaGenerator, label: str, data: object, *args: Any, **kwargs: Any) -> Any:
        served[label] = data() if callable(data) else data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    at = app("pages/4_Compare.py")
    assert not charts(at, "compare.system.")
    at.toggle(key="compare.system").set_value(True).run()
    assert_clean(at)
    assert len(charts(at, "compare.system.")) >= 3
    assert "rss_peak_mib" in at.dataframe[-1].value.columns and "rss_peak_mib" in str(served["CSV"])
    assert "<figcaption>rss_mib</figcaption>" in str(served["HTML report"])
