"""Road land from centre lines and the measured width of belts beside it."""

import numpy as np
import pytest
import shapely

from spatial.corridor import belt_width, length_along, road_land


def test_lines_are_buffered_with_flat_caps_and_lines_without_width_dropped():
    land = road_land([shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 50), (10, 50)]),
                      shapely.box(0, 100, 10, 110)], [10.0, None, None])
    assert land[0].bounds == (0.0, -5.0, 100.0, 5.0) and land[0].area == pytest.approx(1000.0)
    assert land[1] is None
    assert land[2].equals(shapely.box(0, 100, 10, 110))


@pytest.mark.parametrize("width", [3.0, 5.0, 5.5, 12.0])
def test_width_of_a_straight_belt(width):
    road = shapely.box(0, 0, 500, 10)
    belt = shapely.box(100, 10, 300, 10 + width)
    assert belt_width([belt], [road])[0] == pytest.approx(width, rel=1e-3)


def test_width_of_a_belt_with_a_small_gap_and_around_a_corner():
    road = shapely.box(0, 0, 500, 10)
    gap = shapely.box(100, 10.3, 300, 15.5)               # 5.2 m wide, 0.3 m off the road land
    assert belt_width([gap], [road])[0] == pytest.approx(5.2, abs=0.02)
    corner_road = shapely.union(shapely.box(0, 0, 100, 10), shapely.box(90, 0, 100, 100))
    # a 4 m belt along the road's outer side, round the corner: 100 m south leg... along x and up the east side
    belt = shapely.union(shapely.box(0, -4, 104, 0), shapely.box(100, 0, 104, 100))
    assert belt_width([belt], [corner_road])[0] == pytest.approx(belt.area / 200.0, rel=1e-3)


def test_a_belt_away_from_the_road_faces_no_edge():
    far = shapely.box(0, 50, 10, 60)
    road = shapely.box(0, 0, 10, 10)
    assert length_along([far], [road])[0] == pytest.approx(10.0 + 2 * 0.01)   # grown to the road by its distance
    assert np.isnan(belt_width([shapely.box(0, 50, 10, 60)], [shapely.Polygon()])[0])
