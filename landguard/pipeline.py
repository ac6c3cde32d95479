"""The pipeline that strings the packages together: load -> rules -> findings -> maps, exports, ledger."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd

from analyses import RuleOutcome, run_rules
from analyses.registry import CATALOGUE, FAMILIES
from layers.district import District, load_district

from .outputs import prepare_out_dir, write_findings, write_json, write_text

__all__ = ["CheckResult", "announce", "check", "console_summary", "summary_text", "village_counts", "write_maps", "write_exports"]


@dataclass
class CheckResult:
    """What one ``check`` produced."""

    district: District
    findings: gpd.GeoDataFrame
    outcomes: list[RuleOutcome]
    paths: dict[str, Path] = field(default_factory=dict)
    changes: gpd.GeoDataFrame | None = None
    #: Rules that failed: rule id -> {village_id or "*" for the whole district: reason}.
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    #: PostGIS tables written (``--out postgresql://...``): what -> ``schema.table``.
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Whether some rule failed somewhere, so the findings are incomplete."""
        return bool(self.failures)

    @property
    def summary(self) -> dict:
        """The run summary as plain data (what ``summary.json`` holds)."""
        d = self.district
        return {
            "project": d.config.project.name,
            "as_of": d.as_of.isoformat(),
            "working_crs": f"EPSG:{d.crs.to_epsg()}" if d.crs.to_epsg() else d.crs.name,
            "findings": int(len(self.findings)),
            "rules": [o.as_dict() for o in self.outcomes],
            "villages": village_counts(self.findings, d.villages).to_dict("records"),
            "changes": (self.changes["change"].value_counts().to_dict() if self.changes is not None else None),
            "partial": self.partial,
            "failures": self.failures,
            "quality": d.quality.as_dict(),
        }


def village_counts(findings: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """Findings per village and family (every village listed, zeros included).

    Examples
    --------
    >>> v = pd.DataFrame({"village_id": ["V1"], "name": ["甲村"], "township": ["甲镇"]})
    >>> village_counts(pd.DataFrame({"village_id": ["V1"], "family": ["setback"]}), v)["setback"].tolist()
    [1]
    """
    base = villages[["village_id", "name", "township"]].rename(columns={"name": "village"}).copy()
    if len(findings):
        table = pd.crosstab(findings["village_id"], findings["family"])
    else:
        table = pd.DataFrame(index=pd.Index([], name="village_id"))
    for fam in FAMILIES:
        if fam not in table.columns:
            table[fam] = 0
    table = table[list(FAMILIES)]
    out = base.merge(table, left_on="village_id", right_index=True, how="left").fillna({f: 0 for f in FAMILIES})
    out[list(FAMILIES)] = out[list(FAMILIES)].astype(int)
    out["total"] = out[list(FAMILIES)].sum(axis=1)
    return out.reset_index(drop=True)


def _headline(s: dict) -> list[str]:
    """The first lines of both summaries: project, run date, CRS, the count and the change since the last run."""
    lines = [f"项目：{s['project']}    检查日期：{s['as_of']}    工作坐标系：{s['working_crs']}",
             f"发现问题 {s['findings']} 条。"]
    if s["changes"] is not None:
        lines.append("与上期相比：" + "，".join(f"{k} {s['changes'].get(k, 0)} 条" for k in ("新增", "持续", "已整改")))
    return lines


def summary_text(result: CheckResult) -> str:
    """The run summary in Chinese: counts per rule (skipped rules and why), per village, and data quality."""
    s = result.summary
    lines = _headline(s)
    if result.partial:
        lines.append("注意：本次检查未全部完成（部分规则在部分行政村运行失败，其结果缺失）：")
        names = result.district.villages.set_index("village_id")["name"]
        for rule_id, where in result.failures.items():
            for vid, reason in where.items():
                place = "全区" if vid == "*" else f"{names.get(vid, vid)}（{vid}）"
                lines.append(f"  {rule_id} 在{place}失败：{reason}")
    lines += ["", "按规则："]
    for o in result.outcomes:
        state = f"{o.count} 条" if o.skipped is None else f"跳过（{o.skipped}）"
        if o.rule_id in result.failures:
            state += f"（部分失败：{len(result.failures[o.rule_id])} 处）"
        lines.append(f"  {o.rule_id:<17}{o.name}：{state}")
    lines += ["", "按行政村："]
    for v in s["villages"]:
        fams = "，".join(f"{FAMILIES[f]} {v[f]}" for f in FAMILIES if v[f])
        lines.append(f"  {v['township']} {v['village']}（{v['village_id']}）：{v['total']} 条" + (f"（{fams}）" if fams else ""))
    from analyses.farmland_patches import patch_summary_lines

    lines += patch_summary_lines(result.findings, result.district.get("monitoring_patches"))
    lines += ["", result.district.quality.to_text()]
    from layers.privacy import mask_ids_in_text

    return mask_ids_in_text("\n".join(lines) + "\n")  # an ID number quoted from the data is never shown


#: Column heads of the township table (the families' short names).
_SHORT = {"farmland": "耕地非农化", "homestead": "宅基地", "setback": "退让", "siting": "公墓选址"}


def _pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - used, 0)
    return fill + text if right else text + fill


