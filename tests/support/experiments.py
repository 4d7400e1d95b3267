"""Finishing an experiment's runs by hand, for the experiment and CLI tests."""
from __future__ import annotations

from cnnkit.store import Store
from support.runs import finished_run, queued_runs


def finish_all(store: Store, group: str, outcomes: dict[str, list[tuple]]) -> None:
    """End every queued run of the store, oldest first, as ``outcomes[level]`` says, in order:
    (status, test_acc, train_acc) for completed runs, (status, error) for the others. ``train_acc`` is the train
    accuracy evaluated like the test accuracy; d2l's running one is recorded 3 points below it."""
    levels = store.group(group)["meta"]["runs"]
    todo = {label: list(items) for label, items in outcomes.items()}
    for run in queued_runs(store):
        status, *rest = todo[levels[run.id]].pop(0)
        if status == "completed":
            test, train = rest
            summary = {"final": {"test_acc": test, "train_eval_acc": train, "train_acc": train - 0.03,
                                 "test_loss": 2 * (1 - test), "train_loss": 2 * (1 - train)},
                       "train_seconds": 3.0, "images_per_sec": 1000.0,
                       "params": 61706, "macs": 416520}
            finished_run(store, queued=run.id, summary=summary)
        else:
            finished_run(store, queued=run.id, status=status, error=rest[0] if rest else None)
    assert all(not items for items in todo.values()), "every outcome was used"
