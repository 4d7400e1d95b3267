"""The Activations page: which runs it can show, the images it starts with, its titles and captions, the
attribution maps laid over the images, and the figures of a run's epoch snapshots (drawn by the same functions
as the finished run's, so the last epoch looks exactly like the page's first tab)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from cnnkit import plots
from cnnkit.events import Status
from cnnkit.insight import explain
from cnnkit.insight.activations import FeatureMaps, LoadedRun, conv_layers
from cnnkit.store import Run, Store
from cnnkit.watch.probe import default_pair as default_pair  # the classes whose images the page shows first
from cnnkit.watch.snapshots import Snapshots

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
    return _maps_title(layer.title, maps)


def _maps_title(title: str, maps: np.ndarray) -> str:
    return f"{title}: {maps.shape[0]} maps {maps.shape[1]}×{maps.shape[2]}"


def maps_figure(title: str, maps: np.ndarray) -> go.Figure:
    """One image's (C, H, W) maps of the layer titled ``title``, each map on its own colour range."""
    return plots.image_grid(maps, [str(i) for i in range(len(maps))], cols=8, cell=52, normalize_each=True,
                            colorscale="viridis", title=_maps_title(title, maps))


def filters_figure(filters: torch.Tensor) -> go.Figure:
    """conv 1's (out, in, h, w) weights, each filter on its own colour range (red positive, blue negative)."""
    shown, title = filter_images(filters)
    return plots.image_grid(shown, [str(i) for i in range(len(shown))], cols=16, cell=40, normalize_each=True,
                            colorscale="RdBu", title=title)


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


def attribution_figure(images: torch.Tensor, maps: torch.Tensor, titles: list[str], title: str, cell: int = 220
                       ) -> go.Figure:
    """uint8 images (N, C, H, W) with their maps (N, H, W) laid over, two to a row."""
    return plots.image_grid(overlays(images, maps), titles, cols=2, cell=cell, title=title)


def attribution_titles(indices: list[int], labels: torch.Tensor, targets: torch.Tensor, classes: tuple[str, ...],
                       run_names: list[str] | None = None) -> list[str]:
    """"#17 Coat, map of Pullover" per image (prefixed by its run's name when given)."""
    titles = [f"#{i} {classes[int(y)]}, map of {classes[int(t)]}" for i, y, t in zip(indices, labels, targets)]
    return [f"{name}: {t}" for name, t in zip(run_names, titles)] if run_names else titles


# ---- a run's epochs -------------------------------------------------------------------------------

def runs_with_snapshots(store: Store, dataset: str, other_than: str) -> list[Run]:
    """Finished runs on ``dataset`` that kept epoch snapshots, but run ``other_than``, newest first."""
    return [r for r in showable_runs(store) if r.dataset == dataset and r.id != other_than
            and store.snapshots_path(r.id).exists()]


@dataclass
class EpochFigures:
    """What a run's snapshot of one epoch shows: the figures of the page's first tab at that epoch."""

    epoch: int  # the epoch shown: the one asked for, or the latest kept before it
    caption: str  # markdown
    attribution: go.Figure | None  # Grad-CAM over the pair
    filters: go.Figure | None
    maps: list[go.Figure]  # image A's conv 1 and conv 2 maps, then image B's
    confusion: go.Figure


def epoch_figures(snaps: Snapshots, epoch: int, images: torch.Tensor, classes: tuple[str, ...],
                  normalize: bool = True) -> EpochFigures:
    """The figures of ``snaps`` at ``epoch``; ``images`` are the pair's uint8 test images (``snaps.indices``)."""
    snap = snaps.at(epoch)
    confusion = snap["confusion"]
    accuracy = float(confusion.diagonal().sum()) / max(1, int(confusion.sum()))
    answers = [f"{side} ({classes[label]}): {prediction_text(probs, label, classes)}"
               for side, label, probs in zip("AB", snaps.labels, snap["probs"])]
    shown = snap["epoch"]
    caption = (f"epoch {shown}" + (f" (the latest kept before {epoch})" if shown != epoch else "")
               + f" · test accuracy {100 * accuracy:.1f} % · " + " · ".join(answers))
    attribution = None
    if snap["heat"] is not None:
        titles = attribution_titles(snaps.indices, torch.tensor(snaps.labels), snap["targets"], classes)
        attribution = attribution_figure(images, snap["heat"], titles, f"Grad-CAM on layer {snaps.gradcam_layer}, "
                                         "for the predicted class", cell=160)
    maps = [maps_figure(f"{side}: {title}", layer[position].numpy())
            for position, side in enumerate("AB") for title, layer in zip(snaps.titles, snap["maps"])]
    return EpochFigures(shown, caption, attribution,
                        filters_figure(snap["filters"]) if snap["filters"] is not None else None, maps,
                        plots.confusion(confusion.tolist(), classes, normalize, height=420))
