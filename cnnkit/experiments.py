"""What-if experiments from the study notes: presets, launching, and honest verdicts.

The stable API (the dashboard's Experiments page and ``python -m cnnkit experiment`` use exactly this):

    catalogue() -> list[Preset]               every preset, in the order of MISSION.md's lines
    get(name) -> Preset                       ConfigError naming ``experiment`` (and the names) if unknown
    build_configs(preset, budget="quick", seeds=None) -> list[tuple[str, RunConfig]]
                                              (level label, validated config); seed-major order
    launch(store, name, budget="quick", seeds=None, start_worker=True) -> str
                                              queues the runs in a new group of kind "experiment" and
                                              returns its id; starts the supervisor unless told not to
    latest_group(store, name) -> str | None   the newest experiment group of that preset
    analyze(store, group_id) -> ExperimentReport
    analyze_bundle(path) -> ExperimentReport  the same from a bundle zip (results/reference/<name>.zip),
                                              read without importing it
    missing_datasets(preset) -> list[str]     datasets the preset needs that are not installed here
    reference(...) / write_readme(...)        the reference results shipped in results/

A *level* is a label plus config changes (RunConfig fields or model options, as
``RunConfig.with_value`` takes them); one level may change several fields (activation and lr). A
run's config is, in this order: the preset's base, the budget's changes, the level's changes, the
budget's overrides (changes that must beat the level's, e.g. one optimizer for every model of a
quick budget), the budget's changes for that level (the zoo's input size per model). Budgets are
``quick`` (fits a 2-core CPU), ``full`` (the notes' / d2l's setting) and a hidden ``smoke`` used by
the tests.

The verdict rests on the final test accuracy of every run. Per level: mean ± sample std over seeds.
Each level against the baseline: the difference of means with a 95 % percentile bootstrap interval
(seeded, so deterministic; see cnnkit.stats). A diverged run is a result, not a gap: it counts at
chance accuracy in comparisons and the verdict says so. Failed, cancelled, lost, out-of-memory and
unfinished runs are listed and not counted; below 2 counted runs in any level the verdict is "not
enough seeds". Each preset states what the notes (and the literature) expect as machine-checkable
claims; the report says whether the result agrees with them or contradicts them.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnkit import stats
from cnnkit.config import FIELD_NAMES, RunConfig
from cnnkit.errors import ConfigError, DataError

BUDGETS = ("quick", "full")  # the ones users see; "smoke" is for the tests
ALL_BUDGETS = (*BUDGETS, "smoke")
MAX_SEEDS = 20
GROUP_KIND = "experiment"
META_VERSION = 1
CHANCE_MARGIN = 0.05  # a final test accuracy below chance + this means the run did not learn
NAME_SEP = " · "  # run names: "<preset> · <level> · seed <n>"
SUPERVISOR_START_GRACE = 20.0  # seconds a new supervisor may take to import torch and take its lock
PROJECT = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT / "results"
REFERENCE_COMMAND = "python -m cnnkit experiment reference --budget quick --seeds 3"

CATALOGUE_NOTE = (
    "The presets answer the experiment lines of MISSION.md. Two lines are views, not experiments: "
    "line 3 (the activations of LeNet's first and second layers for a pullover and a coat) is the "
    "dashboard's activations page, and line 15 (the parameter arithmetic: LeNet's first FC layer "
    "16·5·5·120 ≈ 48 k weights, AlexNet's 26 M, VGG's 102 M) is `python -m cnnkit summary MODEL` and "
    "the anatomy page; the zoo preset reports parameters and MACs next to accuracy. Line 6's preview "
    "grid of CIFAR-10 images is a dashboard view as well. Quick budgets are sized for a 2-core CPU "
    "(subsets, few epochs, small inputs); full budgets use the notes' or d2l's setting."
)


# ---- what a preset is --------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """One value of the factor: a label and the config changes it makes."""

    label: str
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """How long to train: changes on top of the base, per-level changes, and overrides."""

    changes: Mapping[str, Any] = field(default_factory=dict)
    per_level: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    override: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """What the notes or the literature expect, in a form the results can confirm or refute.

    ``better``: level a reaches a higher test accuracy than b. ``fails``: a diverges or stays at
    chance. ``similar``: a and b within ``tolerance`` (accuracy, 0.02 = 2 points).
    ``smaller_gap``: a's train − test accuracy gap (overfitting) is smaller than b's.
    """

    kind: str
    a: str
    b: str = ""
    tolerance: float = 0.02

    def describe(self) -> str:
        if self.kind == "better":
            return f"{self.a} beats {self.b}"
        if self.kind == "fails":
            return f"{self.a} fails to train (diverges or stays at chance)"
        if self.kind == "similar":
            return f"{self.a} and {self.b} within {100 * self.tolerance:g} points"
        return f"{self.a} overfits less than {self.b} (smaller train − test gap)"


CLAIM_KINDS = ("better", "fails", "similar", "smaller_gap")


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    question: str  # as the notes ask it
    lines: tuple[int, ...]  # MISSION.md experiment lines it answers
    base: Mapping[str, Any]
    factor: str
    levels: tuple[Level, ...]
    baseline: str
    quick: Budget
    full: Budget
    expected: str  # one sentence: what the notes / literature expect, with the source
    claims: tuple[Claim, ...] = ()
    seeds: int = 3
    note: str = ""

    @property
    def labels(self) -> list[str]:
        return [level.label for level in self.levels]

    @property
    def datasets(self) -> list[str]:
        names = [self.base.get("dataset", "fashion-mnist")]
        names += [lv.changes["dataset"] for lv in self.levels if "dataset" in lv.changes]
        return list(dict.fromkeys(names))

    def level(self, label: str) -> Level:
        for level in self.levels:
            if level.label == label:
                return level
        raise ConfigError("level", f"must be one of {', '.join(self.labels)}, got {label!r}")

    def budget(self, name: str) -> Budget:
        if name == "quick":
            return self.quick
        if name == "full":
            return self.full
        if name == "smoke":  # a second or two per run: the pipeline, not the answer
            changes = {**self.quick.changes, "subset": 0.01, "test_subset": 0.02, "epochs": 1}
            return Budget(changes, self.quick.per_level, self.quick.override, "tests only")
        raise ConfigError("budget", f"must be one of {', '.join(BUDGETS)}, got {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``experiment list --json`` and the dashboard)."""
        return {
            "name": self.name, "title": self.title, "question": self.question, "lines": list(self.lines),
            "factor": self.factor, "levels": [{"label": lv.label, "changes": _jsonable(lv.changes)}
                                              for lv in self.levels],
            "baseline": self.baseline, "seeds": self.seeds, "datasets": self.datasets,
            "missing_datasets": missing_datasets(self), "base": _jsonable(self.base),
            "budgets": {name: {"changes": _jsonable(b.changes), "per_level": _jsonable(b.per_level),
                               "override": _jsonable(b.override), "text": describe_budget(self, name),
                               "note": b.note}
                        for name, b in (("quick", self.quick), ("full", self.full))},
            "expected": self.expected, "claims": [asdict(c) | {"text": c.describe()} for c in self.claims],
            "note": self.note,
        }


# ---- the catalogue -----------------------------------------------------------------------------
# d2l's LeNet (sigmoid, average pooling, Xavier, plain SGD at lr 0.9, batch 256, raw pixels) and the
# notes' fix for ReLU (lr 0.1). The LeNet-variant presets start from the ReLU one: the sigmoid net
# spends its first ~500 steps on a plateau whose length varies by seed, which would drown the factor.
D2L_LENET = {"model": "lenet", "lr": 0.9, "batch_size": 256, "init": "xavier", "optimizer": "sgd"}
RELU_LENET = {**D2L_LENET, "activation": "relu", "lr": 0.1}
MODERN_LENET = {**RELU_LENET, "pool": "max"}

D2L_FULL = Budget({"epochs": 10}, note="d2l: 10 epochs over all 60,000 training images")
SIGMOID_QUICK = Budget({"epochs": 4}, note="the sigmoid net needs the whole training set to leave its plateau")
SIGMOID_SHORT = Budget({"epochs": 3})
RELU_QUICK = Budget({"subset": 0.25, "epochs": 5})
SMALL_DATA_QUICK = Budget({"subset": 0.1, "epochs": 20, "test_subset": 0.5},
                          note="a tenth of the training set, so that overfitting shows")
SMALL_DATA_FULL = Budget({"subset": 0.1, "epochs": 60})
# The overfitting presets need a net that fits its training set within the budget: momentum does that
# (at lr 0.1 with momentum 0.9 one run in ten died at chance, so half of that).
FITTING_LENET = {**RELU_LENET, "optimizer": "sgd-momentum", "lr": 0.05}
CNN_MLP_QUICK = Budget({"epochs": 3}, note="all training images: on a quarter LeNet is still behind after 5 epochs")


