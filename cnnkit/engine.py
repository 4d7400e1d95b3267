"""The training loop: ``fit(config, reporter, should_stop)``.

Why it is fast, in one line each:
- the whole dataset sits on the training device as uint8; a step gathers its batch by index, so no
  DataLoader, no PIL, no per-batch host→device copy;
- conversion, augmentation, resizing and normalisation run batched on the device;
- loss and accuracy accumulate in device tensors and are read once per report, not once per step;
- channels_last for conv nets (cuDNN's and oneDNN's fast layout); on CUDA bf16 autocast and cuDNN autotuning.
"""
from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cnnkit.config import RunConfig
from cnnkit.cpu_threads import ThreadGovernor
from cnnkit.data import augment, loading
from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import CallbackReporter, MetricPoint, Reporter, Status
from cnnkit.models import anatomy
from cnnkit.plan import RunPlan, plan_run
from cnnkit.watch.names import SPLIT as HEALTH
from cnnkit.watch.watcher import Watcher

EVAL_BATCH = 1024
TRAIN_EVAL = "train_eval"  # the split of the training images evaluated like the test set (eval mode, no augmentation)

# How fit() can end; the store's Status has the rest (queued, running, …).
COMPLETED, CANCELLED, DIVERGED, OOM = Status.COMPLETED, Status.CANCELLED, Status.DIVERGED, Status.OOM


@dataclass
class FitResult:
    status: str
    info: dict[str, Any]
    epochs: list[dict[str, float]] = field(default_factory=list)
    confusion: list[list[int]] | None = None
    error: str | None = None
    step: int = 0

    @property
    def final(self) -> dict[str, float]:
        keys = ("train_loss", "train_acc", "train_eval_loss", "train_eval_acc", "test_loss", "test_acc")
        last = self.epochs[-1] if self.epochs else {}
        return {k: last[k] for k in keys if k in last}


@dataclass
class Evaluation:
    loss: float
    acc: float
    confusion: torch.Tensor  # (classes, classes), rows: true class
    predictions: torch.Tensor  # in the order of the evaluated images


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "cuda was asked for but no CUDA GPU is visible; use auto or cpu")
    return device


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{device} · {props.name} · {props.total_memory / 2**30:.0f} GiB"
    return f"cpu · {torch.get_num_threads()} threads"


