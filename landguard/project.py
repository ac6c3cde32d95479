"""The project folder (spec/WORKFLOW.md §1, §2): dated runs, the case register, verification photos.

Layout of ``DIR``::

    DIR/project.json            the project's id (stamped into its field files) and photo_max_distance_m
    DIR/runs/<as_of>/           one folder per run: findings.gpkg (+ layer changes), summary.json, summary.txt
    DIR/cases.gpkg              the case register (:mod:`analyses.register`)
    DIR/photos/<case_id>/       verification photos copied from the field
    DIR/.landguard.lock         present while a check or verify updates the project

A run is written into a private temporary folder and renamed into ``runs/<as_of>`` at the end, then the
register is replaced whole: a run killed at any point leaves the previous run folders and the previous
register (or, killed between the two renames, a complete run folder that the next command merges into the
register first). Only one command updates a project at a time (:func:`project_lock`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from analyses.register import (FIELD_VERDICTS, PHOTO_FLAG_EARLY, PHOTO_FLAG_FAR, PHOTO_FLAG_NOGPS,
                               Verdict, apply_verdicts, merge_run, read_register, validate_register, write_register)
from spatial.atomic import atomic_path, remove_stale_temporaries
from spatial.errors import LayerError, OutputError

__all__ = ["Project", "project_lock", "check_project", "verify_project", "VerifyReport", "PROJECT_MARK_URI",
           "stamp_project", "RUN_NAME", "LOCK_NAME", "register_for_ledger"]

#: ``gpkg_metadata`` URI of the row naming the project a field file was exported from.
PROJECT_MARK_URI = "urn:landguard:project"
#: A run folder's name: the run date, or the run date and a number.
RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-(\d+))?$")
LOCK_NAME = ".landguard.lock"
_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
_FIELD_ALIASES = {"核查结论": "verified", "核查说明": "remark", "核查人": "verified_by", "核查日期": "verified_on",
                  "照片": "photo", "note": "remark"}
_PHOTO_SPLIT = re.compile(r"[;\n|]+")
_SAFE = re.compile(r"[^0-9A-Za-z_.\-\u4e00-\u9fff]")
_MAX_ZIP_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class Project:
    """A project folder.

    Examples
    --------
    >>> p = Project(Path("demo"))
    >>> p.register.name, p.run_folder(dt.date(2026, 11, 22)).as_posix()
    ('cases.gpkg', 'demo/runs/2026-11-22')
    """

    root: Path

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def register(self) -> Path:
        return self.root / "cases.gpkg"

    @property
    def photos_dir(self) -> Path:
        return self.root / "photos"

    @property
    def meta_path(self) -> Path:
        return self.root / "project.json"

    def run_folder(self, as_of: dt.date) -> Path:
        return self.runs_dir / as_of.isoformat()

    def runs(self) -> list[tuple[str, Path]]:
        """Complete runs, oldest first: (date, folder) for every ``runs/<date>`` holding findings.gpkg."""
        if not self.runs_dir.is_dir():
            return []
        out = []
        for p in self.runs_dir.iterdir():
            m = RUN_NAME.match(p.name)
            if m and p.is_dir() and (p / "findings.gpkg").is_file():
                out.append((m.group(1), p))
        return sorted(out, key=lambda t: (t[0], t[1].name))

    def latest_run(self) -> Path:
        """The latest run's folder; a one-line error when the project has none."""
        runs = self.runs()
        if not runs:
            raise LayerError(f"--project {self.root}: 项目中还没有检查结果 (no run yet); "
                             f"run `landguard check --project {self.root}` first")
        return runs[-1][1]

    def meta(self) -> dict:
        if not self.meta_path.is_file():
            return {}
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise LayerError(f"{self.meta_path}: 不是有效的 JSON (not valid JSON); restore it or delete it "
                             "(a new project id is then made and old field files are refused)") from None
        return data if isinstance(data, dict) else {}

    def ensure_meta(self, photo_max_distance_m: float | None = None) -> dict:
        data = self.meta()
        changed = False
        if not isinstance(data.get("id"), str):
            data["id"], changed = secrets.token_hex(8), True
        if photo_max_distance_m is not None and data.get("photo_max_distance_m") != photo_max_distance_m:
            data["photo_max_distance_m"], changed = float(photo_max_distance_m), True
        if changed:
            with atomic_path(self.meta_path) as tmp:
                tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return data


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def project_lock(root: Path, what: str) -> Iterator[None]:
    """Hold ``DIR/.landguard.lock`` while ``what`` updates the project; a second command is refused in one line.

    A lock left by a killed process (its pid no longer runs on this host) is taken over.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> with project_lock(d, "check"):
    ...     (d / LOCK_NAME).exists()
    True
    """
    root.mkdir(parents=True, exist_ok=True)
    lock = root / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                host, pid, other = lock.read_text(encoding="utf-8").split(" ", 2)
                pid_i = int(pid)
            except (OSError, ValueError):  # empty or unreadable: just created by another command, or left broken
                host, pid_i, other = _HOST, -1, "?"
                with contextlib.suppress(OSError):
                    if time.time() - lock.stat().st_mtime < 10:
                        pid_i = 0  # being written this instant: held
            if (host == _HOST and pid_i > 0 and not _alive(pid_i)) or pid_i == -1:
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            raise OutputError(f"{root}: 另一个 landguard {other.strip()} 正在更新此项目（进程 {pid_i}）"
                              f"(another landguard command is updating this project); 请等它结束后再运行 {what} "
                              f"(wait for it to finish; if none runs, delete {lock})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{_HOST} {os.getpid()} {what}")
        break
    try:
        # what a killed check or verify left (a temporary run folder, register, photo): removed, never merged
        for folder in (root, root / "runs"):
            remove_stale_temporaries(folder)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _catch_up(project: Project, reg):
    """Merge complete runs the register has not seen yet (a check killed between its two renames)."""
    last = None if reg is None or reg.empty else str(reg["last_run"].dropna().max())
    from analyses.compare import read_findings

    for date, folder in project.runs():
        if last is None or date > last:
            reg = merge_run(reg, read_findings(folder), dt.date.fromisoformat(date), previous_run=last)
            last = date
    return reg


