"""Fault injection in real subprocesses: tests/reliability/inject/sitecustomize.py put on a subprocess's
PYTHONPATH, set up by CNNKIT_INJECT_* variables."""
from __future__ import annotations

import os

from support import ROOT

INJECT = ROOT / "tests" / "reliability" / "inject"


def injected_env(env: dict[str, str], **settings: str) -> dict[str, str]:
    """``env`` with the fault-injection sitecustomize on PYTHONPATH and its settings (CNNKIT_INJECT_*)."""
    path = [str(INJECT), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in path if p), **settings}
