"""`compare` and `diff`: whether a difference between levels of a field is real (the verdict), and what changed
between two runs or two groups (per class, the confusion matrix, the flipped test images)."""
from __future__ import annotations

import argparse
from functools import partial

from cnnkit.cli.common import add_command, emit_json, store_of
from cnnkit.errors import ConfigError, StoreError
from cnnkit.store import Run, Store
from cnnkit.text import format_table

FLIPS_SHOWN = 10
# cnnkit.compare.verdict.VERDICT_METRICS, spelled out: importing cnnkit.compare (pandas, plotly) would cost every
# command 0.6 s (tests/cli/test_compare_commands.py keeps the two alike)
METRICS_HELP = "test_acc (default), best_test_acc, test_loss, train_eval_acc, images_per_sec, wall_seconds"


def cmd_compare(args: argparse.Namespace) -> int:
    from cnnkit.views import verdict as view

    store = store_of(args)
    runs = _runs(store, args.ids, args.group)
    built = view.build(store, store.runs_frame(runs), args.by, args.baseline or "", args.metric)
    verdict = built.verdict
    rows = verdict.rows()
    print(format_table([list(r.values()) for r in rows], list(rows[0]), "lrrllrll"))
    print()
    print(verdict.summary())
    if built.seeds.refusal and verdict.seeds_needed:
        print(f"More seeds: {built.seeds.refusal}.")
    elif built.seeds.runs:
        print(f"More seeds: {built.seeds.runs} runs would bring every level to {built.seeds.target} seeds "
              "(the Compare page's \"add seeds\" queues them).")
    if args.json:
        emit_json(verdict.to_dict() | {"runs": built.levels, "add_seeds": {
            "target": built.seeds.target, "runs": built.seeds.runs, "refusal": built.seeds.refusal}})
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from cnnkit.views import diff as view

    store = store_of(args)
    (a_name, a), (b_name, b) = view.side(store, args.a), view.side(store, args.b)
    result = view.build(store, a, b, a_name, b_name)
    print(f"B {b_name} ({len(b)} run{'s' * (len(b) > 1)}) against A {a_name} ({len(a)} run{'s' * (len(a) > 1)}): "
          f"test accuracy {100 * result.acc_a:.2f} % → {100 * result.acc_b:.2f} % ({100 * result.change:+.2f} points)")
    rows = [(c.name, c.size, _pct(c.acc_a), _pct(c.acc_b), _points(c.change),
             "" if c.low is None else f"{100 * c.low:+.1f} to {100 * c.high:+.1f}") for c in result.per_class]
    print(format_table(rows, ["class", "images", "A %", "B %", "change, points", "95 % interval"], "lrrrrl"))
    if result.to_wrong is None:
        print(f"Flips: {result.note}.")
    else:
        print(f"Flips among {result.tested_both:,} test images both sides tested: {len(result.to_wrong)} right → "
              f"wrong, {len(result.to_right)} wrong → right.")
        for title, flips in (("right → wrong", result.to_wrong), ("wrong → right", result.to_right)):
            shown = ", ".join(f"#{f.index} {result.classes[f.label]}: {result.classes[f.pred_a]}→"
                              f"{result.classes[f.pred_b]}" for f in flips[:FLIPS_SHOWN])
            if shown:
                print(f"  {title}: {shown}" + (" …" if len(flips) > FLIPS_SHOWN else ""))
    if args.json:
        emit_json(result.to_dict())
    return 0


def _runs(store: Store, ids: list[str], group: str | None) -> list[Run]:
    """The runs named by ids or by --group, every one of them found."""
    if bool(ids) == bool(group):
        raise ConfigError("runs", "give run ids or --group G (one of the two)")
    if group:
        if store.group(group) is None:
            raise StoreError(f"no group {group} in {store.home}")
        return store.list_runs(group=group)
    found = store.list_runs(ids=ids)
    missing = sorted(set(ids) - {r.id for r in found})
    if missing:
        raise StoreError(f"no run {missing[0]} in {store.home}")
    return found


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _points(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.1f}"


def add_commands(sub: argparse._SubParsersAction) -> None:
    command = partial(add_command, sub)
    p = command("compare", cmd_compare, "is the difference real? every level of a field against a baseline level "
                                        "(paired or Welch t interval, Holm over the levels, seeds to resolve it)")
    p.add_argument("ids", nargs="*", metavar="ID", help="run ids (or --group)")
    p.add_argument("--group", metavar="G", help="every run of a group")
    p.add_argument("--by", required=True, metavar="FIELD", help="the field whose values are the levels (lr, "
                                                                "model.activation, model, …)")
    p.add_argument("--baseline", metavar="V", help="the level the others are compared with (default: the first, or "
                                                   "an experiment's own baseline)")
    p.add_argument("--metric", default="test_acc", metavar="M", help=METRICS_HELP)
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")
    p = command("diff", cmd_diff, "what changed from A to B (run ids or groups): per-class accuracy, the confusion "
                                  "matrix, the test images that flipped")
    p.add_argument("a", metavar="A", help="a run id or a group id: the reference")
    p.add_argument("b", metavar="B", help="a run id or a group id")
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")