def check_project(project_dir, data=None, config=None, *, as_of: dt.date | None = None, overwrite: bool = False,
                  sink: str | None = None, **kwargs):
    """``landguard check --project DIR``: run into ``DIR/runs/<as_of>``, compare, update ``DIR/cases.gpkg``.

    Parameters
    ----------
    project_dir : path-like
        The project folder (created when missing).
    data, config, as_of, **kwargs
        As :func:`landguard.pipeline.check` (``rules``, ``progress``, ``jobs``, ``scheduler``, ``fail_fast``).
    overwrite : bool
        Replace a run of the same date (refused otherwise).
    sink : str, optional
        ``postgresql://…?table=findings``: the run's findings, its ``changes`` and the register (table
        ``<table>_cases``) are also written there, in one transaction, before the run folder and the register
        are renamed into place (a failure there leaves the project as it was).

    Returns
    -------
    tuple
        (:class:`landguard.pipeline.CheckResult`, the register after the run).

    Examples
    --------
    >>> # result, register = check_project("runs/平谷2026", config="landguard.toml", as_of=dt.date(2026, 11, 22))
    """
    from layers.config import config_for_data

    from .pipeline import check

    project = Project(Path(project_dir))
    if sink is not None:
        from .sinks import check_postgis_target

        check_postgis_target(sink)  # reachable, PostGIS, tables ours: before the work, not after
    cfg = config_for_data(data, config)
    run_date = as_of or cfg.project.as_of or dt.date.today()
    with project_lock(project.root, "check"):
        if project.root.exists() and not project.root.is_dir():
            raise OutputError(f"--project {project.root}: is a file, not a folder")
        reg = read_register(project.register)  # a register edited into an invalid state stops us here
        reg = _catch_up(project, reg)
        target = project.run_folder(run_date)
        if target.exists() and not overwrite:
            raise OutputError(f"--project {project.root}: {target.name} 的检查已存在 (a run of {target.name} exists); "
                              "add --overwrite to replace it, or give another --as-of")
        earlier = [(d, p) for d, p in project.runs() if d < run_date.isoformat()]
        if reg is not None and len(reg) and str(reg["last_run"].max()) > run_date.isoformat():
            raise OutputError(f"--project {project.root}: 已有 {reg['last_run'].max()} 的检查，不能追加更早的 "
                              f"{run_date.isoformat()} (runs are merged in date order); give a later --as-of")
        base = reg
        if target.exists() and (target / "cases_before.gpkg").is_file():
            base = _rebase(read_register(target / "cases_before.gpkg"), reg)
        elif target.exists():
            base = None if reg is None else reg[reg["first_seen"] < run_date.isoformat()]
        previous = earlier[-1] if earlier else None
        project.ensure_meta(cfg.project.photo_max_distance_m)
        with atomic_path(project.register) as reg_tmp:
            with atomic_path(target) as run_tmp:
                result = check(data, cfg, run_tmp, as_of=run_date, previous=previous[1] / "findings.gpkg"
                               if previous else None, overwrite=True, **kwargs)
                if base is not None:
                    write_register(base, run_tmp / "cases_before.gpkg")
                new_reg = merge_run(base, result.findings, result.district.as_of,
                                    previous_run=previous[0] if previous else None)
                write_register(new_reg, reg_tmp)
                if sink is not None:
                    from .pipeline import summary_text
                    from .sinks import write_findings_postgis

                    extra = {"changes": result.changes, "cases": new_reg}
                    result.tables = write_findings_postgis(
                        result.findings, sink, extra={k: v for k, v in extra.items() if v is not None},
                        summary=result.summary, summary_text=summary_text(result))
            result.paths = {k: target / Path(v).name for k, v in result.paths.items()}
    return result, new_reg


