"""Finished runs with chosen results for the verdict and diff tests (Compare's "is it real" and "what changed"):
through the store's lifecycle (queued, claimed, started, finished), with saved test predictions when asked."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit.config import RunConfig
from cnnkit.store import Store
from support.runs import finished_run


def finished(store: Store, config: RunConfig, acc: float = 0.8, group: str | None = None, name: str | None = None,
             status: str = "completed", summary: dict[str, Any] | None = None, tags: tuple[str, ...] = ()) -> str:
    """A run ended as ``status``; a completed one with final test accuracy ``acc`` (and ``summary`` merged in)."""
    done = {"final": {"test_acc": acc, "test_loss": 2 * (1 - acc), "train_acc": acc, "train_loss": 2 * (1 - acc)},
            "best": {"test_acc": acc, "epoch": 1}, "train_seconds": 3.0, "images_per_sec": 1000.0}
    return finished_run(store, config, name=name, group=group, tags=tags,
                        started={"device": "cpu", "params": 61706, "macs": 416520, "total_steps": 10}, status=status,
                        summary=(done | (summary or {})) if status == "completed" else None,
                        error=None if status == "completed" else f"{status} on purpose")


def save_predictions(store: Store, run_id: str, label: np.ndarray, pred: np.ndarray,
                     index: np.ndarray | None = None) -> None:
    """The run's final test predictions as the engine saves them."""
    index = np.arange(len(label)) if index is None else index
    path = store.predictions_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"index": torch.as_tensor(index), "label": torch.as_tensor(label), "pred": torch.as_tensor(pred)},
               path)


def confusion(label: np.ndarray, pred: np.ndarray, k: int = 10) -> list[list[int]]:
    return np.bincount(label * k + pred, minlength=k * k).reshape(k, k).tolist()
