"""``landguard check``: run every rule over a district and write findings.gpkg and the run summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import as_of_opt, config_opt, data_opt, fail_fast_opt, jobs_opt, overwrite_opt, project_opt, quiet_opt
from .progress import progress_reporter


@click.command("check")
@data_opt
@config_opt
@click.option("--out", "out", default=None, type=click.Path(),
              help="Output folder for findings.gpkg and the summary, or postgresql://user@host:port/db?table=findings "
                   "(the table is created if missing and replaced by this run in one transaction).")
@project_opt
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
def command(data, config, out, project, as_of, rules, previous, jobs, scheduler, fail_fast, overwrite, quiet):
    """Run the checks: 检查耕地“非农化”、一户多宅、退让 and write findings.gpkg (layer findings)."""
    from analyses.registry import CATALOGUE  # late: `landguard --help` must not load the GIS stack

    from ..pipeline import check as run_check, console_summary

    unknown = [r for r in rules if r not in CATALOGUE]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not a rule id; see `landguard rules` or docs/rules.md (e.g. FARM-BUILD)",
                                 param_hint="--rule")
    if jobs is not None and jobs < 1:
        raise click.BadParameter(f"{jobs} is not a number of processes; give 1 or more", param_hint="--jobs")
    if scheduler is not None and not scheduler.startswith(("tcp://", "local")):
        raise click.BadParameter(f"{scheduler!r}: give tcp://host:port or local:N", param_hint="--scheduler")
    if project is None and out is None and config is not None:
        from layers.config import load_config

        folder = load_config(config).project.folder  # [project] folder = "..." in the configuration
        if folder:
            project = (Path(config).resolve().parent / folder)
    sink = None
    if project is not None and out is not None and str(out).startswith(("postgresql://", "postgres://")):
        sink, out = str(out), None  # --project DIR --out postgresql://...: the run and the register there too
    if (project is None) == (out is None):
        raise click.UsageError("give --project DIR (the monthly cycle: dated runs and the case register) "
                               "or --out DIR (a one-off run), not both (--project DIR --out postgresql://... "
                               "also writes the run and the register to PostGIS)")
    from layers.config import data_config_hint

    if (hint := data_config_hint(data, config)) is not None:  # --data folder/x.gpkg beside a landguard.toml
        click.echo(hint, err=True)
    register = None
    with progress_reporter(quiet, total=None) as step:
        if project is not None:
            if previous is not None:
                raise click.UsageError("--previous is for --out; with --project the previous run is found by itself")
            from ..project import check_project

            result, register = check_project(project, data, config, as_of=as_of, rules=rules or None,
                                             overwrite=overwrite, progress=step, jobs=jobs, scheduler=scheduler,
                                             fail_fast=fail_fast, sink=sink)
        else:
            result = run_check(data, config, out, as_of=as_of, rules=rules or None, previous=previous,
                                overwrite=overwrite, progress=step, jobs=jobs, scheduler=scheduler, fail_fast=fail_fast)
    if not quiet:
        click.echo(console_summary(result))  # by township; per village in summary.txt
    if result.tables:
        click.echo(f"结果：数据库表 {result.tables['findings']}（{len(result.findings)} 条）")
        click.echo(f"摘要：数据库表 {result.tables['summary']}")
    else:
        click.echo(f"结果：{result.paths['findings']}（{len(result.findings)} 条）")
        click.echo(f"摘要：{result.paths['summary']}")
    if register is not None:
        counts = register["progress"].value_counts()
        moves = register["change"].value_counts()
        click.echo("与上期相比 (against the previous run)：" + "，".join(f"{k} {int(moves.get(k, 0))}"
                                                                  for k in ("新增", "持续", "已整改")))
        click.echo(f"案件库：{Path(project) / 'cases.gpkg'}（{len(register)} 件；"
                   + "，".join(f"{k} {int(v)}" for k, v in counts.items())
                   + f"；超期 {int(register['overdue'].sum())} 件）(case register)")
    if result.partial:
        where = sum(len(v) for v in result.failures.values())
        click.echo(f"未全部完成 / partial run: {len(result.failures)} 条规则在 {where} 处失败，见摘要；"
                   "退出码 4 (--fail-fast stops at the first failure)", err=True)
        sys.exit(4)
