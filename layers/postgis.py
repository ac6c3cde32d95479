"""Reading a role from PostGIS: a ``postgresql://`` source in the configuration.

The source names a table (``table = "yjjbnt"``, or ``?table=`` in the URL, schema-qualified as
``"gis.yjjbnt"``) or a query (``sql = "SELECT ... FROM ..."``), and optionally the geometry column
(``geometry_column``, or ``?geometry_column=``; default: the table's only geometry column). The SRID is
read from the table (``geometry_columns`` / ``Find_SRID``) or, for a query, from the rows; the
configuration's ``crs`` is used only when the database says 0 (unknown). Rows come over as WKB (one
round trip, no ORM) and are then brought into the role's canonical columns like any file.

Uses psycopg 3 (``pip install "psycopg[binary]"``), imported here only.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.errors import CRSError, LayerError

from .config import LayerSource
from .roles import Role

__all__ = ["read_postgis", "split_url", "safe_url"]

#: Query keys of a ``postgresql://`` URL that are landguard's, not libpq's.
_OWN_KEYS = ("table", "sql", "geometry_column", "geom")


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages).

    Examples
    --------
    >>> safe_url("postgresql://gis:secret@db.local:5432/land?table=pbf")
    'postgresql://gis:***@db.local:5432/land?table=pbf'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """Split a source URL into the libpq connection URL and landguard's own keys (``table``, ``sql``, ...).

    Examples
    --------
    >>> split_url("postgresql://gis@127.0.0.1:5432/land?table=yjjbnt&sslmode=disable")
    ('postgresql://gis@127.0.0.1:5432/land?sslmode=disable', {'table': 'yjjbnt'})
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in _OWN_KEYS}
    rest = [(k, v) for k, v in query if k not in _OWN_KEYS]
    return urlunsplit(parts._replace(query=urlencode(rest))), own


def _ident(name: str):
    """A possibly schema-qualified identifier."""
    from psycopg import sql

    return sql.Identifier(*name.split(".", 1)) if "." in name else sql.Identifier(name)


def _table_parts(name: str) -> tuple[str | None, str]:
    return tuple(name.split(".", 1)) if "." in name else (None, name)  # type: ignore[return-value]


def _geometry_column_of_table(conn, table: str, wanted: str | None, where: str) -> tuple[str, int]:
    schema, name = _table_parts(table)
    rows = conn.execute(
        "SELECT f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_name = %s AND (%s::text IS NULL AND f_table_schema = ANY (current_schemas(false)) "
        "OR f_table_schema = %s) ORDER BY f_geometry_column", (name, schema, schema)).fetchall()
    if not rows:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
        if not exists:
            raise LayerError(f"{where}: table {table!r} does not exist (or is not visible to this user)")
        raise LayerError(f"{where}: table {table!r} has no geometry column")
    if wanted:
        match = [r for r in rows if r[0] == wanted]
        if not match:
            raise LayerError(f"{where}: table {table!r} has no geometry column {wanted!r}; "
                             f"its geometry columns are: {', '.join(r[0] for r in rows)}")
        return match[0][0], int(match[0][1] or 0)
    if len(rows) > 1:
        raise LayerError(f"{where}: table {table!r} has geometry columns {', '.join(r[0] for r in rows)}; "
                         "set geometry_column")
    return rows[0][0], int(rows[0][1] or 0)


def _geometry_column_of_query(conn, query, wanted: str | None, where: str) -> str:
    from psycopg import sql

    cur = conn.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(query))
    names = [d.name for d in cur.description]
    if wanted:
        if wanted not in names:
            raise LayerError(f"{where}: the query has no column {wanted!r}; its columns are: {', '.join(names)}")
        return wanted
    geo_oids = {r[0] for r in conn.execute("SELECT oid FROM pg_type WHERE typname = 'geometry'").fetchall()}
    geo = [d.name for d in cur.description if d.type_code in geo_oids]
    if len(geo) != 1:
        raise LayerError(f"{where}: the query returns {len(geo) or 'no'} geometry columns; set geometry_column")
    return geo[0]


