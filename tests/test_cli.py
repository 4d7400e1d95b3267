"""`python -m cnnkit` models / summary / train, run as real subprocesses: the contract other tools rely on."""
from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from support import ROOT, requires_fmnist

from cnnkit.models import names


def cnnkit(python: str, env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "cnnkit", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def last_json(stdout: str):
    lines = stdout.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])


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


# ---- train -------------------------------------------------------------------------------------

@requires_fmnist
def test_train_json(python, cli_env):
    proc = cnnkit(python, cli_env, "train", "--epochs", "1", "--subset", "0.02", "--set", "test_subset=0.05",
                  "--lr", "0.5", "--set", "activation=relu", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = last_json(proc.stdout)
    assert {"run_id", "status", "config", "final", "epochs"} <= set(doc)
    assert doc["status"] == "completed" and doc["run_id"]
    assert doc["config"]["epochs"] == 1 and doc["config"]["subset"] == 0.02 and doc["config"]["lr"] == 0.5
    assert doc["config"]["model_options"] == {"activation": "relu"}
    assert set(doc["final"]) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert len(doc["epochs"]) == 1
    epoch = doc["epochs"][0]
    assert {"train_loss", "train_acc", "test_loss", "test_acc", "lr"} <= set(epoch)
    assert epoch["test_acc"] == doc["final"]["test_acc"] and 0 <= epoch["test_acc"] <= 1
    assert "Traceback" not in proc.stderr
    # the run is recorded in the store that CNNKIT_HOME names
    from cnnkit.store import Store

    store = Store(cli_env["CNNKIT_HOME"])
    run = store.get(doc["run_id"])
    assert run.status == "completed" and run.model == "lenet"
    assert store.checkpoint_path(doc["run_id"]).is_file()


@requires_fmnist
def test_train_table_output(python, cli_env):
    proc = cnnkit(python, cli_env, "train", "--epochs", "1", "--subset", "0.01", "--set", "test_subset=0.02")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:5] == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert lines[-1].startswith("run ") and lines[-1].endswith(" completed")


def test_train_on_a_missing_dataset_is_one_line_saying_how_to_get_it(python, cli_env, tmp_path):
    env = {**cli_env, "CNNKIT_DATA": str(tmp_path / "data")}
    proc = cnnkit(python, env, "train", "--dataset", "mnist", "--epochs", "1", "--json")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MNIST is not in" in lines[0] and "download" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "store").exists()  # refused before any run was recorded


# ---- invalid input: exit 2, one line on stderr that names the field -------------------------------

@pytest.mark.parametrize("args,names_", [
    (["train", "--epochs", "ten"], ["epochs", "integer"]),                        # bad number
    (["train", "--lr", "0"], ["lr", "(0, 1000]"]),                                # out of range
    (["train", "--set", "learning_rate=0.1"], ["learning_rate", "neither"]),     # unknown --set key
    (["train", "--set", "activation=swish"], ["activation", "relu"]),            # bad choice of a knob
    (["train", "--optimizer", "rmsprop"], ["optimizer", "sgd-momentum"]),        # bad choice of a field
    (["train", "--model", "alexnet", "--input-size", "28"], ["input_size", "65×65"]),  # collapsing input
    (["train", "--learning-rate", "0.1"], ["--learning-rate"]),                   # unknown flag
    (["train", "--set", "pool"], ["--set", "key=value"]),
    (["summary", "lenet6"], ["model", "lenet"]),
    (["summary", "alexnet", "--input-size", "28"], ["input_size", "65×65"]),
    (["summary", "lenet", "--format", "xml"], ["--format", "xml"]),
])
def test_invalid_input_is_one_line_naming_the_field(python, cli_env, args, names_):
    proc = cnnkit(python, cli_env, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for text in names_:
        assert text in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (Path(cli_env["CNNKIT_HOME"]) / "cnnkit.db").exists()  # nothing was recorded


def test_no_command_is_a_usage_error(python, cli_env):
    proc = cnnkit(python, cli_env)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
