"""Finished runs as TensorBoard event files, written with torch's SummaryWriter.

One folder per run, ``DIR/<name>-<id>/``: every curve as scalars on the run's own steps and wall
times ("train/loss", "test/acc", "lr", …), the flattened config as hparams with the final metrics
(TensorBoard's HParams tab), the confusion matrix of the final model as a figure and the run's
record as text. Exporting a run again replaces its event files, so nothing is counted twice.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnkit.bridges import metric_key
from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.store import Run, Store
from cnnkit.store.queries import flat_config

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from torch.utils.tensorboard import SummaryWriter

FLAG = "--tensorboard"
EVENT_FILES = "events.out.tfevents.*"
HPARAM_METRICS = {"final_test_acc": ("final", "test_acc"), "final_train_loss": ("final", "train_loss"),
                  "final_train_eval_acc": ("final", "train_eval_acc"),
                  "best_test_acc": ("best", "test_acc")}
FOLDER_NAME_CHARS = 60


def export_tensorboard(store: Store, runs: list[Run], folder: Path | str) -> list[Path]:
    """Write ``runs`` under ``folder``; returns each run's log folder. ConfigError naming ``--tensorboard``
    when the folder cannot be written."""
    from torch.utils.tensorboard import SummaryWriter

    root = Path(folder).expanduser()
    metrics = store.metrics([r.id for r in runs])
    written = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        for run in runs:
            logdir = root / run_folder(run)
            logdir.mkdir(exist_ok=True)
            for old in logdir.glob(EVENT_FILES):  # a re-export replaces what an earlier one wrote
                old.unlink()
            with SummaryWriter(log_dir=str(logdir)) as writer:
                write_scalars(writer, metrics[metrics["run_id"] == run.id])
                writer.add_text("run", run_text(run), global_step=run.step)
                confusion = run.summary.get("confusion")
                if confusion:
                    writer.add_figure("confusion_matrix", confusion_figure(confusion, run.dataset), run.step)
                # run_name "." keeps the hparams in the run's own folder (TensorBoard's default is a subfolder)
                writer.add_hparams(hparams(run), hparam_metrics(run), run_name=".", global_step=run.step)
            written.append(logdir)
    except OSError as exc:
        raise ConfigError(FLAG, f"cannot write to {root}: {exc.strerror or exc}") from None
    return written


def run_folder(run: Run) -> str:
    """"lenet_lr=0.1_seed=0-1a2b3c4d": readable in TensorBoard's run list, unique by the id."""
    name = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", run.name).strip("_.")[:FOLDER_NAME_CHARS]
    return f"{name}-{run.id}" if name else run.id


def write_scalars(writer: SummaryWriter, points: pd.DataFrame) -> None:
    for split, name, step, value, wall in points[["split", "name", "step", "value", "wall"]].itertuples(index=False):
        writer.add_scalar(metric_key(split, name, "/"), value, global_step=int(step), walltime=float(wall))


def hparams(run: Run) -> dict[str, Any]:
    """The flattened config (model options as ``model.<key>``) plus group and status; None left out."""
    values = flat_config(run.config) | {"group": run.group or "", "status": str(run.status)}
    return {k: v for k, v in values.items() if v is not None}


def hparam_metrics(run: Run) -> dict[str, float]:
    """"hparams/final_test_acc", … : the finite ones this run has."""
    out = {}
    for key, (part, metric) in HPARAM_METRICS.items():
        value = (run.summary.get(part) or {}).get(metric)
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[f"hparams/{key}"] = float(value)
    return out


def run_text(run: Run) -> str:
    """The run's record as a Markdown table (TensorBoard's Text tab)."""
    error = run.error.strip().splitlines()[-1] if run.error else None
    rows = {"id": run.id, "name": run.name, "status": run.status, "group": run.group, "model": run.model,
            "dataset": run.dataset, "device": run.device, "error": error}
    lines = ["| field | value |", "|---|---|"]
    lines += [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows.items() if v]
    return "\n".join(lines)


def confusion_figure(confusion: list[list[int]], dataset: str) -> Figure:
    """Counts of the final model's test predictions: rows the true class, columns the predicted one."""
    import numpy as np
    from matplotlib.figure import Figure

    counts = np.asarray(confusion)
    spec = DATASETS.get(dataset)
    classes = list(spec.classes) if spec and len(spec.classes) == len(counts) else [str(i) for i in range(len(counts))]
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix, final model, test set")
    if len(counts) <= 20:
        high = counts.max() / 2
        for (i, j), n in np.ndenumerate(counts):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7, color="white" if n > high else "black")
    return fig
