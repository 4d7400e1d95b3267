"""The house's rules over cnnkit's import graph (support.import_graph), the README's module map that
orders it, and plants that show each kind of rule catches what it forbids."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT
from support.import_graph import (
    TORCH_FREE,
    module_name,
    readme_layers,
    readme_modules,
    unit,
    upward_imports,
    violations,
)

CNNKIT = ROOT / "cnnkit"
README = (ROOT / "README.md").read_text()
MAX_TOP_LEVEL = 18


def test_no_never_rule_is_broken_and_there_is_no_cycle() -> None:
    assert violations(CNNKIT) == []


def test_the_top_level_holds_at_most_18_modules() -> None:
    assert len(list(CNNKIT.glob("*.py"))) <= MAX_TOP_LEVEL


def test_imports_run_down_the_readme_module_map() -> None:
    layers = readme_layers(README)
    assert len(layers) >= 10
    assert upward_imports(CNNKIT, layers) == []


def test_the_readme_module_map_names_every_unit_and_module_once() -> None:
    layers = readme_layers(README)
    listed = [u for row in layers for u in row]
    assert len(listed) == len(set(listed)), "a unit is listed twice"
    units = {unit(module_name(CNNKIT, p)) for p in CNNKIT.rglob("*.py")} - {"cnnkit"}
    assert set(listed) == units
    mentioned = readme_modules(README)
    missing = [str(p.relative_to(ROOT)) for p in CNNKIT.rglob("*.py") if p.parent != CNNKIT and
               p.name != "__init__.py" and p.name not in mentioned.get(unit(module_name(CNNKIT, p)), set())]
    assert missing == []


PLANTS = [
    ("models/lenet.py", "from cnnkit.store import Store", "models never import store"),
    ("engine.py", "from cnnkit.jobs import runner", "the engine never imports jobs"),
    ("store/queries.py", "from cnnkit.config import RunConfig", "the store imports only errors and events"),
    ("compare/bands.py", "import streamlit", "the library never imports the UI"),
    ("events.py", "import torch", "events are the torch-free types"),
    ("text.py", "from cnnkit import params", "import cycle"),
    ("jobs/runner.py", "from cnnkit.cli import common", "only __main__ imports the CLI"),
]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of cnnkit/ to plant imports in."""
    target = tmp_path / "cnnkit"
    shutil.copytree(CNNKIT, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize("where,line,expected", PLANTS, ids=[p[0] for p in PLANTS])
def test_a_planted_forbidden_import_is_caught(copy: Path, where: str, line: str, expected: str) -> None:
    assert violations(copy) == []
    target = copy / where
    target.write_text(target.read_text() + f"\n\ndef planted():\n    {line}\n")
    found = violations(copy)
    assert any(expected in v for v in found), found


def test_a_planted_upward_import_is_caught(copy: Path) -> None:
    (copy / "plan.py").write_text((copy / "plan.py").read_text() + "\nfrom cnnkit import estimate  # noqa\n")
    found = upward_imports(copy, readme_layers(README))
    assert found and "cnnkit.plan imports cnnkit.estimate" in found[0]


def test_an_annotation_only_import_is_not_an_edge(copy: Path) -> None:
    target = copy / "store" / "run.py"
    target.write_text(target.read_text() + "\nif TYPE_CHECKING:\n    from cnnkit.config import RunConfig\n")
    assert violations(copy) == []


def test_the_torch_free_modules_load_no_torch() -> None:
    code = (f"import sys, importlib\nfor m in {list(TORCH_FREE)!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in ('torch', 'pandas', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "torch" not in out.stdout and "streamlit" not in out.stdout, out.stdout
