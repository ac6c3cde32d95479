"""The case register (案件库, ``DIR/cases.gpkg`` layer ``cases``): one row per ``case_id`` over all runs.

``landguard check --project DIR`` merges each run's findings into the register and ``landguard verify
--project DIR`` merges the field's verdicts and photos (spec/WORKFLOW.md §1, §2). The register file is
always replaced whole (:func:`spatial.atomic.atomic_path`): a reader sees the old register or the new
one, never half of one.

Columns (:data:`REGISTER_COLUMNS`, geometry last): the latest finding's columns
(:data:`analyses.findings.FINDING_COLUMNS`), then the case's history and its verification.
"""

from __future__ import annotations

__all__ = ["REGISTER_COLUMNS", "CASE_COLUMNS", "PROGRESS", "PROGRESS_OPEN", "PROGRESS_WORKING", "PROGRESS_DONE",
           "PROGRESS_CLOSED", "PROGRESS_FALSE", "FIELD_VERDICTS", "PHOTO_FLAG_FAR", "PHOTO_FLAG_NOGPS",
           "PHOTO_FLAG_EARLY", "PHOTO_FLAG_BAD", "REGISTER_LAYER"]

from .findings import FINDING_COLUMNS

#: Layer name of the register in ``cases.gpkg``.
REGISTER_LAYER = "cases"

#: Columns the register adds to the finding's own, in order.
CASE_COLUMNS: list[str] = [
    "first_seen",      # date (ISO) of the first run that found the case
    "last_seen",       # date (ISO) of the latest run that found it
    "runs_seen",       # int: how many runs found it
    "last_run",        # date (ISO) of the latest run merged into the register (found it or not)
    "change",          # 新增 / 持续 / 已整改 against the previous run (the latest run's comparison)
    "progress",        # 未整改 / 整改中 / 已整改 / 已销号 / 误报 (:data:`PROGRESS`)
    "overdue",         # int 0/1: past its deadline at last_run and not rectified or closed
    "verified",        # latest field verdict (:data:`FIELD_VERDICTS`)
    "verified_on",     # date (ISO) of the latest verification
    "verified_by",     # who verified (masked like every text)
    "note",            # the field's note (核查说明) of the latest verification
    "photos",          # ';'-separated paths relative to the project folder: photos/<case_id>/<file>
    "photo_count",     # int: number of photos in ``photos``
    "photo_flags",     # ';'-separated per photo: '' (fine) / 照片位置存疑 / 无定位 / 拍摄时间早于发现 / 非图片
    "photo_points",    # ';'-separated 'lon,lat,direction,taken' per photo (EXIF; empty parts where missing)
    "closed_on",       # date (ISO) the case was closed out (已销号) or judged 误报/合法
    "history",         # ';'-separated 'date:event' lines: each run's change and each verification
]

#: Columns of ``cases.gpkg`` layer ``cases``, in order (geometry last).
REGISTER_COLUMNS: list[str] = [*FINDING_COLUMNS, *CASE_COLUMNS]

#: ``progress`` values (WORKFLOW.md §1).
PROGRESS_OPEN = "未整改"
PROGRESS_WORKING = "整改中"
PROGRESS_DONE = "已整改"
PROGRESS_CLOSED = "已销号"
PROGRESS_FALSE = "误报"
PROGRESS: tuple[str, ...] = (PROGRESS_OPEN, PROGRESS_WORKING, PROGRESS_DONE, PROGRESS_CLOSED, PROGRESS_FALSE)

#: Verdicts the field writes into 核查结论 (WORKFLOW.md §2).
FIELD_VERDICTS: tuple[str, ...] = ("合法", "违法", "已整改", "无法核实", "误报")

#: ``photo_flags`` values.
PHOTO_FLAG_FAR = "照片位置存疑"
PHOTO_FLAG_NOGPS = "无定位"
PHOTO_FLAG_EARLY = "拍摄时间早于发现"
PHOTO_FLAG_BAD = "非图片"


