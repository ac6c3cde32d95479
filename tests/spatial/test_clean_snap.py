"""clean_polygons: vertices rounded point by point where that is exact, snap-rounded elsewhere, always valid."""

import numpy as np
import shapely

from spatial.clean import clean_polygons, is_clean
from tests.builders import at


def test_rounding_keeps_ordinary_polygons_and_their_area():
    houses = np.array([at(shapely.box(0.12345, 0.5, 10.98765, 8.4321)),
                       at(shapely.Polygon([(0, 0), (7.0004, 0.0001), (7, 5), (3.33333, 7), (0, 5)]))], dtype=object)
    out = clean_polygons(houses)
    assert is_clean(out, grid=0.001)
    assert np.allclose(shapely.area(out), shapely.area(houses), atol=0.02)
    # each vertex moved to its nearest millimetre, none added or lost
    assert [shapely.get_num_coordinates(g) for g in out] == [5, 6]


def test_parts_snapped_onto_each_other_are_merged_into_a_valid_multipolygon():
    # two buildings' parts 0.4 mm apart: on the 1 mm grid they share an edge, which a MultiPolygon may not
    two = at(shapely.box(0, 0, 1, 1)).union(at(shapely.box(1.0004, 0, 2, 1)))
    out = clean_polygons(np.array([two], dtype=object))
    assert shapely.is_valid(out[0]) and is_clean(out, grid=0.001)
    assert abs(out[0].area - 2.0) < 0.002


def test_a_hole_and_a_ring_collapsing_on_the_grid():
    holed = at(shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(1, 1), (1.0001, 1), (1, 1.0001)]]))
    speck = at(shapely.Polygon([(0, 0), (0.0001, 0), (0, 0.0001)]))
    out = clean_polygons(np.array([holed, speck], dtype=object))
    assert is_clean(out, grid=0.001)
    assert len(out[0].geoms) == 1 and len(out[0].geoms[0].interiors) == 0 and abs(out[0].area - 100) < 1e-6
    assert out[1] is not None and out[1].area > 0          # the speck becomes the marker square, not lost
