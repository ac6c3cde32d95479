"""Field exports, one set per village: RFC 7946 GeoJSON, a GeoPackage for QField / Mergin Maps, KML.

Everything that leaves here is masked (:func:`layers.privacy.mask_frame`): no owner ID number in
clear, owner names reduced to the family name unless asked otherwise. Every file is written under a
temporary name in its folder and renamed into place once complete, so a crash never leaves half a
file where the field team would pick it up.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import math
import operator
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from analyses.ledger import COLUMN_LABELS, SEVERITY_LABELS, STATUS_LABELS, VERDICTS, VERIFICATION_COLUMNS
from layers.privacy import mask_frame, mask_ids_in_text
from spatial.atomic import atomic_path, mark_landguard_output
from spatial.clean import GPKG_DATASET_OPTIONS, GRID_M, MARKER_M, clean_polygons
from spatial.errors import CRSError, LayerError, OutputError

from .filenames import file_stem, path_in
from .qgis_style import write_layer_styles
from .style import FAMILY_COLOURS, FAMILY_LABELS, SEVERITY_WEIGHTS

__all__ = ["GEOJSON_PROPERTIES", "FAMILY_COLOURS", "GRIDS_FOLDER", "export_geojson", "export_gpkg", "export_kml",
           "export_village", "export_grids", "grid_stems", "chosen_grids", "grids_of", "FieldBatch"]

#: The properties a field app shows, in order (GeoJSON properties, KML description).
GEOJSON_PROPERTIES: list[str] = ["case_id", "rule_name", "severity", "measured", "limit", "unit",
                                 "area_m2", "area_mu", "subject_id", "basis", "status", "message",
                                 "remedy", "lead_unit", "deadline", "grid_id"]


_DECIMALS = 7  # RFC 7946 §11.2: about 1 cm
_ROUND = {"area_m2": 2, "area_mu": 4, "measured": 3, "limit": 3}
_KML_NS = "http://www.opengis.net/kml/2.2"
_KML_FIELDS = [c for c in GEOJSON_PROPERTIES if c != "message"]  # the message is the description


# -- shared helpers --------------------------------------------------------------------------------




def _checked(findings: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    if not isinstance(findings, gpd.GeoDataFrame) or findings.crs is None:
        raise CRSError("findings: no CRS; give findings as written by `landguard check` (working CRS)")
    missing = [c for c in columns if c not in findings.columns]
    if missing:
        raise LayerError(f"findings: no column(s) {', '.join(missing)}; give findings written by `landguard check`")
    return findings


def _wgs84(geoms: gpd.GeoSeries) -> np.ndarray:
    """Lon/lat MultiPolygons on the 7-decimal grid, valid after that rounding (no duplicate nodes, no
    zero-area part: :func:`spatial.clean.clean_polygons`), exteriors counter-clockwise, holes clockwise."""
    lonlat = np.asarray(geoms.to_crs(4326).values) if len(geoms) else np.array([], dtype=object)
    snapped = clean_polygons(lonlat, grid=10.0 ** -_DECIMALS, marker=None)
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, _DECIMALS))  # exact decimals, same grid points
    oriented = shapely.orient_polygons(rounded, exterior_cw=False)
    return np.where(shapely.is_empty(oriented) | shapely.is_missing(oriented), None, oriented)


def _display(findings: pd.DataFrame) -> pd.DataFrame:
    """The field app's properties: Chinese severity/status, rounded figures, None for missing."""
    out = pd.DataFrame({c: findings[c].astype(object) for c in GEOJSON_PROPERTIES}, index=findings.index)
    for col, labels in (("severity", SEVERITY_LABELS), ("status", STATUS_LABELS)):
        out[col] = pd.Series([labels.get(v, v) if isinstance(v, str) else None for v in out[col]],
                             index=out.index, dtype=object)
    for col, digits in _ROUND.items():
        out[col] = pd.to_numeric(findings[col], errors="coerce").astype(float).round(digits).astype(object)
    return out.where(out.notna(), None)


# -- GeoJSON ---------------------------------------------------------------------------------------