def lr_at(config: RunConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate of ``step`` (0-based): linear warm-up, then constant, step or cosine."""
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_epochs * steps_per_epoch
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1.0, total - warmup)
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "step":
        return config.lr * config.step_gamma ** sum(progress >= m for m in config.step_milestones)
    return config.lr


def make_optimizer(config: RunConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    kw = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, **kw)
    if config.optimizer == "sgd-momentum":
        return torch.optim.SGD(params, momentum=config.momentum, **kw)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, **kw)
    return torch.optim.AdamW(params, **kw)


def epoch_order(n: int, config: RunConfig, epoch: int) -> torch.Tensor:
    """Sample order of ``epoch``: a function of (seed, epoch) alone, so a resumed run replays it."""
    if not config.shuffle:
        return torch.arange(n)
    return torch.randperm(n, generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch))


def fit(
    config: RunConfig,
    reporter: Reporter | Callable[[list[MetricPoint]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint: Path | str | None = None,
    resume: bool = False,
    dataset: loading.Data | None = None,
    predictions: Path | str | None = None,
    governor: ThreadGovernor | None = None,
    snapshots: Path | str | None = None,
    watch: bool = True,
) -> FitResult:
    """Train ``config`` to the end, to a stop request, or to divergence; returns how it ended.

    ``reporter`` is a Reporter or a plain function receiving lists of MetricPoint.
    ``should_stop`` is polled every step; when it returns True the run checkpoints and ends
    ``cancelled``. With ``checkpoint`` (a file path) a checkpoint is written there after every epoch
    (write, then rename); ``resume`` continues from it, epoch and step counts included. With
    ``predictions`` (a file path) the final model's test-set predictions are saved there. A
    ``governor`` sets the CPU thread count between steps (background jobs use one; see cpu_threads).
    ``watch`` records layer health (split "health", see cnnkit.watch) without changing what the run learns;
    with ``snapshots`` (a file path) every epoch's snapshot of the first layers is kept there too.
    """
    if reporter is None:
        reporter = Reporter()
    elif not isinstance(reporter, Reporter):
        reporter = CallbackReporter(reporter)
    should_stop = should_stop or (lambda: False)
    plan = plan_run(config, resolve_device(config.device))
    trainer = Trainer(plan, dataset or loading.load(config.dataset), checkpoint, predictions, snapshots, watch)
    if resume:
        trainer.restore()
    reporter.start(trainer.info())
    try:
        return trainer.train(reporter, should_stop, governor)
    except torch.OutOfMemoryError as exc:
        return trainer.result(OOM, error=_first_line(exc))
    except RuntimeError as exc:
        if "can't allocate memory" in str(exc) or "out of memory" in str(exc).lower():
            return trainer.result(OOM, error=_first_line(exc))
        raise


class Trainer:
    """One run's training state: data and model on the device, optimizer, counters, history."""

    def __init__(self, plan: RunPlan, raw: loading.Data, checkpoint: Path | str | None,
                 predictions: Path | str | None = None, snapshots: Path | str | None = None, watch: bool = True):
        self.plan = plan
        config, device = plan.config, plan.device
        self.cuda = device.type == "cuda"
        if self.cuda:
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.data = loading.variant(raw, config.subset, config.test_subset, config.permute_pixels,
                                    config.seed).to(device)
        # The training images evaluated like the test set after every epoch (eval mode, no augmentation): a
        # fixed stratified sample as large as the test evaluation, so train and test accuracy compare alike.
        n_train, n_test = self.data.train_y.numel(), self.data.test_y.numel()
        self.train_eval_index = loading.stratified_subset(self.data.train_y, min(1.0, n_test / max(1, n_train)),
                                                          config.seed).to(device)
        self.augmenter = augment.make_augmenter(config.augment, config.crop_padding, self.data.train_x, config.seed)
        self.model, self.anatomy = plan.build_model()
        # channels_last: cuDNN's fast layout, and on the CPU oneDNN's pooling is 3× faster in it.
        self.channels_last = plan.model.family == "cnn"
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.snapshots_path = Path(snapshots) if snapshots and watch else None
        self.watch = Watcher(plan, self.model, self.data, raw, self.snapshots_path is not None) if watch else None
        self.n_train = n_train
        self.steps_per_epoch = math.ceil(n_train / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.predictions_path = Path(predictions) if predictions else None
        self.step = 0  # global, counts finished steps
        self.epoch = 0  # finished epochs
        self.epoch_sums = torch.zeros(2, device=device)  # loss·n and correct of the epoch so far
        self.epoch_count = 0
        self.epoch_seconds = 0.0
        self.history: list[dict[str, float]] = []
        self.confusion: torch.Tensor | None = None  # of the latest evaluation
        self.predictions: torch.Tensor | None = None  # of the latest evaluation, in test-set order

    # ---- reporting ---------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        return {
            "device": describe_device(self.plan.device),
            "device_name": str(self.plan.device),
            "params": self.anatomy.total_params,
            "macs": self.anatomy.macs,
            "input_shape": list(self.plan.input_shape),
            "train_size": self.n_train,
            "test_size": self.data.test_y.numel(),
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "start_step": self.step,
        }

    def result(self, status: str, error: str | None = None) -> FitResult:
        confusion = self.confusion.tolist() if self.confusion is not None else None
        return FitResult(status, self.info(), self.history, confusion, error, self.step)

    def _point(self, split: str, name: str, value: float, epoch: float) -> MetricPoint:
        return MetricPoint(self.step, round(epoch, 4), split, name, value, time.time())

    def _health_points(self, health: dict[str, float], epoch: float) -> list[MetricPoint]:
        """Layer health as points; a non-finite norm (the step a run diverges) has no point: the divergence
        is the run's own end, with its step."""
        return [self._point(HEALTH, n, v, epoch) for n, v in health.items() if math.isfinite(v)]

    # ---- the loop ----------------------------------------------------------------------------
    def train(self, reporter: Reporter, should_stop: Callable[[], bool],
              governor: ThreadGovernor | None = None) -> FitResult:
        config, device, model, opt = self.plan.config, self.plan.device, self.model, self.optimizer
        bs = config.batch_size
        report_steps = _report_steps(self.steps_per_epoch, config.reports_per_epoch)
        bad_step = torch.full((), -1, device=device, dtype=torch.long)  # first non-finite step
        stepped = False
        while self.epoch < config.epochs:
            order = epoch_order(self.n_train, config, self.epoch).to(device)
            model.train()
            start_i = self.step - self.epoch * self.steps_per_epoch
            t0 = time.perf_counter()
            for i in range(start_i, self.steps_per_epoch):
                if governor:
                    governor.tick()
                if should_stop():
                    self.epoch_seconds += self._elapsed(t0)
                    self.save()
                    return self.result(CANCELLED)
                idx = order[i * bs:(i + 1) * bs]
                x = self.plan.transform(self.data.train_x[idx], self.augmenter)
                y = self.data.train_y[idx]
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                for group in opt.param_groups:
                    group["lr"] = lr_at(config, self.step, self.steps_per_epoch)
                with self._autocast():
                    logits = model(x)
                    loss = self._loss(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                reporting = i + 1 in report_steps
                if reporting and self.watch:
                    self.watch.before_step()
                opt.step()
                with torch.no_grad():
                    self.epoch_sums += torch.stack((loss.detach().float() * y.numel(), (logits.argmax(1) == y).sum()))
                    bad_step = torch.where((bad_step < 0) & ~torch.isfinite(loss.detach()), self.step, bad_step)
                self.epoch_count += y.numel()
                self.step += 1
                if not stepped:
                    reporter.first_step()
                    stepped = True
                if reporting:
                    (loss_sum, correct), count, bad = self.epoch_sums.tolist(), self.epoch_count, int(bad_step)
                    if bad >= 0:
                        self.step = bad + 1
                        return self.result(DIVERGED, error=f"loss became non-finite at step {bad + 1}")
                    epoch_pos = self.epoch + (i + 1) / self.steps_per_epoch
                    health = self.watch.report() if self.watch else {}
                    reporter.log([self._point("train", "loss", loss_sum / count, epoch_pos),
                                  self._point("train", "acc", correct / count, epoch_pos),
                                  *self._health_points(health, epoch_pos)])
            self.epoch_seconds += self._elapsed(t0)
            self.epoch += 1
            self._end_epoch(reporter)
            self.save()
        self.save_predictions()
        return self.result(COMPLETED)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        config = self.plan.config
        if config.softmax_before_loss:
            logits = F.softmax(logits, dim=1)  # the mistake: cross_entropy applies log-softmax again
        return F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.plan.device.type, dtype=torch.bfloat16, enabled=self.cuda and self.plan.config.amp)

    def _elapsed(self, t0: float) -> float:
        if self.cuda:
            torch.cuda.synchronize(self.plan.device)
        return time.perf_counter() - t0

    def _end_epoch(self, reporter: Reporter) -> None:
        (loss_sum, correct), count = self.epoch_sums.tolist(), self.epoch_count
        test = self.evaluate(self.data.test_x, self.data.test_y)
        self.confusion, self.predictions = test.confusion, test.predictions
        index = self.train_eval_index
        train = self.evaluate(self.data.train_x[index], self.data.train_y[index])
        seconds = self.epoch_seconds
        row = {
            "epoch": self.epoch,
            "train_loss": loss_sum / count,  # d2l's: the running mean over the epoch, in training mode
            "train_acc": correct / count,
            "train_eval_loss": train.loss,  # the training images evaluated as the test set is
            "train_eval_acc": train.acc,
            "test_loss": test.loss,
            "test_acc": test.acc,
            "lr": lr_at(self.plan.config, self.step - 1, self.steps_per_epoch),
            "epoch_seconds": seconds,
            "images_per_sec": count / seconds if seconds else 0.0,
        }
        self.history.append(row)
        e = float(self.epoch)
        health = self.watch.end_epoch(self.epoch, self.evaluate, test.confusion) if self.watch else {}
        reporter.log([
            self._point("test", "loss", test.loss, e), self._point("test", "acc", test.acc, e),
            self._point(TRAIN_EVAL, "loss", train.loss, e), self._point(TRAIN_EVAL, "acc", train.acc, e),
            self._point("train", "lr", row["lr"], e), self._point("train", "epoch_seconds", seconds, e),
            self._point("train", "images_per_sec", row["images_per_sec"], e),
            *self._health_points(health, e),
        ])
        self.epoch_sums.zero_()
        self.epoch_count = 0
        self.epoch_seconds = 0.0

    @torch.inference_mode()
    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> Evaluation:
        """Loss, accuracy, confusion matrix (rows: true class, columns: predicted) and predictions of the
        model in eval mode (dropout off, batch norm's running statistics) on uint8 ``images``, no augmentation."""
        self.model.eval()
        k = self.plan.num_classes
        device = self.plan.device
        sums = torch.zeros(2, device=device)
        confusion = torch.zeros(k * k, device=device, dtype=torch.long)
        preds = []
        for start in range(0, labels.numel(), EVAL_BATCH):
            x = self.plan.transform(images[start:start + EVAL_BATCH])
            y = labels[start:start + EVAL_BATCH]
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with self._autocast():
                logits = self.model(x)
                loss = self._loss(logits, y)
            pred = logits.argmax(1)
            preds.append(pred)
            sums += torch.stack((loss.float() * y.numel(), (pred == y).sum()))
            confusion += torch.bincount(y * k + pred, minlength=k * k)
        self.model.train()
        loss_sum, correct = sums.tolist()
        n = max(1, labels.numel())
        predictions = torch.cat(preds).cpu() if preds else torch.zeros(0, dtype=torch.long)
        return Evaluation(loss_sum / n, correct / n, confusion.view(k, k).cpu(), predictions)

    # ---- checkpoints -------------------------------------------------------------------------
    def save(self) -> None:
        """The checkpoint and the snapshots, where asked for: tensors, counters and plain values only (loadable
        with weights_only=True); write, then rename."""
        snapshots = self.watch.snapshot_state() if self.watch else None
        if self.snapshots_path is not None and snapshots is not None:
            _write(snapshots, self.snapshots_path)
        if self.checkpoint is None:
            return
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "epoch_sums": self.epoch_sums.cpu(),
            "epoch_count": self.epoch_count,
            "epoch_seconds": self.epoch_seconds,
            "history": self.history,
            "confusion": self.confusion,
            "config": self.plan.config.to_json(),
        }
        _write(state, self.checkpoint)

    def save_predictions(self) -> None:
        """What the final model predicts for every test image (for confusion and error browsing)."""
        if self.predictions_path is None or self.predictions is None:
            return
        index = self.data.test_index if self.data.test_index is not None else torch.arange(len(self.predictions))
        torch.save({"index": index.cpu(), "label": self.data.test_y.cpu(), "pred": self.predictions},
                   self.predictions_path)

    def restore(self) -> None:
        state = load_checkpoint(self.checkpoint) if self.checkpoint else None
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.epoch_sums = state["epoch_sums"].to(self.plan.device)
        self.epoch_count = int(state["epoch_count"])
        self.epoch_seconds = float(state["epoch_seconds"])
        self.history = list(state["history"])
        self.confusion = state["confusion"]
        if self.watch:
            self.watch.resume(self.snapshots_path, self.epoch)


