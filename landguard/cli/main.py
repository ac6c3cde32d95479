"""The ``landguard`` command: one sub-command per module of this package."""

from __future__ import annotations

import importlib
import sys

import click

from spatial.errors import LandguardError

__all__ = ["cli", "main"]

#: Sub-command modules; each defines a click command called ``command``.
_COMMANDS = ["sample", "check", "maps", "export", "ledger", "verify", "demo"]


class _Group(click.Group):
    """Turns our own errors into one clear line and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LandguardError as exc:
            click.echo(f"错误 / error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="landguard")
def cli() -> None:
    """landguard — 耕地“非农化”、一户多宅与退让检查 (farmland conversion, homestead and setback checks)."""


for _name in _COMMANDS:
    try:
        _module = importlib.import_module(f"landguard.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command not written yet
        if exc.name != f"landguard.cli.{_name}":
            raise
        continue
    cli.add_command(_module.command)


def main() -> None:
    """Entry point for ``python -m landguard``."""
    cli(prog_name="landguard")