def export_geojson(findings: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write findings as an RFC 7946 GeoJSON FeatureCollection.

    WGS84 longitude/latitude with 7 decimals, right-hand-rule rings (exteriors counter-clockwise),
    no ``crs`` member, UTF-8 with Chinese text as is. Properties are :data:`GEOJSON_PROPERTIES`
    only (severity and status in Chinese), masked; each feature's ``id`` is its case id.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.geojson`` to write (replaced atomically).

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_geojson(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.geojson")
    >>> doc = json.loads(out.read_text(encoding="utf-8"))
    >>> doc["features"][0]["properties"]["rule_name"], "crs" in doc
    ('乱占耕地建房', False)
    """
    path = Path(path)
    findings = _checked(findings, GEOJSON_PROPERTIES)
    return _write_geojson(path, _display(mask_frame(findings[GEOJSON_PROPERTIES])), _wgs84(findings.geometry))


def _write_geojson(path: Path, props: pd.DataFrame, geoms: np.ndarray) -> Path:
    """The GeoJSON of already masked, displayed properties (:func:`_display`) and WGS84 geometries."""
    return _write_geojson_features(path, _geojson_features(props, geoms))


_JSON_SCALARS = {str, type(None), float, int, bool}


def _json_column(values: np.ndarray) -> list[str] | None:
    """Each value as ``json.dumps(v, ensure_ascii=False, allow_nan=False)`` writes it, or None when the column
    holds something else than text, numbers, booleans and None (or a float JSON refuses)."""
    kinds = set(map(type, values))
    if kinds - _JSON_SCALARS:
        return None
    out = np.full(len(values), "null", dtype=object)
    for kind, text in ((str, json.encoder.encode_basestring), (float, float.__repr__), (int, int.__repr__)):
        if kind in kinds:
            at = np.flatnonzero(np.fromiter(map(type, values), dtype=object, count=len(values)) == kind)
            if kind is float and not np.isfinite(values[at].astype(np.float64)).all():
                return None  # json refuses it (allow_nan=False): the rows are written one by one, and fail so
            out[at] = _objects(list(map(text, values[at])))
    if bool in kinds:
        at = np.flatnonzero(np.fromiter(map(type, values), dtype=object, count=len(values)) == bool)
        out[at] = np.where(values[at].astype(bool), "true", "false")
    return out.tolist()


def _geojson_features(props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Each row's GeoJSON Feature (text), from masked, displayed properties and WGS84 geometries: column by
    column, the same text as :func:`_geojson_features_rows` (json.dumps of each row's properties).

    Examples
    --------
    >>> p = pd.DataFrame({c: pd.Series(["x<y", None], dtype=object) for c in GEOJSON_PROPERTIES})
    >>> g = np.array([shapely.box(0, 0, 1, 1), None], dtype=object)
    >>> _geojson_features(p, g) == _geojson_features_rows(p, g)
    True
    """
    geojson = shapely.to_geojson(geoms).tolist() if len(geoms) else []
    columns = []
    for c in props.columns:
        values = _json_column(props[c].to_numpy(dtype=object))
        if values is None or not isinstance(c, str):
            return _geojson_features_rows(props, geoms)
        columns += [itertools.repeat(("{" if not columns else ",") + json.encoder.encode_basestring(c) + ":"), values]
    if "case_id" not in props.columns:
        return _geojson_features_rows(props, geoms)
    ids = _json_column(props["case_id"].to_numpy(dtype=object))
    parts = (itertools.repeat('{"type":"Feature","id":'), ids, itertools.repeat(',"geometry":'),
             ["null" if g is None else g for g in geojson] if None in geojson else geojson,
             itertools.repeat(',"properties":'), *(columns or [itertools.repeat("{")]), itertools.repeat("}}"))
    return list(map("".join, zip(*parts)))


def _geojson_features_rows(props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Each row's GeoJSON Feature (text), row by row; see :func:`_geojson_features`."""
    geojson = shapely.to_geojson(geoms) if len(geoms) else []
    return [
        '{"type":"Feature","id":%s,"geometry":%s,"properties":%s}' % (
            json.dumps(p["case_id"], ensure_ascii=False), g if g is not None else "null",
            json.dumps(p, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
        for p, g in zip(props.to_dict("records"), geojson)
    ]


def _write_geojson_features(path: Path, features: list[str]) -> Path:
    """The FeatureCollection of ``features`` (:func:`_geojson_features`), replaced atomically."""
    body = "[\n" + ",\n".join(features) + "\n]" if features else "[]"
    text = '{"type":"FeatureCollection","features":' + body + "}\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# -- GeoPackage ------------------------------------------------------------------------------------


def _target_crs(findings: gpd.GeoDataFrame, crs: str):
    if crs == "wgs84":
        return "EPSG:4326"
    if crs == "working":
        return findings.crs
    raise CRSError(f"export crs {crs!r}: use 'wgs84' (phones, QField) or 'working' (the working CRS of the run)")


def _describe_gpkg(path: Path, layer: str) -> None:
    """Chinese aliases for the findings columns and a value list for ``verified`` (GeoPackage schema
    extension: GDAL reads them as field aliases and a coded field domain, QGIS/QField as a drop-down)."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous=OFF")  # a temporary file, renamed into place once complete
        with con:
            con.executescript("""
                CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
                    extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
                    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
                CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
                    name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,
                    CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
                    CONSTRAINT gdc_tn UNIQUE (table_name, name));
                CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
                    constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,
                    max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
                    CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
            """)
            definition = "http://www.geopackage.org/spec/#extension_schema"
            for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
                query = "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_schema'"
                if not con.execute(query, (table,)).fetchone():
                    con.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
                                (table, definition))
            con.executemany("INSERT OR REPLACE INTO gpkg_data_column_constraints VALUES "
                            "('verified_values', 'enum', ?, NULL, NULL, NULL, NULL, ?)", [(v, v) for v in VERDICTS])
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')]
            con.executemany(
                "INSERT OR REPLACE INTO gpkg_data_columns VALUES (?, ?, ?, ?, NULL, ?, ?)",
                [(layer, c, c, COLUMN_LABELS[c], "image/jpeg" if c == "photo" else None,
                  "verified_values" if c == "verified" else None)
                 for c in columns if c in COLUMN_LABELS])
    finally:
        con.close()


def export_gpkg(findings: gpd.GeoDataFrame, path: str | Path, *, parcels: gpd.GeoDataFrame | None = None,
                buildings: gpd.GeoDataFrame | None = None, crs: Literal["wgs84", "working"] = "wgs84",
                full_names: bool = False, grid: gpd.GeoDataFrame | None = None) -> Path:
    """Write a GeoPackage for QField / Mergin Maps: findings to verify, with parcels and buildings.

    Layer ``findings`` holds the findings' columns plus empty verification columns for the field
    team: ``verified`` (``违法`` / ``合法`` / ``无法核实``, offered as a value list), ``verified_by``,
    ``verified_on``, ``remark``, ``photo`` (a path). Layers ``parcels`` and ``buildings`` are
    written when given. Personal data is masked.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.gpkg`` to write (replaced atomically).
    parcels, buildings : GeoDataFrame, optional
        The village's parcels and buildings, any CRS.
    crs : {"wgs84", "working"}
        WGS84 lon/lat, or the findings' own (working) CRS.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    grid : GeoDataFrame, optional
        The 田长 grid the file is for (``field_grids`` rows), written as layer ``field_grid`` with the
        grid leader's name masked.

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_gpkg(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.gpkg")
    >>> list(pyogrio.read_dataframe(out, layer="findings").columns[-6:])
    ['verified', 'verified_by', 'verified_on', 'remark', 'photo', 'geometry']
    """
    path = Path(path)
    findings = _checked(findings, ["case_id"])
    target = _target_crs(findings, crs)
    out = mask_frame(findings, full_names=full_names).to_crs(target)
    out[out.geometry.name] = gpd.GeoSeries(_gpkg_geoms(out.geometry.values, crs), index=out.index, crs=out.crs)
    others = {}
    for name, frame in (("parcels", parcels), ("buildings", buildings), ("field_grid", grid)):
        if frame is not None:
            if frame.crs is None:
                raise CRSError(f"{name}: no CRS; give the district's {name} in its working CRS")
            # the grid leader is masked even with full_names (that keeps the owners' names only)
            others[name] = mask_frame(frame, full_names=full_names and name != "field_grid").to_crs(target)
    return _write_gpkg(path, out, others)


@contextmanager
def _no_fsync():
    """GDAL's SQLite writes without waiting for the disk (``OGR_SQLITE_SYNCHRONOUS=OFF``) while the block runs.

    The GeoPackage is a private temporary file renamed into place once complete (:func:`spatial.atomic.atomic_path`),
    so a crashed run still leaves no half file; waiting for the disk after every transaction was most of the
    time spent writing small GeoPackages.
    """
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})


def _gpkg_geoms(geoms, crs: str) -> np.ndarray:
    """The findings' geometries (already in the GeoPackage's CRS) cleaned for it: on the 1 mm grid in the
    working CRS, on a 1e-9° grid in lon/lat."""
    geoms = gpd.GeoSeries(geoms) if not isinstance(geoms, gpd.GeoSeries) else geoms
    working = crs == "working" and not getattr(geoms.crs, "is_geographic", False)
    return clean_polygons(np.asarray(geoms.values), grid=GRID_M if working else 1e-9,
                          marker=MARKER_M if working else None)


def _write_gpkg(path: Path, out, others, *, fast: bool = True, plans: dict[str, dict] | None = None) -> Path:
    """The GeoPackage of masked, reprojected, cleaned findings ``out`` and masked, reprojected ``others``
    (``parcels``, ``buildings``, ``field_grid``; a dict), with the verification columns, aliases and QGIS
    styles. ``out`` and ``others`` may be functions returning them, called only when needed.

    The file is a copy of a template made once per schema by GDAL (:func:`_gpkg_template`) with the rows
    inserted by SQLite (:func:`_fill_gpkg`), from ``plans`` (:func:`_gpkg_plans`, made here when not given);
    layers GDAL would write differently from that fast path (other column types, odd values, other
    geometries) are written by GDAL, as before (:func:`_gdal_gpkg`), and so is everything with ``fast=False``.

    Examples
    --------
    >>> import tempfile
    >>> f = gpd.GeoDataFrame({"case_id": ["C1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    >>> out = _write_gpkg(Path(tempfile.mkdtemp()) / "x.gpkg", f, {})
    >>> pyogrio.read_dataframe(out, layer="findings")["case_id"].tolist()
    ['C1']
    """
    layers: dict[str, gpd.GeoDataFrame] | None = None

    def frames() -> dict[str, gpd.GeoDataFrame]:
        nonlocal layers
        if layers is None:
            layers = _gpkg_layers(out() if callable(out) else out, others() if callable(others) else others)
        return layers

    with atomic_path(path) as tmp:
        if fast and plans is None:
            plans = _gpkg_plans(frames())
        template = _gpkg_template(path, frames, plans) if fast and plans is not None else None
        if template is not None:
            _fill_gpkg(tmp, path, template, plans)
        else:
            _gdal_gpkg(tmp, path, frames())
    return path


def _gpkg_layers(out: gpd.GeoDataFrame, others: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage's layers: findings with the (empty) verification columns last, then ``others``."""
    out = out.copy()
    geom = out.geometry.name
    columns = [c for c in out.columns if c != geom and c not in VERIFICATION_COLUMNS]
    for col in VERIFICATION_COLUMNS:
        out[col] = out[col].astype(object) if col in out.columns else pd.Series(None, index=out.index, dtype=object)
    return {"findings": out[[*columns, *VERIFICATION_COLUMNS, geom]], **others}


def _gdal_gpkg(tmp: Path, path: Path, layers: dict[str, gpd.GeoDataFrame],
               geometry_types: dict[str, str] | None = None) -> None:
    """The GeoPackage ``tmp`` (for ``path``) written by GDAL, layer by layer, with aliases and QGIS styles;
    ``geometry_types`` overrides the layers' geometry types (the template of empty layers)."""
    with _no_fsync():
        for i, (name, frame) in enumerate(layers.items()):
            kind = {"geometry_type": "MultiPolygon"} if name == "findings" else {"promote_to_multi": True}
            if geometry_types is not None:
                kind = {"geometry_type": geometry_types[name]}
            try:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", **kind,
                                        dataset_options=GPKG_DATASET_OPTIONS if i == 0 else None)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                raise OutputError(f"{path}: cannot write layer {name} ({exc})") from None
    _describe_gpkg(tmp, "findings")
    write_layer_styles(tmp)  # QGIS/QField default styles: map colours, Chinese aliases, the field form


# -- GeoPackage fast path: a template per schema, rows inserted by SQLite ---------------------------------
#
# GDAL spends ~12 ms creating each layer of a small GeoPackage (three per field file) and opens the file
# once per layer; the styles, aliases and marker are three more SQLite sessions. Per schema (layer names,
# columns, dtypes, geometry types, CRS) GDAL writes one template of empty layers, with the styles, aliases
# and marker, once per process; each file is then that template's bytes plus one SQLite transaction
# inserting the rows as GDAL stores them: the same column values (nulls for NaN / NaT, datetimes in GDAL's
# GeoPackage 1.2 text, booleans 0/1), the same GeoPackage geometry blobs (header with the srs_id and the
# xy envelope, little-endian WKB, singles promoted to multi as GDAL would), the same R-tree entries, layer
# extents and feature counts. Whatever the fast path does not reproduce exactly - a dtype or value it does
# not know, an empty, 3D or non-polygonal geometry, a column name GDAL would treat specially - goes through
# GDAL as before. tests/maps/test_gpkg_fast_export.py holds the two to each other, table by table.

_TEMPLATES: dict[tuple, "_Template | None"] = {}
_TEMPLATES_LOCK = threading.Lock()
_TEMPLATES_KEPT = 16
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
# column kinds of the fast path and the declared GeoPackage types GDAL gives them
_DECLARED = {"text": {"TEXT"}, "real": {"REAL", "FLOAT"}, "int": {"INTEGER", "MEDIUMINT", "SMALLINT", "TINYINT"},
             "bool": {"BOOLEAN"}, "datetime": {"DATETIME"}}
_GPKG_POLY, _GPKG_MULTI = 3, 6  # shapely type ids
_AS_TEXT = {str, type(None), float, bool, int}  # what an object column may hold for the fast path


class _Template:
    """A GeoPackage of empty layers written by GDAL (bytes) and what filling it needs per layer."""

    def __init__(self, data: bytes, tables: dict[str, dict]) -> None:
        self.data = data
        self.tables = tables


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_plan(col: pd.Series) -> tuple[str, list, str] | None:
    """``(kind, values, dtype)``: the column as GDAL stores it in a GeoPackage (Python values, None for null)
    and its dtype, or None when only GDAL itself would store it exactly (the file is then written by GDAL)."""
    out = _column_values(col)
    return None if out is None else (*out, str(col.dtype))


def _column_values(col: pd.Series) -> tuple[str, list] | None:
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype) or dtype == object:
        values = col.to_numpy(dtype=object)
        if set(map(type, values)) - _AS_TEXT:
            return None  # other objects (pd.NA, numpy scalars, dates ...): not reproduced
        missing = pd.isna(values)  # None and NaN: null, as pyogrio writes them
        out = values.copy()
        out[missing] = None
        texts = np.fromiter(map(isinstance, values, itertools.repeat(str)), dtype=bool, count=len(values))
        others = np.flatnonzero(~texts & ~missing)
        if len(others):  # pyogrio writes str() of a bool, int or float in a text column
            out[others] = np.array(list(map(str, values[others])) + [None], dtype=object)[:-1]
        joined = "\x01".join(out[~missing].tolist())
        if "\x00" in joined:
            return None  # GDAL cuts a text at its first NUL
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            return None  # GDAL's own error, as before
        return "text", out.tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        if not isinstance(col.array, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)):
            return None
        kind = dtype.kind
        mask = np.array(col.isna(), dtype=bool)  # a copy: pandas may give a read-only view
        if kind == "f":
            data = col.to_numpy(dtype=np.float64, na_value=np.nan)
            mask |= np.isnan(data)
            data = data.astype(object)
        elif kind in "iu" and dtype.numpy_dtype.itemsize <= (8 if kind == "i" else 4):
            data = col.to_numpy(dtype=np.int64, na_value=0).astype(object)
        elif kind == "b":
            data = col.to_numpy(dtype=np.int64, na_value=0).astype(object)
        else:
            return None
        data[mask] = None
        return {"f": "real", "b": "bool"}.get(kind, "int"), data.tolist()
    kind = dtype.kind
    values = col.to_numpy()
    if kind == "f" and dtype.itemsize in (4, 8):
        data = values.astype(np.float64).astype(object)
        data[np.isnan(values)] = None  # pyogrio's nan_as_null
        return "real", data.tolist()
    if (kind == "i" and dtype.itemsize <= 8) or (kind == "u" and dtype.itemsize <= 4):
        return "int", values.astype(np.int64).tolist()
    if kind == "b":
        return "bool", values.astype(np.int64).tolist()
    if kind == "M" and getattr(dtype, "tz", None) is None:
        nat = np.isnat(values)
        seconds = values[~nat].astype("datetime64[s]")
        if (seconds != values[~nat]).any():
            return None  # fractions of a second: GDAL's rounding not reproduced
        years = seconds.astype("datetime64[Y]").astype(np.int64) + 1970
        if len(years) and (years.min() < 1000 or years.max() > 9999):
            return None
        data = np.full(len(values), None, dtype=object)
        data[~nat] = np.char.add(np.datetime_as_string(seconds, unit="s"), ".000").astype(object)  # GeoPackage 1.2
        return "datetime", data.tolist()
    return None


class _LayerSource:
    """One layer's rows as GDAL would store them in a GeoPackage, converted once; :meth:`plan` takes some rows.

    A :class:`FieldBatch` converts each of its layers (masked, reprojected) once for all its villages;
    a lone frame is its own source (:func:`_gpkg_plans`). Conversion is value by value, so the plan of
    some rows is the rows of the plan; columns listed in ``again`` (whose values depend on the rows
    taken, see :class:`maps.premask.MaskedRows`) are converted from the rows' own frame instead.
    """

    def __init__(self, name: str, frame: gpd.GeoDataFrame, again: frozenset = frozenset()) -> None:
        self.name = name
        self.again = again
        geom = frame.geometry.name
        self.order = [c for c in frame.columns if c != geom]
        names = ["fid", "geom", *self.order]  # GDAL's FID and geometry columns, whatever the frame calls them
        self.usable = frame.crs is not None and all(isinstance(c, str) for c in names) and \
            len({c.casefold() for c in names}) == len(names)  # else a column GDAL takes as the FID or refuses
        if not self.usable:
            return
        epsg = frame.crs.to_epsg()
        self.crs = f"EPSG:{epsg}" if epsg else frame.crs.to_wkt("WKT1_GDAL")
        plain = pd.DataFrame(frame, copy=False)  # columns taken without GeoDataFrame's overhead
        self.columns: dict[str, tuple | None] = {}
        for c in self.order:
            col = None if c in again else _column_plan(plain[c])
            if col is not None:
                values = np.empty(len(frame), dtype=object)
                values[:] = col[1]
                col = (col[0], values, col[2])
            self.columns[c] = col
        geoms = np.asarray(frame.geometry.values, dtype=object)
        self.present = ~shapely.is_missing(geoms)
        self.types = shapely.get_type_id(geoms)
        bounds = shapely.bounds(geoms)
        self.bad = self.present & (~np.isin(self.types, (_GPKG_POLY, _GPKG_MULTI)) | shapely.is_empty(geoms)
                                   | shapely.has_z(geoms) | ~np.isfinite(bounds).all(axis=1))
        self.bounds = bounds
        good = np.flatnonzero(self.present & ~self.bad)
        self.wkb = np.full(len(geoms), None, dtype=object)  # as they are
        self.wkb[good] = shapely.to_wkb(geoms[good], byte_order=1, output_dimension=2)
        self.multi = self.wkb.copy()  # single polygons promoted to multipolygons, as pyogrio promotes them
        single = good[self.types[good] == _GPKG_POLY]
        if len(single):
            self.multi[single] = shapely.to_wkb(shapely.multipolygons(geoms[single][:, np.newaxis]), byte_order=1,
                                                output_dimension=2)

    def plan(self, rows: np.ndarray, column) -> dict | None:
        """The plan of ``rows`` (positions), or None when GDAL must write them; ``column(name)`` gives a
        column of those rows' own frame (for the columns in ``again``, and those the whole layer could not
        take: some rows may)."""
        if not self.usable or self.bad[rows].any():
            return None
        present = self.present[rows]
        kinds = set(np.unique(self.types[rows][present]).tolist())
        # pyogrio.geopandas.write_dataframe: one type -> that type (multi when promoting), polygon + multipolygon
        # -> multipolygon and promoted (GeoPackage refuses mixed single and multi), no geometry -> Unknown
        promote = self.name != "findings" or len(kinds) == 2
        inferred = "Unknown" if not kinds else "MultiPolygon" if promote else \
            ("Polygon" if kinds == {_GPKG_POLY} else "MultiPolygon")
        if self.name == "findings":
            inferred = "MultiPolygon"  # written with geometry_type="MultiPolygon"
        at = rows[present]
        plan = {"type": inferred, "crs": self.crs, "n": len(rows), "present": np.flatnonzero(present),
                "wkb": (self.multi if promote else self.wkb)[at].tolist(), "bounds": self.bounds[at],
                "columns": {}}
        for c in self.order:
            col = self.columns[c]
            if col is None:
                col = _column_plan(column(c))
                if col is None:
                    return None
            else:
                col = (col[0], col[1][rows].tolist(), col[2])
            plan["columns"][c] = col
        return plan


def _gpkg_plans(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, dict] | None:
    """Per layer: its columns' values and geometries as GDAL would store them, or None (GDAL writes the file)."""
    plans = {}
    for name, frame in layers.items():
        if not isinstance(frame, gpd.GeoDataFrame):
            return None
        plain = pd.DataFrame(frame, copy=False)
        plans[name] = _LayerSource(name, frame).plan(np.arange(len(frame)), plain.__getitem__)
        if plans[name] is None:
            return None
    return plans


def _gpkg_template(path: Path, layers, plans: dict[str, dict]) -> _Template | None:
    """The template of these layers' schema (made by GDAL from ``layers()`` on first use in this process), or
    None when GDAL's template is not what the fast path expects (the file is then written by GDAL)."""
    key = (tuple(GPKG_DATASET_OPTIONS.items()),) + tuple(
        (name, plan["type"], plan["crs"], tuple((c, col[2], col[0]) for c, col in plan["columns"].items()))
        for name, plan in plans.items())
    with _TEMPLATES_LOCK:
        if key in _TEMPLATES:
            return _TEMPLATES[key]
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="landguard-gpkg-"))
    try:
        tmp = folder / "template.gpkg"
        empty = {name: frame.iloc[:0] for name, frame in layers().items()}
        if list(empty) != list(plans):
            return None
        _gdal_gpkg(tmp, path, empty, {name: plan["type"] for name, plan in plans.items()})
        mark_landguard_output(tmp)
        template = _read_template(tmp, plans)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with _TEMPLATES_LOCK:
        while len(_TEMPLATES) >= _TEMPLATES_KEPT:
            _TEMPLATES.pop(next(iter(_TEMPLATES)))
        _TEMPLATES[key] = template
    return template


def _read_template(tmp: Path, plans: dict[str, dict]) -> _Template | None:
    """What filling the template needs per layer, checked against what the fast path writes."""
    con = sqlite3.connect(tmp)
    try:
        tables = {}
        for name, plan in plans.items():
            row = con.execute("SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
                              (name,)).fetchone()
            if row is None:
                return None
            geom, srs_id = row
            declared = [(r[1], r[2].upper()) for r in con.execute(f"PRAGMA table_info({_quote(name)})")]
            expected = ["fid", geom, *plan["columns"]]
            if [c for c, _ in declared] != expected or any(
                    t not in _DECLARED[plan["columns"][c][0]] for c, t in declared[2:]):
                return None
            rtree = f"rtree_{name}_{geom}"
            trigger = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                  (f"{rtree}_insert",)).fetchone()
            counter = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                  (f"trigger_insert_feature_count_{name}",)).fetchone()
            counted = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?",
                                  (name,)).fetchone()
            root = con.execute(f"SELECT length(data) FROM {_quote(rtree + '_node')} WHERE nodeno = 1").fetchone()
            shadow = [[r[1] for r in con.execute(f"PRAGMA table_info({_quote(rtree + part)})")]
                      for part in ("_node", "_rowid", "_parent")]
            if trigger is None or counter is None or counted is None or counted[0] != 0 or root is None or \
                    shadow != [["nodeno", "data"], ["rowid", "nodeno"], ["nodeno", "parentnode"]] or \
                    con.execute(f"SELECT count(*) FROM {_quote(rtree + '_node')}").fetchone() != (1,):
                return None  # not the R-tree the fast path fills
            tables[name] = {"geom": geom, "srs_id": int(srs_id), "rtree": rtree, "node_size": int(root[0]),
                            "triggers": {f"{rtree}_insert": trigger[0],
                                         f"trigger_insert_feature_count_{name}": counter[0]}}
    finally:
        con.close()
    return _Template(tmp.read_bytes(), tables)


