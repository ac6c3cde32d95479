"""The field GeoPackages' fast path (a GDAL template per schema, rows inserted by SQLite) against GDAL itself.

``maps.exports._write_gpkg`` copies a template of empty layers that GDAL wrote and inserts the rows with
SQLite; with ``fast=False`` GDAL writes every layer, as before. The two files must hold the same: every
table of the GeoPackage (feature tables value by value with their SQLite storage class, geometry blobs
byte for byte, the R-tree entries, extents, feature counts, styles, aliases, value lists, the landguard
marker), the same schema, and read back the same through GDAL. Only the write times differ (each file
carries its own), and the R-tree's internal node pages (the same entries, packed differently).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from analyses.findings import concat_findings, finalise
from analyses.registry import CATALOGUE
from maps import exports, gpkg_fill
from maps.exports import FieldBatch, _gpkg_layers, _gpkg_plans, _write_gpkg
from spatial.errors import OutputError
from tests.builders import CRS, X0, Y0, frame, square

VILLAGE = "110117104201"
_STAMPS = {"last_change", "update_time", "timestamp"}  # when the file was written
_SHADOW = re.compile(r"^rtree_.+_(node|parent|rowid)$")  # R-tree pages: same entries, other packing
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _cell(value):
    """A stored value with its SQLite storage class; floats by their bits (-0.0, inf and nan kept apart)."""
    if isinstance(value, float):
        return "real", value.hex()
    return type(value).__name__, value


def gpkg_content(path) -> dict:
    """Everything a GeoPackage holds, comparable between two files (write times checked, then blanked)."""
    con = sqlite3.connect(path)
    try:
        out = {p: con.execute(f"PRAGMA {p}").fetchall()
               for p in ("application_id", "user_version", "page_size", "encoding", "integrity_check",
                         "foreign_key_check")}
        schema = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        out["schema"] = sorted(schema, key=repr)
        for kind, name, _, sql in schema:
            if kind != "table" or _SHADOW.match(name):
                continue
            if "USING rtree" in (sql or ""):  # the index's own consistency check (nodes, parents, rowids)
                out[f"rtreecheck {name}"] = con.execute("SELECT rtreecheck(?)", (name,)).fetchall()
                assert out[f"rtreecheck {name}"] == [("ok",)], name
            cur = con.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cur.description]
            rows = []
            for row in cur.fetchall():
                cells = []
                for col, value in zip(columns, row):
                    if col in _STAMPS and value is not None:
                        assert _ISO.match(value), (name, col, value)
                        value = "<written at>"
                    cells.append(_cell(value))
                rows.append(tuple(cells))
            out[name] = (columns, sorted(rows, key=repr))
    finally:
        con.close()
    return out


def assert_same_gpkg(fast, slow) -> None:
    """``fast`` holds what ``slow`` (GDAL) holds: tables, schema, and the layers as GDAL reads them."""
    a, b = gpkg_content(fast), gpkg_content(slow)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    layers = pyogrio.list_layers(slow)
    assert (pyogrio.list_layers(fast) == layers).all()
    for name, _ in layers:
        left, right = pyogrio.read_dataframe(fast, layer=name), pyogrio.read_dataframe(slow, layer=name)
        if isinstance(right, gpd.GeoDataFrame):
            assert left.crs == right.crs
            assert shapely.to_wkb(left.geometry.values).tolist() == shapely.to_wkb(right.geometry.values).tolist()
            left, right = pd.DataFrame(left.drop(columns="geometry")), pd.DataFrame(right.drop(columns="geometry"))
        if name == "layer_styles":
            left, right = left.drop(columns="update_time"), right.drop(columns="update_time")
        pd.testing.assert_frame_equal(left, right)


def _findings():
    ring = [(0, 0), (0, 40), (40, 40), (40, 0), (0, 0)]
    hole = [(10, 10), (20, 10), (20, 20), (10, 20), (10, 10)]
    rows = [
        {"subject_layer": "buildings", "subject_id": "B1", "status": "new", "village_id": VILLAGE,
         "geometry": shapely.affinity.translate(shapely.Polygon(ring, [hole]), X0, Y0),
         "message": "权利人在耕地上建房 & <违法> “待核” 'quote' \"dq\""},
        {"subject_layer": "buildings", "subject_id": "B2", "status": "existing", "village_id": VILLAGE,
         "geometry": shapely.MultiPolygon([square(100, 0, 10), square(130, 0, 10)]), "message": "两处"},
    ]
    farm = finalise(CATALOGUE["FARM-BUILD"], frame(rows))
    home = finalise(CATALOGUE["HOME-MULTI"], frame([
        {"subject_layer": "parcels", "subject_id": "P1", "related_ids": "P1;P2", "measured": 2, "limit": 1,
         "unit": "处", "severity": "high", "village_id": VILLAGE, "geometry": square(200, 0, 15),
         "message": "名下有2处宅基地"}]), area=False)
    return concat_findings([farm, home], crs=CRS)


def _hostile_parcels(n: int = 7) -> gpd.GeoDataFrame:
    """Parcels with every column kind the fast path writes itself, and the values GDAL treats specially."""
    return gpd.GeoDataFrame({
        "parcel_id": [f"P{i}" for i in range(n)],
        "village_id": [VILLAGE] * n,
        "text": pd.Series(["东村", None, np.nan, "", "a\tb\nc", "=SUM(A1)", "😀"], dtype=object),
        "str": pd.Series(["x", None, "y", "z", "", "w", "v"], dtype="str"),
        "flags": pd.Series([True, False, None, True, np.nan, False, True], dtype=object),  # str() by GDAL
        "mixed": pd.Series([1, 2.5, float("inf"), "s", None, -0.0, 10**20], dtype=object),
        "real": [1.5, np.nan, np.inf, -np.inf, -0.0, 1e300, 5e-324],
        "real32": np.array([1.1, np.nan, 3, 4, 5, 6, 7], dtype=np.float32),
        "i64": np.array([0, -1, 2**62, -(2**63), 4, 5, 6], dtype=np.int64),
        "i32": np.arange(n, dtype=np.int32), "i16": np.arange(n, dtype=np.int16),
        "u8": np.arange(n, dtype=np.uint8), "u32": np.arange(n, dtype=np.uint32) * 100000,
        "yes": [True, False] * 3 + [True],
        "nullable_int": pd.array([1, None, 3, 2**62, 5, 6, None], dtype="Int64"),
        "nullable_bool": pd.array([True, None, False, True, True, False, None], dtype="boolean"),
        "nullable_real": pd.array([1.0, None, np.nan, 4, 5, 6, 7], dtype="Float64"),
        "approved": pd.to_datetime(["2020-01-01", None, "2020-01-01 12:34:56", "1999-12-31 23:59:59",
                                    "1700-01-01", "2262-04-11", None], format="ISO8601").astype("datetime64[ns]"),
        "approved_us": pd.to_datetime(["2020-01-01", None, "2020-02-29 01:02:03", "1000-01-01", "9999-12-31",
                                       "2021-01-01", "2022-01-01"], format="ISO8601").astype("datetime64[us]"),
        'quoted "name"': ["a"] * n,
    }, geometry=[square(200, 0, 15), None, shapely.MultiPolygon([square(0, 0, 1), square(3, 3, 1)]),
                 square(-5, -5, 0.001), square(10, 10, 2), square(20, 20, 2), square(30, 30, 2)], crs=CRS)


def _pair(tmp_path, findings, others, crs="wgs84"):
    """The village's GeoPackage written by FieldBatch (the fast path when it can) and by GDAL alone, and
    whether the fast path was taken."""
    batch = FieldBatch(findings, crs=crs, **others)
    fast = batch.village(tmp_path / "fast", VILLAGE)["gpkg"]
    rows = batch._villages.of(VILLAGE)
    masked = batch._findings(rows)
    layers = {n: batch._layer(n, VILLAGE, None) for n in others}
    slow = _write_gpkg(tmp_path / "slow.gpkg", masked, layers, fast=False)
    alone = _write_gpkg(tmp_path / "alone.gpkg", masked, layers)  # one frame, no batch
    assert_same_gpkg(alone, slow)
    taken = batch._gpkg_plans(rows, masked, {n: batch._rows_of(n, VILLAGE, None) for n in others}, {}) is not None
    assert taken == (_gpkg_plans(_gpkg_layers(masked, layers)) is not None)
    return fast, slow, taken


@pytest.mark.parametrize("crs", ["wgs84", "working"])
def test_fast_gpkg_holds_what_gdal_writes(tmp_path, crs):
    buildings = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "village_id": [VILLAGE] * 2,
                                  "floors": pd.array([2, None], dtype="Int64"), "owner_id": ["110117199001011234", None]},
                                 geometry=[square(0, 0, 40), shapely.MultiPolygon([square(100, 0, 10)])], crs=CRS)
    fast, slow, taken = _pair(tmp_path, _findings(), {"parcels": _hostile_parcels(), "buildings": buildings}, crs)
    assert taken
    assert_same_gpkg(fast, slow)
    parcels = pyogrio.read_dataframe(fast, layer="parcels")
    assert parcels["flags"].tolist()[:2] == ["True", "False"] and parcels["text"].isna().tolist()[1:3] == [True, True]



def test_layer_extent_is_gdals_text_of_the_bounds(tmp_path):
    # 508000.00048828125 is a tie at the 17th digit: SQLite's printf rounds it up, C's %.16g down
    x = 508000.00048828125
    parcels = gpd.GeoDataFrame({"parcel_id": ["P1", "P2"], "village_id": [VILLAGE] * 2},
                               geometry=[shapely.box(x, 4443000.00146484375, x + 1, 4443001), square(5, 5, 3.3333)],
                               crs=CRS)
    fast, slow, taken = _pair(tmp_path, _findings(), {"parcels": parcels}, crs="working")
    assert taken
    assert_same_gpkg(fast, slow)
    extent = sqlite3.connect(fast).execute("SELECT min_x FROM gpkg_contents WHERE table_name = 'parcels'").fetchone()
    assert extent == (508000.0004882813,)


def test_sqlite_g17_is_what_gdals_sqlite_prints(tmp_path):
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.uniform(-180, 180, 2000), rng.uniform(3e5, 5e6, 2000),
                             rng.normal(0, 1, 1000) * 10.0 ** rng.integers(-300, 300, 1000),
                             508000 + np.arange(1, 200, 2) / 2048, [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]])
    path = tmp_path / "v.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"x": values}), path, layer="v", driver="GPKG")
    got = pyogrio.read_dataframe(path, sql="SELECT x, CAST(printf('%.17g', x) AS REAL) AS y FROM v", sql_dialect="SQLITE")
    mine = np.array([gpkg_fill._sqlite_g17(v) for v in got["x"]])
    assert (mine == got["y"].to_numpy()).all()
    assert (mine != got["x"].to_numpy()).any()  # not simply the value itself


@pytest.mark.parametrize("spoil", [
    lambda p: p.assign(text=pd.Series(["a", pd.NA] + ["b"] * 5, dtype=object)),       # GDAL writes '<NA>'
    lambda p: p.assign(text=["a\x00b"] + ["b"] * 6),                                   # GDAL cuts at NUL
    lambda p: p.assign(approved=p["approved"] + pd.Timedelta("1ms")),                 # GDAL's own rounding
    lambda p: p.assign(approved=p["approved"].dt.tz_localize("Asia/Shanghai")),
    lambda p: p.assign(big=np.arange(7, dtype=np.uint64)),
    lambda p: p.assign(when=[dt.date(2020, 1, 1)] * 7),
    lambda p: p.assign(fid=np.arange(7)),
    lambda p: p.set_geometry(shapely.force_3d(p.geometry.values)),
    lambda p: p.set_geometry([shapely.Point(X0, Y0)] * 7, crs=CRS),
    lambda p: p.set_geometry([shapely.Polygon()] + list(p.geometry.values[1:]), crs=CRS),
], ids=["pd.NA", "NUL", "milliseconds", "time zone", "uint64", "dates", "fid column", "3D",
        "points", "empty geometry"])
def test_what_the_fast_path_does_not_reproduce_goes_through_gdal(tmp_path, spoil):
    fast, slow, taken = _pair(tmp_path, _findings(), {"parcels": spoil(_hostile_parcels())}, crs="working")
    assert not taken
    assert_same_gpkg(fast, slow)


def test_empty_layers_and_missing_geometries(tmp_path):
    parcels = _hostile_parcels().set_geometry([None] * 7, crs=CRS)
    buildings = gpd.GeoDataFrame({"building_id": pd.Series([], dtype=object), "village_id": pd.Series([], dtype=object)},
                                 geometry=gpd.GeoSeries([], crs=CRS))
    fast, slow, taken = _pair(tmp_path, _findings(), {"parcels": parcels, "buildings": buildings})
    assert taken
    assert_same_gpkg(fast, slow)


def test_gdal_and_qfield_edits_keep_the_spatial_index(tmp_path):
    """QField edits the file through GDAL: its R-tree triggers must be in place and the index whole."""
    fast, _, _ = _pair(tmp_path, _findings(), {"parcels": _hostile_parcels()})
    findings = pyogrio.read_dataframe(fast, layer="findings")
    box = pyogrio.read_dataframe(fast, layer="parcels").geometry.values[2].bounds
    hits = pyogrio.read_dataframe(fast, layer="parcels", bbox=box)  # answered from the R-tree
    assert "P2" in hits["parcel_id"].tolist() and "P1" not in hits["parcel_id"].tolist()
    extra = findings.iloc[:1].copy()
    extra["case_id"] = "NEW"
    pyogrio.write_dataframe(extra, fast, layer="findings", driver="GPKG", append=True)
    con = sqlite3.connect(fast)
    fid, = con.execute("SELECT fid FROM findings WHERE case_id = 'NEW'").fetchone()
    assert con.execute("SELECT count(*) FROM rtree_findings_geom WHERE id = ?", (fid,)).fetchone() == (1,)
    assert con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'findings'").fetchone() == \
        (len(findings) + 1,)


def test_each_file_carries_its_own_write_time(tmp_path):
    findings = _findings()
    _pair(tmp_path, findings, {})  # the template exists from here on
    time.sleep(0.01)
    before = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
    out = _write_gpkg(tmp_path / "later.gpkg", FieldBatch(findings)._findings(np.arange(len(findings))), {})
    con = sqlite3.connect(out)
    stamps = [r[0] for r in con.execute("SELECT last_change FROM gpkg_contents UNION ALL "
                                        "SELECT update_time FROM layer_styles UNION ALL "
                                        "SELECT timestamp FROM gpkg_metadata_reference")]
    assert len(stamps) >= 4 and all(s >= before for s in stamps)


def test_a_column_gdal_refuses_is_refused_as_before(tmp_path):
    findings, parcels = _findings(), _hostile_parcels().assign(GEOM=["x"] * 7)  # GDAL's geometry column
    batch = FieldBatch(findings, parcels=parcels)
    masked, layers = batch._findings(batch._villages.of(VILLAGE)), {"parcels": batch._layer("parcels", VILLAGE, None)}
    assert _gpkg_plans(_gpkg_layers(masked, layers)) is None
    with pytest.raises(OutputError, match="cannot write layer parcels"):
        _write_gpkg(tmp_path / "x.gpkg", masked, layers)
    assert list(tmp_path.iterdir()) == []  # no half file


def test_a_batch_of_villages_holds_what_gdal_writes_village_by_village(tmp_path):
    """FieldBatch converts each layer once: a column whose masking depends on the village (an ID-shaped
    number turns it into text) is converted per village, and a value the fast path cannot write in one
    village sends only that village's file to GDAL."""
    other, third = "110117104202", "110117104203"
    findings = pd.concat([_findings().assign(village_id=v, case_id=lambda f, v=v: f["case_id"] + v)
                          for v in (VILLAGE, other, third)], ignore_index=True)
    findings = gpd.GeoDataFrame(findings, geometry="geometry", crs=CRS)
    parcels = pd.concat([_hostile_parcels().assign(village_id=v) for v in (VILLAGE, other, third)], ignore_index=True)
    parcels["plot_no"] = [1.0] * 7 + [110117199001011234.0] + [2.0] * 13  # ID-shaped in the other village only
    parcels.loc[15, "text"] = "a\x00b"  # GDAL cuts it: the third village's file goes through GDAL
    parcels = gpd.GeoDataFrame(parcels, geometry="geometry", crs=CRS)
    batch = FieldBatch(findings, parcels=parcels, crs="working")
    for vid, fast_path in ((VILLAGE, True), (other, True), (third, False)):
        out = batch.village(tmp_path / vid, vid)["gpkg"]
        rows = batch._villages.of(vid)
        masked = batch._findings(rows)
        layers = {"parcels": batch._layer("parcels", vid, None)}
        assert (batch._gpkg_plans(rows, masked, {"parcels": batch._rows_of("parcels", vid, None)}, {})
                is not None) == fast_path
        assert_same_gpkg(out, _write_gpkg(tmp_path / f"{vid}-gdal.gpkg", masked, layers, fast=False))
    plot_no = [pyogrio.read_dataframe(tmp_path / v / f"{v}.gpkg", layer="parcels")["plot_no"] for v in (VILLAGE, other)]
    assert plot_no[0].dtype == np.float64 and plot_no[1].tolist()[0].startswith("110117********")
    assert "plot_no" in batch._sources()["parcels"].again


