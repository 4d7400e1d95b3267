"""What-if experiments from the study notes: presets, their claims, launching a look, and verdicts.

The stable API (the dashboard's Experiments page and ``python -m cnnkit experiment`` use exactly this):

    catalogue() -> list[Preset]               every preset, in the order of MISSION.md's lines
    get(name) -> Preset                       ConfigError naming ``experiment`` (and the names) if unknown
    UNTESTED                                  the notes' claims no preset tests here, with the reason
    build_configs(preset, budget="quick", seeds=None) -> list[tuple[str, RunConfig]]
                                              (level label, validated config); seed-major order
    launch(store, name, budget="quick", seeds=None, start_worker=True) -> str
                                              writes the look's plan (hashed) into a new group of kind
                                              "experiment", then queues its runs there; returns the group id
    analyze(store, group_id) / analyze_bundle(path) -> ExperimentReport
    missing_datasets(preset), runs_on(preset), data_line(preset)
    reference(...) / write_readme(...)        the reference results shipped in results/
    missing_reason(name, looks)               why a preset has no shipped numbers (an unfinished look, …)

A *level* is a label plus config changes (RunConfig fields or model options); a run's config is, in this order:
the preset's base, the budget's changes, the level's changes, the budget's overrides, the budget's changes for
that level. Budgets are ``quick`` (minutes on a 2-core CPU, 3 seeds from 0), ``standard`` (sized to answer each
question on that CPU: 5 seeds, 10 where the seed noise is large, from seed 1000), ``full`` (the notes' / d2l's
setting) and a hidden ``smoke`` for the tests.

A preset tests *claims*: the notes' own (file and line) and, apart from them, the textbook's expectations. Each
names its metric (final test accuracy; the train − test gap with train accuracy evaluated like test accuracy;
throughput; …) and its smallest effect of interest. Before the first run a look's plan is written into its
group with a sha256: the claims, the seeds, the pairing of every comparison (``protocol``), α and Holm's family.
The verdict (``judge``) takes a paired t test where the pairing rule holds and Welch's otherwise (scipy.stats),
corrects within the preset with Holm, treats a level that stayed near chance as "did not learn", and names a
best level only when it beats the baseline decisively.

The package has one module per job: ``design`` (what a preset, a budget and a claim are), ``presets_lenet``,
``presets_training`` and ``presets_architectures`` (the presets), ``configs`` (the catalogue's API and the
configs a preset builds), ``protocol`` (a look's plan, fixed before its runs), ``queue`` (launching and
following a look), ``metrics`` (what a claim measures, read from a run), ``records`` (runs from a store or a
bundle), ``stats`` (the tests and Holm), ``judge`` (outcomes), ``report`` (the steps of a report), ``wording``
(its sentences and Markdown), ``looks`` (every look ever taken) and ``shipped`` (the results in results/).
"""
from cnnkit.experiments.configs import (
    CATALOGUE_NOTE,
    PRESETS,
    UNTESTED,
    build_configs,
    catalogue,
    check_budget,
    check_seeds,
    data_line,
    describe_budget,
    get,
    level_config,
    missing_datasets,
    names,
    preset_dict,
    runs_on,
    seed_values,
    seeds_text,
)
from cnnkit.experiments.design import (
    ALL_BUDGETS,
    BUDGETS,
    CLAIM_KINDS,
    DEFAULT_SEEDS,
    MAX_SEEDS,
    Budget,
    Claim,
    Level,
    Preset,
    Untested,
)
from cnnkit.experiments.queue import (
    META_VERSION,
    SUPERVISOR_START_GRACE,
    group_progress,
    latest_group,
    launch,
    wait,
)
from cnnkit.experiments.readme import missing_reason
from cnnkit.experiments.records import GROUP_KIND, NAME_SEP
from cnnkit.experiments.report import ExperimentReport, analyze, analyze_bundle
from cnnkit.experiments.shipped import PROJECT, REFERENCE_COMMAND, RESULTS_DIR, reference, write_readme

__all__ = [
    "ALL_BUDGETS", "BUDGETS", "CATALOGUE_NOTE", "CLAIM_KINDS", "DEFAULT_SEEDS", "GROUP_KIND", "MAX_SEEDS",
    "META_VERSION", "NAME_SEP", "PRESETS", "PROJECT", "REFERENCE_COMMAND", "RESULTS_DIR", "SUPERVISOR_START_GRACE",
    "UNTESTED", "Budget", "Claim", "ExperimentReport", "Level", "Preset", "Untested",
    "analyze", "analyze_bundle", "build_configs", "catalogue", "check_budget", "check_seeds", "data_line",
    "describe_budget", "get", "group_progress", "latest_group", "launch", "level_config", "missing_datasets",
    "missing_reason", "names", "preset_dict", "reference", "runs_on", "seed_values", "seeds_text", "wait",
    "write_readme",
]
