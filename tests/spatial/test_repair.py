import numpy as np
import shapely

from spatial.repair import repair_geometries


def test_bowtie_is_repaired_into_its_two_triangles():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    geoms, keep, counts = repair_geometries([bowtie])
    assert counts.repaired == 1 and keep.all()
    assert shapely.is_valid(geoms[0]) and geoms[0].area == 2.0


def test_z_is_dropped_and_counted():
    g = shapely.Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)])
    geoms, _, counts = repair_geometries([g])
    assert counts.z_dropped == 1 and not shapely.has_z(geoms[0])


def test_empty_null_and_wrong_types_are_dropped_and_counted():
    geoms, keep, counts = repair_geometries(
        [shapely.box(0, 0, 1, 1), None, shapely.Polygon(), shapely.Point(1, 1), shapely.LineString([(0, 0), (1, 1)])])
    assert keep.tolist() == [True, False, False, False, False]
    assert counts.dropped_empty == 2 and counts.dropped_wrong_type == 2


def test_lines_are_kept_where_the_role_allows():
    line = shapely.LineString([(0, 0), (10, 0)])
    geoms, keep, _ = repair_geometries([line], kind="polygon_or_line")
    assert keep.all() and geoms[0].equals(line)


def test_valid_polygons_keep_their_area():
    polys = np.array([shapely.box(0, 0, 3, 2), shapely.Point(0, 0).buffer(5)])
    geoms, keep, counts = repair_geometries(polys)
    assert counts.repaired == 0
    np.testing.assert_allclose(shapely.area(geoms), shapely.area(polys))


def test_multipolygon_parts_are_kept():
    mp = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(1000, 0, 1001, 1)])
    geoms, _, _ = repair_geometries([mp])
    assert shapely.get_num_geometries(geoms[0]) == 2


def test_collection_from_make_valid_keeps_polygonal_parts():
    # a polygon with a dangling spike: make_valid gives a polygon plus a line
    spike = shapely.Polygon([(0, 0), (4, 0), (4, 4), (2, 4), (2, 8), (2, 4), (0, 4)])
    geoms, keep, _ = repair_geometries([spike])
    assert keep.all() and geoms[0].geom_type in ("Polygon", "MultiPolygon") and geoms[0].area == 16.0
