"""The supervisor's search step over a real store and study, the runs played by the test."""
from __future__ import annotations

import time

import optuna
from support.runs import queued_runs
from support.searches import begin, play

from cnnkit.engine import MetricPoint
from cnnkit.search.driver import ADDED, PRUNED_TAG, RUN_ID, SearchDriver
from cnnkit.search.study import STUDIES_DB, open_study, plan_of
from cnnkit.store import Store

State = optuna.trial.TrialState


def trials(store: Store, group: str) -> list[optuna.trial.FrozenTrial]:
    return open_study(store, group, plan_of(store, group)).get_trials()


def test_trials_are_asked_one_at_a_time_as_runs_of_the_group_until_the_budget(store: Store) -> None:
    group, driver = begin(store, trials=3)
    for number, accs in enumerate(([0.5, 0.6, 0.7], [0.4, 0.5, 0.55], [0.6, 0.7, 0.8])):
        driver.step()
        (run,) = queued_runs(store, group)
        params = trials(store, group)[-1].params
        assert run.name.startswith(f"lenet trial {number}: lr=") and run.group == group
        assert run.config["lr"] == params["lr"] and 1e-3 <= params["lr"] <= 1
        assert run.config["batch_size"] == params["batch_size"] in (64, 128)
        assert run.config["epochs"] == 3 and run.config["subset"] == 0.02
        play(store, run.id, accs)
    driver.step()
    done = trials(store, group)
    assert [t.state for t in done] == [State.COMPLETE] * 3 and [t.value for t in done] == [0.7, 0.55, 0.8]
    assert done[0].intermediate_values == {1: 0.5, 2: 0.6, 3: 0.7}
    assert not queued_runs(store, group) and len(store.list_runs(group=group)) == 3
    assert store.group(group)["meta"]["done"] is True


def test_parallel_trials_are_in_flight_together(store: Store) -> None:
    group, driver = begin(store, trials=3, parallel=2)
    driver.step()
    first, second = queued_runs(store, group)
    play(store, first.id, [0.5, 0.6, 0.7])
    driver.step()
    assert len(store.list_runs(group=group)) == 3 and [r.id for r in queued_runs(store, group)][0] == second.id


def test_a_trial_below_the_median_is_pruned_through_the_cancel_path(store: Store) -> None:
    group, driver = begin(store, trials=3, prune=True, prune_after=1)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.5, 0.6, 0.7])
    driver.step()
    (slow,) = queued_runs(store, group)
    play(store, slow.id, [0.1], end=None)  # still running after its first epoch
    driver.step()
    pruned = trials(store, group)[1]
    assert pruned.state == State.PRUNED and pruned.user_attrs["pruned_at_epoch"] == 1
    run = store.get(slow.id)
    assert run.cancel_requested and run.status == "running" and PRUNED_TAG in run.tags
    assert len(queued_runs(store, group)) == 1, "the next trial is queued at once"
    store.finish(slow.id, "cancelled")
    driver.step()
    assert trials(store, group)[1].state == State.PRUNED


def test_a_trial_on_its_last_epoch_or_above_the_median_is_not_pruned(store: Store) -> None:
    group, driver = begin(store, trials=3, prune=True, prune_after=1)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.5, 0.6, 0.7])
    driver.step()
    (good,) = queued_runs(store, group)
    play(store, good.id, [0.55], end=None)
    driver.step()
    store.log_metrics(good.id, [_point(2, 0.65), _point(3, 0.1)])  # its last epoch: nothing left to save
    driver.step()
    assert trials(store, group)[1].state == State.RUNNING and not store.get(good.id).cancel_requested


def test_without_prune_nothing_is_pruned(store: Store) -> None:
    group, driver = begin(store, trials=3)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.5, 0.6, 0.7])
    driver.step()
    (low,) = queued_runs(store, group)
    play(store, low.id, [0.1], end=None)
    driver.step()
    assert trials(store, group)[1].state == State.RUNNING


def test_a_cancelled_trial_pauses_the_search_until_it_is_resumed(store: Store) -> None:
    group, driver = begin(store, trials=2)
    driver.step()
    (run,) = queued_runs(store, group)
    store.request_cancel(run.id)
    driver.step()
    driver.step()
    assert len(store.list_runs(group=group)) == 1 and trials(store, group)[0].state == State.RUNNING
    store.resume(run.id)
    driver.step()
    assert len(store.list_runs(group=group)) == 1, "the resumed run is the trial in flight"
    play(store, run.id, [0.5, 0.6, 0.7])
    driver.step()
    assert trials(store, group)[0].value == 0.7 and len(queued_runs(store, group)) == 1


