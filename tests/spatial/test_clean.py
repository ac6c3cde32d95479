"""Clean finding geometry (spatial/clean.py): slivers, duplicate nodes and rounding collapses built in code."""

import json
import sqlite3

import numpy as np
import pyogrio
import pytest
import shapely

from analyses.findings import finalise
from analyses.registry import CATALOGUE
from landguard.outputs import write_findings
from maps.exports import export_geojson, export_gpkg, export_kml
from spatial.clean import GRID_M, clean_polygons, is_clean
from tests.builders import CRS, at, frame, square


def _consecutive_duplicates(geom) -> int:
    rings = shapely.get_rings(shapely.get_parts(geom))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    return int(((ring[1:] == ring[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)).sum())


def _farmland_next_to_a_building():
    """Overlay leftovers: a 20 x 20 m patch minus a building whose edge is 0.4 mm off the 1 mm grid, with a
    0.3 mm x 10 m sliver part; a ring with a repeated node and a node 0.1 µm from the next; a finding with
    a 0.25 m² part; a point; a missing geometry."""
    patch = square(0, 0, 20)
    building = at(shapely.box(10, -1, 25, 10.0004))           # its top edge is 0.4 mm above y = 10 ...
    main = shapely.difference(patch, building)                  # ... the overlay keeps an L and a 0.4 mm sliver
    dup = at(shapely.Polygon([(30, 0), (40, 0), (40, 0), (40, 10), (40, 10.0000001), (30, 10)]))
    thin = at(shapely.box(50, 0, 60, 0.0003))                   # a 0.3 mm x 10 m part: collapses on 1 mm
    small = at(shapely.box(70, 0, 70.5, 0.5))                   # a 0.25 m² part of a bigger finding
    return [shapely.union_all([main, thin]), dup, shapely.union_all([square(80, 0, 10), small]),
            at(shapely.Point(5, 5)), None]


def test_clean_gives_valid_multipolygons_on_the_grid_without_slivers():
    raw = _farmland_next_to_a_building()
    out = clean_polygons(raw, min_part=1.0)
    assert [g is None for g in out] == [False, False, False, False, True]
    assert all(g.geom_type == "MultiPolygon" for g in out[:4])
    assert is_clean(out, grid=GRID_M)
    assert _consecutive_duplicates(raw[1]) > 0 and _consecutive_duplicates(out[1]) == 0
    assert len(out[0].geoms) == 1                              # the 0.3 mm part collapsed and is gone
    assert out[0].area == pytest.approx(raw[0].area, abs=0.01)
    assert len(out[2].geoms) == 1 and out[2].area == pytest.approx(100)   # the 0.25 m² part is below 1 m²
    # a point finding is a 1 m square marker centred on it
    assert out[3].area == pytest.approx(1.0) and out[3].centroid.distance(raw[3]) < 1e-9
    coords = shapely.get_coordinates(out[:4])
    assert np.allclose(coords / GRID_M, np.round(coords / GRID_M), atol=1e-6)


def test_a_finding_keeps_its_largest_part_even_when_small():
    small = square(0, 0, 0.5)                                   # 0.25 m², below the 1 m² minimum
    out = clean_polygons([shapely.MultiPolygon([small, square(10, 0, 0.2)])], min_part=1.0)
    assert out[0].area == pytest.approx(0.25) and len(out[0].geoms) == 1


def test_min_part_per_row():
    g = shapely.union_all([square(0, 0, 10), square(20, 0, 1.5)])   # 100 m² and 2.25 m²
    out = clean_polygons([g, g], min_part=[1.0, 5.0])
    assert [len(x.geoms) for x in out] == [2, 1]


def test_is_clean_sees_each_defect():
    good = shapely.MultiPolygon([square(0, 0, 10)])
    assert is_clean([good], grid=GRID_M)
    assert not is_clean([square(0, 0, 10)], grid=GRID_M)                           # a Polygon
    assert not is_clean([shapely.MultiPolygon([at(shapely.box(0, 0, 10.0004, 10))])], grid=GRID_M)  # off grid
    dup = shapely.MultiPolygon([at(shapely.Polygon([(0, 0), (10, 0), (10, 0), (10, 10), (0, 10)]))])
    assert not is_clean([dup], grid=GRID_M)
    bow = shapely.MultiPolygon([at(shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))])
    assert not is_clean([bow], grid=GRID_M)


