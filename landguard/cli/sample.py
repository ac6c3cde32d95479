"""``landguard sample``: generate the sample district (Pinggu area) with planted violations."""

from __future__ import annotations

import click

from .options import overwrite_opt, seed_opt


@click.command("sample")
@click.option("--out", "out", required=True, type=click.Path(), help="Folder for the sample district.")
@seed_opt
@overwrite_opt
def command(out, seed, overwrite):
    """Generate the sample district: 生成样例区县数据（含预置违法情形与真值表 truth.csv）."""
    from landguard.sample import generate_sample

    from ..outputs import prepare_out_dir

    out_dir = prepare_out_dir(out, overwrite)
    config = generate_sample(out_dir, seed=seed)
    click.echo(f"样例数据：{out_dir}")
    click.echo(f"配置文件：{config}")
    click.echo(f"真值表：{out_dir / 'truth.csv'}")