# -- implementation ----------------------------------------------------------------------------------

import datetime as _dt  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyogrio  # noqa: E402

from spatial.errors import LayerError  # noqa: E402

__all__ += ["read_register", "validate_register", "merge_run", "apply_verdicts", "derive_progress",
            "write_register", "empty_register", "Verdict", "VerdictOutcome"]

_INT_COLUMNS = ("runs_seen", "overdue", "photo_count")
_DATE_COLUMNS = ("first_seen", "last_seen", "last_run", "deadline", "verified_on", "closed_on")
_FLOAT_COLUMNS = ("measured", "limit", "area_m2", "area_mu")
#: Columns of one verification, copied from the field into the register.
VERIFY_COLUMNS = ("verified", "verified_on", "verified_by", "note", "photos", "photo_count", "photo_flags",
                  "photo_points")
#: Relative growth of ``area_m2`` (or a changed ``related_ids``) that reopens a case judged 合法 / 误报.
REOPEN_GROWTH = 0.05
_SEP = "; "
__all__ += ["VERIFY_COLUMNS", "REOPEN_GROWTH"]


def _blank(values: pd.Series) -> np.ndarray:
    v = values.astype(object)
    return (v.isna() | v.astype(str).str.strip().eq("")).to_numpy()


def empty_register(crs=None) -> gpd.GeoDataFrame:
    """An empty register with :data:`REGISTER_COLUMNS`.

    Examples
    --------
    >>> list(empty_register(4548).columns)[-3:]
    ['closed_on', 'history', 'geometry']
    """
    data = {c: pd.Series(dtype=float if c in _FLOAT_COLUMNS else "int64" if c in _INT_COLUMNS else object)
            for c in REGISTER_COLUMNS}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _bad(path, column: str, case, what: str) -> LayerError:
    where = f"案件 {case} " if case is not None else ""
    return LayerError(f"{path}: 案件库已损坏 (invalid register): 列 {column} {where}{what}；"
                      "请改正该单元格或从最近一次运行恢复 (fix the cell, or restore cases.gpkg from a backup); "
                      "案件库未被修改 (the register was not changed)")


