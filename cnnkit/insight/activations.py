"""What a trained network sees: feature maps, conv1 filters, its mistakes, the dataset per class.

Loads a finished run's model from its checkpoint (``torch.load(..., weights_only=True)``: tensors
and plain containers only) on the CPU, in eval mode. Images go through the run's own input pipeline
(pixel permutation, resize, channels, normalisation), so the maps are what the model really got.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.data import datasets, loading, transform
from cnnkit.errors import CnnkitError, StoreError
from cnnkit.models.layers import ACTIVATIONS
from cnnkit.plan import plan_run
from cnnkit.store import Store

ACTIVATION_TYPES = tuple(ACTIVATIONS.values())


@dataclass
class LoadedRun:
    run_id: str
    name: str
    config: RunConfig
    model: nn.Module
    spec: datasets.DatasetSpec
    transform: transform.BatchTransform
    permutation: torch.Tensor | None


@dataclass
class FeatureMaps:
    """The output of one layer for a batch of images: ``maps`` is (N, C, H, W)."""

    layer: str  # module name, e.g. "1" or "features.0"
    title: str  # e.g. "conv 1 (Conv2d 1→6, 5×5) after Sigmoid"
    maps: torch.Tensor


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
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if loaded.permutation is not None:
        images = loading.permute_pixels(images, loaded.permutation)
    return loaded.transform(images)


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Conv modules in the order they are registered (the order of the forward pass for our models)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.modules.conv._ConvNd)]


def _after(model: nn.Module, conv_name: str) -> tuple[str, nn.Module] | None:
    """The activation that follows conv ``conv_name`` (before any other conv or linear), if any."""
    leaves = [(n, m) for n, m in model.named_modules() if n and not any(m.children())]
    names = [n for n, _ in leaves]
    if conv_name not in names:
        return None
    for name, module in leaves[names.index(conv_name) + 1:]:
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
            return None
        if isinstance(module, ACTIVATION_TYPES):
            return name, module
    return None


def feature_maps(loaded: LoadedRun, images: torch.Tensor, layers: int = 2) -> list[FeatureMaps]:
    """Outputs of the first ``layers`` conv layers (after their activation where one follows)."""
    convs = conv_layers(loaded.model)[:layers]
    if not convs:
        raise CnnkitError(f"{loaded.config.model} has no convolution layers, so it has no feature maps")
    captured: dict[str, torch.Tensor] = {}
    handles, titles = [], {}
    for i, (name, conv) in enumerate(convs, start=1):
        follow = _after(loaded.model, name)
        target_name, target = follow if follow else (name, conv)
        k = "×".join(map(str, conv.kernel_size))
        titles[target_name] = (f"conv {i} ({name}: {conv.in_channels}→{conv.out_channels}, {k})"
                               + (f" after {type(target).__name__}" if follow else ""))
        handles.append(target.register_forward_hook(_capture(captured, target_name)))
    try:
        with torch.no_grad():
            loaded.model(prepare(loaded, images))
    finally:
        for h in handles:
            h.remove()
    return [FeatureMaps(n, titles[n], captured[n]) for n in titles if n in captured]


def _capture(store: dict[str, torch.Tensor], name: str) -> Callable[[nn.Module, tuple, Any], None]:
    def hook(module: nn.Module, args: tuple, out: Any) -> None:
        if name not in store and isinstance(out, torch.Tensor):
            store[name] = out.detach().float().cpu()
    return hook


def conv1_filters(loaded: LoadedRun) -> torch.Tensor:
    """Weights of the first conv layer, (out, in, kH, kW)."""
    convs = conv_layers(loaded.model)
    if not convs:
        raise CnnkitError(f"{loaded.config.model} has no convolution layers, so it has no filters")
    return convs[0][1].weight.detach().float().cpu()


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


def nth_of_class(labels: torch.Tensor, cls: int, n: int = 0) -> int:
    """Index of the ``n``-th example of class ``cls`` (wrapping around)."""
    members = (labels == cls).nonzero().flatten()
    if not members.numel():
        raise CnnkitError(f"no image of class {cls} in this split")
    return int(members[n % members.numel()])


def preview(dataset: loading.Data, per_class: int = 8, seed: int = 0, split: str = "test"
            ) -> tuple[torch.Tensor, list[str]]:
    """Images (K·per_class, C, H, W) uint8 and their class names: the per-class preview grid."""
    x, y = (dataset.test_x, dataset.test_y) if split == "test" else (dataset.train_x, dataset.train_y)
    idx = class_examples(y, per_class, seed)
    return x[idx], [dataset.spec.classes[int(y[i])] for i in idx]