def console_summary(result: CheckResult, *, max_townships: int = 25) -> str:
    """The run summary for the terminal: one screen, by township (the per-village lines are in summary.txt).

    Counts per family per township and in total, the rules skipped (and why), failures in one line, and a
    one-line data-quality headline; :func:`summary_text` has everything, per village and per rule.

    Examples
    --------
    >>> # print(console_summary(landguard.check("district.gpkg", out="out")))
    """
    s = result.summary
    lines = _headline(s)
    if result.partial:
        where = sum(len(v) for v in result.failures.values())
        lines.append(f"注意：本次检查未全部完成：{len(result.failures)} 条规则在 {where} 处失败（详见 summary.txt）")
    table = village_counts(result.findings, result.district.villages)
    table["township"] = table["township"].fillna("").astype(str).str.strip().replace("", "（未填乡镇）")
    by = table.groupby("township", sort=True)[[*FAMILIES, "total"]].sum()
    by.insert(0, "villages", table.groupby("township", sort=True).size())
    heads = "".join(_pad(_SHORT.get(f, FAMILIES[f][:4]), 12, right=True) for f in FAMILIES)
    lines += ["", f"按乡镇（{len(by)} 个乡镇、{len(table)} 个行政村；每村明细见 summary.txt）：",
              f"  {_pad('乡镇', 16)}{_pad('村数', 6, right=True)}{heads}{_pad('合计', 8, right=True)}"]
    shown = by.sort_values("total", ascending=False).head(max_townships) if len(by) > max_townships else by
    for town, row in shown.iterrows():
        lines.append(f"  {_pad(str(town)[:16], 16)}{int(row['villages']):>6}" + "".join(f"{int(row[f]):>12}" for f in FAMILIES)
                     + f"{int(row['total']):>8}")
    if len(by) > len(shown):
        lines.append(f"  ……另 {len(by) - len(shown)} 个乡镇（问题较少），见 summary.txt")
    lines.append(f"  {_pad('合计', 16)}{len(table):>6}" + "".join(f"{int(by[f].sum()):>12}" for f in FAMILIES)
                 + f"{int(s['findings']):>8}")
    skipped = [o for o in result.outcomes if o.skipped is not None]
    ran = len(result.outcomes) - len(skipped)
    lines += ["", f"规则：运行 {ran} 条，跳过 {len(skipped)} 条" + ("：" if skipped else "")]
    reasons: dict[str, list[str]] = {}
    for o in skipped:
        reasons.setdefault(o.skipped, []).append(o.rule_id)
    for reason, ids in reasons.items():
        lines.append(f"  {reason}：{'、'.join(ids[:8])}" + (f" 等 {len(ids)} 条" if len(ids) > 8 else ""))
    q = result.district.quality
    fixed = sum(int(v) for counts in q.layers.values() for k, v in counts.items() if k not in ("read", "kept"))
    read = sum(int(counts.get("read", 0)) for counts in q.layers.values())
    lines += ["", f"数据质量：{len(q.layers)} 个图层读取 {read} 个要素，处理数据问题 {fixed} 处，"
                  f"证件号码校验失败 {len(q.invalid_ids)} 条，缺少可选图层 {len(q.missing_roles)} 个，"
                  f"备注 {len(q.notes)} 条（详见 summary.txt）"]
    from layers.privacy import mask_ids_in_text

    return mask_ids_in_text("\n".join(lines) + "\n")


