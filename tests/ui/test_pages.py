"""AppTest: every page renders on an empty store and on a store with runs in every state, and the
actions (launch, sweep, cancel, rename, exports, …) do exactly what they say."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest
from support.apptest import PAGES, app, assert_clean
from support.runs import complete_queued

from cnnkit import d2l
from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.jobs.process import supervisor_pid
from cnnkit.models import registry
from cnnkit.store import Store
from cnnkit.views import home


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_empty_store(app_env: Path, page: str) -> None:
    at = app(page)
    assert_clean(at)
    assert at.title, "every page has a title"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_runs_in_every_state(lab: Store, page: str) -> None:
    at = app(page)
    assert_clean(at)
    assert not [e.value for e in at.error if page != "pages/3_Runs.py"], "no error on a healthy store"


# ---- home -----------------------------------------------------------------------------------------

def test_home_on_an_empty_store_offers_the_reference_table_and_a_first_comparison(app_env: Path) -> None:
    at = app("dashboard.py")
    table = at.dataframe[0].value
    assert len(table) == len(d2l.D2L) and "test acc" in table.columns
    at.button(key="home.first").click().run()
    assert_clean(at)
    store = Store(app_env)
    runs = store.list_runs()
    expected = home.first_comparison()
    assert sorted(r.name for r in runs) == sorted(name for name, _ in expected)
    assert len({r.group for r in runs}) == 1 and runs[0].group
    for name, fields in expected:
        run = next(r for r in runs if r.name == name)
        assert run.config == RunConfig.from_dict(fields).to_dict()
        assert run.status == "queued"
    assert supervisor_pid(app_env) is None, "CNNKIT_NO_SUPERVISOR keeps the tests from starting one"


def test_home_with_runs_shows_counts_and_recent_runs(lab: Store) -> None:
    at = app("dashboard.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["running"] == "1" and metrics["queued"] == "1"
    assert len(at.dataframe[0].value) == 9


# ---- models ---------------------------------------------------------------------------------------

def test_models_page_tables_and_side_by_side(app_env: Path) -> None:
    at = app("pages/1_Models.py")
    layers = at.dataframe[0].value
    assert list(layers["layer"])[:1] == ["0"] and layers["params"].sum() == 61_706
    at.multiselect(key="models.chosen").set_value(["lenet", "alexnet", "vgg11"]).run()
    assert_clean(at)
    assert any(s.value == "Side by side" for s in at.subheader)
    totals = at.dataframe[-1].value
    assert set(totals["model"]) == {"lenet", "alexnet", "vgg11"}
    fc_share = dict(zip(totals["model"], totals["FC % of params"]))
    assert fc_share["alexnet"] > 90 and fc_share["vgg11"] > 90


def test_models_page_impossible_config_is_a_one_line_error(app_env: Path) -> None:
    at = app("pages/1_Models.py")
    at.multiselect(key="models.chosen").set_value(["alexnet"]).run()
    at.number_input(key="models.alexnet.input_size").set_value(32).run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "needs at least" in errors[0] and "\n" not in errors[0]


def test_models_page_bad_knob_text_names_the_field(app_env: Path) -> None:
    at = app("pages/1_Models.py")
    at.text_input(key="models.lenet.channels").set_value("6,abc").run()
    assert_clean(at)
    assert any("channels" in e.value for e in at.error)


# ---- train ----------------------------------------------------------------------------------------

def recipe(model: str) -> dict:
    return registry.get(model).recipe


def test_launch_enqueues_exactly_the_chosen_config(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    at.selectbox(key="train.knob.lenet.activation").set_value("relu")
    at.text_input(key="train.knob.lenet.fc").set_value("64")
    at.number_input(key="train.epochs").set_value(1)
    at.number_input(key="train.subset").set_value(0.05)
    at.number_input(key="train.lr").set_value(0.05)
    at.multiselect(key="train.augment").set_value(["flip"])
    at.text_input(key="train.tags").set_value("smoke, ui")
    at.run()
    assert_clean(at)
    assert not at.error
    at.button(key="train.launch").click().run()
    assert_clean(at)
    runs = Store(app_env).list_runs()
    assert len(runs) == 1
    expected = RunConfig(model="lenet", model_options={"activation": "relu", "fc": (64,)},
                         **{**recipe("lenet"), "epochs": 1, "lr": 0.05}, subset=0.05, augment=("flip",))
    assert runs[0].config == expected.to_dict()
    assert runs[0].status == "queued" and runs[0].tags == ["smoke", "ui"]
    assert any("queued" in s.value for s in at.success)
    assert supervisor_pid(app_env) is None


def test_changing_the_model_prefills_its_recipe(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    assert at.number_input(key="train.lr").value == pytest.approx(0.9)
    at.selectbox(key="train.model").set_value("resnet18").run()
    assert_clean(at)
    assert at.number_input(key="train.lr").value == pytest.approx(recipe("resnet18")["lr"])
    assert at.selectbox(key="train.init").value == recipe("resnet18")["init"]


def test_sweep_makes_the_cross_product_in_one_group(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    at.number_input(key="train.epochs").set_value(1)
    at.selectbox(key="train.sweep.key0").set_value("lr")
    at.run()
    at.text_input(key="train.sweep.values0").set_value("0.01,0.1")
    at.selectbox(key="train.sweep.key1").set_value("activation")
    at.run()
    at.text_input(key="train.sweep.values1").set_value("relu,tanh,sigmoid")
    at.number_input(key="train.sweep.seeds").set_value(2)
    at.run()
    assert_clean(at)
    assert any(c.value.startswith("12 runs") for c in at.caption)
    at.button(key="train.sweep.go").click().run()
    assert_clean(at)
    runs = Store(app_env).list_runs()
    assert len(runs) == 12 and len({r.group for r in runs}) == 1 and runs[0].group
    combos = {(r.config["lr"], r.config["model_options"].get("activation", "sigmoid"), r.config["seed"]) for r in runs}
    assert combos == {(lr, act, seed) for lr in (0.01, 0.1) for act in ("relu", "tanh", "sigmoid") for seed in (0, 1)}
    assert all(r.config["epochs"] == 1 for r in runs)


@pytest.mark.parametrize("key, value, field", [
    ("train.lr", 0.0, "lr"),
    ("train.batch_size", 0, "batch_size"),
    ("train.warmup_epochs", 50.0, "warmup_epochs"),
    ("train.input_size", 4, "input_size"),
])
def test_invalid_input_shows_the_message_and_blocks_launch(app_env: Path, key: str, value: float, field: str) -> None:
    at = app("pages/2_Train.py")
    at.number_input(key=key).set_value(value).run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert errors and any(e.startswith(field) for e in errors), errors
    assert at.button(key="train.launch").disabled
    assert not Store(app_env).list_runs()


def test_bad_list_text_and_bad_sweep_values_are_inline_errors(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    at.text_input(key="train.step_milestones").set_value("0.5,x").run()
    assert any(e.value.startswith("step_milestones") for e in at.error)
    at.text_input(key="train.step_milestones").set_value("0.5,0.75").run()
    at.selectbox(key="train.sweep.key0").set_value("lr").run()
    at.text_input(key="train.sweep.values0").set_value("0.1,-3").run()
    assert_clean(at)
    assert any(e.value.startswith("lr") for e in at.error)
    assert at.button(key="train.sweep.go").disabled


# ---- runs -----------------------------------------------------------------------------------------

def test_runs_page_table_and_failed_run_details(lab: Store) -> None:
    at = app("pages/3_Runs.py")
    table = at.dataframe[0].value
    assert set(table["status"]) >= {"completed", "failed", "diverged", "running", "queued"}
    running = table[table["status"] == "running"].iloc[0]
    assert running["epoch"] == "0/2" and 0 < running["progress"] < 1
    failed = next(r for r in lab.list_runs() if r.status == "failed")
    at.multiselect(key="runs.chosen").set_value([failed.id]).run()
    assert_clean(at)
    assert any("boom" in e.value for e in at.error)
    assert any("starting" in c.value for c in at.code), "the log tail is shown"


def test_runs_page_cancel_rename_tag_delete(lab: Store) -> None:
    queued = lab.list_runs(status="queued")[0]
    at = app("pages/3_Runs.py")
    at.multiselect(key="runs.chosen").set_value([queued.id]).run()
    at.button(key="runs.cancel").click().run()
    assert_clean(at)
    assert lab.get(queued.id).status == "cancelled"
    at.multiselect(key="runs.chosen").set_value([queued.id]).run()
    at.text_input(key=f"runs.name.{queued.id}").set_value("renamed run")
    at.button[[b.label for b in at.button].index("Rename")].click().run()
    assert lab.get(queued.id).name == "renamed run"
    at.multiselect(key="runs.chosen").set_value([queued.id]).run()
    at.text_input(key=f"runs.tags.{queued.id}").set_value("a, b")
    at.button[[b.label for b in at.button].index("Set tags")].click().run()
    assert lab.get(queued.id).tags == ["a", "b"]
    at.multiselect(key="runs.chosen").set_value([queued.id]).run()
    assert at.button(key="runs.delete").disabled, "deleting needs the confirmation box"
    at.checkbox(key="runs.sure").check().run()
    at.button(key="runs.delete").click().run()
    assert_clean(at)
    assert queued.id not in {r.id for r in lab.list_runs()}


def test_resume_requeues_a_finished_run(lab: Store) -> None:
    failed = next(r for r in lab.list_runs() if r.status == "failed")
    at = app("pages/3_Runs.py")
    at.multiselect(key="runs.chosen").set_value([failed.id]).run()
    at.button(key="runs.resume").click().run()
    assert_clean(at)
    assert lab.get(failed.id).status == "queued"


# ---- compare --------------------------------------------------------------------------------------

def url(at: AppTest, key: str) -> list[str]:
    """A query parameter of the app's URL after the run, always as a list."""
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def capture_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Record what each download button would serve (its data, called if it is a callable)."""
    original = DeltaGenerator.download_button
    served: dict[str, object] = {}

    def recording(self: DeltaGenerator, label: str, data: object, *args: Any, **kwargs: Any) -> Any:
        served[label] = data() if callable(data) else data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return served


def test_compare_grouped_view_from_the_url_and_csv_matches_the_table(lab: Store, monkeypatch) -> None:
    served = capture_downloads(monkeypatch)
    group = lab.groups()[0]["id"]
    at = app("pages/4_Compare.py", {"group": [group], "by": "cfg.lr", "smooth": "0.5"})
    assert_clean(at)
    assert at.multiselect(key="compare.groups").value == [group]
    assert at.selectbox(key="compare.group_by").value == "cfg.lr"
    assert at.slider(key="compare.smoothing").value == pytest.approx(0.5)
    table = at.dataframe[-1].value
    assert len(table) == 4 and set(table["lr"]) == {0.1, 0.9}
    summary = at.dataframe[0].value
    assert list(summary["group"]) == ["lr=0.1", "lr=0.9"] and list(summary["runs"]) == [2, 2]
    charts = at.get("plotly_chart")
    assert len(charts) == 6  # five curves (d2l's running train accuracy and the evaluated one) and the scatter
    exported = pd.read_csv(io.StringIO(served["CSV"]))
    pd.testing.assert_frame_equal(exported, table.reset_index(drop=True), check_dtype=False)
    assert "| lr |" in served["Markdown"] or " lr " in served["Markdown"]
    assert '"runs"' in served["JSON"] and "<html" in served["HTML report"]
    assert url(at, "group") == [group], "the selection stays in the URL"


def test_compare_writes_the_selection_into_the_url(lab: Store) -> None:
    at = app("pages/4_Compare.py")
    at.multiselect(key="compare.models").set_value(["lenet"]).run()
    at.toggle(key="compare.log_y").set_value(True).run()
    assert_clean(at)
    assert url(at, "model") == ["lenet"] and url(at, "logy") == ["1"]
    assert set(at.dataframe[-1].value["model"]) == {"lenet"}


def test_compare_ignores_a_malformed_url(lab: Store) -> None:
    at = app("pages/4_Compare.py", {"run": ["zzzz", "../../etc"], "x": ["sideways"], "smooth": ["nan"],
                                    "by": ["'; drop"], "status": ["bogus"], "model": ["no-such-model"]})
    assert_clean(at)
    assert at.segmented_control(key="compare.x").value == "epoch"


# ---- activations ----------------------------------------------------------------------------------

def test_activations_page_shows_maps_filters_and_mistakes(lab: Store) -> None:
    from cnnkit.data import loading

    if not loading.is_available("fashion-mnist"):
        pytest.skip("Fashion-MNIST is not installed")
    at = app("pages/5_Activations.py")
    assert_clean(at)
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert len(at.get("plotly_chart")) >= 8, keys  # preview, 2 images, 2×2 map grids, filters, confusion, errors
    assert any("predicted" in c.value for c in at.caption)
    at.number_input(key="act.nth.A").set_value(3).run()
    at.radio(key="act.mode.B").set_value("by index").run()
    at.number_input(key="act.index.B").set_value(17).run()
    assert_clean(at)


# ---- experiments ----------------------------------------------------------------------------------

def test_experiment_launch_queues_levels_times_seeds_in_one_group(app_env: Path) -> None:
    from cnnkit import experiments

    at = app("pages/6_Experiments.py")
    at.selectbox(key="exp.preset").set_value("pooling").run()
    budget = at.radio(key="exp.budget.pooling")
    assert budget.options == [budget.format_func(b) for b in experiments.BUDGETS] and budget.value == "standard"
    assert budget.options[1] == "standard: all training images, 6 epochs · 5 seeds (1000–1004)"
    assert at.number_input(key="exp.seeds.pooling.standard").value == 5
    estimate = next(c.value for c in at.caption if c.value.startswith("≈ "))
    assert all(f"{b} ≈ " in estimate for b in experiments.BUDGETS), "every budget's time, before launch"
    assert any(c.value.startswith("Why this budget: all training images, 6 epochs: past the sigmoid net's") for c in
               at.caption)
    claims = at.dataframe[2].value  # the claims the preset tests, before anything runs
    assert list(claims["source"]) == ["notes 000:37, notes 004:27", "notes 000:38"]
    budget.set_value("quick").run()
    assert at.number_input(key="exp.seeds.pooling.quick").value == 3
    at.radio(key="exp.budget.pooling").set_value("standard").run()
    at.number_input(key="exp.seeds.pooling.standard").set_value(2).run()
    assert_clean(at)
    at.button(key="exp.launch").click().run()
    assert_clean(at)
    store = Store(app_env)
    runs = store.list_runs()
    preset = experiments.get("pooling")
    assert len(runs) == 2 * len(preset.levels) and len({r.group for r in runs}) == 1
    assert store.group(runs[0].group)["kind"] == experiments.GROUP_KIND
    assert store.group(runs[0].group)["meta"]["budget"] == "standard" and {r.config["epochs"] for r in runs} == {6}
    assert {r.config["model_options"].get("pool") for r in runs} == {"avg", "max"}
    assert supervisor_pid(app_env) is None
    assert len(at.get("progress")) == 1, "the group's progress bar"


def test_experiment_verdict_curves_and_table_of_a_finished_group(app_env: Path) -> None:
    from cnnkit import experiments

    store = Store(app_env)
    group = experiments.launch(store, "pooling", "smoke", seeds=2, start_worker=False)
    complete_queued(store, lambda run: 0.75 if run.config["model_options"].get("pool") == "max" else 0.70)
    at = app("pages/6_Experiments.py")
    at.selectbox(key="exp.preset").set_value("pooling").run()
    assert_clean(at)
    assert at.selectbox(key="exp.group.pooling").value == group
    verdicts = [e.value for e in at.info if "Verdict" in e.value]
    assert verdicts and "Best: max pooling" in verdicts[0]
    claims = at.tabs[0].dataframe[-2].value  # the claims and their outcomes come before the levels
    assert claims.loc[claims["source"] == "notes 000:37, notes 004:27", "outcome"].tolist() == ["confirmed"]
    levels = at.tabs[0].dataframe[-1].value
    assert list(levels["runs counted"]) == [2, 2] and levels["test acc"].tolist() == ["70.0 ± 0.0 %", "75.0 ± 0.0 %"]
    assert levels["Δ test acc vs baseline (points)"].tolist()[0] == "—"
    assert len(at.tabs[0].get("plotly_chart")) == 4


def test_experiment_page_says_which_data_a_preset_runs_on(app_env: Path, monkeypatch) -> None:

    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name not in ("mnist", "cifar10"))
    at = app("pages/6_Experiments.py")
    at.selectbox(key="exp.preset").set_value("cnn-vs-mlp-mnist").run()
    assert_clean(at)
    assert any(c.value.startswith("Data: MNIST sample (10,000 real digits") for c in at.caption)
    assert not at.button(key="exp.launch").disabled
    at.selectbox(key="exp.preset").set_value("course-cnn-vs-vgg16").run()
    assert any("cifar-10-python.tar.gz" in e.value and "experiment run course-cnn-vs-vgg16" in e.value
               for e in at.error)
    assert at.button(key="exp.launch").disabled


def test_the_library_never_imports_streamlit() -> None:
    root = Path(__file__).resolve().parents[2] / "cnnkit"
    offenders = [p.name for p in root.rglob("*.py") if "import streamlit" in p.read_text()
                 or "from streamlit" in p.read_text()]
    assert not offenders


def test_reference_results_are_shown_and_can_be_imported(app_env: Path, tmp_path: Path, monkeypatch) -> None:
    from cnnkit import experiments
    from cnnkit.bundle import export_bundle

    source = Store(tmp_path / "source")
    group = experiments.launch(source, "pooling", "smoke", seeds=2, start_worker=False)
    complete_queued(source, lambda run: 0.8)
    export_bundle(source, [r.id for r in source.list_runs(group=group)], tmp_path / "results" / "reference" /
                  "pooling.zip")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path / "results")
    at = app("pages/6_Experiments.py")
    assert_clean(at)
    ref = at.tabs[1]
    assert len(ref.expander) == 1 and "Average vs max pooling" in ref.expander[0].label
    assert any("Verdict" in e.value for e in [*ref.info, *ref.success, *ref.warning])
    ref.button[0].click().run()
    assert_clean(at)
    assert len(Store(app_env).list_runs()) == 4


def test_an_empty_name_is_refused_inline_and_the_run_keeps_its_name(lab: Store) -> None:
    run = lab.list_runs(status="completed")[0]
    at = app("pages/3_Runs.py")
    at.multiselect(key="runs.chosen").set_value([run.id]).run()
    at.text_input(key=f"runs.name.{run.id}").set_value("   ")
    at.button[[b.label for b in at.button].index("Rename")].click().run()
    assert_clean(at)
    assert any("name must be" in e.value for e in at.error)
    assert lab.get(run.id).name == run.name
    assert at.dataframe, "the rest of the page is still there"
