import pytest
import shapely

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.setback import set_outside
from tests.builders import at, district, frame, square


def run(parcels, buildings):
    d = district(parcels=parcels, buildings=buildings)
    return run_rule("SET-OUTSIDE", d)


PARCEL = frame([{"parcel_id": "P1", "geometry": square(0, 0, 20)}])


def test_building_03m_over_the_boundary():
    # a 10 m wide building reaching 0.3 m beyond the parcel's north edge
    b = frame([{"building_id": "B1", "geometry": square(5, 10.3, 10, 10)}])
    f = run(PARCEL.copy(), b)
    assert f["subject_id"].tolist() == ["B1"] and f["related_ids"].tolist() == ["P1"]
    assert f["area_m2"].iloc[0] == pytest.approx(3.0, abs=1e-6)
    assert f["measured"].iloc[0] == pytest.approx(0.3, abs=1e-3)
    assert f["unit"].iloc[0] == "m"
    assert f.geometry.iloc[0].equals_exact(square(5, 20, 10, 0.3).normalize(), 1e-6) or \
        f.geometry.iloc[0].symmetric_difference(square(5, 20, 10, 0.3)).area < 1e-6


def test_sliver_under_min_area_and_a_building_on_the_line_are_not_flagged():
    b = frame([{"building_id": "S", "geometry": square(5, 10.05, 10, 10)},     # 0.5 m² outside
               {"building_id": "E", "geometry": square(0, 0, 10, 5)}])          # exactly on the boundary
    assert run(PARCEL.copy(), b).empty


def test_eave_corner_overhang_reports_the_widest_point():
    # an L-shaped overhang at the north-east corner: 1.5 m east and 1.5 m north
    b = frame([{"building_id": "C", "geometry": square(12, 12, 9.5)}])
    f = run(PARCEL.copy(), b)
    assert f["area_m2"].iloc[0] == pytest.approx(9.5 * 9.5 - 8 * 8, abs=1e-6)
    assert f["measured"].iloc[0] == pytest.approx((1.5 ** 2 * 2) ** 0.5, abs=1e-3)


def test_own_parcel_is_the_largest_overlap():
    parcels = frame([{"parcel_id": "A", "geometry": square(0, 0, 20)},
                     {"parcel_id": "B", "geometry": square(20, 0, 20)}])
    b = frame([{"building_id": "X", "geometry": square(2, 2, 20, 10)}])   # 18 m on A, 2 m on B
    f = run(parcels, b)
    assert f["related_ids"].tolist() == ["A"]
    assert f["area_m2"].iloc[0] == pytest.approx(20.0)


def test_rotated_parcel_and_building():
    p = frame([{"parcel_id": "R", "geometry": shapely.affinity.rotate(square(0, 0, 20), 30, origin=at(shapely.Point(0, 0)))}])
    b = frame([{"building_id": "RB", "geometry": shapely.affinity.rotate(square(5, 10.3, 10, 10), 30,
                                                                           origin=at(shapely.Point(0, 0)))}])
    f = run(p, b)
    assert f["area_m2"].iloc[0] == pytest.approx(3.0, abs=1e-6)
    assert f["measured"].iloc[0] == pytest.approx(0.3, abs=1e-3)


def test_widest_point_mid_edge_over_a_notch_of_the_parcel():
    # a parcel with a V notch in its north edge, a building reaching 0.5 m north over the whole edge:
    # the strip's widest point lies mid-edge, above the notch's bottom, 1.5 m / sqrt(2) from the parcel
    notched = shapely.Polygon([(0, 0), (20, 0), (20, 20), (11, 20), (10, 19), (9, 20), (0, 20)])
    p = frame([{"parcel_id": "N", "geometry": at(notched)}])
    b = frame([{"building_id": "NB", "geometry": square(0, 10, 20, 10.5)}])
    f = run(p, b)
    assert f["subject_id"].tolist() == ["NB"]
    assert f["measured"].iloc[0] == pytest.approx(1.5 / 2 ** 0.5, abs=1e-3)