def _lv(label: str, **changes: Any) -> Level:
    return Level(label, changes)


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="pooling", title="Average vs max pooling in LeNet",
        question="What happens when LeNet's average pooling is replaced by max pooling?",
        lines=(1,), base=D2L_LENET, factor="pool",
        levels=(_lv("average pooling", pool="avg"), _lv("max pooling", pool="max")),
        baseline="average pooling", quick=SIGMOID_QUICK, full=D2L_FULL,
        expected="Max pooling should do at least as well: the notes say it keeps the most salient feature of "
                 "each window (notes 000, 004); in LeNet the gain is small (d2l §7.6 exercise 1).",
        claims=(Claim("better", "max pooling", "average pooling"),),
    ),
    Preset(
        name="activation-lr", title="Sigmoid → ReLU needs a smaller learning rate",
        question="Can sigmoid be replaced by ReLU? Why does the model not converge after the swap?",
        lines=(2, 8), base=D2L_LENET, factor="activation and lr",
        levels=(_lv("sigmoid, lr 0.9", activation="sigmoid", lr=0.9), _lv("ReLU, lr 0.1", activation="relu", lr=0.1),
                _lv("ReLU, lr 0.9", activation="relu", lr=0.9)),
        baseline="sigmoid, lr 0.9", quick=SIGMOID_QUICK, full=D2L_FULL,
        expected="ReLU at sigmoid's lr 0.9 does not converge; lowering the learning rate to 0.1 makes it train "
                 "(notes 002, the d2l LeNet Q&A).",
        claims=(Claim("fails", "ReLU, lr 0.9"), Claim("better", "ReLU, lr 0.1", "ReLU, lr 0.9")),
    ),
    Preset(
        name="learning-rate", title="LeNet's learning rate",
        question="How much does the learning rate matter for LeNet (ReLU, plain SGD)?",
        lines=(2,), base=RELU_LENET, factor="lr",
        levels=(_lv("lr 0.01", lr=0.01), _lv("lr 0.03", lr=0.03), _lv("lr 0.1", lr=0.1), _lv("lr 0.3", lr=0.3)),
        baseline="lr 0.1", quick=RELU_QUICK, full=D2L_FULL,
        expected="In a fixed number of epochs a too small learning rate under-trains and a too large one is "
                 "unstable (notes 000: tune it; Bengio 2012 calls it the most important hyper-parameter).",
        claims=(Claim("better", "lr 0.1", "lr 0.01"),),
    ),
    Preset(
        name="kernel-size", title="LeNet's convolution window",
        question="Does a smaller (3×3) or larger (7×7) convolution window make LeNet more accurate?",
        lines=(2,), base=RELU_LENET, factor="kernel_size",
        levels=(_lv("3×3", kernel_size=3), _lv("5×5 (d2l)", kernel_size=5), _lv("7×7", kernel_size=7)),
        baseline="5×5 (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        expected="With only two conv layers the window changes accuracy little: the notes' case for 3×3 "
                 "(notes 000, from VGG, Simonyan & Zisserman 2014) rests on stacking more layers, not on the "
                 "window alone.",
        claims=(Claim("similar", "3×3", "5×5 (d2l)"), Claim("similar", "7×7", "5×5 (d2l)")),
    ),
    Preset(
        name="channels", title="LeNet's output channels",
        question="Does LeNet get more accurate with more output channels per conv layer?",
        lines=(2,), base=RELU_LENET, factor="channels",
        levels=(_lv("3, 8", channels=(3, 8)), _lv("6, 16 (d2l)", channels=(6, 16)), _lv("16, 32", channels=(16, 32)),
                _lv("32, 64", channels=(32, 64))),
        baseline="6, 16 (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        expected="More channels learn more features at more compute (notes 000: 增加通道数 模型能更好的学习到特征), "
                 "so 32/64 should beat d2l's 6/16.",
        claims=(Claim("better", "32, 64", "6, 16 (d2l)"),),
    ),
    Preset(
        name="conv-layers", title="Number of conv layers in LeNet",
        question="Does LeNet get more accurate with more convolution layers?",
        lines=(2,), base=RELU_LENET, factor="conv_layers",
        levels=(_lv("1 conv layer", conv_layers=1), _lv("2 conv layers (d2l)", conv_layers=2),
                _lv("3 conv layers", conv_layers=3)),
        baseline="2 conv layers (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        note="Layers beyond the second pad to keep their size and double the channels (16 → 32).",
        expected="Deeper nets learn more abstract features, fewer layers limit what the net can express "
                 "(notes 000).",
        claims=(Claim("better", "3 conv layers", "1 conv layer"),),
    ),
    Preset(
        name="fc-layers", title="Number of fully connected layers in LeNet",
        question="Does LeNet get more accurate with more fully connected layers?",
        lines=(2,), base=RELU_LENET, factor="fc",
        levels=(_lv("1 FC layer", fc=()), _lv("2 FC layers", fc=(120,)), _lv("3 FC layers (d2l)", fc=(120, 84)),
                _lv("4 FC layers", fc=(240, 120, 84))),
        baseline="3 FC layers (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        note="The count includes the output layer: 1 FC layer = the conv features go straight to the 10 classes.",
        expected="More FC layers add non-linearity and fit the data better, fewer simplify the model and may "
                 "limit it (notes 000).",
        claims=(Claim("better", "4 FC layers", "1 FC layer"),),
    ),
    Preset(
        name="init", title="Weight initialisation of LeNet",
        question="Does the initialisation (PyTorch default, Xavier, Kaiming) change how well LeNet trains?",
        lines=(2,), base=RELU_LENET, factor="init",
        levels=(_lv("PyTorch default", init="default"), _lv("Xavier (d2l)", init="xavier"),
                _lv("Kaiming", init="kaiming")),
        baseline="Xavier (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        expected="Xavier keeps activations and gradients in range (notes 003, Glorot & Bengio 2010) and Kaiming "
                 "suits ReLU (He et al. 2015); both should train at least as well as PyTorch's smaller default.",
        claims=(Claim("better", "Xavier (d2l)", "PyTorch default"), Claim("better", "Kaiming", "PyTorch default")),
    ),
    Preset(
        name="epochs", title="Training LeNet longer",
        question="How much does training LeNet for more epochs help?",
        lines=(2, 16), base=RELU_LENET, factor="epochs",
        levels=(_lv("2 epochs", epochs=2), _lv("5 epochs", epochs=5), _lv("15 epochs", epochs=15)),
        baseline="5 epochs", quick=Budget({"subset": 0.25}, note="the levels set the epochs"),
        full=Budget({}, note="the levels set the epochs; all 60,000 images"),
        expected="More epochs raise test accuracy with diminishing returns until the net starts to overfit "
                 "(notes 000: train long enough but avoid overfitting).",
        claims=(Claim("better", "15 epochs", "2 epochs"),),
    ),
    Preset(
        name="improved-lenet", title="An improved LeNet on Fashion-MNIST",
        question="Does a LeNet with the notes' improvements (ReLU, max pooling, more channels, batch norm, "
                 "Kaiming init) beat d2l's LeNet?",
        lines=(2,), base=D2L_LENET, factor="architecture",
        levels=(_lv("d2l LeNet"),
                _lv("improved LeNet", activation="relu", pool="max", channels=(16, 32), batchnorm=True,
                    init="kaiming", lr=0.1)),
        baseline="d2l LeNet", quick=SIGMOID_SHORT, full=D2L_FULL,
        expected="The improvements add up to a clearly better net (notes 000 and 001; d2l §8.5: batch norm alone "
                 "lifts LeNet's train accuracy from 0.82 to 0.90).",
        claims=(Claim("better", "improved LeNet", "d2l LeNet"),),
    ),
    Preset(
        name="improved-lenet-mnist", title="The improved LeNet on MNIST",
        question="Try the improved LeNet on MNIST: does it still beat d2l's LeNet?",
        lines=(2,), base={**D2L_LENET, "dataset": "mnist"}, factor="architecture",
        levels=(_lv("d2l LeNet"),
                _lv("improved LeNet", activation="relu", pool="max", channels=(16, 32), batchnorm=True,
                    init="kaiming", lr=0.1)),
        baseline="d2l LeNet", quick=SIGMOID_SHORT, full=D2L_FULL,
        expected="Both pass 98 % on MNIST after 10 epochs (LeCun et al. 1998: 0.95 % test error for LeNet-5); the "
                 "improved net should still be ahead (notes 000, exercise 3).",
        claims=(Claim("better", "improved LeNet", "d2l LeNet"),),
    ),
)


def _cnn_vs_mlp(name: str, dataset: str, permuted: bool) -> Preset:
    where = "MNIST" if dataset == "mnist" else "Fashion-MNIST"
    base = {"dataset": dataset, "normalize": True, "permute_pixels": permuted, "optimizer": "adam", "lr": 0.001,
            "batch_size": 128, "init": "default"}
    cnn, mlp = "LeNet (ReLU, max-pool)", "MLP, same parameter count"
    levels = (_lv(mlp, model="mlp", match_params_of="lenet"), _lv(cnn, model="lenet", activation="relu", pool="max"))
    if permuted:
        return Preset(
            name=name, title=f"CNN vs MLP on pixel-shuffled {where}",
            question=f"With every {where} image's pixels shuffled by one fixed permutation, which wins: the CNN or "
                     "an MLP with the same number of parameters?",
            lines=(5,), base=base, factor="model", levels=levels, baseline=mlp,
            quick=CNN_MLP_QUICK, full=D2L_FULL,
            note="Same training for both: normalised input, Adam 1e-3, batch 128. The MLP is one hidden layer sized "
                 "to LeNet's 61.7 k parameters (match_params_of=lenet).",
            expected="The MLP wins: a fixed permutation costs an MLP nothing but destroys the spatial locality the "
                     "CNN's small kernels rely on (notes 001).",
            claims=(Claim("better", mlp, cnn),),
        )
    return Preset(
        name=name, title=f"CNN vs MLP on {where}",
        question=f"On {where} (ToTensor + Normalize), does a CNN beat a fully connected net with about the same "
                 "number of parameters?",
        lines=(4,), base=base, factor="model", levels=levels, baseline=mlp, quick=CNN_MLP_QUICK, full=D2L_FULL,
        note="Same training for both: normalised input, Adam 1e-3, batch 128. The MLP is one hidden layer sized to "
             "LeNet's 61.7 k parameters (match_params_of=lenet).",
        expected="The CNN wins at the same parameter count (notes 001).",
        claims=(Claim("better", cnn, mlp),),
    )


