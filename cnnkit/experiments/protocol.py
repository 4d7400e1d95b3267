"""A look's analysis plan, fixed before its first run and hashed: what is compared, how, and on what.

``write_plan`` builds it when a preset is launched; the launcher stores it (with its sha256) in the experiment
group's meta before any run is queued, so it travels in every bundle of the group. The analysis judges the runs
by the plan they were launched with, not by today's catalogue, and says so when a plan's hash does not match.

The plan holds: the budget and the seeds; every level's config (seed aside), its parameters, MACs and input;
every claim with its metric, smallest effect of interest and pairing; α and Holm's family size; the chance
margin; and the environment (cnnkit's commit, torch, the host, the datasets' sha256, the command).

The pairing rule (written once, applied by computation, never by result): two levels are compared seed by seed
when, for the same seed, they start from the same weights (every conv and linear layer's, drawn in order), train
on the same images (dataset, subset, pixel order) and see them in the same order (shuffling, training-set size).
Then what differs between them is the factor alone, and the paired t test removes the seed's own luck. Otherwise
the levels are independent samples and Welch's test compares them.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.experiments import metrics, stats
from cnnkit.experiments.configs import describe_budget, jsonable, level_configs, seed_values
from cnnkit.experiments.design import Preset

PROTOCOL_VERSION = 2
CHANCE_MARGIN = 0.05  # a run whose final test accuracy is below chance + this did not learn
PROJECT = Path(__file__).resolve().parents[2]


def write_plan(preset: Preset, budget: str, seeds: int | None = None, command: str | None = None,
               environment: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plan of a look at ``preset`` under ``budget``: everything the analysis will use, decided now."""
    configs = level_configs(preset, budget)
    seed_list = seed_values(preset, budget, seeds)
    built = {label: _built(config, seed_list[0]) for label, config in configs.items()}
    claims = []
    for claim in preset.claims:
        entry = asdict(claim) | {"metric_title": metrics.get(claim.metric).title}
        if claim.is_comparison:
            paired, reason = pairing(configs[claim.a], built[claim.a], configs[claim.b], built[claim.b])
            entry |= {"paired": paired, "pairing": reason}
        claims.append(entry)
    base = preset.baseline
    levels = []
    for label, config in configs.items():
        paired, reason = pairing(config, built[label], configs[base], built[base]) if label != base else (None, "")
        levels.append({"label": label, "config": {k: v for k, v in config.to_dict().items() if k != "seed"},
                       "params": built[label]["params"], "macs": built[label]["macs"], "input": built[label]["input"],
                       "dataset": config.dataset, "paired": paired, "pairing": reason})
    return jsonable({
        "version": PROTOCOL_VERSION, "preset": preset.name, "title": preset.title, "question": preset.question,
        "factor": preset.factor, "lines": list(preset.lines), "budget": budget,
        "budget_text": describe_budget(preset, budget), "budget_note": preset.budget(budget).note,
        "seeds": seed_list, "baseline": preset.baseline, "levels": levels, "claims": claims,
        "alpha": stats.ALPHA, "holm_family": sum(c.is_comparison for c in preset.claims),
        "chance_margin": CHANCE_MARGIN, "ranking": preset.ranking, "health": preset.health,
        "confounds": preset.confounds,
        "note": preset.note,
        "environment": environment if environment is not None else describe_environment(
            sorted({c.dataset for c in configs.values()}), command),
    })


def plan_hash(plan: dict[str, Any]) -> str:
    """sha256 of the plan's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def pairing(a: RunConfig, built_a: dict[str, Any], b: RunConfig, built_b: dict[str, Any]) -> tuple[bool, str]:
    """(paired?, why): the pairing rule applied to two levels' configs and the weights they draw."""
    if (a.dataset, a.subset, a.permute_pixels) != (b.dataset, b.subset, b.permute_pixels):
        return False, "independent: each seed trains them on different images"
    if a.shuffle != b.shuffle:
        return False, "independent: each seed shows them the images in a different order"
    if built_a["weights"] != built_b["weights"]:
        return False, "independent: each seed draws them different initial weights"
    return True, "paired: each seed gives both the same initial weights, images and order"


def pairing_of(a: RunConfig, b: RunConfig) -> tuple[bool, str]:
    """The pairing rule for two configs at the seed of ``a`` (the seed draws alike for every seed when it draws
    alike for one: the same layers are built in the same order)."""
    seed = a.seed
    return pairing(a, _built(a, seed), b, _built(b.replace(seed=seed), seed))


def describe_environment(datasets: list[str], command: str | None = None) -> dict[str, Any]:
    """What a look ran on: cnnkit's commit (and whether cnnkit/ had uncommitted changes), torch, the host, the
    datasets' sha256 and the command."""
    from cnnkit.data import loading

    return {"commit": _git("rev-parse", "HEAD"), "uncommitted": bool(_git("status", "--porcelain", "--", "cnnkit")),
            "host": host_info(), "command": command,
            "datasets": {name: loading.fingerprint(name) for name in datasets if loading.is_available(name)}}


def host_info() -> dict[str, Any]:
    """CPU model, cores, GPU (read without initialising CUDA), torch and Python versions: the host an
    experiment is launched on, kept in its group's meta (the reference README's setting reads it back)."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            model = [ln for ln in info.read_text().splitlines() if ln.startswith("Model:")]
        except OSError:
            continue
        gpu = model[0].split(":", 1)[1].strip() if model else "NVIDIA GPU"
        break
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _built(config: RunConfig, seed: int) -> dict[str, Any]:
    """A level's model as ``seed`` builds it on the CPU: its parameters, MACs and input, and a digest of the
    weights that seed draws (every conv and linear layer, in order) for the pairing rule. Remembered per config."""
    key = config.replace(seed=seed, device="cpu").to_json()
    if key not in _BUILT:
        _BUILT[key] = _build(config.replace(seed=seed, device="cpu"))
    return _BUILT[key]


_BUILT: dict[str, dict[str, Any]] = {}


def _build(config: RunConfig) -> dict[str, Any]:
    from torch import nn

    from cnnkit.plan import plan_run

    plan = plan_run(config)
    model, anatomy = plan.build_model()
    digest = hashlib.sha256()
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
            digest.update(str(tuple(module.weight.shape)).encode())
            digest.update(module.weight.detach().contiguous().numpy().tobytes())
    return {"params": anatomy.total_params, "macs": anatomy.macs, "input": list(plan.input_shape),
            "weights": digest.hexdigest()}
