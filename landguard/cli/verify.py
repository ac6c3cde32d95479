"""``landguard verify``: bring the field team's verification results back into the ledger."""

from __future__ import annotations

from pathlib import Path

import click

from analyses.ledger import apply_verification
from layers.privacy import mask_ids_in_text


@click.command("verify")
@click.option("--in", "returned", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="GeoPackage returned from the field (written by `landguard export`); repeatable.")
@click.option("--ledger", "ledger", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ledger (.xlsx) written by `landguard ledger`; updated in place.")
def command(returned, ledger):
    """Write verification results 核查结论 into the ledger, matching rows by case_id."""
    for path in returned:
        result = apply_verification(ledger, path)
        click.echo(f"{mask_ids_in_text(path.name)}：更新 {result.updated} 条，未变化 {result.unchanged} 条，未匹配 {len(result.unmatched)} 条 "
                   f"(updated {result.updated}, unchanged {result.unchanged}, unmatched {len(result.unmatched)})")
        if result.unmatched:
            click.echo("  未匹配（已列入台账“未匹配”表）：" + ", ".join(result.unmatched))
        if result.conflicting:
            click.echo("  重复且结论不同（采用最后一条）：" + ", ".join(result.conflicting))
    click.echo(f"台账：{mask_ids_in_text(str(ledger))}")
