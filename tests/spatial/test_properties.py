"""Property-based tests (hypothesis) of the geometric primitives and of the rules' independence from input order.

Example counts are bounded (``max_examples``) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from analyses import run_rules
from layers.config import load_config
from layers.district import load_district, make_district
from spatial.crs import gk3_zone_crs, to_crs
from spatial.overlay import intersection_by_left, pairwise_intersection
from spatial.repair import repair_geometries
from tests.builders import X0, Y0, frame, square

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

coord = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
size = st.floats(min_value=0.5, max_value=40, allow_nan=False, allow_infinity=False)


@st.composite
def polygons(draw):
    """A valid polygon: a box, a disc, a convex hull of points, a box with a hole, or two disjoint boxes."""
    kind = draw(st.sampled_from(["box", "disc", "hull", "holed", "multi"]))
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    if kind == "box":
        return shapely.box(x, y, x + w, y + h)
    if kind == "disc":
        return shapely.Point(x, y).buffer(w / 2, quad_segs=draw(st.integers(2, 16)))
    if kind == "hull":
        pts = draw(st.lists(st.tuples(coord, coord), min_size=3, max_size=12))
        hull = shapely.MultiPoint(pts).convex_hull
        return hull if hull.geom_type == "Polygon" and hull.area > 1e-6 else shapely.box(x, y, x + w, y + h)
    if kind == "holed":
        outer = shapely.box(x, y, x + w + 2, y + h + 2)
        return outer.difference(shapely.box(x + 1, y + 1, x + 1 + w * 0.5, y + 1 + h * 0.5))
    return shapely.MultiPolygon([shapely.box(x, y, x + w, y + h), shapely.box(x + w + 1, y, x + 2 * w + 1, y + h)])


@FAST
@given(st.lists(polygons(), min_size=1, max_size=8), st.lists(polygons(), min_size=1, max_size=8))
def test_pairwise_intersection_never_exceeds_either_input(left, right):
    li, ri, geoms = pairwise_intersection(left, right)
    area = shapely.area(geoms)
    left_area = shapely.area(np.asarray(left, dtype=object))[li]
    right_area = shapely.area(np.asarray(right, dtype=object))[ri]
    assert (area <= left_area * (1 + 1e-9) + 1e-9).all()
    assert (area <= right_area * (1 + 1e-9) + 1e-9).all()
    # and nothing is lost: every pair with a common area is reported
    expected = {(i, j) for i, a in enumerate(left) for j, b in enumerate(right) if a.intersection(b).area > 1e-9}
    assert expected <= set(zip(li.tolist(), ri.tolist()))


@FAST
@given(st.lists(polygons(), min_size=1, max_size=8), st.lists(polygons(), min_size=1, max_size=8))
def test_covered_part_never_exceeds_the_subject_nor_the_cover(left, cover):
    idx, geoms = intersection_by_left(left, cover)
    area = shapely.area(geoms)
    cover_area = shapely.union_all(cover).area
    left_area = shapely.area(np.asarray(left, dtype=object))[idx]
    assert (area <= left_area * (1 + 1e-9) + 1e-9).all()
    assert (area <= cover_area * (1 + 1e-9) + 1e-9).all()
    # overlapping cover pieces count once: the same as intersecting with their union
    union = shapely.union_all(cover)
    for i, g in zip(idx, geoms):
        assert abs(g.area - left[i].intersection(union).area) <= 1e-6 * max(1.0, left[i].area)


@FAST
@given(st.lists(polygons(), min_size=1, max_size=10))
def test_repair_keeps_valid_polygons_and_their_area(polys):
    polys = np.asarray(polys, dtype=object)
    assert shapely.is_valid(polys).all()
    geoms, keep, counts = repair_geometries(polys)
    assert keep.all() and counts.repaired == 0 and counts.dropped_degenerate == 0
    np.testing.assert_allclose(shapely.area(geoms), shapely.area(polys), rtol=1e-12)


@FAST
@given(st.lists(st.tuples(coord, coord), min_size=4, max_size=10))
def test_repair_of_any_ring_gives_valid_polygons(pts):
    ring = shapely.Polygon(pts)          # may cross itself, double back or collapse
    geoms, keep, _ = repair_geometries([ring])
    assert shapely.is_valid(geoms).all()
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0 for g in geoms)


@FAST
@given(st.floats(min_value=73.7, max_value=134.7), st.floats(min_value=18.0, max_value=53.0),
       st.floats(min_value=-1.4, max_value=1.4))
def test_working_crs_round_trip_stays_within_a_millimetre(lon, lat, offset):
    crs = gk3_zone_crs(lon)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat), shapely.Point(lon + offset * 0.5, lat)], crs=4490)
    there = to_crs(pts, crs)
    back = to_crs(to_crs(there, CRS.from_epsg(4490)), crs)
    assert (there.geometry.distance(back.geometry) < 0.001).all()
    ll = to_crs(there, CRS.from_epsg(4490))
    # a millimetre at these latitudes is < 1e-8 degrees
    assert (shapely.distance(ll.geometry.to_numpy(), pts.geometry.to_numpy()) < 1e-8).all()


# ------------------------------------------------------------------ rules: independent of row order and files

VILLAGES = frame([{"village_id": "110117104201", "name": "东店村", "township": "金海湖镇", "geometry": square(-500, -500, 500, 1000)},
                  {"village_id": "110117104202", "name": "西店村", "township": "金海湖镇", "geometry": square(0, -500, 500, 1000)}])
LANDUSE = frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                 {"dlbm": "0103", "tbbh": "2", "geometry": square(0, -500, 500, 1000)},
                 {"dlbm": "0301", "tbbh": "3", "geometry": square(200, 200, 100)}])
OWNERS = ["11010519491231002X", "110105195001010039", "110105196001010038"]

cell = st.integers(min_value=0, max_value=14)


@st.composite
def districts(draw):
    """Parcels on a grid in both villages, houses on and beside them, some on farmland."""
    n = draw(st.integers(min_value=2, max_value=10))
    cells = draw(st.lists(st.tuples(cell, cell), min_size=n, max_size=n, unique=True))
    parcels, buildings = [], []
    for k, (i, j) in enumerate(cells):
        x, y = -450 + 60 * i, -450 + 60 * j
        w = draw(st.floats(min_value=12, max_value=30))
        parcels.append({"parcel_id": f"P{k}", "owner_id": draw(st.sampled_from(OWNERS + [None])),
                        "approved_date": "2021-07-01", "geometry": square(x, y, w)})
        dx, dy = draw(st.floats(-3, 5)), draw(st.floats(-3, 5))
        buildings.append({"building_id": f"B{k}", "floors": draw(st.integers(1, 4)),
                          "owner_id": parcels[-1]["owner_id"], "geometry": square(x + dx, y + dy, w * 0.8)})
    return frame(parcels), frame(buildings)


def _comparable(findings: gpd.GeoDataFrame) -> tuple[pd.DataFrame, dict]:
    cols = [c for c in findings.columns if c != findings.geometry.name]
    table = findings[cols].copy()
    for c in table.columns:
        if pd.api.types.is_float_dtype(table[c]):
            table[c] = table[c].round(6)
    table = table.astype(object).where(table.notna(), None).sort_values("case_id").reset_index(drop=True)
    shapes = dict(zip(findings["case_id"], findings.geometry))
    return table, shapes


def _assert_same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    ta, ga = _comparable(a)
    tb, gb = _comparable(b)
    pd.testing.assert_frame_equal(ta, tb, check_dtype=False)
    for case, shape in ga.items():
        assert shape.symmetric_difference(gb[case]).area < 1e-6, case


@SLOW
@given(districts(), st.randoms(use_true_random=False))
def test_findings_do_not_depend_on_row_order(layers, rnd):
    parcels, buildings = layers
    as_of = dt.date(2026, 11, 22)
    base = make_district({"villages": VILLAGES, "landuse": LANDUSE, "parcels": parcels, "buildings": buildings}, as_of=as_of)
    found, _ = run_rules(base)

    def shuffled(f):
        order = list(range(len(f)))
        rnd.shuffle(order)
        return f.iloc[order].reset_index(drop=True)

    other = make_district({"villages": shuffled(VILLAGES), "landuse": shuffled(LANDUSE),
                           "parcels": shuffled(parcels), "buildings": shuffled(buildings)}, as_of=as_of)
    again, _ = run_rules(other)
    _assert_same(found, again)


@SLOW
@given(districts(), st.integers(min_value=0, max_value=10))
def test_findings_do_not_depend_on_splitting_a_layer_into_two_files(layers, cut):
    parcels, buildings = layers
    cut = min(cut, len(buildings))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = Path(tmp)
        for role, f in (("villages", VILLAGES), ("landuse", LANDUSE), ("parcels", parcels)):
            f.to_file(d / f"{role}.gpkg", layer=role)
        buildings.to_file(d / "buildings.gpkg", layer="buildings")
        buildings.iloc[:cut].to_file(d / "b1.gpkg", layer="buildings")
        buildings.iloc[cut:].to_file(d / "b2.gpkg", layer="buildings")
        common = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "landuse", "parcels"))
        common += '[project]\nas_of = "2026-11-22"\n'
        (d / "one.toml").write_text(common + '[layers.buildings]\npath = "buildings.gpkg"\n', encoding="utf-8")
        (d / "two.toml").write_text(common + '[layers.buildings]\npath = ["b1.gpkg", "b2.gpkg"]\n', encoding="utf-8")
        one = load_district(config=load_config(d / "one.toml"))
        two = load_district(config=load_config(d / "two.toml"))
    assert len(two["buildings"]) == len(buildings)
    found, _ = run_rules(one)
    again, _ = run_rules(two)
    _assert_same(found, again)


def test_split_buildings_read_as_one_layer(tmp_path):
    """The configuration takes a list of files for one role (the split test above relies on it)."""
    b = frame([{"building_id": "B1", "geometry": square(0, 0, 10)}, {"building_id": "B2", "geometry": square(20, 0, 10)}])
    b.iloc[:1].to_file(tmp_path / "a.gpkg")
    b.iloc[1:].to_crs(4490).to_file(tmp_path / "b.gpkg")
    from layers.config import LayerSource
    from layers.readers import read_layer

    f, _ = read_layer("buildings", LayerSource(path=[str(tmp_path / "a.gpkg"), str(tmp_path / "b.gpkg")]))
    assert f["building_id"].tolist() == ["B1", "B2"] and f.crs.to_epsg() == 4548
    assert abs(f.geometry.iloc[1].bounds[0] - (X0 + 20)) < 1e-3 and abs(f.geometry.iloc[1].bounds[1] - Y0) < 1e-3