def _three_villages():
    villages = (VILLAGE, "110117104202", "110117104203")
    findings = pd.concat([_findings().assign(village_id=v, village=f"村{i}", township="镇",
                                             case_id=lambda f, v=v: f["case_id"] + v)
                          for i, v in enumerate(villages)], ignore_index=True)
    return villages, gpd.GeoDataFrame(findings, geometry="geometry", crs=CRS)


def test_batch_geojson_and_kml_are_each_villages_own(tmp_path):
    """Features and placemarks are made once per batch: each village's files are byte for byte what the
    village's rows alone give (export_geojson / export_kml)."""
    villages, findings = _three_villages()
    batch = FieldBatch(findings)
    for vid in villages:
        files = batch.village(tmp_path / "batch", vid, run_date=dt.date(2026, 12, 2))
        own = findings[findings["village_id"] == vid]
        alone_json = exports.export_geojson(own, tmp_path / "alone" / f"{vid}.geojson")
        alone_kml = exports.export_kml(own, tmp_path / "alone" / f"{vid}.kml", run_date=dt.date(2026, 12, 2))
        assert files["geojson"].read_bytes() == alone_json.read_bytes()
        assert files["kml"].read_bytes() == alone_kml.read_bytes()
    assert batch._texts() is not None  # made once for the batch


