"""cnnkit.compare.seeds: the runs that bring every level to the seeds that would resolve an open verdict, for the
comparison's own group, and why there are none for an experiment's or a search's group."""
from __future__ import annotations

from support.verdict_data import finished

from cnnkit.compare.seeds import plan_seeds
from cnnkit.config import RunConfig
from cnnkit.store import Store
from cnnkit.sweep import MAX_SEEDS


def sweep(store: Store, seeds: dict[float, list[int]], kind: str = "sweep") -> tuple[dict, dict]:
    """A group of LeNet runs, lr → its seeds; returns the group and the runs by level."""
    group = store.group(store.create_group(kind, "lr", {}))
    for lr, chosen in seeds.items():
        for seed in chosen:
            finished(store, RunConfig(lr=lr, seed=seed, epochs=1), group=group["id"],
                     name=f"lenet lr={lr} seed={seed}", tags=("mine",))
    runs = store.list_runs(group=group["id"])
    return group, {f"lr={lr}": [r for r in runs if r.config["lr"] == lr] for lr in seeds}


def test_every_level_gets_the_missing_seeds_the_others_have_first_then_new_ones(store: Store) -> None:
    group, levels = sweep(store, {0.1: [0, 1, 2], 0.3: [0, 1]})
    plan = plan_seeds(levels, 4, group)
    assert not plan.refusal and plan.group == group["id"] and plan.target == 4 and plan.runs == 3
    made = sorted((c.lr, c.seed) for c in plan.configs)
    assert made == [(0.1, 3), (0.3, 2), (0.3, 3)], "seed 2 first for lr=0.3, so that the levels pair seed by seed"
    assert sorted(plan.names) == ["lenet lr=0.1 seed=3", "lenet lr=0.3 seed=2", "lenet lr=0.3 seed=3"]
    assert plan.tags == ["mine"]
    assert all(c.replace(seed=0) == RunConfig(lr=c.lr, seed=0, epochs=1) for c in plan.configs)


def test_a_failed_run_leaves_its_seed_to_fill_and_a_queued_one_does_not(store: Store) -> None:
    group, levels = sweep(store, {0.1: [0, 1], 0.3: [0]})
    finished(store, RunConfig(lr=0.3, seed=1, epochs=1), group=group["id"], status="failed")
    store.create_runs([RunConfig(lr=0.1, seed=2, epochs=1)], group["id"])
    levels = {label: [r for r in store.list_runs(group=group["id"]) if f"lr={r.config['lr']}" == label]
              for label in levels}
    plan = plan_seeds(levels, 3, group)
    assert sorted((c.lr, c.seed) for c in plan.configs) == [(0.3, 1), (0.3, 2)]


def test_seeds_are_capped_at_what_a_sweep_allows(store: Store) -> None:
    group, levels = sweep(store, {0.1: [0, 1], 0.3: [0, 1]})
    plan = plan_seeds(levels, 500, group)
    assert plan.target == MAX_SEEDS and plan.runs == 2 * (MAX_SEEDS - 2)


def test_a_name_without_a_seed_gets_one(store: Store) -> None:
    group = store.group(store.create_group("sweep", "lr", {}))
    finished(store, RunConfig(lr=0.1, epochs=1), group=group["id"], name="plain")
    plan = plan_seeds({"lr=0.1": store.list_runs(group=group["id"])}, 2, group)
    assert plan.names == ["plain seed=1"]


def test_no_seeds_for_an_experiment_a_search_or_runs_of_several_groups(store: Store) -> None:
    experiment, levels = sweep(store, {0.1: [0, 1]}, kind="experiment")
    refused = plan_seeds(levels, 5, experiment)
    assert not refused.configs and "launch a new look with more seeds from the Experiments page" in refused.refusal
    search, levels = sweep(store, {0.1: [0, 1]}, kind="search")
    assert "run the search again with more trials" in plan_seeds(levels, 5, search).refusal
    assert "select one group's runs" in plan_seeds(levels, 5, None).refusal


def test_the_target_resolves_every_level_a_click_can_and_leaves_the_hopeless_one_out() -> None:
    from cnnkit.compare.seeds import seed_target

    assert seed_target([12, 878]) == 12 and seed_target([5, 9]) == 9 and seed_target([400]) == MAX_SEEDS
