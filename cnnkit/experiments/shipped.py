"""The reference results shipped in results/: running every preset, the bundles, and the README pages."""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cnnkit.bundle import export_bundle
from cnnkit.data.datasets import DATASETS, stand_ins
from cnnkit.experiments.presets import (
    ALL_BUDGETS,
    CATALOGUE_NOTE,
    DEFAULT_SEEDS,
    catalogue,
    check_budget,
    check_seeds,
    get,
    missing_datasets,
)
from cnnkit.experiments.queue import group_progress, launch
from cnnkit.experiments.verdict import (
    DETECTION_RATE_5,
    FALSE_ALARM_RATE,
    TWO_LOOK_FALSE_ALARM_RATE,
    ExperimentReport,
    analyze_bundle,
    data_text,
)
from cnnkit.jobs.process import supervisor_running
from cnnkit.store import Store
from cnnkit.text import format_mean_std, format_pct

PROJECT = Path(__file__).resolve().parents[2]
RESULTS_DIR = PROJECT / "results"
REFERENCE_COMMAND = "python -m cnnkit experiment reference --budget standard --cpu-slots 2"
RESULTS_BEGIN, RESULTS_END = "<!-- results:begin -->", "<!-- results:end -->"  # write_readme fills the block between
DECISIVE = ("agrees", "contradicts", "equivalent")  # outcomes that answer the question (partly agrees does not)


def _other_seeds(budget: str) -> str:
    """'the zoo 2, kernel-size and shuffle 10': the presets whose ``budget`` runs other than its default seeds."""
    by_seeds: dict[int, list[str]] = {}
    for preset in catalogue():
        if preset.seeds(budget) != DEFAULT_SEEDS[budget]:
            by_seeds.setdefault(preset.seeds(budget), []).append(preset.name)

    def listed(names: list[str]) -> str:
        return "the zoo" if names == ["zoo"] else " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))

    return ", ".join(f"{listed(names)} {seeds}" for seeds, names in sorted(by_seeds.items()))


# The README's section on budgets (the rates are verdict's, re-measured by the tests).
BUDGETS_TEXT = [
    "## Budgets",
    "",
    f"- **quick** ({DEFAULT_SEEDS['quick']} seeds): minutes per preset on a 2-core CPU: subsets, few epochs, small "
    "inputs. Enough to see the pipeline and the large effects.",
    f"- **standard** ({DEFAULT_SEEDS['standard']} seeds; {_other_seeds('standard')}): sized so that each question "
    "gets a decisive answer on that CPU, the whole table in about 100 minutes with `--cpu-slots 2`. Where quick "
    "already decided it runs quick's settings over more seeds; where quick left the answer open it trains on more "
    "data or longer, and each budget's note (`python -m cnnkit experiment list --json`) says what was measured. "
    "The zoo trains every model on the whole training set with d2l's own recipe and reads as a ranking beside "
    "d2l's 10-epoch figures, not as a winner.",
    "- **full**: the notes' or d2l's setting (10 epochs, native inputs); hours per preset on a CPU, for a GPU.",
    "",
    "What the interval buys: when two levels do not differ at all, Welch's 95 % interval excludes 0 in about "
    f"{format_pct(FALSE_ALARM_RATE[5], 1)} of comparisons with 5 seeds per level and "
    f"{format_pct(FALSE_ALARM_RATE[3], 1)} with 3; with 5 seeds it finds a difference of 1.5 seed sds "
    f"{format_pct(DETECTION_RATE_5[1.5])} of the time and one of 2 sds {format_pct(DETECTION_RATE_5[2.0])} (normal "
    "seed noise, simulated; the tests re-measure it). Where 5 seeds left a question open, its standard budget takes "
    "a second look: the same runs over 10 seeds, or, where the runs showed what made them noisy, a redesigned "
    "budget on fresh seeds (`resnet-shortcut`); the budget's note says what the first look measured. Over both "
    f"looks the false-alarm rate is about {format_pct(TWO_LOOK_FALSE_ALARM_RATE)}. A preset whose levels keep "
    "everything a seed decides (the same initial weights and data order; `pooling`) is compared seed by seed with a "
    "t interval of the differences, whose false-alarm rate is the nominal 5 %.",
    "",
]


