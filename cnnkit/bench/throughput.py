"""The throughput section of ``cnnkit bench``: our engine against the textbook loop, and the time to a test accuracy.

The textbook loop is d2l's ``train_ch6`` on d2l's ``load_data_fashion_mnist``: a torchvision dataset
with ``Resize`` + ``ToTensor``, a ``DataLoader``, a ``.to(device)`` per batch and a ``float()`` per
batch for the metrics. Both loops train the same architecture with the same batch size, learning
rate and initialisation on the same images; they alternate within one process, so that a noisy
machine slows both alike, and the ratio of medians is what we report.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.engine import fit, resolve_device
from cnnkit.events import MetricPoint, Reporter
from cnnkit.plan import plan_run


@dataclass(frozen=True)
class Case:
    """One throughput comparison: a model at an input size, over ``images`` training images."""

    model: str
    input_size: int
    images: int  # per timed pass on the CPU; scaled up on a GPU
    batch_size: int = 256
    lr: float = 0.1

    @property
    def label(self) -> str:
        return f"{self.model}@{self.input_size}"


CASES = (
    Case("lenet", 28, 60_000, 256, 0.9),
    Case("mlp", 28, 60_000, 256, 0.1),
    Case("resnet18", 32, 2_048, 128, 0.05),
    Case("resnet18", 96, 512, 128, 0.05),
    Case("alexnet", 65, 2_048, 128, 0.01),  # AlexNet's smallest valid input (shapes.smallest_input)
)
SHORT_IMAGES = {"lenet": 6_000, "mlp": 6_000, "resnet18": 256, "alexnet": 256}
TEXTBOOK_WORKERS = (4, 0)  # d2l's default, and none: we compare against the faster of the two


@dataclass
class CaseResult:
    case: str
    images: int
    textbook_workers: int
    textbook_seconds: list[float] = field(default_factory=list)
    ours_seconds: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.textbook_seconds) / statistics.median(self.ours_seconds)

    def row(self) -> dict[str, Any]:
        tb, ours = statistics.median(self.textbook_seconds), statistics.median(self.ours_seconds)
        return {"case": self.case, "images": self.images, "textbook_s": tb, "ours_s": ours,
                "textbook_img_s": self.images / tb, "ours_img_s": self.images / ours, "speedup": tb / ours,
                "epoch_textbook_s": tb * 60_000 / self.images, "epoch_ours_s": ours * 60_000 / self.images,
                "repeats": len(self.ours_seconds), "textbook_workers": self.textbook_workers}


# ---- the two loops ------------------------------------------------------------------------------

def _config(case: Case, images: int, device: str, epochs: int = 1) -> RunConfig:
    return RunConfig(model=case.model, dataset="fashion-mnist", input_size=case.input_size,
                     subset=min(1.0, images / 60_000), test_subset=0.01, epochs=epochs, batch_size=case.batch_size,
                     lr=case.lr, init="xavier", device=device, reports_per_epoch=1)


def textbook_pass(case: Case, images: int, device: torch.device, workers: int) -> float:
    """Seconds for one pass of d2l's loop over the first ``images`` of a fixed shuffle."""
    import torchvision
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms

    trans = [transforms.ToTensor()]
    if case.input_size != 28:
        trans.insert(0, transforms.Resize(case.input_size))
    dataset = torchvision.datasets.FashionMNIST(str(loading.data_root()), train=True,
                                                transform=transforms.Compose(trans), download=False)
    if images < len(dataset):
        dataset = Subset(dataset, torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:images])
    loader = DataLoader(dataset, case.batch_size, shuffle=True, num_workers=workers)
    net, _ = plan_run(_config(case, images, "cpu"), device).build_model()  # same architecture, d2l's layout (NCHW)
    optimizer = torch.optim.SGD(net.parameters(), lr=case.lr)
    loss = nn.CrossEntropyLoss()
    net.train()
    _sync(device)
    start = time.perf_counter()
    metric = [0.0, 0.0, 0]
    for x, y in loader:
        optimizer.zero_grad()
        x, y = x.to(device), y.to(device)
        y_hat = net(x)
        batch_loss = loss(y_hat, y)
        batch_loss.backward()
        optimizer.step()
        with torch.no_grad():  # d2l's Accumulator: a host sync per batch
            metric[0] += float(batch_loss * x.shape[0])
            metric[1] += float((y_hat.argmax(1) == y).sum())
            metric[2] += x.shape[0]
    _sync(device)
    return time.perf_counter() - start


