"""Atomic output: write to a private temporary name beside the target, then move it into place.

Temporary names carry the writing process's id and a random token
(``.<stem>.<host>-<pid>-<token>.tmp<suffix>``), so two runs writing into the same folder never touch
each other's temporaries; a temporary whose owning process is dead (a run killed with ``kill -9``) is
removed the next time landguard writes into that folder (:func:`remove_stale_temporaries`).

Every GeoPackage written through :func:`atomic_path` carries a marker (a row of the standard
``gpkg_metadata`` table, :data:`OUTPUT_MARK_URI`), so folder discovery never reads landguard's own
outputs back as input layers (:func:`is_landguard_output`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import sqlite3
from pathlib import Path
from typing import Iterator

from .errors import OutputError

__all__ = ["atomic_path", "remove_stale_temporaries", "is_landguard_output", "mark_landguard_output",
           "OUTPUT_MARK_URI"]

#: ``md_standard_uri`` of the ``gpkg_metadata`` row that marks a GeoPackage written by landguard.
OUTPUT_MARK_URI = "urn:landguard:output"

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
_STEM_CHARS = 32   # a long (Chinese) target name must not make its temporary's name too long
_TEMP = re.compile(r"^\.(?P<stem>.*)\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-[0-9a-f]+\.tmp(?P<suffix>.*)$")
_cleaned: set[Path] = set()   # folders this process already swept for dead runs' temporaries


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (never signals it)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of dead landguard processes from ``folder``; return what was removed.

    Only names made by :func:`atomic_path` on this machine whose owning process no longer runs are
    removed: a run still writing keeps its files, whoever starts next.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> dead = d / f".findings.{_HOST}-999999999-ab12.tmp.gpkg"
    >>> mine = d / f".findings.{_HOST}-{os.getpid()}-cd34.tmp.gpkg"
    >>> _ = dead.write_text("half"), mine.write_text("being written")
    >>> [p.name == dead.name for p in remove_stale_temporaries(d)], mine.exists()
    ([True], True)
    """
    folder = Path(folder)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or m["host"] != _HOST or _alive(int(m["pid"])):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"{path}: cannot remove a killed run's temporary file ({exc.strerror or exc})") from None
        removed.append(path)
    with contextlib.suppress(OSError):
        _cleaned.add(folder.resolve())
    return removed


def mark_landguard_output(path: str | os.PathLike) -> None:
    """Mark the GeoPackage ``path`` as written by landguard (GeoPackage metadata extension, dataset scope).

    GDAL and QGIS read the row as dataset metadata and otherwise ignore it.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> p = Path(tempfile.mkdtemp()) / "x.gpkg"
    >>> gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(p, layer="findings")
    >>> is_landguard_output(p), mark_landguard_output(p), is_landguard_output(p)
    (False, None, True)
    """
    definition = "http://www.geopackage.org/spec120/#extension_metadata"
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous=OFF")  # called on atomic_path's temporary, renamed once complete
        with con:
            con.executescript("""
                CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
                    extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
                    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
                CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
                    md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
                    mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
                CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL,
                    table_name TEXT, column_name TEXT, row_id_value INTEGER,
                    timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                    md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
                    CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
                    CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
            """)
            for table in ("gpkg_metadata", "gpkg_metadata_reference"):  # NULL columns defeat UNIQUE: look first
                query = "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_metadata'"
                if not con.execute(query, (table,)).fetchone():
                    con.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                                (table, definition))
            if con.execute("SELECT 1 FROM gpkg_metadata WHERE md_standard_uri = ?", (OUTPUT_MARK_URI,)).fetchone():
                return
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES ('dataset', ?, 'text/plain', ?)",
                (OUTPUT_MARK_URI, "landguard 输出文件，不作为输入图层读取 (written by landguard; never read as input)"))
            con.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, "
                        "md_file_id, md_parent_id) VALUES ('geopackage', NULL, NULL, NULL, ?, NULL)", (cur.lastrowid,))
    except sqlite3.Error as exc:
        raise OutputError(f"{path}: cannot mark the GeoPackage as a landguard output ({exc})") from None
    finally:
        con.close()


def is_landguard_output(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a GeoPackage landguard wrote (it carries :data:`OUTPUT_MARK_URI`).

    Anything that is not a readable SQLite file, or has no ``gpkg_metadata`` table, is not.

    Examples
    --------
    >>> is_landguard_output("no/such/file.gpkg")
    False
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = con.execute("SELECT 1 FROM gpkg_metadata WHERE md_standard_uri = ? LIMIT 1", (OUTPUT_MARK_URI,)).fetchone()
    except sqlite3.Error:  # no such table, not a database, locked ...
        return False
    finally:
        con.close()
    return row is not None


def _cannot_write(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"{target}: 无法写入（{exc.strerror or exc}）(cannot write); "
                       "请确认文件夹可写、文件未被其他程序打开、磁盘未满 "
                       "(is the folder writable, the file open in another program, or the disk full?)")


def _cannot_create(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"{target}: 无法创建文件夹 {target.parent}（{exc.strerror or exc}）(cannot create its folder); "
                       "请换一个可写的位置 (choose a writable place)")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a private temporary path beside ``target``; on success it replaces ``target`` in one rename.

    An interrupted or failed write leaves the previous ``target`` (or none) and no half file; a failure
    of the file system (a folder that cannot be created or written, a full disk) is raised as a one-line
    :class:`~spatial.errors.OutputError` naming ``target``. The first write into a folder removes the
    temporaries of dead runs there; a GeoPackage is marked as a landguard output before it is moved in.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('done', ['a.txt'])
    """
    target = Path(target)
    tmp = target.parent / f".{target.stem[:_STEM_CHARS]}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp{target.suffix}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_create(target, exc) from None
    if target.parent.resolve() not in _cleaned:
        remove_stale_temporaries(target.parent)
    try:
        yield tmp  # writers such as GDAL want to create the file themselves
        if target.suffix.lower() == ".gpkg" and tmp.is_file():
            mark_landguard_output(tmp)
        if tmp.is_dir():
            if target.exists():
                shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _cannot_write(target, exc) from None
        raise
