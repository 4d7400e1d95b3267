"""bench.ray: the Ray path next to the local executor, and a run's way back from a lost node (short mode here; no
timing is asserted beyond its order)."""
from __future__ import annotations

import sys

import pytest
from support import requires_fmnist
from support.cli import cnnkit, last_json

from cnnkit.bench import ray as ray_section
from cnnkit.bench import suite

SECTION = {
    "overhead": {"run": {"subset": 0.1, "epochs": 1}, "repeats": 3, "threads_per_job": 1,
                 "local": {"cold": {"total_s": 1.44}, "first_step_s": 0.39, "total_s": 1.43, "train_s": 1.07,
                           "besides_training_s": 0.36},
                 "ray": {"cold": {"total_s": 6.65}, "first_step_s": 0.25, "total_s": 1.72, "train_s": 1.10,
                         "besides_training_s": 0.62},
                 "ratio": {"total_s": 1.2, "train_s": 1.03}},
    "node_loss": {"lost_node": "b", "resumed_on": "a", "checkpoint_step": 24, "step_at_loss": 34, "seen_s": 0.41,
                  "training_again_s": 5.3, "status": "completed", "final_test_acc": 0.712,
                  "same_as_uninterrupted": True,
                  "supervisor_log": ["[supervisor] 04:10:01 its Ray task was lost on node 1f0c (NodeDiedError); "
                                     "queued to continue from its last checkpoint (automatic try 1 of 3)"]},
}


def test_the_section_gives_the_ratio_and_the_way_back_from_a_lost_node() -> None:
    lines = ray_section.format_section(SECTION)
    assert lines[0].startswith("ray executor vs local (LeNet on 10 % of Fashion-MNIST, 1 epoch, one thread per job")
    assert lines[1].splitlines()[-1].split() == ["ray", "6.65", "0.25", "1.72", "1.1", "0.62"]
    assert "ray / local: 1.20× queue to end, 1.03× training" in lines
    assert lines[-1] == "  " + SECTION["node_loss"]["supervisor_log"][0]
    assert lines[-2] == ("node loss: node b killed at step 34 (checkpoint at step 24); the supervisor saw it 0.4 s "
                         "later and the run trained again on node a 5.3 s after the loss; it ended completed, final "
                         "test acc 0.712, the same as without the loss")
    report = {"machine": {"cpu": "cpu", "cores": 2, "torch": "2", "gpu": None}, "device": "cpu", "date": "2026-12-06",
              "short": True, "ray": SECTION}
    assert "ray" in suite.SECTIONS and suite.format_report(report).endswith("\n".join(lines))


def test_without_ray_the_section_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    section = ray_section.run(short=True, log=lambda _: None)
    assert ray_section.format_section(section) == [
        "ray: skipped (Ray is not installed (pip install -r requirements-ray.txt))"]


@requires_fmnist
@pytest.mark.slow
def test_a_short_bench_measures_both(python: str, cli_env: dict[str, str]) -> None:
    pytest.importorskip("ray")
    proc = cnnkit(python, cli_env, "bench", "--short", "--sections", "ray", "--json", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    section = last_json(proc.stdout)["ray"]
    over, loss = section["overhead"], section["node_loss"]
    for name in ("local", "ray"):
        assert 0 < over[name]["first_step_s"] < over[name]["total_s"] and over[name]["train_s"] > 0
        assert 0 < over[name]["besides_training_s"] < over[name]["total_s"]  # a median of its own
    assert over["ratio"]["total_s"] == pytest.approx(over["ray"]["total_s"] / over["local"]["total_s"])
    assert {loss["lost_node"], loss["resumed_on"]} == {"a", "b"} and loss["status"] == "completed"
    assert 0 <= loss["checkpoint_step"] <= loss["step_at_loss"]
    assert 0 < loss["seen_s"] < loss["training_again_s"]
    assert loss["same_as_uninterrupted"], loss
    assert any("queued to continue from its last checkpoint (automatic try 1" in line
               for line in loss["supervisor_log"])
    assert "ray / local" in proc.stdout and "node loss: node" in proc.stdout
