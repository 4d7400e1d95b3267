"""Run bundles: a zip of JSON documents to share finished runs, and its validated import.

A bundle holds ``manifest.json`` and one ``runs/<id>.json`` per run (its record and metric points).
Nothing in it is executable or pickled; on import every member name, size and field is checked, and
imported runs get new ids from the store.
"""
from __future__ import annotations

import hashlib
import json
import re
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.errors import CnnkitError, StoreError
from cnnkit.events import MetricPoint, Status
from cnnkit.store import Store, is_run_id

FORMAT = "cnnkit-bundle"
VERSION = 1
MAX_MEMBER_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
MAX_RUNS = 5000
MEMBER_RE = re.compile(r"^(manifest\.json|runs/[0-9a-f]{8}\.json)\Z")  # \Z: "$" would let a trailing newline in
GROUP_RE = re.compile(r"^[a-z0-9-]{1,80}\Z")
METRIC_FIELDS = ("step", "epoch", "split", "name", "value", "wall")
RUN_FIELDS = {  # field → allowed types
    "id": (str,), "name": (str,), "group": (str, type(None)), "tags": (list,), "status": (str,),
    "model": (str,), "dataset": (str,), "config": (dict,), "queued_at": (int, float),
    "started_at": (int, float, type(None)), "finished_at": (int, float, type(None)), "device": (str, type(None)),
    "step": (int,), "total_steps": (int,), "epoch": (int, float), "error": (str, type(None)), "summary": (dict,),
}


class BundleError(StoreError):
    """A bundle was refused; the message says which member or field and why."""


@dataclass
class Bundle:
    runs: list[dict[str, Any]]  # run records, each with "metrics": list of [step, epoch, split, name, value, wall]
    groups: list[dict[str, Any]]
    created_at: float
    digest: str


def export_bundle(store: Store, run_ids: list[str], out: Path | str) -> Path:
    """Write the finished runs ``run_ids`` (with their groups and metrics) to the zip ``out``."""
    runs = store.list_runs(ids=run_ids)
    missing = set(run_ids) - {r.id for r in runs}
    if missing:
        raise StoreError(f"no run {sorted(missing)[0]} in {store.home}")
    active = [r.id for r in runs if r.active]
    if active:
        raise StoreError(f"run {active[0]} has not finished; only finished runs can be exported")
    metrics = store.metrics(run_ids)
    groups = [g for g in (store.group(gid) for gid in sorted({r.group for r in runs if r.group})) if g]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps({
                "format": FORMAT, "version": VERSION, "created_at": time.time(),
                "runs": [r.id for r in runs], "groups": groups,
            }, indent=1))
            for run in runs:
                points = metrics[metrics.run_id == run.id][list(METRIC_FIELDS)].values.tolist()
                record = {k: getattr(run, k) for k in RUN_FIELDS} | {"metrics": points}
                zf.writestr(f"runs/{run.id}.json", json.dumps(record))
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write bundle {out}: {exc.strerror or exc}") from None
    return out