def _course_vs_vgg(name: str, dataset: str) -> Preset:
    cifar = dataset == "cifar10"
    course, vgg = "course CNN", "VGG-16 (BN, FC 512)"
    quick = (Budget({"subset": 0.2, "epochs": 5, "test_subset": 0.5}, {vgg: {"width_ratio": 4}},
                    note="VGG-16 with a quarter of the channels") if cifar else
             Budget({"subset": 0.1, "epochs": 3}, {vgg: {"width_ratio": 8}},
                    note="VGG-16 with an eighth of the channels"))
    return Preset(
        name=name, title="The course CNN vs VGG-16" + ("" if cifar else " (on Fashion-MNIST)"),
        question="Does VGG-16 classify CIFAR-10 clearly better than the course's small CNN?" if cifar else
                 "The notes' CIFAR-10 comparison on Fashion-MNIST (runs here): does VGG-16 beat the course CNN?",
        lines=(6,), base={"dataset": dataset, "normalize": True, "optimizer": "sgd-momentum", "lr": 0.01,
                          "batch_size": 128},
        factor="model",
        levels=(_lv(course, model="course-cnn"),
                _lv(vgg, model="vgg16", input_size=32, batchnorm=True, fc_width=512)),
        baseline=course, quick=quick, full=Budget({"epochs": 10}, note="10 epochs, as the notes"),
        note="Both train alike (normalised input, SGD with momentum 0.9 at lr 0.01, batch 128); VGG-16 is the usual "
             "CIFAR adaptation (32×32 input, batch norm, FC 512-512). Fashion-MNIST images are resized to 32×32 and "
             "repeated to 3 channels for the course CNN.",
        expected="The course CNN reaches about 62 % on CIFAR-10 after 10 epochs (loss 0.775) and VGG-16 does clearly "
                 "better (notes 001).",
        claims=(Claim("better", vgg, course),),
    )


def _augmentation(name: str, dataset: str) -> Preset:
    cifar = dataset == "cifar10"
    levels = [_lv("none", augment=()), _lv("crop + flip", augment=("crop", "flip")),
              _lv("PCA colour", augment=("pca",))]
    if cifar:
        levels.append(_lv("crop + flip + PCA colour", augment=("crop", "flip", "pca")))
        base = {"model": "course-cnn", "dataset": "cifar10", "normalize": True, "optimizer": "sgd-momentum",
                "lr": 0.01, "batch_size": 128, "crop_padding": 4}
        quick, full = Budget({"subset": 0.2, "epochs": 10, "test_subset": 0.5}), Budget({"epochs": 30})
        note = "The course CNN; crops pad 4 pixels (the usual CIFAR-10 setting)."
    else:
        base = {**FITTING_LENET, "crop_padding": 2}
        quick, full = SMALL_DATA_QUICK, SMALL_DATA_FULL
        note = ("ReLU LeNet (SGD with momentum 0.9, lr 0.05) on a tenth of the training set; crops pad 2 pixels. "
                "On grey images AlexNet's PCA colour "
                "augmentation reduces to a random brightness shift along the single principal component.")
    return Preset(
        name=name, title="Data augmentation" + (" on CIFAR-10" if cifar else ""),
        question="Does data augmentation (random crop + horizontal flip, AlexNet's PCA colour) reduce overfitting?",
        lines=(12,), base=base, factor="augment", levels=tuple(levels), baseline="none", quick=quick, full=full,
        note=note,
        expected="Flips and random crops multiply the training data and reduce overfitting; PCA colour lowered "
                 "AlexNet's top-1 error by over 1 % (notes 004; Krizhevsky et al. 2012).",
        claims=(((Claim("better", "crop + flip", "none"),) if cifar else ())
                + (Claim("smaller_gap", "crop + flip", "none"),)),
    )


