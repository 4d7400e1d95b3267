"""Fixtures for the dashboard tests: a temp store the app points at, and a store with runs in every state.

The app finds its store through CNNKIT_HOME; CNNKIT_NO_SUPERVISOR keeps it from starting a real
supervisor, and CNNKIT_DEBUG makes unexpected errors raise (so AppTest records them as exceptions).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from support.apptest import dashboard_env
from support.runs import finished_run, running_run, trained_run

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.store import Store


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return dashboard_env(tmp_path / "store", monkeypatch)


WORKER = "test:0/cpu0"  # a supervisor's slot, as the Runs page shows it


def lab_run(store: Store, config: RunConfig, name: str, group: str | None = None, final_acc: float = 0.8,
            status: str = "completed", error: str | None = None, epochs: int = 3) -> str:
    """A finished run with ``epochs`` epochs of curves (5 train reports each), timings and model figures."""
    t0 = time.time() - 60
    points, step = [], 0
    for e in range(epochs):
        for r in range(5):
            step += 2
            pos = e + (r + 1) / 5
            loss = 2.3 / (1 + pos) + 0.01 * (hash(name) % 7)
            points += [MetricPoint(step, pos, "train", "loss", loss, t0 + step),
                       MetricPoint(step, pos, "train", "acc", 1 - loss / 2.5, t0 + step)]
        acc = final_acc * (e + 1) / epochs
        points += [MetricPoint(step, e + 1.0, "test", "loss", 2.3 * (1 - acc), t0 + step),
                   MetricPoint(step, e + 1.0, "test", "acc", acc, t0 + step),
                   MetricPoint(step, e + 1.0, "train", "lr", config.lr, t0 + step),
                   MetricPoint(step, e + 1.0, "train", "epoch_seconds", 1.5, t0 + step),
                   MetricPoint(step, e + 1.0, "train", "images_per_sec", 800.0, t0 + step)]
    summary = {"params": 61706, "macs": 416520, "final": {"test_acc": final_acc}, "epochs_done": epochs,
               "best": {"test_acc": final_acc, "epoch": epochs}, "train_seconds": 1.5 * epochs,
               "images_per_sec": 800.0}
    return finished_run(store, config, name=name, group=group, worker=WORKER, process=True,
                        started={"device": "cpu · 1 threads", "params": 61706, "macs": 416520,
                                 "total_steps": epochs * 10, "start_step": 0, "train_size": 1200, "test_size": 500},
                        points=points, status=status, summary=summary if status == "completed" else None,
                        error=error)


@pytest.fixture(scope="session")
def lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: 1 real completed LeNet run (if Fashion-MNIST is installed), a 2×2 lr×seed sweep group,
    a failed run with a log, a diverged run, a running run with points, a queued run."""
    from cnnkit.data import loading

    home = tmp_path_factory.mktemp("lab") / "store"
    store = Store(home)
    if loading.is_available("fashion-mnist"):
        trained_run(store, RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1,
                                     epochs=1, subset=0.02, test_subset=0.05, batch_size=64, device="cpu"),
                    "real lenet")
    group = store.create_group("sweep", "lr sweep", {"axes": {"lr": "0.1,0.9", "seed": "2 seeds"}})
    for lr in (0.1, 0.9):
        for seed in (0, 1):
            lab_run(store, RunConfig(model="lenet", lr=lr, seed=seed, epochs=3), f"lenet lr={lr} seed={seed}", group,
                    final_acc=0.7 + lr / 10 + seed / 100)
    failed = lab_run(store, RunConfig(model="mlp", epochs=3), "broken mlp", status="failed",
                     error="Traceback (most recent call last):\nValueError: boom")
    store.log_path(failed).parent.mkdir(parents=True, exist_ok=True)
    store.log_path(failed).write_text("starting\nValueError: boom\n")
    lab_run(store, RunConfig(model="lenet", lr=5.0, epochs=3), "too hot", status="diverged",
            error="loss became non-finite at step 7")
    running_run(store, RunConfig(model="alexnet", input_size=64, epochs=2), name="alexnet running", worker=WORKER,
                process=True, started={"device": "cpu · 1 threads", "params": 1, "macs": 1, "total_steps": 40,
                                       "start_step": 0},
                first_step=True, points=[MetricPoint(4, 0.2, "train", "loss", 2.2, time.time()),
                                         MetricPoint(4, 0.2, "train", "acc", 0.2, time.time())])
    store.create_run(RunConfig(model="vgg11", model_options={"width_ratio": 4}, input_size=32), name="vgg waiting")
    if hasattr(store, "close"):
        store.close()  # checkpoint the WAL so that the copies below are complete
    return home


@pytest.fixture
def lab(lab_template: Path, app_env: Path) -> Store:
    """A private copy of the lab store, which the app under test points at."""
    shutil.copytree(lab_template, app_env)
    return Store(app_env)
