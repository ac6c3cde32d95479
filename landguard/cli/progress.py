"""A rich progress display shared by the commands (quiet when not on a terminal or with --quiet).

The bar shows ``done/total`` and the time left when the total is known (given to
:func:`progress_reporter`, or announced on the way with ``step.add_total(n)``: e.g. the number of
villages once the district is read); while it is not, it shows the steps done and the time spent,
never ``2/None``. Lines printed while the bar is live (``click.echo``) appear above it, not through it.
"""

from __future__ import annotations

import contextlib
import sys
from typing import IO, Iterator

__all__ = ["progress_reporter", "Step"]


class Step:
    """The callback a command hands to the pipeline: ``step(text)`` advances the bar by one.

    Attributes
    ----------
    done : int
        Steps reported so far.
    total : int or None
        Steps expected, when known.

    Examples
    --------
    >>> step = Step()
    >>> step("读取 parcels"); step.add_total(3); step("读取 buildings")
    >>> step.done, step.total, step.text
    (2, 3, '读取 buildings')
    """

    def __init__(self, bar=None, task=None, total: int | None = None) -> None:
        self._bar, self._task = bar, task
        self.done, self.total, self.text = 0, total, ""

    def __call__(self, text: str) -> None:
        self.done += 1
        self.text = str(text)
        if self.total is not None and self.done > self.total:  # more steps than announced: the total grows
            self.total = self.done
        self._sync(advance=1)

    def add_total(self, n: int) -> None:
        """Announce ``n`` more steps (the total becomes known, or grows)."""
        self.total = (self.total or 0) + max(int(n), 0)
        self._sync()

    def _sync(self, advance: int = 0) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=advance, total=self.total, description=self.text or "开始")


def _columns():
    from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Count(ProgressColumn):
        """``done/total`` when the total is known, else ``done 步``."""

        def render(self, task):
            if task.total is None:
                return Text(f"{int(task.completed)} 步")
            return Text(f"{int(task.completed)}/{int(task.total)}")

    class Left(ProgressColumn):
        """Time left (剩余) when the total is known; nothing while it is not."""

        max_refresh = 0.5

        def render(self, task):
            if task.total is None or task.time_remaining is None:
                return Text("")
            secs = int(task.time_remaining)
            return Text(f"剩余 {secs // 60:d}:{secs % 60:02d}")

    return [SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(), Count(), TimeElapsedColumn(), Left()]


@contextlib.contextmanager
def progress_reporter(quiet: bool = False, total: int | None = None, *, file: IO[str] | None = None,
                      force_terminal: bool | None = None) -> Iterator[Step]:
    """Yield a :class:`Step`: ``step(text)`` advances the progress bar by one and shows ``text``.

    Parameters
    ----------
    quiet : bool
        No display at all.
    total : int, optional
        Steps expected, when known beforehand.
    file, force_terminal
        Where the bar is drawn (default standard error, only when it is a terminal).

    Examples
    --------
    >>> with progress_reporter(quiet=True) as step:
    ...     step("读取 parcels")
    >>> step.done
    1
    """
    if quiet:
        yield Step(total=total)
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(file=file or sys.stderr, force_terminal=force_terminal)
    with Progress(*_columns(), console=console, transient=True, disable=not console.is_terminal,
                  redirect_stdout=True, redirect_stderr=True) as bar:
        task = bar.add_task("开始", total=total)
        yield Step(bar, task, total)