def check(data: str | os.PathLike | None = None, config: str | os.PathLike | None = None,
          out: str | os.PathLike | None = None, *, as_of: dt.date | None = None, rules=None,
          previous: str | os.PathLike | None = None, overwrite: bool = False,
          progress: Callable[[str], None] | None = None, jobs: int | None = None,
          scheduler: str | None = None, fail_fast: bool = False) -> CheckResult:
    """Run every rule over a district and, when ``out`` is given, write the results.

    A rule that fails does not stop the run: a village-scope rule is run again village by village, so only
    the villages whose data it cannot handle lose its findings; they are listed (with the reason) in the
    summary and ``result.failures``, and ``result.partial`` is true. ``fail_fast=True`` raises instead.

    Writes ``findings.gpkg`` (layer ``findings``, the columns of ``spec/LAYERS.md``), ``summary.json`` and
    ``summary.txt`` into ``out``; each file appears whole or not at all. When ``out`` is a ``postgresql://``
    URL the findings go to a PostGIS table instead (see :func:`landguard.sinks.write_findings_postgis`).

    Parameters
    ----------
    data, config : path-like, optional
        ``--data`` and ``--config`` of ``landguard check``.
    out : path-like or str, optional
        Output folder (refused when non-empty and not made by landguard, unless ``overwrite``), or
        ``postgresql://user@host:port/db?table=findings``: the table (default ``findings``) is created if
        missing and its contents replaced by this run in one transaction.
    as_of : datetime.date, optional
        Run date for deadlines.
    rules : iterable of str, optional
        Only these rule ids.
    previous : path-like, optional
        The previous run's ``findings.gpkg``: every case is marked 新增 / 持续 / 已整改 in a ``changes`` layer
        written beside ``findings``, and the summary counts each.
    progress : callable, optional
        Called with a short Chinese text at each step.
    jobs : int, optional
        Worker processes for the village-scope rules (see :mod:`landguard.run`); default the core count,
        or 1 for a small district. The findings are the same for any number.
    scheduler : str, optional
        ``tcp://host:port`` of a dask.distributed scheduler, or ``local:N`` for a local cluster: the village
        chunks run there instead of in local processes.

    Examples
    --------
    >>> import landguard
    >>> result = landguard.check("district.gpkg", out="out")     # doctest: +SKIP
    >>> result.findings.groupby("rule_id").size()                # doctest: +SKIP
    """
    to_db = out is not None and str(out).startswith(("postgresql://", "postgres://"))
    if to_db:
        from .sinks import check_postgis_target

        check_postgis_target(str(out), overwrite=overwrite)  # fail before the work, not after
    out_dir = prepare_out_dir(out, overwrite) if out is not None and not to_db else None
    old = None
    if previous is not None:
        from analyses.compare import read_findings

        old = read_findings(previous)  # read first: --previous may live in --out
    district = load_district(data, config, as_of=as_of, progress=progress)
    if not scheduler and _rule_jobs(jobs, district) == 1:  # the parallel runners announce their own steps
        announce(progress, len([r for r in CATALOGUE if rules is None or r in set(rules)]))
    findings, outcomes = _run(district, rules, jobs, scheduler, progress, fail_fast)
    findings, failures = _isolate_failures(district, findings, outcomes, progress)
    result = CheckResult(district, findings, outcomes, failures=failures)
    if old is not None:
        from analyses.compare import compare_runs

        result.changes = compare_runs(findings, old)
    if out_dir is not None:
        extra = {"changes": result.changes} if result.changes is not None else None
        result.paths["findings"] = write_findings(findings, out_dir / "findings.gpkg", extra=extra)
        result.paths["summary_json"] = write_json(result.summary, out_dir / "summary.json")
        result.paths["summary"] = write_text(summary_text(result), out_dir / "summary.txt")
    if to_db:
        from .sinks import write_findings_postgis

        extra = {"changes": result.changes} if result.changes is not None else None
        result.tables = write_findings_postgis(findings, str(out), extra=extra, summary=result.summary,
                                               summary_text=summary_text(result), overwrite=overwrite)
    return result