def validate_register(reg: gpd.GeoDataFrame, path: str | Path = "cases.gpkg") -> gpd.GeoDataFrame:
    """Check a register read from disk (it may have been edited by hand) and normalise its types.

    Raises a one-line :class:`~spatial.errors.LayerError` naming the file, column and case when a column
    is missing, a ``case_id`` is empty or repeated, a date is not ``YYYY-MM-DD``, a count is not a whole
    number, or ``progress`` / ``verified`` hold a value outside their lists.

    Examples
    --------
    >>> import shapely
    >>> reg = empty_register(4548)
    >>> validate_register(reg).empty
    True
    >>> bad = pd.concat([reg, gpd.GeoDataFrame({"case_id": ["A"], "progress": ["done"], "runs_seen": [1]},
    ...                  geometry=[shapely.Point(0, 0)], crs=4548)], ignore_index=True)
    >>> validate_register(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: cases.gpkg: 案件库已损坏 (invalid register): 列 progress 案件 A 的值 'done' 不在 ...
    """
    missing = [c for c in REGISTER_COLUMNS if c not in reg.columns]
    if missing:
        raise _bad(path, missing[0], None, "缺失 (missing); the register needs every column of REGISTER_COLUMNS")
    ids = reg["case_id"]
    empty = _blank(ids)
    if empty.any():
        raise _bad(path, "case_id", None, f"第 {int(np.flatnonzero(empty)[0]) + 1} 行为空 (empty case_id)")
    dup = ids.astype(str).duplicated()
    if dup.any():
        raise _bad(path, "case_id", ids[dup].iloc[0], "重复 (repeated case_id)")
    out = reg.copy()
    out["case_id"] = ids.astype(str)
    for col in _DATE_COLUMNS:
        text = out[col].astype(object).where(~_blank(out[col]), None)
        text = text.map(lambda v: v.isoformat()[:10] if hasattr(v, "isoformat") else v, na_action="ignore")
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        wrong = text.notna() & parsed.isna()
        if wrong.any():
            i = wrong.to_numpy().nonzero()[0][0]
            raise _bad(path, col, out["case_id"].iloc[i], f"的值 {text.iloc[i]!r} 不是日期 (not a date like 2026-11-22)")
        out[col] = text.astype(object).where(text.notna(), None)
    for col in _INT_COLUMNS:
        num = pd.to_numeric(out[col], errors="coerce")
        wrong = (num.isna() & ~_blank(out[col])) | (num.notna() & ((num % 1 != 0) | (num < 0)))
        if wrong.any():
            i = wrong.to_numpy().nonzero()[0][0]
            raise _bad(path, col, out["case_id"].iloc[i], f"的值 {out[col].iloc[i]!r} 不是非负整数 (not a whole number)")
        out[col] = num.fillna(0).astype("int64")
    for col in _FLOAT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col, allowed in (("progress", PROGRESS), ("verified", FIELD_VERDICTS)):
        v = out[col].astype(object).where(~_blank(out[col]), None)
        wrong = v.notna() & ~v.isin(allowed)
        if wrong.any():
            i = wrong.to_numpy().nonzero()[0][0]
            raise _bad(path, col, out["case_id"].iloc[i],
                       f"的值 {v.iloc[i]!r} 不在 {'/'.join(allowed)} 之中 (not one of the allowed values)")
        out[col] = v
    order = out["first_seen"].notna() & out["last_seen"].notna() & (out["first_seen"] > out["last_seen"])
    if order.any():
        i = order.to_numpy().nonzero()[0][0]
        raise _bad(path, "first_seen", out["case_id"].iloc[i], "晚于 last_seen (first seen after last seen)")
    text_cols = [c for c in REGISTER_COLUMNS if c not in (*_INT_COLUMNS, *_FLOAT_COLUMNS, *_DATE_COLUMNS)]
    for col in text_cols:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    geom = out.geometry.name
    return gpd.GeoDataFrame(out[[*REGISTER_COLUMNS, geom]], geometry=geom, crs=reg.crs)


def read_register(path: str | Path) -> gpd.GeoDataFrame | None:
    """Read and validate ``cases.gpkg`` (layer :data:`REGISTER_LAYER`); None when it does not exist yet.

    Examples
    --------
    >>> read_register("no/such/cases.gpkg") is None
    True
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError:
        raise LayerError(f"{path}: 案件库不是可读的 GeoPackage (not a GeoPackage GDAL can open); "
                         "restore it from a backup; the register was not changed") from None
    if REGISTER_LAYER not in layers:
        raise LayerError(f"{path}: 没有图层 {REGISTER_LAYER} (no layer '{REGISTER_LAYER}'; it has "
                         f"{', '.join(layers) or 'none'}); restore cases.gpkg written by landguard")
    reg = pyogrio.read_dataframe(path, layer=REGISTER_LAYER)
    if not isinstance(reg, gpd.GeoDataFrame):
        raise _bad(path, "geometry", None, "缺失 (the layer has no geometry)")
    return validate_register(reg, path)


def write_register(reg: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write the register whole, atomically (a reader sees the old file or the new one), masked.

    Examples
    --------
    >>> import tempfile
    >>> p = write_register(empty_register(4548), Path(tempfile.mkdtemp()) / "cases.gpkg")
    >>> read_register(p).empty
    True
    """
    from layers.privacy import mask_frame
    from spatial.atomic import atomic_path

    path = Path(path)
    frame = validate_register(reg, path)
    frame = mask_frame(frame)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(frame, tmp, layer=REGISTER_LAYER, driver="GPKG")
    return path


