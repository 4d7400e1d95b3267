"""The training presets: MISSION.md lines 7, 9–12 and 16 — the extra softmax, batch size, learning-rate
schedules, shuffling, normalisation, dropout, batch norm, augmentation and overfitting."""
from __future__ import annotations

from cnnkit.experiments.design import Budget, Preset
from cnnkit.experiments.presets_lenet import (
    D2L_FULL,
    D2L_LENET,
    MODERN_LENET,
    RELU_LENET,
    RELU_QUICK,
    SIGMOID_SHORT,
    TEN_SEEDS,
    TENTH,
    lv,
    notes,
    textbook,
)

# The overfitting presets need a net that fits its training set within the budget: momentum does that.
FITTING_LENET = {**RELU_LENET, "optimizer": "sgd-momentum", "lr": 0.05}
SMALL_DATA = Budget({"subset": 0.1, "epochs": 20, "test_subset": 0.5},
                    note="a tenth of the training set for 20 epochs, so that overfitting shows")
SMALL_DATA_FULL = Budget({"subset": 0.1, "epochs": 60})
BATCH_TARGET = 0.6  # the test accuracy whose time the batch-size report gives (fixed before the runs)


def _augmentation(name: str, dataset: str) -> Preset:
    cifar = dataset == "cifar10"
    levels = [lv("none", augment=()), lv("crop + flip", augment=("crop", "flip")), lv("PCA colour", augment=("pca",))]
    if cifar:
        levels.append(lv("crop + flip + PCA colour", augment=("crop", "flip", "pca")))
        base = {"model": "course-cnn", "dataset": "cifar10", "normalize": True, "optimizer": "sgd-momentum",
                "lr": 0.01, "batch_size": 128, "crop_padding": 4}
        quick = standard = Budget({"subset": 0.2, "epochs": 10, "test_subset": 0.5}, note=(
            "a fifth of CIFAR-10's training set, 10 epochs, half its test set: sized for a CPU, not from a "
            "measurement (CIFAR-10 is not on the reference machine)"))
        full = Budget({"epochs": 30})
        note = "The course CNN; crops pad 4 pixels (the usual CIFAR-10 setting)."
    else:
        base = {**FITTING_LENET, "crop_padding": 2}
        quick = standard = SMALL_DATA
        full = SMALL_DATA_FULL
        note = ("ReLU LeNet (SGD with momentum 0.9, lr 0.05) on a tenth of the training set; crops pad 2 pixels. "
                "On grey images AlexNet's PCA colour augmentation reduces to a random brightness shift along the "
                "single principal component.")
    return Preset(
        name=name, title="Data augmentation" + (" on CIFAR-10" if cifar else ""),
        question="Does data augmentation (random crop + horizontal flip, AlexNet's PCA colour) help?",
        lines=(12,), base=base, factor="augment", levels=tuple(levels), baseline="none", quick=quick,
        standard=standard, full=full, note=note,
        claims=(
            notes("augmentation-more-accurate", "001:84 004:121", "Data augmentation makes the data more diverse "
                  "and raises accuracy.", "better", "crop + flip", "none"),
            notes("pca-more-accurate", "004:105 004:121", "AlexNet's PCA colour augmentation improves the "
                  "model.", "better", "PCA colour", "none"),
            notes("augmentation-generalises", "000:75 004:103", "Augmenting (shifts, flips) improves "
                  "generalisation: the model overfits less.", "better", "crop + flip", "none", metric="gap",
                  tested_as="a smaller gap between train accuracy (evaluated on unaugmented images, like test "
                  "accuracy) and test accuracy"),
        ),
        confounds="" if cifar else "Fashion-MNIST is not CIFAR-10: a left–right flip keeps a garment a garment, but "
                                   "the images are small and centred, and a 2-pixel crop moves the whole object.",
    )