def _rebase(before, current):
    """The register as it was before a run being redone, with the verifications made since kept."""
    from analyses.register import VERIFY_COLUMNS

    if before is None or current is None:
        return before
    cur = current.set_index("case_id")
    out = before.copy()
    keep = out["case_id"].isin(cur.index).to_numpy()
    for c in VERIFY_COLUMNS:
        out.loc[keep, c] = cur.loc[out.loc[keep, "case_id"], c].to_numpy()
    return validate_register(out)


# -- verify ----------------------------------------------------------------------------------------------


def stamp_project(gpkg: str | os.PathLike, project_id: str) -> None:
    """Write the project's id into a field GeoPackage (a ``gpkg_metadata`` row), so ``verify`` knows its origin."""
    con = sqlite3.connect(gpkg)
    try:
        with con:
            con.execute("CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER PRIMARY KEY, md_scope TEXT NOT NULL "
                        "DEFAULT 'dataset', md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml', "
                        "metadata TEXT NOT NULL DEFAULT '')")
            con.execute("DELETE FROM gpkg_metadata WHERE md_standard_uri = ?", (PROJECT_MARK_URI,))
            con.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                        "VALUES ('dataset', ?, 'text/plain', ?)", (PROJECT_MARK_URI, project_id))
    finally:
        con.close()