def reference(out_dir: Path | str | None = None, budget: str = "quick", only: list[str] | None = None,
              seeds: int | None = None, store_path: Path | str | None = None, keep_store: bool = False,
              cpu_slots: int | None = None, log: Callable[[str], None] = print, poll: float = 2.0,
              command: str | None = None) -> list[str]:
    """Run every preset whose datasets are here through the job system, export each finished one to
    ``<out>/reference/<name>.zip`` and regenerate ``<out>/README.md``; returns the exported names.

    The runs go to a temporary store (removed afterwards unless ``keep_store``) served by its own
    supervisor, which is stopped at the end. Each preset is exported as soon as its runs finish, so
    an interrupted reference run keeps what it finished.
    """
    from cnnkit.jobs.supervisor import ensure_supervisor  # it imports the engine, hence torch (a second)

    check_budget(budget)
    out = Path(out_dir) if out_dir else RESULTS_DIR
    presets = [get(n) for n in only] if only else catalogue()
    runnable = []
    for preset in presets:
        missing = missing_datasets(preset)
        if missing:
            log(f"skip {preset.name}: needs {', '.join(missing)}, not installed here")
        else:
            check_seeds(seeds, preset, budget)
            runnable.append(preset)
    home = Path(store_path) if store_path else Path(tempfile.mkdtemp(prefix="cnnkit-reference-"))
    store = Store(home)
    command = command or _command_line(budget, only, seeds, cpu_slots)
    groups = {p.name: launch(store, p.name, budget, seeds, start_worker=False, meta={"command": command})
              for p in runnable}
    total = sum(group_progress(store, g)["total"] for g in groups.values())
    log(f"queued {total} runs of {len(groups)} presets in {home}")
    extra = ["--cpu-slots", str(cpu_slots)] if cpu_slots else None
    started = [pid for pid in [ensure_supervisor(store, idle_exit=120, extra_args=extra)] if pid]
    exported: list[str] = []
    pending = dict(groups)
    last_line = ""
    try:
        while pending:
            for name, group in list(pending.items()):
                counts = group_progress(store, group)
                if counts["finished"] < counts["total"]:
                    continue
                ids = [r.id for r in store.list_runs(group=group)]
                path = export_bundle(store, ids, out / "reference" / f"{name}.zip")
                for run_id in ids:  # checkpoints are not part of a bundle; AlexNet's weigh hundreds of MB
                    shutil.rmtree(store.run_dir(run_id), ignore_errors=True)
                report = analyze_bundle(path)
                wall = f"{report.wall_seconds:.0f} s" if report.wall_seconds else "?"
                log(f"{name} done in {wall}: {report.verdict}")
                exported.append(name)
                del pending[name]
                write_readme(out)
            done = sum(group_progress(store, g)["finished"] for g in groups.values())
            line = (f"{time.strftime('%H:%M:%S')} {done}/{total} runs finished; {len(pending)} "
                    f"preset{'' if len(pending) == 1 else 's'} to go")
            if line.split(" ", 1)[1] != last_line.split(" ", 1)[-1]:
                log(line)
                last_line = line
            if pending:
                if not supervisor_running(store.home) and not any(_alive(pid) for pid in started):
                    started += [pid for pid in [ensure_supervisor(store, idle_exit=120, extra_args=extra)] if pid]
                time.sleep(poll)
    finally:
        for pid in started:
            _stop(pid)
        if not keep_store and not store_path:
            shutil.rmtree(home, ignore_errors=True)
    write_readme(out)
    return exported


def _alive(pid: int) -> bool:
    """Whether a child process this one started still runs (a dead one is reaped here)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def _stop(pid: int) -> None:
    """Stop the supervisor this module started (its lock and pid are ours)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(150):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.1)


def _command_line(budget: str, only: list[str] | None, seeds: int | None, cpu_slots: int | None = None) -> str:
    cmd = f"python -m cnnkit experiment reference --budget {budget}"
    if seeds:
        cmd += f" --seeds {seeds}"
    if cpu_slots:
        cmd += f" --cpu-slots {cpu_slots}"
    if only:
        cmd += " --only " + " ".join(only)
    return cmd


def write_readme(results_dir: Path | str | None = None, top_readme: Path | str | None = None) -> Path:
    """Regenerate ``<results>/README.md`` from the bundles in ``<results>/reference/``, and the summary
    table between the results markers of ``top_readme`` (by default the README.md next to
    ``<results>``: the project's own for results/); returns the path of ``<results>/README.md``.

    Every number comes from a bundle; a preset without a bundle is listed with the reason (its
    dataset is not installed here, or it has not been run yet). A top README without both markers
    (or none at all) is left alone.
    """
    out = Path(results_dir) if results_dir else RESULTS_DIR
    ref = out / "reference"
    reports: dict[str, ExperimentReport] = {}
    broken: dict[str, str] = {}
    for preset in catalogue():
        path = ref / f"{preset.name}.zip"
        if path.exists():
            try:
                reports[preset.name] = analyze_bundle(path)
            except Exception as exc:  # a damaged bundle is reported, not fatal for the page
                broken[preset.name] = f"{type(exc).__name__}: {exc}"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "README.md"
    _write_text(path, _readme_text(reports, broken))
    top = Path(top_readme) if top_readme else out.parent / "README.md"
    if top.is_file():
        text = top.read_text()
        link = Path(os.path.relpath(path, top.parent)).as_posix()
        updated = _replace_results_block(text, _summary_block(reports, link))
        if updated != text:
            _write_text(top, updated)
    return path


