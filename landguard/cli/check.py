"""``landguard check``: run every rule over a district and write findings.gpkg and the run summary."""

from __future__ import annotations

import sys

import click

from analyses.registry import CATALOGUE

from ..pipeline import check as run_check, summary_text
from .options import as_of_opt, config_opt, data_opt, fail_fast_opt, jobs_opt, overwrite_opt, quiet_opt
from .progress import progress_reporter


@click.command("check")
@data_opt
@config_opt
@click.option("--out", "out", required=True, type=click.Path(),
              help="Output folder for findings.gpkg and the summary, or postgresql://user@host:port/db?table=findings "
                   "(the table is created if missing and replaced by this run in one transaction).")
@as_of_opt
@click.option("--rule", "rules", multiple=True, help="Only this rule id (repeatable), e.g. --rule FARM-BUILD.")
@click.option("--previous", "previous", type=click.Path(exists=True), default=None,
              help="The previous run's findings.gpkg: mark every case 新增 / 持续 / 已整改 (layer changes).")
@jobs_opt
@click.option("--scheduler", "scheduler", default=None,
              help="Run the village groups on a dask.distributed cluster: tcp://host:port, or local:N for N local workers.")
@fail_fast_opt
@overwrite_opt
@quiet_opt
def command(data, config, out, as_of, rules, previous, jobs, scheduler, fail_fast, overwrite, quiet):
    """Run the checks: 检查耕地“非农化”、一户多宅、退让 and write findings.gpkg (layer findings)."""
    unknown = [r for r in rules if r not in CATALOGUE]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not a rule id; see `landguard rules` or docs/rules.md (e.g. FARM-BUILD)",
                                 param_hint="--rule")
    if jobs is not None and jobs < 1:
        raise click.BadParameter(f"{jobs} is not a number of processes; give 1 or more", param_hint="--jobs")
    if scheduler is not None and not scheduler.startswith(("tcp://", "local")):
        raise click.BadParameter(f"{scheduler!r}: give tcp://host:port or local:N", param_hint="--scheduler")
    with progress_reporter(quiet, total=None) as step:
        result = run_check(data, config, out, as_of=as_of, rules=rules or None, previous=previous,
                            overwrite=overwrite, progress=step, jobs=jobs, scheduler=scheduler, fail_fast=fail_fast)
    if not quiet:
        click.echo(summary_text(result))
    if result.tables:
        click.echo(f"结果：数据库表 {result.tables['findings']}（{len(result.findings)} 条）")
        click.echo(f"摘要：数据库表 {result.tables['summary']}")
    else:
        click.echo(f"结果：{result.paths['findings']}（{len(result.findings)} 条）")
        click.echo(f"摘要：{result.paths['summary']}")
    if result.partial:
        where = sum(len(v) for v in result.failures.values())
        click.echo(f"未全部完成 / partial run: {len(result.failures)} 条规则在 {where} 处失败，见摘要；"
                   "退出码 4 (--fail-fast stops at the first failure)", err=True)
        sys.exit(4)
