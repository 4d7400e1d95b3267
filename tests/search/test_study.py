"""A search's plan in its group, its study beside the store, and their one-line errors."""
from __future__ import annotations

import optuna
import pytest
from support.searches import BASE, plan

from cnnkit.errors import CnnkitError, ConfigError
from cnnkit.search import STUDIES_DB, plan_of, start_search
from cnnkit.search.study import open_study
from cnnkit.store import Store


def test_the_plan_survives_the_group_meta(store: Store) -> None:
    original = plan(trials=8, prune=True, prune_after=2, parallel=2, tags=["lr"])
    group = start_search(store, original, "lenet lr search")
    found = store.group(group)
    assert found["kind"] == "search" and found["name"] == "lenet lr search" and found["meta"]["done"] is False
    assert found["meta"]["axes"] == {"lr": "log:1e-3:1", "batch_size": "64,128"}
    again = plan_of(store, group)
    assert again.to_meta() == original.to_meta() and again.base == BASE
    assert again.describe() == ("8 trials of lenet (2 at a time, median pruning after 2 completed trials) over "
                                "lr in [0.001, 1] (log); batch_size in {64, 128}")


def test_the_study_lives_beside_the_store_under_the_group_id(store: Store) -> None:
    group = start_search(store, plan())
    assert (store.home / STUDIES_DB).is_file()
    assert optuna.study.get_all_study_names(f"sqlite:///{store.home / STUDIES_DB}") == [group]
    study = open_study(store, group, plan(prune=True))
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert isinstance(study.pruner, optuna.pruners.MedianPruner)
    assert isinstance(open_study(store, group, plan()).pruner, optuna.pruners.NopPruner)


def test_tpe_models_the_results_after_a_quarter_of_the_budget() -> None:
    assert [plan(trials=n).random_trials for n in (1, 8, 20, 100)] == [2, 2, 5, 10]
    sampler = plan(trials=20).sampler(asked=3)
    assert isinstance(sampler, optuna.samplers.TPESampler) and sampler._n_startup_trials == 5


@pytest.mark.parametrize("changes, says", [
    ({"trials": 0}, "--trials: must be an integer in [1, 500], got 0"),
    ({"prune_after": 0}, "--prune-after: must be an integer in [1, 500], got 0"),
    ({"parallel": 100}, "--parallel: must be an integer in [1, 64], got 100"),
])
def test_bad_budgets_are_one_line_naming_the_flag(changes: dict, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan(**changes)
    assert str(caught.value) == says


def test_an_unknown_or_other_group_is_no_search(store: Store) -> None:
    sweep = store.create_group("sweep", "a sweep")
    for group in ("nope", sweep):
        with pytest.raises(ConfigError, match=rf"^--group: no search group '{group}' in .* \(see `cnnkit runs`\)$"):
            plan_of(store, group)


def test_an_unusable_studies_file_leaves_no_group(store: Store) -> None:
    (store.home / STUDIES_DB).mkdir()  # a folder where the database should be: refused, as root too
    with pytest.raises(CnnkitError, match=r"^cannot open the search studies at .*studies\.db: "):
        start_search(store, plan())
    assert store.groups() == []


def test_a_plan_checks_its_space_against_the_base() -> None:
    with pytest.raises(ConfigError, match=r"^--space: warmup_epochs=4.0: must be below epochs \(3\)"):
        plan(space=["warmup_epochs=1,4"])
