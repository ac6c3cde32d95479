"""Options shared by several commands, as decorators (in the style of rasterio's ``rio``)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

__all__ = ["data_opt", "config_opt", "out_opt", "findings_opt", "village_opt", "as_of_opt", "overwrite_opt",
           "jobs_opt", "seed_opt", "full_names_opt", "fail_fast_opt", "quiet_opt", "project_opt",
           "project_inputs"]


def _date(ctx, param, value):
    if value is None or isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-22") from None


data_opt = click.option(
    "--data", "data", type=click.Path(exists=True, path_type=Path),
    help="Input data: a GeoPackage with canonical layer names, or a folder (with landguard.toml, or canonical file names).",
)
config_opt = click.option(
    "--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Project configuration (TOML) mapping your files, layers and columns onto the roles.",
)
out_opt = click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
findings_opt = click.option(
    "--findings", "findings", default=None, type=click.Path(exists=True, path_type=Path),
    help="findings.gpkg written by `landguard check` (or its output folder); with --project, default the latest run's.",
)
village_opt = click.option("--village", "villages", multiple=True, help="Only this village (village_id); repeatable.")
as_of_opt = click.option(
    "--as-of", "as_of", callback=_date, default=None,
    help="Run date for deadlines (YYYY-MM-DD); default the configuration's as_of, else today.",
)
overwrite_opt = click.option("--overwrite", is_flag=True, help="Replace the contents of a non-empty --out folder.")
jobs_opt = click.option("--jobs", "jobs", type=int, default=None, help="Parallel processes (default: the core count).")
seed_opt = click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the generated district.")
full_names_opt = click.option("--full-names", is_flag=True, help="Keep owners' full names (ID numbers stay masked).")
fail_fast_opt = click.option("--fail-fast", is_flag=True, help="Stop at the first village that fails.")
quiet_opt = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
project_opt = click.option(
    "--project", "project", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Project folder (spec/WORKFLOW.md §1): dated runs in runs/<date>/, the case register cases.gpkg, photos/.",
)


def project_inputs(project: Path | None, findings: Path | None, out: Path | None, name: str) -> tuple[Path, Path]:
    """``(findings, out)`` of maps / export / ledger: given, or with ``--project`` the latest run's
    ``findings.gpkg`` and ``runs/<date>/<name>``.

    Examples
    --------
    >>> project_inputs(None, Path("f.gpkg"), Path("out"), "maps")
    (PosixPath('f.gpkg'), PosixPath('out'))
    """
    if project is None:
        if findings is None:
            raise click.UsageError("give --findings (findings.gpkg of a run) or --project DIR (its latest run)")
        if out is None:
            raise click.UsageError("give --out, or --project DIR to write into its latest run's folder")
        return findings, out
    from ..project import Project

    run = Project(Path(project)).latest_run()
    return (findings or run / "findings.gpkg"), (out or run / name)
