"""What-if experiments from the study notes: presets, launching, and honest verdicts.

The stable API (the dashboard's Experiments page and ``python -m cnnkit experiment`` use exactly this):

    catalogue() -> list[Preset]               every preset, in the order of MISSION.md's lines
    get(name) -> Preset                       ConfigError naming ``experiment`` (and the names) if unknown
    build_configs(preset, budget="quick", seeds=None) -> list[tuple[str, RunConfig]]
                                              (level label, validated config); seed-major order; seeds
                                              None means the budget's (preset.seeds(budget))
    launch(store, name, budget="quick", seeds=None, start_worker=True) -> str
                                              queues the runs in a new group of kind "experiment" and
                                              returns its id; starts the supervisor unless told not to
    latest_group(store, name) -> str | None   the newest experiment group of that preset
    analyze(store, group_id) -> ExperimentReport
    analyze_bundle(path) -> ExperimentReport  the same from a bundle zip (results/reference/<name>.zip),
                                              read without importing it
    missing_datasets(preset) -> list[str]     datasets the preset needs that are not installed here
    runs_on(preset) -> list[str]              the datasets its runs use here: MNIST presets fall back on
                                              the MNIST sample (mnist-10k) when full MNIST is not installed
    data_line(preset) -> str                  one line: the data it runs on here, or what it lacks and how
                                              to get it
    reference(...) / write_readme(...)        the reference results shipped in results/ (write_readme also
                                              fills the summary table between the results markers of
                                              the README.md next to results/)

A *level* is a label plus config changes (RunConfig fields or model options, as
``RunConfig.with_value`` takes them); one level may change several fields (activation and lr). A
run's config is, in this order: the preset's base, the budget's changes, the level's changes, the
budget's overrides (changes that must beat the level's, e.g. one optimizer for every model of a
quick budget), the budget's changes for that level (the zoo's input size per model). Budgets are ``quick`` (minutes
on a 2-core CPU, 3 seeds), ``standard`` (sized from the quick results so that each question gets a
decisive answer on that CPU, 5 seeds; the zoo 2; a second look at 10 where 5 left it open), ``full``
(the notes' / d2l's setting, 3 seeds) and a hidden ``smoke`` used by the tests.

The verdict rests on the final test accuracy of every run. Per level: mean ± sample std over seeds.
Each level against the baseline: the difference of means with a 95 % Welch t interval (see
cnnkit.experiments.stats). A diverged run is a result, not a gap: it counts at
chance accuracy in comparisons and the verdict says so. Failed, cancelled, lost, out-of-memory and
unfinished runs are listed and not counted; below 2 counted runs in any level the verdict is "not
enough seeds". A preset may state a margin: a level whose interval lies within ±margin of the
baseline is *equivalent* to it; a comparison that stays open gives its measured reason (the seed
spread against the difference, and about how many seeds would resolve it). Each preset states what
the notes (and the literature) expect as machine-checkable claims; the report says whether the
result agrees with them, contradicts them, or finds the expected difference inside the margin
(equivalent). A preset whose levels keep everything a seed decides (Preset.paired: pooling) is
compared seed by seed, with a t interval of the differences (stats.paired_diff). A ranking preset
(the zoo) names no best level: it ranks the levels beside d2l's published figures and says why
where the orders differ.

The package has one module per job: ``presets`` (what a preset is, every preset, the configs they
build), ``queue`` (queueing a preset's runs and following them), ``verdict`` (the analysis, the
verdict and the claims), ``stats`` (the intervals) and ``shipped`` (the reference results and their
README pages). This module re-exports their API.
"""
from cnnkit.experiments.presets import (
    ALL_BUDGETS,
    BUDGETS,
    CATALOGUE_NOTE,
    CLAIM_KINDS,
    DEFAULT_SEEDS,
    MAX_SEEDS,
    PRESETS,
    Budget,
    Claim,
    Level,
    Preset,
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
    runs_on,
    seeds_text,
)
from cnnkit.experiments.queue import (
    GROUP_KIND,
    META_VERSION,
    NAME_SEP,
    SUPERVISOR_START_GRACE,
    group_progress,
    host_info,
    latest_group,
    launch,
    wait,
)
from cnnkit.experiments.shipped import PROJECT, REFERENCE_COMMAND, RESULTS_DIR, reference, write_readme
from cnnkit.experiments.verdict import (
    CHANCE_MARGIN,
    ExperimentReport,
    LevelResult,
    analyze,
    analyze_bundle,
)

__all__ = [
    "ALL_BUDGETS", "BUDGETS", "CATALOGUE_NOTE", "CHANCE_MARGIN", "CLAIM_KINDS", "DEFAULT_SEEDS", "GROUP_KIND",
    "MAX_SEEDS",
    "META_VERSION", "NAME_SEP", "PRESETS", "PROJECT", "REFERENCE_COMMAND", "RESULTS_DIR", "SUPERVISOR_START_GRACE",
    "Budget", "Claim", "ExperimentReport", "Level", "LevelResult", "Preset",
    "analyze", "analyze_bundle", "build_configs", "catalogue", "check_budget", "check_seeds", "data_line",
    "describe_budget", "get", "group_progress", "host_info", "latest_group", "launch", "level_config",
    "missing_datasets", "names", "reference", "runs_on", "seeds_text", "wait", "write_readme",
]
