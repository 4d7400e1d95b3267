"""Fixtures for the dashboard tests: a temp store the app points at, and a store with runs in every state.

The app finds its store through CNNKIT_HOME; CNNKIT_NO_SUPERVISOR keeps it from starting a real
supervisor, and CNNKIT_DEBUG makes unexpected errors raise (so AppTest records them as exceptions).
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from ui_helpers import fake_finished, point, train_real

from cnnkit.config import RunConfig
from cnnkit.store import Store


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "store"
    monkeypatch.setenv("CNNKIT_HOME", str(home))
    monkeypatch.setenv("CNNKIT_NO_SUPERVISOR", "1")
    monkeypatch.setenv("CNNKIT_DEBUG", "1")
    return home


@pytest.fixture(scope="session")
def lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: 1 real completed LeNet run (if Fashion-MNIST is installed), a 2×2 lr×seed sweep group,
    a failed run with a log, a diverged run, a running run with points, a queued run."""
    from cnnkit.data import loading

    home = tmp_path_factory.mktemp("lab") / "store"
    store = Store(home)
    if loading.is_available("fashion-mnist"):
        train_real(store, RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1,
                                    epochs=1, subset=0.02, test_subset=0.05, batch_size=64, device="cpu"),
                   "real lenet")
    group = store.create_group("sweep", "lr sweep", {"axes": {"lr": "0.1,0.9", "seed": "2 seeds"}})
    for lr in (0.1, 0.9):
        for seed in (0, 1):
            fake_finished(store, RunConfig(model="lenet", lr=lr, seed=seed, epochs=3), f"lenet lr={lr} seed={seed}",
                          group, final_acc=0.7 + lr / 10 + seed / 100)
    failed = fake_finished(store, RunConfig(model="mlp", epochs=3), "broken mlp", status="failed",
                           error="Traceback (most recent call last):\nValueError: boom")
    store.log_path(failed).parent.mkdir(parents=True, exist_ok=True)
    store.log_path(failed).write_text("starting\nValueError: boom\n")
    fake_finished(store, RunConfig(model="lenet", lr=5.0, epochs=3), "too hot", status="diverged",
                  error="loss became non-finite at step 7")
    running = store.create_run(RunConfig(model="alexnet", input_size=64, epochs=2), name="alexnet running")
    store.claim("test:0/cpu0")
    store.set_process(running, os.getpid(), None)
    store.mark_started(running, {"device": "cpu · 1 threads", "params": 1, "macs": 1, "total_steps": 40,
                                 "start_step": 0})
    store.mark_first_step(running)
    store.log_metrics(running, [point(4, 0.2, "train", "loss", 2.2, time.time()),
                                point(4, 0.2, "train", "acc", 0.2, time.time())])
    store.create_run(RunConfig(model="vgg11", model_options={"width_ratio": 4}, input_size=32), name="vgg waiting")
    if hasattr(store, "close"):
        store.close()  # checkpoint the WAL so that the copies below are complete
    return home


@pytest.fixture
def lab(lab_template: Path, app_env: Path) -> Store:
    """A private copy of the lab store, which the app under test points at."""
    shutil.copytree(lab_template, app_env)
    return Store(app_env)