def announce(progress: Callable[[str], None] | None, n: int) -> None:
    """Tell a progress callback that ``n`` more steps are coming, when it can take a total (``add_total``).

    Examples
    --------
    >>> from landguard.cli.progress import Step
    >>> step = Step(); announce(step, 3); announce(print, 3); step.total
    3
    """
    add = getattr(progress, "add_total", None)
    if callable(add) and n > 0:
        add(int(n))


def _rule_jobs(jobs: int | None, district: District) -> int:
    """The number of processes :func:`check` runs the rules in (see :func:`landguard.run.resolve_jobs`)."""
    from .run import resolve_jobs

    return resolve_jobs(jobs, district)


def _village_steps(ids: list[str], jobs: int) -> int:
    """Progress steps of :func:`landguard.run.map_villages` over ``ids``: one per village or per group."""
    import multiprocessing as mp

    if jobs <= 1:
        return len(ids)
    if len(ids) < 2 or "fork" not in mp.get_all_start_methods():
        return 0
    return min(len(ids), jobs * 4)


def _run(district: District, rules, jobs: int | None, scheduler: str | None, progress, fail_fast: bool = True):
    """The rules over the district: in this process, in local worker processes, or on a dask cluster."""
    if scheduler:
        from .run import run_rules_dask

        return run_rules_dask(district, scheduler, rules, progress=progress, fail_fast=fail_fast)
    from .run import resolve_jobs, run_rules_parallel

    n = resolve_jobs(jobs, district)
    if n > 1:
        return run_rules_parallel(district, rules, jobs=n, progress=progress, fail_fast=fail_fast)
    return run_rules(district, rules, progress=(lambda r: progress(f"规则 {r.rule_id}")) if progress else None,
                     fail_fast=fail_fast)


def _isolate_failures(district: District, findings: gpd.GeoDataFrame, outcomes, progress):
    """Re-run each failed village-scope rule village by village; record where it still fails."""
    from analyses.findings import concat_findings, sort_findings
    from analyses.registry import CATALOGUE

    failures: dict[str, dict[str, str]] = {}
    extra = []
    for o in outcomes:
        if not o.error:
            continue
        if CATALOGUE[o.rule_id].scope != "village" or len(district.villages) < 2:
            failures[o.rule_id] = {"*": o.error}
            continue
        from .run import run_rule_by_village

        if progress:
            progress(f"逐村重试 {o.rule_id}")
        found, failed = run_rule_by_village(district, o.rule_id)
        failures[o.rule_id] = failed or {"*": o.error}
        o.count = len(found)
        o.error = f"在 {len(failed)} 个行政村失败" if failed else None
        if not failed:
            failures.pop(o.rule_id)
        extra.append(found)
    if extra:
        findings = sort_findings(concat_findings([findings, *extra], crs=district.crs))
    return findings, failures


def _village_record(district: District, village_id: str) -> dict[str, str]:
    row = district.villages.loc[district.villages["village_id"] == village_id].iloc[0]
    return {"village_id": village_id, "name": row["name"] or village_id, "township": row["township"] or ""}


def _village_ids(district: District, villages=None) -> list[str]:
    known = district.villages["village_id"].astype(str).tolist()
    if not villages:
        return known
    from spatial.errors import LayerError

    unknown = [v for v in villages if v not in known]
    if unknown:
        raise LayerError(f"--village {unknown[0]}: no such village_id in the villages layer "
                         f"(e.g. {', '.join(known[:3])})")
    return list(villages)


