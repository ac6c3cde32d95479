"""Bad geometries: each is repaired and counted, and the finding on it is still right."""

from __future__ import annotations

import shapely

from tests.badinput.helpers import (base_layers, farm_build, findings, ok, one_error, polygon_wkb, quality,
                                    replace_gpkg_geometries, run_check, summary_text, write_district)
from tests.builders import X0, Y0, at, frame, square


def with_buildings(rows):
    layers = base_layers()
    layers["buildings"] = frame(rows)
    return layers


def test_bowtie_is_repaired_into_its_two_triangles_and_counted(tmp_path):
    bowtie = at(shapely.Polygon([(100, 100), (110, 110), (110, 100), (100, 110)]))
    data = write_district(tmp_path / "d", with_buildings([{"building_id": "B2", "geometry": bowtie}]))
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["repaired"] == 1
    assert "修复无效几何 1" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 50.0}        # both triangles, not one, not zero


def test_self_intersecting_ring_is_made_valid_with_its_whole_area(tmp_path):
    # the ring runs out to the right and crosses itself coming back: a loop on a square
    ring = at(shapely.Polygon([(100, 100), (110, 100), (110, 110), (105, 110), (105, 95), (120, 95),
                               (120, 105), (100, 105)]))
    assert not ring.is_valid
    data = write_district(tmp_path / "d", with_buildings([{"building_id": "B2", "geometry": ring}]))
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["repaired"] == 1
    assert farm_build(tmp_path / "out") == {"B2": round(shapely.make_valid(ring).area, 2)}


def test_ring_that_does_not_close_is_closed_and_counted(tmp_path):
    data = write_district(tmp_path / "d")
    x, y = X0 + 100, Y0 + 100
    replace_gpkg_geometries(data / "buildings.gpkg", "buildings",
                            {2: polygon_wkb([(x, y), (x + 10, y), (x + 10, y + 10), (x, y + 10)], close=False)})
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["unclosed_rings"] == 1
    assert "闭合未闭合的环 1" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_empty_and_null_geometries_are_dropped_and_counted(tmp_path):
    rows = [{"building_id": "B2", "geometry": square(100, 100, 10)},
            {"building_id": "B8", "geometry": None},
            {"building_id": "B9", "geometry": shapely.Polygon()}]
    data = write_district(tmp_path / "d", with_buildings(rows))
    res = run_check(data, tmp_path / "out")
    ok(res)
    counts = quality(tmp_path / "out")["layers"]["buildings"]
    assert counts["read"] == 3 and counts["dropped_empty"] == 2 and counts["kept"] == 1
    assert "删除空几何 2" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_z_values_are_dropped_and_counted(tmp_path):
    layers = base_layers()
    layers["buildings"]["geometry"] = shapely.force_3d(layers["buildings"].geometry.to_numpy(), 42.0)
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["z_dropped"] == 3
    assert "去除Z值 3" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_m_values_are_dropped_and_counted_without_console_warnings(tmp_path):
    data = write_district(tmp_path / "d")
    b = base_layers()["buildings"]
    measured = {i + 1: shapely.to_wkb(shapely.from_wkt(g.wkt.replace("POLYGON ((", "POLYGON M ((")
                                                        .replace(",", " 7,").replace("))", " 7))")), flavor="iso")
                for i, g in enumerate(b.geometry)}
    assert shapely.has_m(shapely.from_wkb(measured[2]))
    replace_gpkg_geometries(data / "buildings.gpkg", "buildings", measured, m=True)
    res = run_check(data, tmp_path / "out")
    ok(res)                                                   # includes: no GDAL warning reached the console
    assert quality(tmp_path / "out")["layers"]["buildings"]["m_dropped"] == 3
    assert "去除M值 3" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_points_and_open_lines_in_a_polygon_role_are_dropped_closed_lines_become_polygons(tmp_path):
    rows = [{"building_id": "B2", "geometry": square(100, 100, 10)},
            {"building_id": "B4", "geometry": at(shapely.Point(150, 150))},
            {"building_id": "B5", "geometry": at(shapely.LineString([(200, 100), (210, 100), (210, 110)]))},
            {"building_id": "B6", "geometry": square(300, 100, 10).exterior}]      # an outline drawn in CAD
    data = write_district(tmp_path / "d", with_buildings(rows))
    res = run_check(data, tmp_path / "out")
    ok(res)
    counts = quality(tmp_path / "out")["layers"]["buildings"]
    assert counts["dropped_wrong_type"] == 2 and counts["lines_to_polygons"] == 1
    assert "删除非面几何（点、线） 2" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0, "B6": 100.0}


