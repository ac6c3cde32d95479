"""Field GeoPackages written fast: a template of empty layers per schema, the rows inserted by SQLite.

GDAL writes each schema's template once per process (layers, styles, aliases, the value list of
``verified``, the landguard marker); each file is that template's bytes plus one SQLite transaction holding
the rows, geometry blobs, R-tree entries, counts and extents exactly as GDAL stores them. Whatever the fast
path does not reproduce goes through GDAL (:func:`_gdal_gpkg`). Used by :mod:`maps.exports`;
``tests/maps/test_gpkg_fast_export.py`` holds the two writers to each other, table by table.
"""

from __future__ import annotations

import itertools
import math
import operator
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from analyses.ledger import COLUMN_LABELS, VERDICTS
from spatial.atomic import mark_landguard_output
from spatial.clean import GPKG_DATASET_OPTIONS
from spatial.errors import OutputError

from .qgis_style import write_layer_styles

__all__: list[str] = []  # internal to maps.exports


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