def _gpkg_blobs(wkb: list[bytes], bounds: np.ndarray, srs_id: int) -> list[bytes]:
    """GeoPackage geometry blobs as GDAL writes them: ``GP``, version 0, flags (xy envelope, little
    endian), the srs_id, the envelope (min x, max x, min y, max y), then the little-endian WKB."""
    header = np.zeros(len(wkb), dtype=[("magic", "V4"), ("srs_id", "<i4"), ("envelope", "<f8", (4,))])
    header["magic"] = b"GP\x00\x03"
    header["srs_id"] = srs_id
    header["envelope"] = bounds[:, [0, 2, 1, 3]]
    return list(map(bytes.__add__, header.view("V40").tolist(), wkb))


# GDAL stores a layer's extent in gpkg_contents as text from its bundled SQLite's printf("%.17g"), read back as
# a double: 18 digits from a 64-bit product, rounded half up to 16 - not Python's correctly rounded %.16g.
# _sqlite_g17 does that arithmetic (SQLite's sqlite3FpDecode / sqlite3Fp2Convert10 with their tables of
# powers of ten); tests/maps/test_gpkg_fast_export.py holds it to GDAL's SQLite on thousands of doubles.
_P10_BASE = [0x8000000000000000, 0xa000000000000000, 0xc800000000000000, 0xfa00000000000000, 0x9c40000000000000,
         0xc350000000000000, 0xf424000000000000, 0x9896800000000000, 0xbebc200000000000, 0xee6b280000000000,
         0x9502f90000000000, 0xba43b74000000000, 0xe8d4a51000000000, 0x9184e72a00000000, 0xb5e620f480000000,
         0xe35fa931a0000000, 0x8e1bc9bf04000000, 0xb1a2bc2ec5000000, 0xde0b6b3a76400000, 0x8ac7230489e80000,
         0xad78ebc5ac620000, 0xd8d726b7177a8000, 0x878678326eac9000, 0xa968163f0a57b400, 0xd3c21bcecceda100,
         0x84595161401484a0, 0xa56fa5b99019a5c8]
