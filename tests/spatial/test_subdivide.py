"""spatial.subdivide: quadtree of rectangle clips, exact areas, valid pieces, sources, the fallback.

Coordinates are metres in EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E), as in the district layers.
"""

import numpy as np
import pytest
import shapely

from spatial.subdivide import subdivide

CRS = "EPSG:4548"
X0, Y0 = 508000.0, 4443000.0


def red_line(n=40000):
    """A wiggly ring of ``n`` vertices, 1 km across, with a hole: a red line around a village."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 500 + 20 * np.sin(37 * t) + 3 * np.sin(911 * t)
    shell = np.column_stack([X0 + r * np.cos(t), Y0 + r * np.sin(t)])
    hole = shapely.Point(X0 + 100, Y0).buffer(80, quad_segs=300).exterior.coords[::-1]
    return shapely.Polygon(shell, [hole])


def layer():
    """Two huge polygons, a small one and a missing geometry."""
    reserve = shapely.MultiPolygon([shapely.Point(X0 + 2000, Y0).buffer(300, quad_segs=3000),
                                    shapely.Point(X0 + 2800, Y0).buffer(200, quad_segs=2000)])
    return np.array([red_line(), shapely.box(X0, Y0 + 900, X0 + 10, Y0 + 910), None, reserve], dtype=object)


def test_pieces_are_small_valid_and_add_up_to_each_original_exactly():
    geoms = layer()
    pieces, source = subdivide(geoms, max_vertices=256)
    assert len(pieces) == len(source) > 300
    assert shapely.get_num_coordinates(pieces).max() <= 256
    assert shapely.is_valid(pieces).all()
    assert (shapely.get_type_id(pieces) == shapely.GeometryType.POLYGON).all()
    area = np.bincount(source, weights=shapely.area(pieces), minlength=len(geoms))
    for i in (0, 1, 3):
        assert area[i] == pytest.approx(geoms[i].area, rel=1e-12)
    # the pieces do not overlap, and each lies inside its original
    li, ri = shapely.STRtree(pieces).query(pieces, predicate="intersects")
    pair = li < ri
    assert pair.sum() > 300
    assert shapely.area(shapely.intersection(pieces[li[pair]], pieces[ri[pair]])).max() < 1e-6
    grown = shapely.buffer(geoms, 1e-6)
    shapely.prepare(grown)
    assert shapely.covers(grown[source], pieces).all()


def test_sources_small_geometries_pass_through_first_and_missing_ones_are_skipped():
    geoms = layer()
    pieces, source = subdivide(geoms, max_vertices=256)
    assert set(source.tolist()) == {0, 1, 3}            # None has no piece
    assert source[0] == 1 and pieces[0] is geoms[1]     # the small box comes first, unchanged
    assert (source[1:] != 1).all()
    assert (source == 3).sum() > 20 and (source == 0).sum() > 100


def test_a_subset_gives_the_same_pieces_in_the_same_order():
    geoms = layer()
    pieces, source = subdivide(geoms, max_vertices=256)
    sub_pieces, sub_source = subdivide(geoms[[0, 3]], max_vertices=256)
    mine = np.isin(source, [0, 3])
    assert len(sub_pieces) == mine.sum()
    assert shapely.equals_exact(sub_pieces, pieces[mine], tolerance=0).all()
    assert np.array_equal(np.array([0, 3])[sub_source], source[mine])


def test_a_vertex_on_the_cut_line_falls_back_to_intersection_and_stays_valid():
    # the first cut is at x = X0 + 5, through the vertex (X0 + 5, Y0 + 2.5): a rectangle clip of the
    # west half gives a ring touching itself there (not valid)
    p = shapely.segmentize(shapely.Polygon([(X0 + 10, Y0 + 2.5), (X0, Y0 + 7.5), (X0 + 5, Y0 + 2.5),
                                            (X0, Y0), (X0 + 10, Y0 + 2.5)]), 0.05)
    assert p.is_valid and shapely.get_num_coordinates(p) > 600
    assert not shapely.clip_by_rect(p, X0, Y0, X0 + 5, Y0 + 7.5).is_valid      # the case is real
    pieces, source = subdivide([p], max_vertices=64)
    assert len(pieces) > 5 and (source == 0).all()
    assert shapely.is_valid(pieces).all()
    assert shapely.get_num_coordinates(pieces).max() <= 64
    assert shapely.area(pieces).sum() == pytest.approx(p.area, rel=1e-12)


def test_a_long_line_is_cut_into_lines_of_the_same_length():
    x = np.linspace(X0, X0 + 3000, 9000)
    line = shapely.LineString(np.c_[x, Y0 + 5 * np.sin(x / 11)])
    pieces, source = subdivide([line], max_vertices=256)
    assert len(pieces) > 30 and (source == 0).all()
    assert (shapely.get_dimensions(pieces) == 1).all()
    assert shapely.get_num_coordinates(pieces).max() <= 256
    assert shapely.length(pieces).sum() == pytest.approx(line.length, rel=1e-12)
