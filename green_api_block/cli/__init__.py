"""The `green-api-block` command line.

Each sub-command lives in its own module under this package and exposes
``register(subparsers) -> None``; the module sets ``func`` on its parser with
``parser.set_defaults(func=handler)`` where ``handler(args) -> int`` returns the exit code.
Modules are imported lazily by name so that a missing optional dependency of one command
(e.g. ``mcp``) never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Sub-command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "green_api_block.cli.core",
    "green_api_block.cli.watch",
    "green_api_block.cli.sandbox",
    "green_api_block.cli.demo",
    "green_api_block.cli.mcp",
    "green_api_block.cli.preview",
    "green_api_block.cli.webhook",
    "green_api_block.cli.temporal",
)


def build_parser() -> argparse.ArgumentParser:
    from .output import EXIT_CODES_HELP, HelpFormatter, common_parents

    parser = argparse.ArgumentParser(
        prog="green-api-block",
        parents=common_parents(top_level=True),
        description="Green API (WhatsApp) block: run its tools, a local sandbox, an MCP server.",
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the command is not part of this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
