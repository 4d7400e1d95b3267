"""``python -m cnnkit``: the command line, a contract other tools rely on.

Every user error ends the command with exit code 2 and one line on stderr naming the field;
``--json`` puts one JSON document on the last line of stdout.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from cnnkit import experiments, search
from cnnkit.bridges import finished_runs
from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.config import DATASET_NAMES, FIELD_PARAMS, RunConfig, param_for
from cnnkit.errors import CnnkitError, ConfigError
from cnnkit.jobs.base import Slot
from cnnkit.jobs.process import supervisor_running
from cnnkit.jobs.supervisor import ensure_supervisor, serve
from cnnkit.params import Param
from cnnkit.store import Status, Store, check_name, check_tags, run_row
from cnnkit.sweep import expand, run_name
from cnnkit.table import format_count, format_table

if TYPE_CHECKING:
    from cnnkit.anatomy import Anatomy
    from cnnkit.engine import MetricPoint
    from cnnkit.memory import TrainingMemory

# Modules that import torch (the models, anatomy, data, the engine and what runs it, bench) are
# imported inside the commands that need them: the others (`runs`, `submit`, `cancel`, …) then
# answer in a fraction of a second instead of paying torch's import of a second or more.

TRAIN_FLAGS = ("epochs", "lr", "batch_size", "optimizer", "schedule", "init", "seed", "subset", "input_size",
               "device")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


# ---- helpers ---------------------------------------------------------------------------------

def _store(args: argparse.Namespace) -> Store:
    return Store(args.store)


def _emit_json(obj: Any) -> None:
    print(json.dumps(obj, default=str))


def _split_assignment(text: str, flag: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(flag, f"must look like key=value, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """A validated RunConfig from --config, the training flags and every --set, in that order."""
    base: dict[str, Any] = {}
    if getattr(args, "config", None):
        try:
            base = json.loads(Path(args.config).read_text())
        except (OSError, ValueError) as exc:  # ValueError: bad JSON, not UTF-8, a number past the digit limit
            reason = str(exc).split(": value has")[0]  # (the digit limit goes on about sys.set_int_max_str_digits)
            raise ConfigError("--config", f"cannot read {args.config} as a RunConfig JSON file: {reason}") from None
        RunConfig.from_dict(base)
    fields = {k: v for k, v in base.items() if k != "model_options"}
    options = dict(base.get("model_options", {}))
    model = args.model or fields.get("model", "lenet")
    fields["model"] = model
    fields["dataset"] = args.dataset or fields.get("dataset", "fashion-mnist")
    for flag in TRAIN_FLAGS:
        text = getattr(args, flag)
        if text is not None:
            fields[flag] = FIELD_PARAMS[flag].parse(text)
    for item in args.set or []:
        key, text = _split_assignment(item, "--set")
        value = param_for(model, key).parse(text, key)
        if key in FIELD_PARAMS:
            fields[key] = value
        else:
            options[key] = value
    config = RunConfig.from_dict({**fields, "model_options": options})
    config.check_fits()
    return config


def check_labels(args: argparse.Namespace) -> None:
    """--name and --tag as the store takes them, checked before anything is written."""
    if args.name:
        check_name(args.name)
    check_tags(args.tag)


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="architecture (see `cnnkit models`)")
    p.add_argument("--dataset", help=", ".join(DATASET_NAMES))
    for flag in TRAIN_FLAGS:
        p.add_argument(f"--{flag.replace('_', '-')}", dest=flag, metavar="V")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any config field or model option, e.g. --set activation=relu --set augment=crop,flip")
    p.add_argument("--config", metavar="FILE", help="start from a RunConfig JSON file")
    p.add_argument("--name", help="a name for the run")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


# ---- commands ----------------------------------------------------------------------------------

def cmd_models(args: argparse.Namespace) -> int:
    from cnnkit.models import registry

    specs = [registry.get(n) for n in registry.names()]
    if args.json:
        _emit_json([{"name": s.name, "native_input": s.native_input, "in_channels": s.in_channels,
                     "description": s.description, "paper": s.paper, "recipe": s.recipe,
                     "knobs": {k: p.default for k, p in s.knobs.items()}} for s in specs])
        return 0
    print(format_table([(s.name, s.native_input, s.description) for s in specs], ["model", "input", "description"]))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from cnnkit import anatomy, memory
    from cnnkit.models import registry
    from cnnkit.models.shapes import CollapseError, smallest_input

    spec = registry.get(args.model)
    size = Param("input_size", "int", None, low=1, high=1024, optional=True).parse(args.input_size or "none")
    channels = Param("in_channels", "int", 1, low=1, high=16).parse(args.in_channels or str(spec.in_channels or 1))
    classes = Param("num_classes", "int", 10, low=2, high=100_000).parse(args.num_classes or "10")
    batch = Param("--batch-size", "int", 256, low=1, high=memory.MAX_BATCH).parse(
        args.batch_size or str(spec.recipe.get("batch_size", 256)))
    optimizer = FIELD_PARAMS["optimizer"].parse(args.optimizer or spec.recipe.get("optimizer", "sgd"), "--optimizer")
    options = {}
    for item in args.set or []:
        key, text = _split_assignment(item, "--set")
        if key not in spec.knobs:
            param_for(args.model, key)  # raises with the allowed keys when it is not a config field either
            raise ConfigError(key, f"is a training field; summary takes {args.model}'s options: "
                                   f"{', '.join(spec.knobs) or 'none'}")
        options[key] = spec.knobs[key].parse(text, key)
    try:
        result = anatomy.describe(args.model, channels, size, classes, **options)
    except CollapseError as exc:
        smallest = smallest_input(args.model, channels, options)
        raise ConfigError("input_size", f"{args.model} needs at least {smallest}×{smallest} input: {exc}") from None
    side = result.input_shape[-1]
    est = memory.training_memory(args.model, channels, side, classes, batch, optimizer, **options)
    extra: dict[str, Any] = {"batch_size": batch, "training_memory": est.to_dict()}
    if args.profile:
        from cnnkit import layer_profile

        step = layer_profile.profile_step(args.model, channels, side, classes, batch, **options)
        extra["profile"] = {"step_ms": step.step_ms, "layers": layer_profile.time_shares(result, step)}
    if args.measure:
        from cnnkit.memory_probe import check

        extra["memory_check"] = check(args.model, channels, side, classes, batch, optimizer, **options).to_dict()
    if args.format == "json":
        layers = [layer | {"activation_bytes": memory.activation_bytes(tuple(layer["output_shape"]), batch)}
                  for layer in result.to_dict()["layers"]]
        _emit_json({"model": args.model, **result.to_dict(), "layers": layers, **extra})
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["name", "type", "kind", "output_shape", "params", "param_share", "macs", "rf_size",
                         "rf_jump", "rf_start", "batch_size", "fp32_bytes", "bf16_bytes"])
        for layer in result.layers:
            sizes = memory.activation_bytes(layer.output_shape, batch)
            writer.writerow([layer.name, layer.type, layer.kind, "x".join(map(str, layer.output_shape)),
                             layer.params, f"{layer.param_share:.6f}", layer.macs, layer.rf_size, layer.rf_jump,
                             layer.rf_start, batch, sizes["fp32"], sizes["bf16"]])
    else:
        _print_summary(args.model, result, est, extra)
    return 0


def _print_summary(model: str, result: Anatomy, est: TrainingMemory, extra: dict[str, Any]) -> None:
    """`summary`'s table: per layer, then the totals, the memory, and the time profile when asked for."""
    from cnnkit.memory import activation_bytes

    batch = extra["batch_size"]
    rows = []
    for layer in result.layers:
        sizes = activation_bytes(layer.output_shape, batch)
        rows.append((layer.name, layer.type, "×".join(map(str, layer.output_shape)), f"{layer.params:,}",
                     f"{100 * layer.param_share:.1f}%", f"{layer.macs:,}",
                     f"{layer.rf_size}×{layer.rf_size}" if layer.rf_size else "all", _blank(layer.rf_jump),
                     _blank(layer.rf_start), f"{sizes['fp32'] / 2**20:.2f}", f"{sizes['bf16'] / 2**20:.2f}"))
    print(format_table(rows, ["layer", "type", "output", "params", "share", "MACs", "field", "jump", "start",
                              f"MiB@{batch}", "bf16"], "llrrrrrrrrr"))
    split = result.split
    print(f"\n{model}: input {'×'.join(map(str, result.input_shape))}, {result.total_params:,} parameters, "
          f"{format_count(result.macs)} MACs")
    fc, conv = split["fc"], split["conv"]
    print(f"FC layers hold {100 * fc['params_share']:.1f}% of the parameters and {100 * fc['macs_share']:.1f}% "
          f"of the MACs; conv layers {100 * conv['params_share']:.1f}% and {100 * conv['macs_share']:.1f}%")
    print("field: the receptive field of one output (all: the whole input); jump: its step in input pixels;\n"
          f"start: where the first one begins; MiB@{batch}, bf16: the layer's output for a batch of {batch}")
    print(f"training memory {est.headline()}\n  {est.parts()}")
    if "memory_check" in extra:
        check = extra["memory_check"]
        print(f"  measured peak of a real step on the {check['device']}: {check['measured'] / 2**20:.1f} MiB "
              f"(estimate / measured = {check['ratio']:.2f})")
    if "profile" in extra:
        rows = [(r["name"], r["type"], f"{100 * r['macs_share']:.1f}%", f"{100 * r['time_share']:.1f}%",
                 f"{r['forward_ms']:.2f}", f"{r['backward_ms']:.2f}") for r in extra["profile"]["layers"]]
        print(f"\nwhere the time goes: one training step at batch {batch}, "
              f"{extra['profile']['step_ms']:.0f} ms under torch.profiler")
        print(format_table(rows, ["layer", "type", "MACs", "time", "forward ms", "backward ms"], "llrrrr"))


