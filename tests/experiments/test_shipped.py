"""cnnkit.experiments.shipped and readme: the reference generator, the ledger it keeps, results/README.md and
the top README's results block."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import requires_fmnist
from support.datasets import requires_mnist_sample
from support.experiments import finish_all

from cnnkit import experiments as E
from cnnkit.data import loading
from cnnkit.experiments import looks
from cnnkit.experiments.shipped import RESULTS_BEGIN, RESULTS_END, _replace_results_block, _ship
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store

AVG = "average pooling (d2l)"


def pooling_look(store: Store, results: Path) -> Path:
    """A finished look at pooling shipped into ``results``: 2 seeds, max pooling 10 points ahead."""
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {AVG: [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    _ship(store, group, "pooling", results)
    return results / "reference" / "pooling.zip"


def test_write_readme_covers_every_claim_and_preset(store: Store, tmp_path: Path, no_missing_data, monkeypatch):
    pooling_look(store, tmp_path / "results")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name == "fashion-mnist")
    text = E.write_readme(tmp_path / "results").read_text()
    for preset in E.catalogue():
        assert f"| `{preset.name}` |" in text
    row = next(line for line in text.splitlines() if line.startswith("| notes 000:37, notes 004:27 |"))
    assert "`pooling`" in row and "**confirmed**" in row and "+10.0 points" in row
    assert "- notes 001:11 — At the same parameter count" in text and "needs MNIST, which is not installed" in text
    assert "- notes 002:141 — Global average pooling" in text, "the untested claims are listed with why"
    assert "## The textbook's expectations" in text and "## Every look" in text and "## Runs shared by presets" in text
    assert "average pooling (d2l): 71.0 ± 1.4 %<br>max pooling: 81.0 ± 1.4 %" in text
    assert E.REFERENCE_COMMAND in text and "fashion-mnist sha256" in text


def test_a_new_look_archives_the_last_and_both_are_counted(store: Store, tmp_path: Path, no_missing_data):
    results = tmp_path / "results"
    pooling_look(store, results)
    pooling_look(store, results)
    ledger = looks.load(results)
    assert [lk["bundle"].split("/")[0] for lk in ledger] == ["looks", "reference"]
    assert all(lk["plan_hash"] and lk["outcomes"] == {"confirmed": 1, "open": 1} or lk["outcomes"] for lk in ledger)
    assert (results / ledger[0]["bundle"]).exists() and (results / "reference" / "pooling.zip").exists()
    text = E.write_readme(results).read_text()
    assert "- In all: 2 looks" in text and "- Protocol 2: 2 looks" in text


def test_levels_with_the_same_config_and_seeds_in_two_presets_are_named_shared(store: Store, tmp_path: Path,
                                                                                no_missing_data):
    results = tmp_path / "results"
    for name in ("init", "learning-rate"):  # Xavier (d2l) in init is learning-rate's lr 0.1: the same runs
        group = E.launch(store, name, seeds=2, start_worker=False)
        finish_all(store, group, {label: [("completed", 0.7, 0.72), ("completed", 0.71, 0.73)]
                                  for label in E.get(name).labels})
        _ship(store, group, name, results)
    text = E.write_readme(results).read_text()
    section = text.split("## Runs shared by presets")[1].split("##")[0]
    assert "`learning-rate` lr 0.1, `init` Xavier (d2l)" in section or "`init` Xavier (d2l), `learning-rate` lr 0.1" \
        in section


def test_runs_on_the_mnist_sample_say_so(store: Store, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name != "mnist")
    group = E.launch(store, "cnn-vs-mlp-mnist", seeds=2, start_worker=False)
    mlp, cnn = E.get("cnn-vs-mlp-mnist").labels
    finish_all(store, group, {mlp: [("completed", 0.95, 0.96), ("completed", 0.951, 0.962)],
                              cnn: [("completed", 0.97, 0.98), ("completed", 0.972, 0.981)]})
    results = tmp_path / "results"
    _ship(store, group, "cnn-vs-mlp-mnist", results)
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: True)  # read later where full MNIST is
    report = E.analyze_bundle(results / "reference" / "cnn-vs-mlp-mnist.zip")
    assert report.datasets == ["mnist-10k"] and report.current  # the sample stands in: not a changed preset
    text = E.write_readme(results).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `cnn-vs-mlp-mnist` |"))
    assert "(run on the MNIST sample (10,000 real digits" in row and "not the full MNIST" in row


@pytest.mark.slow
@requires_fmnist
def test_reference_generator_end_to_end(tmp_path: Path):
    out, work = tmp_path / "results", tmp_path / "work"
    lines: list[str] = []
    done = E.reference(out, budget="smoke", only=["pooling"], seeds=2, store_path=work, log=lines.append, poll=0.5)
    assert done == ["pooling"]
    report = E.analyze_bundle(out / "reference" / "pooling.zip")
    assert [lv.n_counted for lv in report.levels] == [2, 2] and report.budget == "smoke" and report.plan_intact
    assert report.plan["environment"]["command"] == "python -m cnnkit experiment reference --budget smoke " \
                                                    "--seeds 2 --only pooling"
    ledger = json.loads((out / "looks.json").read_text())
    assert [(lk["preset"], lk["bundle"], lk["seeds"]) for lk in ledger] == [("pooling", "reference/pooling.zip",
                                                                           [0, 1])]
    row = next(line for line in (out / "README.md").read_text().splitlines() if line.startswith("| `pooling` |"))
    for lv in report.levels:
        assert f"{lv.label}: {100 * lv.means['test_acc']:.1f} ± {100 * lv.stds['test_acc']:.1f} %" in row
    assert supervisor_pid(work) is None, "the generator stops the supervisor it started"
    assert not list((work / "runs").glob("*/checkpoint.pt")), "checkpoints of exported runs are dropped"


def test_a_resumed_reference_run_goes_on_with_its_looks_and_ships_each_once(tmp_path: Path, no_missing_data):
    out, store = tmp_path / "results", Store(tmp_path / "work")
    group = E.launch(store, "pooling", budget="smoke", seeds=2, start_worker=False)
    finish_all(store, group, {AVG: [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    lines: list[str] = []
    again = dict(budget="smoke", only=["pooling"], seeds=2, store_path=store.home, log=lines.append, poll=0.1,
                 resume=True)
    # Interrupted before it finished: counted from its launch, without a bundle yet.
    looks.record(out, looks.entry_at_launch(group, store.group(group)["meta"]))
    assert "— (not finished yet: no bundle)" in E.write_readme(out).read_text()
    assert E.reference(out, **again) == ["pooling"]
    assert [g["id"] for g in store.groups()] == [group], "the interrupted look is followed, not launched again"
    (shipped,) = looks.load(out)
    assert shipped["group"] == group and shipped["busy_spans"] and shipped["busy_spans"][0][0] == pytest.approx(
        shipped["first_start"], abs=0.05)
    assert E.reference(out, **again) == []
    assert f"pooling: its look {group} is already shipped" in lines
    assert [look["group"] for look in looks.load(out)] == [group] and not (out / "looks").exists()
    assert supervisor_pid(store.home) is None


# ---- the results block of the top-level README -----------------------------------------------------------

TOP_README = f"""# A project

