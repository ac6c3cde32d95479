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


def test_quadrilateral_shortcut_agrees_with_geos():
    from spatial.repair import _is_valid
    rng = np.random.default_rng(5)
    n = 20000
    base = rng.uniform([400000, 4300000], [600000, 4500000], (n, 1, 2))          # Gauss-Krüger sized numbers
    corners = base + rng.integers(-3, 4, (n, 4, 2)) * rng.choice([0.5, 1e-7, 3.0], (n, 1, 1))   # ties, slivers
    boxes = [shapely.box(0, 0, 10, 6), shapely.Polygon([(0, 0), (10, 0), (10, 0), (0, 6)]),   # a repeated corner
             shapely.Polygon([(0, 0), (5, 0), (10, 0), (5, 5)]),                                 # a straight corner
             shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]),                                  # bowtie
             shapely.Polygon([(0, 0), (4, 1), (0, 2), (1, 1)]),                                  # concave dart (valid)
             shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (3, 2), (3, 3)]])]   # with a hole
    rotated = shapely.affinity.rotate(shapely.box(5e5, 4.4e6, 5e5 + 8, 4.4e6 + 6), 30.0)
    geoms = np.concatenate([shapely.polygons(corners), np.array([*boxes, rotated], dtype=object)])
    got, want = _is_valid(geoms), shapely.is_valid(geoms)
    assert got.tolist() == want.tolist()
    assert 0 < want.sum() < len(want)                     # both kinds present
