"""A rich progress display shared by the commands (quiet when not on a terminal or with --quiet)."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

__all__ = ["progress_reporter"]


@contextlib.contextmanager
def progress_reporter(quiet: bool = False, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """Yield a callback ``step(text)`` that advances a progress bar by one and shows ``text``.

    Examples
    --------
    >>> with progress_reporter(quiet=True) as step:
    ...     step("读取 parcels")
    """
    if quiet:
        yield lambda text: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    columns = [SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("开始", total=total)

        def step(text: str) -> None:
            bar.update(task, advance=1, description=text)

        yield step