def warm_up() -> None:
    """Import what the first run would import lazily (the meta-device shape and FLOP machinery pulls
    in torch._dynamo: over a second) without running a single kernel, so processes forked from
    this one start training at once and without inheriting a thread pool."""
    config = RunConfig()
    config.check_fits()
    anatomy.describe(config.model)
    import captum.attr  # noqa: F401  (Grad-CAM of the epoch snapshots: half a second, once, before the fork)


def load_checkpoint(path: Path | str) -> dict[str, Any] | None:
    """A checkpoint written by fit(), or None when there is none; StoreError (one line) for anything else.

    weights_only=True: tensors and plain values only, never an arbitrary pickled object. torch's own
    refusal runs to a dozen lines that advise loading with weights_only=False, which must not reach a user.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a foreign pickle (refused), a truncated or corrupt file
        text = str(exc)
        if "WeightsUnpickler error:" in text:  # what torch refused, without its advice to drop weights_only
            rest = [line.strip() for line in text.split("WeightsUnpickler error:", 1)[1].splitlines() if line.strip()]
            detail = rest[0].split(" was not", 1)[0][:120] if rest else "an object"
            reason = f"it holds more than tensors and plain values ({detail}), so it was refused"
        else:
            reason = (text.strip().splitlines() or [type(exc).__name__])[0][:200]
        raise StoreError(f"cannot load the checkpoint {path}: {reason}; delete it to start the run from scratch"
                         ) from None


def _write(state: Any, path: Path) -> None:
    """``torch.save`` to ``path``: write, then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _report_steps(steps_per_epoch: int, reports: int) -> set[int]:
    """Steps (1-based within the epoch) after which train metrics are reported; always the last."""
    reports = min(reports, steps_per_epoch)
    return {round(steps_per_epoch * (k + 1) / reports) for k in range(reports)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
