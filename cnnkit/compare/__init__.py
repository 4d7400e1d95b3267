"""Comparing runs, for the Compare page (``cnnkit.views.compare`` puts it together) and the curves of the
Experiments page.

One module per job, in the order the data flows:

- ``urlstate``: the ``Selection`` (what the page shows) and its URL form, so a view is a link;
- ``filtering``: which runs a selection keeps and what each filter can offer;
- ``grouping``: the fields that differ among runs, group labels in their natural order;
- ``bands``: smoothing and the mean ± std band over the seeds of a group;
- ``results``: the result table and its per-group summary;
- ``figures``: the curves and the scatter;
- ``system``: the runs' system metrics (CPU, memory, GPU) as curves, drawn on request.
"""
from cnnkit.compare.bands import mean_band, smooth
from cnnkit.compare.filtering import filter_options, filter_runs, run_choices, select
from cnnkit.compare.grouping import group_order, group_values, groupable_fields, labelled_groups
from cnnkit.compare.results import RESULT_COLUMNS, group_summary, result_table
from cnnkit.compare.system import system_figures
from cnnkit.compare.urlstate import FIELDS, GROUPABLE, MAX_RUNS, SCATTER_X, X_AXES, Selection

__all__ = ["FIELDS", "GROUPABLE", "MAX_RUNS", "RESULT_COLUMNS", "SCATTER_X", "X_AXES", "Selection", "filter_options",
           "filter_runs", "group_order", "group_summary", "group_values", "groupable_fields", "labelled_groups",
           "mean_band", "result_table", "run_choices", "select", "smooth", "system_figures"]