def _project_of(gpkg: Path) -> str | None:
    try:
        con = sqlite3.connect(f"{gpkg.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? LIMIT 1",
                          (PROJECT_MARK_URI,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


@dataclass
class VerifyReport:
    """What ``verify --project`` did with one returned file."""

    source: str
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    blank: int = 0
    wrong_village: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)     # 'case: value' of verdicts outside the list
    stale: list[str] = field(default_factory=list)
    photos_copied: int = 0
    photo_problems: list[str] = field(default_factory=list)   # one line per photo not taken in
    flagged: list[str] = field(default_factory=list)          # 'case: file flag'

    def lines(self) -> list[str]:
        from layers.privacy import mask_ids_in_text

        out = [f"{self.source}：更新 {len(self.updated)} 条，未变化 {len(self.unchanged)} 条，照片 {self.photos_copied} 张 "
               f"(updated {len(self.updated)}, unchanged {len(self.unchanged)}, photos copied {self.photos_copied})"]
        for label, items in (("未知案件编号 (unknown case ids)", self.unknown),
                             ("结论互相矛盾，未采用 (conflicting answers, not applied)", self.conflicting),
                             ("行政村与案件库不符，未采用 (another village's row, not applied)", self.wrong_village),
                             ("核查结论不在 合法/违法/已整改/无法核实/误报 之中，未采用 (invalid verdict)", self.invalid),
                             ("核查日期早于案件库中的核查，未采用 (older than the register's verification)", self.stale),
                             ("照片未采用 (photos not taken in)", self.photo_problems),
                             ("照片存疑 (photos flagged)", self.flagged)):
            if items:
                out.append(f"  {label}：" + "，".join(items[:20]) + (f" …（共 {len(items)}）" if len(items) > 20 else ""))
        if self.blank:
            out.append(f"  空白行 {self.blank} 条（未填写核查结论与照片）(rows left blank)")
        return [mask_ids_in_text(line) for line in out]


def _safe_extract(zpath: Path, into: Path) -> Path:
    """Extract a returned zip, refusing members whose path leaves the folder, links and zip bombs."""
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerError(f"{zpath}: 不是可读的 zip 文件 (not a readable zip: {exc})") from None
    with zf:
        total = 0
        root = into.resolve()
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            dest = (root / name).resolve()
            if name.startswith("/") or (dest != root and root not in dest.parents):
                raise LayerError(f"{zpath}: 成员 {name!r} 的路径在压缩包之外 (a member path escapes the folder); "
                                 "refused, nothing was changed")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise LayerError(f"{zpath}: 成员 {name!r} 是符号链接 (a symbolic link); refused, nothing was changed")
            total += info.file_size
            if total > _MAX_ZIP_BYTES:
                raise LayerError(f"{zpath}: 解压后超过 4 GB (more than 4 GB unpacked); refused")
        zf.extractall(root)
    return into


def _returned_gpkgs(path: Path, scratch: Path) -> list[Path]:
    """The GeoPackages a returned file, folder or zip holds."""
    if path.is_file() and path.suffix.lower() == ".zip":
        path = _safe_extract(path, scratch / secrets.token_hex(4))
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.gpkg") if not p.name.startswith("."))
        if not found:
            raise LayerError(f"{path}: 没有 GeoPackage (no .gpkg in the returned folder); "
                             "give the folder or zip the field app sent back")
        return found
    return [path]


def _text(values: pd.Series) -> pd.Series:
    from layers.privacy import mask_ids_in_text

    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            return None
        if hasattr(v, "isoformat"):
            return v.isoformat()[:10]
        s = mask_ids_in_text(str(v)).strip()
        return s or None
    out = values.astype(object).map(one).astype(object)
    return out.where(out.notna(), None)


def _read_rows(gpkg: Path) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        layers = [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]
    except pyogrio.errors.DataSourceError:
        raise LayerError(f"{gpkg}: 不是可读的 GeoPackage (not a GeoPackage GDAL can open)") from None
    if "findings" not in layers:
        raise LayerError(f"{gpkg}: 没有图层 findings (no layer 'findings'; it has {', '.join(layers) or 'none'}); "
                         "give the GeoPackage written by `landguard export`")
    frame = pyogrio.read_dataframe(gpkg, layer="findings")
    frame = frame.rename(columns={k: v for k, v in _FIELD_ALIASES.items() if k in frame.columns and v not in frame.columns})
    if "case_id" not in frame.columns:
        raise LayerError(f"{gpkg}: 图层 findings 没有 case_id 列 (no column case_id)")
    return frame


def _photo_paths(value, base: Path) -> list[tuple[str, Path | None, str | None]]:
    """(as written, resolved path or None, problem) for each photo path of one row, relative to ``base``."""
    out = []
    if not isinstance(value, str):
        return out
    root = base.resolve()
    for raw in _PHOTO_SPLIT.split(value):
        raw = raw.strip()
        if not raw:
            continue
        rel = raw.replace("\\", "/")
        if rel.startswith("file://"):
            rel = rel[7:]
        p = Path(rel)
        if p.is_absolute() or re.match(r"^[A-Za-z]:", rel):
            out.append((raw, None, "绝对路径 (an absolute path; the field app writes paths relative to its project)"))
            continue
        full = (root / p).resolve()
        if full != root and root not in full.parents:
            out.append((raw, None, "路径在回传文件夹之外 (the path escapes the returned folder)"))
        elif not full.is_file():
            out.append((raw, None, "文件不存在 (no such file in the returned folder)"))
        else:
            out.append((raw, full, None))
    return out


def _copy_photo(src: Path, case_id: str, project: Project) -> Path:
    """Copy one photo into ``photos/<case_id>/`` (same content twice: one file); the path relative to DIR."""
    import hashlib

    folder = project.photos_dir / (_SAFE.sub("_", case_id)[:64] or "case")
    data = src.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:10]
    name = _SAFE.sub("_", src.name)[-80:] or f"photo-{digest}.jpg"
    dest = folder / name
    if dest.exists() and dest.read_bytes() != data:
        dest = folder / f"{Path(name).stem}-{digest}{Path(name).suffix}"
    if not dest.exists():
        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
    return dest.relative_to(project.root)