def test_a_polygon_role_holding_only_points_is_one_error(tmp_path):
    rows = [{"building_id": f"B{i}", "geometry": at(shapely.Point(100 + i, 100))} for i in range(3)]
    data = write_district(tmp_path / "d", with_buildings(rows))
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (", "buildings.gpkg", "全部 3 个要素都是点（Point）", "[layers.buildings]")


def test_multipolygon_with_far_apart_parts_is_kept_counted_and_named(tmp_path):
    layers = base_layers()
    p = layers["parcels"]
    far = shapely.MultiPolygon([p.geometry.iloc[0], square(-400, -450, 20)])       # a part ~480 m away
    p.loc[0, "geometry"] = far
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["parcels"]["far_apart_parts"] == 1
    assert any("parcels" in n and "P1" in n and "200 米" in n for n in q["notes"])
    assert "多部件相距过远 1" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_duplicated_ids_exact_copies_dropped_others_made_distinct(tmp_path):
    rows = [{"building_id": "B2", "geometry": square(100, 100, 10)},
            {"building_id": "B2", "geometry": square(100, 100, 10)},          # the same feature exported twice
            {"building_id": "B2", "geometry": square(200, 100, 10, 5)}]       # another building, same id
    data = write_district(tmp_path / "d", with_buildings(rows))
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["exact_duplicates"] == 1 and q["layers"]["buildings"]["duplicated_ids"] == 2
    assert any("B2#2" in n for n in q["notes"])
    assert farm_build(tmp_path / "out") == {"B2": 100.0, "B2#2": 50.0}
    assert findings(tmp_path / "out")["case_id"].is_unique



def multipolygon_wkb(polys) -> bytes:
    """ISO WKB of a multipolygon of one-ring polygons (any coordinates, NaN and inf included)."""
    import struct
    return struct.pack("<BII", 1, 6, len(polys)) + b"".join(polygon_wkb(p) for p in polys)


def test_nan_and_infinite_vertices_are_dropped_and_counted(tmp_path):
    data = write_district(tmp_path / "d", with_buildings([
        {"building_id": "B1", "geometry": square(-98, 2, 10)},
        {"building_id": "B2", "geometry": square(100, 100, 10)},
        {"building_id": "B8", "geometry": square(200, 100, 10)},
        {"building_id": "B9", "geometry": square(300, 100, 10)}]))
    x, y = X0 + 100, Y0 + 100
    good = [(x, y), (x + 10, y), (x + 10, y + 10), (x, y + 10)]
    replace_gpkg_geometries(data / "buildings.gpkg", "buildings", {
        2: multipolygon_wkb([good, [(x + 20, y), (float("nan"), y), (x + 30, y + 10)]]),   # B2: one bad part
        3: polygon_wkb([(x + 100, y), (float("inf"), y), (x + 110, y + 10), (x + 100, y + 10)]),
        4: polygon_wkb([(x + 200, y), (x + 210, float("-inf")), (x + 210, y + 10), (float("nan"), float("nan"))])})
    res = run_check(data, tmp_path / "out")
    ok(res)
    counts = quality(tmp_path / "out")["layers"]["buildings"]
    assert counts["dropped_bad_coords"] == 2 and counts["bad_coord_parts"] == 1 and counts["kept"] == 2
    assert "删除坐标无效的要素 2" in summary_text(tmp_path / "out")
    assert "去除坐标无效的部件（要素保留） 1" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}          # B2's good part still found, whole
