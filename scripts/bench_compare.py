"""Time the compare page's work (``compare.build_view``) on a synthetic store: 200 runs × 50 epochs.

Prints ``compare_render_seconds`` (the median of a few builds, with the store already warm) and the
number of metric points read. Usage: .venv/bin/python scripts/bench_compare.py [--runs 200] [--epochs 50]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnkit import compare  # noqa: E402
from cnnkit.config import RunConfig  # noqa: E402
from cnnkit.store import Status, Store  # noqa: E402

REPORTS_PER_EPOCH = 5


def synthetic_run(i: int, epochs: int, rng: random.Random) -> tuple[dict, list[tuple]]:
    """A finished run record with metric points shaped like the engine's (5 train points per epoch)."""
    lr = [0.01, 0.05, 0.1, 0.5][i % 4]
    model = ["lenet", "mlp"][i // 4 % 2]
    config = RunConfig(model=model, lr=lr, epochs=epochs, seed=i // 8, subset=0.1).to_dict()
    start = 1_700_000_000.0 + i * 1000
    points, step, wall = [], 0, start
    steps_per_epoch = 24
    rate = 0.05 + lr
    for e in range(epochs):
        for r in range(REPORTS_PER_EPOCH):
            step += steps_per_epoch // REPORTS_PER_EPOCH
            wall += 0.2
            pos = e + (r + 1) / REPORTS_PER_EPOCH
            loss = 2.3 * math.exp(-rate * pos) + 0.25 + rng.gauss(0, 0.02)
            points += [(step, round(pos, 4), "train", "loss", loss, wall),
                       (step, round(pos, 4), "train", "acc", 1 - loss / 2.6, wall)]
        test_loss = 2.3 * math.exp(-rate * (e + 1)) + 0.3 + rng.gauss(0, 0.02)
        points += [(step, float(e + 1), "test", "loss", test_loss, wall),
                   (step, float(e + 1), "test", "acc", 1 - test_loss / 2.6, wall),
                   (step, float(e + 1), "train", "lr", lr, wall),
                   (step, float(e + 1), "train", "epoch_seconds", 1.0, wall),
                   (step, float(e + 1), "train", "images_per_sec", 6000.0, wall)]
    final = 1 - test_loss / 2.6
    record = {"name": f"{model} lr={lr} seed={i // 8}", "group": f"bench-{i % 4}", "tags": ["bench"],
              "status": Status.COMPLETED, "model": model, "dataset": "fashion-mnist", "config": config,
              "queued_at": start, "started_at": start, "finished_at": wall, "device": "cpu · 1 threads",
              "step": step, "total_steps": step, "epoch": float(epochs),
              "summary": {"params": 61706 if model == "lenet" else 203530,
                          "macs": 416520 if model == "lenet" else 203264, "final": {"test_acc": final},
                          "best": {"test_acc": final, "epoch": epochs},
                          "train_seconds": float(epochs), "images_per_sec": 6000.0}}
    return record, points


def fill(store: Store, runs: int, epochs: int) -> None:
    rng = random.Random(0)
    for i in range(runs):
        record, points = synthetic_run(i, epochs, rng)
        store.insert_finished(record, points)


def time_page(home: Path, repeat: int) -> float:
    """Median seconds of a full run of the Compare page script (AppTest, no browser), warm."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["CNNKIT_HOME"] = str(home)
    os.environ["CNNKIT_NO_SUPERVISOR"] = "1"
    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "dashboard.py"), default_timeout=300).run()
    at.switch_page("pages/4_Compare.py").run()  # warm: imports, caches
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--page", action="store_true", help="also time the whole Compare page in AppTest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store")
        t0 = time.perf_counter()
        fill(store, args.runs, args.epochs)
        fill_seconds = time.perf_counter() - t0
        results = {}
        for name, sel in (("plain", compare.Selection()),
                          ("grouped", compare.Selection(group_by="cfg.lr", smoothing=0.6))):
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                view = compare.build_view(store, sel)
                # what st.plotly_chart does with each figure: serialise it
                for fig in [*view.curves.values(), view.scatter]:
                    fig.to_json()
                times.append(time.perf_counter() - t)
            results[name] = {"seconds": statistics.median(times), "runs": len(view.runs), "points": view.points}
        page_seconds = time_page(store.home, args.repeat) if args.page else None
    out = {"compare_render_seconds": results["plain"]["seconds"],
           "compare_render_seconds_grouped": results["grouped"]["seconds"],
           "runs": args.runs, "epochs": args.epochs, "points_read": results["plain"]["points"],
           "store_fill_seconds": round(fill_seconds, 2)}
    if page_seconds is not None:
        out["compare_page_seconds"] = page_seconds
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}"
                                                     for k, v in out.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
