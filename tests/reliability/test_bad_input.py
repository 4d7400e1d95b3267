"""Bad input, generated: every invalid setting is refused with one line that names the field and says what is
allowed, by RunConfig, by the command line (in this process and in real subprocesses) and by the Train page.

Each property runs its examples inside the test (an inner ``@given``), so that the test can count the
examples that actually ran and put them in the reliability ledger.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability.recording import Record
from support import ROOT
from support.apptest import dashboard_env
from support.invalid_inputs import (
    Bad,
    above_range,
    bad_configs,
    bad_flag_sets,
    bad_submit_flags,
    bad_summary,
    bad_text,
    below_range,
    harmless_flags,
    impossible_architecture,
)
from support.procs import Groups
from support.refusals import cli_in_process, examples, message_problem, refusal_problem

from cnnkit.config import FIELD_PARAMS, RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import registry

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import Widget


def _refused_by_config(data: dict) -> str:
    """RunConfig's refusal of ``data`` (its message), or "!what went wrong" when it was not a ConfigError."""
    try:
        RunConfig.from_dict(data).check_fits()
    except ConfigError as exc:
        return str(exc)
    except Exception as exc:  # anything but ConfigError is a bug: the user would see a traceback
        return f"!{type(exc).__name__}: {exc}"
    return "!accepted"


def _judge(message: str, bad: Bad) -> str:
    if message.startswith("!"):
        return message[1:]
    return message_problem(message, bad.field, bad.allowed)


# ---- RunConfig -----------------------------------------------------------------------------------