PRESETS += (
    _cnn_vs_mlp("cnn-vs-mlp", "fashion-mnist", permuted=False),
    _cnn_vs_mlp("cnn-vs-mlp-permuted", "fashion-mnist", permuted=True),
    _cnn_vs_mlp("cnn-vs-mlp-mnist", "mnist", permuted=False),
    _cnn_vs_mlp("cnn-vs-mlp-permuted-mnist", "mnist", permuted=True),
    _course_vs_vgg("course-cnn-vs-vgg16", "cifar10"),
    _course_vs_vgg("course-cnn-vs-vgg16-fmnist", "fashion-mnist"),
    Preset(
        name="softmax-before-loss", title="An extra softmax before CrossEntropyLoss",
        question="What happens when the net applies softmax before nn.CrossEntropyLoss?",
        lines=(7,), base=RELU_LENET, factor="softmax_before_loss",
        levels=(_lv("logits into the loss", softmax_before_loss=False),
                _lv("softmax before the loss", softmax_before_loss=True)),
        baseline="logits into the loss", quick=RELU_QUICK, full=D2L_FULL,
        expected="Accuracy drops: CrossEntropyLoss already applies (log-)softmax, so a second softmax squashes the "
                 "logits and the gradients (notes 001; PyTorch's CrossEntropyLoss documentation).",
        claims=(Claim("better", "logits into the loss", "softmax before the loss"),),
    ),
    Preset(
        name="batch-size", title="LeNet with large batches",
        question="Why does LeNet converge badly with a batch size above 1000? Does it become NaN?",
        lines=(9,), base=D2L_LENET, factor="batch_size",
        levels=(_lv("64", batch_size=64), _lv("256 (d2l)", batch_size=256), _lv("1024", batch_size=1024),
                _lv("4096", batch_size=4096)),
        baseline="256 (d2l)", quick=SIGMOID_SHORT, full=D2L_FULL,
        note="Same learning rate (0.9) and epochs for every batch size, so a larger batch means fewer updates. "
             "The report's images/s shows the throughput side.",
        expected="No NaN: at a fixed learning rate and number of epochs a batch of 4096 makes 16× fewer updates "
                 "than 256 and ends far less trained (notes 002; Goyal et al. 2017 scale the learning rate with "
                 "the batch to avoid this).",
        claims=(Claim("better", "256 (d2l)", "4096"),),
    ),
    Preset(
        name="lr-schedule", title="Constant vs step vs cosine learning rate",
        question="Is a cosine learning-rate schedule better than a step or a constant one?",
        lines=(10,), base={**MODERN_LENET, "lr": 0.3}, factor="schedule",
        levels=(_lv("constant", schedule="constant"), _lv("step (×0.1 at 50 % and 75 %)", schedule="step"),
                _lv("cosine", schedule="cosine")),
        baseline="constant", quick=Budget({"subset": 0.25, "epochs": 6}),
        full=Budget({"epochs": 30}, note="d2l §12.11: 30 epochs"),
        note="d2l §12.11's net: LeNet with ReLU and max pooling, SGD at peak lr 0.3.",
        expected="Cosine leaves time to fine-tune at small rates (notes 002); d2l §12.11 measures cosine 0.904 "
                 "against constant 0.877 and multi-step 0.869 after 30 epochs.",
        claims=(Claim("better", "cosine", "constant"),),
    ),
    Preset(
        name="shuffle", title="DataLoader shuffle on vs off",
        question="What difference does shuffle=True vs shuffle=False make?",
        lines=(11,), base=RELU_LENET, factor="shuffle",
        levels=(_lv("shuffled every epoch", shuffle=True), _lv("same order every epoch", shuffle=False)),
        baseline="shuffled every epoch", quick=RELU_QUICK, full=D2L_FULL,
        note="Without shuffling every epoch visits the images in the dataset's own order, which in Fashion-MNIST is "
             "already mixed (not sorted by class).",
        expected="Shuffling adds randomness to training and reduces overfitting (notes 001); with an already mixed "
                 "file order the effect should be small.",
        claims=(Claim("better", "shuffled every epoch", "same order every epoch"),),
    ),
    Preset(
        name="normalization", title="Input normalisation on vs off",
        question="What difference does the transform make: raw [0, 1] pixels vs Normalize(mean, std)?",
        lines=(11,), base=RELU_LENET, factor="normalize",
        levels=(_lv("pixels in [0, 1] (d2l)", normalize=False), _lv("normalised (mean 0, std 1)", normalize=True)),
        baseline="pixels in [0, 1] (d2l)", quick=RELU_QUICK, full=D2L_FULL,
        expected="Normalised inputs (mean 0, variance 1) train faster (notes 001; LeCun et al. 1998, Efficient "
                 "BackProp).",
        claims=(Claim("better", "normalised (mean 0, std 1)", "pixels in [0, 1] (d2l)"),),
    ),
    Preset(
        name="dropout", title="Dropout on vs off",
        question="Does dropout in the fully connected layers reduce overfitting?",
        lines=(12, 16), base=FITTING_LENET, factor="dropout",
        levels=(_lv("no dropout", dropout=0.0), _lv("dropout 0.25", dropout=0.25), _lv("dropout 0.5", dropout=0.5)),
        baseline="no dropout", quick=SMALL_DATA_QUICK, full=SMALL_DATA_FULL,
        note="Dropout after each hidden FC layer of a ReLU LeNet (SGD with momentum 0.9, lr 0.05) trained on a tenth "
             "of the training set.",
        expected="Dropout regularises: the gap between train and test accuracy shrinks (notes 002, 004; Srivastava "
                 "et al. 2014).",
        claims=(Claim("smaller_gap", "dropout 0.5", "no dropout"),),
    ),
    Preset(
        name="batchnorm", title="Batch normalisation on vs off",
        question="Does batch normalisation make LeNet train faster and better?",
        lines=(12,), base=D2L_LENET, factor="batchnorm",
        levels=(_lv("no batch norm (d2l)", batchnorm=False), _lv("batch norm", batchnorm=True)),
        baseline="no batch norm (d2l)", quick=SIGMOID_SHORT, full=D2L_FULL,
        expected="Batch norm speeds up convergence and stabilises training (notes 001; Ioffe & Szegedy 2015; d2l "
                 "§8.5: BN-LeNet 0.90 train accuracy against 0.82).",
        claims=(Claim("better", "batch norm", "no batch norm (d2l)"),),
    ),
    _augmentation("augmentation", "fashion-mnist"),
    _augmentation("augmentation-cifar10", "cifar10"),
    Preset(
        name="lrn", title="Local response normalisation in AlexNet",
        question="Does AlexNet's local response normalisation (LRN) help?",
        lines=(12,), base={"model": "alexnet", "lr": 0.01, "batch_size": 128, "init": "xavier"}, factor="lrn",
        levels=(_lv("no LRN (d2l)", lrn=False), _lv("LRN after conv1 and conv2", lrn=True)),
        baseline="no LRN (d2l)",
        quick=Budget({"input_size": 67, "subset": 0.05, "epochs": 2, "test_subset": 0.1},
                     override={"optimizer": "adam", "lr": 1e-4, "batch_size": 32},
                     note="67×67 input (AlexNet needs ≥ 65), Adam 1e-4 with batch 32: d2l's plain SGD at 0.01 stays "
                          "at chance this short"),
        full=Budget({"epochs": 10}, note="d2l: 224×224, SGD lr 0.01, 10 epochs"),
        expected="Little or no gain for more compute: later nets dropped LRN (notes 002; VGG's A-LRN did not improve "
                 "on A, Simonyan & Zisserman 2014).",
        claims=(Claim("similar", "LRN after conv1 and conv2", "no LRN (d2l)"),),
    ),
    Preset(
        name="resnet-shortcut", title="The residual shortcut where the map shrinks",
        question="Where a residual block halves the feature map, how can the shortcut still be added, and does "
                 "the shortcut help?",
        lines=(13,), base={"model": "resnet18", "lr": 0.05, "batch_size": 256, "init": "default"}, factor="shortcut",
        levels=(_lv("1×1 conv, stride 2", shortcut="projection"), _lv("zero-padding", shortcut="zero-pad"),
                _lv("no shortcut (plain)", shortcut="none")),
        baseline="1×1 conv, stride 2",
        quick=Budget({"input_size": 32, "subset": 0.05, "epochs": 2, "batch_size": 64, "test_subset": 0.1},
                     note="32×32 input, a twentieth of the training set, batch 64"),
        full=Budget({"epochs": 10}, note="d2l: 96×96, lr 0.05, batch 256, 10 epochs"),
        expected="The notes think a shrinking map rules the shortcut out (notes 001); He et al. 2016 use a 1×1 "
                 "stride-2 projection or zero-padding, both train, and residual nets converge faster than plain ones.",
        claims=(Claim("better", "1×1 conv, stride 2", "no shortcut (plain)"),
                Claim("similar", "zero-padding", "1×1 conv, stride 2")),
    ),
    Preset(
        name="zoo", title="The architecture zoo at equal epochs",
        question="LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet and an MLP at the same number of epochs: which is "
                 "most accurate, at what cost?",
        lines=(14, 15), base={"dataset": "fashion-mnist"}, factor="model",
        levels=(
            _lv("LeNet", model="lenet", lr=0.9, batch_size=256, init="xavier"),
            _lv("AlexNet", model="alexnet", lr=0.01, batch_size=128, init="xavier"),
            _lv("VGG-11 ÷4", model="vgg11", width_ratio=4, lr=0.05, batch_size=128, init="xavier"),
            _lv("NiN", model="nin", lr=0.1, batch_size=128, init="xavier"),
            _lv("GoogLeNet", model="googlenet", lr=0.1, batch_size=128, init="xavier"),
            _lv("ResNet-18", model="resnet18", lr=0.05, batch_size=256, init="default"),
            _lv("MLP", model="mlp", lr=0.1, batch_size=256, init="default"),
        ),
        baseline="LeNet",
        quick=Budget({"subset": 0.05, "epochs": 2, "test_subset": 0.1},
                     per_level={"AlexNet": {"input_size": 67, "lr": 1e-4}, "VGG-11 ÷4": {"input_size": 32},
                                "NiN": {"input_size": 67}, "GoogLeNet": {"input_size": 32},
                                "ResNet-18": {"input_size": 32}},
                     override={"optimizer": "adam", "lr": 0.001, "batch_size": 32},
                     note="small inputs, a twentieth of the data, Adam with batch 32 for all (lr 1e-3, AlexNet 1e-4): "
                          "d2l's SGD recipes stay at chance this short"),
        full=Budget({"epochs": 10}, note="d2l's recipe for each model at its native input (224, 96 or 28), 10 epochs"),
        note="Each level is the model with d2l's training recipe. Parameters and MACs per run are in the report.",
        expected="After 10 epochs d2l measures LeNet 0.78, NiN 0.79, AlexNet 0.88, GoogLeNet 0.89, ResNet-18 0.89 and "
                 "VGG-11 ÷4 0.92 test accuracy: every modern net beats LeNet (d2l chapter 8).",
        claims=(Claim("better", "ResNet-18", "LeNet"),),
    ),
    Preset(
        name="overfitting", title="Train vs test accuracy: overfitting",
        question="When does train accuracy run away from test accuracy (train loss falls, test loss stays flat)?",
        lines=(16,), base=FITTING_LENET, factor="subset",
        levels=(_lv("1,200 images", subset=0.02, epochs=100), _lv("6,000 images", subset=0.1, epochs=20),
                _lv("30,000 images", subset=0.5, epochs=4)),
        baseline="30,000 images",
        quick=Budget({"test_subset": 0.2}, note="a fifth of the test set, evaluated every epoch"),
        full=Budget({}, per_level={"1,200 images": {"epochs": 500}, "6,000 images": {"epochs": 100},
                                   "30,000 images": {"epochs": 20}}, note="five times the updates"),
        note="The same ReLU LeNet (SGD with momentum 0.9, lr 0.05), no regularisation, on smaller and smaller "
             "stratified subsets; the epochs are set so that every level makes the same number of updates "
             "(≈ 470 in the quick budget).",
        expected="The smaller the training set, the larger the gap between train and test accuracy: the model "
                 "memorises instead of generalising (notes 002, 004).",
        claims=(Claim("smaller_gap", "30,000 images", "1,200 images"),
                Claim("better", "30,000 images", "1,200 images")),
    ),
)


# ---- the catalogue API ---------------------------------------------------------------------------

def catalogue() -> list[Preset]:
    """Every preset, roughly in the order of MISSION.md's experiment lines."""
    return sorted(PRESETS, key=lambda p: (min(p.lines), PRESETS.index(p)))


def names() -> list[str]:
    return [p.name for p in catalogue()]


def get(name: str) -> Preset:
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise ConfigError("experiment", f"must be one of {', '.join(names())}, got {name!r}")


def missing_datasets(preset: Preset | str) -> list[str]:
    """The datasets ``preset`` needs that cannot be loaded here without a download."""
    from cnnkit import data

    preset = get(preset) if isinstance(preset, str) else preset
    return [d for d in preset.datasets if not data.is_available(d)]


def check_budget(budget: str, hidden: bool = True) -> str:
    allowed = ALL_BUDGETS if hidden else BUDGETS
    if budget not in allowed:
        raise ConfigError("budget", f"must be one of {', '.join(BUDGETS)}, got {budget!r}")
    return budget


def check_seeds(seeds: int | None, preset: Preset) -> int:
    if seeds is None:
        return preset.seeds
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError("seeds", f"must be an integer in [1, {MAX_SEEDS}], got {seeds!r}")
    return seeds


def level_config(preset: Preset, label: str, budget: str = "quick") -> RunConfig:
    """The validated config of one level (seed 0) under ``budget``."""
    check_budget(budget)
    plan = preset.budget(budget)
    data = RunConfig().to_dict()
    for changes in (preset.base, plan.changes, preset.level(label).changes, plan.override,
                    plan.per_level.get(label, {})):
        data = _merge(data, changes)
    try:
        config = RunConfig.from_dict(data)
        config.check_fits()
    except ConfigError as exc:
        detail = str(exc).removeprefix(f"{exc.field}: ")
        raise ConfigError(exc.field, f"{detail} (experiment {preset.name}, level {label!r}, {budget} budget)") from None
    return config


def build_configs(preset: Preset | str, budget: str = "quick", seeds: int | None = None) -> list[tuple[str, RunConfig]]:
    """(level label, validated config) for every level × seed 0…n−1, seed-major: all levels of seed 0
    first, so that a half-finished experiment is balanced and slow periods hit every level alike."""
    preset = get(preset) if isinstance(preset, str) else preset
    n = check_seeds(seeds, preset)
    per_level = {label: level_config(preset, label, budget) for label in preset.labels}
    return [(label, per_level[label].replace(seed=s)) for s in range(n) for label in preset.labels]


