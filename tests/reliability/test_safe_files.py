"""Imports and files: bundles checked against their schema, checkpoints loaded with weights_only=True only,
run ids made by the server, every path a user or a bundle names kept inside the store.

The refusals of hand-made bad bundles (traversal, links, oversize, pickles, bad fields) live in
test_bundle.py and record into the ledger; here the same checks are driven by generated input.
"""
from __future__ import annotations

import ast
import json
import pickle
import signal
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from reliability.recording import Record
from support import ROOT
from support.bundles import finished_runs, first_run, rewrite, with_extra_member
from support.refusals import cli_in_process, examples, refusal_problem

from cnnkit.bundle import MEMBER_RE, RUN_FIELDS, BundleError, export_bundle, import_bundle, read_bundle
from cnnkit.config import RunConfig
from cnnkit.engine import load_checkpoint
from cnnkit.errors import StoreError
from cnnkit.jobs.runner import run_training
from cnnkit.store import CHECKPOINT_NAME, Store, is_run_id

SOURCES = [*sorted((ROOT / "cnnkit").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py")),
           *sorted((ROOT / "ui").glob("*.py")), ROOT / "dashboard.py"]




# ---- what the code may load and run ------------------------------------------------------------------

def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(func: ast.expr) -> str:
    """The dotted name a call uses: ``torch.load`` for a call of torch's load, ``load`` for a bare one."""
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}"
    return func.id if isinstance(func, ast.Name) else "?"


def _keyword(call: ast.Call, name: str) -> Any:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else "<not a constant>"
    return None


def _is_torch_load(call: ast.Call, tree: ast.AST) -> bool:
    name = _name(call.func)
    return name == "torch.load" or (name == "load" and any(
        isinstance(n, ast.ImportFrom) and n.module == "torch" and any(a.name == "load" for a in n.names)
        for n in ast.walk(tree)))


def test_every_torch_load_passes_weights_only_true(record: Record) -> None:
    loads, offenders = 0, []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree):
            if _is_torch_load(call, tree):
                loads += 1
                if _keyword(call, "weights_only") is not True:
                    offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert loads >= 4, f"found only {loads} torch.load calls: is the scan still looking at the right thing?"
    assert not offenders, f"torch.load without weights_only=True: {offenders}"
    record("import", f"torch.load calls scanned ({loads}), all weights_only=True", "refused")


UNSAFE_CALLS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "marshal.loads", "eval", "exec", "os.system",
                "os.popen", "yaml.load", "subprocess.getoutput", "subprocess.getstatusoutput"}


def test_nothing_unpickles_or_runs_a_shell(record: Record) -> None:
    """No pickle but CIFAR-10's allow-listed unpickler, no eval/exec, subprocesses as argument lists only."""
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for call in _calls(tree):
            name = _name(call.func)
            where = f"{path.relative_to(ROOT)}:{call.lineno} {name}"
            if name in UNSAFE_CALLS:
                offenders.append(where)
            if _keyword(call, "shell") not in (None, False):
                offenders.append(f"{where}(shell=…)")
            if name.endswith(("np.load", "numpy.load")) and _keyword(call, "allow_pickle") not in (None, False):
                offenders.append(f"{where}(allow_pickle=…)")
        for node in ast.walk(tree):  # an Unpickler subclass must narrow find_class to an allow-list
            if isinstance(node, ast.ClassDef) and any(_name(b).endswith("Unpickler") for b in node.bases):
                methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                if "find_class" not in methods:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} without find_class")
    assert not offenders, offenders
    record("import", "unpickling, eval and shell calls scanned: none", "refused")