def write_maps(district: District, findings: gpd.GeoDataFrame, out_dir: str | os.PathLike, *, villages=None,
               full_names: bool = False, progress: Callable[[str], None] | None = None,
               jobs: int | None = None, register: gpd.GeoDataFrame | None = None,
               project_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """One self-contained HTML map per village plus ``index.html``, in ``out_dir``.

    With a project's case ``register`` (``analyses.register``), each village map shows every case's change,
    verification and photos (thumbnails read from ``project_dir``; see :func:`maps.render_village_map`).

    Owners' ID numbers never appear; names are reduced to the family name unless ``full_names``. Villages are
    drawn in ``jobs`` processes (default: the core count when there are many villages, else one).

    Returns
    -------
    dict
        ``village_id`` -> map path, and ``"index"`` -> the index page.

    Examples
    --------
    >>> # write_maps(result.district, result.findings, "out/maps")
    """
    from layers.display import display_sources, rasters_covering, village_display_rows
    from layers.privacy import mask_frame, mask_ids_in_text
    from maps import render_index, render_village_map
    from maps.filenames import path_in
    from maps.premask import MaskedRows
    from maps.village import display_columns

    def _shown(role: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        cols = display_columns(role, [c for c in frame.columns if c != frame.geometry.name])
        return frame[[*cols, frame.geometry.name]]

    stems = _file_stems(district)  # two villages with one file name: refused before anything is written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = district.config.maps
    ids = _village_ids(district, villages)
    ortho = rasters_covering(district, "ortho", ids)  # here, not in the workers: notes stay in the report
    rows_of = village_display_rows(district, ids)  # one bulk index query per layer for all the villages
    sources = display_sources(district)
    finding_villages = findings["village_id"].to_numpy(dtype=object)
    one = _jobs_for(jobs, ids) == 1
    announce(progress, _village_steps(ids, _jobs_for(jobs, ids)))  # the bar shows done/total villages

    def draw(group: list[str]) -> dict[str, Path]:
        # every column drawn is masked, whatever its role: an ID number typed anywhere stays hidden; columns
        # the page never shows are dropped first. Each layer's rows of the group's villages are masked once
        # (in the worker), each village takes its own (maps.premask: the same as masking the village's rows)
        masked, at = {}, {}
        for role, frame in sources.items():
            parts = [rows_of[vid][role] for vid in group if rows_of[vid].get(role) is not None]
            if frame is not None and parts:
                at[role] = np.unique(np.concatenate(parts))
                masked[role] = MaskedRows(_shown(role, frame.iloc[at[role]]), full_names=full_names)
        mine = np.flatnonzero(pd.Series(finding_villages).isin(group).to_numpy())
        own_masked = MaskedRows(findings.iloc[mine], full_names=full_names)
        done: dict[str, Path] = {}
        for vid in group:
            if progress and one:
                progress(f"地图 {vid}")
            layers = {role: masked[role].take(np.searchsorted(at[role], rows)) if rows is not None else
                      (mask_frame(_shown(role, sources[role]), full_names=full_names) if sources[role] is not None
                       else None)
                      for role, rows in rows_of[vid].items()}
            own = own_masked.take(np.flatnonzero(finding_villages[mine] == vid))
            done[vid] = _one_map(vid, layers, own)
        return done

    def _one_map(vid: str, layers: dict, own: gpd.GeoDataFrame) -> Path:
        record = {k: mask_ids_in_text(v) for k, v in _village_record(district, vid).items()}
        reg = None
        if register is not None and "village_id" in register.columns:
            reg = mask_frame(register[(register["village_id"].astype(str) == str(vid)).to_numpy()],
                             full_names=full_names)
        return render_village_map(layers, own, record,
                                  path_in(out_dir, stems[vid], ".html"), ortho=ortho[vid],
                                  basemaps=cfg.basemaps, tianditu_tk=cfg.tianditu_tk,
                                  project=district.config.project.name, run_date=district.as_of,
                                  register=reg, photo_root=project_dir)

    from .run import map_villages

    paths = map_villages(draw, ids, _jobs_for(jobs, ids), progress=progress)
    table = village_counts(findings, district.villages)
    table = table[table["village_id"].isin(ids)].copy()
    table["href"] = [quote(f"{stems[v]}.html", safe="") for v in table["village_id"].astype(str)]
    table = mask_frame(table.drop(columns="href")).assign(href=table["href"])  # names shown in the index
    shapes = district.villages[district.villages["village_id"].astype(str).isin([str(v) for v in ids])]
    paths["index"] = render_index(table, out_dir / "index.html", geometries=shapes[["village_id", shapes.geometry.name]],
                                  project=district.config.project.name, run_date=district.as_of)
    return paths


def _file_stems(district: District) -> dict[str, str]:
    """Each village's file-name stem (:func:`maps.filenames.file_stem`); refuses two villages sharing one."""
    from maps.filenames import check_unique_stems

    v = district.villages
    return check_unique_stems(v["village_id"].astype(str).tolist(), v["name"].tolist(),
                              source="villages 图层 village_id 列")


def write_exports(district: District, findings: gpd.GeoDataFrame, out_dir: str | os.PathLike, *, villages=None,
                  full_names: bool = False, crs: str = "wgs84",
                  progress: Callable[[str], None] | None = None,
                  jobs: int | None = None) -> dict[str, dict[str, Path]]:
    """Field files per village (GeoJSON, GeoPackage with verification columns, KML) in ``out_dir``.

    Villages are written in ``jobs`` processes (default: the core count when there are many villages).
    With a ``field_grids`` layer, one set per 田长 grid too, in ``out_dir/grids``
    (:func:`maps.exports.export_grids`, the grid leader's name masked), returned under ``grid:<grid_id>``.

    Examples
    --------
    >>> # write_exports(result.district, result.findings, "out/exports")
    """
    from maps.exports import GRIDS_FOLDER, FieldBatch, chosen_grids, grids_of

    _file_stems(district)  # two villages with one file name: refused before anything is written
    names = dict(zip(district.villages["village_id"].astype(str), district.villages["name"]))
    ids = _village_ids(district, villages)
    grids = district.get("field_grids")
    # grid_id -> (its rows, its village); two grids with one file name: refused before anything is written
    chosen = chosen_grids(grids, names, villages) if grids is not None else {}
    one = _jobs_for(jobs, ids) == 1
    announce(progress, _village_steps(ids, _jobs_for(jobs, ids)))

    def prepared(vids: list, grid_rows=None) -> FieldBatch:
        """The group's rows masked, reprojected and cleaned once (in the worker), each village taking its own."""
        return FieldBatch(findings, parcels=district.get("parcels"), buildings=district.get("buildings"),
                          full_names=full_names, crs=crs, villages=vids, grids=grid_rows)

    def export(group: list[str]) -> dict[str, dict[str, Path]]:
        batch = prepared(group)
        out: dict[str, dict[str, Path]] = {}
        for vid in group:
            if progress and one:
                progress(f"导出 {vid}")
            out[vid] = batch.village(out_dir, vid, name=names.get(vid))
        return out

    from .run import map_villages

    done = map_villages(export, ids, _jobs_for(jobs, ids), progress=progress)
    if grids is not None:
        gids = list(chosen)
        if progress:
            announce(progress, 1)
            progress(f"导出田长网格 {grids['grid_id'].nunique()} 个")
        folder = Path(out_dir) / GRIDS_FOLDER

        def export_grid(group: list) -> dict[str, dict[str, Path]]:
            part = {gid: chosen[gid] for gid in group}
            batch = prepared([vid for _, vid in part.values()], grids_of(grids, part))
            return {gid: batch.village(folder, vid, name=names.get(vid), grid=grid) for gid, (grid, vid) in part.items()}

        by_grid = map_villages(export_grid, gids, _jobs_for(jobs, gids))  # the grids in the workers too
        done.update({f"grid:{gid}": files for gid, files in by_grid.items()})
    return done


#: With ``jobs=None``, maps and exports use every core from this many villages on.
PARALLEL_VILLAGES = 24


def _jobs_for(jobs: int | None, ids: list[str]) -> int:
    if jobs is not None:
        return max(1, int(jobs))
    from .run import default_jobs

    return default_jobs() if len(ids) >= PARALLEL_VILLAGES else 1
