"""Which runs an export takes (ids, a group, or every finished run), and the refusals, one line each."""
from __future__ import annotations

from pathlib import Path

import pytest

from cnnkit.bridges import finished_runs, metric_key
from cnnkit.cli import main
from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError, StoreError
from cnnkit.store import Run, Store


def test_ids_a_group_or_every_finished_run_oldest_first(store: Store, exported: list[Run]) -> None:
    queued = store.create_run(RunConfig(epochs=1))
    ids = [r.id for r in exported]
    assert [r.id for r in finished_runs(store)] == ids, "queued runs are left out"
    assert [r.id for r in finished_runs(store, group=exported[0].group)] == ids[:2]
    assert [r.id for r in finished_runs(store, [ids[2], ids[0]])] == [ids[0], ids[2]]
    with pytest.raises(StoreError, match=f"^run {queued} has not finished; only finished runs can be exported$"):
        finished_runs(store, [ids[0], queued])
    with pytest.raises(StoreError, match=r"^no run 0000abcd in "):
        finished_runs(store, ["0000abcd"])


def test_an_unknown_group_or_nothing_to_export_is_one_line(store: Store, exported: list[Run], capsys) -> None:
    with pytest.raises(ConfigError, match=r"^--group: no group 'nope' in .* \(`cnnkit runs` shows each run's group\)$"):
        finished_runs(store, group="nope")
    empty = store.create_group("sweep", "nothing yet")
    with pytest.raises(ConfigError, match="^run_ids: no finished runs to export$"):
        finished_runs(store, group=empty)
    for target in ("--out", "--tensorboard", "--mlflow"):
        assert main(["export", "--group", "nope", target, "x", "--store", str(store.home)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --group: no group 'nope'") and err.count("\n") == 1


def test_export_needs_exactly_one_destination(store: Store, tmp_path: Path, capsys) -> None:
    for argv, says in (([], "one of the arguments --out --tensorboard --mlflow is required"),
                       (["--out", "a.zip", "--tensorboard", "tb"], "--tensorboard: not allowed with argument --out")):
        with pytest.raises(SystemExit) as caught:
            main(["export", *argv, "--store", str(store.home)])
        err = capsys.readouterr().err
        assert caught.value.code == 2 and err.count("\n") == 1 and says in err


def test_the_bundle_export_is_unchanged(store: Store, exported: list[Run], tmp_path: Path, capsys) -> None:
    out = tmp_path / "runs.zip"
    assert main(["export", "--group", exported[0].group, "--out", str(out), "--store", str(store.home)]) == 0
    assert capsys.readouterr().out.strip() == f"exported 2 runs to {out}"


def test_metric_names() -> None:
    assert [metric_key("train", "loss", "/"), metric_key("test", "acc", "_"), metric_key("train", "lr", "/")] == [
        "train/loss", "test_acc", "lr"]