def _write_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a reader never sees half a page)."""
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _replace_results_block(text: str, block: str) -> str:
    """``text`` with what stands between RESULTS_BEGIN and RESULTS_END replaced by ``block``; ``text``
    itself when it lacks either marker or has them the wrong way round."""
    begin = text.find(RESULTS_BEGIN)
    end = text.find(RESULTS_END, begin) if begin >= 0 else -1
    if begin < 0 or end < 0:
        return text
    start = begin + len(RESULTS_BEGIN)
    return f"{text[:start]}\n{block.strip()}\n{text[end:]}"


def _summary_block(reports: dict[str, ExperimentReport], link: str) -> str:
    """The top README's table: per preset with numbers, its best level and whether the notes hold."""
    rows = []
    for preset in catalogue():
        report = reports.get(preset.name)
        if report is None or not (report.best or report.ranking):
            continue
        if report.ranking:  # no winner named: the order, and the details say where it differs from d2l's
            top, acc = "a ranking: " + ", ".join(report.ranking), "see the details"
        else:
            best = report.level(report.best)
            top, acc = best.level, format_mean_std(best.mean, best.std)
        rows.append(f"| `{preset.name}` | {_md(preset.title + _stand_in_note(report))} | {_md(top)} | {acc} "
                    f"| {report.agreement} |")
    if not rows:
        return f"No preset has reference numbers yet; see [{link}]({link})."
    budgets = [f"{b} budget, {n} seeds" for b, n in _budget_seeds(reports)]
    return "\n".join([
        "| preset | question | best level | test acc (mean ± std) | vs the notes |", "|---|---|---|---|---|", *rows, "",
        f"{len(rows)} of {len(catalogue())} presets have numbers ({'; '.join(budgets)}). Every level, the verdicts, "
        f"the presets without numbers and how to regenerate them: [{link}]({link}).",
    ])


