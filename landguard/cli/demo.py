"""``landguard demo``: the whole job on the generated sample district, in one folder."""

from __future__ import annotations

import click

from .options import overwrite_opt, quiet_opt, seed_opt
from .progress import progress_reporter


@click.command("demo")
@click.option("--out", "out", required=True, type=click.Path(), help="Folder for everything the demo makes.")
@seed_opt
@overwrite_opt
@quiet_opt
def command(out, seed, overwrite, quiet):
    """Sample + check + maps + exports + ledger: 生成样例区县并完成检查、地图、外业导出和台账."""
    from analyses.ledger import patch_table, write_ledger
    from landguard.sample import generate_sample

    from ..outputs import prepare_out_dir
    from ..pipeline import check, summary_text, write_exports, write_maps

    out_dir = prepare_out_dir(out, overwrite)
    data_dir = prepare_out_dir(out_dir / "sample", overwrite=True)
    click.echo(f"1/5 生成样例区县 → {data_dir}")
    config = generate_sample(data_dir, seed=seed)
    with progress_reporter(quiet) as step:
        click.echo("2/5 检查 (check)")
        result = check(config=config, out=out_dir / "check", overwrite=True, progress=step)
        click.echo("3/5 地图 (maps)")
        maps = write_maps(result.district, result.findings, out_dir / "maps", progress=step)
        click.echo("4/5 外业导出 (GeoJSON / GeoPackage / KML)")
        exports = write_exports(result.district, result.findings, out_dir / "exports", progress=step)
    click.echo("5/5 台账 (ledger)")
    ledger = write_ledger(result.findings, out_dir / "台账.xlsx", patches=patch_table(result.district))
    if not quiet:
        click.echo(summary_text(result))
    click.echo("完成 / done:")
    click.echo(f"  样例数据   {data_dir}  (truth.csv: 预置违法情形)")
    click.echo(f"  检查结果   {result.paths['findings']}  ({len(result.findings)} 条)")
    click.echo(f"  运行摘要   {result.paths['summary']}")
    click.echo(f"  村级地图   {maps['index']}  ({len(maps) - 1} 个行政村)")
    click.echo(f"  外业导出   {out_dir / 'exports'}  ({len(exports)} 个行政村 × GeoJSON/GeoPackage/KML)")
    click.echo(f"  台账       {ledger}")