def test_a_value_only_one_village_cannot_show_fails_that_village_alone(tmp_path):
    villages, findings = _three_villages()
    findings.loc[findings["village_id"] == villages[1], "measured"] = np.inf  # not JSON: refused as before
    batch = FieldBatch(findings)
    assert batch._texts() is None  # each village makes its own texts
    batch.village(tmp_path, villages[0])
    with pytest.raises(ValueError):
        batch.village(tmp_path, villages[1])
    files = batch.village(tmp_path, villages[2])
    own = findings[findings["village_id"] == villages[2]]
    assert files["geojson"].read_bytes() == exports.export_geojson(own, tmp_path / "alone.geojson").read_bytes()


def test_a_shown_column_masked_per_village_is_made_per_village(tmp_path):
    villages, findings = _three_villages()
    findings["limit"] = findings["limit"].astype(float)
    findings.loc[findings["village_id"] == villages[1], "limit"] = 110117199001011234.0  # ID-shaped: text there
    batch = FieldBatch(findings)
    assert batch._texts() is None
    for vid in villages:
        files = batch.village(tmp_path, vid)
        own = findings[findings["village_id"] == vid]
        assert files["geojson"].read_bytes() == exports.export_geojson(own, tmp_path / "a.geojson").read_bytes()
    # masked to text in that village, shown as no figure there (as the village's rows alone show it)
    assert '"limit":1.0' in (tmp_path / f"{villages[0]}_村0.geojson").read_text(encoding="utf-8")
    assert '"limit":1.0' not in (tmp_path / f"{villages[1]}_村1.geojson").read_text(encoding="utf-8")


