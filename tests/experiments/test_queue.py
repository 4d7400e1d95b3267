"""cnnkit.experiments.queue: an experiment's runs queued in one group, and refused without its data."""
from __future__ import annotations

import os

import pytest

from cnnkit import experiments as E
from cnnkit.data import loading
from cnnkit.errors import DataError
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store


def test_launch_makes_an_experiment_group_with_every_run_queued(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "smoke", seeds=2, start_worker=False)
    info = store.group(group)
    assert info["kind"] == "experiment"
    meta = info["meta"]
    avg = "average pooling (d2l)"
    assert (meta["preset"], meta["budget"], meta["plan"]["seeds"]) == ("pooling", "smoke", [0, 1])
    assert meta["levels"] == [avg, "max pooling"] and meta["plan"]["baseline"] == avg
    runs = store.list_runs(group=group)
    assert len(runs) == 4 and all(r.status == "queued" for r in runs)
    assert sorted(meta["runs"]) == sorted(r.id for r in runs)
    assert sorted(meta["runs"].values()) == [avg] * 2 + ["max pooling"] * 2
    for run in runs:
        assert run.name == f"pooling · {meta['runs'][run.id]} · seed {run.config['seed']}"
        assert run.config["model_options"]["pool"] == ("avg" if meta["runs"][run.id] == avg else "max")
    host = meta["plan"]["environment"]["host"]
    assert host["cores"] == os.cpu_count() and host["torch"]
    assert E.latest_group(store, "pooling") == group and E.latest_group(store, "shuffle") is None
    assert supervisor_pid(store.home) is None  # start_worker=False started nothing

    report = E.analyze(store, group)
    assert not report.finished and report.verdict.startswith("Preliminary (4 runs not finished yet)")
    assert {(c.outcome, c.detail) for c in report.claims} == {("open", "waiting for its runs to finish")}
    assert [lv.n_active for lv in report.levels] == [2, 2]


def test_launch_refuses_a_missing_dataset_when_offline(store: Store, monkeypatch):
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name not in ("mnist", "mnist-10k"))
    with pytest.raises(DataError, match="MNIST") as info:
        E.launch(store, "cnn-vs-mlp-mnist", start_worker=False)
    assert "MNIST sample" in str(info.value) and "bash scripts/setup.sh" in str(info.value)  # the offline way
    assert store.list_runs() == []


def test_an_mnist_preset_launches_on_the_sample_when_full_mnist_is_missing(store: Store, monkeypatch):
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name != "mnist")
    group = E.launch(store, "cnn-vs-mlp-mnist", seeds=1, start_worker=False)
    assert {run.config["dataset"] for run in store.list_runs(group=group)} == {"mnist-10k"}
