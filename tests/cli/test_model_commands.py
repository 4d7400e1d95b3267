"""The commands of cnnkit/cli/model_commands.py (models, summary, explain), run as real subprocesses: the
contract other tools rely on, and every user error one line that names the field."""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest
from PIL import Image
from support import requires_fmnist
from support.cli import cnnkit, last_json, one_line_error

from cnnkit.config import RunConfig
from cnnkit.models import names
from cnnkit.store import Store

# ---- models ------------------------------------------------------------------------------------

def test_models_lists_every_architecture(python, cli_env):
    proc = cnnkit(python, cli_env, "models")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "input", "description"]
    listed = [line.split()[0] for line in lines[2:]]
    assert listed == names()
    assert any(line.startswith("alexnet") and " 224 " in line for line in lines)


def test_models_json(python, cli_env):
    proc = cnnkit(python, cli_env, "models", "--json")
    assert proc.returncode == 0, proc.stderr
    models = last_json(proc.stdout)
    assert [m["name"] for m in models] == names()
    by_name = {m["name"]: m for m in models}
    assert by_name["lenet"]["native_input"] == 28 and by_name["resnet18"]["native_input"] == 96
    assert by_name["lenet"]["knobs"]["activation"] == "sigmoid"
    assert by_name["lenet"]["recipe"] == {"lr": 0.9, "batch_size": 256, "init": "xavier", "epochs": 10}
    assert by_name["course-cnn"]["in_channels"] == 3 and by_name["lenet"]["in_channels"] is None
    assert all(m["description"] and m["paper"] for m in models)


# ---- summary -----------------------------------------------------------------------------------

