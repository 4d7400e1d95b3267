"""The public reference figures of MISSION.md as data: d2l's results, parameter counts and MACs.

Used for the empty-store home page, the reference overlay on the compare page, and as anchors in
tests. d2l-zh 2.0 ``train_ch6``: Fashion-MNIST, 10 epochs, plain SGD, Xavier-uniform init, no
normalisation, no augmentation; single runs, so expect ±0.01–0.03 (more for BN-LeNet).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cnnkit.text import is_missing, value_text

SOURCE = "d2l-zh 2.0 train_ch6 (Fashion-MNIST, 10 epochs, SGD, Xavier init)"


@dataclass(frozen=True)
class Reference:
    """One row of d2l's table and how to train it here."""

    label: str
    model: str
    model_options: tuple[tuple[str, Any], ...]
    lr: float
    batch_size: int
    input_size: int
    train_loss: float
    train_acc: float
    test_acc: float  # the middle of the range where d2l reports one
    test_acc_range: tuple[float, float] | None = None
    params: int | None = None
    macs: int | None = None
    epochs: int = 10

    def config(self) -> dict[str, Any]:
        """The RunConfig fields that reproduce this row (pass to ``RunConfig.from_dict``)."""
        return {"model": self.model, "model_options": dict(self.model_options), "dataset": "fashion-mnist",
                "lr": self.lr, "batch_size": self.batch_size, "input_size": self.input_size,
                "epochs": self.epochs, "optimizer": "sgd", "init": "xavier", "schedule": "constant"}

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["model_options"] = dict(self.model_options)
        return row


D2L: tuple[Reference, ...] = (
    Reference("LeNet (sigmoid, avg-pool)", "lenet", (), 0.9, 256, 28, 0.469, 0.823, 0.779,
              params=61_706, macs=420_000),
    Reference("AlexNet", "alexnet", (), 0.01, 128, 224, 0.331, 0.878, 0.883, params=46_764_746, macs=939_000_000),
    Reference("VGG-11, channels ÷4", "vgg11", (("width_ratio", 4),), 0.05, 128, 224, 0.178, 0.935, 0.920,
              params=43_093_322),
    Reference("NiN", "nin", (), 0.1, 128, 224, 0.563, 0.786, 0.790, params=1_992_166, macs=764_000_000),
    Reference("GoogLeNet", "googlenet", (), 0.1, 128, 96, 0.262, 0.900, 0.886, params=5_977_530,
              macs=277_000_000),
    Reference("BN-LeNet", "lenet", (("batchnorm", True),), 1.0, 256, 28, 0.267, 0.902, 0.7575,
              test_acc_range=(0.708, 0.807)),
    Reference("ResNet-18", "resnet18", (), 0.05, 256, 96, 0.012, 0.997, 0.893, params=11_178_378,
              macs=319_000_000),
)

def table() -> list[dict[str, Any]]:
    """d2l's table as rows for display: model, lr, batch, input, train loss/acc, test acc, params."""
    rows = []
    for ref in D2L:
        test = (f"{ref.test_acc_range[0]:.3f}–{ref.test_acc_range[1]:.3f}" if ref.test_acc_range
                else f"{ref.test_acc:.3f}")
        rows.append({"model": ref.label, "lr": ref.lr, "batch": ref.batch_size, "input": ref.input_size,
                     "train loss": ref.train_loss, "train acc": ref.train_acc, "test acc": test,
                     "params": ref.params})
    return rows


def match(config: dict[str, Any]) -> Reference | None:
    """The d2l row a run's config reproduces (same model, knobs, lr, batch, input, dataset), or None."""
    if config.get("dataset") != "fashion-mnist":
        return None
    options = config.get("model_options") or {}
    for ref in D2L:
        if ref.model != config.get("model") or dict(ref.model_options) != options:
            continue
        size = config.get("input_size") or ref.input_size
        if size == ref.input_size and abs(float(config.get("lr", 0)) - ref.lr) < 1e-9 \
                and int(config.get("batch_size", 0)) == ref.batch_size:
            return ref
    return None


def for_model(model: str, model_options: dict[str, Any] | None = None) -> Reference | None:
    """The d2l row of ``model`` with these knobs (any lr, batch or input). Knobs at their default
    value and text forms ("6,16", "true") compare equal to the real thing."""
    wanted = _knob_key(model, model_options or {})
    for ref in D2L:
        if ref.model == model and _knob_key(model, dict(ref.model_options)) == wanted:
            return ref
    return None


def _knob_key(model: str, options: dict[str, Any]) -> frozenset:
    from cnnkit.models import registry

    try:
        knobs = registry.get(model).knobs
    except Exception:
        knobs = {}
    out = set()
    for key, value in options.items():
        if is_missing(value):
            continue
        text = value_text(value).lower()  # "True" as a URL or a CSV gives it back is the knob's True
        if key in knobs and text == value_text(knobs[key].default).lower():
            continue
        out.add((key, text))
    return frozenset(out)


def overlay_points(models: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Reference markers for the compare curves: one per d2l row among ``models`` and metric.

    Each point: label, epoch (10), metric key as in the curves ("train_loss", "train_acc", "test_acc"), value.
    """
    points, seen = [], set()
    for model, options in models:
        ref = for_model(model, options)
        if ref is None or ref.label in seen:
            continue
        seen.add(ref.label)
        for key in ("train_loss", "train_acc", "test_acc"):
            points.append({"label": f"d2l {ref.label}", "epoch": ref.epochs, "metric": key,
                           "value": getattr(ref, key)})
    return points
