"""What an experiment is made of: levels, budgets, the claims it tests (with the measure and the smallest
effect each cares about), and the preset that ties them together. Pure data, no torch.

A claim is either the study notes' own (``origin="notes"``, with the note file and line it comes from) or the
textbook's expectation apart from them (``origin="textbook"``: d2l, or the paper a method comes from). Each
claim names the quantity it is about (``metric``, see ``cnnkit.experiments.metrics``), the two levels it
compares, and its smallest effect of interest: the difference a student would act on, chosen for the question
before any run (one point of accuracy, a tenth of throughput), never from the measured noise.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnkit.errors import ConfigError

BUDGETS = ("quick", "standard", "full")  # the ones users see; "smoke" is for the tests
ALL_BUDGETS = (*BUDGETS, "smoke")
DEFAULT_SEEDS = {"quick": 3, "standard": 5, "full": 3, "smoke": 3}
# The standard budget's seeds start here: the looks of the first protocol (seeds 0–9, and a pilot on 100–101)
# had been seen when this protocol was written, so its looks run on seeds nobody had looked at.
STANDARD_FIRST_SEED = 1000
MAX_SEEDS = 20

# The kinds of claim, and how each is decided (cnnkit.experiments.judge):
#   better  — a's metric exceeds b's (for a metric where lower is better, a's is lower) by a difference that is
#             real (the interval excludes 0) and not negligible (the interval is not inside ±the smallest effect)
#   differs — the same without a direction: a and b differ by more than the smallest effect of interest
#   similar — a and b are within ±the smallest effect of each other (the interval lies inside it)
#   fails   — level a does not learn in the budget (stays within the chance margin, or diverges)
#   learns  — level a learns in the budget (every counted run leaves the chance margin)
CLAIM_KINDS = ("better", "differs", "similar", "fails", "learns")
COMPARISONS = ("better", "differs", "similar")


@dataclass(frozen=True)
class Level:
    """One value of the factor: a label and the config changes it makes."""

    label: str
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """How long to train: changes on top of the base, per-level changes, and overrides; ``seeds`` per level
    when this budget needs other than its default, ``first_seed`` where they start (None: the budget's default,
    0 for quick and full, STANDARD_FIRST_SEED for standard)."""

    changes: Mapping[str, Any] = field(default_factory=dict)
    per_level: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    override: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    seeds: int | None = None
    first_seed: int | None = None


@dataclass(frozen=True)
class Claim:
    """A claim the runs can confirm or refute: ``sources`` are "notes 000:37" (file 000, line 37 of the study
    notes in shared/seeds/) or a textbook reference; ``text`` says it in plain English; ``effect`` is the
    smallest effect of interest in the metric's own units (accuracy as a fraction: 0.01 is one point)."""

    id: str
    origin: str  # "notes" or "textbook"
    sources: tuple[str, ...]
    text: str
    kind: str
    a: str
    b: str = ""
    metric: str = "test_acc"
    effect: float = 0.01
    tested_as: str = ""  # how the claim is put to the test where that is not plain from the levels and metric

    def __post_init__(self) -> None:
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {', '.join(CLAIM_KINDS)}")
        if self.origin not in ("notes", "textbook"):
            raise ValueError(f"claim {self.id}: origin must be notes or textbook")
        if self.kind in COMPARISONS and not self.b:
            raise ValueError(f"claim {self.id}: a comparison needs two levels")

    @property
    def is_comparison(self) -> bool:
        return self.kind in COMPARISONS


@dataclass(frozen=True)
class Untested:
    """A claim of the notes that no preset tests here, and why."""

    source: str
    text: str
    why: str


@dataclass(frozen=True)
class Preset:
    """One what-if: a factor, its levels, three budgets, the claims it tests and the confounds it carries.

    ``confounds``: what else changes with the factor (size, width, input size, learning rate), said plainly.
    ``ranking``: the question is a ranking (the zoo): the report orders only what its intervals separate.
    ``health``: the report gives the levels' layer health epoch by epoch (gradients reaching the first layer,
    saturated and dead activations), to show why a level trains or does not.
    """

    name: str
    title: str
    question: str
    lines: tuple[int, ...]  # MISSION.md experiment lines it answers
    base: Mapping[str, Any]
    factor: str
    levels: tuple[Level, ...]
    baseline: str
    quick: Budget
    standard: Budget
    full: Budget
    claims: tuple[Claim, ...] = ()
    confounds: str = ""
    ranking: bool = False
    health: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        labels = self.labels
        for claim in self.claims:
            for level in filter(None, (claim.a, claim.b)):
                if level not in labels:
                    raise ValueError(f"preset {self.name}, claim {claim.id}: no level {level!r}")

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
        if name in BUDGETS:
            return getattr(self, name)
        if name == "smoke":  # a second or two per run: the pipeline, not the answer
            changes = {**self.quick.changes, "subset": 0.01, "test_subset": 0.02, "epochs": 1}
            return Budget(changes, self.quick.per_level, self.quick.override, "tests only")
        raise ConfigError("budget", f"must be one of {', '.join(BUDGETS)}, got {name!r}")

    def seeds(self, budget: str) -> int:
        """Seeds per level by default under ``budget``."""
        return self.budget(budget).seeds or DEFAULT_SEEDS[budget]

    def first_seed(self, budget: str) -> int:
        first = self.budget(budget).first_seed
        if first is not None:
            return first
        return STANDARD_FIRST_SEED if budget == "standard" else 0
