"""views.health: layer × time heatmaps, two runs on one colour scale."""
from __future__ import annotations

import math

import pytest
from support.health_runs import health_run

from cnnkit.store import Store
from cnnkit.views import health as view


def test_two_runs_share_one_colour_scale_on_a_log_axis(store: Store) -> None:
    starving = health_run(store, "sigmoid", first_grad=1e-4, saturated=0.1)
    healthy = health_run(store, "relu", first_grad=0.1, saturated=0.0)
    shown = view.load(store, [starving, healthy], ["sigmoid", "relu"])
    assert shown.quantities == ["grad_norm", "weight_norm", "update_ratio", "saturated"]
    figure = shown.figure("grad_norm")
    left, right = figure.data
    assert left.coloraxis == right.coloraxis == "coloraxis" and (left.xaxis, right.xaxis) == ("x", "x2")
    assert list(left.y) == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    axis = figure.layout.coloraxis
    assert (axis.cmin, axis.cmax) == pytest.approx((math.log10(1e-4), math.log10(10.0)))  # both runs' range
    assert left.z[0][0] == pytest.approx(-4) and right.z[0][0] == pytest.approx(-1)
    assert left.customdata[0][0] == pytest.approx(1e-4), "hovering shows the value itself"
    assert list(axis.colorbar.ticktext) == ["1e-4", "1e-3", "1e-2", "1e-1", "1e0", "1e1"]
    assert [a.text for a in figure.layout.annotations] == ["sigmoid", "relu"]
    ratio = shown.figure("update_ratio")
    assert math.isnan(ratio.data[0].z[0][0]), "a zero update has no place on a log scale"


def test_shares_are_drawn_on_their_own_linear_scale(store: Store) -> None:
    run_id = health_run(store, "sigmoid", first_grad=1e-4, saturated=0.1)
    figure = view.load(store, [run_id], ["sigmoid"]).figure("saturated")
    assert figure.layout.coloraxis.cmax == pytest.approx(0.2) and figure.data[0].z[0][1] == pytest.approx(0.2)
    assert "outputs within 0.02 of a bound" in view.caption("saturated") and "log scale" in view.caption("grad_norm")


def test_runs_without_health_have_no_quantities(store: Store) -> None:
    from support.runs import finished_run

    assert view.load(store, [finished_run(store)], ["old"]).quantities == []
