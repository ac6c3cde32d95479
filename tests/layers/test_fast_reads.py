"""The Arrow read (only the mapped fields, in threads) gives exactly what the GDAL-to-numpy read gave.

Every file is built here with an explicit CRS; the reference is pyogrio's non-Arrow read followed by the
exact re-read of 64-bit integers (the reader's path before the Arrow one, still used as its fallback).
"""

import datetime as dt
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest
import shapely

from layers.config import LayerSource
from layers.readers import _exact_integers, _read_arrow, read_layer, read_layers
from layers.roles import ROLES

CRS = "EPSG:4548"


def _boxes(n: int) -> np.ndarray:
    return shapely.to_wkb([shapely.box(508000 + 20 * i, 4443000, 508010 + 20 * i, 4443010) for i in range(n)])


def hostile_table() -> pa.Table:
    """Every kind of field bureau data has, with nulls where they change the dtype."""
    return pa.table({
        "ZDDM": pa.array(["P1", None, " P3 ", "张三宅"], pa.string()),
        "ZJHM": pa.array([110105194912310021, None, 11010519491231002, 3], pa.int64()),      # 18 digits, a null
        "ZJHM2": pa.array([110105194912310021, 2, 3, 4], pa.int64()),                        # no null
        "UBIG": pa.array([2 ** 63 + 5, None, 3, 4], pa.uint64()),
        "DLBM": pa.array(["0101", "0103", None, "1104a"], pa.string()),
        "CODE": pa.array([101, None, 103, 702], pa.int32()),
        "FLAG": pa.array([True, None, False, True], pa.bool_()),
        "FLAG2": pa.array([True, False, False, True], pa.bool_()),
        "PZRQ": pa.array([dt.date(2021, 7, 1), None, dt.date(1, 1, 1), dt.date(9999, 12, 31)], pa.date32()),
        "TS": pa.array([dt.datetime(2021, 7, 1, 12), None, dt.datetime(1500, 1, 1), dt.datetime(2030, 1, 1)],
                       pa.timestamp("ms")),
        "PZMJ": pa.array([575.5, None, float("nan"), 1e16], pa.float64()),
        "I16": pa.array([1, None, 3, 4], pa.int16()),
        "geometry": pa.array(_boxes(4), pa.binary()),
    })


def reference_read(path, **kwargs) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _exact_integers(pyogrio.read_dataframe(path, **kwargs), str(path), kwargs)


@pytest.mark.parametrize("ext,driver", [("gpkg", "GPKG"), ("fgb", "FlatGeobuf"), ("geojson", "GeoJSON"),
                                        ("shp", "ESRI Shapefile")])