def read_postgis(src: LayerSource, role: Role) -> gpd.GeoDataFrame:
    """Read one role's rows from a PostGIS table or query.

    Parameters
    ----------
    src : LayerSource
        ``path`` is a ``postgresql://`` URL; ``table`` or ``sql`` (or ``?table=`` / ``?sql=`` in the URL)
        names the rows; ``geometry_column`` optionally names the geometry; ``crs`` is assumed only where
        the database records SRID 0.
    role : Role
        The role being read (for messages).

    Returns
    -------
    GeoDataFrame
        The source's columns as they are (canonical names come later, from :func:`layers.readers.canonical_frame`),
        geometry from WKB, CRS from the SRID.

    Raises
    ------
    LayerError, CRSError
        One line naming the role, the URL (password hidden) and the table, column or query at fault.

    Examples
    --------
    >>> src = LayerSource(path="postgresql://gis@127.0.0.1:5432/land", table="yjjbnt")
    >>> # frame = read_postgis(src, ROLES["pbf"])
    """
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise LayerError(f"{role.name} ({safe_url(src.path)}): reading PostGIS needs psycopg; "
                         "pip install 'psycopg[binary]' (or landguard[postgis])") from None
    conninfo, own = split_url(src.path)
    table = src.table or own.get("table")
    query_text = src.sql or own.get("sql")
    wanted_geom = src.geometry_column or own.get("geometry_column") or own.get("geom")
    where = f"{role.name} ({safe_url(src.path)}{'' if not table else ' table ' + table})"
    if bool(table) == bool(query_text):
        raise LayerError(f"{where}: give either table or sql for a PostGIS source "
                         f"([layers.{role.name}] table = \"...\" or ?table=... in the URL)")
    try:
        conn = psycopg.connect(conninfo, connect_timeout=15)
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerError(f"{where}: cannot connect to PostgreSQL ({text})") from None
    try:
        with conn:
            conn.read_only = True
            try:
                if table:
                    geom, srid = _geometry_column_of_table(conn, table, wanted_geom, where)
                    source = sql.SQL("SELECT * FROM {}").format(_ident(table))
                else:
                    source = sql.SQL(query_text.strip().rstrip(";"))
                    geom = _geometry_column_of_query(conn, source, wanted_geom, where)
                    srid = 0
                if srid == 0:
                    found = conn.execute(sql.SQL(
                        "SELECT DISTINCT ST_SRID({g}) FROM ({s}) AS q WHERE {g} IS NOT NULL LIMIT 2").format(
                        g=sql.Identifier(geom), s=source)).fetchall()
                    if len(found) > 1:
                        raise CRSError(f"{where}: geometry column {geom!r} mixes SRIDs {found[0][0]} and "
                                       f"{found[1][0]}; select one SRID (ST_Transform) in sql")
                    srid = int(found[0][0]) if found else 0
                cur = conn.cursor(binary=True)
                cur.execute(sql.SQL("SELECT q.*, ST_AsBinary({g}) AS __landguard_wkb FROM ({s}) AS q").format(
                    g=sql.Identifier(geom), s=source))
                names = [d.name for d in cur.description]
                rows = cur.fetchall()
            except psycopg.Error as exc:
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise LayerError(f"{where}: the query failed ({text})") from None
    finally:
        conn.close()
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    wkb = np.asarray(columns[-1], dtype=object)
    geoms = shapely.from_wkb(np.array([bytes(b) if b is not None else None for b in wkb], dtype=object))
    data = {n: pd.Series(list(c), dtype=object) for n, c in zip(names[:-1], columns[:-1]) if n != geom}
    if srid:
        crs = f"EPSG:{srid}"
    elif src.crs:
        crs = src.crs
    else:
        raise CRSError(f"{where}: geometry column {geom!r} has SRID 0 (unknown); set its SRID in the database "
                       f"(UpdateGeometrySRID) or [layers.{role.name}] crs = \"EPSG:....\"")
    try:
        return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)
    except Exception as exc:
        raise CRSError(f"{where}: SRID {srid} is not a CRS pyproj knows ({exc}); "
                       f"set [layers.{role.name}] crs") from None