@pytest.mark.parametrize("n", [51, 52, 2602])
def test_the_spatial_index_of_many_features_is_gdals(tmp_path, n):
    """One R-tree node holds 51 boxes: a root leaf, two levels, three levels."""
    rng = np.random.default_rng(n)
    x, y, w = rng.uniform(0, 900, n), rng.uniform(0, 900, n), rng.uniform(0.5, 20, n)
    parcels = gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(n)], "village_id": [VILLAGE] * n},
                               geometry=[square(a, b, c) for a, b, c in zip(x, y, w)], crs=CRS)
    fast, slow, taken = _pair(tmp_path, _findings(), {"parcels": parcels})
    assert taken
    assert_same_gpkg(fast, slow)
    x0, y0, x1, y1 = pyogrio.read_dataframe(slow, layer="parcels").geometry.values[n // 2].bounds
    box = (x0 - 1e-4, y0 - 1e-4, x1 + 1e-4, y1 + 1e-4)
    hits = [set(pyogrio.read_dataframe(f, layer="parcels", bbox=box)["parcel_id"]) for f in (fast, slow)]
    assert hits[0] == hits[1] and hits[0]


@pytest.mark.parametrize("separator", [False, True])
def test_placemarks_column_by_column_are_the_row_by_row_text(separator):
    n = 6
    props = pd.DataFrame({c: pd.Series(["a&b", "<x>", None, "", '"q" \'s\'', "中文\n\t"], dtype=object)
                          for c in exports.GEOJSON_PROPERTIES})
    props["subject_id"] = pd.Series([0, 1.5, None, "", "B&1", 7], dtype=object)  # falsy 0 and "" are left out
    props["measured"] = pd.Series([0.0, 2.5, None, np.nan, -1.0, 1e20], dtype=object)
    if separator:
        props.loc[2, "remedy"] = "x" + exports._SEP + "y"  # written row by row then
    families = np.array(["farmland", "homestead", None, np.nan, "unknown<>", "setback"], dtype=object)
    severities = np.array(["high", None, "low", "medium", "x", "high"], dtype=object)
    messages = np.array(["<b>&amp;</b>", None, np.nan, "", "'\"", "权利人"], dtype=object)
    geoms = np.array([square(0, 0, 1), None, shapely.MultiPolygon([square(0, 0, 1), square(2, 2, 1)]),
                      square(5, 5, 1), shapely.Polygon(), square(9, 9, 1)], dtype=object)
    args = (props, families, severities, messages, geoms)
    assert exports._kml_placemarks(*args) == exports._kml_placemarks_rows(*args)
    assert len(exports._kml_placemarks(*args)) == n


@pytest.mark.parametrize("odd", [None, np.inf, pd.Timestamp("2020-01-01"), np.int64(3)])
def test_features_column_by_column_are_the_row_by_row_text(odd):
    props = pd.DataFrame({c: pd.Series(["a\"b\\\\", "中文\n\t\x01", None, "", "</script>", "é"], dtype=object)
                          for c in exports.GEOJSON_PROPERTIES})
    props["measured"] = pd.Series([0.0, 2.5, None, -0.0, 1e20, 1 / 3], dtype=object)
    props["area_mu"] = pd.Series([1, True, False, None, 2**70, -5], dtype=object)
    if odd is not None:
        props.loc[3, "remedy"] = odd  # json refuses inf and the Timestamp, writes nothing for numpy ints
    geoms = np.array([square(0, 0, 1), None, shapely.MultiPolygon([square(0, 0, 1), square(2, 2, 1)]),
                      square(5, 5, 1), shapely.Point(1, 2), square(9, 9, 1)], dtype=object)
    try:
        expected = exports._geojson_features_rows(props, geoms)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            exports._geojson_features(props, geoms)
        return
    assert exports._geojson_features(props, geoms) == expected