def test_arrow_read_has_the_values_and_dtypes_of_the_numpy_read(tmp_path, ext, driver):
    path = tmp_path / f"t.{ext}"
    pyogrio.write_arrow(hostile_table(), path, driver=driver, geometry_name="geometry",
                        geometry_type="Polygon", crs=CRS)
    ref = reference_read(path)
    every = LayerSource(path=str(path), columns={"parcel_id": "ZDDM"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a role that maps none of the other fields still gets them all when the test asks for every field
        got = _read_arrow(str(path), {}, ROLES["parcels"], every.model_copy(update={"columns": {
            "parcel_id": "ZDDM", "owner_id": "ZJHM", "owner_name": "ZJHM2", "household_id": "UBIG",
            "approved_date": "PZRQ", "replaced_by": "DLBM", "approved_area_m2": "PZMJ", "inherited": "FLAG",
            "village_id": "CODE", "new_house_completed": "TS"}}))
    assert got is not None
    shared = [c for c in ref.columns if c in got.columns and c != "geometry"]
    assert len(shared) >= 9
    for c in shared:
        assert str(got[c].dtype) == str(ref[c].dtype), c
        assert got[c].astype(object).where(got[c].notna(), None).tolist() == \
            ref[c].astype(object).where(ref[c].notna(), None).tolist(), c
    assert shapely.equals_exact(got.geometry.to_numpy(), ref.geometry.to_numpy(), tolerance=0).all()
    assert got.crs == ref.crs


def test_arrow_read_keeps_18_digit_integers_and_text_codes_exact(tmp_path):
    path = tmp_path / "p.gpkg"
    pyogrio.write_arrow(hostile_table(), path, driver="GPKG", geometry_name="geometry", geometry_type="Polygon",
                        crs=CRS)
    frame, notes = read_layer("parcels", LayerSource(path=str(path), columns={"owner_id": "ZJHM"}))
    assert frame["owner_id"].tolist() == ["110105194912310021", None, "11010519491231002", "3"]
    assert frame["parcel_id"].tolist() == ["P1", None, "P3", "张三宅"]
    lu, lu_notes = read_layer("landuse", LayerSource(path=str(path), columns={"dlbm": "CODE"}))
    assert lu["dlbm"].tolist()[::2] == ["0101", "0103"] and lu["dlbm"].tolist()[3] == "0702"
    assert lu["dlbm"].isna().tolist() == [False, True, False, False] and lu_notes["numbers_as_text_dlbm"] == 3


def test_only_the_mapped_fields_are_read(tmp_path):
    path = tmp_path / "p.gpkg"
    pyogrio.write_arrow(hostile_table(), path, driver="GPKG", geometry_name="geometry", geometry_type="Polygon",
                        crs=CRS)
    src = LayerSource(path=str(path), columns={"owner_id": "ZJHM"})
    got = _read_arrow(str(path), {}, ROLES["parcels"], src)
    # ZDDM, PZRQ and PZMJ are the bureau names of parcel_id, approved_date, approved_area_m2 (FIELD_ALIASES)
    assert sorted(c for c in got.columns if c != "geometry") == ["PZMJ", "PZRQ", "ZDDM", "ZJHM"]


def test_a_missing_essential_field_still_lists_every_field(tmp_path):
    path = tmp_path / "p.gpkg"
    pyogrio.write_arrow(hostile_table().drop(["ZDDM"]), path, driver="GPKG", geometry_name="geometry",
                        geometry_type="Polygon", crs=CRS)
    from spatial.errors import LayerError

    with pytest.raises(LayerError) as err:
        read_layer("parcels", LayerSource(path=str(path)))
    assert "parcel_id" in str(err.value) and "PZMJ" in str(err.value) and "FLAG2" in str(err.value)


def test_layers_read_in_threads_are_what_one_by_one_gives_and_keep_their_own_warnings(tmp_path):
    """An M layer read beside others: its "M dropped" count goes to it alone, whatever thread read it."""
    from tests.badinput.helpers import replace_gpkg_geometries

    columns = {"buildings": {"building_id": ["B1", "B2", "B3"], "floors": ["2层", "三层", None]},
               "parcels": {"parcel_id": ["P1", "P2", "P3"], "approved_date": ["2021/7/1", "soon", None]},
               "landuse": {"dlbm": [101.0, 103.0, None]},
               "pbf": {"pbf_id": ["F1", "F2", "F3"]},
               "approvals": {"approval_id": ["A1", "A2", "A3"], "kind": ["x", "y", "z"]},
               "cemeteries": {"cemetery_id": ["C1", "C2", "C3"]}}
    sources = {}
    for role, data in columns.items():
        path = tmp_path / f"{role}.gpkg"
        gpd.GeoDataFrame(data, geometry=shapely.from_wkb(_boxes(3)), crs=CRS).to_file(path, layer=role)
        sources[role] = LayerSource(path=str(path))
    measured = {k + 1: shapely.to_wkb(shapely.from_wkt(g.wkt.replace("POLYGON ((", "POLYGON M ((")
                                                       .replace(",", " 7,").replace("))", " 7))")), flavor="iso")
                for k, g in enumerate(shapely.from_wkb(_boxes(3)))}
    replace_gpkg_geometries(tmp_path / "pbf.gpkg", "pbf", measured, m=True)
    filters = list(warnings.filters)
    one_by_one = {role: read_layer(role, src) for role, src in sources.items()}
    with read_layers(sources, threads=3) as read:
        threaded = {role: (frame, notes) for role, frame, notes in read}
    assert list(threaded) == list(sources)
    for role, (frame, notes) in threaded.items():
        ref_frame, ref_notes = one_by_one[role]
        assert notes == ref_notes, role
        assert frame.attrs == ref_frame.attrs, role
        pd.testing.assert_frame_equal(pd.DataFrame(frame.drop(columns="geometry")),
                                      pd.DataFrame(ref_frame.drop(columns="geometry")))
        assert frame.geometry.equals(ref_frame.geometry)
    assert threaded["pbf"][1].get("m_dropped") == 3
    assert all("m_dropped" not in threaded[r][1] for r in sources if r != "pbf")
    assert threaded["buildings"][1]["units_converted_floors"] == 2
    assert threaded["parcels"][1]["bad_dates_approved_date"] == 1
    assert threaded["landuse"][0]["dlbm"].tolist()[:2] == ["0101", "0103"]
    assert warnings.filters == filters  # no reading thread left a warnings filter behind


def test_a_layer_that_fails_raises_in_its_turn(tmp_path):
    from spatial.errors import LayerError

    good = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=shapely.from_wkb(_boxes(1)), crs=CRS).to_file(good)
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    seen = []
    with pytest.raises(LayerError) as err:
        with read_layers({"buildings": LayerSource(path=str(good)), "parcels": LayerSource(path=str(bad))}) as read:
            for role, frame, _ in read:
                seen.append((role, len(frame)))
    assert seen == [("buildings", 1)] and "parcels" in str(err.value)


def test_then_runs_in_the_reading_thread_and_comes_with_its_layer(tmp_path):
    import threading

    from spatial.repair import repair_geometries
    sources = {}
    for k, role in enumerate(["buildings", "parcels", "pbf"]):
        path = tmp_path / f"{role}.gpkg"
        bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
        gpd.GeoDataFrame({f"{role.rstrip('s')}_id": [f"X{k}", "Y"]}, geometry=[bowtie, shapely.box(0, 0, 1 + k, 1)],
                         crs=CRS).to_file(path)
        sources[role] = LayerSource(path=str(path))
    where = {}

    def then(role, frame):
        where[role] = threading.current_thread().name
        return repair_geometries(frame.geometry.to_numpy(), "polygon")

    with read_layers(sources, threads=2, then=then) as read:
        got = [(role, frame, notes, extra) for role, frame, notes, extra in read]
    assert [g[0] for g in got] == list(sources)
    for role, frame, _, (geoms, keep, counts) in got:
        ref = repair_geometries(frame.geometry.to_numpy(), "polygon")
        assert keep.tolist() == ref[1].tolist() == [True, True] and counts.repaired == 1
        assert shapely.equals(geoms, ref[0]).all()
        assert shapely.is_valid(frame.geometry).tolist() == [False, True]   # the frame itself is left as read
    assert all(name.startswith("read_layer") for name in where.values())
