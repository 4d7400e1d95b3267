"""The supervisor's part in a search: the one place that sees trials' runs report epochs and end.

Every step (at most once a second), for each open search group:

1. follow its running trials: report each new epoch's test accuracy to the study; with pruning, a
   trial the pruner gives up on is told PRUNED, tagged "pruned" and cancelled through the normal
   cancel path; a run that ended is told its value (final test accuracy; 0 when it diverged) or
   FAIL (failed, out of memory, lost, deleted);
2. take in runs that completed after their trial was closed (a pruned or failed trial's run,
   resumed by the user): each becomes a completed trial of its own;
3. ask new trials, as runs queued in the group, until ``parallel`` are in flight or the budget
   is asked.

A run the user cancelled keeps its trial open and pauses the search (no new trials) until the run
is resumed or deleted: cancel and resume work as for any run. The step keeps no state of record:
everything it decides on comes from the store and the study, so a restarted supervisor carries on.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import Status
from cnnkit.search.study import GROUP_KIND, SearchPlan, open_study, storage
from cnnkit.store import Run, Store
from cnnkit.text import value_text

if TYPE_CHECKING:
    import optuna

STEP_EVERY_S = 1.0
RUN_ID = "run_id"  # trial user attribute: the run that carries it out
ADDED = "added"  # trial user attribute: taken in from a run that completed after its trial was closed
PRUNED_TAG = "pruned"
NAME_DIGITS = 4  # significant digits of sampled numbers in run names


class SearchDriver:
    """Advances every open search of ``store``; ``step`` is called from the supervisor's tick."""

    def __init__(self, store: Store, every: float = STEP_EVERY_S, log: Callable[[str], None] | None = None):
        self.store, self.every = store, every
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.last_step = float("-inf")
        self.rdb: optuna.storages.RDBStorage | None = None
        self.studies: dict[str, optuna.Study] = {}
        self.logged: set[str] = set()

    def step(self) -> None:
        now = time.monotonic()
        if now - self.last_step < self.every:
            return
        self.last_step = now
        for group in self.open_groups():
            try:
                self.advance(group)
            except StoreError:
                raise  # the supervisor retries a busy store
            except Exception as exc:  # a search's trouble must never stop the supervisor's other work
                line = f"supervisor: search {group['id']}: {type(exc).__name__}: {exc}"
                if line not in self.logged:
                    self.logged.add(line)
                    self.log(line)

    def open_groups(self) -> list[dict[str, Any]]:
        """Search groups not done, and done ones where a run has moved since (resumed by the user, or
        a pruned trial's run that has stopped since)."""
        groups = self.store.groups(kind=GROUP_KIND)
        done = {g["id"]: g["meta"].get("done_at", 0.0) for g in groups if g["meta"].get("done")}
        activity = self.store.group_activity(done)
        return [g for g in groups if g["id"] not in done
                or activity[g["id"]][0] or activity[g["id"]][1] >= done[g["id"]]]

    def advance(self, group: dict[str, Any]) -> None:
        import optuna

        group_id = group["id"]
        plan = SearchPlan.from_meta(group["meta"]["search"])
        study = self.study(group_id, plan)
        runs = {r.id: r for r in self.store.list_runs(group=group_id)}
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            self.follow(study, plan, trial, runs.get(trial.user_attrs.get(RUN_ID)))
        trials = study.get_trials(deepcopy=False)
        self.take_in(study, plan, trials, runs.values())
        open_runs = [runs.get(t.user_attrs.get(RUN_ID)) for t in trials if t.state == optuna.trial.TrialState.RUNNING]
        paused = any(r is not None and r.status == Status.CANCELLED for r in open_runs)
        in_flight = sum(r is not None and r.active for r in open_runs)
        waiting = optuna.trial.TrialState.WAITING  # enqueued (study.enqueue_trial): asked next, in order
        asked = sum(not t.user_attrs.get(ADDED) and t.state != waiting for t in trials)
        seen = len(trials)
        while not paused and in_flight < plan.parallel and asked < plan.trials:
            in_flight += self.ask(study, plan, group_id, seen)
            asked, seen = asked + 1, seen + 1
        still_open = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        stopping = any(r.active for r in runs.values())  # a pruned trial's run, say, until it has stopped
        done = asked >= plan.trials and not still_open and not stopping
        if done or group["meta"].get("done"):  # done_at: what ends later reopens it (see open_groups)
            self.store.update_group_meta(group_id, {**group["meta"], "done": done, "done_at": time.time()})

    def study(self, group_id: str, plan: SearchPlan) -> optuna.Study:
        if group_id not in self.studies:
            self.rdb = self.rdb or storage(self.store.home)
            self.studies[group_id] = open_study(self.store, group_id, plan, self.rdb)
        return self.studies[group_id]

    # ---- the three parts of a step --------------------------------------------------------------
    def follow(self, study: optuna.Study, plan: SearchPlan, trial: optuna.trial.FrozenTrial, run: Run | None) -> None:
        """Report a running trial's new epochs; prune it, or close it when its run has ended."""
        import optuna

        TrialState = optuna.trial.TrialState
        if run is None:
            study.tell(trial.number, state=TrialState.FAIL)  # its run was deleted (or never made)
            return
        # FrozenTrial has no public id; the Trial made from it writes to the study's storage.
        live = optuna.trial.Trial(study, trial._trial_id)
        epochs = [(int(e["epoch"]), e["test_acc"]) for e in self.store.epoch_rows(run.id)]
        new = [(epoch, acc) for epoch, acc in epochs if epoch not in trial.intermediate_values]
        for epoch, acc in new:
            live.report(acc, epoch)
        if run.active:
            last_epoch = epochs[-1][0] if epochs else 0
            if plan.prune and new and last_epoch < run.epochs and live.should_prune():
                live.set_user_attr("pruned_at_epoch", last_epoch)
                study.tell(trial.number, state=TrialState.PRUNED)
                self.store.request_cancel(run.id)
                self.store.set_tags(run.id, [*run.tags, PRUNED_TAG])
            return
        if run.status == Status.CANCELLED:
            return  # cancelled by the user: the trial stays open and the search waits for a resume
        live.set_user_attr("status", str(run.status))
        value = final_value(run)
        if value is None:
            study.tell(trial.number, state=TrialState.FAIL)
        else:
            study.tell(trial.number, value)

    def take_in(self, study: optuna.Study, plan: SearchPlan, trials: list[optuna.trial.FrozenTrial],
                runs: Any) -> None:
        """Completed runs without a completed trial (resumed after their trial was closed) become trials."""
        import optuna

        TrialState = optuna.trial.TrialState
        counted = {t.user_attrs.get(RUN_ID) for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING)}
        for run in runs:
            value = final_value(run)
            if run.status != Status.COMPLETED or run.id in counted or value is None:
                continue
            epochs = {int(e["epoch"]): e["test_acc"] for e in self.store.epoch_rows(run.id)}
            study.add_trial(optuna.trial.create_trial(
                params=plan.space.params_of(run.config), distributions=plan.space.distributions(), value=value,
                intermediate_values=epochs, user_attrs={RUN_ID: run.id, ADDED: True, "status": str(run.status)}))

    def ask(self, study: optuna.Study, plan: SearchPlan, group_id: str, seen: int) -> bool:
        """Ask one trial and queue its run in the group; False when its values make no valid config."""
        import optuna

        study.sampler = plan.sampler(seen)
        trial = study.ask(plan.space.distributions())
        try:
            config = plan.space.apply(plan.base, trial.params)
        except ConfigError as exc:
            trial.set_user_attr("error", str(exc))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return False
        name = f"{plan.base.model} trial {trial.number}: " + " ".join(
            f"{k}={value_text(v, NAME_DIGITS)}" for k, v in trial.params.items())
        run_id = self.store.create_run(config, name, group=group_id, tags=plan.tags)
        trial.set_user_attr(RUN_ID, run_id)
        return True


def final_value(run: Run) -> float | None:
    """The objective of a finished run: its final test accuracy, 0 when it diverged, None otherwise."""
    if run.status == Status.DIVERGED:
        return 0.0
    if run.status != Status.COMPLETED:
        return None
    return (run.summary.get("final") or {}).get("test_acc")

