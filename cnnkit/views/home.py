"""The Home page: on an empty store, a one-click first comparison (d2l's LeNet against the modern one)."""
from __future__ import annotations

from typing import Any

from cnnkit.config import RunConfig
from cnnkit.store import Store

FIRST_COMPARISON_NAME = "first comparison: classic vs modern LeNet"
FIRST_COMPARISON_SEEDS = 2


def first_comparison() -> list[tuple[str, dict[str, Any]]]:
    """(run name, config fields) of the home page's one-click demo, seeds included.

    d2l's LeNet recipe (sigmoid, average pooling, batch 256, lr 0.9, Xavier) against the modern one
    (ReLU, max pooling, lr 0.1: ReLU diverges at 0.9, note 8 of the mission) on the whole of
    Fashion-MNIST for 3 epochs, 2 seeds each; the test accuracy on a fifth of the test set. About half a
    minute on two CPU cores. The sigmoid net spends its first epoch on the plateau at chance level and
    then climbs to about 70 %, while the ReLU net is past 80 %: why ReLU replaced sigmoid. (With fewer
    than ~500 steps the sigmoid net never leaves the plateau, and the chart would say d2l's LeNet is broken.)
    """
    base = {"model": "lenet", "dataset": "fashion-mnist", "subset": 1.0, "test_subset": 0.2, "epochs": 3,
            "batch_size": 256, "init": "xavier", "optimizer": "sgd"}
    variants = (("lenet sigmoid/avg lr=0.9", {"activation": "sigmoid", "pool": "avg"}, 0.9),
                ("lenet relu/max lr=0.1", {"activation": "relu", "pool": "max"}, 0.1))
    return [(f"{name} seed={seed}", {**base, "model_options": options, "lr": lr, "seed": seed})
            for name, options, lr in variants for seed in range(FIRST_COMPARISON_SEEDS)]


def queue_first_comparison(store: Store) -> tuple[str, list[str]]:
    """Queue the demo in ``store`` as one group; returns the group id and the run ids."""
    runs = first_comparison()
    return store.queue_group(FIRST_COMPARISON_NAME, [RunConfig.from_dict(cfg) for _, cfg in runs],
                             {"model_options": "sigmoid/avg vs relu/max"}, FIRST_COMPARISON_SEEDS,
                             names=[name for name, _ in runs], tags=["first-comparison"])
