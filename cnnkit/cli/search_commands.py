"""`search` and `search-report`: Optuna studies as run groups (cnnkit/search/); the supervisor asks the
trials and queues them."""
from __future__ import annotations

import argparse
import sys

from cnnkit import search
from cnnkit.cli.common import STORE_HELP, add_train_options, check_labels, config_from_args, emit_json, store_of
from cnnkit.data import datasets
from cnnkit.errors import ConfigError
from cnnkit.jobs.supervisor import ensure_supervisor
from cnnkit.store import Store, check_tags


def cmd_search(args: argparse.Namespace) -> int:
    from cnnkit.data import loading

    base = config_from_args(args)
    check_labels(args)
    space = search.parse_space(base.model, args.space or [])
    plan = search.SearchPlan(base, space, search.TRIALS.parse(args.trials), args.prune,
                             search.PRUNE_AFTER.parse(args.prune_after), search.PARALLEL.parse(args.parallel),
                             check_tags(args.tag))
    if not loading.is_available(base.dataset):
        raise ConfigError("--dataset", f"{datasets.get_spec(base.dataset).title} is not installed here: "
                                       f"{datasets.get_spec(base.dataset).how_to_get}")
    store = store_of(args)
    group = search.start_search(store, plan, args.name)
    ensure_supervisor(store)
    print(f"search {group}: {plan.describe()}", file=sys.stderr, flush=True)
    return _search_result(store, group, args)


def cmd_search_report(args: argparse.Namespace) -> int:
    store = store_of(args)
    search.plan_of(store, args.group)
    return _search_result(store, args.group, args)


def _search_result(store: Store, group: str, args: argparse.Namespace) -> int:
    from cnnkit.search.results import search_report, wait

    if args.wait:
        try:
            report = wait(store, group, progress=lambda line: print(line, file=sys.stderr, flush=True))
        except KeyboardInterrupt:
            print(f"stopped waiting; the search goes on. Later: python -m cnnkit search-report {group}",
                  file=sys.stderr)
            return 130
    elif args.command == "search":
        if args.json:
            emit_json({"group": group})
        else:
            print(group)
            print(f"follow it with: python -m cnnkit search-report {group} --wait", file=sys.stderr)
        return 0
    else:
        report = search_report(store, group)
    if args.json:
        emit_json(report.to_dict())
    else:
        print(report.to_text())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    text = "a hyperparameter search (Optuna TPE, optional median pruning): trials are runs of one group"
    p = sub.add_parser("search", help=text, description=text)
    p.set_defaults(func=cmd_search)
    p.add_argument("--store", metavar="PATH", help=STORE_HELP)
    add_train_options(p)
    p.add_argument("--space", action="append", metavar="KEY=SPEC", required=True,
                   help="a searched key (repeatable): lr=log:1e-3:1, momentum=0:0.9, batch_size=64,128,256")
    p.add_argument("--trials", default=str(search.TRIALS.default), metavar="N",
                   help=f"trials to run (default {search.TRIALS.default})")
    p.add_argument("--prune", action="store_true",
                   help="stop a trial whose test accuracy at an epoch is below the median of the completed trials")
    p.add_argument("--prune-after", default=str(search.PRUNE_AFTER.default), metavar="N",
                   help=f"completed trials before pruning starts (default {search.PRUNE_AFTER.default})")
    p.add_argument("--parallel", default=str(search.PARALLEL.default), metavar="N",
                   help="trials in flight at once (default 1: each trial learns from all before it)")
    p.add_argument("--wait", action="store_true", help="follow the search, then print its trials and the best one")

    text = "the trials of a search, the best one, pruned trials and wall time"
    p = sub.add_parser("search-report", help=text, description=text)
    p.set_defaults(func=cmd_search_report)
    p.add_argument("group", help="a search group id (printed by `cnnkit search`)")
    p.add_argument("--store", metavar="PATH", help=STORE_HELP)
    p.add_argument("--wait", action="store_true", help="wait until the search is done (or paused)")
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")

