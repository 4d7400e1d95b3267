"""What a trained network sees: feature maps, conv1 filters, its mistakes, the dataset per class.

Loads a finished run's model from its checkpoint (``torch.load(..., weights_only=True)``: tensors
and plain containers only) on the CPU, in eval mode. Images go through the run's own input pipeline
(pixel permutation, resize, channels, normalisation), so the maps are what the model really got.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.data import datasets, loading, transform
from cnnkit.errors import CnnkitError, StoreError
from cnnkit.plan import plan_run
from cnnkit.store import Store
from cnnkit.watch import lens
from cnnkit.watch.lens import FeatureMaps, conv_layers
from cnnkit.watch.probe import model_inputs
from cnnkit.watch.probe import nth_of_class as nth_of_class  # the page picks its images with it
from cnnkit.watch.snapshots import Snapshots
from cnnkit.watch.snapshots import read as read_snapshots


@dataclass
class LoadedRun:
    run_id: str
    name: str
    config: RunConfig
    model: nn.Module
    spec: datasets.DatasetSpec
    transform: transform.BatchTransform
    permutation: torch.Tensor | None


def load_run(store: Store, run_id: str) -> LoadedRun:
    """The model of run ``run_id`` with its final (or last checkpointed) weights, on the CPU."""
    run = store.get(run_id)
    path = store.checkpoint_path(run.id)
    if not path.exists():
        raise StoreError(f"run {run.id} ({run.status}) has no checkpoint; only runs that finished an epoch have one")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged or foreign file: say so in one line
        raise StoreError(f"cannot read the checkpoint of run {run.id}: {str(exc).splitlines()[0][:200]}") from None
    config = RunConfig.from_dict(run.config)
    plan = plan_run(config)
    model = plan.architecture()
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError) as exc:
        raise StoreError(f"the checkpoint of run {run.id} does not fit its model: {str(exc).splitlines()[0][:200]}"
                         ) from None
    model.eval()
    spec = plan.dataset
    permutation = loading.pixel_permutation(spec.size, spec.size) if config.permute_pixels else None
    return LoadedRun(run.id, run.name, config, model, spec, plan.transform, permutation)


def prepare(loaded: LoadedRun, images: torch.Tensor) -> torch.Tensor:
    """uint8 images (N, C, H, W) of the dataset → the float batch the model takes."""
    return model_inputs(images, loaded.transform, loaded.permutation)


def feature_maps(loaded: LoadedRun, images: torch.Tensor, layers: int = 2) -> list[FeatureMaps]:
    """Outputs of the first ``layers`` conv layers (after their activation where one follows)."""
    if not conv_layers(loaded.model):
        raise CnnkitError(f"{loaded.config.model} has no convolution layers, so it has no feature maps")
    return lens.feature_maps(loaded.model, prepare(loaded, images), layers)


def conv1_filters(loaded: LoadedRun) -> torch.Tensor:
    """Weights of the first conv layer, (out, in, kH, kW)."""
    filters = lens.first_filters(loaded.model)
    if filters is None:
        raise CnnkitError(f"{loaded.config.model} has no convolution layers, so it has no filters")
    return filters


def predict(loaded: LoadedRun, images: torch.Tensor) -> torch.Tensor:
    """Class probabilities for uint8 images."""
    with torch.no_grad():
        return torch.softmax(loaded.model(prepare(loaded, images)).float(), dim=1)


# ---- the run's predictions on the test set ------------------------------------------------------

def predictions(store: Store, run_id: str) -> dict[str, torch.Tensor]:
    """``{index, label, pred}`` of the final model on the (sub)set it was tested on."""
    path = store.predictions_path(run_id)
    if not path.exists():
        raise StoreError(f"run {run_id} has no saved test predictions (only completed runs have them)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        return {k: blob[k].long() for k in ("index", "label", "pred")}
    except Exception as exc:
        raise StoreError(f"cannot read the predictions of run {run_id}: {str(exc).splitlines()[0][:200]}") from None


def snapshots(store: Store, run_id: str) -> Snapshots:
    """The run's per-epoch snapshots (cnnkit.watch.snapshots); a one-line StoreError when it has none."""
    saved = read_snapshots(store.snapshots_path(run_id))
    if saved is None or not saved.kept:
        raise StoreError(f"run {run_id} has no epoch snapshots (runs trained before they were recorded, and runs "
                         "imported from a bundle, have none)")
    return saved


def misclassified(preds: dict[str, torch.Tensor], limit: int = 32, true_class: int | None = None,
                  pred_class: int | None = None) -> list[tuple[int, int, int]]:
    """(test-set index, true label, predicted label) of wrong predictions, in test-set order."""
    wrong = preds["label"] != preds["pred"]
    if true_class is not None:
        wrong &= preds["label"] == true_class
    if pred_class is not None:
        wrong &= preds["pred"] == pred_class
    rows = wrong.nonzero().flatten()[:limit]
    return [(int(preds["index"][i]), int(preds["label"][i]), int(preds["pred"][i])) for i in rows]


def confusion_matrix(preds: dict[str, torch.Tensor], num_classes: int) -> list[list[int]]:
    k = num_classes
    counts = torch.bincount(preds["label"] * k + preds["pred"], minlength=k * k)
    return counts.view(k, k).tolist()


# ---- picking images -----------------------------------------------------------------------------

def class_examples(labels: torch.Tensor, per_class: int, seed: int = 0) -> list[int]:
    """``per_class`` indices of every class (chosen by ``seed``), grouped class by class."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for cls in range(int(labels.max()) + 1 if labels.numel() else 0):
        members = (labels == cls).nonzero().flatten()
        pick = members[torch.randperm(members.numel(), generator=gen)[:per_class]].sort().values
        out += pick.tolist()
    return out


def preview(dataset: loading.Data, per_class: int = 8, seed: int = 0, split: str = "test"
            ) -> tuple[torch.Tensor, list[str]]:
    """Images (K·per_class, C, H, W) uint8 and their class names: the per-class preview grid."""
    x, y = (dataset.test_x, dataset.test_y) if split == "test" else (dataset.train_x, dataset.train_y)
    idx = class_examples(y, per_class, seed)
    return x[idx], [dataset.spec.classes[int(y[i])] for i in idx]