def _blank(value: Any) -> Any:
    return "" if value is None else value


class _ProgressBar:
    """A tqdm bar over the run's steps, fed by the engine's reports."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def start(self, info: dict[str, Any]) -> None:
        self.bar = tqdm(total=info["total_steps"], initial=info["start_step"], unit="step", file=sys.stderr,
                             dynamic_ncols=True, disable=None)

    def first_step(self) -> None:
        pass

    def log(self, points: list[MetricPoint]) -> None:
        values = {f"{p.split}_{p.name}": p.value for p in points}
        if self.bar is not None:
            self.bar.update(max(p.step for p in points) - self.bar.n)
            shown = {k: f"{v:.4f}" for k, v in values.items() if k in ("train_loss", "train_acc", "test_acc")}
            if shown:
                self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_train(args: argparse.Namespace) -> int:
    from cnnkit import data
    from cnnkit.jobs.runner import execute

    config = config_from_args(args)
    check_labels(args)
    dataset = data.load(config.dataset)  # a missing dataset is a one-line error before any run exists
    store = _store(args)
    run_id = store.create_run(config, args.name, tags=args.tag, foreground=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: checkpoint and end as cancelled
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bar = _ProgressBar()
    print(f"run {run_id}: {config.label()} on {config.dataset}, recorded in {store.home}", file=sys.stderr)
    try:
        status = execute(store, run_id, stop, dataset, also=bar)
    finally:
        bar.close()
    run = store.get(run_id)
    epochs = store.epoch_rows(run_id)
    final = {k: epochs[-1][k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")} if epochs else {}
    if args.json:
        _emit_json({"run_id": run_id, "status": status, "config": config.to_dict(), "final": final,
                    "epochs": epochs, "error": run.error})
    else:
        keys = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_seconds", "images_per_sec")
        print(format_table([[e.get(k) for k in keys] for e in epochs], keys, "r" * len(keys)))
        print(f"\nrun {run_id} {status}" + (f": {run.error}" if run.error else ""))
    return 0 if status == Status.COMPLETED else 1


def cmd_submit(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    sweeps = [_split_assignment(s, "--sweep") for s in args.sweep or []]
    configs = expand(base, sweeps, args.seeds)
    check_labels(args)
    store = _store(args)
    group = None
    if len(configs) > 1 or args.group_name:
        keys = [k for k, _ in sweeps]
        names = [args.name or run_name(c, keys, args.seeds) for c in configs]
        group, ids = store.queue_group(args.group_name or f"{base.label()} sweep", configs, dict(sweeps),
                                       args.seeds, names, args.tag)
    else:
        ids = store.create_runs(configs, tags=args.tag, names=[args.name] if args.name else None)
    if args.start_worker:
        ensure_supervisor(store)
    elif not supervisor_running(store.home):
        print(f"note: no supervisor runs for {store.home}; start one with `python -m cnnkit worker` "
              "(or pass --start-worker)", file=sys.stderr)
    if args.json:
        _emit_json({"run_id": ids[0], "group": group} if len(ids) == 1 else {"run_ids": ids, "group": group})
    else:
        print("\n".join(ids))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    cpu = Param("--cpu-slots", "int", 1, low=1, high=256).parse(args.cpu_slots)
    gpu = Param("--gpu-slots", "int", 2, low=0, high=64).parse(args.gpu_slots)
    idle = Param("--idle-exit", "float", None, low=0, high=10**7, optional=True).parse(args.idle_exit or "none")
    return serve(_store(args), args.executor, cpu, gpu, idle, args.start_method, args.address)


def cmd_job(args: argparse.Namespace) -> int:
    from cnnkit.jobs.local import job_main

    kind, index, threads = args.slot.split(":")
    return job_main(_store(args), args.run_id, Slot(kind, int(index), int(threads)))


# The fields of `runs --json`, in order: a contract, whatever else a run's table row holds.
RUN_RECORD = ("id", "name", "status", "pid", "model", "dataset", "group", "tags", "progress", "epoch", "epochs",
              "queued_at", "started_at", "first_step_at", "finished_at", "device", "train_loss", "train_acc",
              "test_loss", "test_acc", "error")


def cmd_runs(args: argparse.Namespace) -> int:
    store = _store(args)
    runs = store.list_runs(status=args.status, group=args.group, limit=args.limit)
    latest = store.latest_metrics([r.id for r in runs])
    rows = [run_row(r, latest[r.id]) for r in runs]
    records = [{key: row[key] for key in RUN_RECORD} | {"progress": round(row["progress"], 4)} for row in rows]
    if args.json:
        _emit_json(records)
        return 0
    rows = [(r["id"], r["status"], r["model"], r["dataset"], f"{100 * r['progress']:.0f}%",
             f"{r['epoch']:g}/{r['epochs']}", r["train_loss"], r["test_acc"], r["name"]) for r in records]
    print(format_table(rows, ["id", "status", "model", "dataset", "done", "epoch", "train_loss", "test_acc", "name"],
                       "lllllrrrl"))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    store = _store(args)
    status = store.request_cancel(args.run_id)
    deadline = time.time() + args.wait
    while status == Status.RUNNING and time.time() < deadline:
        time.sleep(0.2)
        status = store.get(args.run_id).status
    print(f"{args.run_id} {status}" + (" (cancel requested)" if status == Status.RUNNING else ""))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    store = _store(args)
    run = store.get(args.run_id)
    print(store.log_tail(run.id, size=args.bytes), end="")
    if run.error:
        print(f"\n[{run.status}] {run.error}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    store = _store(args)
    store.resume(args.run_id)
    print(f"{args.run_id} queued to resume from its last checkpoint")
    if not supervisor_running(store.home):
        print("note: no supervisor runs for this store; start one with `python -m cnnkit worker`", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    _store(args).delete(args.run_id)
    print(f"{args.run_id} deleted")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    _store(args).rename(args.run_id, args.name)
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    store = _store(args)
    store.set_tags(args.run_id, args.tags)
    print(f"{args.run_id}: {', '.join(store.get(args.run_id).tags) or 'no tags'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args)
    runs = finished_runs(store, args.run_ids, args.group)
    if args.tensorboard:
        from cnnkit.bridges.tensorboard import export_tensorboard

        export_tensorboard(store, runs, args.tensorboard)
        print(f"exported {len(runs)} runs to {args.tensorboard}; "
              f"view them with: tensorboard --logdir {args.tensorboard}")
    elif args.mlflow:
        from cnnkit.bridges.mlflow import export_mlflow

        print(export_mlflow(store, runs, args.mlflow).summary_line())
    else:
        path = export_bundle(store, [r.id for r in runs], args.out)
        print(f"exported {len(runs)} runs to {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cnnkit import bench
    from cnnkit.models import registry

    cases = {c.model for c in bench.CASES}
    for model in args.models or []:
        if model not in cases:
            raise ConfigError("--models", f"must be among {', '.join(sorted(cases))}, got {model!r}")
        registry.get(model)
    repeats = 3 if args.repeats is None else args.repeats
    if not 3 <= repeats <= 20:
        raise ConfigError("--repeats", f"must be an integer in [3, 20], got {repeats}")
    from cnnkit.engine import resolve_device

    resolve_device(RunConfig(device=args.device).device)
    sections = tuple(args.sections or bench.SECTIONS)
    for section in sections:
        if section not in bench.SECTIONS:
            raise ConfigError("--sections", f"must be among {', '.join(bench.SECTIONS)}, got {section!r}")
    return bench.main(args.models, args.device, args.short, repeats, args.json, sections)


def cmd_import(args: argparse.Namespace) -> int:
    ids = import_bundle(_store(args), args.file)
    print(f"imported {len(ids)} runs" + (f": {' '.join(ids)}" if ids else " (all were imported before)"))
    return 0


# ---- explain: attribution maps of a finished run (cnnkit.explain) -------------------------------

def cmd_explain(args: argparse.Namespace) -> int:
    from cnnkit import explain

    method = explain.check_method(args.method)
    out = explain.png_path(args.out)
    try:
        index = int(args.index)
    except ValueError:
        raise ConfigError("index", f"must be an integer, a test-set index, got {args.index!r}") from None
    result = explain.explain_run(_store(args), args.run_id, index, method, args.layer)
    explain.save_png(result, out)
    if args.json:
        _emit_json({"run_id": result.run_id, "index": index, "method": method, "layer": result.layer,
                    "label": result.label, "predicted": result.predicted, "confidence": result.confidence,
                    "target": result.target, "out": str(out)})
    else:
        print(f"{result.caption()}\nwrote {out} (image · map · overlay)")
    return 0


# ---- experiments: `experiment list|run|report|reference` ---------------------------------------
# The what-if presets of cnnkit/experiments/. This section and the one call in build_parser are
# all the experiment commands add to this file.

def _experiment_args(args: argparse.Namespace) -> tuple[str, int | None]:
    """The budget and seeds of `experiment run` and `reference`, each checked with a one-line error."""
    budget = experiments.check_budget(args.budget, field="--budget")
    seeds = None if args.seeds is None else Param("seeds", "int", 3, low=1, high=experiments.MAX_SEEDS).parse(
        args.seeds)
    return budget, seeds


def _print_report(report: experiments.ExperimentReport, fmt: str) -> None:
    if fmt == "json":
        _emit_json(report.to_dict())
    else:
        print(report.to_markdown())


def cmd_experiment_list(args: argparse.Namespace) -> int:
    presets = experiments.catalogue()
    if args.json:
        _emit_json([p.to_dict() for p in presets])
        return 0
    rows = []
    for p in presets:
        missing = experiments.missing_datasets(p)
        rows.append((p.name, ",".join(map(str, p.lines)), p.factor, " | ".join(p.labels),
                     "needs " + ", ".join(missing) if missing else "yes"))
    print(format_table(rows, ["name", "lines", "factor", "levels", "runs here"]))
    print()
    for p in presets:
        print(f"{p.name}: {p.question}")
    print(f"\n{experiments.CATALOGUE_NOTE}")
    return 0


def cmd_experiment_run(args: argparse.Namespace) -> int:
    preset = experiments.get(args.name)
    budget, seeds = _experiment_args(args)
    store = _store(args)
    group = experiments.launch(store, preset.name, budget, seeds, start_worker=True)
    total = experiments.group_progress(store, group)["total"]
    n_seeds = experiments.check_seeds(seeds, preset, budget)
    print(f"queued {total} runs of {preset.name} ({budget} budget, {n_seeds} seeds) in group {group} of {store.home}",
          flush=True)
    if not args.wait:
        print(f"follow it with: python -m cnnkit experiment report {preset.name}"
              + (f" --store {store.home}" if args.store else ""))
        return 0
    try:
        experiments.wait(store, group, progress=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"stopped waiting; the runs go on. Later: python -m cnnkit experiment report {preset.name}",
              file=sys.stderr)
        return 130
    _print_report(experiments.analyze(store, group), args.format)
    return 0


def cmd_experiment_report(args: argparse.Namespace) -> int:
    preset = experiments.get(args.name)
    if args.bundle:
        report = experiments.analyze_bundle(args.bundle)
        if report.preset != preset.name:
            raise ConfigError("--bundle", f"{args.bundle} holds experiment {report.preset!r}, not {preset.name!r}")
    else:
        store = _store(args)
        group = args.group or experiments.latest_group(store, preset.name)
        if group is None:
            raise ConfigError("experiment", f"no runs of {preset.name} in {store.home}; start them with "
                                            f"`python -m cnnkit experiment run {preset.name}`")
        found = store.group(group)
        if found is None or found["kind"] != experiments.GROUP_KIND:
            raise ConfigError("--group", f"no experiment group {group!r} in {store.home}")
        if found["meta"].get("preset") != preset.name:
            raise ConfigError("--group", f"{group} is experiment {found['meta'].get('preset')!r}, not {preset.name!r}")
        report = experiments.analyze(store, group)
    _print_report(report, args.format)
    return 0


def cmd_experiment_reference(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if args.readme_only:
        print(f"wrote {experiments.write_readme(out)}")
        return 0
    only = [experiments.get(name).name for name in args.only or []]
    budget, seeds = _experiment_args(args)
    slots = None if args.cpu_slots is None else Param("--cpu-slots", "int", 1, low=1, high=64).parse(args.cpu_slots)
    t0 = time.time()
    done = experiments.reference(out, budget, only or None, seeds, args.store, args.keep_store, slots,
                                 log=lambda line: print(line, flush=True))
    readme = (out or experiments.RESULTS_DIR) / "README.md"
    print(f"exported {len(done)} presets in {(time.time() - t0) / 60:.1f} min; wrote {readme}")
    return 0


BUDGET_HELP = ("quick (minutes a preset on a 2-core CPU), standard (default: sized for a decisive verdict there) "
               "or full (the notes' setting)")


def _add_experiment_commands(sub: argparse._SubParsersAction) -> None:
    text = "what-if experiments from the study notes: presets, runs, verdicts"
    exp = sub.add_parser("experiment", help=text, description=text)
    esub = exp.add_subparsers(dest="experiment_command", required=True, parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str,
                store: bool = True) -> argparse.ArgumentParser:
        p = esub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        if store:
            p.add_argument("--store", metavar="PATH", help="run store folder (default: $CNNKIT_HOME or results/)")
        return p

    p = command("list", cmd_experiment_list, "the presets: name, question, factor, levels", store=False)
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")

    p = command("run", cmd_experiment_run, "queue a preset's runs for the supervisor (started if none runs)")
    p.add_argument("name", help="a preset (see `experiment list`)")
    p.add_argument("--budget", default="standard", help=BUDGET_HELP)
    p.add_argument("--seeds", metavar="N", help="seeds per level (default: the budget's: quick 3, standard 5)")
    p.add_argument("--wait", action="store_true", help="poll until every run has finished, then print the report")
    p.add_argument("--format", choices=("md", "json"), default="md", help="report format with --wait")

    p = command("report", cmd_experiment_report, "the verdict of a preset's latest (or a given) group")
    p.add_argument("name", help="a preset (see `experiment list`)")
    p.add_argument("--group", help="an experiment group id (default: the newest of the preset)")
    p.add_argument("--bundle", metavar="FILE", help="read the runs from a bundle zip instead of the store")
    p.add_argument("--format", choices=("md", "json"), default="md",
                   help="md: a table and the verdict; json: one object on the last line")

    p = command("reference", cmd_experiment_reference,
                "run every preset feasible here into a temporary store, export results/reference/*.zip and "
                "regenerate results/README.md", store=False)
    p.add_argument("--budget", default="standard", help=BUDGET_HELP)
    p.add_argument("--seeds", metavar="N", help="seeds per level (default: the budget's: quick 3, standard 5)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these presets (the other bundles are kept)")
    p.add_argument("--out", metavar="DIR", help="results folder (default: the project's results/)")
    p.add_argument("--store", metavar="PATH", help="work store (default: a temporary one, removed afterwards)")
    p.add_argument("--keep-store", action="store_true", help="keep the temporary work store")
    p.add_argument("--cpu-slots", metavar="N", help="CPU jobs at once for the work store's supervisor")
    p.add_argument("--readme-only", action="store_true",
                   help="only rebuild results/README.md and the README's results table from the bundles")


# ---- search: `search` and `search-report` ------------------------------------------------------
# Optuna studies as run groups (cnnkit/search/): the supervisor asks the trials and queues them.

def cmd_search(args: argparse.Namespace) -> int:
    from cnnkit import data

    base = config_from_args(args)
    check_labels(args)
    space = search.parse_space(base.model, args.space or [])
    plan = search.SearchPlan(base, space, search.TRIALS.parse(args.trials), args.prune,
                             search.PRUNE_AFTER.parse(args.prune_after), search.PARALLEL.parse(args.parallel),
                             check_tags(args.tag))
    if not data.is_available(base.dataset):
        raise ConfigError("--dataset", f"{data.get_spec(base.dataset).title} is not installed here: "
                                       f"{data.get_spec(base.dataset).how_to_get}")
    store = _store(args)
    group = search.start_search(store, plan, args.name)
    ensure_supervisor(store)
    print(f"search {group}: {plan.describe()}", file=sys.stderr, flush=True)
    return _search_result(store, group, args)


def cmd_search_report(args: argparse.Namespace) -> int:
    store = _store(args)
    search.plan_of(store, args.group)
    return _search_result(store, args.group, args)


def _search_result(store: Store, group: str, args: argparse.Namespace) -> int:
    from cnnkit.search.results import search_report, wait

    if args.wait:
        try:
            report = wait(store, group, progress=lambda line: print(line, file=sys.stderr, flush=True))
        except KeyboardInterrupt:
            print(f"stopped waiting; the search goes on. Later: python -m cnnkit search-report {group}",
                  file=sys.stderr)
            return 130
    elif args.command == "search":
        if args.json:
            _emit_json({"group": group})
        else:
            print(group)
            print(f"follow it with: python -m cnnkit search-report {group} --wait", file=sys.stderr)
        return 0
    else:
        report = search_report(store, group)
    if args.json:
        _emit_json(report.to_dict())
    else:
        print(report.to_text())
    return 0


def _add_search_commands(sub: argparse._SubParsersAction) -> None:
    text = "a hyperparameter search (Optuna TPE, optional median pruning): trials are runs of one group"
    p = sub.add_parser("search", help=text, description=text)
    p.set_defaults(func=cmd_search)
    p.add_argument("--store", metavar="PATH", help="run store folder (default: $CNNKIT_HOME or results/)")
    _add_train_options(p)
    p.add_argument("--space", action="append", metavar="KEY=SPEC", required=True,
                   help="a searched key (repeatable): lr=log:1e-3:1, momentum=0:0.9, batch_size=64,128,256")
    p.add_argument("--trials", default=str(search.TRIALS.default), metavar="N",
                   help=f"trials to run (default {search.TRIALS.default})")
    p.add_argument("--prune", action="store_true",
                   help="stop a trial whose test accuracy at an epoch is below the median of the completed trials")
    p.add_argument("--prune-after", default=str(search.PRUNE_AFTER.default), metavar="N",
                   help=f"completed trials before pruning starts (default {search.PRUNE_AFTER.default})")
    p.add_argument("--parallel", default=str(search.PARALLEL.default), metavar="N",
                   help="trials in flight at once (default 1: each trial learns from all before it)")
    p.add_argument("--wait", action="store_true", help="follow the search, then print its trials and the best one")

    text = "the trials of a search, the best one, pruned trials and wall time"
    p = sub.add_parser("search-report", help=text, description=text)
    p.set_defaults(func=cmd_search_report)
    p.add_argument("group", help="a search group id (printed by `cnnkit search`)")
    p.add_argument("--store", metavar="PATH", help="run store folder (default: $CNNKIT_HOME or results/)")
    p.add_argument("--wait", action="store_true", help="wait until the search is done (or paused)")
    p.add_argument("--json", action="store_true", help="one JSON document as the last line")


# ---- the parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cnnkit", description="Compare the classic convolutional networks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str,
                store: bool = True) -> argparse.ArgumentParser:
        internal = help == argparse.SUPPRESS  # `job`: run by the supervisor, not listed
        p = sub.add_parser(name) if internal else sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        if store:
            p.add_argument("--store", metavar="PATH", help="run store folder (default: $CNNKIT_HOME or results/)")
        return p

    p = command("models", cmd_models, "list the architectures", store=False)
    p.add_argument("--json", action="store_true")

    p = command("summary", cmd_summary, "per-layer output shapes, parameters, MACs and receptive fields of a model, "
                                        "its activation and training memory (and time per layer)", store=False)
    p.add_argument("model")
    p.add_argument("--input-size", metavar="N")
    p.add_argument("--in-channels", metavar="C")
    p.add_argument("--num-classes", metavar="K")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a model option, e.g. activation=relu")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--batch-size", metavar="N", help="batch for the activation memory and the training-memory "
                                                     "estimate (default: the model's recipe)")
    p.add_argument("--optimizer", metavar="NAME", help="optimizer of the estimate (default: the model's recipe)")
    p.add_argument("--profile", action="store_true",
                   help="time one training step per layer with torch.profiler (runs it here, at --batch-size)")
    p.add_argument("--measure", action="store_true",
                   help="measure a real step's peak memory (in a fresh process) next to the estimate")

    p = command("train", cmd_train, "train in the foreground and record the run")
    _add_train_options(p)

    p = command("submit", cmd_submit, "queue runs for the background supervisor")
    _add_train_options(p)
    p.add_argument("--sweep", action="append", metavar="KEY=V1,V2", help="one axis of a sweep (repeatable)")
    p.add_argument("--seeds", type=int, default=1, help="repeat every config with seeds 0..N-1 (N ≤ 20)")
    p.add_argument("--group-name", help="name of the sweep group")
    p.add_argument("--start-worker", action="store_true", help="start a supervisor if none runs")

    p = command("worker", cmd_worker, "run the supervisor in the foreground")
    p.add_argument("--cpu-slots", default="1", metavar="N", help="CPU jobs at once (default 1)")
    p.add_argument("--gpu-slots", default="2", metavar="N", help="jobs per GPU at once (default 2)")
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    p.add_argument("--idle-exit", metavar="SECONDS", help="exit after this long with nothing to do")
    p.add_argument("--start-method", choices=("fork", "spawn"), default="fork" if hasattr(os, "fork") else "spawn",
                   help="fork (warm start, default) or spawn a fresh interpreter per job")

    p = command("job", cmd_job, argparse.SUPPRESS)
    p.add_argument("run_id")
    p.add_argument("--slot", default="cpu:0:0")

    p = command("runs", cmd_runs, "list runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--status")
    p.add_argument("--group")
    p.add_argument("--limit", type=int)

    p = command("cancel", cmd_cancel, "cancel a queued or running run")
    p.add_argument("run_id")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait until it has stopped")

    p = command("logs", cmd_logs, "the end of a run's log")
    p.add_argument("run_id")
    p.add_argument("--bytes", type=int, default=8000)

    for name, func, text in (("resume", cmd_resume, "continue a finished run from its last checkpoint"),
                             ("delete", cmd_delete, "delete a run, its metrics and its files")):
        command(name, func, text).add_argument("run_id")

    p = command("rename", cmd_rename, "rename a run")
    p.add_argument("run_id")
    p.add_argument("name")

    p = command("tag", cmd_tag, "set a run's tags")
    p.add_argument("run_id")
    p.add_argument("tags", nargs="*")

    p = command("export", cmd_export, "export finished runs as a bundle (zip of JSON), to TensorBoard or to MLflow")
    p.add_argument("run_ids", nargs="*")
    p.add_argument("--group", help="export the finished runs of this group")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--out", metavar="FILE", help="a bundle zip")
    to.add_argument("--tensorboard", metavar="DIR", help="event files, one folder per run (tensorboard --logdir DIR)")
    to.add_argument("--mlflow", metavar="URI",
                    help="an MLflow tracking store: sqlite:///FILE.db, file:///DIR or a folder")

    p = command("import", cmd_import, "import a bundle")
    p.add_argument("file")

    p = command("bench", cmd_bench, "our engine against the textbook loop, job start and dashboard timings",
                store=False)
    p.add_argument("--models", nargs="+", metavar="MODEL", help="lenet mlp resnet18 alexnet (default: all)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--short", action="store_true", help="a few thousand images per case (CI)")
    p.add_argument("--repeats", type=int, help="alternating repeats per case (≥ 3, median reported)")
    p.add_argument("--json", action="store_true", help="one JSON object as the last stdout line")
    p.add_argument("--sections", nargs="+", metavar="SECTION",
                   help="throughput accuracy threads jobs dashboard (default: all)")

    p = command("explain", cmd_explain, "an attribution map (Grad-CAM or saliency) of a finished run for one "
                                        "test image, as a PNG")
    p.add_argument("run_id")
    p.add_argument("--index", required=True, metavar="N", help="the test image (index in the dataset's test set)")
    p.add_argument("--method", default="gradcam", help="gradcam (default; needs a conv layer) or saliency")
    p.add_argument("--layer", help="Grad-CAM's conv layer by module name (default: the last conv)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write image · map · overlay")
    p.add_argument("--json", action="store_true", help="one JSON object as the last line")

    _add_experiment_commands(sub)  # the experiments section above
    _add_search_commands(sub)  # the search section above
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CnnkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the traceback with CNNKIT_DEBUG=1
        if os.environ.get("CNNKIT_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with CNNKIT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1
