"""``python -m cnnkit``: the command line, a contract other tools rely on.

Every user error ends the command with exit code 2 and one line on stderr naming the field;
``--json`` puts one JSON document on the last line of stdout. One module per family of commands, each
with its ``cmd_…`` functions and an ``add_commands`` that registers their parsers.
"""
from __future__ import annotations

import argparse
import os
import sys

from cnnkit.cli import compare_commands, experiment_commands, model_commands, run_commands, search_commands
from cnnkit.cli.common import Parser
from cnnkit.errors import CnnkitError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m cnnkit", description="Compare the classic convolutional networks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    for commands in (model_commands, run_commands, compare_commands, experiment_commands, search_commands):
        commands.add_commands(sub)
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