def _readme_text(reports: dict[str, ExperimentReport], broken: dict[str, str]) -> str:
    hosts = {json.dumps(r.host, sort_keys=True): r.host for r in reports.values() if r.host}
    budgets = [f"{b}, {n} seeds" for b, n in _budget_seeds(reports)]
    dates = sorted(r.created[:10] for r in reports.values() if r.created)
    commands = sorted({r.command for r in reports.values() if r.command})
    lines = [
        "# Reference results",
        "",
        "<!-- Generated by `python -m cnnkit experiment reference`; do not edit by hand. -->",
        "",
        "What the what-if experiments of `cnnkit/experiments/` gave on this project's reference machine. "
        "Every number below is computed from the bundles in `reference/` (one zip per preset, importable with "
        "`python -m cnnkit import results/reference/NAME.zip`, or read directly with "
        "`python -m cnnkit experiment report NAME --bundle results/reference/NAME.zip`).",
        "",
        "How to read a row: the final test accuracy of each level as mean ± sample std over seeds; the verdict "
        "compares each level with the baseline by the difference of means and a 95 % Welch t "
        "interval. A level whose interval lies within the preset's stated margin is *equivalent* "
        "to the baseline; a comparison that stays open says how large the seed noise was and how many seeds it "
        "would take. A diverged run counts at chance accuracy. The budgets train briefly on a CPU, so absolute "
        "accuracies are below the notes' 10-epoch figures; what matters is the comparison. A verdict is decisive "
        "when it agrees, contradicts, or finds the levels equivalent.",
        "",
        *BUDGETS_TEXT,
        "## Regenerate",
        "",
        f"    {REFERENCE_COMMAND}",
        "",
        "(`--only NAME ...` reruns some presets and keeps the others' bundles; `--readme-only` rebuilds this page "
        "and the project README's results table from the bundles.)"
        + (" Commands recorded in the bundles: " + "; ".join(f"`{c}`" for c in commands) + "." if commands else ""),
        "",
        "## Setting",
        "",
    ]
    for host in hosts.values():
        lines.append(f"- Hardware: {host.get('cpu', '?')}, {host.get('cores', '?')} cores"
                     + (f", GPU {host['gpu']}" if host.get("gpu") else ", no GPU")
                     + f"; torch {host.get('torch', '?')}, Python {host.get('python', '?')}, {host.get('os', '?')}")
    decisive = sum(r.agreement in DECISIVE for r in reports.values())
    lines += [f"- Budget: {'; '.join(budgets) or '—'}; {decisive} of {len(reports)} verdicts decisive",
              f"- Date: {dates[0] if dates else '—'}"
              + (f" to {dates[-1]}" if dates and dates[-1] != dates[0] else ""),
              "- Wall time: from the first start to the last finish of a preset's runs; it depends on the "
              "machine's other load and on how many jobs ran at once (`--cpu-slots`), so read it as indicative."
              + _total_wall_text(reports), ""]
    lines += ["## Summary", "",
              "| preset | question | lines | levels: test acc (mean ± std) | verdict | vs the notes | wall time |",
              "|---|---|---|---|---|---|---|"]
    without = []
    for preset in catalogue():
        report = reports.get(preset.name)
        lines_ = ", ".join(map(str, preset.lines))
        if report is None:
            missing = missing_datasets(preset)
            if preset.name in broken:
                reason = f"the bundle could not be read ({broken[preset.name]})"
            elif missing:
                reason = (f"needs {', '.join(_title(d) for d in missing)}, which is not installed here and cannot be "
                          "downloaded (no internet)" + "".join(
                              f"; nor is the {_title(other)} it can run on instead (`bash scripts/setup.sh` fetches "
                              "it with npm)" for d in missing for other in stand_ins(d)))
            else:
                reason = "not run yet"
            without.append((preset, reason))
            lines.append(f"| `{preset.name}` | {preset.question} | {lines_} | — | no numbers: {reason} | — | — |")
            continue
        levels = "<br>".join(f"{_md(lv.level)}: {format_mean_std(lv.mean, lv.std)}" for lv in report.levels)
        wall = f"{report.wall_seconds / 60:.1f} min" if report.wall_seconds else "—"
        lines.append(f"| `{preset.name}` | {_md(preset.question + _stand_in_note(report))} | {lines_} | {levels} "
                     f"| {_md(report.verdict)} "
                     f"| {report.agreement} | {wall} |")
    contradict = [r for r in reports.values() if r.agreement == "contradicts"]
    lines += ["", "## Where the results contradict the notes", ""]
    lines += [f"- `{r.preset}`: " + "; ".join(f"{c['text']} — {c['detail']}" for c in r.claims
                                             if c["outcome"] == "contradicts") for r in contradict] or ["- none"]
    lines += ["", "## Presets without numbers", ""]
    lines += [f"- `{p.name}` ({p.title}): {reason}. Run it where the data is: "
              f"`python -m cnnkit experiment run {p.name} --wait`." for p, reason in without] or ["- none"]
    lines += ["", "Lines 3 and 15 of MISSION.md are views, not experiments: " + CATALOGUE_NOTE.split(": ", 1)[1], "",
              "## Details", ""]
    for preset in catalogue():
        report = reports.get(preset.name)
        if report is not None:
            lines += [report.to_markdown(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _budget_seeds(reports: dict[str, ExperimentReport]) -> list[tuple[str, int]]:
    """The (budget, seeds) pairs the bundles ran, in budget order, then by seeds."""
    return sorted({(r.budget, r.seeds) for r in reports.values()}, key=lambda bs: (ALL_BUDGETS.index(bs[0]), bs[1]))


def _total_wall_text(reports: dict[str, ExperimentReport]) -> str:
    """' In all: the presets' wall times add up to …; the runs took … from the first start to the last
    finish, pauses between sittings left out' (or '')."""
    spans = [(r.first_start, r.last_finish) for r in reports.values() if r.wall_seconds]
    if not spans:
        return ""
    presets = f"{len(spans)} presets'" if len(spans) > 1 else "preset's"
    return (f" In all: the {presets} wall times add up to {sum(end - start for start, end in spans) / 60:.0f} min; "
            f"the runs took {_union_seconds(spans) / 60:.0f} min from the first start to the last finish, pauses "
            "between sittings left out.")


def _union_seconds(spans: list[tuple[float, float]]) -> float:
    """How long at least one of the (start, end) spans was open: presets overlap when slots run two at once."""
    total, end = 0.0, float("-inf")
    for start, finish in sorted(spans):
        total += max(0.0, finish - max(start, end))
        end = max(end, finish)
    return total


def _stand_in_note(report: ExperimentReport) -> str:
    """' (run on the MNIST sample (…), not the full MNIST)' when the runs used a stand-in dataset, else ''."""
    if not any(DATASETS[d].stands_in_for for d in report.datasets if d in DATASETS):
        return ""
    return f" (run on the {data_text(report.datasets)})"


def _title(dataset: str) -> str:
    return DATASETS[dataset].title if dataset in DATASETS else dataset


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