def engine_pass(case: Case, images: int, device: str, dataset: loading.Data) -> float:
    """Seconds of training (the engine's own epoch_seconds) for one epoch over the same images."""
    result = fit(_config(case, images, device), dataset=dataset)
    return result.epochs[-1]["epoch_seconds"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compare_loops(case: Case, images: int, device: str, repeats: int, dataset: loading.Data,
                  log: Callable[[str], None] = print) -> CaseResult:
    torch_device = resolve_device(device)
    engine_pass(case, min(images, 1024), device, dataset)  # warm both up: first-call costs are not steady state
    calibration = {w: textbook_pass(case, min(images, 2048), torch_device, w) for w in TEXTBOOK_WORKERS}
    workers = min(calibration, key=calibration.get)
    result = CaseResult(case.label, images, workers)
    for r in range(repeats):
        result.textbook_seconds.append(textbook_pass(case, images, torch_device, workers))
        result.ours_seconds.append(engine_pass(case, images, device, dataset))
        log(f"  {case.label} repeat {r + 1}/{repeats}: textbook {result.textbook_seconds[-1]:.2f} s, "
            f"ours {result.ours_seconds[-1]:.2f} s")
    return result


# ---- time to accuracy -----------------------------------------------------------------------------

def time_to_accuracy(device: str, dataset: loading.Data, target: float = 0.89, epochs: int = 12) -> dict[str, Any]:
    """Wall seconds (training + evaluation) until ReLU/max-pool LeNet reaches ``target`` test accuracy.

    The recipe (Adam 3e-3, batch 256, cosine over ``epochs``, normalised input, Kaiming) was the faster
    of the two we tried; SGD with momentum 0.05 needed 8 epochs instead of 5–6.
    """
    config = RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, epochs=epochs,
                       batch_size=256, optimizer="adam", lr=0.003, schedule="cosine", init="kaiming",
                       normalize=True, device=device, reports_per_epoch=1)
    start = time.perf_counter()
    reached: dict[str, Any] = {}

    def stop() -> bool:
        return bool(reached)

    class Watch(Reporter):
        def log(self, points: list[MetricPoint]) -> None:
            for p in points:
                if p.split == "test" and p.name == "acc" and p.value >= target and not reached:
                    reached.update(seconds=time.perf_counter() - start, epoch=p.epoch, test_acc=p.value)

    result = fit(config, Watch(), stop, dataset=dataset)
    if not reached:
        return {"target": target, "reached": False, "epochs": len(result.epochs),
                "best_test_acc": max(e["test_acc"] for e in result.epochs)}
    return {"target": target, "reached": True, **reached}

def run(models: list[str] | None, device: str, short: bool, repeats: int, dataset: loading.Data,
               log: Callable[[str], None]) -> list[dict[str, Any]]:
    on_gpu = resolve_device(device).type == "cuda"
    results = []
    for case in [c for c in CASES if not models or c.model in models]:
        images = SHORT_IMAGES[case.model] if short else case.images
        if on_gpu and not short:
            images = 60_000 if case.model in ("lenet", "mlp") else min(60_000, case.images * 8)
        log(f"{case.label}: {images} images, textbook vs ours, {repeats} repeats")
        results.append(compare_loops(case, images, device, repeats, dataset, log).row())
    return results


def format_section(rows: list[dict[str, Any]]) -> str:
    """The throughput table: seconds per case for the textbook loop and ours, and their ratio."""
    from cnnkit.text import format_table

    cells = [(r["case"], r["images"], r["textbook_s"], r["ours_s"], f"{r['speedup']:.1f}×",
              r["epoch_textbook_s"], r["epoch_ours_s"], r["textbook_workers"]) for r in rows]
    return format_table(cells, ["case", "images", "textbook s", "ours s", "speedup", "epoch textbook s",
                                "epoch ours s", "tb workers"], "lrrrrrrr")