_P10_SCALE = [0x8049a4ac0c5811ae, 0xcf42894a5dce35ea, 0xa76c582338ed2621, 0x873e4f75e2224e68, 0xda7f5bf590966848,
          0xb080392cc4349dec, 0x8e938662882af53e, 0xe65829b3046b0afa, 0xba121a4650e4ddeb, 0x964e858c91ba2655,
          0xf2d56790ab41c2a2, 0xc428d05aa4751e4c, 0x9e74d1b791e07e48, 0xcccccccccccccccc, 0xcecb8f27f4200f3a,
          0xa70c3c40a64e6c51, 0x86f0ac99b4e8dafd, 0xda01ee641a708de9, 0xb01ae745b101e9e4, 0x8e41ade9fbebc27d,
          0xe5d3ef282a242e81, 0xb9a74a0637ce2ee1, 0x95f83d0a1fb69cd9, 0xf24a01a73cf2dccf, 0xc3b8358109e84f07,
          0x9e19db92b4e31ba9]
_P10_LO = [0x205b896d, 0x52064cad, 0xaf2af2b8, 0x5a7744a7, 0xaf39a475, 0xbd8d794e, 0x547eb47b, 0x0cb4a5a3,
             0x92f34d62, 0x3a6a07f9, 0xfae27299, 0xaa97e14c, 0x775ea265, 0xcccccccc, 0x00000000, 0x999090b6,
             0x69a028bb, 0xe80e6f48, 0x5ec05dd0, 0x14588f14, 0x8f1668c9, 0x6d953e2c, 0x4abdaf10, 0xbc633b39,
             0x0a862f81, 0x6c07a2c2]
_U64 = (1 << 64) - 1


