"""What every command module of the command line shares: the one-line-error parser, how a command is
registered, the store option, JSON output, and the training flags that build a RunConfig."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit.config import DATASET_NAMES, FIELD_PARAMS, RunConfig, param_for
from cnnkit.errors import ConfigError
from cnnkit.store import Store, check_name, check_tags

TRAIN_FLAGS = ("epochs", "lr", "batch_size", "optimizer", "schedule", "init", "seed", "subset", "input_size",
               "device")
STORE_HELP = "run store folder (default: $CNNKIT_HOME or results/)"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def add_command(sub: argparse._SubParsersAction, name: str, func: Callable[[argparse.Namespace], int], help: str,
                store: bool = True) -> argparse.ArgumentParser:
    """A subcommand that runs ``func``; with ``--store`` unless ``store`` is False. ``help=argparse.SUPPRESS``
    registers an internal command (`job`: run by the supervisor) that the help does not list."""
    internal = help == argparse.SUPPRESS
    p = sub.add_parser(name) if internal else sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    if store:
        p.add_argument("--store", metavar="PATH", help=STORE_HELP)
    return p


def store_of(args: argparse.Namespace) -> Store:
    return Store(args.store)


def emit_json(obj: Any) -> None:
    print(json.dumps(obj, default=str))


def split_assignment(text: str, flag: str) -> tuple[str, str]:
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
        key, text = split_assignment(item, "--set")
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


def add_train_options(p: argparse.ArgumentParser) -> None:
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

