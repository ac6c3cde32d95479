"""``landguard verify``: bring the field team's verification results back (into the case register or a ledger)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project_opt


@click.command("verify")
@project_opt
@click.argument("positional", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--in", "returned", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="What the field returned: the GeoPackage written by `landguard export`, or the folder or zip a "
                   "field app (QField, Mergin Maps) sends back with it and the photos; repeatable.")
@click.option("--ledger", "ledger", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Without --project: the ledger (.xlsx) written by `landguard ledger`; updated in place.")
@click.option("--photo-max-distance", "max_distance", type=float, default=None,
              help="Metres: a photo farther from its case is marked 照片位置存疑 (default the project's "
                   "photo_max_distance_m, 100).")
def command(positional, project, returned, ledger, max_distance):
    """Verification results 核查结论 and photos, matched by case_id (--project: into cases.gpkg and photos/)."""
    from layers.privacy import mask_ids_in_text

    returned = (*returned, *positional)  # `verify --project DIR RETURNED` (WORKFLOW.md) or `--in RETURNED`
    if not returned:
        raise click.UsageError("give what the field returned: --in FILE|FOLDER|ZIP (or as an argument)")
    if (project is None) == (ledger is None):
        raise click.UsageError("give --project DIR (the case register) or --ledger FILE.xlsx, one of them")
    if project is not None:
        from ..project import verify_project

        for report in verify_project(project, returned, photo_max_distance_m=max_distance):
            for line in report.lines():
                click.echo(line)
        click.echo(f"案件库：{mask_ids_in_text(str(Path(project) / 'cases.gpkg'))}")
        return
    from analyses.ledger import apply_verification

    for path in returned:
        if path.is_dir():
            raise click.BadParameter(f"{path}: a folder; with --ledger give the returned GeoPackage", param_hint="--in")
        result = apply_verification(ledger, path)
        click.echo(f"{mask_ids_in_text(path.name)}：更新 {result.updated} 条，未变化 {result.unchanged} 条，未匹配 {len(result.unmatched)} 条 "
                   f"(updated {result.updated}, unchanged {result.unchanged}, unmatched {len(result.unmatched)})")
        if result.unmatched:
            click.echo("  未匹配（已列入台账“未匹配”表）：" + ", ".join(result.unmatched))
        if result.conflicting:
            click.echo("  重复且结论不同（采用最后一条）：" + ", ".join(result.conflicting))
    click.echo(f"台账：{mask_ids_in_text(str(ledger))}")
