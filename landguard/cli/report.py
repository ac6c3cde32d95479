"""``landguard report``: the monthly report 月报.pdf and the patrol lists 巡查清单 (spec/WORKFLOW.md §4, §5)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import as_of_opt

__all__ = ["command"]


@click.command("report")
@click.option("--project", "project", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Project folder (runs/<date>/findings.gpkg, cases.gpkg): the latest run, its trend and register.")
@click.option("--findings", "findings", type=click.Path(exists=True, path_type=Path), default=None,
              help="Instead of --project: one run's findings.gpkg (or its folder).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Folder for 月报.pdf and 巡查清单/ (default: DIR/reports/<run date>).")
@click.option("--patrol/--no-patrol", "patrol", default=True, show_default=True,
              help="Also write the patrol lists: one page per 田长 grid (else per village).")
@as_of_opt
def command(project, findings, out, patrol, as_of):
    """The monthly report 月报.pdf: headline figures, charts, the overdue list and a map of open cases."""
    from maps.report import load_report_data, write_patrol_lists, write_report  # late: fast --help
    from spatial.errors import OutputError

    if (project is None) == (findings is None):
        raise click.UsageError("give --project DIR or --findings FINDINGS (one of them)")
    data = load_report_data(project=project, findings=findings, as_of=as_of)
    if out is None:
        if project is None:
            raise click.UsageError("--out is needed with --findings")
        out = project / "reports" / data.run_date
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: not a folder; give a folder for 月报.pdf")
    pdf = write_report(data, out / "月报.pdf")
    click.echo(f"月报：{pdf}（{data.summary_line()}）")
    if patrol:
        pages = write_patrol_lists(data, out / "巡查清单")
        grids = "grid_id" in data.cases.columns and data.cases["grid_id"].notna().any()
        click.echo(f"巡查清单：{out / '巡查清单'}（{len(pages)} 个{'田长网格' if grids else '行政村'}，每个一页）"
                   f"(patrol lists, one page per {'grid' if grids else 'village'})")