def verify_project(project_dir, returned, *, photo_max_distance_m: float | None = None) -> list[VerifyReport]:
    """``landguard verify --project DIR --in RETURNED``: verdicts and photos into the register.

    Each returned item is a GeoPackage, or the folder or zip a field app sent back (GeoPackage + photos).
    Rows are matched by ``case_id``; photo paths are relative to the GeoPackage's folder. The register is
    written once at the end, atomically, and only when something changed (a second run changes nothing).

    Examples
    --------
    >>> # verify_project("runs/平谷2026", ["returned/110117001001.zip"])
    """
    project = Project(Path(project_dir))
    reports: list[VerifyReport] = []
    with project_lock(project.root, "verify"):
        reg = read_register(project.register)
        if reg is None:
            raise LayerError(f"--project {project.root}: 没有案件库 cases.gpkg (no case register yet); "
                             f"run `landguard check --project {project.root}` first")
        reg = _catch_up(project, reg)
        meta = project.meta()
        limit = photo_max_distance_m or float(meta.get("photo_max_distance_m") or 100.0)
        known = pd.Series(np.arange(len(reg)), index=reg["case_id"].astype(str))
        verdicts: list[Verdict] = []
        with tempfile.TemporaryDirectory(prefix=".verify-", dir=project.root) as scratch:
            for item in returned:
                item = Path(item)
                for gpkg in _returned_gpkgs(item, Path(scratch)):
                    reports.append(_one_file(gpkg, item, project, reg, known, meta, limit, verdicts))
        seen: dict[str, Verdict] = {}
        conflicts = set()
        for v in verdicts:
            if v.case_id in seen:
                o = seen[v.case_id]
                if o.verified and v.verified and o.verified != v.verified:
                    conflicts.add(v.case_id)
                    continue
                for p, f, q in zip(v.photos, v.flags, v.points):
                    if p not in o.photos:
                        o.photos.append(p), o.flags.append(f), o.points.append(q)
                if v.verified_on and (o.verified_on is None or v.verified_on > o.verified_on):
                    o.verified_on = v.verified_on
                for a in ("verified", "verified_by", "note"):
                    setattr(o, a, getattr(o, a) or getattr(v, a))
            else:
                seen[v.case_id] = v
        if conflicts and reports:
            reports[-1].conflicting += sorted(conflicts)
        outcome = apply_verdicts(reg, [v for k, v in seen.items() if k not in conflicts])
        if reports:
            reports[-1].stale += outcome.stale
            for r in reports:
                r.updated = [c for c in outcome.updated if c in r.updated]
                r.unchanged = [c for c in r.unchanged if c not in outcome.updated]
        if outcome.changed or _catch_up_changed(reg, project):
            write_register(outcome.register, project.register)
    return reports


def _catch_up_changed(reg, project: Project) -> bool:
    stored = read_register(project.register)
    return stored is None or len(stored) != len(reg) or str(stored["last_run"].max()) != str(reg["last_run"].max())


