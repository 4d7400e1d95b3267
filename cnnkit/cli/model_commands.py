"""The commands that look at a model rather than at runs: `models`, `summary`, `bench`, `explain`."""
from __future__ import annotations

import argparse
import csv
import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from cnnkit.cli.common import add_command, emit_json, split_assignment, store_of
from cnnkit.config import FIELD_PARAMS, RunConfig, param_for
from cnnkit.errors import ConfigError
from cnnkit.params import Param
from cnnkit.text import format_count, format_table

if TYPE_CHECKING:
    from cnnkit.insight.memory import TrainingMemory
    from cnnkit.models.anatomy import Anatomy

# Modules that import torch (the models, anatomy, the engine, bench) are imported inside the commands.


def cmd_models(args: argparse.Namespace) -> int:
    from cnnkit.models import registry

    specs = [registry.get(n) for n in registry.names()]
    if args.json:
        emit_json([{"name": s.name, "native_input": s.native_input, "in_channels": s.in_channels,
                     "description": s.description, "paper": s.paper, "recipe": s.recipe,
                     "knobs": {k: p.default for k, p in s.knobs.items()}} for s in specs])
        return 0
    print(format_table([(s.name, s.native_input, s.description) for s in specs], ["model", "input", "description"]))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from cnnkit.insight import memory
    from cnnkit.models import anatomy, registry
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
        key, text = split_assignment(item, "--set")
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
        from cnnkit.insight import layer_profile

        step = layer_profile.profile_step(args.model, channels, side, classes, batch, **options)
        extra["profile"] = {"step_ms": step.step_ms, "layers": layer_profile.time_shares(result, step)}
    if args.measure:
        from cnnkit.insight.memory_probe import check

        extra["memory_check"] = check(args.model, channels, side, classes, batch, optimizer, **options).to_dict()
    if args.format == "json":
        layers = [layer | {"activation_bytes": memory.activation_bytes(tuple(layer["output_shape"]), batch)}
                  for layer in result.to_dict()["layers"]]
        emit_json({"model": args.model, **result.to_dict(), "layers": layers, **extra})
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
    from cnnkit.insight.memory import activation_bytes

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


def cmd_bench(args: argparse.Namespace) -> int:
    from cnnkit.bench import suite, throughput
    from cnnkit.models import registry

    cases = {c.model for c in throughput.CASES}
    for model in args.models or []:
        if model not in cases:
            raise ConfigError("--models", f"must be among {', '.join(sorted(cases))}, got {model!r}")
        registry.get(model)
    repeats = 3 if args.repeats is None else args.repeats
    if not 3 <= repeats <= 20:
        raise ConfigError("--repeats", f"must be an integer in [3, 20], got {repeats}")
    from cnnkit.engine import resolve_device

    resolve_device(RunConfig(device=args.device).device)
    sections = tuple(args.sections or suite.SECTIONS)
    for section in sections:
        if section not in suite.SECTIONS:
            raise ConfigError("--sections", f"must be among {', '.join(suite.SECTIONS)}, got {section!r}")
    return suite.main(args.models, args.device, args.short, repeats, args.json, sections)


def cmd_explain(args: argparse.Namespace) -> int:
    from cnnkit.insight import explain

    method = explain.check_method(args.method)
    out = explain.png_path(args.out)
    try:
        index = int(args.index)
    except ValueError:
        raise ConfigError("index", f"must be an integer, a test-set index, got {args.index!r}") from None
    result = explain.explain_run(store_of(args), args.run_id, index, method, args.layer)
    explain.save_png(result, out)
    if args.json:
        emit_json({"run_id": result.run_id, "index": index, "method": method, "layer": result.layer,
                    "label": result.label, "predicted": result.predicted, "confidence": result.confidence,
                    "target": result.target, "out": str(out)})
    else:
        print(f"{result.caption()}\nwrote {out} (image · map · overlay)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    command = partial(add_command, sub)
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
