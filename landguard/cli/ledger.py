"""``landguard ledger``: the XLSX ledger (台账), compared with a previous run when given."""

from __future__ import annotations

from pathlib import Path

import click

from .options import config_opt, data_opt, findings_opt
from .options import project_inputs, project_opt

#: File name of the ledger when --out is a folder.
LEDGER_NAME = "ledger.xlsx"


def _ledger_path(out: Path) -> Path:
    from spatial.errors import OutputError

    try:
        is_dir, exists = out.is_dir(), out.exists()
    except OSError as exc:  # e.g. a folder we may not look into
        raise OutputError(f"--out {out}: 无法访问（{exc.strerror or exc}）(cannot be accessed); "
                          "请换一个可写的位置 (choose a writable place)") from None
    if is_dir or (not out.suffix and not exists):
        return out / LEDGER_NAME
    if out.suffix.lower() != ".xlsx":
        raise OutputError(f"--out {out}: the ledger is an .xlsx file; give a name ending in .xlsx or a folder")
    return out


@click.command("ledger")
@findings_opt
@click.option("--out", "out", default=None, type=click.Path(path_type=Path),
              help=f"Ledger file (.xlsx), or a folder to write {LEDGER_NAME} into (with --project: runs/<latest>/台账.xlsx).")
@project_opt
@data_opt
@config_opt
@click.option("--previous", "previous", type=click.Path(exists=True, path_type=Path), default=None,
              help="findings.gpkg of the previous run (or its folder): mark cases 新增 / 持续 / 已整改.")
def command(findings, out, project, data, config, previous):
    """The ledger 台账: a summary by township and village and one sheet per rule family.

    Cases are marked 新增 / 持续 / 已整改 against --previous, or, without it, as `landguard check
    --previous` marked them (layer changes of findings.gpkg) when it did. With --config (or --data) the
    district is read too, so the 卫片核查 sheet gives each monitoring patch's batch, change type, dates and
    figures (耕地 / 永久基本农田 / 红线 / 批准 亩) as FARM-PATCH measured them.
    """
    from analyses.compare import CHANGES, compare_runs, read_changes, read_findings  # late: fast --help
    from analyses.ledger import write_ledger

    findings, out = project_inputs(project, findings, out, "台账.xlsx")
    frame = read_findings(findings)
    if project is not None and previous is None:
        from ..project import register_for_ledger

        frame = register_for_ledger(project, frame)
    elif previous is not None:
        frame = compare_runs(frame, read_findings(previous))
    elif (changes := read_changes(findings)) is not None:
        frame = changes
    patches = None
    if data is not None or config is not None:
        from analyses.ledger import patch_table
        from layers.district import load_district

        as_of = None
        if project is not None:  # the run's own date (runs/<YYYY-MM-DD>): approvals valid on it
            import datetime as dt

            try:
                as_of = dt.date.fromisoformat(findings.parent.name if findings.suffix else findings.name)
            except ValueError:
                as_of = None
        patches = patch_table(load_district(data, config, as_of=as_of))
    path = write_ledger(frame, _ledger_path(out), patches=patches)
    line = f"台账：{path}（{len(frame)} 条"
    if "change" in frame.columns:
        counts = frame["change"].value_counts()
        line += "；" + "、".join(f"{c} {int(counts.get(c, 0))}" for c in CHANGES)
    click.echo(line + f"）(ledger written, {len(frame)} rows)")