def _one_file(gpkg: Path, item: Path, project: Project, reg, known: pd.Series, meta: dict, limit: float,
              verdicts: list[Verdict]) -> VerifyReport:
    from layers.privacy import mask_ids_in_text

    report = VerifyReport(mask_ids_in_text(gpkg.name if item.suffix.lower() != ".zip" else f"{item.name}/{gpkg.name}"))
    origin = _project_of(gpkg)
    if origin is not None and meta.get("id") and origin != meta["id"]:
        raise LayerError(f"{gpkg}: 该文件导出自另一个项目 (exported from another project, id {origin}; this project is "
                         f"{meta['id']}); give the file exported with `landguard export --project {project.root}`")
    frame = _read_rows(gpkg)
    ids = _text(frame["case_id"])
    cols = {c: (_text(frame[c]) if c in frame.columns else pd.Series(None, index=frame.index, dtype=object))
            for c in ("verified", "verified_by", "verified_on", "remark", "photo", "village_id")}
    blank = ids.isna() | (cols["verified"].isna() & cols["photo"].isna() & cols["remark"].isna())
    report.blank = int(blank.sum())
    rows = frame.index[~blank.to_numpy()]
    matched = ids[rows].isin(known.index)
    report.unknown = sorted(set(ids[rows][~matched.to_numpy()].astype(str)))
    if len(rows) and not matched.any():
        raise LayerError(f"{gpkg}: 没有一个案件编号属于此项目 (none of its {len(rows)} case ids is in {project.register}); "
                         "a file from another project? nothing was changed")
    reg_village = reg.set_index("case_id")["village_id"].astype(object)
    reg_first = reg.set_index("case_id")["first_seen"].astype(object)
    reg_geom = reg.set_index("case_id").geometry
    base = gpkg.parent
    for r in rows[matched.to_numpy()]:
        cid = str(ids[r])
        village = cols["village_id"][r]
        if village is not None and isinstance(reg_village.get(cid), str) and village != reg_village.get(cid):
            report.wrong_village.append(cid)
            continue
        verdict = cols["verified"][r]
        if verdict is not None and verdict not in FIELD_VERDICTS:
            report.invalid.append(f"{cid}: {verdict}")
            continue
        when = cols["verified_on"][r]
        if when is not None:
            try:
                when = dt.date.fromisoformat(when[:10]).isoformat()
            except ValueError:
                report.invalid.append(f"{cid}: 核查日期 {when}")
                continue
        photos, flags, points = [], [], []
        for raw, full, problem in _photo_paths(cols["photo"][r], base):
            if problem:
                report.photo_problems.append(f"{cid} {raw}: {problem}")
                continue
            from .photos import read_photo

            info = read_photo(full)
            if not info.is_image:
                report.photo_problems.append(f"{cid} {raw}: 不是图片 (not an image file)")
                continue
            rel = _copy_photo(full, cid, project)
            report.photos_copied += 1
            flag = _flag(info, reg_geom.get(cid), reg.crs, reg_first.get(cid), limit)
            if flag:
                report.flagged.append(f"{cid} {Path(raw).name}: {flag}")
            photos.append(rel.as_posix())
            flags.append(flag)
            points.append(info.as_text())
        report.unchanged.append(cid)
        report.updated.append(cid)
        verdicts.append(Verdict(cid, verdict, when, cols["verified_by"][r], cols["remark"][r], photos, flags, points))
    return report


def _flag(info, geom, crs, first_seen, limit: float) -> str:
    """'' or the photo's flags: 无定位 / 照片位置存疑 / 拍摄时间早于发现 (joined with '、')."""
    import shapely

    flags = []
    if not info.located:
        flags.append(PHOTO_FLAG_NOGPS)
    elif geom is not None and crs is not None:
        pt = gpd.GeoSeries([shapely.Point(info.lon, info.lat)], crs=4326).to_crs(crs).iloc[0]
        if float(shapely.distance(pt, geom)) > limit:
            flags.append(PHOTO_FLAG_FAR)
    if info.taken is not None and isinstance(first_seen, str) and info.taken.date().isoformat() < first_seen:
        flags.append(PHOTO_FLAG_EARLY)
    return "、".join(flags)


def register_for_ledger(project_dir, findings: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The register rows a ledger of the latest run lists: cases that run found or saw go, and every case still open.

    The register's columns are kept (``progress``, ``overdue``, ``first_seen``, ``photo_count``, ``photo_flags``
    …); the verification columns are also given under the ledger's names (``remark`` = ``note``, ``photo`` =
    ``photos``). Without a register, ``findings`` is returned unchanged.

    Examples
    --------
    >>> # frame = register_for_ledger("runs/平谷2026"); write_ledger(frame, "台账.xlsx")
    """
    project = Project(Path(project_dir))
    reg = read_register(project.register)
    if reg is None:
        if findings is None:
            raise LayerError(f"--project {project.root}: 没有案件库 cases.gpkg (no case register yet)")
        return findings
    from analyses.register import PROGRESS_OPEN, PROGRESS_WORKING

    keep = reg["change"].notna() | reg["progress"].isin([PROGRESS_OPEN, PROGRESS_WORKING])
    out = reg[keep.to_numpy()].copy()
    out["remark"] = out["note"]
    out["photo"] = out["photos"]
    return out.reset_index(drop=True)
