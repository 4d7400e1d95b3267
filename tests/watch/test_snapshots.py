"""watch.snapshots: the last snapshot is what Activations shows for the finished run, bit for bit; the same seed
gives the same snapshots; a resumed run carries them on; long runs keep a capped, stated set of epochs."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from support import requires_fmnist
from support.runs import trained_run

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.engine import fit
from cnnkit.errors import StoreError
from cnnkit.insight import activations, explain
from cnnkit.store import Store
from cnnkit.views import activations as view
from cnnkit.watch.snapshots import MAX_SNAPSHOTS, Snapshots, kept_epochs, read


def tiny(**changes) -> RunConfig:
    base = {"model_options": {"activation": "relu", "pool": "max"}, "lr": 0.1, "epochs": 2, "subset": 0.01,
            "test_subset": 0.02, "batch_size": 64, "device": "cpu"}
    return RunConfig(**{**base, **changes})


def same(a: Snapshots, b: Snapshots, exact: bool = True) -> None:
    assert (a.indices, a.labels, a.titles, a.gradcam_layer, a.epochs) == (b.indices, b.labels, b.titles,
                                                                         b.gradcam_layer, b.epochs)
    for x, y in zip(a.kept, b.kept):
        for key in ("filters", "heat", "targets", "probs", "confusion"):
            assert torch.equal(x[key], y[key]) if exact else torch.allclose(x[key].float(), y[key].float(),
                                                                             rtol=1e-4, atol=1e-5), key
        assert all(torch.equal(m, n) if exact else torch.allclose(m, n, rtol=1e-4, atol=1e-5)
                   for m, n in zip(x["maps"], y["maps"]))


@requires_fmnist
def test_the_last_snapshot_is_what_activations_shows_for_the_finished_run(fmnist: loading.Data, store: Store
                                                                          ) -> None:
    run_id = trained_run(store, tiny(permute_pixels=True), dataset=fmnist)
    snaps = activations.snapshots(store, run_id)
    assert snaps.epochs == [1, 2] and snaps.gradcam_layer == "3"
    pair = [activations.nth_of_class(fmnist.test_y, cls) for cls in view.default_pair("fashion-mnist")]
    assert snaps.indices == pair and snaps.labels == [2, 4]  # the page's first images: a pullover and a coat
    last = snaps.kept[-1]
    loaded = activations.load_run(store, run_id)
    images = fmnist.test_x[pair]
    shown = activations.feature_maps(loaded, images)
    assert snaps.titles == [m.title for m in shown]
    assert all(torch.equal(m.maps, s) for m, s in zip(shown, last["maps"]))
    assert torch.equal(activations.conv1_filters(loaded), last["filters"])
    assert torch.equal(activations.predict(loaded, images), last["probs"])
    heat, targets, layer = explain.attribution_maps(loaded, images, "gradcam")
    assert layer == snaps.gradcam_layer and torch.equal(heat, last["heat"]) and torch.equal(targets, last["targets"])
    matrix = activations.confusion_matrix(activations.predictions(store, run_id), 10)
    assert last["confusion"].tolist() == matrix
    # and the slider's figures at the last epoch are the first tab's figures
    figures = view.epoch_figures(snaps, 2, images, fmnist.spec.classes)
    live = view.maps_figure(shown[0].title, shown[0].maps[0].numpy())
    assert np.array_equal(figures.maps[0].data[0].z, live.data[0].z, equal_nan=True)
    assert np.array_equal(figures.filters.data[0].z, view.filters_figure(activations.conv1_filters(loaded)).data[0].z,
                          equal_nan=True)


@requires_fmnist
def test_the_same_seed_gives_the_same_snapshots(fmnist: loading.Data, tmp_path: Path) -> None:
    for name in ("a", "b"):
        fit(tiny(), dataset=fmnist, snapshots=tmp_path / f"{name}.pt")
    same(read(tmp_path / "a.pt"), read(tmp_path / "b.pt"))
    fit(tiny(seed=1), dataset=fmnist, snapshots=tmp_path / "c.pt")
    assert not torch.equal(read(tmp_path / "a.pt").kept[0]["filters"], read(tmp_path / "c.pt").kept[0]["filters"])


@requires_fmnist
def test_a_resumed_run_carries_its_snapshots_on(fmnist: loading.Data, tmp_path: Path) -> None:
    fit(tiny(), dataset=fmnist, snapshots=tmp_path / "straight.pt")
    calls = iter(range(10**6))
    stopped = fit(tiny(), should_stop=lambda: next(calls) >= 15, checkpoint=tmp_path / "ckpt.pt", dataset=fmnist,
                  snapshots=tmp_path / "resumed.pt")  # 10 steps an epoch: stopped in the second
    assert stopped.status == "cancelled" and read(tmp_path / "resumed.pt").epochs == [1]
    fit(tiny(), checkpoint=tmp_path / "ckpt.pt", resume=True, dataset=fmnist, snapshots=tmp_path / "resumed.pt")
    same(read(tmp_path / "resumed.pt"), read(tmp_path / "straight.pt"), exact=False)


def test_past_the_cap_a_run_keeps_the_first_every_power_of_two_stride_and_the_last() -> None:
    assert kept_epochs(10, 64) == list(range(1, 11))
    assert kept_epochs(5, 2) == [1, 5]
    assert kept_epochs(10, 4) == [1, 5, 9, 10]
    assert kept_epochs(100, 64) == [*range(1, 100, 2), 100]
    assert kept_epochs(1000, MAX_SNAPSHOTS) == [*range(1, 1000, 16), 1000]
    snaps = Snapshots([0, 1], [2, 4])
    for epoch in range(1, 301):
        snaps.add({"epoch": epoch}, 8)
        assert snaps.epochs == kept_epochs(epoch, 8), epoch  # what is kept never needs an epoch already dropped
    assert snaps.epochs == [1, 65, 129, 193, 257, 300]
    snaps.until(100)
    assert snaps.epochs == [1, 65]
    assert snaps.at(70)["epoch"] == 65 and snaps.at(1)["epoch"] == 1


def test_damaged_or_foreign_snapshot_files_are_one_line_errors(tmp_path: Path, store: Store) -> None:
    assert read(tmp_path / "none.pt") is None
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(Path("x"), protocol=2))
    for name in ("junk.pt", "evil.pt"):
        with pytest.raises(StoreError, match=f"^cannot read the snapshots in {tmp_path / name}: [^\n]+$"):
            read(tmp_path / name)
    run_id = store.create_run(tiny())
    with pytest.raises(StoreError, match=f"^run {run_id} has no epoch snapshots \\(runs trained before"):
        activations.snapshots(store, run_id)