def test_finalise_cleans_and_areas_are_of_the_clean_geometry():
    raw = _farmland_next_to_a_building()[:4]
    p = frame([{"subject_layer": "buildings", "subject_id": f"B{i}", "geometry": g} for i, g in enumerate(raw)])
    f = finalise(CATALOGUE["FARM-BUILD"], p)
    assert set(f.geom_type) == {"MultiPolygon"} and is_clean(f.geometry.values, grid=GRID_M)
    assert np.allclose(f["area_m2"], f.area)


def _seven_decimal_collapse():
    """A finding whose 2 cm x 40 m strip part is valid in metres but collapses at GeoJSON's 7 decimals
    (1e-7° ≈ 1 cm): drawn in code in the working CRS, as an overlay beside a building leaves it."""
    main = square(0, 0, 20)
    strip = at(shapely.Polygon([(30, 0), (70, 0), (70, 0.004), (30, 0.004)]))   # 4 mm wide, 40 m long
    return shapely.union_all([main, strip])


def test_geojson_and_kml_have_no_zero_area_ring_after_rounding(tmp_path):
    geom = _seven_decimal_collapse()
    p = frame([{"subject_layer": "buildings", "subject_id": "B1", "village_id": "V1", "geometry": geom}])
    f = finalise(CATALOGUE["FARM-BUILD"], p, min_part_m2=0.0)
    assert len(f.geometry[0].geoms) == 2                       # in metres the strip is still a part
    # the naive way (round the lon/lat to 7 decimals) leaves a ring without area
    naive = shapely.transform(np.asarray(f.geometry.to_crs(4326).values), lambda xy: np.round(xy, 7))
    naive_parts = shapely.get_parts(naive)
    assert np.any(shapely.area(naive_parts) == 0) and not shapely.is_valid(naive).all()
    doc = json.loads(export_geojson(f, tmp_path / "f.geojson").read_text(encoding="utf-8"))
    out = shapely.from_geojson(json.dumps(doc["features"][0]["geometry"]))
    assert out.geom_type == "MultiPolygon" and out.is_valid
    assert np.all(shapely.area(shapely.get_parts(out)) > 0) and _consecutive_duplicates(out) == 0
    kml = pyogrio.read_dataframe(export_kml(f, tmp_path / "f.kml"))
    assert kml.geometry.is_valid.all() and np.all(shapely.area(shapely.get_parts(kml.geometry.values)) > 0)


def test_every_gpkg_layer_has_one_geometry_type_and_version_1_2(tmp_path):
    raw = _farmland_next_to_a_building()[:4]
    p = frame([{"subject_layer": "buildings", "subject_id": f"B{i}", "village_id": "V1", "geometry": g}
               for i, g in enumerate(raw)])
    f = finalise(CATALOGUE["FARM-BUILD"], p)
    paths = [write_findings(f, tmp_path / "findings.gpkg", extra={"changes": f.iloc[:1]}),
             write_findings(f.iloc[:0], tmp_path / "empty.gpkg"),
             export_gpkg(f, tmp_path / "v.gpkg"), export_gpkg(f, tmp_path / "w.gpkg", crs="working")]
    for path in paths:
        with sqlite3.connect(path) as con:
            kinds = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
            assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47     # 'GPKG'
            assert con.execute("PRAGMA user_version").fetchone()[0] == 10200            # GeoPackage 1.2
        assert kinds and set(kinds.values()) == {"MULTIPOLYGON"}, (path.name, kinds)
        for layer in kinds:
            back = pyogrio.read_dataframe(path, layer=layer)
            assert set(back.geom_type) <= {"MultiPolygon"} and back.geometry.is_valid.all()
    assert is_clean(pyogrio.read_dataframe(paths[3], layer="findings").geometry.values, grid=GRID_M)
    assert CRS == "EPSG:4548"


