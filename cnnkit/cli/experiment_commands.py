"""`experiment list|run|report|reference`: the what-if presets of cnnkit/experiments/."""
from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

from cnnkit import experiments
from cnnkit.cli.common import Parser, add_command, emit_json, store_of
from cnnkit.errors import ConfigError
from cnnkit.params import Param
from cnnkit.text import format_table


def _experiment_args(args: argparse.Namespace) -> tuple[str, int | None]:
    """The budget and seeds of `experiment run` and `reference`, each checked with a one-line error."""
    budget = experiments.check_budget(args.budget, field="--budget")
    seeds = None if args.seeds is None else Param("seeds", "int", 3, low=1, high=experiments.MAX_SEEDS).parse(
        args.seeds)
    return budget, seeds


def _print_report(report: experiments.ExperimentReport, fmt: str) -> None:
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        print(report.to_markdown())


def cmd_experiment_list(args: argparse.Namespace) -> int:
    presets = experiments.catalogue()
    if args.json:
        emit_json([experiments.preset_dict(p) for p in presets])
        return 0
    rows = []
    for p in presets:
        missing = experiments.missing_datasets(p)
        rows.append((p.name, ",".join(map(str, p.lines)), p.factor, " | ".join(p.labels),
                     "needs " + ", ".join(missing) if missing else "yes"))
    print(format_table(rows, ["name", "lines", "factor", "levels", "runs here"]))
    print()
    for p in presets:
        print(f"{p.name}: {p.question}")
    print(f"\n{experiments.CATALOGUE_NOTE}")
    return 0


def cmd_experiment_run(args: argparse.Namespace) -> int:
    preset = experiments.get(args.name)
    budget, seeds = _experiment_args(args)
    store = store_of(args)
    group = experiments.launch(store, preset.name, budget, seeds, start_worker=True)
    total = experiments.group_progress(store, group)["total"]
    seed_list = experiments.seeds_text(experiments.seed_values(preset, budget, seeds))
    print(f"queued {total} runs of {preset.name} ({budget} budget, {seed_list}) in group {group} of {store.home}; "
          "its plan is written into the group", flush=True)
    if not args.wait:
        print(f"follow it with: python -m cnnkit experiment report {preset.name}"
              + (f" --store {store.home}" if args.store else ""))
        return 0
    try:
        experiments.wait(store, group, progress=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"stopped waiting; the runs go on. Later: python -m cnnkit experiment report {preset.name}",
              file=sys.stderr)
        return 130
    _print_report(experiments.analyze(store, group), args.format)
    return 0


def cmd_experiment_report(args: argparse.Namespace) -> int:
    preset = experiments.get(args.name)
    if args.bundle:
        report = experiments.analyze_bundle(args.bundle)
        if report.preset != preset.name:
            raise ConfigError("--bundle", f"{args.bundle} holds experiment {report.preset!r}, not {preset.name!r}")
    else:
        store = store_of(args)
        group = args.group or experiments.latest_group(store, preset.name)
        if group is None:
            raise ConfigError("experiment", f"no runs of {preset.name} in {store.home}; start them with "
                                            f"`python -m cnnkit experiment run {preset.name}`")
        found = store.group(group)
        if found is None or found["kind"] != experiments.GROUP_KIND:
            raise ConfigError("--group", f"no experiment group {group!r} in {store.home}")
        if found["meta"].get("preset") != preset.name:
            raise ConfigError("--group", f"{group} is experiment {found['meta'].get('preset')!r}, not {preset.name!r}")
        report = experiments.analyze(store, group)
    _print_report(report, args.format)
    return 0


def cmd_experiment_reference(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if args.readme_only:
        print(f"wrote {experiments.write_readme(out)}")
        return 0
    only = [experiments.get(name).name for name in args.only or []]
    budget, seeds = _experiment_args(args)
    slots = None if args.cpu_slots is None else Param("--cpu-slots", "int", 1, low=1, high=64).parse(args.cpu_slots)
    t0 = time.time()
    done = experiments.reference(out, budget, only or None, seeds, args.store, args.keep_store, slots,
                                 log=lambda line: print(line, flush=True), resume=args.resume)
    readme = (out or experiments.RESULTS_DIR) / "README.md"
    print(f"exported {len(done)} presets in {(time.time() - t0) / 60:.1f} min; wrote {readme}")
    return 0


BUDGET_HELP = ("quick (minutes a preset on a 2-core CPU), standard (default: sized for a decisive verdict there) "
               "or full (the notes' setting)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    text = "what-if experiments from the study notes: presets, runs, verdicts"
    exp = sub.add_parser("experiment", help=text, description=text)
    esub = exp.add_subparsers(dest="experiment_command", required=True, parser_class=Parser)

    command = partial(add_command, esub)

    p = command("list", cmd_experiment_list, "the presets: name, question, factor, levels", store=False)
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")

    p = command("run", cmd_experiment_run, "queue a preset's runs for the supervisor (started if none runs)")
    p.add_argument("name", help="a preset (see `experiment list`)")
    p.add_argument("--budget", default="standard", help=BUDGET_HELP)
    p.add_argument("--seeds", metavar="N", help="seeds per level (default: the budget's: quick 3, standard 5 or 10)")
    p.add_argument("--wait", action="store_true", help="poll until every run has finished, then print the report")
    p.add_argument("--format", choices=("md", "json"), default="md", help="report format with --wait")

    p = command("report", cmd_experiment_report, "the verdict of a preset's latest (or a given) group")
    p.add_argument("name", help="a preset (see `experiment list`)")
    p.add_argument("--group", help="an experiment group id (default: the newest of the preset)")
    p.add_argument("--bundle", metavar="FILE", help="read the runs from a bundle zip instead of the store")
    p.add_argument("--format", choices=("md", "json"), default="md",
                   help="md: a table and the verdict; json: one object on the last line")

    p = command("reference", cmd_experiment_reference,
                "run every preset feasible here into a temporary store, export results/reference/*.zip and "
                "regenerate results/README.md", store=False)
    p.add_argument("--budget", default="standard", help=BUDGET_HELP)
    p.add_argument("--seeds", metavar="N", help="seeds per level (default: the budget's: quick 3, standard 5)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these presets (the other bundles are kept)")
    p.add_argument("--out", metavar="DIR", help="results folder (default: the project's results/)")
    p.add_argument("--store", metavar="PATH", help="work store (default: a temporary one, removed afterwards)")
    p.add_argument("--keep-store", action="store_true", help="keep the temporary work store")
    p.add_argument("--resume", action="store_true",
                   help="go on with an interrupted reference run in --store: the same looks, runs not queued again")
    p.add_argument("--cpu-slots", metavar="N", help="CPU jobs at once for the work store's supervisor")
    p.add_argument("--readme-only", action="store_true",
                   help="only rebuild results/README.md and the README's results table from the bundles")

