"""Writing findings to PostGIS: ``check --out postgresql://user@host:port/db?table=findings``.

The table (default ``findings``; ``?table=schema.name`` to choose) has the columns of the findings
contract (``spec/LAYERS.md``) and a ``geometry`` column in the working CRS, with a GiST index. It is created
when missing; a run replaces its whole contents in one transaction, so readers see the previous run until
the new one is committed, and never half of one. Beside it, ``<table>_summary`` holds the run summary (one
row) and, with ``--previous``, ``<table>_changes`` the 新增 / 持续 / 已整改 marks; they are replaced in the
same transaction. A table that exists but was not made by landguard is refused unless ``overwrite``.
Everything written is masked first (:mod:`layers.privacy`): no ID number in clear in any column or in the summary.

Uses psycopg 3, imported here only.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyses.findings import FINDING_COLUMNS
from layers.postgis import safe_url, split_url
from layers.privacy import mask_frame, mask_ids_in_data, mask_ids_in_text
from spatial.errors import OutputError

__all__ = ["write_findings_postgis", "check_postgis_target", "TABLE_COMMENT"]

#: Comment landguard puts on every table it creates (a table without it is not replaced without overwrite).
TABLE_COMMENT = "landguard findings"
_FLOAT = {"measured", "limit", "area_m2", "area_mu"}


def _connect(url: str):
    try:
        import psycopg
    except ImportError:
        raise OutputError(f"--out {safe_url(url)}: writing to PostGIS needs psycopg; "
                          "pip install 'psycopg[binary]' (or landguard[postgis])") from None
    conninfo, own = split_url(url)
    try:
        conn = psycopg.connect(conninfo, connect_timeout=15)
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OutputError(f"--out {safe_url(url)}: cannot connect to PostgreSQL ({text})") from None
    return conn, own.get("table") or "findings"


def _ident(name: str):
    from psycopg import sql

    return sql.Identifier(*name.split(".", 1)) if "." in name else sql.Identifier(name)


def _comment(conn, table: str) -> tuple[bool, str | None]:
    """(exists, comment) of a table."""
    oid = conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()[0]
    if oid is None:
        return False, None
    return True, conn.execute("SELECT obj_description(%s, 'pg_class')", (oid,)).fetchone()[0]


def check_postgis_target(url: str, *, overwrite: bool = False) -> str:
    """Make sure a run may write to ``url`` (reachable, PostGIS installed, table ours or absent) before it starts.

    Returns
    -------
    str
        The findings table's name.

    Examples
    --------
    >>> # check_postgis_target("postgresql://gis@127.0.0.1:5432/land?table=findings")
    """
    conn, table = _connect(url)
    try:
        with conn:
            has_postgis = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if not has_postgis:
                raise OutputError(f"--out {safe_url(url)}: the database has no PostGIS; "
                                  "run CREATE EXTENSION postgis in it first")
            for name in (table, f"{table}_summary", f"{table}_changes"):
                exists, comment = _comment(conn, name)
                if exists and comment != TABLE_COMMENT and not overwrite:
                    raise OutputError(f"--out {safe_url(url)}: table {name} exists and was not made by landguard; "
                                      "choose another ?table= or add --overwrite")
    finally:
        conn.close()
    return table


def _create(conn, name: str, columns: list[tuple[str, str]], srid: int | None, overwrite: bool) -> None:
    from psycopg import sql

    exists, comment = _comment(conn, name)
    if exists and comment != TABLE_COMMENT:
        if not overwrite:
            raise OutputError(f"table {name} exists and was not made by landguard; choose another ?table= "
                              "or add --overwrite")
        conn.execute(sql.SQL("DROP TABLE {} CASCADE").format(_ident(name)))
        exists = False
    if exists:
        have = {r[0]: r[1] for r in conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped", (name,)).fetchall()}
        geom_ok = srid is None or have.get("geometry", "").endswith(f",{srid})")
        if [c for c, _ in columns if c not in have] or not geom_ok:
            # an older landguard layout or another working CRS: this run's table replaces it
            conn.execute(sql.SQL("DROP TABLE {} CASCADE").format(_ident(name)))
            exists = False
    if not exists:
        cols = [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns]
        if srid is not None:
            cols.append(sql.SQL("geometry geometry(Geometry, {})").format(sql.Literal(srid)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(name), sql.SQL(", ").join(cols)))
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(_ident(name), sql.Literal(TABLE_COMMENT)))
        base = name.split(".")[-1]
        if srid is not None:
            conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geometry)").format(
                sql.Identifier(f"{base}_geometry_gist"), _ident(name)))
        if "village_id" in dict(columns):
            conn.execute(sql.SQL("CREATE INDEX {} ON {} (village_id, rule_id)").format(
                sql.Identifier(f"{base}_village_rule"), _ident(name)))


def _copy_frame(conn, name: str, frame: gpd.GeoDataFrame | pd.DataFrame, columns: list[str], srid: int | None):
    from psycopg import sql

    conn.execute(sql.SQL("DELETE FROM {}").format(_ident(name)))
    if frame is None or len(frame) == 0:
        return
    values = []
    for c in columns:
        col = frame[c]
        if c in _FLOAT:
            arr = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            values.append([None if v != v else float(v) for v in arr])
        else:
            values.append([None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)
                           for v in col.astype(object)])
    names = list(columns)
    if srid is not None:
        geoms = shapely.set_srid(np.asarray(frame.geometry.to_numpy(), dtype=object), srid)
        values.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
        names.append("geometry")
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(_ident(name), sql.SQL(", ").join(map(sql.Identifier, names)))
    with conn.cursor().copy(stmt) as copy:
        for row in zip(*values):
            copy.write_row(row)


def write_findings_postgis(findings: gpd.GeoDataFrame, url: str, *, extra: dict[str, gpd.GeoDataFrame] | None = None,
                           summary: dict | None = None, summary_text: str | None = None,
                           overwrite: bool = False) -> dict[str, str]:
    """Replace the contents of a PostGIS findings table with this run's findings, in one transaction.

    Parameters
    ----------
    findings : GeoDataFrame
        The contract's columns, in the (metric) working CRS.
    url : str
        ``postgresql://user@host:port/db?table=findings`` (``table`` may be ``schema.name``; default
        ``findings``). Other query keys are passed to libpq (e.g. ``sslmode``, ``host=/run/postgresql``).
    extra : dict of str -> GeoDataFrame, optional
        More layers written as ``<table>_<name>`` (e.g. ``changes``), replaced in the same transaction.
    summary, summary_text : optional
        The run summary (``summary.json``'s data and ``summary.txt``'s text), stored as the single row of
        ``<table>_summary``.
    overwrite : bool
        Replace tables of those names even when landguard did not make them.

    Returns
    -------
    dict
        ``"findings"``, ``"summary"`` (and each extra name) -> the table written.

    Raises
    ------
    OutputError
        One line naming the URL (password hidden) and what to do; nothing is changed then.

    Examples
    --------
    >>> # write_findings_postgis(result.findings, "postgresql://gis@127.0.0.1:5432/land?table=pinggu.findings")
    """
    import psycopg

    srid = findings.crs.to_epsg() if findings.crs is not None else None
    if srid is None:
        raise OutputError(f"--out {safe_url(url)}: the findings' CRS has no EPSG code; set [project] working_crs "
                          "to an EPSG code")
    # ID numbers typed into any column, the summary's notes or its text never reach the database in clear
    findings = mask_frame(findings)
    extra = {k: (mask_frame(v) if v is not None else None) for k, v in (extra or {}).items()}
    summary = mask_ids_in_data(summary) if summary is not None else None
    summary_text = mask_ids_in_text(summary_text) if summary_text is not None else None
    conn, table = _connect(url)
    written: dict[str, str] = {}
    try:
        with conn.transaction():
            # one writer at a time; readers keep seeing the previous run until COMMIT
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"landguard:{table}",))
            layouts = {table: findings, **{f"{table}_{k}": v for k, v in (extra or {}).items() if v is not None}}
            for name, frame in layouts.items():
                cols = FINDING_COLUMNS if name == table else [c for c in frame.columns if c != frame.geometry.name]
                types = [(c, "double precision" if c in _FLOAT else "text") for c in cols]
                _create(conn, name, types, srid, overwrite)
                _copy_frame(conn, name, frame, cols, srid)
                written[name.removeprefix(f"{table}_") if name != table else "findings"] = name
            if summary is not None:
                name = f"{table}_summary"
                _create(conn, name, [("project", "text"), ("as_of", "date"), ("written_at", "timestamptz"),
                                     ("findings", "integer"), ("summary", "jsonb"), ("summary_text", "text")],
                        None, overwrite)
                from psycopg import sql

                conn.execute(sql.SQL("DELETE FROM {}").format(_ident(name)))
                conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(_ident(name)), (
                    summary.get("project"), summary.get("as_of"), dt.datetime.now(dt.timezone.utc),
                    int(len(findings)), json.dumps(summary, ensure_ascii=False, default=str), summary_text))
                written["summary"] = name
    except psycopg.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OutputError(f"--out {safe_url(url)}: writing table {table} failed, nothing was changed ({text})") from None
    except OutputError as exc:
        raise OutputError(f"--out {safe_url(url)}: {exc}") from None
    finally:
        conn.close()
    return written