# --- slivers by the township's own min_overlap_m2 ---------------------------------------------------------------
def _two_townships():
    from tests.builders import district

    villages = frame([
        {"village_id": "110117104201", "name": "甲村", "township": "金海湖镇", "geometry": square(-500, -500, 530, 1000)},
        {"village_id": "110117105201", "name": "乙村", "township": "峪口镇", "geometry": square(30, -500, 470, 1000)}])
    # the same too-steep house in each village: a 120 m² main part and a 3 m² shed part (one MultiPolygon)
    houses = frame([{"building_id": bid, "roof": "pitched", "eave_height_m": 3.3, "ridge_height_m": 9.0,
                     "geometry": shapely.union_all([square(x, 0, 12, 10), square(x + 14, 0, 2, 1.5)])}
                    for bid, x in (("A", 0), ("B", 60))])
    return lambda config: district(villages=villages, buildings=houses.copy(), config=config)


def test_slivers_are_dropped_by_the_townships_min_overlap():
    from analyses.testing import run_rule
    from layers.config import ProjectConfig

    make = _two_townships()

    def parts(cfg):
        f = run_rule("HOME-ROOF", make(ProjectConfig.model_validate(cfg)))
        return {s: len(g.geoms) for s, g in zip(f["subject_id"], f.geometry)}

    assert parts({}) == {"A": 2, "B": 2}                                              # 3 m² ≥ 1 m²: kept
    assert parts({"townships": {"峪口镇": {"limits": {"min_overlap_m2": 5.0}}}}) == {"A": 2, "B": 1}
    assert parts({"limits": {"min_overlap_m2": 5.0}}) == {"A": 1, "B": 1}            # the district's own figure
    assert parts({"limits": {"min_overlap_m2": 5.0},
                  "townships": {"金海湖镇": {"limits": {"min_overlap_m2": 0.5}}}}) == {"A": 2, "B": 1}


def test_finalise_looks_the_minimum_up_by_the_village_it_assigns():
    from layers.limits import Limits, LimitSet

    villages = frame([
        {"village_id": "V1", "name": "甲村", "township": "金海湖镇", "geometry": square(-500, -500, 530, 1000)},
        {"village_id": "V2", "name": "乙村", "township": "峪口镇", "geometry": square(30, -500, 470, 1000)}])
    limits = LimitSet(Limits(), {"峪口镇": Limits(min_overlap_m2=5.0)})
    towns = villages.set_index("village_id")["township"]

    def lookup(village_ids):
        return limits.per_row("min_overlap_m2", towns.reindex(village_ids).to_numpy(dtype=object))

    p = frame([{"subject_layer": "buildings", "subject_id": s,      # no village_id: finalise assigns it
                "geometry": shapely.union_all([square(x, 0, 12, 10), square(x + 14, 0, 2, 1.5)])}
               for s, x in (("A", 0), ("B", 60))])
    f = finalise(CATALOGUE["HOME-ROOF"], p, villages, min_part_m2=lookup).set_index("subject_id")
    assert f["village_id"].to_dict() == {"A": "V1", "B": "V2"}
    assert {s: len(x.geoms) for s, x in f.geometry.items()} == {"A": 2, "B": 1}
    assert f.loc["B", "area_m2"] == pytest.approx(120.0)


def test_findings_without_any_polygon_are_markers():
    # no polygon part at all (point graves only): nothing to snap, every point a 1 m square marker
    out = clean_polygons([at(shapely.Point(5, 5)), None, at(shapely.LineString([(0, 0), (0, 0)]))])
    assert out[0].geom_type == "MultiPolygon" and out[0].area == pytest.approx(1.0) and out[1] is None
    assert is_clean([g for g in out if g is not None], grid=GRID_M)
