"""Run bundles: the export/import round trip and the refusal of every kind of bad bundle."""
from __future__ import annotations

import pickle
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability.recording import Record
from support.bundles import finished_runs, first_run, rewrite, with_extra_member

from cnnkit import bundle
from cnnkit.bundle import BundleError, export_bundle, import_bundle, read_bundle
from cnnkit.config import RunConfig
from cnnkit.errors import StoreError
from cnnkit.store import Store

METRIC_COLUMNS = ["step", "epoch", "split", "name", "value", "wall"]


@pytest.fixture
def other(tmp_path: Path) -> Store:
    return Store(tmp_path / "other")


@pytest.fixture
def good_bundle(store: Store, tmp_path: Path) -> Path:
    return export_bundle(store, finished_runs(store), tmp_path / "out" / "runs.zip")


def test_round_trip_keeps_metrics_and_groups_with_new_ids(store: Store, other: Store, good_bundle: Path) -> None:
    originals = {r.id: r for r in store.list_runs()}
    new_ids = import_bundle(other, good_bundle)
    assert len(new_ids) == 2 and not set(new_ids) & set(originals)
    for run in other.list_runs():
        origin = run.summary["origin"]
        source = originals[origin["id"]]
        assert (run.name, run.group, run.tags, run.status, run.config) == (
            source.name, source.group, source.tags, source.status, source.config)
        mine = other.metrics([run.id])[METRIC_COLUMNS].reset_index(drop=True)
        theirs = store.metrics([source.id])[METRIC_COLUMNS].reset_index(drop=True)
        assert mine.equals(theirs)
        assert run.summary["best"] == {"test_acc": 0.5}
    group = other.group(source.group)
    assert group is not None and group["meta"] == {"axes": {"seed": "2 seeds"}}
    assert import_bundle(other, good_bundle) == []  # the same bundle again: skipped
    assert len(other.list_runs()) == 2


def test_export_refuses_unfinished_and_unknown_runs(store: Store, tmp_path: Path) -> None:
    queued = store.create_run(RunConfig(epochs=1))
    with pytest.raises(StoreError, match="has not finished"):
        export_bundle(store, [queued], tmp_path / "x.zip")
    with pytest.raises(StoreError, match="no run 0000abcd"):
        export_bundle(store, ["0000abcd"], tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


# ---- refusing bad bundles -----------------------------------------------------------------------

def refused(path: Path, match: str) -> None:
    with pytest.raises(BundleError, match=match) as info:
        read_bundle(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../escape.json", "/etc/cron.d/x", "runs/../../x.json", "runs/12345678.pkl",
                                  "runs/sub/12345678.json", "checkpoint.pt", "runs\\..\\x.json"])
def test_refuses_member_names_outside_the_layout(good_bundle: Path, tmp_path: Path, name: str, record: Record) -> None:
    refused(with_extra_member(good_bundle, tmp_path / "bad.zip", name), "is not allowed")
    record("import", "bundle member outside the layout", "refused")


def test_refuses_symlink_members(good_bundle: Path, tmp_path: Path, record: Record) -> None:
    link = zipfile.ZipInfo("runs/0badcafe.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    refused(with_extra_member(good_bundle, tmp_path / "bad.zip", link, b"/etc/passwd"), "is a link")
    record("import", "bundle member that is a link", "refused")


def test_refuses_oversize_members(good_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  record: Record) -> None:
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 1000)
    refused(good_bundle, r"bytes; the limit is 1000")
    record("import", "oversize bundle member", "refused")


def test_refuses_a_bundle_that_unpacks_too_big(good_bundle: Path, monkeypatch: pytest.MonkeyPatch,
                                               record: Record) -> None:
    monkeypatch.setattr(bundle, "MAX_TOTAL_BYTES", 2000)
    refused(good_bundle, "the limit is")
    record("import", "bundle that unpacks too big", "refused")


def test_refuses_too_many_members(good_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  record: Record) -> None:
    monkeypatch.setattr(bundle, "MAX_RUNS", 1)
    refused(good_bundle, "members")
    record("import", "bundle with too many members", "refused")


def test_refuses_pickle_and_other_non_json(good_bundle: Path, tmp_path: Path, record: Record) -> None:
    def to_pickle(docs: dict[str, Any]) -> None:
        name = f"runs/{docs['manifest.json']['runs'][0]}.json"
        docs[name] = pickle.dumps(docs[name])

    refused(rewrite(good_bundle, tmp_path / "pickle.zip", to_pickle), "is not valid JSON")
    (tmp_path / "text.zip").write_text("not a zip")
    refused(tmp_path / "text.zip", "is not a zip bundle")
    refused(tmp_path / "missing.zip", "cannot read bundle")
    record("import", "pickled bundle member", "refused")
    record("import", "bundle that is not a zip", "refused")


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda docs: first_run(docs).__setitem__(key, value)


def _config(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda docs: first_run(docs)["config"].__setitem__(key, value)


def _manifest(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda docs: docs["manifest.json"].__setitem__(key, value)


BAD_FIELDS = {
    "status still running": (_set("status", "running"), "status must be one of"),
    "missing field": (lambda docs: first_run(docs).pop("queued_at"), "field queued_at is missing"),
    "wrong type": (_set("step", "12"), "field step is missing or has the wrong type"),
    "bool as a number": (_set("total_steps", True), "field total_steps"),
    "id not its file": (_set("id", "0badcafe"), "does not match its file name"),
    "group with a path": (_set("group", "../../etc"), "group must be"),
    "tags not text": (_set("tags", [1, 2]), "name or tags"),
    "metric not a row": (_set("metrics", [[1, 2, "train"]]), "every metric must be"),
    "metric value text": (_set("metrics", [[1, 0.1, "train", "loss", "x", 1.0]]), "every metric must be"),
    "manifest format": (_manifest("format", "zip"), "format must be"),
    "manifest version": (_manifest("version", 99), "version must be 1"),
    "manifest runs": (_manifest("runs", "all"), "runs must be a list"),
    "run listed twice": (lambda docs: docs["manifest.json"]["runs"].append(docs["manifest.json"]["runs"][0]),
                         "more than once"),
    "run listed, absent": (lambda docs: docs["manifest.json"]["runs"].append("0badcafe"), "does not contain it"),
    "bad group": (_manifest("groups", [{"id": "G/../x", "kind": "sweep", "name": "n"}]), "every group needs"),
    "config bound": (_config("lr", -1), "config lr"),
    "config unknown": (_config("shell", "rm -rf /"), "config shell: is not a config field"),
    "config type": (_config("epochs", "ten"), "config epochs"),
    "model options": (_config("model_options", ["x"]), "config"),
    "model option": (_config("model_options", {"activation": "os.system"}), "config"),
    "model mismatch": (_set("model", "vgg"), "do not match the config"),
    "not an object": (lambda docs: docs.__setitem__(f"runs/{docs['manifest.json']['runs'][0]}.json", [1]),
                      "must be a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_refuses_bad_fields_and_configs(good_bundle: Path, tmp_path: Path, other: Store, case: str,
                                        record: Record) -> None:
    change, match = BAD_FIELDS[case]
    bad = rewrite(good_bundle, tmp_path / "bad.zip", change)
    refused(bad, match)
    with pytest.raises(BundleError):
        import_bundle(other, bad)
    assert other.list_runs() == [] and other.groups() == []  # nothing half-imported
    record("import", "bundle field against the schema", "refused")
