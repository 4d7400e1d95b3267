"""The reference results shipped in results/: running every preset as one look each, the bundles, the ledger of
looks, and the pages (results/README.md and the project README's results block)."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cnnkit.bundle import export_bundle
from cnnkit.errors import ConfigError
from cnnkit.experiments import looks
from cnnkit.experiments.configs import catalogue, check_budget, check_seeds, get, missing_datasets, seed_values
from cnnkit.experiments.protocol import PROJECT
from cnnkit.experiments.queue import group_progress, latest_group, launch
from cnnkit.experiments.readme import readme_text, summary_block
from cnnkit.experiments.report import ExperimentReport, analyze_bundle
from cnnkit.jobs.process import supervisor_running
from cnnkit.store import Store

RESULTS_DIR = PROJECT / "results"
REFERENCE_COMMAND = "python -m cnnkit experiment reference --budget standard --cpu-slots 2"
RESULTS_BEGIN, RESULTS_END = "<!-- results:begin -->", "<!-- results:end -->"  # write_readme fills the block between


def reference(out_dir: Path | str | None = None, budget: str = "quick", only: list[str] | None = None,
              seeds: int | None = None, store_path: Path | str | None = None, keep_store: bool = False,
              cpu_slots: int | None = None, log: Callable[[str], None] = print, poll: float = 2.0,
              command: str | None = None, resume: bool = False) -> list[str]:
    """Run every preset whose datasets are here through the job system as one new look each, export each
    finished one to ``<out>/reference/<name>.zip`` (the look it replaces moves to ``<out>/looks/``), record it
    in ``<out>/looks.json`` and regenerate ``<out>/README.md``; returns the exported names.

    The runs go to a temporary store (removed afterwards unless ``keep_store``) served by its own supervisor,
    which is stopped at the end. Each preset is exported as soon as its runs finish, so an interrupted reference
    run keeps what it finished; with ``resume`` (and ``store_path``, the interrupted run's store) it goes on with
    the same looks: a preset whose group is already there is followed rather than launched again (its runs left
    running are continued by the supervisor), and one whose group is already in the ledger is not shipped twice.
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
    if resume and not store_path:
        raise ConfigError("--resume", "needs --store, the work store of the interrupted reference run")
    home = Path(store_path) if store_path else Path(tempfile.mkdtemp(prefix="cnnkit-reference-"))
    store = Store(home)
    command = command or _command_line(budget, only, seeds, cpu_slots)
    groups = {}
    shipped = {look["group"] for look in looks.load(out) if look.get("bundle")}
    for preset in runnable:
        group = _interrupted_group(store, preset.name, budget, seeds) if resume else None
        if group in shipped:
            log(f"{preset.name}: its look {group} is already shipped")
            continue
        groups[preset.name] = group or launch(store, preset.name, budget, seeds, start_worker=False, command=command)
        # counted from its launch on, whatever happens to it later
        looks.record(out, looks.entry_at_launch(groups[preset.name], store.group(groups[preset.name])["meta"]))
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
                report = _ship(store, group, name, out)
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


def _interrupted_group(store: Store, name: str, budget: str, seeds: int | None) -> str | None:
    """The group of preset ``name`` an interrupted reference run left in ``store``, when its plan has the budget
    and the seeds this one would use; None otherwise."""
    group = latest_group(store, name)
    if group is None:
        return None
    plan = (store.group(group) or {}).get("meta", {}).get("plan", {})
    wanted = seed_values(get(name), budget, seeds)
    return group if plan.get("budget") == budget and plan.get("seeds") == wanted else None


def _ship(store: Store, group: str, name: str, out: Path) -> ExperimentReport:
    """A finished look: the bundle it replaces archived, its own exported, its entry in the ledger."""
    ids = [r.id for r in store.list_runs(group=group)]
    looks.archive_current(out, name)
    path = export_bundle(store, ids, out / "reference" / f"{name}.zip")
    for run_id in ids:  # checkpoints are not part of a bundle; AlexNet's weigh hundreds of MB
        shutil.rmtree(store.run_dir(run_id), ignore_errors=True)
    report = analyze_bundle(path)
    looks.record(out, looks.entry_of(report, f"reference/{name}.zip"))
    return report


def write_readme(results_dir: Path | str | None = None, top_readme: Path | str | None = None) -> Path:
    """Regenerate ``<results>/README.md`` from the bundles in ``<results>/reference/`` and the ledger, and the
    results block between the markers of ``top_readme`` (by default the README.md next to ``<results>``);
    returns the path of ``<results>/README.md``. Every number comes from a bundle or the ledger."""
    out = Path(results_dir) if results_dir else RESULTS_DIR
    reports: dict[str, ExperimentReport] = {}
    broken: dict[str, str] = {}
    for preset in catalogue():
        path = out / "reference" / f"{preset.name}.zip"
        if path.exists():
            try:
                reports[preset.name] = analyze_bundle(path)
            except Exception as exc:  # a damaged bundle is reported, not fatal for the page
                broken[preset.name] = f"{type(exc).__name__}: {exc}"
    out.mkdir(parents=True, exist_ok=True)
    looks.fill_spans(out, reports)
    path = out / "README.md"
    looks.write_whole(path, readme_text(reports, broken, looks.load(out), REFERENCE_COMMAND))
    top = Path(top_readme) if top_readme else out.parent / "README.md"
    if top.is_file():
        text = top.read_text()
        link = Path(os.path.relpath(path, top.parent)).as_posix()
        updated = _replace_results_block(text, summary_block(reports, link))
        if updated != text:
            looks.write_whole(top, updated)
    return path


def _replace_results_block(text: str, block: str) -> str:
    """``text`` with what stands between RESULTS_BEGIN and RESULTS_END replaced by ``block``; ``text`` itself
    when it lacks either marker or has them the wrong way round."""
    begin = text.find(RESULTS_BEGIN)
    end = text.find(RESULTS_END, begin) if begin >= 0 else -1
    if begin < 0 or end < 0:
        return text
    start = begin + len(RESULTS_BEGIN)
    return f"{text[:start]}\n{block.strip()}\n{text[end:]}"


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