def test_summary_json(python, cli_env):
    proc = cnnkit(python, cli_env, "summary", "lenet", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = last_json(proc.stdout)
    assert {"model", "input", "total_params", "trainable_params", "macs", "layers"} <= set(doc)
    assert doc["model"] == "lenet" and doc["input"] == [1, 28, 28]
    assert doc["total_params"] == doc["trainable_params"] == 61_706 and doc["macs"] == 416_520
    assert len(doc["layers"]) == 12
    for layer in doc["layers"]:
        assert {"name", "type", "output_shape", "params", "macs"} <= set(layer)
    assert doc["layers"][0] == {**doc["layers"][0], "name": "0", "type": "Conv2d", "output_shape": [6, 28, 28],
                                "params": 156, "macs": 117_600}
    assert sum(layer["params"] for layer in doc["layers"]) == 61_706


def test_summary_json_with_options_and_input(python, cli_env):
    proc = cnnkit(python, cli_env, "summary", "alexnet", "--input-size", "227", "--set", "original_stem=true",
                  "--in-channels", "3", "--num-classes", "1000", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = last_json(proc.stdout)
    assert doc["input"] == [3, 227, 227]
    assert doc["layers"][0]["output_shape"] == [96, 55, 55]
    assert doc["layers"][-1]["output_shape"] == [1000]


def test_summary_csv(python, cli_env):
    proc = cnnkit(python, cli_env, "summary", "lenet", "--format", "csv", "--set", "pool=max")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == ["name", "type", "kind", "output_shape", "params", "param_share", "macs", "rf_size",
                             "rf_jump", "rf_start", "batch_size", "fp32_bytes", "bf16_bytes"]
    assert len(rows) == 12
    assert rows[2]["type"] == "MaxPool2d" and rows[2]["output_shape"] == "6x14x14"
    assert sum(int(r["params"]) for r in rows) == 61_706
    assert sum(float(r["param_share"]) for r in rows) == pytest.approx(1, abs=1e-4)
    assert {r["kind"] for r in rows} == {"conv", "fc", "other"}


def test_summary_table(python, cli_env):
    proc = cnnkit(python, cli_env, "summary", "lenet")
    assert proc.returncode == 0, proc.stderr
    assert "61,706 parameters" in proc.stdout and "417 k MACs" in proc.stdout
    assert "FC layers hold 95.8% of the parameters" in proc.stdout



# ---- explain, and summary's receptive fields, memory and time profile ---------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """The environment of a store with one tiny finished LeNet, and its run id (trained once for the module)."""
    env = os.environ | {"CNNKIT_HOME": str(tmp_path_factory.mktemp("cli-explain") / "store"), "CNNKIT_OFFLINE": "1"}
    proc = cnnkit(sys.executable, env, "train", "--model", "lenet", "--epochs", "1", "--set", "subset=0.02",
                  "--set", "test_subset=0.05", "--set", "activation=relu", "--lr", "0.1", "--device", "cpu", "--json")
    assert proc.returncode == 0, proc.stderr
    return env, json.loads(proc.stdout.strip().splitlines()[-1])["run_id"]


@requires_fmnist
def test_explain_writes_image_map_and_overlay(python: str, trained: tuple[dict[str, str], str],
                                              tmp_path: Path) -> None:
    cli_env, finished = trained
    out = tmp_path / "maps" / "coat.png"
    proc = cnnkit(python, cli_env, "explain", finished, "--index", "4", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"run {finished} · test #4" in proc.stdout and "gradcam on layer 3" in proc.stdout
    assert Image.open(out).size == (86 * 8, 28 * 8)
    proc = cnnkit(python, cli_env, "explain", finished, "--index", "4", "--method", "saliency", "--out",
                  str(tmp_path / "s.png"), "--json")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (doc["method"], doc["layer"], doc["index"]) == ("saliency", None, 4) and (tmp_path / "s.png").exists()


@requires_fmnist
def test_explain_errors_are_one_line(python: str, trained: tuple[dict[str, str], str], tmp_path: Path) -> None:
    cli_env, finished = trained
    out = str(tmp_path / "x.png")
    one_line_error(cnnkit(python, cli_env, "explain", finished, "--index", "10000", "--out", out),
                   "index: must be an integer in [0, 9999] (the Fashion-MNIST test set), got 10000")
    one_line_error(cnnkit(python, cli_env, "explain", finished, "--index", "two", "--out", out), "index: must be")
    one_line_error(cnnkit(python, cli_env, "explain", finished, "--index", "1", "--layer", "9", "--out", out),
                   "layer: must be one of lenet's conv layers (0, 3; default the last), got '9'")
    one_line_error(cnnkit(python, cli_env, "explain", finished, "--index", "1", "--method", "cam", "--out", out),
                   "method: must be one of gradcam, saliency")
    one_line_error(cnnkit(python, cli_env, "explain", finished, "--index", "1", "--out", "x.jpg"),
                   "out: must be a .png file")
    queued = Store(cli_env["CNNKIT_HOME"]).create_run(RunConfig(epochs=1))
    one_line_error(cnnkit(python, cli_env, "explain", queued, "--index", "1", "--out", out),
                   f"run {queued} (queued) has no checkpoint")


def test_summary_json_has_fields_memory_and_activations(python: str, cli_env: dict[str, str]) -> None:
    proc = cnnkit(python, cli_env, "summary", "lenet", "--format", "json", "--batch-size", "128",
                  "--optimizer", "adam")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    first = doc["layers"][0]
    assert (first["rf_size"], first["rf_jump"], first["rf_start"]) == (5, 1, -2)
    assert first["activation_bytes"] == {"fp32": 6 * 28 * 28 * 128 * 4, "bf16": 6 * 28 * 28 * 128 * 2}
    est = doc["training_memory"]
    assert (doc["batch_size"], est["batch"], est["optimizer"]) == (128, 128, "adam")
    assert est["optimizer_state"] == 2 * est["params"] == 2 * 4 * 61_706


def test_summary_csv_has_fields_and_activation_bytes(python: str, cli_env: dict[str, str]) -> None:
    proc = cnnkit(python, cli_env, "summary", "alexnet", "--format", "csv", "--batch-size", "2")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    first = rows[0]
    assert (first["rf_size"], first["rf_jump"], first["rf_start"], first["batch_size"]) == ("11", "4", "-1", "2")
    assert rows[-1]["rf_size"] == "" and int(first["bf16_bytes"]) * 2 == int(first["fp32_bytes"])


def test_summary_table_with_profile_and_measure(python: str, cli_env: dict[str, str]) -> None:
    proc = cnnkit(python, cli_env, "summary", "lenet", "--batch-size", "64", "--profile", "--measure")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "16×16" in out and "training memory fits in" in out and "estimate / measured = " in out
    assert "where the time goes: one training step at batch 64" in out
    profile = out.split("where the time goes")[1].splitlines()
    assert any(line.startswith("3 ") and "Conv2d" in line for line in profile) and any(
        line.startswith("loss") for line in profile)
    assert not proc.stderr.strip(), "the profiler's own logging is kept off the terminal"


def test_summary_bad_batch_or_optimizer(python: str, cli_env: dict[str, str]) -> None:
    one_line_error(cnnkit(python, cli_env, "summary", "lenet", "--batch-size", "0"), "--batch-size: must be")
    one_line_error(cnnkit(python, cli_env, "summary", "lenet", "--optimizer", "lbfgs"), "--optimizer: must be one of")
