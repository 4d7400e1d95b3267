"""cnnkit.insight.activations: a trained run's feature maps, filters, predictions and the per-class preview."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from support.runs import trained_run

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.errors import CnnkitError, StoreError
from cnnkit.insight import activations
from cnnkit.store import Store

pytestmark = pytest.mark.skipif(not loading.is_available("fashion-mnist"), reason="Fashion-MNIST is not installed")


def train(store: Store, fmnist: loading.Data, **fields) -> str:
    config = RunConfig(epochs=1, subset=0.02, test_subset=0.05, batch_size=64, device="cpu", **fields)
    return trained_run(store, config, dataset=fmnist)


Trained = tuple[Store, str, str]  # the store, the LeNet run id, the MLP run id


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, fmnist: loading.Data) -> Trained:
    store = Store(tmp_path_factory.mktemp("act") / "store")
    lenet = train(store, fmnist, model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1,
                  permute_pixels=True)
    mlp = train(store, fmnist, model="mlp")
    return store, lenet, mlp


def test_feature_maps_of_the_first_two_conv_layers(trained: Trained, fmnist: loading.Data) -> None:
    store, lenet, _ = trained
    loaded = activations.load_run(store, lenet)
    assert not loaded.model.training and loaded.permutation is not None
    images = fmnist.test_x[[0, 1, 2]]
    maps = activations.feature_maps(loaded, images)
    assert [m.maps.shape for m in maps] == [(3, 6, 28, 28), (3, 16, 10, 10)]
    assert all("after ReLU" in m.title for m in maps)
    assert all(bool((m.maps >= 0).all()) for m in maps)  # after the ReLU
    probs = activations.predict(loaded, images)
    assert probs.shape == (3, 10) and torch.allclose(probs.sum(1), torch.ones(3))


def test_prepare_applies_the_runs_own_pixel_permutation(trained: Trained, fmnist: loading.Data) -> None:
    store, lenet, _ = trained
    loaded = activations.load_run(store, lenet)
    image = fmnist.test_x[:1]
    x = activations.prepare(loaded, image)
    expected = loading.permute_pixels(image, loading.pixel_permutation(28, 28)).float() / 255
    assert torch.allclose(x, expected)


def test_conv1_filters_and_the_mlp_has_none(trained: Trained) -> None:
    store, lenet, mlp = trained
    assert activations.conv1_filters(activations.load_run(store, lenet)).shape == (6, 1, 5, 5)
    loaded = activations.load_run(store, mlp)
    with pytest.raises(CnnkitError, match="no convolution"):
        activations.feature_maps(loaded, torch.zeros(1, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(CnnkitError, match="no convolution"):
        activations.conv1_filters(loaded)


def test_predictions_confusion_and_misclassified(trained: Trained, fmnist: loading.Data) -> None:
    store, lenet, _ = trained
    preds = activations.predictions(store, lenet)
    n = preds["label"].numel()
    assert n == 500 and torch.equal(fmnist.test_y[preds["index"]], preds["label"])
    cm = activations.confusion_matrix(preds, 10)
    assert sum(map(sum, cm)) == n
    assert cm == store.get(lenet).summary["confusion"]
    wrong = activations.misclassified(preds, limit=5)
    assert len(wrong) <= 5 and all(t != p for _, t, p in wrong)
    some = activations.misclassified(preds, limit=1000, true_class=4)
    assert all(t == 4 for _, t, _ in some)


def test_missing_or_hostile_checkpoint_is_a_one_line_store_error(store: Store, tmp_path: Path) -> None:
    run_id = store.create_run(RunConfig())
    with pytest.raises(StoreError, match="no checkpoint"):
        activations.load_run(store, run_id)
    with pytest.raises(StoreError, match="no saved test predictions"):
        activations.predictions(store, run_id)

    class Evil:
        def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
            return (print, ("pwned",))

    path = store.checkpoint_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Evil()}, path)
    with pytest.raises(StoreError, match="cannot read the checkpoint") as err:
        activations.load_run(store, run_id)
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError):
        activations.load_run(store, "../../etc")


def test_preview_and_picking_by_class(fmnist: loading.Data) -> None:
    images, titles = activations.preview(fmnist, per_class=3)
    assert images.shape == (30, 1, 28, 28) and titles[:3] == ["T-shirt/top"] * 3 and titles[-1] == "Ankle boot"
    again, _ = activations.preview(fmnist, per_class=3)
    assert torch.equal(images, again)
    i = activations.nth_of_class(fmnist.test_y, 4, 2)
    assert int(fmnist.test_y[i]) == 4
    with pytest.raises(CnnkitError):
        activations.nth_of_class(torch.zeros(5, dtype=torch.long), 3)