class _Payload:
    """A pickled object whose loading would create ``marker``: the proof that it never ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_with_a_pickled_object_is_refused(tmp_path: Path, record: Record) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "run" / CHECKPOINT_NAME
    path.parent.mkdir()
    torch.save({"model": {}, "step": 3, "epoch": 0, "extra": _Payload(marker)}, path)
    with pytest.raises(StoreError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "refused" in message
    assert "weights_only=False" not in message  # torch's advice to load it anyway must not reach the user
    assert not marker.exists()
    record("import", "checkpoint holding a pickled object (engine.load_checkpoint)", "refused")

    # … and a run resumed from it fails with that one line, without running it either
    events: list[tuple[str, Any]] = []
    status = run_training({"epochs": 1}, lambda kind, payload: events.append((kind, payload)),
                          threading.Event(), path, resume=True)
    assert status == "failed" and events[-1][0] == "end"
    assert events[-1][1]["error"] == message and not marker.exists()
    record("import", "resume from a checkpoint holding a pickled object", "refused")


def test_a_truncated_checkpoint_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    torch.save({"model": {"w": torch.ones(1000)}, "step": 1}, path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(StoreError, match="cannot load the checkpoint") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


# ---- run ids are the server's --------------------------------------------------------------------------

HOSTILE_IDS = ["../x", "abc", "/etc/passwd", "ABCDEF12", "12345678/..", "..", "", "0000000g", "1234567",
               "123456789", "12345678\n", "./12345678", "~root", "runs/../../x", "%2e%2e%2f", "12345678 ",
               "\\..\\..\\x", "12345678\x00", "C:\\x"]
ID_COMMANDS = {  # every command that takes a run id, with what else it needs
    "cancel": ["cancel", "{id}"], "logs": ["logs", "{id}"], "resume": ["resume", "{id}"],
    "delete": ["delete", "{id}"], "rename": ["rename", "{id}", "a name"], "tag": ["tag", "{id}", "t"],
    "export": ["export", "{id}", "--out", "{out}"], "job": ["job", "{id}"],
}


@pytest.fixture
def keep_sigterm():
    """`job` sets its own SIGTERM handler before it looks the run up; give pytest its own back."""
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def test_every_command_refuses_run_ids_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       keep_sigterm: None, record: Record) -> None:
    home, out = tmp_path / "store", tmp_path / "export.zip"
    Store(home)
    outside = sorted(p.name for p in tmp_path.iterdir())
    seen: list[str] = []

    @examples(120)
    @given(command=st.sampled_from(sorted(ID_COMMANDS)), run_id=st.one_of(
        st.sampled_from(HOSTILE_IDS), st.text(max_size=20).filter(
            lambda t: not is_run_id(t) and not t.startswith("-"))))  # "-x" is argparse's to refuse
    def check(command: str, run_id: str) -> None:
        seen.append(command)
        argv = [a.format(id=run_id, out=out) for a in ID_COMMANDS[command]]
        code, stdout, err = cli_in_process([*argv, "--store", str(home)], capsys)
        problem = refusal_problem(code, stdout, err, "run id", "8 hex digits", loose=True)
        record("path", f"`{command}` with a run id it did not make", "refused" if not problem
               else f"NOT clean: {problem}")
        assert not problem, f"{command} {run_id!r}: {problem}\n{err}"

    check()
    assert len(seen) >= 120 and set(seen) == set(ID_COMMANDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == outside and not out.exists()
    assert sorted(p.name for p in (home / "runs").iterdir()) == []


def test_run_folders_resolve_inside_the_store(tmp_path: Path, record: Record) -> None:
    store = Store(tmp_path / "store")
    runs = (store.home / "runs").resolve()

    def inside(text: str) -> bool:
        """True when the store takes ``text`` as a run id (and then the paths lie in its folder)."""
        for where in (store.run_dir, store.log_path, store.checkpoint_path):
            try:
                path = where(text)
            except StoreError as exc:
                assert "8 hex digits" in str(exc) and "\n" not in str(exc)
                return False
            assert path.resolve().relative_to(runs).parts[0] == text, (text, path)
        return True

    seen = []

    @examples(300)
    @given(text=st.text(max_size=30) | st.sampled_from(HOSTILE_IDS))
    def check(text: str) -> None:
        seen.append(text)
        if not inside(text):
            record("path", "run folder asked for by a name the store did not make", "refused")

    check()
    assert len(seen) >= 300
    assert all(inside(store.create_run(RunConfig(epochs=1))) for _ in range(20))  # the ids the store makes


# ---- bundles against their schema, generated -----------------------------------------------------------

@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bundle")
    store = Store(tmp / "store")
    return export_bundle(store, finished_runs(store), tmp / "good.zip")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def _fits_schema(key: str, value: Any) -> bool:
    return isinstance(value, RUN_FIELDS[key]) and not isinstance(value, bool)


def _is_point(point: Any) -> bool:
    return (isinstance(point, list) and len(point) == 6 and isinstance(point[2], str) and isinstance(point[3], str)
            and all(isinstance(point[i], (int, float)) for i in (0, 1, 4, 5)))


def test_bundle_run_records_are_checked_against_the_schema(exported: Path, tmp_path: Path, record: Record) -> None:
    """A run record with one field replaced by any JSON value: refused with one line unless the value has the
    type the schema gives that field; nothing but BundleError ever comes out."""
    seen, refused_ = [], []

    @examples(150)
    @given(key=st.sampled_from(sorted(RUN_FIELDS) + ["metrics"]), value=JSON_VALUES)
    def check(key: str, value: Any) -> None:
        seen.append(key)
        bad = rewrite(exported, tmp_path / "mutated.zip", lambda docs: first_run(docs).__setitem__(key, value))
        try:
            read_bundle(bad)
        except BundleError as exc:
            assert "\n" not in str(exc), str(exc)
            refused_.append(key)
            record("import", f"bundle field {key} of another type or value", "refused")
            return
        if key == "metrics":
            assert isinstance(value, list) and all(_is_point(p) for p in value), f"metrics={value!r} was accepted"
        else:
            assert _fits_schema(key, value), f"{key}={value!r} was accepted"
        record("import", f"bundle field {key}: a value of the right type", "accepted (valid)")

    check()
    assert len(seen) >= 150 and len(refused_) >= 30


def test_bundle_member_names_outside_the_layout_are_refused(exported: Path, tmp_path: Path, record: Record) -> None:
    near_misses = st.sampled_from(["manifest.json\n", "runs/12345678.json\n", "runs/12345678.json/..",
                                   "./manifest.json", "runs//12345678.json", "RUNS/12345678.json"])
    names = st.one_of(near_misses, st.text(min_size=1, max_size=30), st.lists(st.sampled_from(
        ["..", ".", "runs", "etc", "manifest.json", "12345678.json", "", "~", "C:", "\\"]), min_size=1, max_size=4
    ).map("/".join)).filter(lambda n: n and not MEMBER_RE.match(n) and "\x00" not in n)
    seen = []

    @examples(80)
    @given(name=names)
    def check(name: str) -> None:
        seen.append(name)
        bad = with_extra_member(exported, tmp_path / "extra.zip", name)
        with pytest.raises(BundleError) as info:
            read_bundle(bad)
        assert "\n" not in str(info.value)
        record("import", "bundle member named outside the layout (generated)", "refused")

    check()
    assert len(seen) >= 80


def test_cli_import_of_a_hostile_bundle_is_one_line_and_imports_nothing(exported: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        record: Record) -> None:
    home = tmp_path / "store"
    Store(home)
    with zipfile.ZipFile(exported) as zf:
        member = next(n for n in zf.namelist() if n.startswith("runs/"))
        pickled = pickle.dumps(json.loads(zf.read(member)))
    cases = {
        "path traversal": with_extra_member(exported, tmp_path / "a.zip", "../../outside.json"),
        "absolute path": with_extra_member(exported, tmp_path / "b.zip", "/tmp/outside.json"),
        "pickled run": rewrite(exported, tmp_path / "c.zip", lambda docs: docs.__setitem__(member, pickled)),
        "not a zip": tmp_path / "d.zip",
    }
    cases["not a zip"].write_bytes(b"\x80\x04pickle")
    for what, path in cases.items():
        code, out, err = cli_in_process(["import", str(path), "--store", str(home)], capsys)
        problem = refusal_problem(code, out, err, "bundle", "", loose=True)
        record("import", f"cli import: {what}", "refused" if not problem else f"NOT clean: {problem}")
        assert not problem, f"{what}: {problem}\n{err}"
    assert Store(home).list_runs() == [] and not (tmp_path / "outside.json").exists()
    assert not Path("/tmp/outside.json").exists()
    assert import_bundle(Store(home), exported)  # the good one still goes in
