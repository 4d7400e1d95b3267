"""views.activations: the runs the page can show, its first images, titles and captions."""
from __future__ import annotations

import numpy as np
import torch
from support.runs import finished_run

from cnnkit.config import RunConfig
from cnnkit.events import Status
from cnnkit.insight.activations import FeatureMaps, LoadedRun
from cnnkit.models import registry
from cnnkit.plan import plan_run
from cnnkit.store import Store
from cnnkit.views.activations import (
    accuracy,
    attribution_methods,
    attribution_titles,
    default_pair,
    filter_images,
    maps_title,
    mistake_titles,
    overlays,
    prediction_text,
    showable_runs,
)

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")


def finished(store: Store, status: Status) -> str:
    return finished_run(store, RunConfig(epochs=1), name=str(status), process=True,
                        started={"device": "cpu", "total_steps": 10}, status=status)


def test_showable_runs_are_finished_runs_with_a_checkpoint(store: Store) -> None:
    ids = {status: finished(store, status) for status in (Status.COMPLETED, Status.CANCELLED, Status.FAILED)}
    assert showable_runs(store) == []
    for run_id in ids.values():
        store.checkpoint_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        store.checkpoint_path(run_id).write_bytes(b"")
    assert {r.id for r in showable_runs(store)} == {ids[Status.COMPLETED], ids[Status.CANCELLED]}


def test_default_pair_is_pullover_and_coat_on_fashion_mnist() -> None:
    assert default_pair("fashion-mnist") == (2, 4) and default_pair("cifar10") == (0, 1)


def test_accuracy_and_prediction_text() -> None:
    preds = {"label": torch.tensor([0, 1, 2, 3]), "pred": torch.tensor([0, 1, 2, 0])}
    assert accuracy(preds) == 0.75
    probs = torch.tensor([0.1, 0.2, 0.05, 0.05, 0.6])
    assert prediction_text(probs, 4, CLASSES) == "predicted **Coat** (60.0 %)"
    assert prediction_text(probs, 2, CLASSES) == "predicted **Coat** (60.0 %) — wrong"


def test_titles_of_maps_and_mistakes() -> None:
    layer = FeatureMaps("0", "conv 1 (Conv2d 1→6, 5×5)", torch.zeros(2, 6, 28, 28))
    assert maps_title(layer, layer.maps[0].numpy()) == "conv 1 (Conv2d 1→6, 5×5): 6 maps 28×28"
    assert mistake_titles([(17, 4, 2)], CLASSES) == ["#17 Coat→Pullover"]
    assert mistake_titles([(3, 0, 1)], CLASSES) == ["#3 T-shirt/t→Trouser"]  # names cut to 9 characters


def test_filter_images_show_rgb_whole_and_other_inputs_by_channel_0() -> None:
    shown, title = filter_images(torch.zeros(6, 1, 5, 5))
    assert shown.shape == (6, 5, 5) and title == "conv 1 filters (6 × 1 × 5×5)"
    shown, title = filter_images(torch.zeros(8, 3, 3, 3))
    assert shown.shape == (8, 3, 3, 3) and title == "conv 1 filters (8 × 3 × 3×3)"
    shown, title = filter_images(torch.zeros(16, 6, 5, 5))
    assert isinstance(shown, np.ndarray) and shown.shape == (16, 5, 5)
    assert title == "conv 1 filters (16 × 6 × 5×5, input channel 0)"


def loaded(model: str) -> LoadedRun:
    config = RunConfig(model=model)
    plan = plan_run(config)
    net = registry.build_model(model, 1, 10, 28)
    return LoadedRun("abcd1234", model, config, net, plan.dataset, plan.transform, None)


def test_attribution_methods_offer_saliency_where_there_is_no_conv() -> None:
    assert attribution_methods(loaded("lenet")) == (("gradcam", "saliency"), None)
    methods, note = attribution_methods(loaded("mlp"))
    assert methods == ("saliency",) and note.startswith("mlp has no conv layer, so Grad-CAM") and "\n" not in note


def test_overlays_and_their_titles() -> None:
    images = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    maps = torch.rand(2, 28, 28)
    shown = overlays(images, maps)
    assert shown.shape == (2, 3, 28, 28) and shown.dtype == np.uint8
    titles = attribution_titles([7, 9], torch.tensor([4, 2]), torch.tensor([2, 2]), CLASSES)
    assert titles == ["#7 Coat, map of Pullover", "#9 Pullover, map of Pullover"]
    named = attribution_titles([7], torch.tensor([4]), torch.tensor([4]), CLASSES, ["relu"])
    assert named == ["relu: #7 Coat, map of Coat"]
