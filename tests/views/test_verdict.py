"""cnnkit.views.verdict: runs grouped by a field judged as an experiment judges its levels (a preset's runs
regrouped on Compare give exactly its report's verdict), the pairing rule, the seeds that would resolve it, and
a one-line error for every wrong request."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest
from support import ROOT, requires_fmnist
from support.experiments import finish_all
from support.runs import finished_run, queued_runs
from support.verdict_data import finished

from cnnkit import experiments
from cnnkit.compare.urlstate import Selection
from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.events import Status
from cnnkit.store import Store
from cnnkit.views import verdict as view

VS_FIELDS = ("diff", "low", "high", "level", "p", "n", "paired", "decisive")


def assert_same_verdict(store: Store, group: str, field: str) -> view.VerdictView:
    """Every level's comparison with the baseline on Compare is the report's, field by field."""
    report = experiments.analyze(store, group)
    built = view.build(store, store.runs_frame(store.list_runs(group=group)), field)
    by_runs = {frozenset(ids): label for label, ids in built.levels.items()}
    assert len(by_runs) == len(report.levels)
    for level in report.levels:
        mine = next(lv for lv in built.verdict.levels if lv.label == by_runs[frozenset(level.run_ids)])
        assert mine.is_baseline == level.is_baseline
        if level.vs_baseline is None:
            assert mine.vs is None
            continue
        assert {k: mine.vs[k] for k in VS_FIELDS} == {k: level.vs_baseline[k] for k in VS_FIELDS}
    return built


@pytest.mark.parametrize("preset,field", [("learning-rate", "lr"), ("kernel-size", "model.kernel_size"),
                                          ("pooling", "model.pool"), ("batch-size", "batch_size")])
def test_regrouping_a_presets_finished_runs_gives_exactly_its_reports_verdict(store: Store, no_missing_data,
                                                                              preset: str, field: str) -> None:
    group = experiments.launch(store, preset, "smoke", start_worker=False)
    plan = store.group(group)["meta"]["plan"]
    rng = random.Random(preset)
    outcomes = {lv["label"]: [("completed", a, a) for a in (0.70 + 0.02 * i + rng.gauss(0, 0.01) for _ in range(3))]
                for i, lv in enumerate(plan["levels"])}
    outcomes[plan["levels"][-1]["label"]][1] = ("diverged", "loss became non-finite at step 7")
    finish_all(store, group, outcomes)
    built = assert_same_verdict(store, group, field)
    assert built.verdict.baseline in {lv.label for lv in built.verdict.levels}
    assert "Experiments page" in built.seeds.refusal or not built.verdict.seeds_needed


def test_a_clear_win_in_an_experiment_is_decisive_on_compare_too(store: Store, no_missing_data) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    finish_all(store, group, {"average pooling (d2l)": [("completed", a, a) for a in (0.70, 0.71, 0.72)],
                              "max pooling": [("completed", a, a) for a in (0.80, 0.815, 0.82)]})
    built = assert_same_verdict(store, group, "model.pool")
    assert built.verdict.baseline == "model.pool=avg", "an experiment's own baseline by default"
    assert [lv.outcome for lv in built.verdict.levels] == ["baseline", "better"]


@pytest.mark.slow
@requires_fmnist
def test_a_presets_runs_trained_by_a_real_worker_give_its_reports_verdict(store: Store, cli_env: dict) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(store.home), "--idle-exit", "1"],
                   cwd=ROOT, env=cli_env, check=True, timeout=600, capture_output=True)
    assert {r.status for r in store.list_runs(group=group)} == {Status.COMPLETED}
    assert_same_verdict(store, group, "model.pool")


def lr_sweep(store: Store, accs: dict[float, list[float]], model_options: dict | None = None) -> str:
    group = store.create_group("sweep", "lr sweep", {"axes": {"lr": "…"}})
    for lr, values in accs.items():
        for seed, acc in enumerate(values):
            finished(store, RunConfig(lr=lr, seed=seed, epochs=1, model_options=model_options or {}), acc, group,
                     name=f"lenet lr={lr} seed={seed}")
    return group


def frame_of(store: Store, group: str):
    return store.runs_frame(store.list_runs(group=group))


def test_a_sweep_is_paired_by_the_written_rule_and_judged_against_the_first_level(store: Store) -> None:
    group = lr_sweep(store, {0.1: [0.70, 0.71, 0.72], 0.3: [0.75, 0.77, 0.76]})
    built = view.build(store, frame_of(store, group), "lr")
    base, other = built.verdict.levels
    assert base.label == "lr=0.1" and base.is_baseline and other.vs["paired"]
    assert other.pairing.startswith("paired: each seed gives both the same initial weights")
    assert other.outcome == "better" and built.levels["lr=0.3"] and not built.seeds.configs


def test_levels_that_differ_in_their_weights_or_mix_configs_are_compared_by_welch(store: Store) -> None:
    group = store.create_group("sweep", "kernels", {})
    for k in (3, 5):
        for seed in range(2):
            finished(store, RunConfig(seed=seed, epochs=1, model_options={"kernel_size": k}), 0.7 + seed / 100, group)
    finished(store, RunConfig(seed=0, epochs=1, lr=0.3, model_options={"kernel_size": 3}), 0.72, group)
    built = view.build(store, frame_of(store, group), "kernel_size", baseline="5")
    assert built.verdict.baseline == "model.kernel_size=5"
    three = built.verdict.levels[0]
    assert not three.vs["paired"] and "differ in more than model.kernel_size" in three.pairing
    pair, why = view.pairing_between(store.list_runs(group=group)[1:2], store.list_runs(group=group)[3:4])
    assert not pair and why == "independent: each seed draws them different initial weights"


def test_add_seeds_queues_the_missing_seeds_into_the_group_and_the_verdict_counts_them(store: Store) -> None:
    group = lr_sweep(store, {0.1: [0.70, 0.74, 0.72], 0.3: [0.71, 0.77, 0.73]})
    built = view.build(store, frame_of(store, group), "lr")
    assert built.verdict.levels[1].outcome == "open" and built.seeds.runs > 0
    target = built.seeds.target
    ids = view.add_seeds(store, built.seeds)
    queued = store.list_runs(ids=ids)
    assert {r.group for r in queued} == {group} and {r.status for r in queued} == {Status.QUEUED}
    assert sorted(r.config["seed"] for r in queued if r.config["lr"] == 0.1) == list(range(3, target))
    preliminary = view.build(store, frame_of(store, group), "lr").verdict
    assert preliminary.active == len(ids) and preliminary.summary().startswith("Preliminary")
    for run in queued_runs(store):
        finished_run(store, queued=run.id, summary={"final": {"test_acc": 0.72 + run.config["lr"] / 10}})
    after = view.build(store, frame_of(store, group), "lr").verdict
    assert after.active == 0 and after.levels[1].vs["n"] == target


def test_seeds_are_never_added_to_an_experiment(store: Store, no_missing_data) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    finish_all(store, group, {"average pooling (d2l)": [("completed", a, a) for a in (0.70, 0.74, 0.72)],
                              "max pooling": [("completed", a, a) for a in (0.71, 0.77, 0.73)]})
    built = view.build(store, frame_of(store, group), "model.pool")
    assert built.verdict.seeds_needed and "Experiments page" in built.seeds.refusal
    with pytest.raises(ConfigError, match="^seeds: an experiment's seeds are fixed"):
        view.add_seeds(store, built.seeds)


def test_wrong_requests_are_one_line_errors_naming_the_field(store: Store) -> None:
    frame = frame_of(store, lr_sweep(store, {0.1: [0.7, 0.71], 0.3: [0.8, 0.81]}))
    for field, baseline, metric, message in (
            ("nope", "", "test_acc", r"^by: unknown field 'nope'; fields that differ among these runs: lr, seed$"),
            ("epochs", "", "test_acc", r"^by: epochs takes one value among these runs \(epochs=1\); a verdict needs"),
            ("lr", "0.5", "test_acc", r"^baseline: '0.5' is not a level of lr; levels: 0.1, 0.3$"),
            ("lr", "", "accuracy", r"^metric: must be one of test_acc, best_test_acc, test_loss, train_eval_acc, "
                                   r"images_per_sec, wall_seconds, got 'accuracy'$")):
        with pytest.raises(ConfigError, match=message):
            view.build(store, frame, field, baseline, metric)


def test_fields_are_found_by_their_short_names(store: Store) -> None:
    frame = frame_of(store, lr_sweep(store, {0.1: [0.7], 0.3: [0.8]}, {"activation": "relu"}))
    assert [view.field_of(frame, name) for name in ("lr", "cfg.lr", "activation", "model.activation", "model")] == [
        "cfg.lr", "cfg.lr", "cfg.model.activation", "cfg.model.activation", "model"]


def test_a_selection_has_a_verdict_only_when_it_groups_by_a_field_with_levels(store: Store) -> None:
    frame = frame_of(store, lr_sweep(store, {0.1: [0.7, 0.71], 0.3: [0.8, 0.81]}))
    assert view.of_selection(store, frame, Selection()) is None
    assert view.of_selection(store, frame, Selection(group_by="cfg.epochs")) is None
    verdict = view.of_selection(store, frame, Selection(group_by="cfg.lr", baseline="lr=0.3", metric="test_loss"))
    assert verdict.baseline == "lr=0.3" and verdict.metric == "test_loss"
