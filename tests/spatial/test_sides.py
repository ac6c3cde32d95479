import numpy as np
import pytest
import shapely
from shapely import affinity

from spatial.sides import compass, facing_boundary, footprint_sides, side_band, side_clearance

O = shapely.Point(0, 0)


def by_direction(sides, values):
    return dict(zip(sides["direction"], np.asarray(values).tolist()))


def clearances(footprint, parcel, reach=2.0, front=None):
    s = footprint_sides([footprint], None if front is None else [front])
    return s, side_clearance(s, facing_boundary(s, [footprint], [parcel], reach=reach))


def test_compass_sectors():
    assert compass([0, 1, 0, -1, 1, -1], [1, 0, -1, 0, 1, -1]).tolist() == ["北", "东", "南", "西", "东北", "西南"]
    # 22° east of north is still north, 23° is north-east
    a = np.radians([22.0, 23.0])
    assert compass(np.sin(a), np.cos(a)).tolist() == ["北", "东北"]


def test_rectangle_sides_kinds_and_normals():
    s = footprint_sides([shapely.box(0, 0, 10, 6)])
    assert len(s) == 4 and s["classified"].all() and s["fill"].iloc[0] == pytest.approx(1.0)
    kinds = by_direction(s, s["kind"])
    assert kinds == {"北": "rear", "南": "front", "东": "gable", "西": "gable"}
    north = s[s["direction"] == "北"].iloc[0]
    assert (north["nx"], north["ny"]) == pytest.approx((0.0, 1.0))
    assert north["length"] == pytest.approx(10.0) and north["depth"] == pytest.approx(6.0)
    assert set(s["rear_basis"]) == {"north"}


def test_front_direction_decides_the_rear_eave():
    # road to the north: the southern eave faces away from it
    s = footprint_sides([shapely.box(0, 0, 10, 6)], front=[[0.0, 1.0]])
    assert by_direction(s, s["kind"])["南"] == "rear" and by_direction(s, s["kind"])["北"] == "front"
    assert set(s["rear_basis"]) == {"front"}
    # a road off the east gable says nothing about the eaves: back to north
    s = footprint_sides([shapely.box(0, 0, 10, 6)], front=[[1.0, 0.0]])
    assert by_direction(s, s["kind"])["北"] == "rear" and set(s["rear_basis"]) == {"north"}


def test_square_footprint_takes_its_eaves_from_the_front_direction():
    s = footprint_sides([shapely.box(0, 0, 6, 6)], front=[[-1.0, 0.0]])
    kinds = by_direction(s, s["kind"])
    assert kinds == {"西": "front", "东": "rear", "北": "gable", "南": "gable"}


def test_l_shaped_and_multipart_footprints_are_not_classified():
    ell = shapely.Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)])
    two = shapely.MultiPolygon([shapely.box(0, 0, 4, 4), shapely.box(8, 0, 12, 4)])
    s = footprint_sides([ell, two])
    assert (s["kind"] == "side").all() and not s["classified"].any()
    assert s.groupby("building")["fill"].first().to_numpy() == pytest.approx([0.64, 32 / 48])


def test_courtyard_hole_does_not_make_a_footprint_irregular():
    ring_house = shapely.box(0, 0, 12, 10).difference(shapely.box(3, 3, 9, 7))
    s = footprint_sides([ring_house])
    assert s["classified"].all() and s["fill"].iloc[0] == pytest.approx(1.0)


def test_degenerate_and_empty_inputs():
    assert footprint_sides([]).empty
    assert footprint_sides([shapely.Polygon()]).empty
    s = footprint_sides([shapely.box(0, 0, 10, 6)])
    assert facing_boundary(s, [shapely.box(0, 0, 10, 6)], [None], reach=1.0).empty


def test_each_side_is_measured_to_the_boundary_it_faces():
    # building near the parcel's north-east corner: 0.3 m to the north, 0.19 m to the east
    parcel = shapely.box(0, 0, 20, 15)
    house = shapely.box(5.81, 8.7, 19.81, 14.7)
    s, c = clearances(house, parcel)
    got = by_direction(s, np.round(c, 6))
    assert got["北"] == pytest.approx(0.3) and got["东"] == pytest.approx(0.19)
    assert got["西"] == np.inf and got["南"] == np.inf      # beyond reach
    s, c = clearances(house, parcel, reach=10.0)
    got = by_direction(s, c)
    assert got["西"] == pytest.approx(5.81) and got["南"] == pytest.approx(8.7)


def test_a_boundary_meeting_a_corner_does_not_count_for_the_neighbouring_side():
    # the east wall lies on the east boundary; the north side still sees the north boundary 0.5 m away
    parcel = shapely.box(0, 0, 20, 15)
    s, c = clearances(shapely.box(10, 5, 20, 14.5), parcel)
    got = by_direction(s, c)
    assert got["东"] == pytest.approx(0.0) and got["北"] == pytest.approx(0.5)


