"""What changed between two runs or two groups, for the Compare page and ``cnnkit diff``: the two sides resolved
(run ids, store groups, or a comparison's levels), each run's answers read (its saved test predictions, else the
confusion matrix of its summary), the pairing of the sides, and the flipped test images fetched from the dataset."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cnnkit.compare.diff import Diff, Flip, Outcome, diff, from_confusion, from_predictions
from cnnkit.compare.grouping import group_order
from cnnkit.data.datasets import get_spec
from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import Status
from cnnkit.store import Run, Store, is_run_id
from cnnkit.views.verdict import pairing_between

DIFFABLE = (Status.COMPLETED, Status.CANCELLED, Status.DIVERGED)  # ended with a model that was tested


def side(store: Store, token: str) -> tuple[str, list[Run]]:
    """A side named on the command line: a run id, or a group id (its finished runs)."""
    if is_run_id(token):
        return token, [store.get(token)]
    if store.group(token) is None:
        raise StoreError(f"no run or group {token!r} in {store.home}")
    runs = [r for r in store.list_runs(group=token) if r.status in DIFFABLE]
    if not runs:
        raise StoreError(f"group {token} has no finished run to compare")
    return token, runs


def build(store: Store, a: list[Run], b: list[Run], a_name: str = "A", b_name: str = "B") -> Diff:
    """B against A (see ``cnnkit.compare.diff``)."""
    datasets = sorted({r.dataset for r in a + b})
    if len(datasets) > 1:
        raise ConfigError("diff", f"the runs test on {' and '.join(datasets)}; a class-by-class diff needs one "
                                  "dataset")
    spec = get_spec(datasets[0])
    paired, why = pairing_between(a, b) if len(a) > 1 or len(b) > 1 else (False, "")
    return diff([outcome(store, r, spec.num_classes) for r in a], [outcome(store, r, spec.num_classes) for r in b],
                list(spec.classes), a_name, b_name, paired, why)


def outcome(store: Store, run: Run, num_classes: int) -> Outcome:
    """The run's saved test predictions, else its summary's confusion matrix."""
    seed = run.config.get("seed")
    if store.predictions_path(run.id).exists():
        from cnnkit.insight.activations import predictions

        preds = predictions(store, run.id)
        return from_predictions(run.id, seed, preds["index"].numpy(), preds["label"].numpy(), preds["pred"].numpy(),
                                num_classes)
    if run.summary.get("confusion"):
        return from_confusion(run.id, seed, run.summary["confusion"])
    raise StoreError(f"run {run.id} ({run.status}) has neither saved test predictions nor a confusion matrix: only "
                     "runs that finished their training can be compared class by class")


def options(frame: pd.DataFrame, groups: pd.Series) -> dict[str, str]:
    """The sides the Compare page offers, key → label: the levels of its grouping, then its finished runs."""
    finished = frame[frame["status"].isin(DIFFABLE)]
    counts = groups[groups.index.isin(finished["id"])].value_counts()
    levels = {f"level:{label}": f"{label} · {counts.get(label, 0)} finished runs"
              for label in group_order(groups) if label}
    runs = {f"run:{rid}": f"{name} · {rid}" for rid, name in zip(finished["id"], finished["name"])}
    return levels | runs


def resolve(store: Store, key: str, groups: pd.Series) -> tuple[str, list[Run]]:
    """A side chosen on the Compare page ("level:lr=0.1", "run:<id>"): its name and its finished runs."""
    kind, _, value = key.partition(":")
    if kind == "run":
        return value, [store.get(value)]
    ids = [rid for rid, label in groups.items() if label == value]
    runs = [r for r in store.list_runs(ids=ids) if r.status in DIFFABLE]
    if not runs:
        raise StoreError(f"{value} has no finished run to compare")
    return value, runs


def flip_grid(test_x: np.ndarray, flips: list[Flip], classes: list[str], limit: int = 48
              ) -> tuple[np.ndarray, list[str]]:
    """The first ``limit`` flipped test images of ``test_x`` (the dataset's test images, N × C × H × W uint8) with
    "Coat→Shirt" titles: A's answer, then B's. One of them is the true class: A's where the image went right →
    wrong, B's where it went wrong → right (the side that got it right answers with the true class)."""
    shown = flips[:limit]
    return np.asarray(test_x[[f.index for f in shown]]), [f"{classes[f.pred_a]}→{classes[f.pred_b]}" for f in shown]