TRAINING_PRESETS: tuple[Preset, ...] = (
    Preset(
        name="softmax-before-loss", title="An extra softmax before CrossEntropyLoss",
        question="What happens when the net applies softmax before nn.CrossEntropyLoss?",
        lines=(7,), base=RELU_LENET, factor="softmax_before_loss",
        levels=(lv("logits into the loss", softmax_before_loss=False),
                lv("softmax before the loss", softmax_before_loss=True)),
        baseline="logits into the loss", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        claims=(
            notes("extra-softmax-hurts", "001:31", "A softmax in the forward pass before CrossEntropyLoss, which "
                  "applies softmax itself, lowers accuracy.", "better", "logits into the loss",
                  "softmax before the loss"),
        ),
    ),
    Preset(
        name="batch-size", title="LeNet with large batches",
        question="Why does LeNet converge badly with a batch size above 1000? Does it become NaN? Does a larger "
                 "batch train faster?",
        lines=(9,), base=D2L_LENET, factor="batch_size",
        levels=(lv("64", batch_size=64), lv("256 (d2l)", batch_size=256), lv("1024", batch_size=1024),
                lv("4096", batch_size=4096)),
        baseline="256 (d2l)", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
        claims=(
            notes("large-batch-trains-faster", "002:172", "A larger batch uses the hardware better and needs fewer "
                  "steps per epoch, so it trains faster.", "better", "1024", "256 (d2l)", metric="images_per_sec",
                  effect=TENTH, tested_as="training images per second (the time to a test accuracy is shown "
                  "beside it)"),
            notes("above-1000-converges-worse", "002:173", "Above a batch of 1000 the model converges to a worse "
                  "accuracy.", "better", "256 (d2l)", "1024"),
            notes("4096-fails-to-converge", "002:170 002:173", "At a batch of 4096 convergence fails.", "fails",
                  "4096", tested_as="stays at chance or diverges within the budget"),
        ),
        confounds=f"The same learning rate (0.9) and epochs for every batch size, so a larger batch makes fewer "
                  "updates (4096: 16× fewer than 256); Goyal et al. 2017 scale the learning rate with the batch to "
                  "avoid that. Throughput was measured on a 2-core CPU with one thread per job and two jobs at "
                  "once; on a GPU larger batches usually raise it. The report gives the training seconds until "
                  f"the test accuracy first reached {BATCH_TARGET:.0%}.",
    ),
    Preset(
        name="lr-schedule", title="Constant vs step vs cosine learning rate",
        question="Is a cosine learning-rate schedule better than a step or a constant one?",
        lines=(10,), base={**MODERN_LENET, "lr": 0.3}, factor="schedule",
        levels=(lv("constant", schedule="constant"), lv("step (×0.1 at 50 % and 75 %)", schedule="step"),
                lv("cosine", schedule="cosine")),
        baseline="constant", quick=Budget({"subset": 0.25, "epochs": 6}),
        standard=Budget({"epochs": 5}, note="all training images, 5 epochs"),
        full=Budget({"epochs": 30}, note="d2l §12.11: 30 epochs"),
        claims=(
            notes("cosine-beats-constant", "002:178 002:180", "A cosine schedule beats a constant learning rate: "
                  "it leaves time to fine-tune.", "better", "cosine", "constant"),
            notes("cosine-beats-step", "002:178 002:180", "A cosine schedule beats a step schedule.", "better",
                  "cosine", "step (×0.1 at 50 % and 75 %)"),
        ),
        note="d2l §12.11's net: LeNet with ReLU and max pooling, SGD at peak lr 0.3; d2l measures cosine 0.904 "
             "against constant 0.877 and multi-step 0.869 after 30 epochs.",
    ),
    Preset(
        name="shuffle", title="DataLoader shuffle on vs off",
        question="What difference does shuffle=True vs shuffle=False make?",
        lines=(11,), base=RELU_LENET, factor="shuffle",
        levels=(lv("shuffled every epoch", shuffle=True), lv("same order every epoch", shuffle=False)),
        baseline="shuffled every epoch", quick=RELU_QUICK, standard=TEN_SEEDS, full=D2L_FULL,
        claims=(
            notes("shuffle-reduces-overfitting", "001:45", "Shuffling every epoch adds randomness to training and "
                  "reduces overfitting.", "better", "shuffled every epoch", "same order every epoch", metric="gap"),
            textbook("shuffle-helps-sgd", "d2l §3.2 (SGD samples minibatches at random)", "Shuffled minibatches "
                     "train at least as well.", "better", "shuffled every epoch", "same order every epoch"),
        ),
        note="Without shuffling every epoch visits the images in the dataset's own order, which in Fashion-MNIST is "
             "already mixed (not sorted by class).",
    ),
    Preset(
        name="normalization", title="Input normalisation on vs off",
        question="What difference does the transform make: raw [0, 1] pixels vs Normalize(mean, std)?",
        lines=(11,), base=RELU_LENET, factor="normalize",
        levels=(lv("pixels in [0, 1] (d2l)", normalize=False), lv("normalised (mean 0, std 1)", normalize=True)),
        baseline="pixels in [0, 1] (d2l)", quick=RELU_QUICK, standard=RELU_QUICK, full=D2L_FULL,
        claims=(
            notes("transform-changes-learning", "001:49", "A different transform changes the data's distribution "
                  "and so how the model learns.", "differs", "normalised (mean 0, std 1)", "pixels in [0, 1] (d2l)"),
            textbook("normalised-trains-faster", "LeCun et al. 1998, Efficient BackProp", "Inputs with mean 0 and "
                     "variance 1 train faster.", "better", "normalised (mean 0, std 1)", "pixels in [0, 1] (d2l)",
                     tested_as="test accuracy after the same 5 epochs"),
        ),
    ),
    Preset(
        name="dropout", title="Dropout on vs off",
        question="Does dropout in the fully connected layers reduce overfitting?",
        lines=(12, 16), base=FITTING_LENET, factor="dropout",
        levels=(lv("no dropout", dropout=0.0), lv("dropout 0.25", dropout=0.25), lv("dropout 0.5", dropout=0.5)),
        baseline="no dropout", quick=SMALL_DATA, standard=SMALL_DATA, full=SMALL_DATA_FULL,
        claims=(
            notes("dropout-reduces-overfitting", "002:75 004:64 004:92", "Dropout regularises: it prevents "
                  "overfitting.", "better", "dropout 0.5", "no dropout", metric="gap",
                  tested_as="a smaller gap between train accuracy evaluated like test accuracy (dropout off) "
                  "and test accuracy"),
            notes("dropout-speeds-training", "004:93", "Dropout also speeds up training, since each step updates "
                  "only part of the weights.", "better", "dropout 0.5", "no dropout", metric="images_per_sec",
                  effect=TENTH),
            textbook("dropout-more-accurate", "Srivastava et al. 2014; d2l §5.6", "Dropout raises test accuracy "
                     "when the net overfits.", "better", "dropout 0.5", "no dropout"),
        ),
        note="Dropout after each hidden FC layer of a ReLU LeNet (SGD with momentum 0.9, lr 0.05) trained on a "
             "tenth of the training set. The running train accuracy (d2l's, in training mode) sees dropout and can "
             "fall below the test accuracy (notes 002:184); the gap uses the evaluated one.",
    ),
    Preset(
        name="batchnorm", title="Batch normalisation on vs off",
        question="Does batch normalisation make LeNet train faster and better?",
        lines=(12,), base=D2L_LENET, factor="batchnorm",
        levels=(lv("no batch norm (d2l)", batchnorm=False), lv("batch norm", batchnorm=True)),
        baseline="no batch norm (d2l)", quick=SIGMOID_SHORT, standard=SIGMOID_SHORT, full=D2L_FULL,
        claims=(
            notes("batchnorm-speeds-convergence", "001:84", "Batch norm after the convolutions speeds up "
                  "convergence and steadies training.", "better", "batch norm", "no batch norm (d2l)",
                  tested_as="test accuracy after a short budget (3 epochs); the steadiness (spread over seeds) is "
                  "shown, not tested"),
            textbook("batchnorm-fits-better", "d2l §8.5 (BN-LeNet: train accuracy 0.90 against 0.82)", "Batch "
                     "norm lets LeNet fit its training set better.", "better", "batch norm", "no batch norm (d2l)",
                     metric="train_eval_acc"),
        ),
        confounds="Batch norm adds 100 parameters (scales and shifts) to 61.7 k, and its statistics change with the "
                  "batch.",
    ),
    _augmentation("augmentation", "fashion-mnist"),
    _augmentation("augmentation-cifar10", "cifar10"),
    Preset(
        name="overfitting", title="Train vs test accuracy: overfitting",
        question="When does train accuracy run away from test accuracy (train loss falls, test loss stays flat)?",
        lines=(16,), base=FITTING_LENET, factor="subset",
        levels=(lv("1,200 images", subset=0.02, epochs=100), lv("6,000 images", subset=0.1, epochs=20),
                lv("30,000 images", subset=0.5, epochs=4)),
        baseline="30,000 images",
        quick=Budget({"test_subset": 0.2}, note="a fifth of the test set, evaluated every epoch"),
        standard=Budget({"test_subset": 0.2}, note="a fifth of the test set, evaluated every epoch"),
        full=Budget({}, per_level={"1,200 images": {"epochs": 500}, "6,000 images": {"epochs": 100},
                                   "30,000 images": {"epochs": 20}}, note="five times the updates"),
        claims=(
            notes("small-data-overfits", "002:119 002:121", "When the training loss keeps falling while the test "
                  "loss does not, the model overfits: train and test accuracy part.", "better", "30,000 images",
                  "1,200 images", metric="gap"),
            notes("enough-data-matters-most", "004:121", "Enough raw data matters most for accuracy.", "better",
                  "30,000 images", "1,200 images"),
        ),
        confounds="Every level makes the same number of updates (≈ 470), so the smaller sets are seen more often.",
        note="The same ReLU LeNet (SGD with momentum 0.9, lr 0.05), no regularisation, on smaller and smaller "
             "stratified subsets.",
    ),
)