def _append(history: pd.Series, mask: np.ndarray, event: pd.Series | str) -> pd.Series:
    """``history`` with ``event`` appended where ``mask``."""
    old = history.astype(object).where(history.notna(), "")
    ev = event if isinstance(event, pd.Series) else pd.Series(event, index=history.index, dtype=object)
    joined = np.where(old.eq("").to_numpy(), ev.astype(str).to_numpy(),
                      (old.astype(str) + _SEP + ev.astype(str)).to_numpy())
    return pd.Series(np.where(mask, joined, history.astype(object).to_numpy()), index=history.index, dtype=object)


def derive_progress(reg: pd.DataFrame, *, event_date: str | None = None) -> pd.DataFrame:
    """Fill ``progress``, ``overdue`` and ``closed_on`` from the verdicts and whether the last run found a case.

    * 合法 / 误报 from the field: ``误报`` (closed);
    * 已整改 from the field: ``已销号`` when the last run no longer finds the case, else ``已整改``;
    * 违法: ``整改中`` while found; a case the last run no longer finds: ``已整改`` (awaiting the field);
    * no verdict / 无法核实: ``未整改`` while found.

    ``overdue`` is 1 when ``deadline`` is before ``last_run`` and the case is 未整改 or 整改中. ``closed_on``
    is set (to ``event_date``, else ``last_run``) when a case becomes 已销号 or 误报, cleared when it reopens.

    Examples
    --------
    >>> r = pd.DataFrame({"verified": [None, "违法", "已整改", "误报"], "last_seen": ["2026-03-01"] * 4,
    ...                   "last_run": ["2026-03-01", "2026-03-01", "2026-04-01", "2026-03-01"],
    ...                   "deadline": ["2026-02-01", "2026-04-01", "2026-02-01", "2026-02-01"],
    ...                   "closed_on": [None] * 4, "progress": [None] * 4, "overdue": [0] * 4})
    >>> derive_progress(r)[["progress", "overdue", "closed_on"]].values.tolist()
    [['未整改', 1, None], ['整改中', 0, None], ['已销号', 0, '2026-04-01'], ['误报', 0, '2026-03-01']]
    """
    out = reg.copy()
    v = out["verified"].astype(object)
    found = (out["last_seen"].astype(object) == out["last_run"].astype(object)).to_numpy()
    progress = np.select(
        [v.isin(["合法", "误报"]).to_numpy(), v.eq("已整改").to_numpy() & ~found, v.eq("已整改").to_numpy(),
         ~found, v.eq("违法").to_numpy()],
        [PROGRESS_FALSE, PROGRESS_CLOSED, PROGRESS_DONE, PROGRESS_DONE, PROGRESS_WORKING], default=PROGRESS_OPEN)
    out["progress"] = pd.Series(progress, index=out.index, dtype=object)
    closed = np.isin(progress, [PROGRESS_CLOSED, PROGRESS_FALSE])
    when = pd.Series(event_date, index=out.index, dtype=object) if event_date else out["last_run"].astype(object)
    had = out["closed_on"].astype(object)
    out["closed_on"] = pd.Series(np.where(closed, np.where(had.notna().to_numpy(), had.to_numpy(), when.to_numpy()),
                                          None), index=out.index, dtype=object)
    deadline = out["deadline"].astype(object)
    late = deadline.notna().to_numpy() & (deadline.astype(str) < out["last_run"].astype(str)).to_numpy()
    out["overdue"] = (late & np.isin(progress, [PROGRESS_OPEN, PROGRESS_WORKING])).astype("int64")
    return out


