"""The parser every command shares (cnnkit/cli/common.py, cnnkit/cli/__init__.py): bad input exits 2 with one
line that names the field and what is allowed, and records nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import cnnkit

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
