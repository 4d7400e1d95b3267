"""cnnkit.experiments: the catalogue, config building, launching, verdicts, bundles, the reference
generator and the `experiment` commands."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support import ROOT, requires_fmnist

from cnnkit import experiments as E
from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.cli import main
from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError, DataError
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store

REQUIRED = {"pooling", "activation-lr", "kernel-size", "channels", "conv-layers", "fc-layers", "init",
            "cnn-vs-mlp", "cnn-vs-mlp-permuted", "cnn-vs-mlp-mnist", "cnn-vs-mlp-permuted-mnist",
            "course-cnn-vs-vgg16", "softmax-before-loss", "batch-size", "lr-schedule", "shuffle", "normalization",
            "dropout", "batchnorm", "augmentation", "lrn", "resnet-shortcut", "zoo", "overfitting",
            "improved-lenet-mnist"}


@pytest.fixture
def no_missing_data(monkeypatch):
    """Launching needs no dataset when the runs are finished by hand."""
    monkeypatch.setattr(E, "missing_datasets", lambda preset: [])


# ---- the catalogue -----------------------------------------------------------------------------

def test_catalogue_covers_the_required_presets_and_every_mission_line():
    presets = E.catalogue()
    names = [p.name for p in presets]
    assert REQUIRED <= set(names)
    assert len(names) == len(set(names))
    covered = {line for p in presets for line in p.lines}
    assert set(range(1, 17)) - covered == {3}  # line 3 is a view; the note says so
    assert "line 3" in E.CATALOGUE_NOTE and "activations" in E.CATALOGUE_NOTE


@pytest.mark.parametrize("preset", E.catalogue(), ids=lambda p: p.name)
def test_preset_is_well_formed(preset: E.Preset):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", preset.name)
    assert preset.title and preset.question.endswith("?") and preset.factor
    labels = preset.labels
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    assert all(0 < len(label) <= 40 and E.NAME_SEP not in label for label in labels)
    assert preset.baseline in labels
    assert preset.seeds == 3
    assert set(preset.quick.per_level) <= set(labels) and set(preset.full.per_level) <= set(labels)
    assert re.search(r"notes \d{3}|\d{4}|d2l", preset.expected), "the expectation cites its source"
    assert preset.claims, "every preset states a checkable expectation"
    for claim in preset.claims:
        assert claim.kind in E.CLAIM_KINDS and claim.a in labels
        assert claim.kind == "fails" or claim.b in labels


@pytest.mark.parametrize("budget", ["quick", "full", "smoke"])
@pytest.mark.parametrize("preset", E.catalogue(), ids=lambda p: p.name)
def test_every_preset_builds_valid_configs(preset: E.Preset, budget: str):
    configs = E.build_configs(preset, budget, seeds=2)
    assert len(configs) == 2 * len(preset.levels)
    assert [label for label, _ in configs] == preset.labels * 2  # seed-major
    assert [c.seed for _, c in configs] == [0] * len(preset.levels) + [1] * len(preset.levels)
    for _, config in configs:
        assert isinstance(config, RunConfig)
        config.check_fits()
        assert RunConfig.from_json(config.to_json()) == config
    first = [c for _, c in configs[:len(preset.levels)]]
    assert len({c.to_json() for c in first}) == len(first), "every level changes the config"
    assert E.describe_budget(preset, budget)


def test_quick_budgets_are_smaller_than_full_ones():
    for preset in E.catalogue():
        for label in preset.labels:
            quick, full = E.level_config(preset, label, "quick"), E.level_config(preset, label, "full")
            work = lambda c: c.subset * c.epochs * (c.input_size or 28) ** 2  # noqa: E731
            assert work(quick) < work(full), (preset.name, label)


def test_levels_change_what_the_notes_ask():
    configs = dict(E.build_configs("activation-lr", "quick", seeds=1))
    assert configs["sigmoid, lr 0.9"].model_options.get("activation", "sigmoid") == "sigmoid"
    assert configs["sigmoid, lr 0.9"].lr == 0.9
    assert configs["ReLU, lr 0.1"].model_options["activation"] == "relu" and configs["ReLU, lr 0.1"].lr == 0.1
    assert configs["ReLU, lr 0.9"].lr == 0.9
    mlp = dict(E.build_configs("cnn-vs-mlp-permuted", "full", seeds=1))["MLP, same parameter count"]
    assert mlp.model == "mlp" and mlp.model_options == {"match_params_of": "lenet"} and mlp.permute_pixels
    assert mlp.dataset == "fashion-mnist" and mlp.normalize
    zoo = dict(E.build_configs("zoo", "quick", seeds=1))
    assert zoo["AlexNet"].input_size == 67 and zoo["AlexNet"].lr == 1e-4  # per-level beats the override
    assert zoo["ResNet-18"].optimizer == "adam" and zoo["ResNet-18"].lr == 1e-3
    assert zoo["LeNet"].model_options == {} and zoo["VGG-11 ÷4"].model_options == {"width_ratio": 4}
    full = dict(E.build_configs("zoo", "full", seeds=1))
    assert full["AlexNet"].input_size is None and full["AlexNet"].lr == 0.01 and full["AlexNet"].epochs == 10
    shortcut = dict(E.build_configs("resnet-shortcut", "quick", seeds=1))
    assert [c.model_options["shortcut"] for c in shortcut.values()] == ["projection", "zero-pad", "none"]
    assert E.get("cnn-vs-mlp-mnist").datasets == ["mnist"] and E.get("course-cnn-vs-vgg16").datasets == ["cifar10"]


def test_unknown_names_budgets_and_seeds_are_config_errors():
    with pytest.raises(ConfigError) as exc:
        E.get("no-such")
    assert exc.value.field == "experiment" and "pooling" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        E.build_configs("pooling", "huge")
    assert exc.value.field == "budget" and "quick" in str(exc.value) and "smoke" not in str(exc.value)
    for bad in (0, 21, True, 2.5):
        with pytest.raises(ConfigError) as exc:
            E.build_configs("pooling", "quick", seeds=bad)
        assert exc.value.field == "seeds"


# ---- launching and analysing (runs finished by hand through the store's lifecycle) --------------

def finish_all(store: Store, group: str, outcomes: dict[str, list[tuple]]) -> None:
    """Claim every queued run of the store and end it as ``outcomes[level]`` says, in order:
    (status, test_acc, train_acc) for completed runs, (status, error) for the others."""
    levels = store.group(group)["meta"]["runs"]
    todo = {label: list(items) for label, items in outcomes.items()}
    while (run := store.claim("test")) is not None:
        status, *rest = todo[levels[run.id]].pop(0)
        if status == "completed":
            test, train = rest
            summary = {"final": {"test_acc": test, "train_acc": train, "test_loss": 2 * (1 - test),
                                 "train_loss": 2 * (1 - train)}, "train_seconds": 3.0, "images_per_sec": 1000.0,
                       "params": 61706, "macs": 416520}
            store.finish(run.id, "completed", summary)
        else:
            store.finish(run.id, status, {}, error=rest[0] if rest else None)
    assert all(not items for items in todo.values()), "every outcome was used"


def test_launch_makes_an_experiment_group_with_every_run_queued(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "smoke", seeds=2, start_worker=False)
    info = store.group(group)
    assert info["kind"] == "experiment"
    meta = info["meta"]
    assert (meta["preset"], meta["budget"], meta["seeds"]) == ("pooling", "smoke", 2)
    assert meta["levels"] == ["average pooling", "max pooling"] and meta["baseline"] == "average pooling"
    runs = store.list_runs(group=group)
    assert len(runs) == 4 and all(r.status == "queued" for r in runs)
    assert sorted(meta["runs"]) == sorted(r.id for r in runs)
    assert sorted(meta["runs"].values()) == ["average pooling"] * 2 + ["max pooling"] * 2
    for run in runs:
        assert run.name == f"pooling · {meta['runs'][run.id]} · seed {run.config['seed']}"
        assert run.config["model_options"]["pool"] == ("avg" if meta["runs"][run.id] == "average pooling" else "max")
    assert meta["host"]["cores"] == os.cpu_count() and meta["host"]["torch"]
    assert E.latest_group(store, "pooling") == group and E.latest_group(store, "shuffle") is None
    assert supervisor_pid(store.home) is None  # start_worker=False started nothing

    report = E.analyze(store, group)
    assert not report.finished and report.verdict.startswith("Preliminary (4 runs not finished yet)")
    assert report.agreement == "not enough seeds"
    assert [lv.n_active for lv in report.levels] == [2, 2]


def test_launch_refuses_a_missing_dataset_when_offline(store: Store, monkeypatch):
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.setattr(E, "missing_datasets", lambda preset: ["mnist"])
    with pytest.raises(DataError, match="MNIST"):
        E.launch(store, "cnn-vs-mlp-mnist", start_worker=False)
    assert store.list_runs() == []


def test_clear_win_agrees_with_the_notes(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a + 0.02) for a in (0.70, 0.71, 0.72)],
                              "max pooling": [("completed", a, a + 0.02) for a in (0.80, 0.81, 0.82)]})
    report = E.analyze(store, group)
    avg, mx = report.level("average pooling"), report.level("max pooling")
    assert (avg.n, avg.mean, avg.std) == (3, pytest.approx(0.71), pytest.approx(0.01))
    assert mx.diff == pytest.approx(0.10) and mx.excludes_zero and mx.ci_low > 0.08
    assert report.best == "max pooling" and report.baseline == "average pooling" and report.finished
    assert report.current and report.budget_text == "all training images, 4 epochs" == E.describe_budget(
        E.get("pooling"), "quick")
    assert report.verdict.startswith(
        "max pooling beat average pooling by 10.0 points over 3 seeds (81.0 % vs 71.0 %); the 95 % interval of the "
        "difference, ")
    assert "over 3 seeds" in report.verdict and "excludes 0" in report.verdict
    assert report.agreement == "agrees" and "agrees with the expected outcome" in report.verdict
    assert avg.mean_train_acc == pytest.approx(0.73) and avg.mean_gap == pytest.approx(0.02)
    assert avg.mean_seconds == 3.0 and avg.params == 61706 and sorted(avg.run_ids) == sorted(
        r for r, lb in store.group(group)["meta"]["runs"].items() if lb == "average pooling")


def test_a_contradiction_is_said_plainly(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.80, 0.81, 0.82)],
                              "max pooling": [("completed", a, a) for a in (0.70, 0.71, 0.72)]})
    report = E.analyze(store, group)
    assert report.verdict.startswith("average pooling beat max pooling by 10.0")
    low, high = map(float, re.search(r"interval of the difference, (\S+) to (\S+) points, excludes 0",
                                     report.verdict).groups())
    assert 8 <= low <= 10 <= high <= 12, "the interval is the winner's lead, not the level's difference"
    assert report.agreement == "contradicts"
    assert "contradicts the expected outcome (notes / literature: max pooling beats average pooling, but test " \
           "accuracy -10.0 points" in report.verdict
    assert report.claims[0]["outcome"] == "contradicts"


def test_no_clear_difference_is_inconclusive(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.70, 0.80, 0.75)],
                              "max pooling": [("completed", a, a) for a in (0.72, 0.78, 0.76)]})
    report = E.analyze(store, group)
    assert "did not differ clearly" in report.verdict and "includes 0" in report.verdict
    assert report.agreement == "inconclusive"


def test_not_enough_seeds_and_failures_are_reported(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.7), ("completed", 0.72, 0.72)],
                              "max pooling": [("completed", 0.8, 0.8), ("failed", "DataError: MNIST is missing")]})
    report = E.analyze(store, group)
    mx = report.level("max pooling")
    assert (mx.n, mx.n_runs, mx.n_failed) == (1, 2, 1) and mx.std is None
    assert report.verdict.startswith("Not enough seeds: max pooling has 1 counted run")
    assert "1 run did not finish and is not counted" in report.verdict and "MNIST is missing" in report.verdict
    assert report.agreement == "not enough seeds"


def test_diverged_runs_count_at_chance_and_are_said(store: Store, no_missing_data):
    group = E.launch(store, "activation-lr", seeds=3, start_worker=False)
    finish_all(store, group, {
        "sigmoid, lr 0.9": [("completed", a, a) for a in (0.70, 0.72, 0.71)],
        "ReLU, lr 0.1": [("completed", a, a) for a in (0.80, 0.82, 0.81)],
        "ReLU, lr 0.9": [("diverged", "loss became non-finite at step 7")] * 2 + [("completed", 0.1, 0.1)],
    })
    report = E.analyze(store, group)
    bad = report.level("ReLU, lr 0.9")
    assert (bad.n, bad.n_diverged, bad.n_chance, bad.n_failed) == (3, 2, 1, 0)
    assert bad.mean == pytest.approx(0.1) and bad.values == [0.1, 0.1, 0.1]
    assert "ReLU, lr 0.9 diverged (non-finite loss) in 2 of 3 runs; they count at chance (10 %)" in report.verdict
    assert "stayed at chance level in 1 of 3 runs" in report.verdict
    assert report.verdict.startswith("Best: ReLU, lr 0.1 (81.0 %). Against the baseline sigmoid, lr 0.9 (71.0 %)")
    assert "ReLU, lr 0.9 -61.0 points (clearly worse)" in report.verdict
    assert [c["outcome"] for c in report.claims] == ["agrees", "agrees"] and report.agreement == "agrees"


def test_report_json_and_markdown(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    report = E.analyze(store, group)
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["preset"] == "pooling" and doc["budget"] == "quick" and doc["seeds"] == 2 and doc["verdict"]
    assert [lv["level"] for lv in doc["levels"]] == ["average pooling", "max pooling"]
    assert {"level", "mean", "std", "n", "mean_test_loss", "mean_train_acc", "mean_seconds", "diff", "ci_low",
            "ci_high", "run_ids"} <= set(doc["levels"][0])
    md = report.to_markdown()
    assert "| level | test acc (mean ± std) |" in md and "| max pooling | 81.0 ± 1.4 % | 2 | +10.0" in md
    assert "**Verdict.** max pooling beat average pooling" in md


def test_bundle_round_trip_gives_the_same_report(store: Store, tmp_path: Path, no_missing_data):
    group = E.launch(store, "shuffle", seeds=2, start_worker=False)
    finish_all(store, group, {"shuffled every epoch": [("completed", 0.8, 0.8), ("completed", 0.81, 0.82)],
                              "same order every epoch": [("completed", 0.79, 0.8), ("diverged", "nan")]})
    direct = E.analyze(store, group)
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "shuffle.zip")
    from_bundle = E.analyze_bundle(path)
    keys = ("mean", "std", "n", "n_diverged", "diff", "ci_low", "ci_high")
    assert [[getattr(lv, k) for k in keys] for lv in from_bundle.levels] == \
           [[getattr(lv, k) for k in keys] for lv in direct.levels]
    assert from_bundle.verdict == direct.verdict and from_bundle.source == "bundle shuffle.zip"
    # imported runs get new ids; their levels are found through the ids they had before
    other = Store(tmp_path / "other")
    assert len(import_bundle(other, path)) == 4
    imported = E.analyze(other, group)
    assert imported.verdict == direct.verdict and [lv.n_runs for lv in imported.levels] == [2, 2]


def test_write_readme_covers_every_preset(store: Store, tmp_path: Path, no_missing_data, monkeypatch):
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "results/reference/pooling.zip")
    monkeypatch.setattr(E, "missing_datasets", lambda p: [d for d in p.datasets if d != "fashion-mnist"])
    text = E.write_readme(tmp_path / "results").read_text()
    for preset in E.catalogue():
        assert f"| `{preset.name}` |" in text
    assert "average pooling: 71.0 ± 1.4 %<br>max pooling: 81.0 ± 1.4 %" in text
    assert "`cnn-vs-mlp-mnist` (CNN vs MLP on MNIST): needs MNIST, which is not installed here" in text
    assert "`course-cnn-vs-vgg16` (The course CNN vs VGG-16): needs CIFAR-10" in text
    assert "| `shuffle` |" in text and "no numbers: not run yet" in text
    assert "AMD" in text or "Hardware:" in text
    assert E.REFERENCE_COMMAND in text


# ---- the command line --------------------------------------------------------------------------

def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list(capsys):
    code, out, _ = run_cli(capsys, "experiment", "list", "--json")
    assert code == 0
    listed = json.loads(out.strip().splitlines()[-1])
    assert [p["name"] for p in listed] == [p.name for p in E.catalogue()]
    pooling = listed[0]
    assert pooling["levels"][1] == {"label": "max pooling", "changes": {"pool": "max"}}
    assert {"question", "factor", "baseline", "budgets", "expected", "datasets", "missing_datasets"} <= set(pooling)
    code, out, _ = run_cli(capsys, "experiment", "list")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["name", "lines", "factor"]
    assert "pooling: What happens when LeNet's average pooling is replaced by max pooling?" in out


@pytest.mark.parametrize(("argv", "field"), [
    (["experiment", "run", "no-such"], "experiment"),
    (["experiment", "run", "pooling", "--budget", "huge"], "budget"),
    (["experiment", "run", "pooling", "--seeds", "0"], "seeds"),
    (["experiment", "run", "pooling", "--seeds", "many"], "seeds"),
    (["experiment", "report", "no-such"], "experiment"),
    (["experiment", "report", "pooling"], "experiment"),
    (["experiment", "report", "pooling", "--group", "experiment-bogus"], "--group"),
    (["experiment", "report", "pooling", "--format", "html"], "--format"),
    (["experiment", "reference", "--only", "no-such"], "experiment"),
    (["experiment", "reference", "--budget", "huge"], "budget"),
])
def test_cli_errors_exit_2_with_one_line_naming_the_field(capsys, tmp_path: Path, argv: list[str], field: str):
    store = ["--store", str(tmp_path / "store")] if argv[1] in ("run", "report") else ["--out", str(tmp_path)]
    try:
        code = main([*argv, *store])
    except SystemExit as exc:  # argparse's own errors (a bad --format choice)
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], err
    assert not (tmp_path / "store" / "worker.lock").exists() or supervisor_pid(tmp_path / "store") is None
    assert not (tmp_path / "reference").exists()


def test_cli_report_of_a_group_json_and_md(capsys, tmp_path: Path, no_missing_data):
    store = Store(tmp_path / "store")
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--format", "json", "--store", str(store.home))
    assert code == 0
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["group"] == group and doc["verdict"].startswith("max pooling beat average pooling")
    assert [(lv["level"], lv["n"]) for lv in doc["levels"]] == [("average pooling", 2), ("max pooling", 2)]
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--group", group, "--store", str(store.home))
    assert code == 0 and "| max pooling | 81.0 ± 1.4 %" in out and "**Verdict.**" in out
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "pooling.zip")
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--bundle", str(path))
    assert code == 0 and "| max pooling | 81.0 ± 1.4 %" in out
    code, _, err = run_cli(capsys, "experiment", "report", "shuffle", "--bundle", str(path))
    assert code == 2 and "--bundle" in err
    code, _, err = run_cli(capsys, "experiment", "report", "shuffle", "--group", group, "--store", str(store.home))
    assert code == 2 and "--group" in err and "pooling" in err


# ---- end to end: a real supervisor, real training ----------------------------------------------

def _stop_supervisor(home: Path) -> None:
    """End the supervisor the command under test started for this test's own store (by its pid)."""
    pid = supervisor_pid(home)
    if pid and pid > 0:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while supervisor_pid(home) and time.time() < deadline:
            time.sleep(0.1)


