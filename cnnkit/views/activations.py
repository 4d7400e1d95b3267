"""The Activations page: which runs it can show, the images it starts with, its titles and captions,
and the attribution maps laid over the images."""
from __future__ import annotations

import numpy as np
import torch

from cnnkit.events import Status
from cnnkit.insight import explain
from cnnkit.insight.activations import FeatureMaps, LoadedRun, conv_layers
from cnnkit.store import Run, Store
from cnnkit.watch.probe import default_pair as default_pair  # the classes whose images the page shows first

SHOWABLE = (Status.COMPLETED, Status.CANCELLED)  # finished runs whose weights are worth looking at
MAX_RUNS = 500


def showable_runs(store: Store) -> list[Run]:
    """Finished runs that have a checkpoint to load, newest first."""
    return [r for r in store.list_runs(status=SHOWABLE, limit=MAX_RUNS) if store.checkpoint_path(r.id).exists()]


def accuracy(preds: dict[str, torch.Tensor]) -> float:
    """The share of right answers among ``activations.predictions``."""
    return float((preds["label"] == preds["pred"]).float().mean())


def prediction_text(probs: torch.Tensor, label: int, classes: tuple[str, ...]) -> str:
    """"predicted **Coat** (71.3 %) — wrong": the model's answer for one image of class ``label``."""
    guess = int(probs.argmax())
    return (f"predicted **{classes[guess]}** ({100 * float(probs[guess]):.1f} %)"
            + ("" if guess == label else " — wrong"))


def maps_title(layer: FeatureMaps, maps: np.ndarray) -> str:
    """"conv 1 (…): 6 maps 28×28" for one image's (C, H, W) maps of ``layer``."""
    return f"{layer.title}: {maps.shape[0]} maps {maps.shape[1]}×{maps.shape[2]}"


def filter_images(filters: torch.Tensor) -> tuple[np.ndarray, str]:
    """conv 1's (out, in, h, w) weights as images, with a title: RGB filters whole, others by input channel 0."""
    shown = filters[:, 0].numpy() if filters.shape[1] != 3 else filters.numpy()
    out, channels, h, w = filters.shape
    which = ", input channel 0" if channels not in (1, 3) else ""
    title = f"conv 1 filters ({out} × {channels} × {h}×{w}{which})"
    return shown, title


def mistake_titles(mistakes: list[tuple[int, int, int]], classes: tuple[str, ...]) -> list[str]:
    """"#17 Shirt→T-shirt/t" for each (test index, true class, predicted class), names cut to 9 characters."""
    return [f"#{i} {classes[t][:9]}→{classes[p][:9]}" for i, t, p in mistakes]


def attribution_methods(loaded: LoadedRun) -> tuple[tuple[str, ...], str | None]:
    """The attribution methods a run's model allows, and a line saying why Grad-CAM is not among them."""
    if conv_layers(loaded.model):
        return explain.METHODS, None
    return ("saliency",), (f"{loaded.config.model} has no conv layer, so Grad-CAM has nothing to weigh; "
                           "its gradient saliency is shown")


def overlays(images: torch.Tensor, maps: torch.Tensor) -> np.ndarray:
    """uint8 images (N, C, H, W) with their maps (N, H, W) laid over in colour: (N, 3, H, W) uint8."""
    return np.stack([explain.overlay(image.numpy(), heat.numpy()).transpose(2, 0, 1)
                     for image, heat in zip(images, maps)])


def attribution_titles(indices: list[int], labels: torch.Tensor, targets: torch.Tensor, classes: tuple[str, ...],
                       run_names: list[str] | None = None) -> list[str]:
    """"#17 Coat, map of Pullover" per image (prefixed by its run's name when given)."""
    titles = [f"#{i} {classes[int(y)]}, map of {classes[int(t)]}" for i, y, t in zip(indices, labels, targets)]
    return [f"{name}: {t}" for name, t in zip(run_names, titles)] if run_names else titles