def _power_of_ten(p: int) -> int:
    """The most significant 64 bits of 10**p (SQLite's powerOfTen)."""
    if p < 0:
        if p == -1:
            return _P10_SCALE[13]
        g = -(-p // 27)  # C division: towards zero
        n = p - 27 * g
        if n:
            g -= 1
            n += 27
    elif p < 27:
        return _P10_BASE[p]
    else:
        g, n = divmod(p, 27)
    s = _P10_SCALE[g + 13]
    if n == 0:
        return s
    r = s * _P10_BASE[n] + ((_P10_LO[g + 13] * _P10_BASE[n]) >> 32)
    lo = (r >> 32) & 0xFFFFFFFF
    x = (r >> 64) & _U64
    if not x >> 63:
        x = ((x << 1) | ((lo >> 31) & 1)) & _U64
    return x


def _sqlite_g17(r: float) -> float:
    """``r`` as GDAL's SQLite prints it with ``%.17g`` and reads it back.

    Examples
    --------
    >>> _sqlite_g17(508000.00048828125), _sqlite_g17(0.5)
    (508000.0004882813, 0.5)
    """
    if r == 0 or not np.isfinite(r):
        return float(r)
    bits = int(np.float64(abs(r)).view(np.uint64))
    e, v = (bits >> 52) & 0x7FF, bits & ((1 << 52) - 1)
    if e == 0:
        shift = 64 - v.bit_length()
        v, e = v << shift, -1074 - shift
    else:
        v, e = (v << 11) | (1 << 63), e - 1086
    p = 17 - (((e + 63) * 78913) >> 18)
    h = ((v * _power_of_ten(p)) >> 64) >> -(e + ((p * 108853) >> 15) + 2)
    digits = str((h + ((h << 1) & 2)) >> 1)
    n = len(digits)
    text = f"{int(digits[:16]) + (digits[16] >= '5')}e{n - 16 - p}" if n > 16 else f"{digits}e{-p}"
    return float(text) if r > 0 else -float(text)


_RND_TOWARDS = 1.0 - 1.0 / 8388608.0  # SQLite rtree.c: RNDTOWARDS, RNDAWAY
_RND_AWAY = 1.0 + 1.0 / 8388608.0


def _float32_down(d: np.ndarray) -> np.ndarray:
    """Doubles as SQLite's R-tree stores a lower bound (rtreeValueDown): a float32 not above them."""
    f = d.astype(np.float32)
    over = f.astype(np.float64) > d
    f[over] = (d[over] * np.where(d[over] < 0, _RND_AWAY, _RND_TOWARDS)).astype(np.float32)
    return f


def _float32_up(d: np.ndarray) -> np.ndarray:
    """Doubles as SQLite's R-tree stores an upper bound (rtreeValueUp): a float32 not below them."""
    f = d.astype(np.float32)
    under = f.astype(np.float64) < d
    f[under] = (d[under] * np.where(d[under] < 0, _RND_TOWARDS, _RND_AWAY)).astype(np.float32)
    return f


def _rtree_nodes(ids: np.ndarray, bounds: np.ndarray, node_size: int) -> tuple[list, list, list]:
    """A packed SQLite R-tree of the boxes ``bounds`` (min x, min y, max x, max y) keyed by ``ids``, as the
    rows of its shadow tables: ``(nodeno, blob)`` of ``_node`` (the root, node 1, first), ``(id, nodeno)``
    of ``_rowid``, ``(nodeno, parent)`` of ``_parent``.

    GDAL builds the R-tree of a layer it writes in one go as well (not box by box); the entries are those
    SQLite stores for the same boxes (bounds rounded outwards to float32 as rtree.c rounds them), the
    nodes full, in sort-tile-recursive order. Node format (rtree.c): 2 bytes tree depth (root only),
    2 bytes cell count, then cells of a big-endian 64-bit id and four big-endian float32 coordinates
    (min x, max x, min y, max y), zero-padded to the node size.

    Examples
    --------
    >>> nodes, rowids, parents = _rtree_nodes(np.array([1, 2]), np.array([[0, 0, 1, 1], [2, 2, 3, 3.0]]), 1228)
    >>> [n for n, _ in nodes], rowids, parents
    ([1], [(1, 1), (2, 1)], [])
    """
    cap = (node_size - 4) // 24
    cell = np.dtype([("id", ">i8"), ("c", ">f4", (4,))])
    fields = [("depth", ">u2"), ("count", ">u2"), ("cells", cell, (cap,))]
    if node_size - 4 - 24 * cap:
        fields.append(("pad", f"V{node_size - 4 - 24 * cap}"))
    node = np.dtype(fields)
    n = len(ids)
    if not n:
        return [], [], []
    coords = np.column_stack([_float32_down(bounds[:, 0]), _float32_up(bounds[:, 2]),
                              _float32_down(bounds[:, 1]), _float32_up(bounds[:, 3])])
    # sort-tile-recursive order
    leaves = -(-n // cap)
    slabs = max(1, math.ceil(math.sqrt(leaves)))
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    order = np.argsort(cx, kind="stable")
    slab = np.arange(n) // (slabs * cap)
    order = order[np.lexsort((cy[order], slab))]
    level_ids, level_coords = np.asarray(ids)[order], coords[order]
    levels = []  # (ids, coords) of cells per level, leaves first
    while True:
        levels.append((level_ids, level_coords))
        m = len(level_ids)
        if m <= cap:
            break
        k = -(-m // cap)
        group = np.arange(m) // cap
        lo = np.minimum.reduceat(level_coords[:, [0, 2]], np.arange(0, m, cap), axis=0)
        hi = np.maximum.reduceat(level_coords[:, [1, 3]], np.arange(0, m, cap), axis=0)
        level_coords = np.column_stack([lo[:, 0], hi[:, 0], lo[:, 1], hi[:, 1]]).astype(np.float32)
        level_ids = np.zeros(k, dtype=np.int64)  # node numbers, filled below
    # number the nodes: root 1, the others 2.. from the top down
    counts = [-(-len(ids_) // cap) for ids_, _ in levels]  # nodes holding each level's cells
    first = {}
    nxt = 2
    for depth in range(len(levels) - 1, -1, -1):  # top level of cells is held by the root
        if depth == len(levels) - 1:
            first[depth] = 1
        else:
            first[depth] = nxt
            nxt += counts[depth]
    blobs, parents = [], []
    for depth, (cids, ccoords) in enumerate(levels):
        m = len(cids)
        k = counts[depth]
        holder = first[depth] + np.arange(m) // cap  # node number holding each cell
        arr = np.zeros(k, dtype=node)
        if depth == len(levels) - 1:
            arr["depth"][0] = len(levels) - 1
        arr["count"] = np.bincount(np.arange(m) // cap, minlength=k)
        flat_view = np.zeros(k * cap, dtype=cell)
        flat_view["id"][:m] = cids
        flat_view["c"][:m] = ccoords
        arr["cells"] = flat_view.reshape(k, cap)
        nodenos = first[depth] + np.arange(k)
        blobs += list(zip(nodenos.tolist(), arr.view(f"V{node_size}").tolist()))
        if depth == 0:
            rowids = list(zip(cids.tolist(), holder.tolist()))
        else:
            parents += list(zip(cids.tolist(), holder.tolist()))
        if depth + 1 < len(levels):
            levels[depth + 1][0][:] = nodenos
    blobs.sort(key=operator.itemgetter(0))  # the root (node 1) first
    return blobs, rowids, parents


def _fill_gpkg(tmp: Path, path: Path, template: _Template, plans: dict[str, dict]) -> None:
    """``tmp``: the template with every layer's rows."""
    tmp.write_bytes(template.data)  # an OSError (disk full ...) is reported by atomic_path, naming the file
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")  # a temporary file, renamed into place once complete
        con.execute("PRAGMA journal_mode=OFF")  # a failed write is thrown away (atomic_path), never rolled back
        con.execute("BEGIN")
        for name, plan in plans.items():
            table = template.tables[name]
            n = plan["n"]
            if not n:
                continue
            fids = np.arange(1, n + 1)
            geoms = [None] * n
            blobs = _gpkg_blobs(plan["wkb"], plan["bounds"], table["srs_id"])
            for at, blob in zip(plan["present"].tolist(), blobs):
                geoms[at] = blob
            columns = ["fid", table["geom"], *plan["columns"]]
            values = [fids.tolist(), geoms, *(col[1] for col in plan["columns"].values())]
            # the R-tree and the feature count as GDAL leaves them, filled at once: GDAL's insert triggers
            # (which call GDAL's SQL functions, and count row by row) are set aside meanwhile
            for trigger in table["triggers"]:
                con.execute(f"DROP TRIGGER {_quote(trigger)}")
            con.executemany(f"INSERT INTO {_quote(name)} ({', '.join(map(_quote, columns))}) "
                            f"VALUES ({', '.join('?' * len(columns))})", zip(*values))
            b = plan["bounds"]
            nodes, rowids, parents = _rtree_nodes(fids[plan["present"]], b, table["node_size"])
            if nodes:
                rtree = table["rtree"]
                con.execute(f"UPDATE {_quote(rtree + '_node')} SET data = ? WHERE nodeno = 1", (nodes[0][1],))
                con.executemany(f"INSERT INTO {_quote(rtree + '_node')} VALUES (?, ?)", nodes[1:])
                con.executemany(f"INSERT INTO {_quote(rtree + '_rowid')} VALUES (?, ?)", rowids)
                con.executemany(f"INSERT INTO {_quote(rtree + '_parent')} VALUES (?, ?)", parents)
            con.execute("UPDATE gpkg_ogr_contents SET feature_count = ? WHERE table_name = ?", (n, name))
            for sql in table["triggers"].values():
                con.execute(sql)
            if len(b):
                extent = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
                con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                            (*map(_sqlite_g17, extent), name))
        con.execute(f"UPDATE gpkg_contents SET last_change = {_NOW}")  # written now, not when the template was
        con.execute(f"UPDATE layer_styles SET update_time = {_NOW}")
        con.execute(f"UPDATE gpkg_metadata_reference SET timestamp = {_NOW}")
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        raise OutputError(f"{path}: 无法写入 GeoPackage（{exc}）(cannot write the GeoPackage); "
                          "请确认磁盘未满、文件夹可写 (is the disk full or the folder read-only?)") from None
    finally:
        con.close()


# -- KML -------------------------------------------------------------------------------------------


def _kml_colour(hex_rgb: str, alpha: int) -> str:
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{b}{g}{r}"  # KML is aabbggrr


def _text(text: str) -> str:
    """XML character data escaped as xml.etree.ElementTree escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    """An XML attribute value escaped as xml.etree.ElementTree escapes it (between double quotes)."""
    text = _text(text).replace('"', "&quot;")
    return text.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _leaf(tag: str, text: str, attrs: str = "", *, raw: bool = False) -> str:
    """``<tag attrs>text</tag>``, or ``<tag attrs />`` without text (ElementTree's short empty elements);
    ``raw`` text is markup already (child elements)."""
    if not text:
        return f"<{tag}{attrs} />"
    return f"<{tag}{attrs}>{text if raw else _text(text)}</{tag}>"


def _kml_coords(geom) -> str:
    """``x,y x,y ...`` with the shortest text of each rounded coordinate (``repr``, as json writes floats)."""
    xy = np.round(shapely.get_coordinates(geom), _DECIMALS)
    if not len(xy):
        return ""
    if not np.isfinite(xy).all():
        return " ".join(f"{x!r},{y!r}" for x, y in xy.tolist())
    return json.dumps(xy.tolist(), separators=(",", ","))[2:-2].replace("],[", " ")


def _kml_geometry(geom) -> str:
    """``geom`` (already lon/lat, rounded and oriented) as KML."""
    kind = shapely.get_type_id(geom)
    if kind == 0:
        return f'<Point>{_leaf("coordinates", _kml_coords(geom))}</Point>'
    if kind in (1, 2):
        return f'<LineString>{_leaf("coordinates", _kml_coords(geom))}</LineString>'
    if kind == 3:
        rings = [("outerBoundaryIs", shapely.get_exterior_ring(geom))]
        holes = range(shapely.get_num_interior_rings(geom))
        rings += [("innerBoundaryIs", shapely.get_interior_ring(geom, i)) for i in holes]
        return "<Polygon>" + "".join(f'<{tag}><LinearRing>{_leaf("coordinates", _kml_coords(ring))}</LinearRing></{tag}>'
                                     for tag, ring in rings) + "</Polygon>"
    # multi-part and collections (every finding is a MultiPolygon: one geometry type in the layer)
    parts = "".join(_kml_geometry(part) for part in shapely.get_parts(geom))
    return f"<MultiGeometry>{parts}</MultiGeometry>" if parts else "<MultiGeometry />"


def _kml_geometries(geoms: np.ndarray) -> list[str]:
    """:func:`_kml_geometry` of every geometry ("" for None), Polygons and MultiPolygons all at once.

    Examples
    --------
    >>> _kml_geometries(np.array([shapely.box(0, 0, 1, 1), None], dtype=object))[1]
    ''
    """
    out = [""] * len(geoms)
    present = np.flatnonzero(~shapely.is_missing(geoms)) if len(geoms) else np.zeros(0, dtype=np.intp)
    g = geoms[present]
    types = shapely.get_type_id(g)
    polygonal = (types == 3) | (types == 6)
    if polygonal.any():
        parts, part_of = shapely.get_parts(g[polygonal], return_index=True)
        bad = np.zeros(int(polygonal.sum()), dtype=bool)
        bad[part_of[shapely.is_empty(parts)]] = True  # an empty part: one by one, as ever
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        xy, coord_of = shapely.get_coordinates(rings, return_index=True)
        xy = np.round(xy, _DECIMALS)
        if not np.isfinite(xy).all():
            bad[:] = True
        ends = np.cumsum(np.bincount(coord_of, minlength=len(rings)))
        starts = ends - np.bincount(coord_of, minlength=len(rings))
        texts = [json.dumps(xy[a:b].tolist(), separators=(",", ","))[2:-2].replace("],[", " ") if b > a else ""
                 for a, b in zip(starts.tolist(), ends.tolist())]
        outer = np.r_[True, ring_of[1:] != ring_of[:-1]] if len(ring_of) else np.zeros(0, dtype=bool)
        ring_xml = [f'<{t}><LinearRing>{_leaf("coordinates", x)}</LinearRing></{t}>'
                    for t, x in zip(np.where(outer, "outerBoundaryIs", "innerBoundaryIs").tolist(), texts)]
        ring_ends = np.cumsum(np.bincount(ring_of, minlength=len(parts))).tolist()
        part_xml = ["<Polygon>" + "".join(ring_xml[a:b]) + "</Polygon>"
                    for a, b in zip([0, *ring_ends[:-1]], ring_ends)]
        part_ends = np.cumsum(np.bincount(part_of, minlength=len(bad))).tolist()
        for k, (a, b, kind, at) in enumerate(zip([0, *part_ends[:-1]], part_ends, types[polygonal].tolist(),
                                                 present[polygonal].tolist())):
            if bad[k]:
                out[at] = _kml_geometry(geoms[at])
            elif kind == 3:
                out[at] = part_xml[a]
            else:
                out[at] = f"<MultiGeometry>{''.join(part_xml[a:b])}</MultiGeometry>" if b > a else "<MultiGeometry />"
    for at in present[~polygonal].tolist():
        out[at] = _kml_geometry(geoms[at])
    return out


def _kml_style_id(family, severity) -> str | None:
    if family not in FAMILY_COLOURS:
        return None
    return f"{family}-{severity if severity in SEVERITY_WEIGHTS else 'medium'}"


def _kml_title(findings: gpd.GeoDataFrame, path: Path, run_date) -> str:
    """``乡镇 村名 问题图斑 (run date)``, from the findings' own ``township``/``village`` columns."""
    def first(col):
        if col not in findings.columns:
            return ""
        values = [v for v in findings[col].astype(object) if isinstance(v, str) and v.strip()]
        return values[0].strip() if values else ""

    place = " ".join(p for p in (first("township"), first("village")) if p) or path.stem
    when = (run_date or dt.date.today()).isoformat()
    return mask_ids_in_text(f"{place} 问题图斑 ({when})")


def export_kml(findings: gpd.GeoDataFrame, path: str | Path, *, title: str | None = None,
               run_date: dt.date | None = None) -> Path:
    """Write findings as KML for Ovital (奥维) / Google Earth: one placemark per finding.

    The document is named ``乡镇 村名 问题图斑 (run date)``; each placemark is named by rule and subject
    (``乱占耕地建房 B1``), drawn with a style shared by its family and severity — the maps' colours
    (:data:`maps.style.FAMILY_COLOURS`) and outline weights (:data:`maps.style.SEVERITY_WEIGHTS`) —
    and carries :data:`GEOJSON_PROPERTIES` but the message as typed ``SchemaData`` whose Chinese labels
    are declared once in the document's ``Schema``; its description is the family and the message (not
    repeated in the data). WGS84 (7 decimals), masked, not indented: at most 40 % of the old layout.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.kml`` to write (replaced atomically).
    title : str, optional
        Document name (default from the findings' township and village and ``run_date``).
    run_date : datetime.date, optional
        Date in the document name (default today).

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_kml(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.kml")
    >>> pyogrio.read_dataframe(out)["Name"].tolist()
    ['乱占耕地建房 B1']
    """
    path = Path(path)
    findings = _checked(findings, [*GEOJSON_PROPERTIES, "family"])
    props = _display(mask_frame(findings[GEOJSON_PROPERTIES]))
    messages = mask_frame(findings[["message"]])["message"]
    name = mask_ids_in_text(title) if title else _kml_title(findings, path, run_date)
    return _write_kml(path, props, findings, messages, _wgs84(findings.geometry), name)


def _write_kml(path: Path, props: pd.DataFrame, findings: pd.DataFrame, messages: pd.Series, geoms: np.ndarray,
               name: str) -> Path:
    """The KML of masked, displayed properties, the findings' (unmasked) ``family``/``severity`` codes,
    masked messages, WGS84 geometries and the (masked) document ``name``."""
    families = findings["family"].astype(object).to_numpy()
    severities = findings["severity"].astype(object).to_numpy()
    placemarks = _kml_placemarks(props, families, severities, messages.astype(object).to_numpy(), geoms)
    return _write_kml_document(path, name, families, severities, placemarks)


_SEP = "\x1f\x1e\x1f"  # joins a column's texts to escape them at once; no escaping touches it


def _escaped(values: list[str], escape) -> list[str] | None:
    """``[escape(v) for v in values]`` in one call over the joined texts; None if a text holds the separator."""
    joined = _SEP.join(values)
    if joined.count(_SEP) != max(len(values) - 1, 0):
        return None
    return escape(joined).split(_SEP) if values else []


def _kml_placemarks(props: pd.DataFrame, families: np.ndarray, severities: np.ndarray, messages: np.ndarray,
                    geoms: np.ndarray) -> list[str]:
    """Each row's KML Placemark (text), column by column: the same text as :func:`_kml_placemarks_rows`.

    Examples
    --------
    >>> p = pd.DataFrame({c: ["x&<y"] for c in GEOJSON_PROPERTIES})
    >>> args = (p, np.array(["farmland"], dtype=object), np.array(["high"], dtype=object),
    ...         np.array(["<b>"], dtype=object), np.array([shapely.box(0, 0, 1, 1)], dtype=object))
    >>> _kml_placemarks(*args) == _kml_placemarks_rows(*args)
    True
    """
    n = len(props)
    if not n:
        return []
    empty = np.full(n, "", dtype=object)
    rows_ = (props, families, severities, messages, geoms)

    def texts(values: np.ndarray, shown: np.ndarray, escape) -> np.ndarray | None:
        """``escape(str(v))`` where ``shown``, "" elsewhere; None if a text holds the separator."""
        out = empty.copy()
        if shown.any():
            done = _escaped(list(map(str, values[shown])), escape)
            if done is None:
                return None
            out[shown] = _objects(done)
        return out

    data = empty.copy()  # SchemaData: the shown fields' SimpleData
    for c in _KML_FIELDS:
        values = props[c].to_numpy(dtype=object)
        shown = np.asarray(values != None, dtype=bool) & np.asarray(values != "", dtype=bool)  # noqa: E711
        text = texts(values, shown, _text)
        if text is None:
            return _kml_placemarks_rows(*rows_)
        data[shown] = data[shown] + (f'<SimpleData name="{_attr(c)}">' + text[shown] + "</SimpleData>")
    name = empty.copy()  # " ".join of the truthy rule name and subject
    for c in ("rule_name", "subject_id"):
        values = props[c].to_numpy(dtype=object)
        shown = np.fromiter(map(bool, values), dtype=bool, count=n)
        part = texts(values, shown, str)
        if part is None:
            return _kml_placemarks_rows(*rows_)
        name = np.where(shown & (name != ""), name + " " + part, name + part).astype(object)
    name = _escaped(name.tolist(), _text)
    message = np.where(np.fromiter(map(isinstance, messages, itertools.repeat(str)), dtype=bool, count=n),
                       messages, "").astype(object)
    message = _escaped(message.tolist(), lambda t: _text(html.escape(t)))
    if name is None or message is None:
        return _kml_placemarks_rows(*rows_)
    # per family, and per family and severity: a few distinct values, looked up row by row in C (map)
    head = {f: _text(f"<b>{html.escape(str(FAMILY_LABELS.get(f, f or '')))}</b> ")
            for f in dict.fromkeys(families.tolist())}
    pairs = list(zip(families.tolist(), severities.tolist()))
    style = {}
    for pair in dict.fromkeys(pairs):
        sid = _kml_style_id(*pair)
        style[pair] = _leaf("styleUrl", f"#{sid}") if sid else ""
    names = _objects(name)
    names = np.where(names == "", "<name />", "<name>" + names + "</name>").astype(object)
    schema = np.where(data == "", '<SchemaData schemaUrl="#finding" />',
                      '<SchemaData schemaUrl="#finding">' + data + "</SchemaData>").astype(object)
    parts = (itertools.repeat("<Placemark>"), names.tolist(), itertools.repeat("<description>"),
             map(head.__getitem__, families.tolist()), message, itertools.repeat("</description>"),
             map(style.__getitem__, pairs), itertools.repeat("<ExtendedData>"), schema.tolist(),
             itertools.repeat("</ExtendedData>"), _kml_geometries(np.asarray(geoms, dtype=object)),
             itertools.repeat("</Placemark>"))
    return list(map("".join, zip(*parts)))  # one join per row: no intermediate copies of the long texts


def _kml_placemarks_rows(props: pd.DataFrame, families: np.ndarray, severities: np.ndarray, messages: np.ndarray,
                         geoms: np.ndarray) -> list[str]:
    """Each row's KML Placemark (text), row by row; see :func:`_write_kml`."""
    out = []
    shapes = _kml_geometries(np.asarray(geoms, dtype=object))
    for record, fam, sev, message, shape in zip(props.to_dict("records"), families, severities, messages, shapes):
        label = FAMILY_LABELS.get(fam, fam or "")
        text = message if isinstance(message, str) else ""
        sid = _kml_style_id(fam, sev)
        data = "".join(_leaf("SimpleData", str(record[c]), f' name="{_attr(c)}"') for c in _KML_FIELDS
                       if record[c] is not None and record[c] != "")
        out.append("".join((
            "<Placemark>",
            _leaf("name", " ".join(str(record[c]) for c in ("rule_name", "subject_id") if record[c])),
            _leaf("description", f"<b>{html.escape(str(label))}</b> {html.escape(text)}"),
            _leaf("styleUrl", f"#{sid}") if sid else "",
            "<ExtendedData>", _leaf("SchemaData", data, ' schemaUrl="#finding"', raw=True), "</ExtendedData>",
            shape,
            "</Placemark>")))
    return out


def _write_kml_document(path: Path, name: str, families: np.ndarray, severities: np.ndarray,
                        placemarks: list[str]) -> Path:
    """The KML document ``name`` of ``placemarks`` (:func:`_kml_placemarks`) with the styles of the
    families and severities used, replaced atomically."""
    out = [f'<kml xmlns="{_KML_NS}"><Document>', _leaf("name", name), '<Schema name="finding" id="finding">']
    for c in _KML_FIELDS:
        kind = "double" if c in _ROUND else "string"
        out.append(f'<SimpleField name="{_attr(c)}" type="{kind}">{_leaf("displayName", COLUMN_LABELS[c])}</SimpleField>')
    out.append("</Schema>")
    used = dict.fromkeys(s for s in map(_kml_style_id, families, severities) if s)
    for sid in used:  # one shared style per family and severity, only those used
        fam, sev = sid.split("-", 1)
        out.append(f'<Style id="{_attr(sid)}"><LineStyle>{_leaf("color", _kml_colour(FAMILY_COLOURS[fam], 0xFF))}'
                   f'{_leaf("width", f"{SEVERITY_WEIGHTS[sev]:g}")}</LineStyle>'
                   f'<PolyStyle>{_leaf("color", _kml_colour(FAMILY_COLOURS[fam], 0x59))}</PolyStyle></Style>')
    out.append(f'<Folder>{_leaf("name", "问题图斑")}')  # one folder: GDAL reads it as one layer, even when empty
    out.extend(placemarks)
    out.append("</Folder></Document></kml>")
    # what xml.etree.ElementTree wrote for the same tree (declaration, escaping, empty elements), faster
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", errors="xmlcharrefreplace", newline="\n") as f:
            f.write("<?xml version='1.0' encoding='utf-8'?>\n")
            f.write("".join(out))
    return path


# -- one village -------------------------------------------------------------------------------------


def export_village(findings: gpd.GeoDataFrame, out_dir: str | Path, village_id: str, *,
                   parcels: gpd.GeoDataFrame | None = None, buildings: gpd.GeoDataFrame | None = None,
                   full_names: bool = False, crs: Literal["wgs84", "working"] = "wgs84",
                   name: str | None = None, township: str | None = None,
                   run_date: dt.date | None = None, grid: gpd.GeoDataFrame | None = None) -> dict[str, Path]:
    """Write one village's field files: ``<village_id>_<村名>.geojson``, ``.gpkg`` and ``.kml``.

    The file names come from :func:`maps.filenames.file_stem` (path separators and characters that
    Windows or Android refuse become ``_``, ID numbers are masked, long names are shortened) and always
    stay inside ``out_dir``. The KML document is named ``乡镇 村名 问题图斑 (run date)``.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings of the district (or of the village); rows of ``village_id`` are exported.
    out_dir : str or Path
        Folder to write into (created when missing).
    village_id : str
        The village.
    parcels, buildings : GeoDataFrame, optional
        The district's layers with a ``village_id`` column; the village's rows go into the GeoPackage.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    crs : {"wgs84", "working"}
        CRS of the GeoPackage (GeoJSON and KML are always WGS84).
    name : str, optional
        The village's name (for :data:`maps.filenames.NAME_IN_FILE_NAMES`); default the findings'
        ``village`` column.
    township : str, optional
        The township, for the KML document name; default the findings' ``township`` column.
    run_date : datetime.date, optional
        The run's date, for the KML document name; default today.
    grid : GeoDataFrame, optional
        One 田长 grid (its ``field_grids`` rows): only the findings with its ``grid_id`` and the parcels
        and buildings meeting it are written, to ``<grid_id>_<村名>.*``, the grid goes into the
        GeoPackage as layer ``field_grid`` and the KML is named ``乡镇 村名 网格 <grid_id> 田长 <masked
        name> 问题图斑 (run date)``; the leader's name is masked (:func:`layers.privacy.mask_name`).
        See :func:`export_grids`.

    Returns
    -------
    dict
        ``{"geojson": Path, "gpkg": Path, "kml": Path}``.

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["110117001001"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> files = export_village(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), "110117001001")
    >>> sorted(p.name for p in files.values())
    ['110117001001.geojson', '110117001001.gpkg', '110117001001.kml']
    >>> files = export_village(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), "110117001001", name="东村")
    >>> files["kml"].name
    '110117001001_东村.kml'
    """
    batch = FieldBatch(findings, parcels=parcels, buildings=buildings, full_names=full_names, crs=crs,
                       villages=[village_id], grids=grid)
    return batch.village(out_dir, village_id, name=name, township=township, run_date=run_date, grid=grid)


def _objects(values: list) -> np.ndarray:
    """A list as a 1-d object array (strings, bytes ... kept as they are).

    Examples
    --------
    >>> _objects(["a", "b"])[[1]].tolist()
    ['b']
    """
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class _Rows:
    """Positions of the rows equal to a key (``values.astype(object) == key``), grouped once.

    Examples
    --------
    >>> _Rows(pd.Series(["V1", "V2", "V1", None])).of("V1").tolist()
    [0, 2]
    """

    def __init__(self, values: pd.Series) -> None:
        self._values = values.astype(object)
        try:
            self._groups = pd.Series(np.arange(len(values))).groupby(self._values.to_numpy(), sort=False).indices
        except TypeError:  # unhashable values: compared one key at a time
            self._groups = None

    def of(self, key) -> np.ndarray:
        """Ascending positions of the rows equal to ``key``."""
        if self._groups is None:
            return np.flatnonzero((self._values == key).to_numpy())
        try:
            return np.asarray(self._groups.get(key, np.array([], dtype=np.intp)), dtype=np.intp)
        except TypeError:
            return np.flatnonzero((self._values == key).to_numpy())


class FieldBatch:
    """Field files for many villages (and 田长 grids) of one district, from one preparation.

    The findings, parcels and buildings are masked (:class:`maps.premask.MaskedRows`), reprojected and
    cleaned once, each row on its own; :meth:`village` takes a village's (or grid's) rows from them and
    writes the same files as :func:`export_village` did for those rows alone. Made before the workers
    fork (``landguard.pipeline.write_exports``), it is shared by all of them.

    Parameters
    ----------
    findings : GeoDataFrame
        The district's findings (working CRS).
    parcels, buildings : GeoDataFrame, optional
        The district's layers with a ``village_id`` column.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    crs : {"wgs84", "working"}
        CRS of the GeoPackages.
    villages : sequence, optional
        Only these villages' rows are prepared (default: all).
    grids : GeoDataFrame, optional
        With ``villages``: the ``field_grids`` rows to be written too (their findings are kept whatever
        their village).

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["V1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> batch = FieldBatch(finalise(CATALOGUE["FARM-BUILD"], p))
    >>> sorted(f.name for f in batch.village(tempfile.mkdtemp(), "V1", name="东村").values())
    ['V1_东村.geojson', 'V1_东村.gpkg', 'V1_东村.kml']
    """

    def __init__(self, findings: gpd.GeoDataFrame, *, parcels: gpd.GeoDataFrame | None = None,
                 buildings: gpd.GeoDataFrame | None = None, full_names: bool = False,
                 crs: Literal["wgs84", "working"] = "wgs84", villages=None,
                 grids: gpd.GeoDataFrame | None = None) -> None:
        from .premask import MaskedRows

        findings = _checked(findings, ["village_id"])
        self.crs = crs
        self.full_names = full_names
        self.target = _target_crs(findings, crs)
        wanted = None if villages is None else list(villages)
        if wanted is not None:  # masking is row by row: only the rows asked for are prepared
            keep = findings["village_id"].astype(object).isin(wanted)
            if grids is not None and "grid_id" in findings.columns and "grid_id" in grids.columns:
                keep |= findings["grid_id"].astype(object).isin(list(grids["grid_id"].astype(object).dropna()))
            findings = findings[keep.to_numpy()]
        self.findings = findings
        self._villages = _Rows(findings["village_id"])
        self._grids = _Rows(findings["grid_id"]) if "grid_id" in findings.columns else None
        self._masked = MaskedRows(findings, full_names=full_names)
        self._wgs84 = _wgs84(findings.geometry)
        self._gpkg = _gpkg_geoms(findings.geometry.to_crs(self.target), crs)
        self._layers: dict[str, tuple] = {}
        self._gpkg_sources: dict[str, _LayerSource] | None = None
        self._whole_findings: gpd.GeoDataFrame | None = None
        self._findings_again: frozenset | None = None
        self._batch_texts: dict | bool | None = None
        self._names: dict[str, np.ndarray] = {}
        for name, frame in (("parcels", parcels), ("buildings", buildings)):
            if frame is None:
                continue
            if "village_id" not in frame.columns:
                raise LayerError(f"{name}: no column village_id; give the district's layers split by village")
            if frame.crs is None:
                raise CRSError(f"{name}: no CRS; give the district's {name} in its working CRS")
            if wanted is not None:
                frame = frame[frame["village_id"].astype(object).isin(wanted).to_numpy()]
            self._layers[name] = (frame, _Rows(frame["village_id"]),
                                  MaskedRows(frame, full_names=full_names), frame.geometry.to_crs(self.target).values)

    def _findings(self, rows: np.ndarray) -> gpd.GeoDataFrame:
        """Masked findings rows, their geometry reprojected and cleaned for the GeoPackage."""
        out = self._masked.take(rows).set_crs(self.target, allow_override=True)
        out[out.geometry.name] = gpd.GeoSeries(self._gpkg[rows], index=out.index, crs=self.target)
        return out

    def _layer(self, name: str, village_id, grid: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        """The village's (or the grid's) masked rows of ``name``, reprojected."""
        if name not in self._layers:
            return None
        return self._layer_rows(name, self._rows_of(name, village_id, grid))

    def _rows_of(self, name: str, village_id, grid: gpd.GeoDataFrame | None) -> np.ndarray:
        """Positions of the village's (or the grid's) rows of layer ``name``."""
        frame, villages, _, _ = self._layers[name]
        rows = villages.of(village_id)
        if grid is not None and len(rows):
            area = shapely.union_all(grid.to_crs(frame.crs).geometry.to_numpy())
            rows = rows[shapely.intersects(frame.geometry.to_numpy()[rows], area)]
        return rows

    def _layer_rows(self, name: str, rows: np.ndarray) -> gpd.GeoDataFrame:
        """Rows ``rows`` of layer ``name``, masked and reprojected."""
        _, _, masked, geoms = self._layers[name]
        out = masked.take(rows).set_crs(self.target, allow_override=True)
        out[out.geometry.name] = gpd.GeoSeries(geoms[rows], index=out.index, crs=self.target)
        return out

    def _sources(self) -> dict[str, _LayerSource]:
        """Each layer converted once for the GeoPackages (:class:`_LayerSource`), on first use (in the worker).

        The columns :class:`maps.premask.MaskedRows` masks again per slice (a categorical column, or one
        whose dtype masking changes) are converted per village; a frame it masks per slice (index or column
        names not unique) is converted per village altogether.
        """
        if self._gpkg_sources is None:
            def again(frame: pd.DataFrame, whole: pd.DataFrame) -> frozenset | None:
                if not (frame.index.is_unique and frame.columns.is_unique):
                    return None
                return frozenset(c for c in whole.columns if c not in frame.columns
                                 or isinstance(frame[c].dtype, pd.CategoricalDtype) or frame[c].dtype != whole[c].dtype)

            sources = {}
            whole = self._whole_findings = self._findings(np.arange(len(self.findings)))
            changed = self._findings_again = again(self.findings, whole)
            if changed is not None:  # the layer as _gpkg_layers writes it: verification columns last
                sources["findings"] = _LayerSource("findings", _gpkg_layers(whole, {})["findings"], changed)
            for name, (frame, _, _, _) in self._layers.items():
                whole = self._layer_rows(name, np.arange(len(frame)))
                changed = again(frame, whole)
                if changed is not None:
                    sources[name] = _LayerSource(name, whole, changed)
            self._gpkg_sources = sources
        return self._gpkg_sources

    def _gpkg_plans(self, rows: np.ndarray, masked, layer_rows: dict[str, np.ndarray],
                    extra: dict[str, gpd.GeoDataFrame]) -> dict[str, dict] | None:
        """The GeoPackage plans (:func:`_gpkg_plans`) of a village's findings ``rows`` (masked: ``masked()``),
        its rows of the other layers and the ``extra`` layers (the 田长 grid), or None (GDAL writes it)."""
        sources = self._sources()
        if "findings" not in sources or any(n not in sources for n in layer_rows):
            return None

        def finding_column(c: str) -> pd.Series:
            frame = masked()
            if c in VERIFICATION_COLUMNS:  # as _gpkg_layers makes them
                return frame[c].astype(object) if c in frame.columns else pd.Series([None] * len(rows), dtype=object)
            return frame[c]

        plans = {"findings": sources["findings"].plan(rows, finding_column)}
        for name, at in layer_rows.items():
            part = {}

            def column(c: str, name=name, at=at, part=part) -> pd.Series:
                if "frame" not in part:
                    part["frame"] = pd.DataFrame(self._layer_rows(name, at), copy=False)
                return part["frame"][c]

            plans[name] = sources[name].plan(at, column)
        if extra:
            plans.update(_gpkg_plans(extra) or {"": None})
        return None if any(p is None for p in plans.values()) else plans

    def village(self, out_dir: str | Path, village_id: str, *, name: str | None = None,
                township: str | None = None, run_date: dt.date | None = None,
                grid: gpd.GeoDataFrame | None = None) -> dict[str, Path]:
        """Write one village's (or, with ``grid``, one 田长 grid's) field files; see :func:`export_village`.

        Examples
        --------
        >>> # FieldBatch(findings, parcels=parcels).village("out/exports", "110117104201", name="东村")
        """
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{out_dir}: cannot create the folder ({exc.strerror or exc})") from None
        rows = self._villages.of(village_id)
        grid_id = None
        if grid is not None:
            grid_id = grid["grid_id"].astype(object).iloc[0]
            rows = self._grids.of(grid_id) if self._grids is not None else np.array([], dtype=np.intp)

        def known(value, column):
            if isinstance(value, str) and value.strip():
                return value.strip()
            if column not in self.findings.columns:
                return None
            if column not in self._names:
                self._names[column] = self.findings[column].astype(object).to_numpy()
            found = next((v for v in self._names[column][rows] if isinstance(v, str) and v.strip()), None)
            return found.strip() if found is not None else None

        name, township = known(name, "village"), known(township, "township")
        stem = file_stem(village_id if grid_id is None else grid_id, name)
        place = " ".join(p for p in (township, name or str(village_id)) if p)
        layer_rows = {n: self._rows_of(n, village_id, grid) for n in ("parcels", "buildings") if n in self._layers}
        extra = {}
        if grid is not None:
            leader = mask_frame(grid[["grid_leader"]])["grid_leader"].astype(object) \
                if "grid_leader" in grid.columns else pd.Series([], dtype=object)
            leader = next((v for v in leader if isinstance(v, str) and v.strip()), None)
            place += f" 网格 {grid_id}" + (f" 田长 {leader}" if leader else "")
            if grid.crs is None:
                raise CRSError("field_grid: no CRS; give the district's field_grid in its working CRS")
            # the grid leader is masked even with full_names (that keeps the owners' names only)
            extra["field_grid"] = mask_frame(grid).to_crs(self.target)
        title = f"{place} 问题图斑 ({(run_date or dt.date.today()).isoformat()})"
        _checked(self.findings, [*GEOJSON_PROPERTIES, "family"])
        found: dict[str, gpd.GeoDataFrame] = {}

        def masked() -> gpd.GeoDataFrame:  # the village's masked findings, when needed
            if "masked" not in found:
                found["masked"] = self._findings(rows)
            return found["masked"]

        texts = self._texts()
        geojson, gpkg, kml = (path_in(out_dir, stem, suffix) for suffix in (".geojson", ".gpkg", ".kml"))
        if texts is not None:  # each row's Feature and Placemark made once for the batch
            _write_geojson_features(geojson, texts["features"][rows].tolist())
            _write_kml_document(kml, mask_ids_in_text(title), texts["families"][rows], texts["severities"][rows],
                                texts["placemarks"][rows].tolist())
        else:
            props = _display(masked()[GEOJSON_PROPERTIES])
            wgs84 = self._wgs84[rows]
            _write_geojson(geojson, props, wgs84)
            _write_kml(kml, props, self.findings.iloc[rows], masked()["message"], wgs84, mask_ids_in_text(title))
        _write_gpkg(gpkg, masked, lambda: {**{n: self._layer_rows(n, r) for n, r in layer_rows.items()}, **extra},
                    plans=self._gpkg_plans(rows, masked, layer_rows, extra))
        return {"geojson": geojson, "gpkg": gpkg, "kml": kml}

    def _texts(self) -> dict | None:
        """Each finding's GeoJSON Feature and KML Placemark, made once for all the batch's villages (on first
        use): the same text as made from a village's rows alone, row by row. None (each village makes its
        own) when masking a column they show depends on the rows taken (:class:`maps.premask.MaskedRows`)
        or making them fails for some row (that village fails as before)."""
        if self._batch_texts is None:
            self._sources()
            texts = False
            shown = {*GEOJSON_PROPERTIES, "message"}
            if self._findings_again is not None and not (self._findings_again & shown):
                whole = self._whole_findings
                try:
                    props = _display(whole[GEOJSON_PROPERTIES])
                    families = self.findings["family"].astype(object).to_numpy()
                    severities = self.findings["severity"].astype(object).to_numpy()
                    features = _geojson_features(props, self._wgs84)
                    placemarks = _kml_placemarks(props, families, severities,
                                                 whole["message"].astype(object).to_numpy(), self._wgs84)
                except Exception:  # noqa: BLE001 - each village meets its own error, as before
                    placemarks = None
                if placemarks is not None:
                    texts = {"families": families, "severities": severities,
                             "features": _objects(features), "placemarks": _objects(placemarks)}
            self._batch_texts = texts
        return self._batch_texts or None


#: Sub-folder of the export folder holding the per-grid field files.
GRIDS_FOLDER = "grids"


def grid_stems(grids: gpd.GeoDataFrame, names: dict | None = None) -> dict:
    """Each 田长 grid's file stem ``<grid_id>_<村名>``, refusing two grids that would write the same file.

    Rows without a ``grid_id`` are skipped (no finding is routed to them); rows of one ``grid_id`` are
    one grid.

    Parameters
    ----------
    grids : GeoDataFrame
        The ``field_grids`` layer (``grid_id``, ``village_id``).
    names : dict, optional
        ``village_id`` -> village name.

    Returns
    -------
    dict
        ``grid_id`` -> stem.

    Raises
    ------
    LayerError
        One line naming both grid ids and the shared file name.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G/1", "G:1"], "village_id": ["V1", "V1"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> grid_stems(g.iloc[:1], {"V1": "东村"})
    {'G/1': 'G_1_东村'}
    >>> grid_stems(g)
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: field_grids 图层 grid_id 列：网格 'G/1' 与 'G:1' 的文件名相同（G_1）...
    """
    import unicodedata

    for col in ("grid_id", "village_id"):
        if col not in grids.columns:
            raise LayerError(f"field_grids: no column {col}; give grid_id, village_id, grid_leader (LAYERS.md)")
    names = names or {}
    rows = grids[grids["grid_id"].notna()].drop_duplicates("grid_id")
    stems: dict = {}
    owner: dict = {}
    for gid, vid in zip(rows["grid_id"].astype(object), rows["village_id"].astype(object)):
        stem = file_stem(gid, names.get(vid))
        key = unicodedata.normalize("NFC", stem).casefold()
        if key in owner:
            raise LayerError(
                f"field_grids 图层 grid_id 列：网格 {str(owner[key])!r} 与 {str(gid)!r} 的文件名相同（{stem}），"
                f"会互相覆盖；请改用不会冲突的网格编号 (grid ids {str(owner[key])!r} and {str(gid)!r} give the "
                f"same file name {stem!r}; make them distinct)")
        owner[key] = gid
        stems[gid] = stem
    return stems


def export_grids(findings: gpd.GeoDataFrame, out_dir: str | Path, grids: gpd.GeoDataFrame, *,
                 names: dict | None = None, villages=None, **kwargs) -> dict[str, dict[str, Path]]:
    """Field files per 田长 grid, in ``out_dir/grids``: ``<grid_id>_<村名>.geojson|.gpkg|.kml``.

    One set per grid of ``grids`` (the ``field_grids`` layer), written by :func:`export_village` with
    its ``grid`` (same columns, styles and verification fields as the village files; the grid leader's
    name masked). File names are checked first (:func:`grid_stems`): two grids with one file name are
    refused before anything is written; every path stays inside the folder.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings with ``grid_id`` (as ``landguard check`` writes them with ``field_grids``).
    out_dir : str or Path
        The export folder; the files go into its ``grids`` sub-folder.
    grids : GeoDataFrame
        The ``field_grids`` layer: ``grid_id``, ``village_id``, ``grid_leader``.
    names : dict, optional
        ``village_id`` -> village name, for the file names and the KML document name.
    villages : sequence, optional
        Only the grids of these villages.
    **kwargs
        Passed to :func:`export_village` (``parcels``, ``buildings``, ``full_names``, ``crs``,
        ``township``, ``run_date``).

    Returns
    -------
    dict
        ``grid_id`` -> ``{"geojson": Path, "gpkg": Path, "kml": Path}``.

    Examples
    --------
    >>> import tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1"], "village_id": ["V1"], "grid_leader": ["王建国"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508100, 4443100)], crs=4548)
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["V1"],
    ...                       "grid_id": ["G1"]}, geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> files = export_grids(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), g, names={"V1": "东村"})
    >>> files["G1"]["kml"].parent.name, files["G1"]["kml"].name
    ('grids', 'G1_东村.kml')
    """
    names = dict(names or {})
    chosen = chosen_grids(grids, names, villages)  # refused before anything is written
    folder = Path(out_dir) / GRIDS_FOLDER
    if not isinstance(findings, gpd.GeoDataFrame) or "grid_id" not in findings.columns:
        findings = _checked(findings, ["village_id"]).assign(grid_id=None)
    per_grid = {k: kwargs.pop(k) for k in ("township", "run_date") if k in kwargs}
    batch = FieldBatch(findings, villages=[vid for _, vid in chosen.values()],
                       grids=grids_of(grids, chosen), **kwargs)
    return {gid: batch.village(folder, vid, name=names.get(vid), grid=grid, **per_grid)
            for gid, (grid, vid) in chosen.items()}


def chosen_grids(grids: gpd.GeoDataFrame, names: dict | None = None, villages=None) -> dict:
    """The 田长 grids to write: ``grid_id`` -> (its ``field_grids`` rows, its village id).

    Refuses a grids layer without CRS and two grids with one file name (:func:`grid_stems`).

    Parameters
    ----------
    grids : GeoDataFrame
        The ``field_grids`` layer.
    names : dict, optional
        ``village_id`` -> village name.
    villages : sequence, optional
        Only the grids of these villages.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "village_id": ["V1", "V2"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> list(chosen_grids(g, villages=["V2"]))
    ['G2']
    """
    if grids.crs is None:
        raise CRSError("field_grids: no CRS; give the 田长 grids with their CRS")
    stems = grid_stems(grids, names)
    wanted = None if not villages else {str(v) for v in villages}
    ids = grids["grid_id"].astype(object)
    chosen = {}
    for gid in stems:
        grid = grids[(ids == gid).to_numpy()]
        vid = grid["village_id"].astype(object).iloc[0]
        if wanted is None or str(vid) in wanted:
            chosen[gid] = (grid, vid)
    return chosen


def grids_of(grids: gpd.GeoDataFrame, chosen: dict) -> gpd.GeoDataFrame:
    """The rows of ``grids`` of the chosen grids (:func:`chosen_grids`).

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "village_id": ["V1", "V2"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> grids_of(g, {"G2": None})["grid_id"].tolist()
    ['G2']
    """
    return grids[grids["grid_id"].astype(object).isin(list(chosen)).to_numpy()]