def describe_budget(preset: Preset, budget: str) -> str:
    """'25 % of the training set, 5 epochs, 10 % of the test set'; what differs by level is given
    level by level ('2 %/10 %/50 % of the training set')."""
    configs = [level_config(preset, label, budget) for label in preset.labels]
    config = configs[preset.labels.index(preset.baseline)]
    plan = preset.budget(budget)

    def each(values: list, fmt: Callable[[Any], str]) -> str:
        return "/".join(fmt(v) for v in dict.fromkeys(values)) if len(set(values)) == 1 else \
            "/".join(fmt(v) for v in values)

    subsets = [c.subset for c in configs]
    parts = ["all training images" if min(subsets) >= 1 else
             each(subsets, lambda v: _pct(v, 0 if v >= 0.01 else 1)) + " of the training set",
             each([c.epochs for c in configs], str) + (" epoch" if {c.epochs for c in configs} == {1} else " epochs")]
    if config.test_subset < 1:
        parts.append(f"{_pct(config.test_subset)} of the test set")
    sizes = sorted({c.input_size for c in configs} - {None})
    if sizes:
        parts.append("input " + "/".join(f"{s}×{s}" for s in sizes))
    if plan.override.get("optimizer"):
        lrs = [c.lr for c in configs]
        common = max(set(lrs), key=lrs.count)
        odd = [f"{label} {c.lr:g}" for label, c in zip(preset.labels, configs) if c.lr != common]
        parts.append(f"{plan.override['optimizer']} lr {common:g}" + (f" ({', '.join(odd)})" if odd else "")
                     + " for every level")
    return ", ".join(parts)


