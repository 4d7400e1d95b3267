"""views.home: the first comparison the Home page offers, and its runs queued as one group."""
from __future__ import annotations

from cnnkit.config import RunConfig
from cnnkit.views import home


def test_first_comparison_is_two_variants_times_two_seeds_of_valid_configs() -> None:
    runs = home.first_comparison()
    assert len(runs) == 4 and len({name for name, _ in runs}) == 4
    configs = [RunConfig.from_dict(c) for _, c in runs]
    assert {c.model_options.get("activation") for c in configs} == {"sigmoid", "relu"}
    assert {c.seed for c in configs} == {0, 1}
    assert all(c.epochs <= 5 and c.test_subset < 1 for c in configs), "about half a minute on a CPU"
    sigmoid = next(c for c in configs if c.model_options["activation"] == "sigmoid")
    # d2l's recipe, with enough steps (≥ 500) to leave the sigmoid plateau at chance level
    assert (sigmoid.lr, sigmoid.batch_size, sigmoid.init) == (0.9, 256, "xavier")
    assert sigmoid.epochs * 60_000 * sigmoid.subset / sigmoid.batch_size >= 500


def test_queue_first_comparison_makes_one_group_of_its_runs(tmp_path) -> None:
    from cnnkit.store import Store

    store = Store(tmp_path / "store")
    group, ids = home.queue_first_comparison(store)
    runs = store.list_runs(group=group)
    assert sorted(r.id for r in runs) == sorted(ids) and len(ids) == 4
    assert sorted(r.name for r in runs) == sorted(name for name, _ in home.first_comparison())
    assert all("first-comparison" in r.tags and r.status == "queued" for r in runs)