def read_bundle(path: Path | str) -> Bundle:
    """Open and validate a bundle without touching any store."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TOTAL_BYTES:
        raise BundleError(f"bundle {path.name} is {len(raw) / 2**20:.0f} MiB; "
                          f"the limit is {MAX_TOTAL_BYTES // 2**20} MiB")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BundleError(f"{path.name} is not a zip bundle") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_RUNS + 1:
            raise BundleError(f"bundle has {len(infos)} members; the limit is {MAX_RUNS + 1}")
        members = {info.filename: info for info in infos}
        total = 0
        for name, info in members.items():
            if not MEMBER_RE.match(name):
                raise BundleError(f"bundle member {name!r} is not allowed (only manifest.json and runs/<id>.json)")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise BundleError(f"bundle member {name!r} is a link; links are refused")
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleError(f"bundle member {name!r} is {info.file_size} bytes; the limit is {MAX_MEMBER_BYTES}")
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BundleError(f"bundle unpacks to {total} bytes; the limit is {MAX_TOTAL_BYTES}")
        if "manifest.json" not in members:
            raise BundleError("bundle has no manifest.json")
        manifest = _json(zf, "manifest.json")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"manifest.json: format must be {FORMAT!r}")
        if manifest.get("version") != VERSION:
            raise BundleError(f"manifest.json: version must be {VERSION}, got {manifest.get('version')!r}")
        ids = manifest.get("runs")
        if not isinstance(ids, list) or len(ids) > MAX_RUNS or not all(is_run_id(i) for i in ids):
            raise BundleError(f"manifest.json: runs must be a list of at most {MAX_RUNS} run ids")
        if len(set(ids)) != len(ids):
            raise BundleError("manifest.json: a run is listed more than once")
        runs = [_check_run(_json(zf, f"runs/{i}.json", members), i) for i in ids]
        groups = [_check_group(g) for g in manifest.get("groups", [])]
    return Bundle(runs, groups, float(manifest.get("created_at", 0)), hashlib.sha256(raw).hexdigest()[:16])


def import_bundle(store: Store, path: Path | str) -> list[str]:
    """Import a bundle's runs under new ids; runs imported before from the same bundle are skipped."""
    bundle = read_bundle(path)
    known = {(r.summary.get("origin") or {}).get("key") for r in store.list_runs()}
    new_runs = []
    for run in bundle.runs:
        key = f"{bundle.digest}/{run['id']}"
        if key in known:
            continue
        record = {k: run[k] for k in RUN_FIELDS if k != "id"}
        record["summary"] = run["summary"] | {"origin": {"key": key, "bundle": Path(path).name, "id": run["id"]}}
        new_runs.append((record, [MetricPoint(*m) for m in run["metrics"]]))
    return store.insert_finished_runs(new_runs, bundle.groups)  # one transaction: all of it or nothing


def _json(zf: zipfile.ZipFile, name: str, members: dict | None = None) -> Any:
    if members is not None and name not in members:
        raise BundleError(f"bundle lists run {name} but does not contain it")
    try:
        return json.loads(zf.read(name))
    except (json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile, ValueError) as exc:
        raise BundleError(f"bundle member {name} is not valid JSON ({type(exc).__name__})") from None


def _check_run(run: Any, run_id: str) -> dict[str, Any]:
    where = f"runs/{run_id}.json"
    if not isinstance(run, dict):
        raise BundleError(f"{where}: must be a JSON object")
    for key, types in RUN_FIELDS.items():
        if key not in run or not isinstance(run[key], types) or isinstance(run[key], bool):
            raise BundleError(f"{where}: field {key} is missing or has the wrong type")
    if run["id"] != run_id:
        raise BundleError(f"{where}: id {run['id']!r} does not match its file name")
    if run["status"] not in Status.FINISHED:
        raise BundleError(f"{where}: status must be one of {', '.join(Status.FINISHED)}")
    if run["group"] is not None and not GROUP_RE.match(run["group"]):
        raise BundleError(f"{where}: group must be lower-case letters, digits and dashes")
    if not all(isinstance(t, str) and len(t) <= 50 for t in run["tags"]) or len(run["name"]) > 200:
        raise BundleError(f"{where}: name or tags too long or not text")
    try:
        config = RunConfig.from_dict(run["config"])
    except CnnkitError as exc:
        raise BundleError(f"{where}: config {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a value of a shape no field expects
        raise BundleError(f"{where}: config is malformed ({type(exc).__name__})") from None
    if config.model != run["model"] or config.dataset != run["dataset"]:
        raise BundleError(f"{where}: model/dataset do not match the config")
    metrics = run.get("metrics")
    if not isinstance(metrics, list):
        raise BundleError(f"{where}: metrics must be a list")
    for point in metrics:
        if (not isinstance(point, list) or len(point) != 6 or not isinstance(point[2], str)
                or not isinstance(point[3], str) or not all(isinstance(point[i], (int, float)) for i in (0, 1, 4, 5))):
            raise BundleError(f"{where}: every metric must be [step, epoch, split, name, value, wall]")
    return run


def _check_group(group: Any) -> dict[str, Any]:
    if (not isinstance(group, dict) or not isinstance(group.get("id"), str) or not GROUP_RE.match(group["id"])
            or not isinstance(group.get("kind"), str) or not isinstance(group.get("name"), str)
            or not isinstance(group.get("meta", {}), dict)):
        raise BundleError("manifest.json: every group needs an id (lower-case, digits, dashes), kind, name and meta")
    return {"id": group["id"], "kind": group["kind"][:40], "name": group["name"][:200], "meta": group.get("meta", {})}