def _merge(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` (config fields or model options) applied to a config dict; a new model starts
    with no options, as in RunConfig.replace."""
    data = {**data, "model_options": dict(data.get("model_options", {}))}
    if "model" in changes and changes["model"] != data.get("model"):
        data["model_options"] = {}
    for key, value in changes.items():
        if key == "model_options":
            data["model_options"].update(value)
        elif key in FIELD_NAMES:
            data[key] = list(value) if isinstance(value, tuple) else value
        else:
            data["model_options"][key] = list(value) if isinstance(value, tuple) else value
    return data


# ---- launching -----------------------------------------------------------------------------------

def launch(store, name: str, budget: str = "quick", seeds: int | None = None,  # noqa: ANN001 - cnnkit.store.Store
           start_worker: bool = True, *, meta: Mapping[str, Any] | None = None) -> str:
    """Queue every run of preset ``name`` in a new group of kind "experiment"; returns the group id.

    The group's meta holds the preset, budget, seeds, level order, baseline and the level of every
    run id (``meta["runs"]``); ``meta`` adds entries (the reference command records itself there).
    Refuses (DataError) when a dataset is missing and downloads are off (CNNKIT_OFFLINE).
    """
    from cnnkit.data import get_spec

    preset = get(name)
    check_budget(budget)
    configs = build_configs(preset, budget, seeds)
    n_seeds = check_seeds(seeds, preset)
    missing = missing_datasets(preset)
    if missing and os.environ.get("CNNKIT_OFFLINE"):
        spec = get_spec(missing[0])
        raise DataError(f"experiment {name} needs {spec.title}, which is not installed and downloads are off: "
                        f"{spec.how_to_get}")
    group_meta = {
        "version": META_VERSION, "preset": preset.name, "title": preset.title, "question": preset.question,
        "factor": preset.factor, "levels": preset.labels, "baseline": preset.baseline, "budget": budget,
        "budget_text": describe_budget(preset, budget), "seeds": n_seeds, "lines": list(preset.lines),
        "created": _now_iso(), "host": host_info(), "runs": {}, **(meta or {}),
    }
    group = store.create_group(GROUP_KIND, f"{preset.title} · {budget}", group_meta)
    names_ = [f"{preset.name}{NAME_SEP}{label}{NAME_SEP}seed {config.seed}" for label, config in configs]
    ids = store.create_runs([c for _, c in configs], group, names=names_, tags=[f"experiment:{preset.name}"])
    group_meta["runs"] = {run_id: label for run_id, (label, _) in zip(ids, configs)}
    store.update_group_meta(group, group_meta)
    if start_worker:
        from cnnkit.jobs.supervisor import ensure_supervisor

        ensure_supervisor(store)
    return group


def latest_group(store, name: str) -> str | None:  # noqa: ANN001
    """The newest experiment group of preset ``name`` in ``store``, or None."""
    get(name)
    for group in store.groups(kind=GROUP_KIND):
        if group["meta"].get("preset") == name:
            return group["id"]
    return None


def group_progress(store, group_id: str) -> dict[str, int]:  # noqa: ANN001
    """{status: count} of the group's runs, plus "total" and "finished"."""
    from cnnkit.store import ACTIVE

    counts: dict[str, int] = {}
    runs = store.list_runs(group=group_id)
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    counts["total"] = len(runs)
    counts["finished"] = sum(1 for r in runs if r.status not in ACTIVE)
    return counts


def wait(store, group_id: str, progress: Callable[[str], None] | None = None, poll: float = 2.0,  # noqa: ANN001
         timeout: float | None = None, keep_supervisor: bool = True) -> bool:
    """Poll until every run of the group has finished; returns False on timeout.

    ``progress`` gets one line whenever the counts change. With ``keep_supervisor`` a supervisor is
    started again when runs wait and none has been alive for a while (it may have idled out or
    been stopped; a freshly started one needs a few seconds to take its lock).
    """
    from cnnkit.jobs.process import supervisor_pid
    from cnnkit.jobs.supervisor import ensure_supervisor

    name = (store.group(group_id) or {}).get("meta", {}).get("preset", group_id)
    deadline = None if timeout is None else time.time() + timeout
    last = None
    absent_since: float | None = None
    while True:
        counts = group_progress(store, group_id)
        if counts != last and progress:
            progress(_progress_line(name, counts))
        last = counts
        if counts["finished"] == counts["total"]:
            return True
        if keep_supervisor and not supervisor_pid(store.home):
            absent_since = absent_since or time.time()
            if time.time() - absent_since > SUPERVISOR_START_GRACE:
                ensure_supervisor(store)
                absent_since = None
        else:
            absent_since = None
        if deadline is not None and time.time() > deadline:
            return False
        time.sleep(poll)


def _progress_line(name: str, counts: dict[str, int]) -> str:
    done = ", ".join(f"{counts[s]} {s}" for s in ("completed", "diverged", "failed", "oom", "lost", "cancelled")
                     if counts.get(s))
    waiting = ", ".join(f"{counts[s]} {s}" for s in ("running", "queued") if counts.get(s))
    text = f"{time.strftime('%H:%M:%S')} {name}: {counts['finished']}/{counts['total']} finished"
    return text + (f" ({done})" if done else "") + (f"; {waiting}" if waiting else "")


# ---- analysis ------------------------------------------------------------------------------------

@dataclass
class _Run:
    """One run as the analysis needs it, whether it comes from a store or from a bundle."""

    id: str
    origin: str | None
    name: str
    status: str
    config: dict[str, Any]
    summary: dict[str, Any]
    error: str | None
    started_at: float | None
    finished_at: float | None
    device: str | None
    final: dict[str, float]


@dataclass
class LevelResult:
    level: str
    is_baseline: bool
    n: int  # runs counted: completed + diverged (at chance)
    mean: float | None  # final test accuracy
    std: float | None
    values: list[float]
    n_runs: int
    n_completed: int
    n_diverged: int
    n_chance: int  # completed runs that stayed at chance level
    n_failed: int  # failed, cancelled, lost, oom
    n_active: int  # queued or running
    mean_test_loss: float | None
    mean_train_loss: float | None
    mean_train_acc: float | None
    mean_gap: float | None  # train acc − test acc
    gaps: list[float]
    mean_seconds: float | None  # training seconds per run (the engine's epoch times)
    mean_wall_seconds: float | None  # claim → finish per run
    images_per_sec: float | None
    params: int | None
    macs: int | None
    diff: float | None = None  # mean − baseline mean (accuracy, not points)
    ci_low: float | None = None
    ci_high: float | None = None
    excludes_zero: bool = False
    run_ids: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class ExperimentReport:
    preset: str
    title: str
    question: str
    factor: str
    lines: list[int]
    budget: str
    budget_text: str
    seeds: int
    group: str
    source: str  # "store <path>" or "bundle <file name>"
    levels: list[LevelResult]
    baseline: str
    best: str | None
    verdict: str
    agreement: str  # agrees, partly agrees, contradicts, inconclusive, not enough seeds, no claim
    claims: list[dict[str, Any]]
    expected: str
    note: str
    counts: dict[str, int]
    finished: bool
    created: str | None
    wall_seconds: float | None
    host: dict[str, Any]
    devices: list[str]
    command: str | None = None
    current: bool = True  # the runs' configs are what the catalogue's preset builds today
    metric: str = "final test accuracy"

    def level(self, label: str) -> LevelResult:
        for level in self.levels:
            if level.level == label:
                return level
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "levels"}
        out["levels"] = [lv.to_dict() for lv in self.levels]
        return _jsonable(out)

    def to_markdown(self, heading: bool = True) -> str:
        lines = []
        if heading:
            lines += [f"### {self.title} (`{self.preset}`)", "", f"*{self.question}*", ""]
            lines += [self.note, ""] if self.note else []
        lines += ["| level | test acc (mean ± std) | n | Δ vs baseline, points (95 % CI) | train acc | test loss "
                  "| s/run | runs |", "|---|---|---|---|---|---|---|---|"]
        for lv in self.levels:
            lines.append("| " + " | ".join([
                lv.level + (" (baseline)" if lv.is_baseline else ""),
                _mean_std(lv.mean, lv.std),
                str(lv.n),
                "—" if lv.is_baseline else _diff_text(lv),
                _pct(lv.mean_train_acc, 1),
                "—" if lv.mean_test_loss is None else f"{lv.mean_test_loss:.3f}",
                "—" if lv.mean_seconds is None else f"{lv.mean_seconds:.1f}",
                _status_text(lv.statuses),
            ]) + " |")
        lines += ["", f"**Verdict.** {self.verdict}", "",
                  f"**Expected.** {self.expected} → **{self.agreement}**."]
        for claim in self.claims:
            lines.append(f"- {claim['text']}: {claim['outcome']} ({claim['detail']})")
        lines += ["", f"Budget: {self.budget} ({self.budget_text}); {self.seeds} seeds; group `{self.group}`."]
        if not self.current:
            lines.append("Note: the preset has changed since these runs; rerun it for today's settings.")
        return "\n".join(lines)


def analyze(store, group_id: str) -> ExperimentReport:  # noqa: ANN001
    """The report of an experiment group in ``store`` (finished or not)."""
    from cnnkit.errors import StoreError

    group = store.group(group_id)
    if group is None:
        raise StoreError(f"no experiment group {group_id} in {store.home}")
    if group["kind"] != GROUP_KIND:
        raise ConfigError("group", f"{group_id} is a {group['kind']} group, not an experiment")
    runs = []
    for run in store.list_runs(group=group_id):
        final = dict(run.summary.get("final") or {})
        if "test_acc" not in final and run.status == "completed":
            rows = store.epoch_rows(run.id)
            final = {k: rows[-1][k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")} if rows else {}
        origin = (run.summary.get("origin") or {}).get("id")
        runs.append(_Run(run.id, origin, run.name, run.status, run.config, run.summary, run.error, run.started_at,
                         run.finished_at, run.device, final))
    return _report(group, runs, f"store {store.home}")


def analyze_bundle(path: Path | str) -> ExperimentReport:
    """The report of the experiment in a bundle zip, read and validated without importing it."""
    from cnnkit.bundle import BundleError, read_bundle

    bundle = read_bundle(path)
    groups = [g for g in bundle.groups if g["kind"] == GROUP_KIND]
    if not groups:
        raise BundleError(f"{Path(path).name} holds no experiment group")
    group = groups[0]
    runs = []
    for run in bundle.runs:
        if run["group"] != group["id"]:
            continue
        final = dict(run["summary"].get("final") or {})
        if "test_acc" not in final and run["status"] == "completed":
            final = _final_from_points(run["metrics"])
        runs.append(_Run(run["id"], (run["summary"].get("origin") or {}).get("id"), run["name"], run["status"],
                         run["config"], run["summary"], run["error"], run["started_at"], run["finished_at"],
                         run["device"], final))
    return _report(group, runs, f"bundle {Path(path).name}")


def _final_from_points(points: list[list]) -> dict[str, float]:
    """The last whole-epoch value of each train/test loss/acc from [step, epoch, split, name, value, wall]."""
    last: dict[str, tuple[float, float]] = {}
    for _step, epoch, split, name, value, _wall in points:
        if float(epoch).is_integer() and name in ("loss", "acc"):
            key = f"{split}_{name}"
            if key not in last or epoch >= last[key][0]:
                last[key] = (epoch, value)
    return {k: v for k, (_, v) in last.items()}


def _report(group: dict[str, Any], runs: list[_Run], source: str) -> ExperimentReport:
    meta = group.get("meta", {})
    name = meta.get("preset", "")
    try:
        preset: Preset | None = get(name)
    except ConfigError:
        preset = None  # a preset renamed or removed since: the meta still tells the levels
    labels = list(meta.get("levels") or (preset.labels if preset else []))
    baseline = meta.get("baseline") or (preset.baseline if preset else (labels[0] if labels else ""))
    by_level: dict[str, list[_Run]] = {label: [] for label in labels}
    unassigned = []
    for run in runs:
        label = _level_of(run, meta)
        if label is None:
            unassigned.append(run)
            continue
        by_level.setdefault(label, []).append(run)
    chance = 1 / _num_classes(runs)
    levels = [_level_result(label, rs, chance, label == baseline,
                            dict(preset.level(label).changes) if preset and label in preset.labels else {})
              for label, rs in by_level.items()]
    base = next((lv for lv in levels if lv.is_baseline), None)
    for lv in levels:
        if base is not None and not lv.is_baseline and lv.values and base.values:
            d = stats.bootstrap_diff(lv.values, base.values)
            lv.diff, lv.ci_low, lv.ci_high, lv.excludes_zero = d.diff, d.low, d.high, d.excludes_zero
    ranked = [lv for lv in levels if lv.mean is not None]
    best = max(ranked, key=lambda lv: lv.mean).level if ranked else None
    claims = [_judge(c, {lv.level: lv for lv in levels}, chance) for c in (preset.claims if preset else ())]
    agreement = _agreement(levels, claims, has_claims=bool(preset and preset.claims))
    verdict = _verdict(levels, base, chance, unassigned)
    if agreement == "contradicts":
        bad = [f"{c['text']}, but {c['detail']}" for c in claims if c["outcome"] == "contradicts"]
        verdict += f" This contradicts the expected outcome (notes / literature: {'; '.join(bad)})."
    elif agreement in ("agrees", "partly agrees"):
        good = [f"{c['text']}: {c['detail']}" for c in claims if c["outcome"] == "agrees"]
        verdict += f" This {agreement.replace('agrees', 'agrees with')} the expected outcome ({'; '.join(good)})."
    elif agreement == "inconclusive":
        verdict += (" This neither confirms nor contradicts the expected outcome ("
                    + "; ".join(c["text"] for c in claims) + ") at this budget.")
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    budget = meta.get("budget", "?")
    current = preset is not None and budget in ALL_BUDGETS and _runs_match(preset, budget, by_level)
    budget_text = describe_budget(preset, budget) if current else meta.get("budget_text", "")
    starts = [r.started_at for r in runs if r.started_at]
    ends = [r.finished_at for r in runs if r.finished_at]
    active = sum(counts.get(s, 0) for s in ("queued", "running"))
    return ExperimentReport(
        preset=name, title=meta.get("title") or (preset.title if preset else name),
        question=meta.get("question") or (preset.question if preset else ""),
        factor=meta.get("factor") or (preset.factor if preset else ""),
        lines=list(meta.get("lines") or (preset.lines if preset else [])),
        budget=budget, budget_text=budget_text, seeds=int(meta.get("seeds", 0)), current=current,
        group=group.get("id", ""), source=source, levels=levels, baseline=baseline, best=best, verdict=verdict,
        agreement=agreement, claims=claims, expected=preset.expected if preset else "",
        note=preset.note if preset else "", counts=counts, finished=active == 0,
        created=meta.get("created"),
        wall_seconds=(max(ends) - min(starts)) if starts and ends and active == 0 else None,
        host=meta.get("host", {}), devices=sorted({r.device for r in runs if r.device}),
        command=meta.get("command"),
    )


def _runs_match(preset: Preset, budget: str, by_level: dict[str, list[_Run]]) -> bool:
    """Whether every run's config is what ``preset`` builds for its level today (seed aside)."""
    for label, runs in by_level.items():
        if label not in preset.labels:
            return False
        try:
            expected = level_config(preset, label, budget).to_dict()
        except ConfigError:
            return False
        for run in runs:
            try:  # through RunConfig, so that a field added since (with its default) is no change
                config = RunConfig.from_dict({**run.config, "seed": 0}).to_dict()
            except (ConfigError, TypeError):
                return False
            if config != expected:
                return False
    return True


def _level_of(run: _Run, meta: dict[str, Any]) -> str | None:
    """The level of a run: from the group's meta by id (or by the id it had before an import), else
    from its name "<preset> · <level> · seed <n>"."""
    mapping = meta.get("runs", {})
    for key in (run.id, run.origin):
        if key and key in mapping:
            return mapping[key]
    parts = run.name.split(NAME_SEP)
    if len(parts) == 3 and parts[0] == meta.get("preset"):
        return parts[1]
    return None


def _num_classes(runs: list[_Run]) -> int:
    from cnnkit.data import DATASETS

    for run in runs:
        spec = DATASETS.get(run.config.get("dataset", ""))
        if spec:
            return spec.num_classes
    return 10


def _level_result(label: str, runs: list[_Run], chance: float, is_baseline: bool,
                  changes: dict[str, Any]) -> LevelResult:
    completed = [r for r in runs if r.status == "completed" and "test_acc" in r.final]
    diverged = [r for r in runs if r.status == "diverged"]
    active = [r for r in runs if r.status in ("queued", "running")]
    failed = [r for r in runs if r not in completed and r not in diverged and r not in active]
    values = [float(r.final["test_acc"]) for r in completed] + [chance] * len(diverged)
    summary = stats.summarize(values)
    # A run that never learned says nothing about overfitting: its gap is left out.
    learned = [r for r in completed if r.final["test_acc"] >= chance + CHANCE_MARGIN and "train_acc" in r.final]
    gaps = [float(r.final["train_acc"]) - float(r.final["test_acc"]) for r in learned]
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    walls = [r.finished_at - r.started_at for r in completed if r.finished_at and r.started_at]
    errors = [f"{r.id} {r.status}: {(r.error or 'no error recorded').strip().splitlines()[0][:200]}"
              for r in failed + diverged]
    return LevelResult(
        level=label, is_baseline=is_baseline, n=summary.n, mean=summary.mean, std=summary.std, values=values,
        n_runs=len(runs), n_completed=len(completed), n_diverged=len(diverged),
        n_chance=sum(1 for r in completed if r.final["test_acc"] < chance + CHANCE_MARGIN),
        n_failed=len(failed), n_active=len(active),
        mean_test_loss=stats.mean_or_none([r.final.get("test_loss") for r in completed]),
        mean_train_loss=stats.mean_or_none([r.final.get("train_loss") for r in completed]),
        mean_train_acc=stats.mean_or_none([r.final.get("train_acc") for r in completed]),
        mean_gap=stats.mean_or_none(gaps), gaps=gaps,
        mean_seconds=stats.mean_or_none([r.summary.get("train_seconds") for r in completed]),
        mean_wall_seconds=stats.mean_or_none(walls),
        images_per_sec=stats.mean_or_none([r.summary.get("images_per_sec") for r in completed]),
        params=next((r.summary["params"] for r in runs if r.summary.get("params")), None),
        macs=next((r.summary["macs"] for r in runs if r.summary.get("macs")), None),
        run_ids=[r.id for r in runs], statuses=statuses, errors=errors, changes=_jsonable(changes),
    )


# ---- verdicts ------------------------------------------------------------------------------------

def _verdict(levels: list[LevelResult], base: LevelResult | None, chance: float, unassigned: list[_Run]) -> str:
    parts = []
    active = sum(lv.n_active for lv in levels)
    short = [lv for lv in levels if lv.n < 2]
    if not levels:
        return "No runs found for this experiment."
    if short:
        parts.append("Not enough seeds: " + "; ".join(
            f"{lv.level} has {lv.n} counted run{'' if lv.n == 1 else 's'}" for lv in short)
            + " (at least 2 per level are needed for an interval).")
        ranked = [lv for lv in levels if lv.mean is not None]
        if ranked:
            parts.append("So far: " + ", ".join(f"{lv.level} {_pct(lv.mean, 1)}" for lv in ranked) + ".")
    elif base is None:
        parts.append("The baseline level has no runs; no comparison is possible.")
    else:
        parts.append(_comparison_sentence(levels, base))
    for lv in levels:
        if lv.n_diverged:
            parts.append(f"{lv.level} diverged (non-finite loss) in {lv.n_diverged} of {lv.n_runs} runs; "
                         f"they count at chance ({_pct(chance, 0)}).")
        if lv.n_chance:
            parts.append(f"{lv.level} stayed at chance level in {lv.n_chance} of {lv.n_runs} runs: it did not learn "
                         "in this budget.")
    failed = [e for lv in levels for e in lv.errors if " diverged:" not in e]
    if failed:
        parts.append(f"{len(failed)} run{'s' if len(failed) > 1 else ''} did not finish and "
                     f"{'are' if len(failed) > 1 else 'is'} not counted (first: {failed[0]}).")
    if unassigned:
        parts.append(f"{len(unassigned)} run(s) of the group belong to no level and are ignored.")
    text = " ".join(parts)
    if active:
        text = f"Preliminary ({active} run{'s' if active > 1 else ''} not finished yet): " + text
    return text


def _comparison_sentence(levels: list[LevelResult], base: LevelResult) -> str:
    others = [lv for lv in levels if not lv.is_baseline]
    if len(others) == 1:
        other = others[0]
        seeds = _seeds_text(other, base)
        if other.excludes_zero:
            win, lose = (other, base) if other.diff > 0 else (base, other)
            sign = 1 if win is other else -1  # the interval of win − lose
            low, high = sorted((100 * sign * other.ci_low, 100 * sign * other.ci_high))
            return (f"{win.level} beat {lose.level} by {100 * abs(other.diff):.1f} points over {seeds} "
                    f"({_pct(win.mean, 1)} vs {_pct(lose.mean, 1)}); the 95 % interval of the difference, "
                    f"{low:.1f} to {high:.1f} points, excludes 0.")
        return (f"{other.level} and {base.level} did not differ clearly over {seeds} ({_pct(other.mean, 1)} vs "
                f"{_pct(base.mean, 1)}, {100 * other.diff:+.1f} points); the 95 % interval of the difference, "
                f"{100 * other.ci_low:+.1f} to {100 * other.ci_high:+.1f} points, includes 0.")
    best = max((lv for lv in levels if lv.mean is not None), key=lambda lv: lv.mean)
    items = []
    for lv in others:
        if lv.diff is None:
            continue
        word = ("clearly better" if lv.diff > 0 else "clearly worse") if lv.excludes_zero else "no clear difference"
        items.append(f"{lv.level} {100 * lv.diff:+.1f} points ({word})")
    n = sorted({lv.n for lv in levels})
    seeds = f"{n[0]} seeds" if len(n) == 1 else f"{n[0]}–{n[-1]} seeds"
    head = (f"Best: the baseline, {base.level} ({_pct(base.mean, 1)}). Against it: " if best is base else
            f"Best: {best.level} ({_pct(best.mean, 1)}). Against the baseline {base.level} ({_pct(base.mean, 1)}): ")
    return head + "; ".join(items) + f" (95 % bootstrap intervals over {seeds})."


def _seeds_text(a: LevelResult, b: LevelResult) -> str:
    return f"{a.n} seeds" if a.n == b.n else f"{b.n} and {a.n} seeds"


def _judge(claim: Claim, levels: dict[str, LevelResult], chance: float) -> dict[str, Any]:
    """One claim against the results: outcome agrees / contradicts / inconclusive / untestable."""
    out = {**asdict(claim), "text": claim.describe()}
    a, b = levels.get(claim.a), levels.get(claim.b) if claim.b else None
    if a is None or (claim.kind != "fails" and b is None):
        return out | {"outcome": "untestable", "detail": "a level of the claim has no runs"}
    if claim.kind == "fails":
        failed = a.n_diverged + a.n_chance
        if a.n < 2:
            return out | {"outcome": "untestable", "detail": f"{a.n} counted runs"}
        if failed * 2 >= a.n:
            return out | {"outcome": "agrees", "detail": f"{failed} of {a.n} runs diverged or stayed at chance"}
        if failed == 0 and a.mean is not None and a.mean > chance + 0.2:
            return out | {"outcome": "contradicts", "detail": f"every run learned, mean {_pct(a.mean, 1)}"}
        return out | {"outcome": "inconclusive", "detail": f"{failed} of {a.n} runs failed to train"}
    if claim.kind == "smaller_gap":
        xa, xb = a.gaps, b.gaps
        what = "train − test gap"
    else:
        xa, xb = a.values, b.values
        what = "test accuracy"
    if len(xa) < 2 or len(xb) < 2:
        return out | {"outcome": "untestable", "detail": f"{len(xa)} and {len(xb)} runs with a {what}"}
    d = stats.bootstrap_diff(xa, xb)
    detail = (f"{what} {100 * d.diff:+.1f} points, 95 % interval {100 * d.low:+.1f} to {100 * d.high:+.1f}")
    if claim.kind == "better":
        outcome = "inconclusive" if not d.excludes_zero else ("agrees" if d.diff > 0 else "contradicts")
    elif claim.kind == "smaller_gap":
        outcome = "inconclusive" if not d.excludes_zero else ("agrees" if d.diff < 0 else "contradicts")
    else:  # similar
        tol = claim.tolerance
        if -tol <= d.low and d.high <= tol:
            outcome = "agrees"
        elif d.low > tol or d.high < -tol:
            outcome = "contradicts"
        else:
            outcome = "inconclusive"
    return out | {"outcome": outcome, "detail": detail}


def _agreement(levels: list[LevelResult], claims: list[dict[str, Any]], has_claims: bool) -> str:
    if not has_claims:
        return "no claim"
    if any(lv.n < 2 for lv in levels):
        return "not enough seeds"
    outcomes = [c["outcome"] for c in claims]
    if "contradicts" in outcomes:
        return "contradicts"
    if outcomes and all(o == "agrees" for o in outcomes):
        return "agrees"
    if "agrees" in outcomes:
        return "partly agrees"
    return "inconclusive"


# ---- reference results ---------------------------------------------------------------------------

def reference(out_dir: Path | str | None = None, budget: str = "quick", only: list[str] | None = None,
              seeds: int | None = None, store_path: Path | str | None = None, keep_store: bool = False,
              cpu_slots: int | None = None, log: Callable[[str], None] = print, poll: float = 2.0,
              command: str | None = None) -> list[str]:
    """Run every preset whose datasets are here through the job system, export each finished one to
    ``<out>/reference/<name>.zip`` and regenerate ``<out>/README.md``; returns the exported names.

    The runs go to a temporary store (removed afterwards unless ``keep_store``) served by its own
    supervisor, which is stopped at the end. Each preset is exported as soon as its runs finish, so
    an interrupted reference run keeps what it finished.
    """
    from cnnkit.bundle import export_bundle
    from cnnkit.jobs.supervisor import ensure_supervisor
    from cnnkit.store import Store

    check_budget(budget)
    out = Path(out_dir) if out_dir else RESULTS_DIR
    presets = [get(n) for n in only] if only else catalogue()
    runnable = []
    for preset in presets:
        missing = missing_datasets(preset)
        if missing:
            log(f"skip {preset.name}: needs {', '.join(missing)}, not installed here")
        else:
            check_seeds(seeds, preset)
            runnable.append(preset)
    home = Path(store_path) if store_path else Path(tempfile.mkdtemp(prefix="cnnkit-reference-"))
    store = Store(home)
    command = command or _command_line(budget, only, seeds, cpu_slots)
    groups = {p.name: launch(store, p.name, budget, seeds, start_worker=False, meta={"command": command})
              for p in runnable}
    total = sum(group_progress(store, g)["total"] for g in groups.values())
    log(f"queued {total} runs of {len(groups)} presets in {home}")
    extra = ["--cpu-slots", str(cpu_slots)] if cpu_slots else None
    started = [pid for pid in [ensure_supervisor(store, idle_exit=120, extra_args=extra)] if pid]
    exported: list[str] = []
    pending = dict(groups)
    last_line = ""
    try:
        while pending:
            for name, group in list(pending.items()):
                counts = group_progress(store, group)
                if counts["finished"] < counts["total"]:
                    continue
                ids = [r.id for r in store.list_runs(group=group)]
                path = export_bundle(store, ids, out / "reference" / f"{name}.zip")
                for run_id in ids:  # checkpoints are not part of a bundle; AlexNet's weigh hundreds of MB
                    shutil.rmtree(store.run_dir(run_id), ignore_errors=True)
                report = analyze_bundle(path)
                wall = f"{report.wall_seconds:.0f} s" if report.wall_seconds else "?"
                log(f"{name} done in {wall}: {report.verdict}")
                exported.append(name)
                del pending[name]
                write_readme(out)
            done = sum(group_progress(store, g)["finished"] for g in groups.values())
            line = (f"{time.strftime('%H:%M:%S')} {done}/{total} runs finished; {len(pending)} "
                    f"preset{'' if len(pending) == 1 else 's'} to go")
            if line.split(" ", 1)[1] != last_line.split(" ", 1)[-1]:
                log(line)
                last_line = line
            if pending:
                from cnnkit.jobs.process import supervisor_pid

                if not supervisor_pid(store.home) and not any(_alive(pid) for pid in started):
                    started += [pid for pid in [ensure_supervisor(store, idle_exit=120, extra_args=extra)] if pid]
                time.sleep(poll)
    finally:
        for pid in started:
            _stop(pid)
        if not keep_store and not store_path:
            shutil.rmtree(home, ignore_errors=True)
    write_readme(out)
    return exported


def _alive(pid: int) -> bool:
    """Whether a child process this one started still runs (a dead one is reaped here)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def _stop(pid: int) -> None:
    """Stop the supervisor this module started (its lock and pid are ours)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(150):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.1)


def _command_line(budget: str, only: list[str] | None, seeds: int | None, cpu_slots: int | None = None) -> str:
    cmd = f"python -m cnnkit experiment reference --budget {budget}"
    if seeds:
        cmd += f" --seeds {seeds}"
    if cpu_slots:
        cmd += f" --cpu-slots {cpu_slots}"
    if only:
        cmd += " --only " + " ".join(only)
    return cmd


def write_readme(results_dir: Path | str | None = None) -> Path:
    """Regenerate ``<results>/README.md`` from the bundles in ``<results>/reference/``.

    Every number comes from a bundle; a preset without a bundle is listed with the reason (its
    dataset is not installed here, or it has not been run yet).
    """
    out = Path(results_dir) if results_dir else RESULTS_DIR
    ref = out / "reference"
    reports: dict[str, ExperimentReport] = {}
    broken: dict[str, str] = {}
    for preset in catalogue():
        path = ref / f"{preset.name}.zip"
        if path.exists():
            try:
                reports[preset.name] = analyze_bundle(path)
            except Exception as exc:  # a damaged bundle is reported, not fatal for the page
                broken[preset.name] = f"{type(exc).__name__}: {exc}"
    text = _readme_text(reports, broken)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "README.md"
    tmp = path.with_name("README.md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def _readme_text(reports: dict[str, ExperimentReport], broken: dict[str, str]) -> str:
    hosts = {json.dumps(r.host, sort_keys=True): r.host for r in reports.values() if r.host}
    budgets = sorted({f"{r.budget}, {r.seeds} seeds" for r in reports.values()})
    dates = sorted(r.created[:10] for r in reports.values() if r.created)
    commands = sorted({r.command for r in reports.values() if r.command})
    lines = [
        "# Reference results",
        "",
        "<!-- Generated by `python -m cnnkit experiment reference`; do not edit by hand. -->",
        "",
        "What the what-if experiments of `cnnkit/experiments.py` gave on this project's reference machine. "
        "Every number below is computed from the bundles in `reference/` (one zip per preset, importable with "
        "`python -m cnnkit import results/reference/NAME.zip`, or read directly with "
        "`python -m cnnkit experiment report NAME --bundle results/reference/NAME.zip`).",
        "",
        "How to read a row: the final test accuracy of each level as mean ± sample std over seeds; the verdict "
        "compares each level with the baseline by the difference of means and a 95 % percentile bootstrap "
        "interval (deterministic). With 3 seeds such intervals are narrow-ish: treat 'excludes 0' as good evidence, "
        "not proof. A diverged run counts at chance accuracy. The quick budget trains briefly on a CPU, so absolute "
        "accuracies are far below the notes' 10-epoch figures; what matters is the comparison.",
        "",
        "## Regenerate",
        "",
        f"    {REFERENCE_COMMAND}",
        "",
        "(`--only NAME ...` reruns some presets and keeps the others' bundles; `--readme-only` rebuilds this page "
        "from the bundles.)" + (" Commands recorded in the bundles: " + "; ".join(f"`{c}`" for c in commands) + "."
                                if commands else ""),
        "",
        "## Setting",
        "",
    ]
    for host in hosts.values():
        lines.append(f"- Hardware: {host.get('cpu', '?')}, {host.get('cores', '?')} cores"
                     + (f", GPU {host['gpu']}" if host.get("gpu") else ", no GPU")
                     + f"; torch {host.get('torch', '?')}, Python {host.get('python', '?')}, {host.get('os', '?')}")
    lines += [f"- Budget: {', '.join(budgets) or '—'}", f"- Date: {dates[0] if dates else '—'}"
              + (f" to {dates[-1]}" if dates and dates[-1] != dates[0] else ""),
              "- Wall time: from the first start to the last finish of a preset's runs; it depends on the "
              "machine's other load and on how many jobs ran at once (`--cpu-slots`), so read it as indicative.", ""]
    lines += ["## Summary", "",
              "| preset | question | lines | levels: test acc (mean ± std) | verdict | vs the notes | wall time |",
              "|---|---|---|---|---|---|---|"]
    without = []
    for preset in catalogue():
        report = reports.get(preset.name)
        lines_ = ", ".join(map(str, preset.lines))
        if report is None:
            missing = missing_datasets(preset)
            if preset.name in broken:
                reason = f"the bundle could not be read ({broken[preset.name]})"
            elif missing:
                reason = (f"needs {', '.join(_title(d) for d in missing)}, which is not installed here and cannot be "
                          "downloaded (no internet)")
            else:
                reason = "not run yet"
            without.append((preset, reason))
            lines.append(f"| `{preset.name}` | {preset.question} | {lines_} | — | no numbers: {reason} | — | — |")
            continue
        levels = "<br>".join(f"{_md(lv.level)}: {_mean_std(lv.mean, lv.std)}" for lv in report.levels)
        wall = f"{report.wall_seconds / 60:.1f} min" if report.wall_seconds else "—"
        lines.append(f"| `{preset.name}` | {_md(preset.question)} | {lines_} | {levels} | {_md(report.verdict)} "
                     f"| {report.agreement} | {wall} |")
    contradict = [r for r in reports.values() if r.agreement == "contradicts"]
    lines += ["", "## Where the results contradict the notes", ""]
    lines += [f"- `{r.preset}`: " + "; ".join(f"{c['text']} — {c['detail']}" for c in r.claims
                                             if c["outcome"] == "contradicts") for r in contradict] or ["- none"]
    lines += ["", "## Presets without numbers", ""]
    lines += [f"- `{p.name}` ({p.title}): {reason}. Run it where the data is: "
              f"`python -m cnnkit experiment run {p.name} --wait`." for p, reason in without] or ["- none"]
    lines += ["", "Lines 3 and 15 of MISSION.md are views, not experiments: " + CATALOGUE_NOTE.split(": ", 1)[1], "",
              "## Details", ""]
    for preset in catalogue():
        report = reports.get(preset.name)
        if report is not None:
            lines += [report.to_markdown(), ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- small helpers -------------------------------------------------------------------------------

def host_info() -> dict[str, Any]:
    """CPU model, cores, GPU (read without initialising CUDA), torch and Python versions."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            model = [ln for ln in info.read_text().splitlines() if ln.startswith("Model:")]
        except OSError:
            continue
        gpu = model[0].split(":", 1)[1].strip() if model else "NVIDIA GPU"
        break
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _title(dataset: str) -> str:
    from cnnkit.data import DATASETS

    return DATASETS[dataset].title if dataset in DATASETS else dataset


def _pct(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f} %"


def _mean_std(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "—"
    return f"{100 * mean:.1f} ± {100 * std:.1f} %" if std is not None else f"{100 * mean:.1f} %"


def _diff_text(lv: LevelResult) -> str:
    if lv.diff is None:
        return "—"
    if lv.ci_low is None:
        return f"{100 * lv.diff:+.1f}"
    mark = " *" if lv.excludes_zero else ""
    return f"{100 * lv.diff:+.1f} ({100 * lv.ci_low:+.1f} … {100 * lv.ci_high:+.1f}){mark}"


def _status_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o)))


