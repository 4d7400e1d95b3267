"""plots: every builder returns a valid figure with the traces its data calls for."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnkit import plots
from cnnkit.models import anatomy


def test_curves_draw_bands_behind_means_and_reference_stars() -> None:
    x = np.arange(1, 6)
    series = [plots.Series("a", x, x * 0.1, low=x * 0.1 - 0.01, high=x * 0.1 + 0.01),
              plots.Series("b", x, x * 0.2, opacity=0.3, width=1)]
    fig = plots.curves(series, "test acc", "epoch", "acc", log_y=True,
                       reference=[{"label": "d2l LeNet", "x": 10, "value": 0.779}])
    assert isinstance(fig, go.Figure)
    kinds = [(t.name, t.fill) for t in fig.data]
    assert kinds[0] == ("a ± std", "toself") and kinds[1][0] == "a" and kinds[2][0] == "b"
    assert fig.data[-1].marker.symbol == "star" and fig.data[-1].y == (0.779,)
    assert fig.layout.yaxis.type == "log"
    band = fig.data[0]
    assert len(band.x) == 2 * len(x) and band.y[0] == pytest.approx(0.11)


def test_curves_with_many_series_skip_validation_but_keep_structure() -> None:
    series = [plots.Series(f"group {i}", [0, 1], [i, i + 1], low=[0, 0], high=[1, 1])
              for i in range(plots.VALIDATE_UP_TO)]
    fig = plots.curves(series)
    assert len(fig.data) == 2 * len(series)
    go.Figure(fig.to_dict())  # what was skipped validates


def test_the_legend_shows_a_few_runs_and_hides_for_hundreds() -> None:
    few = [plots.Series(f"run {i}", [0, 1], [i, i + 1]) for i in range(plots.LEGEND_UP_TO)]
    stars = [{"label": "d2l", "x": 1, "value": 0.9}]
    assert plots.curves(few, reference=stars).layout.showlegend is True
    many = few + [plots.Series("one more", [0, 1], [0, 1])]
    assert plots.curves(many).layout.showlegend is True, "only the stars are left in the legend"
    groups = [plots.Series(f"group {i}", [0, 1], [i, i], low=[0, 0], high=[1, 1]) for i in range(30)]
    assert plots.curves(groups).layout.showlegend is False


def test_hundreds_of_runs_become_one_trace_per_style_with_each_run_named_on_hover() -> None:
    runs = [plots.Series(f"run {i}", [1, 2, 3], [i, i + 1, i + 2], color=plots.color(i), show_legend=i % 2 == 0)
            for i in range(200)]
    mean = plots.Series("mean", [1, 2, 3], [1, 2, 3], low=[0, 1, 2], high=[2, 3, 4])
    fig = plots.curves([*runs, mean])
    lines = [t for t in fig.data if t.name and t.name.endswith(" runs")]
    assert len(lines) == len(plots.PALETTE) and sum(int(t.name.split()[0]) for t in lines) == 200
    first = next(t for t in lines if t.line.color == plots.color(0))
    assert list(first.x[:4])[:3] == [1, 2, 3] and np.isnan(first.x[3]), "a gap between two runs"
    assert first.text[0] == "run 0" and first.text[4] == f"run {len(plots.PALETTE)}"
    assert len(fig.data) == len(plots.PALETTE) + 2, "the band and the mean stay traces of their own"
    go.Figure(fig.to_dict())


def test_layer_bars_colour_conv_and_fc_and_show_that_fc_dominates_lenet() -> None:
    anat = anatomy.describe("lenet")
    layers = anat.to_dict()["layers"]
    fig = plots.layer_bars(layers, "params", log=True)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"convolution", "fully connected"}
    assert by_name["fully connected"].marker.color == plots.KIND_COLORS["fc"]
    assert sum(by_name["fully connected"].y) > 9 * sum(by_name["convolution"].y)
    assert fig.layout.yaxis.type == "log"
    macs = plots.layer_bars(layers, "macs")
    assert {t.name for t in macs.data} >= {"convolution"}


def test_split_bars_stack_by_kind() -> None:
    splits = {m: anatomy.describe(m).split for m in ("lenet", "nin")}
    fig = plots.split_bars(splits, "params")
    assert fig.layout.barmode == "stack"
    fc = next(t for t in fig.data if t.name == "fully connected")
    assert fc.y[1] == 0 and fc.y[0] > 50_000  # NiN has no FC layer


def test_scatter_groups_and_error_bars() -> None:
    points = [{"x": 1e4, "y": 0.8, "label": "a", "group": "g1", "std": 0.01},
              {"x": 1e6, "y": 0.9, "label": "b", "group": "g2"}]
    fig = plots.scatter(points, "x", "y", "params", "acc")
    assert [t.name for t in fig.data] == ["g1", "g2"]
    assert fig.data[0].error_y.array == (0.01,)
    assert fig.layout.xaxis.type == "log"


def test_confusion_rows_normalised_and_counts_in_hover() -> None:
    m = [[8, 2], [1, 9]]
    fig = plots.confusion(m, ["a", "b"])
    z = np.asarray(fig.data[0].z)
    assert z[0].tolist() == [0.8, 0.2] and z.sum(1).tolist() == [1, 1]
    raw = plots.confusion(m, ["a", "b"], normalize=False)
    assert np.asarray(raw.data[0].z).tolist() == [[8, 2], [1, 9]]


def test_tile_places_images_with_padding_and_title_room() -> None:
    imgs = np.stack([np.full((2, 3), i, dtype=float) for i in range(5)])
    mosaic = plots.tile(imgs, cols=2, pad=1, top=1)
    assert mosaic.shape == (3 * (2 + 1 + 1) - 1, 2 * (3 + 1) - 1)
    assert mosaic[1, 0] == 0 and mosaic[1, 4] == 1 and mosaic[5, 0] == 2
    assert np.isnan(mosaic[0, 0])  # the title row


def test_image_grid_grey_rgb_and_empty() -> None:
    grey = np.random.default_rng(0).integers(0, 255, (6, 1, 28, 28), dtype=np.uint8)
    fig = plots.image_grid(grey, [f"c{i}" for i in range(6)], cols=3, title="grid")
    assert fig.data[0].type == "heatmap" and len(fig.layout.annotations) == 6
    rgb = np.random.default_rng(0).integers(0, 255, (4, 3, 32, 32), dtype=np.uint8)
    fig = plots.image_grid(rgb, cols=2)
    assert fig.data[0].type == "image"
    assert plots.image_grid(np.zeros((0, 28, 28))).data == ()
    maps = plots.image_grid(np.random.default_rng(1).normal(size=(16, 10, 10)), normalize_each=True,
                            colorscale="viridis")
    z = np.asarray(maps.data[0].z, dtype=float)
    assert np.nanmin(z) == pytest.approx(0) and np.nanmax(z) == pytest.approx(1)


def test_share_bars_put_macs_and_time_side_by_side() -> None:
    rows = [{"name": "0", "type": "Conv2d", "macs_share": 0.6, "time_share": 0.3},
            {"name": "1", "type": "ReLU", "macs_share": 0.0, "time_share": 0.001},
            {"name": "loss", "type": "ops outside layers", "macs_share": 0.0, "time_share": 0.2}]
    fig = plots.share_bars(rows, "lenet")
    assert [t.name for t in fig.data] == ["share of MACs", "share of time"]
    assert list(fig.data[0].x) == ["0 Conv2d", "loss ops outside layers"], "layers below 0.5 % of both are left out"
    assert list(fig.data[1].y) == [30.0, 20.0] and fig.layout.barmode == "group"


def test_a_curve_of_one_point_is_drawn_as_a_marker() -> None:
    fig = plots.curves([plots.Series("1 epoch", [1], [0.8]), plots.Series("2 epochs", [1, 2], [0.7, 0.8])])
    assert [t.mode for t in fig.data] == ["markers", "lines"]
