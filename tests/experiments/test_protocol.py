"""cnnkit.experiments.protocol: a look's plan written before its runs, its hash, the pairing rule, and the
analysis judging by the recorded plan."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from support.experiments import finish_all

from cnnkit import experiments
from cnnkit.bundle import export_bundle, read_bundle
from cnnkit.config import RunConfig
from cnnkit.experiments.protocol import pairing_of, plan_hash, write_plan
from cnnkit.store import Store

RELU = {"activation": "relu"}


def test_the_plan_holds_what_the_analysis_will_use() -> None:
    plan = write_plan(experiments.get("conv-layers"), "standard", environment={})
    assert plan["seeds"] == [1000, 1001, 1002, 1003, 1004]
    assert plan["alpha"] == 0.05 and plan["holm_family"] == 4 and plan["chance_margin"] == 0.05
    by_label = {lv["label"]: lv for lv in plan["levels"]}
    assert by_label["2 conv layers (d2l, 61.7 k parameters)"]["params"] == 61_706
    assert {c["id"] for c in plan["claims"]} >= {"deeper-learns-better", "fewer-conv-limits"}
    assert all(c["metric_title"] and "paired" in c for c in plan["claims"])


def test_the_plan_hash_is_the_sha256_of_its_canonical_json() -> None:
    plan = write_plan(experiments.get("pooling"), "smoke", environment={})
    again = json.loads(json.dumps(plan))
    assert plan_hash(plan) == plan_hash(again) and len(plan_hash(plan)) == 64
    again["claims"][0]["effect"] = 0.02
    assert plan_hash(again) != plan_hash(plan)


def test_the_environment_names_the_commit_torch_and_the_datasets_digest(fmnist) -> None:
    plan = write_plan(experiments.get("pooling"), "smoke", command="python -m cnnkit experiment run pooling")
    env = plan["environment"]
    assert len(env["commit"]) == 40 and env["host"]["torch"] and env["command"].endswith("pooling")
    assert len(env["datasets"]["fashion-mnist"]) == 64


@pytest.mark.parametrize("a,b,paired", [
    (RunConfig(model_options={"pool": "avg"}), RunConfig(model_options={"pool": "max"}), True),
    (RunConfig(model_options=RELU, lr=0.1), RunConfig(model_options=RELU, lr=0.3), True),
    (RunConfig(model_options={**RELU, "dropout": 0.5}), RunConfig(model_options=RELU), True),
    (RunConfig(init="xavier"), RunConfig(init="kaiming"), False),
    (RunConfig(shuffle=True), RunConfig(shuffle=False), False),
    (RunConfig(subset=0.1), RunConfig(subset=0.5), False),
    (RunConfig(model_options={"kernel_size": 3}), RunConfig(model_options={"kernel_size": 5}), False),
])
def test_the_pairing_rule(a: RunConfig, b: RunConfig, paired: bool) -> None:
    assert pairing_of(a, b)[0] is paired


def test_launch_writes_the_plan_and_its_hash_before_any_run(store: Store, no_missing_data: None) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    meta = store.group(group)["meta"]
    assert meta["plan_hash"] == plan_hash(meta["plan"])
    assert set(meta["runs"]) == {r.id for r in store.list_runs(group=group)}
    assert meta["plan"]["seeds"] == [0, 1, 2]


def finish_every_run(store: Store, group: str) -> None:
    finish_all(store, group, {"average pooling (d2l)": [("completed", 0.70, 0.72), ("completed", 0.71, 0.73),
                                                        ("completed", 0.69, 0.71)],
                              "max pooling": [("completed", 0.73, 0.75), ("completed", 0.74, 0.76),
                                              ("completed", 0.72, 0.74)]})


def test_a_bundles_plan_hash_matches_its_plan_and_a_changed_plan_is_flagged(store: Store, tmp_path: Path,
                                                                            no_missing_data: None) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    finish_every_run(store, group)
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "pooling.zip")
    meta = next(g for g in read_bundle(path).groups if g["id"] == group)["meta"]
    assert meta["plan_hash"] == plan_hash(meta["plan"])
    report = experiments.analyze_bundle(path)
    assert report.plan_recorded and report.plan_intact and report.plan_hash == meta["plan_hash"]

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["groups"][0]["meta"]["plan"]["claims"][0]["effect"] = 0.5  # a margin moved after the runs
                data = json.dumps(manifest).encode()
            dst.writestr(item, data)
    report = experiments.analyze_bundle(tampered)
    assert not report.plan_intact and "does not match its recorded hash" in report.verdict


def test_the_analysis_judges_by_the_recorded_plan_not_todays_catalogue(store: Store, no_missing_data: None) -> None:
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    meta = store.group(group)["meta"]
    meta["plan"]["claims"] = meta["plan"]["claims"][:1]  # as if the catalogue had changed since the launch
    meta["plan_hash"] = plan_hash(meta["plan"])
    store.update_group_meta(group, meta)
    finish_every_run(store, group)
    report = experiments.analyze(store, group)
    assert [c.id for c in report.claims] == ["max-pool-more-accurate"]