@pytest.mark.parametrize("angle", [30.0, 123.0, -61.0])
def test_rotation_moves_directions_but_not_clearances(angle):
    parcel = shapely.box(0, 0, 20, 15)
    house = shapely.box(5.81, 8.7, 19.81, 14.7)
    s0, c0 = clearances(house, parcel)
    s1, c1 = clearances(affinity.rotate(house, angle, origin=O), affinity.rotate(parcel, angle, origin=O))
    assert sorted(np.round(c0, 9).tolist()) == pytest.approx(sorted(np.round(c1, 9).tolist()))
    assert sorted(s0["kind"]) == sorted(s1["kind"])


def test_rotated_parcel_around_an_upright_house():
    # parcel turned 30°: the boundary still faces the sides (within 45°), measured inside the strip only
    parcel = affinity.rotate(shapely.box(-10, -10, 10, 10), 30, origin=O)
    house = shapely.box(-4, -3, 4, 3)
    s, c = clearances(house, parcel, reach=20.0)
    band = side_band(s, 20.0)
    for k in range(4):
        piece = shapely.intersection(shapely.boundary(parcel), band[k])
        # the clearance is the distance to the part of the boundary in front of the side (the strip is
        # narrowed by 1 mm at its ends, which moves the nearest point of a slanted boundary a little)
        assert c[k] == pytest.approx(shapely.distance(house, piece), abs=1e-3)
        assert c[k] >= shapely.distance(house, shapely.boundary(parcel)) - 1e-9


def test_a_building_over_the_boundary_has_a_negative_clearance_on_that_side_only():
    parcel = shapely.box(0, 0, 20, 20)
    house = shapely.box(5, 12.3, 15, 20.3)       # 0.3 m over the north boundary
    s, c = clearances(house, parcel, reach=1.0)
    got = by_direction(s, c)
    assert got["北"] == pytest.approx(-0.3)
    assert got["东"] == np.inf and got["西"] == np.inf and got["南"] == np.inf


def test_l_shaped_parcel_notch_is_measured_from_the_house_itself():
    # L-shaped house in a parcel that follows its notch 1 m away: no negative clearance from the notch
    house = shapely.Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)])
    parcel = shapely.Polygon([(-1, -1), (11, -1), (11, 5), (5, 5), (5, 11), (-1, 11)])
    s, c = clearances(house, parcel, reach=3.0)
    assert np.all(c[np.isfinite(c)] == pytest.approx(1.0))


def test_multipolygon_parcel_and_parcel_with_a_hole():
    house = shapely.box(2, 2, 8, 6)
    parcel = shapely.MultiPolygon([shapely.box(0, 0, 10, 6.5), shapely.box(30, 0, 40, 10)])
    s, c = clearances(house, parcel)
    assert by_direction(s, c)["北"] == pytest.approx(0.5)
    holed = shapely.box(0, 0, 10, 10).difference(shapely.box(3, 6.3, 7, 8))   # a well 0.3 m north of the house
    s, c = clearances(house, holed)
    assert by_direction(s, c)["北"] == pytest.approx(0.3)


def test_side_band_is_the_strip_between_side_and_required_line():
    s = footprint_sides([shapely.box(0, 0, 10, 6)])
    band = side_band(s, 0.4)
    north = band[s["direction"].to_numpy() == "北"][0]
    assert north.equals(shapely.box(0, 6, 10, 6.4)) or north.symmetric_difference(shapely.box(0, 6, 10, 6.4)).area < 1e-9
    extended = side_band(s, 0.4, -0.3)[s["direction"].to_numpy() == "北"][0]
    assert extended.area == pytest.approx(7.0)


def test_many_footprints_at_once():
    # vectorised: 200 houses, each with its own parcel and its own clearances
    rng = np.random.default_rng(1)
    gaps = np.round(rng.uniform(0.05, 1.0, (200, 4)), 2)      # west, south, east, north
    x = np.arange(200) * 30.0
    parcels = shapely.box(x, 0, x + 20, 15)
    houses = shapely.box(x + gaps[:, 0], gaps[:, 1], x + 20 - gaps[:, 2], 15 - gaps[:, 3])
    s = footprint_sides(houses)
    c = side_clearance(s, facing_boundary(s, houses, parcels, reach=1.5))
    col = {"西": 0, "南": 1, "东": 2, "北": 3}
    expected = gaps[s["building"].to_numpy(), [col[d] for d in s["direction"]]]
    assert c == pytest.approx(expected, abs=1e-9)