def test_runconfig_refuses_every_generated_invalid_config(record: Record) -> None:
    seen: list[str] = []

    @examples(200)
    @given(bad=bad_configs())
    def check(bad: Bad) -> None:
        seen.append(bad.what)
        problem = _judge(_refused_by_config(bad.config), bad)
        try:  # the same through JSON, as --config files and bundles bring it
            text = json.dumps(bad.config)
        except (TypeError, ValueError):
            text = None
        if text is not None and not problem:
            try:
                RunConfig.from_json(text)
                problem = "accepted from JSON"
            except ConfigError as exc:
                problem = message_problem(str(exc), bad.field, bad.allowed)
            except Exception as exc:
                problem = f"{type(exc).__name__} from JSON: {exc}"
        record("input", f"RunConfig {bad.what}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{bad.config!r}: {problem}"

    check()
    assert len(seen) >= 200, f"only {len(seen)} examples ran"


def test_impossible_architectures_are_refused_before_training(record: Record) -> None:
    seen: list[str] = []

    @examples(24)
    @given(bad=impossible_architecture())
    def check(bad: Bad) -> None:
        seen.append(bad.what)
        RunConfig.from_dict(bad.config)  # each setting is fine on its own: only the shapes do not fit
        problem = _judge(_refused_by_config(bad.config), bad)
        record("input", f"RunConfig {bad.what}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{bad.config!r}: {problem}"

    check()
    assert len(seen) >= 24
    assert {"collapse: alexnet", "collapse: lenet conv layers"} <= set(seen)


# ---- the command line, in this process ------------------------------------------------------------

@pytest.fixture
def no_training():
    """A `train` that got past validation would start training: make that a loud failure instead."""
    def refuse(*_: object, **__: object) -> str:
        raise AssertionError("an invalid config was accepted and sent to training")

    with mock.patch("cnnkit.jobs.runner.execute", refuse):
        yield


def _store_untouched(home: Path) -> bool:
    return not (home / "cnnkit.db").exists()


def test_cli_train_and_submit_refuse_every_generated_invalid_flag_set(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, no_training: None, record: Record) -> None:
    home = tmp_path / "store"
    seen: list[str] = []

    either = st.tuples(st.sampled_from(["train", "submit"]), bad_flag_sets())
    submit_only = st.tuples(st.just("submit"), bad_submit_flags())

    @examples(200)
    @given(noise=harmless_flags, case=st.one_of(either, either, either, submit_only))
    def check(noise: tuple[str, ...], case: tuple[str, Bad]) -> None:
        command, bad = case
        seen.append(bad.what)
        argv = [command, f"--store={home}", *noise, *bad.flags]
        code, out, err = cli_in_process(argv, capsys)
        problem = refusal_problem(code, out, err, bad.cli_name, bad.cli_allowed, bad.extra.get("loose", False))
        if not problem and not _store_untouched(home):
            problem = "something was recorded in the store"
        record("input", f"cli {command} {bad.what}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{argv}: {problem}\n{err}"

    check()
    assert len(seen) >= 200, f"only {len(seen)} examples ran"


def test_cli_refuses_invalid_config_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, no_training: None,
                                          record: Record) -> None:
    home = tmp_path / "store"
    seen: list[str] = []
    broken = st.sampled_from([
        (b"{", "--config", "cannot read", "not JSON"), (b"", "--config", "cannot read", "empty"),
        (b"\xff\xfe{\x00", "--config", "cannot read", "not UTF-8"),
        (b'{"lr": 1' + b"0" * 5000 + b"}", "--config", "cannot read", "a number past Python's digit limit"),
        (b"[1, 2]", "config", "must be a JSON object", "a list"),
        (b'"lenet"', "config", "must be a JSON object", "a string"),
    ])

    @examples(60)
    @given(command=st.sampled_from(["train", "submit"]), content=st.one_of(
        bad_configs().filter(lambda b: _json_or_none(b.config) is not None), broken))
    def check(command: str, content: Bad | tuple) -> None:
        path = tmp_path / "config.json"
        if isinstance(content, Bad):
            path.write_text(_json_or_none(content.config))
            field, allowed, what = content.field, content.allowed, f"--config {content.what}"
        else:
            raw, field, allowed, label = content
            path.write_bytes(raw)
            what = f"--config file: {label}"
        seen.append(what)
        code, out, err = cli_in_process([command, f"--store={home}", f"--config={path}"], capsys)
        problem = refusal_problem(code, out, err, field, allowed) or ("" if _store_untouched(home) else "recorded")
        record("input", f"cli {command} {what}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{path.read_bytes()[:200]!r}: {problem}\n{err}"

    check()
    assert len(seen) >= 60


def _json_or_none(data: dict) -> str | None:
    try:
        return json.dumps(data)
    except (TypeError, ValueError):
        return None


def test_cli_summary_refuses_every_generated_invalid_argument(capsys: pytest.CaptureFixture[str],
                                                              record: Record) -> None:
    seen: list[str] = []

    @examples(80)
    @given(bad=bad_summary())
    def check(bad: Bad) -> None:
        seen.append(bad.what)
        code, out, err = cli_in_process(["summary", *bad.flags], capsys)
        problem = refusal_problem(code, out, err, bad.field, bad.allowed, bad.extra.get("loose", False))
        record("input", bad.what, "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"summary {bad.flags}: {problem}\n{err}"

    check()
    assert len(seen) >= 80


def test_cli_refuses_impossible_architectures(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             no_training: None, record: Record) -> None:
    home = tmp_path / "store"
    seen: list[str] = []

    @examples(15)
    @given(command=st.sampled_from(["train", "submit"]), bad=impossible_architecture())
    def check(command: str, bad: Bad) -> None:
        seen.append(bad.what)
        code, out, err = cli_in_process([command, f"--store={home}", *bad.flags], capsys)
        problem = refusal_problem(code, out, err, bad.field, bad.allowed) or (
            "" if _store_untouched(home) else "recorded")
        record("input", f"cli {command} {bad.what}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{bad.flags}: {problem}\n{err}"

    check()
    assert len(seen) >= 15


# ---- the command line, in real processes -----------------------------------------------------------

@pytest.mark.slow
def test_invalid_flags_in_real_subprocesses(cli_env: dict[str, str], groups: Groups, record: Record) -> None:
    """A sample of the same cases through `python -m cnnkit`, six processes at once."""
    cases = st.lists(st.one_of(
        st.tuples(st.sampled_from(["train", "submit"]), st.one_of(bad_flag_sets(), impossible_architecture())),
        st.tuples(st.just("summary"), bad_summary())), min_size=6, max_size=6)
    ran: list[str] = []

    @settings(max_examples=1, deadline=None, database=None)
    @given(cases=cases)
    def check(cases: list[tuple[str, Bad]]) -> None:
        procs = [(command, bad, groups.start([sys.executable, "-m", "cnnkit", command, *bad.flags], cwd=ROOT,
                                             env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
                 for command, bad in cases]
        problems = []
        for command, bad, proc in procs:
            out, err = proc.communicate(timeout=240)
            field, allowed = (bad.field, bad.allowed) if command == "summary" else (bad.cli_name, bad.cli_allowed)
            problem = refusal_problem(proc.returncode, out, err, field, allowed, bad.extra.get("loose", False))
            ran.append(bad.what)
            record("input", f"subprocess {command} {bad.what}", "rejected" if not problem else f"NOT clean: {problem}")
            if problem:
                problems.append(f"{command} {bad.flags}: {problem}\n{err}")
        assert not problems, problems
        assert not (Path(cli_env["CNNKIT_HOME"]) / "cnnkit.db").exists()

    check()
    assert len(ran) == 6


# ---- the dashboard's Train page -------------------------------------------------------------------

def _ui_cases() -> st.SearchStrategy[tuple[str, str, object, str, str]]:
    """(widget kind, widget key, value, field, allowed) for the Train page (LeNet, its recipe loaded)."""
    numbers = ["subset", "test_subset", "input_size", "batch_size", "lr", "momentum", "weight_decay", "step_gamma",
               "seed", "label_smoothing", "crop_padding", "reports_per_epoch"]

    @st.composite
    def case(draw: st.DrawFn) -> tuple:
        kind = draw(st.sampled_from(["number", "number", "text", "knob number", "knob text", "warmup", "collapse"]))
        if kind == "number":
            name = draw(st.sampled_from(numbers))
            p = FIELD_PARAMS[name]
            value = draw((below_range(p) | above_range(p)).filter(lambda v: abs(v) < 1e12))
            return ("number", f"train.{name}", value, name, p.allowed())
        if kind == "text":
            name = draw(st.sampled_from(["step_milestones", "device"]))
            p = FIELD_PARAMS[name]
            text = draw(bad_text(p))
            allowed = "auto, cpu, cuda or cuda:N" if name == "device" else p.allowed()
            return ("text", f"train.{name}", text, name, allowed)
        knobs = registry.get("lenet").knobs
        if kind == "knob number":
            name = draw(st.sampled_from(["conv_layers", "dropout"]))
            value = draw((below_range(knobs[name]) | above_range(knobs[name])).filter(lambda v: abs(v) < 1e12))
            return ("number", f"train.knob.lenet.{name}", value, name, knobs[name].allowed())
        if kind == "knob text":
            name = draw(st.sampled_from(["channels", "fc"]))
            return ("text", f"train.knob.lenet.{name}", draw(bad_text(knobs[name])), name, knobs[name].allowed())
        if kind == "warmup":  # the recipe trains LeNet for 10 epochs
            return ("number", "train.warmup_epochs", float(draw(st.integers(10, 100))), "warmup_epochs",
                    "below epochs (10)")
        size = draw(st.integers(8, 23))  # kernel 11: LeNet needs 24 px
        return ("collapse", "train.input_size", size, "input_size", "lenet needs at least 24×24 input")

    return case()


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard on a fresh store, never starting a supervisor, unexpected errors raising (as tests/ui's)."""
    return dashboard_env(tmp_path / "store", monkeypatch)


@pytest.mark.slow
def test_train_page_shows_the_same_one_line_messages_and_queues_nothing(app_env: Path, record: Record) -> None:
    from support.apptest import app, assert_clean

    from cnnkit.store import Store

    at = app("pages/2_Train.py")
    # input_size starts empty (native); AppTest cannot put "empty" back, so start from LeNet's native 28
    at.number_input(key="train.input_size").set_value(28).run()
    assert_clean(at)
    assert not at.error and not at.button(key="train.launch").disabled
    valid = {}  # widget key → the valid value it had, put back before the next case
    seen: list[str] = []

    @examples(30)
    @given(case=_ui_cases())
    def check(case: tuple) -> None:
        kind, key, value, field, allowed = case
        for k, v in valid.items():  # undo the previous case (applied with this run)
            _widget(at, k).set_value(v)
        valid.clear()
        if kind == "collapse":
            valid["train.knob.lenet.kernel_size"] = at.selectbox(key="train.knob.lenet.kernel_size").value
            at.selectbox(key="train.knob.lenet.kernel_size").set_value(11)
        widget = _widget(at, key)
        valid[key] = widget.value
        widget.set_value(value)
        at.run()
        seen.append(field)
        assert_clean(at)
        messages = [e.value for e in at.error]
        ours = [m for m in messages if m.startswith(f"{field}: ")]
        problem = (message_problem(ours[0], field, allowed) if ours else f"no message for {field}: {messages}")
        if not problem and not at.button(key="train.launch").disabled:
            problem = "Launch stays enabled"
        if not problem and Store(app_env).list_runs():
            problem = "a run was queued"
        record("input", f"Train page {field}", "rejected" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{key}={value!r}: {problem}"

    check()
    assert len(seen) >= 30
    assert not Store(app_env).list_runs()


def _widget(at: AppTest, key: str) -> Widget:
    for finder in (at.number_input, at.text_input, at.selectbox):
        try:
            return finder(key=key)
        except KeyError:
            continue
    raise KeyError(key)
