"""Overlay with a huge polygon: subdivided pieces give the same areas as a plain overlay."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.bigoverlay import components, subdivided_intersection, union_by

CRS = "EPSG:4548"


def huge_polygon(n=60000, x0=508000.0, y0=4443000.0):
    """A star-like ring of ``n`` vertices, 1 km across, with a hole (like a red line around a village)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 500 + 20 * np.sin(37 * t) + 3 * np.sin(911 * t)
    shell = np.column_stack([x0 + r * np.cos(t), y0 + r * np.sin(t)])
    hole = shapely.Point(x0 + 100, y0).buffer(80, quad_segs=64).exterior.coords[::-1]
    return shapely.Polygon(shell, [hole])


def features(x0=508000.0, y0=4443000.0):
    """300 parcels on a grid across the polygon's edge and hole, some of them huge themselves."""
    rng = np.random.default_rng(1)
    xs = x0 + rng.uniform(-600, 600, 300)
    ys = y0 + rng.uniform(-600, 600, 300)
    w = rng.uniform(5, 120, 300)
    geoms = shapely.box(xs, ys, xs + w, ys + w * 0.7)
    geoms[0] = shapely.Point(x0 - 480, y0).buffer(60, quad_segs=20000)     # 80,001 vertices on the edge
    return geoms


def test_subdivided_overlay_matches_the_plain_overlay_per_feature():
    big = huge_polygon()
    assert shapely.get_num_coordinates(big) >= 50000
    left = features()
    idx, parts = subdivided_intersection(left, [big], max_vertices=256)
    got = np.zeros(len(left))
    got[idx] = shapely.area(parts)

    plain = gpd.overlay(gpd.GeoDataFrame({"i": np.arange(len(left))}, geometry=left, crs=CRS),
                        gpd.GeoDataFrame({"j": [0]}, geometry=[big], crs=CRS), how="intersection")
    expected = np.zeros(len(left))
    expected[plain["i"].to_numpy()] = plain.geometry.area.to_numpy()
    assert (expected > 0).sum() > 50 and (expected == 0).sum() > 20      # the test covers both cases
    assert np.abs(got - expected).max() < 0.01
    # the results are re-assembled: one geometry per original feature
    assert len(np.unique(idx)) == len(idx)


def test_overlapping_cover_pieces_count_once():
    left = [shapely.box(0, 0, 10, 10)]
    cover = [shapely.box(0, 0, 6, 10), shapely.box(4, 0, 10, 10)]
    idx, parts = subdivided_intersection(left, cover)
    assert parts[0].area == pytest.approx(100.0)


def test_union_by_and_components():
    keys, unions = union_by(["b", "a", "b"], [shapely.box(0, 0, 1, 1), shapely.box(3, 3, 4, 4), shapely.box(1, 0, 2, 1)])
    assert keys.tolist() == ["a", "b"] and unions[1].area == pytest.approx(2.0)
    # a chain 0-1-2-…-99 in scrambled order, and two loners
    perm = np.random.default_rng(0).permutation(99)
    labels = components(102, perm, perm + 1)
    assert (labels[:100] == 0).all() and labels[100:].tolist() == [100, 101]


def test_subdivide_returns_one_source_per_piece_when_nothing_needs_cutting():
    import shapely as _shapely

    from spatial.subdivide import subdivide

    pieces, source = subdivide([_shapely.box(0, 0, 1, 1), _shapely.box(5, 5, 6, 6)], max_vertices=256)
    assert len(pieces) == len(source) == 2
    assert source.tolist() == [0, 1]


def test_union_groups_equals_union_all_per_group_for_every_size_class():
    from spatial.overlay import union_groups

    rng = np.random.default_rng(4)
    sizes = [1, 2, 3, 4, 5, 8, 9, 17, 40]                     # across the padded size classes
    group = np.repeat(np.arange(len(sizes)), sizes)
    group = group[rng.permutation(len(group))]                 # members interleaved
    x = rng.uniform(0, 50, len(group))
    geoms = shapely.box(x, 0, x + rng.uniform(1, 20, len(group)), 10)   # overlapping boxes
    got = union_groups(group, geoms, len(sizes) + 1)
    assert got[-1] is None                                     # a group without members
    for g in range(len(sizes)):
        expected = shapely.union_all(geoms[group == g])
        assert shapely.equals_exact(got[g], expected, tolerance=0)
    assert got[0] is geoms[group == 0][0]                      # a single member is kept as it is
    # a coverage (a row of touching cells) unioned by coverage_union gives the same area and one polygon
    cells = shapely.box(np.arange(10.0), 0, np.arange(10.0) + 1, 1)
    cov = union_groups(np.zeros(10, dtype=int), cells, 1, coverage=True)
    assert cov[0].area == pytest.approx(10.0) and cov[0].geom_type == "Polygon"