def test_failed_diverged_and_deleted_runs_close_their_trials(store: Store) -> None:
    group, driver = begin(store, trials=4)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.3], end="failed")
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.2], end="diverged")
    driver.step()
    store.delete(queued_runs(store, group)[0].id)
    driver.step()
    states = [(t.state, t.value, t.user_attrs.get("status")) for t in trials(store, group)]
    assert states[:3] == [(State.FAIL, None, "failed"), (State.COMPLETE, 0.0, "diverged"), (State.FAIL, None, None)]
    assert len(queued_runs(store, group)) == 1


def test_a_new_driver_carries_on_where_the_last_one_stopped(store: Store) -> None:
    group, first = begin(store, trials=2)
    first.step()
    (run,) = queued_runs(store, group)
    restarted = SearchDriver(store, every=0)
    restarted.step()
    assert len(store.list_runs(group=group)) == 1, "no trial is asked twice"
    play(store, run.id, [0.5, 0.6, 0.7])
    restarted.step()
    (second,) = queued_runs(store, group)
    play(store, second.id, [0.6])
    restarted.step()
    assert [t.state for t in trials(store, group)] == [State.COMPLETE] * 2
    assert store.group(group)["meta"]["done"] is True


def test_a_pruned_run_resumed_to_the_end_becomes_a_trial_of_its_own(store: Store) -> None:
    group, driver = begin(store, trials=2, prune=True, prune_after=1)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.5, 0.6, 0.7])
    driver.step()
    (slow,) = queued_runs(store, group)
    play(store, slow.id, [0.1], end=None)
    driver.step()
    store.finish(slow.id, "cancelled")
    driver.step()
    assert store.group(group)["meta"]["done"] is True
    assert group not in {g["id"] for g in driver.open_groups()}, "a done search is left alone"
    store.resume(slow.id)
    assert group in {g["id"] for g in driver.open_groups()}, "a resumed run reopens its search"
    play(store, slow.id, [0.1, 0.5, 0.9])
    driver.step()
    added = trials(store, group)[-1]
    assert added.state == State.COMPLETE and added.value == 0.9 and added.user_attrs[ADDED]
    assert added.user_attrs[RUN_ID] == slow.id and added.params == trials(store, group)[1].params
    assert len(store.list_runs(group=group)) == 2, "an added trial does not spend the budget"
    assert store.group(group)["meta"]["done"] is True


def test_a_broken_study_is_logged_once_and_the_supervisor_goes_on(store: Store) -> None:
    group, _ = begin(store)
    (store.home / STUDIES_DB).write_bytes(b"not a database at all" * 100)
    lines: list[str] = []
    driver = SearchDriver(store, every=0, log=lines.append)
    driver.step()
    driver.step()
    assert len(lines) == 1 and lines[0].startswith(f"supervisor: search {group}: ")


def test_a_step_waits_its_interval(store: Store) -> None:
    group, _ = begin(store)
    driver = SearchDriver(store, every=3600)
    driver.step()
    driver.step()
    assert len(store.list_runs(group=group)) == 1


def test_a_trial_whose_values_do_not_fit_together_fails_without_a_run(store: Store) -> None:
    group, driver = begin(store, trials=3, space=["input_size=12,28", "kernel_size=3,11"])
    open_study(store, group, plan_of(store, group)).enqueue_trial({"input_size": 12, "kernel_size": 11})
    driver.step()
    failed, asked = trials(store, group)
    assert failed.state == State.FAIL and "input_size" in failed.user_attrs["error"]
    assert RUN_ID not in failed.user_attrs
    (run,) = queued_runs(store, group)
    assert asked.state == State.RUNNING and asked.user_attrs[RUN_ID] == run.id


def _point(epoch: int, acc: float) -> MetricPoint:
    return MetricPoint(10 * epoch, epoch, "test", "acc", acc, time.time())


def test_enqueued_trials_are_asked_first_and_spend_the_budget_when_asked(store: Store) -> None:
    group, driver = begin(store, trials=2)
    study = open_study(store, group, plan_of(store, group))
    study.enqueue_trial({"lr": 0.5, "batch_size": 128})
    driver.step()
    (run,) = queued_runs(store, group)
    assert (run.config["lr"], run.config["batch_size"]) == (0.5, 128)
    play(store, run.id, [0.5])
    driver.step()
    assert len(store.list_runs(group=group)) == 2 and not store.group(group)["meta"]["done"]