def merge_run(register: gpd.GeoDataFrame | None, findings: gpd.GeoDataFrame, run_date: _dt.date,
              *, previous_run: str | None = None) -> gpd.GeoDataFrame:
    """The register after one run: its findings merged in, every case's history, progress and overdue updated.

    Parameters
    ----------
    register : GeoDataFrame or None
        The register before the run (:func:`read_register`), None for the project's first run.
    findings : GeoDataFrame
        The run's findings (:data:`analyses.findings.FINDING_COLUMNS`); rows a comparison marked 已整改
        are ignored.
    run_date : datetime.date
        The run's ``as_of``: not before the register's latest run.
    previous_run : str, optional
        ISO date of the run this one is compared with (default: the register's latest ``last_run``).

    Returns
    -------
    GeoDataFrame
        :data:`REGISTER_COLUMNS` in the findings' CRS. A case found again keeps ``first_seen`` and its first
        ``deadline``; a closed case found again reopens (a case judged 合法 / 误报 only when its area grew by
        more than :data:`REOPEN_GROWTH` or its related ids changed).

    Examples
    --------
    >>> import shapely
    >>> from analyses.findings import empty_findings
    >>> f = empty_findings(4548)
    >>> one = pd.concat([f, gpd.GeoDataFrame({"case_id": ["A"], "deadline": ["2026-02-01"]},
    ...                  geometry=[shapely.Point(0, 0)], crs=4548)], ignore_index=True)
    >>> r1 = merge_run(None, one, _dt.date(2026, 1, 1))
    >>> r1[["case_id", "first_seen", "change", "progress"]].values.tolist()
    [['A', '2026-01-01', '新增', '未整改']]
    >>> r2 = merge_run(r1, f, _dt.date(2026, 3, 1))
    >>> r2[["change", "progress", "overdue"]].values.tolist()
    [['已整改', '已整改', 0]]
    """
    from .compare import CHANGE_GONE, CHANGE_NEW, CHANGE_ONGOING

    run = run_date.isoformat()
    crs = findings.crs
    reg = empty_register(crs) if register is None else register
    if len(reg) and reg.crs is not None and crs is not None and not reg.crs.equals(crs):
        reg = reg.to_crs(crs)
    last = reg["last_run"].dropna().astype(str)
    latest = last.max() if len(last) else None
    if latest is not None and run < latest:
        raise LayerError(f"cases.gpkg: 案件库已合并 {latest} 的检查，不能再合并更早的 {run} (a run may not be older "
                         "than the register's latest run); use --as-of on or after that date")
    prev = previous_run if previous_run is not None else latest
    live = findings
    if "change" in live.columns:
        live = live[(live["change"] != CHANGE_GONE).to_numpy()]
    live = live[~live["case_id"].astype(str).duplicated().to_numpy()]
    geom = live.geometry.name
    new = pd.DataFrame({c: (live[c].to_numpy() if c in live.columns else None) for c in FINDING_COLUMNS},
                       index=pd.Index(live["case_id"].astype(str).to_numpy(), name="case_id"))
    new["geometry"] = live.geometry.to_numpy()
    old = pd.DataFrame(reg.drop(columns=reg.geometry.name)).set_index("case_id", drop=False)
    old["geometry"] = reg.geometry.to_numpy()
    old.index = old.index.astype(str)

    both = new.index.intersection(old.index)
    only_new = new.index.difference(old.index)
    only_old = old.index.difference(new.index)

    # cases found by this run that the register already has
    cur = old.loc[both].copy()
    inc = new.loc[both]
    was_found = (cur["last_seen"].astype(object) == prev).to_numpy() if prev is not None else np.zeros(len(cur), bool)
    closed = cur["progress"].isin([PROGRESS_CLOSED, PROGRESS_FALSE]).to_numpy()
    grew = (pd.to_numeric(inc["area_m2"], errors="coerce").to_numpy(dtype=float)
            > pd.to_numeric(cur["area_m2"], errors="coerce").to_numpy(dtype=float) * (1 + REOPEN_GROWTH))
    related = (inc["related_ids"].astype(object).fillna("").astype(str).to_numpy()
               != cur["related_ids"].astype(object).fillna("").astype(str).to_numpy())
    judged = cur["progress"].eq(PROGRESS_FALSE).to_numpy()
    reopen = (closed & ~judged) | (judged & (grew | related))
    reopen &= ~was_found | judged  # a 已销号 case is not found by the run before: it reappeared
    keep_deadline = cur["deadline"].astype(object)
    for c in [*FINDING_COLUMNS, "geometry"]:
        if c != "case_id":
            cur[c] = inc[c].to_numpy()
    cur["deadline"] = np.where(reopen | keep_deadline.isna().to_numpy(), inc["deadline"].to_numpy(),
                               keep_deadline.to_numpy())
    cur["first_seen"] = cur["first_seen"].astype(object).where(cur["first_seen"].notna(), run)
    cur["last_seen"] = run
    cur["runs_seen"] = pd.to_numeric(cur["runs_seen"], errors="coerce").fillna(0).astype("int64") + 1
    change = np.where(was_found & ~reopen, CHANGE_ONGOING, CHANGE_NEW).astype(object)
    cur["change"] = change
    events = (f"{run}:" + pd.Series(change, index=cur.index, dtype=object).astype(str)).astype(object)
    events[reopen] = f"{run}:重新发现(reopened)"
    cur["history"] = _append(cur["history"], np.ones(len(cur), bool), events)
    for c in ("verified", "verified_on", "verified_by", "note"):
        cur[c] = cur[c].astype(object).where(~reopen, None)
    cur["closed_on"] = cur["closed_on"].astype(object).where(~reopen, None)

    # cases first found by this run
    add = new.loc[only_new].copy()
    add["case_id"] = add.index
    for c in CASE_COLUMNS:
        add[c] = None
    add["first_seen"] = add["last_seen"] = run
    add["runs_seen"] = 1
    add["photo_count"] = 0
    add["change"] = CHANGE_NEW
    add["history"] = f"{run}:{CHANGE_NEW}"

    # cases of the register this run does not find
    gone = old.loc[only_old].copy()
    just_gone = (gone["last_seen"].astype(object) == prev).to_numpy() if prev is not None else np.zeros(len(gone), bool)
    gone["change"] = np.where(just_gone, CHANGE_GONE, None).astype(object)
    gone["history"] = _append(gone["history"], just_gone, f"{run}:{CHANGE_GONE}")

    parts = [p for p in (cur, add, gone) if len(p)]
    if parts:
        merged = pd.concat(parts, ignore_index=True)
    else:
        merged = pd.DataFrame({c: pd.Series(dtype=object) for c in [*REGISTER_COLUMNS, "geometry"]})
    merged["last_run"] = run
    merged = derive_progress(merged, event_date=run)
    out = gpd.GeoDataFrame(merged[REGISTER_COLUMNS], geometry=gpd.GeoSeries(merged["geometry"].to_numpy(), crs=crs),
                           crs=crs)
    out = out.sort_values("case_id", kind="stable").reset_index(drop=True)
    return validate_register(out)