@pytest.mark.slow
@requires_fmnist
def test_experiment_run_wait_then_report(python: str, cli_env: dict[str, str], tmp_path: Path):
    home = tmp_path / "store"
    try:
        proc = subprocess.run([python, "-m", "cnnkit", "experiment", "run", "pooling", "--budget", "smoke",
                               "--seeds", "2", "--wait", "--store", str(home)], cwd=ROOT, env=cli_env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        assert out.startswith("queued 4 runs of pooling (smoke budget, 2 seeds)")
        assert re.search(r"pooling: 4/4 finished \(4 completed\)", out)
        assert "| average pooling (baseline) |" in out and "**Verdict.**" in out
        proc = subprocess.run([python, "-m", "cnnkit", "experiment", "report", "pooling", "--format", "json",
                               "--store", str(home)], cwd=ROOT, env=cli_env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout.strip().splitlines()[-1])
        assert [(lv["level"], lv["n"], lv["n_completed"]) for lv in doc["levels"]] == [
            ("average pooling", 2, 2), ("max pooling", 2, 2)]
        assert all(0 <= lv["mean"] <= 1 and lv["std"] is not None for lv in doc["levels"])
        assert doc["verdict"] and doc["finished"] and doc["budget"] == "smoke"
    finally:
        _stop_supervisor(home)


@pytest.mark.slow
@requires_fmnist
def test_reference_generator_end_to_end(tmp_path: Path):
    out, work = tmp_path / "results", tmp_path / "work"
    lines: list[str] = []
    done = E.reference(out, budget="smoke", only=["pooling", "cnn-vs-mlp-mnist"], seeds=2, store_path=work,
                       log=lines.append, poll=0.5)
    assert done == ["pooling"]
    assert any(line.startswith("skip cnn-vs-mlp-mnist") for line in lines) or "mnist" not in E.missing_datasets(
        "cnn-vs-mlp-mnist")
    bundle = out / "reference" / "pooling.zip"
    report = E.analyze_bundle(bundle)
    assert [lv.n for lv in report.levels] == [2, 2] and report.budget == "smoke"
    assert report.command == "python -m cnnkit experiment reference --budget smoke --seeds 2 --only pooling " \
                             "cnn-vs-mlp-mnist"
    readme = (out / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `pooling` |"))
    for lv in report.levels:
        assert f"{lv.level}: {100 * lv.mean:.1f} ± {100 * lv.std:.1f} %" in row
    assert supervisor_pid(work) is None, "the generator stops the supervisor it started"
    assert not list((work / "runs").glob("*/checkpoint.pt")), "checkpoints of exported runs are dropped"


def test_a_report_says_when_the_preset_changed_since_its_runs(store: Store, no_missing_data, monkeypatch):
    import dataclasses

    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.7), ("completed", 0.72, 0.72)],
                              "max pooling": [("completed", 0.8, 0.8), ("completed", 0.82, 0.82)]})
    assert E.analyze(store, group).current
    changed = dataclasses.replace(E.get("pooling"), quick=E.Budget({"epochs": 7}))
    monkeypatch.setattr(E, "get", lambda name: changed if name == "pooling" else E.PRESETS[0])
    report = E.analyze(store, group)
    assert not report.current and report.budget_text == "all training images, 4 epochs"  # what ran, from the meta
    assert "the preset has changed since these runs" in report.to_markdown()
