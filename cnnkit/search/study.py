"""A search as the store and Optuna keep it: a group of kind "search" whose meta holds the plan, and
an Optuna study of the same name in ``<store>/studies.db``.

The plan (base config, space, budget, pruning) lives in the group, so the supervisor that advances
the study needs nothing else; the study's trials (parameters, per-epoch test accuracy, state,
value) live in Optuna's RDB storage beside the store, so a restarted supervisor carries on.
Optuna is imported only where a study is opened.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnkit.config import RunConfig
from cnnkit.errors import CnnkitError, ConfigError
from cnnkit.params import Param
from cnnkit.search.space import SearchSpace, check_space, parse_space
from cnnkit.store import Store

if TYPE_CHECKING:
    import optuna

GROUP_KIND = "search"
STUDIES_DB = "studies.db"
OBJECTIVE = "final test accuracy"  # maximised; a diverged trial scores 0
MAX_TRIALS = 500
TRIALS = Param("--trials", "int", 20, low=1, high=MAX_TRIALS)
PRUNE_AFTER = Param("--prune-after", "int", 3, low=1, high=MAX_TRIALS)
PARALLEL = Param("--parallel", "int", 1, low=1, high=64)
SQLITE_TIMEOUT_S = 30


class StudyError(CnnkitError):
    """The studies beside the store cannot be used (unlike a StoreError, the supervisor keeps serving)."""


@dataclass
class SearchPlan:
    """What a search runs: trials of ``base`` with the space's values, ``parallel`` at a time; with
    ``prune``, a trial whose test accuracy at an epoch is below the median of the completed trials
    at that epoch is stopped, once ``prune_after`` trials have completed."""

    base: RunConfig
    space: SearchSpace
    trials: int = TRIALS.default
    prune: bool = False
    prune_after: int = PRUNE_AFTER.default
    parallel: int = PARALLEL.default
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.trials = TRIALS.check(self.trials)
        self.prune_after = PRUNE_AFTER.check(self.prune_after)
        self.parallel = PARALLEL.check(self.parallel)
        check_space(self.base, self.space)

    def to_meta(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "space": self.space.to_meta(), "trials": self.trials,
                "prune": self.prune, "prune_after": self.prune_after, "parallel": self.parallel, "tags": self.tags}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> SearchPlan:
        base = RunConfig.from_dict(meta["base"])
        return cls(base, parse_space(base.model, meta["space"].items()), meta["trials"], meta["prune"],
                   meta["prune_after"], meta["parallel"], list(meta.get("tags", [])))

    @property
    def random_trials(self) -> int:
        """Trials TPE samples at random before it models the results: a quarter of the budget, 2–10."""
        return min(10, max(2, self.trials // 4))

    def sampler(self, asked: int) -> optuna.samplers.BaseSampler:
        """TPE seeded by the base seed and the trials asked so far: a restarted supervisor neither
        repeats the random trials nor depends on the sampler's memory."""
        import optuna

        return optuna.samplers.TPESampler(seed=self.base.seed + asked, n_startup_trials=self.random_trials,
                                          multivariate=True)

    def pruner(self) -> optuna.pruners.BasePruner:
        import optuna

        if not self.prune:
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(n_startup_trials=self.prune_after, n_warmup_steps=0)

    def describe(self) -> str:
        prune = f", median pruning after {self.prune_after} completed trials" if self.prune else ""
        return (f"{self.trials} trials of {self.base.label()} ({self.parallel} at a time{prune}) over "
                f"{self.space.describe()}")


def plan_of(store: Store, group_id: str) -> SearchPlan:
    """The plan of search group ``group_id``; ConfigError naming ``--group`` when there is none."""
    group = store.group(group_id)
    if group is None or group["kind"] != GROUP_KIND:
        raise ConfigError("--group", f"no search group {group_id!r} in {store.home} (see `cnnkit runs`)")
    return SearchPlan.from_meta(group["meta"]["search"])


def studies_url(home: Path) -> str:
    return f"sqlite:///{home / STUDIES_DB}"


def storage(home: Path) -> optuna.storages.RDBStorage:
    """Optuna's storage beside the store. No pooled connection stays open, so a supervisor that
    forks its jobs never hands one to a child."""
    import optuna
    from sqlalchemy.pool import NullPool

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial would flood worker.log
    try:
        return optuna.storages.RDBStorage(studies_url(home), engine_kwargs={
            "poolclass": NullPool, "connect_args": {"timeout": SQLITE_TIMEOUT_S}})
    except Exception as exc:  # SQLAlchemy's errors: a read-only folder, a file that is no database
        raise StudyError(f"cannot open the search studies at {home / STUDIES_DB}: "
                         f"{str(exc).splitlines()[0]}") from None


def open_study(store: Store, group_id: str, plan: SearchPlan,
               rdb: optuna.storages.RDBStorage | None = None) -> optuna.Study:
    """The study of search group ``group_id`` (created when missing), with the plan's pruner."""
    import optuna

    return optuna.create_study(storage=rdb or storage(store.home), study_name=group_id, direction="maximize",
                               pruner=plan.pruner(), load_if_exists=True)


def start_search(store: Store, plan: SearchPlan, name: str | None = None) -> str:
    """Record a search, its group and its study; the supervisor asks the trials. Returns the group id."""
    rdb = storage(store.home)  # first: an unusable studies.db leaves no group behind
    group_id = store.create_group(GROUP_KIND, name or f"{plan.base.label()} search", {
        "axes": plan.space.to_meta(), "search": plan.to_meta(), "done": False})
    open_study(store, group_id, plan, rdb)
    return group_id
