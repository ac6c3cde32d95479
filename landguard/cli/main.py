"""The ``landguard`` command: one sub-command per module of this package."""

from __future__ import annotations

import importlib
import sys

import click

__all__ = ["cli", "main"]

#: Sub-command modules; each defines a click command called ``command``.
_COMMANDS = ["sample", "check", "maps", "export", "ledger", "verify", "report", "demo", "rules"]


def _masked(exc: BaseException) -> str:
    from layers.privacy import mask_ids_in_text

    return mask_ids_in_text(str(exc))


class _Group(click.Group):
    """Turns errors into one clear line and an exit code, never a traceback (unless ``--debug``)."""

    def invoke(self, ctx):
        from spatial.errors import LandguardError  # late: `landguard --help` answers at once

        try:
            return super().invoke(ctx)
        except LandguardError as exc:
            click.echo(f"错误 / error: {_masked(exc)}", err=True)  # an ID number quoted from data stays hidden
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("已中断 / interrupted; outputs are either the previous ones or complete new ones", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug of ours: say so in one line, keep the traceback for --debug
            if ctx.params.get("debug"):
                raise
            click.echo(f"内部错误 / internal error: {type(exc).__name__}: {_masked(exc)} "
                       "(run again with `landguard --debug ...` for the traceback, and report it)", err=True)
            sys.exit(3)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="landguard")
@click.option("--debug", is_flag=True, help="Show the full traceback of unexpected errors.")
def cli(debug: bool) -> None:
    """landguard — 耕地“非农化”、一户多宅与退让检查 (farmland conversion, homestead and setback checks)."""


for _name in _COMMANDS:
    cli.add_command(importlib.import_module(f"landguard.cli.{_name}").command)


def main() -> None:
    """Entry point for ``python -m landguard``."""
    cli(prog_name="landguard")
