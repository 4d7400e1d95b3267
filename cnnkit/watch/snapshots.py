"""Per-epoch snapshots of what a run's first layers see, and the capped collection a run keeps of them.

At every epoch's end the engine hands over the weights it trains; a CPU copy of the model (built once, without
drawing from the run's random stream) takes them and records, for the pair of test images (``probe``): conv 1's
filters, the two images' conv 1 and conv 2 feature maps (after their activations), their Grad-CAM on the last
conv layer for the class the model predicts (with its class probabilities), and the epoch's confusion matrix on
the test set. The functions (``lens``) and the inputs are the Activations page's, so the last snapshot is what
the page shows for the finished run, bit for bit.

The engine writes the collection to ``runs/<id>/snapshots.pt``: tensors, numbers, strings and lists only, so
it loads with ``torch.load(weights_only=True)``. Values are kept in fp32 as computed (LeNet on Fashion-MNIST:
about 57 KB an epoch). A run keeps at most ``MAX_SNAPSHOTS`` snapshots and about ``MAX_BYTES``; past the cap,
epochs 1, 1 + s, 1 + 2s, … (s the smallest power of two that fits) and always the latest epoch.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnkit.data import loading
from cnnkit.errors import StoreError
from cnnkit.plan import RunPlan
from cnnkit.watch import lens, probe

FORMAT = 1
MAX_SNAPSHOTS = 64
MAX_BYTES = 8 * 2**20


def kept_epochs(last: int, cap: int) -> list[int]:
    """The epochs among 1…``last`` that a run keeps with room for ``cap`` (≥ 2) snapshots."""
    stride = 1
    while True:
        kept = sorted({*range(1, last + 1, stride), last})
        if len(kept) <= max(2, cap):
            return kept
        stride *= 2


def size_of(snapshot: dict[str, Any]) -> int:
    """Bytes of a snapshot's tensors."""
    tensors = [v for v in snapshot.values() if isinstance(v, torch.Tensor)] + list(snapshot["maps"])
    return sum(t.numel() * t.element_size() for t in tensors)


@dataclass
class Snapshots:
    """A run's kept snapshots, oldest first; each a dict with ``epoch``, ``filters`` (out, in, kH, kW) or None,
    ``maps`` (one (2, C, H, W) tensor per conv layer shown), ``heat`` (2, H, W) Grad-CAM or None, ``targets``
    (2,) the classes the maps explain, ``probs`` (2, classes) and ``confusion`` (classes, classes)."""

    indices: list[int]  # the pair's indices in the dataset's test split
    labels: list[int]
    titles: list[str] = field(default_factory=list)  # of the feature maps, conv 1 first
    gradcam_layer: str | None = None
    kept: list[dict[str, Any]] = field(default_factory=list)

    @property
    def epochs(self) -> list[int]:
        return [s["epoch"] for s in self.kept]

    def at(self, epoch: int) -> dict[str, Any]:
        """The snapshot of ``epoch``, or of the latest kept epoch before it (the first when none is)."""
        before = [s for s in self.kept if s["epoch"] <= epoch]
        return before[-1] if before else self.kept[0]

    def add(self, snapshot: dict[str, Any], cap: int) -> None:
        """Keep ``snapshot`` (replacing any of its epoch or later), then thin to ``cap``."""
        keep = set(kept_epochs(snapshot["epoch"], cap))
        self.kept = [s for s in self.kept if s["epoch"] < snapshot["epoch"] and s["epoch"] in keep] + [snapshot]

    def until(self, epoch: int) -> None:
        """Forget the snapshots after ``epoch`` (a run resumed from that epoch's checkpoint)."""
        self.kept = [s for s in self.kept if s["epoch"] <= epoch]

    def state(self) -> dict[str, Any]:
        return {"format": FORMAT, "indices": self.indices, "labels": self.labels, "titles": self.titles,
                "gradcam_layer": self.gradcam_layer, "snapshots": self.kept}


def read(path: Path | str) -> Snapshots | None:
    """The snapshots saved at ``path``, None when there are none; StoreError (one line) for a damaged file."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return Snapshots(list(state["indices"]), list(state["labels"]), list(state["titles"]),
                         state["gradcam_layer"], list(state["snapshots"]))
    except Exception as exc:  # truncated, foreign (refused by weights_only), or not ours
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise StoreError(f"cannot read the snapshots in {path}: {detail}") from None


class SnapshotTaker:
    """Takes a run's snapshot at every epoch's end, on a CPU copy of its model, and keeps them capped."""

    def __init__(self, plan: RunPlan, model: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor):
        # A copy of the run's own model (its weights are loaded at every snapshot): no second build of it.
        self.model = copy.deepcopy(model).to(device="cpu", memory_format=torch.contiguous_format).eval()
        config = plan.config
        self.permutation = loading.pixel_permutation(plan.dataset.size, plan.dataset.size) \
            if config.permute_pixels else None
        indices = probe.pair_index(config.dataset, test_y)
        images = test_x[indices].cpu()
        self.inputs = probe.model_inputs(images, plan.transform.to("cpu"), self.permutation)
        self.size = tuple(images.shape[-2:])
        convs = lens.conv_layers(self.model)
        self.gradcam_layer = convs[-1] if convs else None
        self.snapshots = Snapshots(indices, [int(test_y[i]) for i in indices],
                                   gradcam_layer=self.gradcam_layer[0] if convs else None)

    def take(self, epoch: int, model: nn.Module, confusion: torch.Tensor) -> None:
        """The snapshot of ``model``'s weights at the end of ``epoch`` (1-based)."""
        model_cpu = self.model
        model_cpu.load_state_dict(model.state_dict())
        with torch.no_grad():
            logits = model_cpu(self.inputs)
        targets = logits.argmax(1)
        maps = lens.feature_maps(model_cpu, self.inputs)
        heat = None
        if self.gradcam_layer is not None:
            heat = lens.unpermute(lens.gradcam(model_cpu, self.inputs, self.gradcam_layer[1], targets, self.size),
                                  self.permutation)
        snapshot = {"epoch": epoch, "filters": lens.first_filters(model_cpu), "maps": [m.maps for m in maps],
                    "heat": heat, "targets": targets, "probs": torch.softmax(logits.float(), dim=1),
                    "confusion": confusion.cpu().clone()}
        self.snapshots.titles = [m.title for m in maps]
        self.snapshots.add(snapshot, min(MAX_SNAPSHOTS, MAX_BYTES // max(1, size_of(snapshot))))

    def resume(self, path: Path | str, epoch: int) -> None:
        """Carry on the snapshots saved at ``path`` up to ``epoch``; a damaged file is started afresh (the
        snapshots are a view of the run, not its state)."""
        try:
            saved = read(path)
        except StoreError:
            saved = None
        if saved is not None and saved.indices == self.snapshots.indices:
            saved.until(epoch)
            self.snapshots = saved