@dataclass
class Verdict:
    """One case's answer from the field, already checked (see :mod:`landguard.project`)."""

    case_id: str
    verified: str | None
    verified_on: str | None
    verified_by: str | None
    note: str | None
    photos: list[str] = field(default_factory=list)   # paths relative to the project folder
    flags: list[str] = field(default_factory=list)    # one per photo ('' when fine)
    points: list[str] = field(default_factory=list)   # one 'lon,lat,direction,taken' per photo


@dataclass
class VerdictOutcome:
    """What :func:`apply_verdicts` changed."""

    register: gpd.GeoDataFrame
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)     # older than the register's verification: not applied

    @property
    def changed(self) -> bool:
        return bool(self.updated)


def _merge_list(old, new: list[str]) -> list[str]:
    have = [p for p in (old or "").split(_SEP) if p] if isinstance(old, str) else []
    return have + [p for p in new if p not in have]


def apply_verdicts(register: gpd.GeoDataFrame, verdicts: list[Verdict]) -> VerdictOutcome:
    """The register with the field's verdicts and photos applied; idempotent (a second pass changes nothing).

    A verdict dated before the register's latest verification of the case is not applied (``stale``); blank
    fields never erase what the register holds; photos are added to those already listed.

    Examples
    --------
    >>> import shapely
    >>> from analyses.findings import empty_findings
    >>> f = pd.concat([empty_findings(4548), gpd.GeoDataFrame({"case_id": ["A"]}, geometry=[shapely.Point(0, 0)],
    ...               crs=4548)], ignore_index=True)
    >>> reg = merge_run(None, f, _dt.date(2026, 1, 1))
    >>> v = Verdict("A", "违法", "2026-01-05", "李*", None)
    >>> out = apply_verdicts(reg, [v])
    >>> out.updated, out.register["progress"].tolist(), apply_verdicts(out.register, [v]).updated
    (['A'], ['整改中'], [])
    """
    reg = register.copy()
    pos = pd.Series(np.arange(len(reg)), index=reg["case_id"].astype(str))
    result = VerdictOutcome(reg)
    hist = reg["history"].astype(object).to_numpy().copy()
    cols = {c: reg[c].astype(object).to_numpy().copy() for c in VERIFY_COLUMNS}
    for v in verdicts:
        i = int(pos[v.case_id])
        before = {c: cols[c][i] for c in VERIFY_COLUMNS}
        if v.verified_on and isinstance(before["verified_on"], str) and v.verified_on < before["verified_on"]:
            result.stale.append(v.case_id)
            continue
        for c, val in (("verified", v.verified), ("verified_on", v.verified_on), ("verified_by", v.verified_by),
                       ("note", v.note)):
            if val is not None:
                cols[c][i] = val
        if v.photos:
            photos = _merge_list(before["photos"], v.photos)
            added = len(photos) - len([p for p in (before["photos"] or "").split(_SEP) if p])
            flags = (before["photo_flags"] or "").split(_SEP) if before["photo_count"] else []
            points = (before["photo_points"] or "").split(_SEP) if before["photo_count"] else []
            fresh = [k for k, p in enumerate(v.photos) if p not in (before["photos"] or "").split(_SEP)]
            flags += [v.flags[k] for k in fresh][:added]
            points += [v.points[k] for k in fresh][:added]
            cols["photos"][i] = _SEP.join(photos)
            cols["photo_count"][i] = len(photos)
            cols["photo_flags"][i] = _SEP.join(flags)
            cols["photo_points"][i] = _SEP.join(points)
        if any(cols[c][i] != before[c] and not (cols[c][i] is None and before[c] is None) for c in VERIFY_COLUMNS):
            event = f"{v.verified_on or ''}:核查 {cols['verified'][i] or ''}".strip()
            if v.photos and cols["photos"][i] != before["photos"]:
                event += f"（照片 {cols['photo_count'][i]} 张）"
            hist[i] = event if not isinstance(hist[i], str) or not hist[i] else hist[i] + _SEP + event
            result.updated.append(v.case_id)
        else:
            result.unchanged.append(v.case_id)
    for c in VERIFY_COLUMNS:
        reg[c] = cols[c]
    reg["history"] = hist
    if result.updated:
        idx = pos[result.updated].to_numpy()
        dates = pd.Series(reg["verified_on"].astype(object).to_numpy()[idx], dtype=object)
        sub = derive_progress(reg.iloc[idx].reset_index(drop=True), event_date=None)
        had_closed = reg["closed_on"].astype(object).to_numpy()[idx]
        newly = sub["closed_on"].notna().to_numpy() & pd.isna(had_closed)
        sub.loc[newly, "closed_on"] = dates[newly].where(dates[newly].notna(), sub.loc[newly, "last_run"]).to_numpy()
        for c in ("progress", "overdue", "closed_on"):
            arr = reg[c].to_numpy().copy()
            arr[idx] = sub[c].to_numpy()
            reg[c] = arr
    result.register = validate_register(reg)
    return result
