"""Hyperparameter search with Optuna, as run groups: TPE sampling, optional median pruning.

A search is a group of kind "search" in the store (its plan in the group's meta) and an Optuna
study of the same name in ``<store>/studies.db``. Its trials are ordinary runs of the group, queued
to the supervisor, which advances every open study (``driver``); nothing trains elsewhere.

- ``space``: ``--space`` parsing (``lr=log:1e-3:1``, ``batch_size=64,128,256``) and Optuna's distributions;
- ``study``: the plan (``SearchPlan``), the study storage, ``start_search``;
- ``driver``: the supervisor's step: report epochs, prune, close trials, ask new ones;
- ``results``: ``search_report`` (trials, best, pruned, wall time) and ``wait``;
- ``figures``: the parallel-coordinates plot of the completed trials.

Importing this package does not import Optuna or plotly (``figures`` does, and a study's functions).
"""
from cnnkit.search.space import SearchSpace, check_space, parse_space
from cnnkit.search.study import (
    GROUP_KIND,
    PARALLEL,
    PRUNE_AFTER,
    STUDIES_DB,
    TRIALS,
    SearchPlan,
    plan_of,
    start_search,
)

__all__ = ["GROUP_KIND", "PARALLEL", "PRUNE_AFTER", "STUDIES_DB", "TRIALS", "SearchPlan", "SearchSpace", "check_space",
           "parse_space", "plan_of", "start_search"]
