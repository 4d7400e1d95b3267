"""Several Ray nodes on this one machine, as Ray's own tests make them (``ray.cluster_utils.Cluster``), and
supervisor processes to serve stores on them: for the ray section of ``cnnkit bench`` and the multi-node tests.

A *bare* node has neither cnnkit nor the datasets, like a machine with only Python, torch and Ray: its
``CNNKIT_DATA`` is an empty folder and ``import cnnkit`` fails there, unless Ray brings the code. Removing a
node kills its processes at once, without a goodbye: a machine that died.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnkit.store import Store

OBJECT_STORE_BYTES = 200 * 2**20  # per node: enough for a dataset and a few checkpoints
NODE_IN_LOG = re.compile(r"running on .* node ([0-9a-f]{8})")
NO_CNNKIT = 'raise ImportError("cnnkit is not installed on this node (a bare node of cnnkit.bench.cluster)")\n'


@dataclass
class LocalCluster:
    """A head node and named worker nodes, with Ray's files in a folder of their own (removed at shutdown)."""

    root: Path
    cluster: Any  # ray.cluster_utils.Cluster
    nodes: dict[str, Any] = field(default_factory=dict)  # name → ray's Node

    @classmethod
    def start(cls, head_cpus: int, head_env: dict[str, str] | None = None) -> LocalCluster:
        """A head with ``head_cpus`` CPUs for tasks (0: it only hosts the supervisor's side) and ``head_env``."""
        from ray.cluster_utils import Cluster

        # A short folder of our own: Ray's socket paths must stay under 108 characters.
        root = Path(tempfile.mkdtemp(prefix="cnnkit-ray-"))
        try:
            cluster = Cluster(initialize_head=True, head_node_args={
                "num_cpus": head_cpus, "temp_dir": str(root / "ray"), "include_dashboard": False,
                "object_store_memory": OBJECT_STORE_BYTES, "env_vars": head_env or {}})
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        local = cls(root, cluster)
        local.nodes["head"] = cluster.head_node
        return local

    @property
    def address(self) -> str:
        return self.cluster.address

    def add_node(self, name: str, cpus: int = 1, bare: bool = True) -> str:
        """Start a worker node; returns its Ray node id."""
        env = self._bare_env(name) if bare else {}
        # Its own folder for Ray's files, as on a machine of its own: nodes that shared one would unpack the
        # job's code into the same folder, pulling it from under each other's workers.
        self.nodes[name] = self.cluster.add_node(num_cpus=cpus, object_store_memory=OBJECT_STORE_BYTES, env_vars=env,
                                                 temp_dir=str(self.root / name / "ray"))
        return self.nodes[name].node_id

    def _bare_env(self, name: str) -> dict[str, str]:
        no_data, no_code = self.root / name / "data", self.root / name / "python"
        no_data.mkdir(parents=True)
        (no_code / "cnnkit").mkdir(parents=True)
        (no_code / "cnnkit" / "__init__.py").write_text(NO_CNNKIT)
        return {"CNNKIT_DATA": str(no_data), "PYTHONPATH": str(no_code)}

    def remove_node(self, name: str) -> None:
        """Kill a worker node's processes at once: the node dies under its tasks."""
        self.cluster.remove_node(self.nodes.pop(name), allow_graceful=False)

    def name_of(self, node_prefix: str | None) -> str | None:
        """The name of the node whose id starts with ``node_prefix`` (None for none)."""
        if not node_prefix:
            return None
        return next((name for name, node in self.nodes.items() if node.node_id.startswith(node_prefix)), None)

    def shutdown(self) -> None:
        """Stop every node, the head last, and remove Ray's files. Gracefully: a raylet killed at once leaves
        its agents behind for a while (the head's, at least)."""
        try:
            for name in [n for n in self.nodes if n != "head"]:
                self.cluster.remove_node(self.nodes.pop(name), allow_graceful=True)
            if self.cluster.head_node is not None:
                self.cluster.remove_node(self.cluster.head_node, allow_graceful=True)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def node_of(store: Store, run_id: str) -> str | None:
    """The id prefix of the node a run's latest task said it runs on (from the run's log)."""
    found = NODE_IN_LOG.findall(store.log_tail(run_id))
    return found[-1] if found else None


@dataclass
class SupervisorProcess:
    """``python -m cnnkit worker …`` for a store, in a process group of its own, its output in ``log``."""

    proc: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, store: Store, args: list[str], log: Path, env: dict[str, str] | None = None,
              timeout: float = 180.0) -> SupervisorProcess:
        """Start it with the worker's ``args`` and wait until it serves (for Ray: joined, the code uploaded)."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cnnkit", "worker", "--store", str(store.home), *args],
                env=env or dict(os.environ), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=Path(__file__).resolve().parents[2])
        supervisor = cls(proc, log)
        deadline = time.time() + timeout
        while "serving" not in supervisor.output():
            if proc.poll() is not None or time.time() > deadline:
                supervisor.kill()
                raise RuntimeError(f"the supervisor did not start: {supervisor.output()[-2000:]}")
            time.sleep(0.2)
        return supervisor

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as a restart does: its tasks checkpoint and their runs wait for the next supervisor."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL whatever is left of its process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
