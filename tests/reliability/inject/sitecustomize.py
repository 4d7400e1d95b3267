"""Fault injection for the reliability tests; Python imports this at start-up when this folder is on
PYTHONPATH (the tests put it there for the supervisor they start, and its jobs inherit it). cnnkit
itself has no test hooks: the faults are patched in from outside, as a real one would strike.

- ``CNNKIT_INJECT_OOM_AT_STEP=N``: the N-th optimizer step of every run raises
  ``torch.OutOfMemoryError``, as CUDA does when a batch does not fit.

Nothing happens without a CNNKIT_INJECT_* variable; the patch is applied when ``cnnkit.engine`` is
first imported, so that interpreters that never train pay nothing.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

OOM_AT = os.environ.get("CNNKIT_INJECT_OOM_AT_STEP")


def _patch_engine(engine: ModuleType) -> None:
    import torch

    at_step = int(OOM_AT)
    compute_loss = engine.Trainer._loss

    def _loss(self: Any, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # the engine's own signature
        if self.model.training and self.step + 1 == at_step:  # self.step counts the steps finished
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate 20.00 GiB (injected at step "
                                         f"{at_step} by tests/reliability/inject)")
        return compute_loss(self, logits, y)

    engine.Trainer._loss = _loss


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``cnnkit.engine`` to patch the module once it has run."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name != "cnnkit.engine":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        sys.meta_path.remove(self)
        run_module = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            _patch_engine(module)

        spec.loader.exec_module = exec_module
        return spec


if OOM_AT:
    sys.meta_path.insert(0, _AfterImport())