Some prose.

{RESULTS_BEGIN}
an old table
{RESULTS_END}

## Next section

More prose.
"""


def test_write_readme_fills_the_results_block_of_the_readme_next_to_results(store: Store, tmp_path: Path,
                                                                             no_missing_data):
    pooling_look(store, tmp_path / "results")
    top = tmp_path / "README.md"
    top.write_text(TOP_README)
    E.write_readme(tmp_path / "results")
    text = top.read_text()
    head, rest = text.split(RESULTS_BEGIN)
    block, tail = rest.split(RESULTS_END)
    assert head == TOP_README.split(RESULTS_BEGIN)[0] and tail == TOP_README.split(RESULTS_END)[1]
    assert "an old table" not in block
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    assert rows[0] == "| preset | notes | the notes' claim | outcome | estimate (interval) |"
    assert rows[1].startswith("| `pooling` | 000:37, 004:27 | Max pooling keeps the most salient feature")
    assert "**confirmed**" in rows[1] and len(rows) == 3
    assert "2 claims of the notes tested in 1 presets" in block and "[results/README.md](results/README.md)" in block
    E.write_readme(tmp_path / "results")
    assert top.read_text() == text, "regenerating changes nothing"


def test_a_readme_without_both_markers_is_left_alone(tmp_path: Path):
    for text in ("# A project\n\nNo markers.\n", f"# Only the start\n{RESULTS_BEGIN}\nkept\n",
                 f"# Wrong way round\n{RESULTS_END}\nkept\n{RESULTS_BEGIN}\n"):
        assert _replace_results_block(text, "| new |") == text
        top = tmp_path / "README.md"
        top.write_text(text)
        E.write_readme(tmp_path / "results")
        assert top.read_text() == text
    assert (tmp_path / "results" / "README.md").exists()


def test_the_block_names_where_the_rest_is_when_nothing_has_numbers(tmp_path: Path):
    top = tmp_path / "docs" / "README.md"
    top.parent.mkdir()
    top.write_text(TOP_README)
    E.write_readme(tmp_path / "results", top_readme=top)
    block = top.read_text().split(RESULTS_BEGIN)[1].split(RESULTS_END)[0]
    assert block == "\nNo preset has reference numbers yet; see [../results/README.md](../results/README.md).\n"


def test_the_zoo_ranks_only_what_its_intervals_separate(store: Store, tmp_path: Path, no_missing_data):
    results = tmp_path / "results"
    group = E.launch(store, "zoo", "standard", seeds=3, start_worker=False)
    accuracy = {"LeNet (28 px)": 0.70, "AlexNet (67 px)": 0.80, "VGG-11 ÷4 (32 px)": 0.801, "NiN (67 px)": 0.60,
                "GoogLeNet (32 px)": 0.82, "ResNet-18 (32 px)": 0.88, "MLP (28 px)": 0.83}
    finish_all(store, group, {label: [("completed", a, a), ("completed", a + 0.004, a), ("completed", a - 0.004, a)]
                              for label, a in accuracy.items()})
    _ship(store, group, "zoo", results)
    report = E.analyze_bundle(results / "reference" / "zoo.zip")
    assert report.tiers[0] == ["ResNet-18 (32 px)"] and ["VGG-11 ÷4 (32 px)", "AlexNet (67 px)"] in report.tiers or \
        ["AlexNet (67 px)", "VGG-11 ÷4 (32 px)"] in report.tiers, report.tiers
    assert report.best is None and "ranking:" in E.write_readme(results).read_text()
    assert "d2l 10 epochs: test / train acc (input)" in report.to_markdown()


@requires_fmnist
@requires_mnist_sample
def test_the_shipped_results_are_what_the_shipped_bundles_say(tmp_path: Path):
    """results/README.md and the README's results block, regenerated from results/ by today's code, are what the
    project ships: no hand edits, no table from older code."""
    shutil.copytree(E.RESULTS_DIR, tmp_path / "results")
    shutil.copy(E.RESULTS_DIR.parent / "README.md", tmp_path / "README.md")
    text = E.write_readme(tmp_path / "results").read_text()
    regenerate = "regenerate them: python -m cnnkit experiment reference --readme-only"
    assert text == (E.RESULTS_DIR / "README.md").read_text(), regenerate
    assert (tmp_path / "README.md").read_text() == (E.RESULTS_DIR.parent / "README.md").read_text()
