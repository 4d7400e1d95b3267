"""`export --tensorboard`: event files read back with TensorBoard's own EventAccumulator."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.tracker_runs import CONFUSION
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from cnnkit.bridges.tensorboard import export_tensorboard, run_folder
from cnnkit.cli import main
from cnnkit.errors import ConfigError
from cnnkit.store import Run, Store


def read(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events


def hparams_of(events: EventAccumulator) -> dict:
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {k: getattr(v, v.WhichOneof("kind")) for k, v in info.hparams.items()}


def test_every_curve_on_its_steps_and_wall_times(store: Store, exported: list[Run], tmp_path: Path) -> None:
    folders = export_tensorboard(store, exported, tmp_path / "tb")
    assert [f.name for f in folders] == [run_folder(r) for r in exported]
    for run, folder in zip(exported, folders):
        events = read(folder)
        points = store.metrics([run.id])
        for (split, name), curve in points.groupby(["split", "name"]):
            tag = name if name == "lr" else f"{split}/{name}"
            scalars = events.Scalars(tag)
            assert [s.step for s in scalars] == curve["step"].tolist()
            assert [s.value for s in scalars] == pytest.approx(curve["value"].tolist())
            assert [s.wall_time for s in scalars] == pytest.approx(curve["wall"].tolist())
        assert set(events.Tags()["scalars"]) >= {"train/loss", "train/acc", "test/acc", "lr"}


def test_config_as_hparams_with_the_final_metrics(store: Store, exported: list[Run], tmp_path: Path) -> None:
    first, _, failed = export_tensorboard(store, exported, tmp_path / "tb")
    events = read(first)
    hparams = hparams_of(events)
    assert hparams["lr"] == 0.1 and hparams["model"] == "lenet" and hparams["model.fc"] == "64"
    assert hparams["group"] == exported[0].group and hparams["status"] == "completed"
    assert hparams["augment"] == "" and "input_size" not in hparams, "None values are left out"
    assert events.Scalars("hparams/final_test_acc")[0].value == pytest.approx(0.5)
    assert events.Scalars("hparams/best_test_acc")[0].value == pytest.approx(0.6)
    failed_events = read(failed)
    assert hparams_of(failed_events)["status"] == "failed"
    assert "hparams/final_test_acc" not in failed_events.Tags()["scalars"]


def test_confusion_matrix_as_a_figure_and_the_record_as_text(store: Store, exported: list[Run],
                                                             tmp_path: Path) -> None:
    first, _, failed = export_tensorboard(store, exported, tmp_path / "tb")
    events = read(first)
    (image,) = events.Images("confusion_matrix")
    assert image.encoded_image_string.startswith(b"\x89PNG") and image.width > 300 and image.height > 300
    assert image.step == exported[0].step and len(CONFUSION) == 2
    text = events.Tensors("run/text_summary")[0].tensor_proto.string_val[0].decode()
    assert f"| id | {exported[0].id} |" in text and "| status | completed |" in text
    failed_text = read(failed).Tensors("run/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "| name | broken / mlp |" in failed_text and "| error | ValueError: boom |" in failed_text
    assert "confusion_matrix" not in read(failed).Tags()["images"]


def test_exporting_again_replaces_instead_of_doubling(store: Store, exported: list[Run], tmp_path: Path) -> None:
    export_tensorboard(store, exported, tmp_path / "tb")
    (folder, *_) = export_tensorboard(store, exported, tmp_path / "tb")
    assert len(read(folder).Scalars("train/loss")) == 10
    assert len(list(folder.glob("events.out.tfevents.*"))) == 2  # the run's, and its hparams'


def test_the_command_exports_a_group(store: Store, exported: list[Run], tmp_path: Path, capsys) -> None:
    out = tmp_path / "tb"
    code = main(["export", "--group", exported[0].group, "--tensorboard", str(out), "--store", str(store.home)])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"exported 2 runs to {out}; view them with: tensorboard --logdir {out}"
    assert sorted(p.name for p in out.iterdir()) == sorted(run_folder(r) for r in exported[:2])


def test_a_folder_that_cannot_be_written_is_one_line(store: Store, exported: list[Run], tmp_path: Path,
                                                     capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"^--tensorboard: cannot write to .*a-file/tb: Not a directory$"):
        export_tensorboard(store, exported, blocker / "tb")
    code = main(["export", "--tensorboard", str(blocker / "tb"), "--store", str(store.home)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --tensorboard: cannot write to ") and err.count("\n") == 1
