"""HOME-COVER, HOME-FLOORS, HOME-HEIGHT (attributes and nDSM), HOME-MERGE and township overrides."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.homestead import home_cover, home_floors, home_height, home_merge, roof_kind
from layers.config import ProjectConfig
from tests.builders import X0, Y0, district, frame, square


def run(rule, func, d):
    return run_rule(rule, d)


def house(bid, x, y=0, size=8, height=None, **attrs):
    return {"building_id": bid, "geometry": square(x, y, size, height), **attrs}


def two_townships():
    return frame([{"village_id": "V1", "name": "东村", "township": "甲镇", "geometry": square(-500, -500, 500, 1000)},
                  {"village_id": "V2", "name": "西村", "township": "乙镇", "geometry": square(0, -500, 500, 1000)}])


# HOME-COVER ---------------------------------------------------------------------------------------
def test_coverage_of_exactly_75_percent_is_compliant():
    # 20 x 10 parcel (200 m²); houses 10 x 10 and 5 x 10 -> 150 m² = exactly 75 %
    parcels = frame([{"parcel_id": "P1", "geometry": square(0, 0, 20, 10)}])
    buildings = frame([house("B1", 0, 0, 10, 10), house("B2", 10, 0, 5, 10)])
    assert len(run("HOME-COVER", home_cover, district(parcels=parcels, buildings=buildings))) == 0


def test_coverage_over_75_percent_sums_footprints_inside_the_parcel_only():
    parcels = frame([{"parcel_id": "P1", "geometry": square(0, 0, 20, 10)}])
    # B1 10 x 10 inside; B2 8 x 10 of which 6 x 10 inside (2 m hang over the east boundary)
    buildings = frame([house("B1", 0, 0, 10, 10), house("B2", 14, 0, 8, 10)])
    f = run("HOME-COVER", home_cover, district(parcels=parcels, buildings=buildings))
    assert f["subject_id"].tolist() == ["P1"]
    assert f["related_ids"].tolist() == ["B1;B2"]
    assert f["measured"].iloc[0] == pytest.approx(80.0)
    assert f["limit"].iloc[0] == pytest.approx(75.0) and f["unit"].iloc[0] == "%"
    assert f["area_m2"].iloc[0] == pytest.approx(10.0)
    assert f.geometry.iloc[0].area == pytest.approx(160.0)      # the footprint inside the parcel


def test_overlapping_footprints_count_once_and_neighbour_slivers_not_at_all():
    parcels = frame([{"parcel_id": "P1", "geometry": square(0, 0, 20, 10)}])
    # B1 and B2 overlap by 5 x 10; union 15 x 10 = 75 %; B3 of the neighbour pokes 0.05 m into P1
    buildings = frame([house("B1", 0, 0, 10, 10), house("B2", 5, 0, 10, 10), house("B3", 19.95, 0, 8, 10)])
    assert len(run("HOME-COVER", home_cover, district(parcels=parcels, buildings=buildings))) == 0


def test_stricter_coverage_in_one_township_only():
    cfg = ProjectConfig.model_validate({"townships": {"乙镇": {"limits": {"coverage_max": 0.6}}}})
    parcels = frame([{"parcel_id": "EAST", "geometry": square(-100, 0, 20, 10)},     # 甲镇
                     {"parcel_id": "WEST", "geometry": square(100, 0, 20, 10)}])     # 乙镇
    buildings = frame([house("B1", -100, 0, 14, 10), house("B2", 100, 0, 14, 10)])   # 70 % each
    f = run("HOME-COVER", home_cover, district(parcels=parcels, buildings=buildings, villages=two_townships(),
                                               config=cfg))
    assert f["subject_id"].tolist() == ["WEST"]
    assert f["limit"].tolist() == [pytest.approx(60.0)] and f["township"].tolist() == ["乙镇"]


# HOME-FLOORS --------------------------------------------------------------------------------------
def test_three_floors_and_basements_are_found_two_floors_are_not():
    buildings = frame([house("F2", 0, floors=2, basement=False), house("F3", 20, floors=3),
                       house("BASE", 40, floors=1, basement=True), house("BOTH", 60, floors=4, basement="是"),
                       house("UNKNOWN", 80)])
    f = run("HOME-FLOORS", home_floors, district(buildings=buildings))
    got = sorted(zip(f["subject_id"], f["unit"], f["measured"], f["limit"]))
    assert got == [("BASE", "处", 1.0, 0.0), ("BOTH", "处", 1.0, 0.0), ("BOTH", "层", 4.0, 2.0), ("F3", "层", 3.0, 2.0)]
    assert f["case_id"].nunique() == 4


def test_basement_allowed_by_configuration():
    cfg = ProjectConfig.model_validate({"limits": {"basement_allowed": True}})
    f = run("HOME-FLOORS", home_floors, district(buildings=frame([house("BASE", 0, floors=1, basement=True)]),
                                                 config=cfg))
    assert len(f) == 0


# HOME-HEIGHT (attributes) -------------------------------------------------------------------------
def test_two_floor_pitched_ridge_8_6_is_compliant_and_8_7_is_not():
    buildings = frame([house("R86", 0, floors=2, roof="pitched", eave_height_m=7.0, ridge_height_m=8.6),
                       house("R87", 20, floors=2, roof="pitched", eave_height_m=7.0, ridge_height_m=8.7)])
    d = district(buildings=buildings)
    f = run("HOME-HEIGHT", home_height, d)
    assert f["subject_id"].tolist() == ["R87"]
    assert f["measured"].iloc[0] == pytest.approx(8.7) and f["limit"].iloc[0] == pytest.approx(8.6)
    assert "屋脊高度8.70米（来源：属性）" in f["message"].iloc[0]
    assert d.quality.notes == []      # every building had a height


@pytest.mark.parametrize("attrs, found, limit", [
    ({"floors": 1, "roof": "flat", "eave_height_m": 3.5}, False, None),
    ({"floors": 1, "roof": "flat", "eave_height_m": 3.6}, True, 3.5),
    ({"floors": 1, "roof": "pitched", "eave_height_m": 3.6, "ridge_height_m": 6.0}, True, 3.5),
    ({"floors": 1, "roof": "pitched", "eave_height_m": 3.4, "ridge_height_m": 6.5}, False, None),
    ({"floors": 1, "roof": "坡屋顶", "eave_height_m": 3.4, "ridge_height_m": 6.6}, True, 6.5),
    ({"floors": 2, "roof": "flat", "ridge_height_m": 7.3}, True, 7.2),
    ({"floors": 2, "roof": "pitched", "eave_height_m": 7.3, "ridge_height_m": 8.0}, True, 7.2),
    ({"roof": "pitched", "ridge_height_m": 8.6}, False, None),          # floors unknown: two-floor limits
    ({"floors": 3, "roof": "flat", "eave_height_m": 7.0}, False, None),  # more than 2 floors: two-floor limits
    ({"floors": 3, "roof": "flat", "eave_height_m": 7.3}, True, 7.2),
    ({"floors": 1, "eave_height_m": 3.4, "ridge_height_m": 6.4}, False, None),     # roof unknown: eave and ridge
    ({"floors": 1, "eave_height_m": 3.4, "ridge_height_m": 6.6}, True, 6.5),
])
def test_height_limits_per_floors_and_roof(attrs, found, limit):
    f = run("HOME-HEIGHT", home_height, district(buildings=frame([house("B1", 0, **attrs)])))
    assert len(f) == int(found)
    if found:
        assert f["limit"].iloc[0] == pytest.approx(limit)


def test_finding_reports_the_largest_excess_and_every_breach():
    b = frame([house("B1", 0, floors=1, roof="pitched", eave_height_m=3.7, ridge_height_m=7.5)])
    f = run("HOME-HEIGHT", home_height, district(buildings=b))
    assert (f["measured"].iloc[0], f["limit"].iloc[0]) == (pytest.approx(7.5), pytest.approx(6.5))
    assert "檐口高度3.70米" in f["message"].iloc[0] and "屋脊高度7.50米" in f["message"].iloc[0]


def test_building_without_any_height_is_listed_unchecked_not_passed():
    d = district(buildings=frame([house("NOH", 0, floors=2, roof="flat"), house("OK", 20, floors=1, roof="flat",
                                                                               eave_height_m=3.0)]))
    assert len(run("HOME-HEIGHT", home_height, d)) == 0
    assert d.quality.layers["buildings"]["height_unchecked"] == 1
    assert any("NOH" in n and "未作超高检查" in n for n in d.quality.notes)
    assert "OK" not in "".join(d.quality.notes)


def test_roof_kind_reads_english_and_chinese():
    assert roof_kind(["FLAT", "平屋顶", "pitched", "坡顶", "", None]).tolist() == \
        ["flat", "flat", "pitched", "pitched", None, None]


# HOME-HEIGHT (nDSM) -------------------------------------------------------------------------------
def write_ndsm(path, crs="EPSG:4548", nodata=-9999.0):
    """A 0.5 m nDSM over local (-20..80, -20..30): ground 0, house H1 (0..10, 0..10) 9.0 m with 0.5 m
    walls blurred to 4 m at its edge, house H2 (30..40, 0..10) 8.0 m; a nodata hole over (60..70, 0..10)."""
    res = 0.5
    width, height = 200, 100
    transform = from_origin(X0 - 20, Y0 + 30, res, res)
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    x = -20 + (cols + 0.5) * res
    y = 30 - (rows + 0.5) * res
    data = np.zeros((height, width), dtype="float32")
    in_h1 = (x > 0) & (x < 10) & (y > 0) & (y < 10)
    edge = in_h1 & ((x < 0.5) | (x > 9.5) | (y < 0.5) | (y > 9.5))
    data[in_h1] = 9.0
    data[edge] = 4.0
    data[(x > 30) & (x < 40) & (y > 0) & (y < 10)] = 8.0
    data[(x > 60) & (x < 70) & (y > 0) & (y < 10)] = nodata
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32", crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def test_height_known_only_from_the_ndsm(tmp_path):
    ndsm = write_ndsm(tmp_path / "ndsm.tif")
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("H1", 0, 0, 10, floors=2, roof="pitched"),      # nDSM 9.0 > 8.6
               house("H2", 30, 0, 10, floors=2, roof="pitched"),     # nDSM 8.0: compliant
               house("HOLE", 60, 0, 10, floors=2, roof="flat"),      # nodata only: unchecked
               house("OUT", 200, 0, 10, floors=1, roof="flat")])     # outside the raster: unchecked
    d = district(buildings=b, config=cfg)
    f = run("HOME-HEIGHT", home_height, d)
    assert f["subject_id"].tolist() == ["H1"]
    assert f["measured"].iloc[0] == pytest.approx(9.0)              # the blurred edge is shrunk away
    assert f["limit"].iloc[0] == pytest.approx(8.6)
    assert "来源：nDSM" in f["message"].iloc[0]
    assert d.quality.layers["buildings"]["height_unchecked"] == 2
    assert any("HOLE" in n and "OUT" in n for n in d.quality.notes)


def test_attribute_heights_come_first_and_ndsm_is_evidence(tmp_path):
    ndsm = write_ndsm(tmp_path / "ndsm.tif")
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("H1", 0, 0, 10, floors=2, roof="pitched", eave_height_m=6.0, ridge_height_m=8.5),
               house("H2", 30, 0, 10, floors=2, roof="pitched", eave_height_m=6.0, ridge_height_m=8.8)])
    f = run("HOME-HEIGHT", home_height, district(buildings=b, config=cfg))
    # H1's nDSM says 9.0 but its attribute says 8.5: the attribute wins
    assert f["subject_id"].tolist() == ["H2"]
    assert "来源：属性" in f["message"].iloc[0] and "nDSM参考高度8.00米" in f["message"].iloc[0]


def test_ndsm_percentile_and_shrink_are_configuration(tmp_path):
    ndsm = write_ndsm(tmp_path / "ndsm.tif")
    b = frame([house("H1", 0, 0, 10, floors=2, roof="pitched")])
    # without shrink and at the 10th percentile the blurred 4 m edge drags the figure under the limit
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)},
                                        "limits": {"ndsm_percentile": 10, "ndsm_shrink_m": 0}})
    assert len(run("HOME-HEIGHT", home_height, district(buildings=b, config=cfg))) == 0


# HOME-MERGE ---------------------------------------------------------------------------------------
def test_building_across_two_parcels_is_merged_and_a_sliver_is_not():
    parcels = frame([{"parcel_id": "P1", "geometry": square(0, 0, 10)},
                     {"parcel_id": "P2", "geometry": square(10, 0, 10)},
                     {"parcel_id": "P3", "geometry": square(20, 0, 10)}])
    buildings = frame([house("M", 2, 2, 12, 6),                  # 8 x 6 on P1, 4 x 6 on P2
                       house("S", 20.5, 2, 9.45, 6),             # inside P3 ...
                       house("T", 11, 2, 8.95, 6)])              # on P2 only (0.05 m short of P3)
    f = run("HOME-MERGE", home_merge, district(parcels=parcels, buildings=buildings))
    assert f["subject_id"].tolist() == ["M"]
    assert f["related_ids"].tolist() == ["P1;P2"] and f["measured"].tolist() == [2.0]
    assert f.geometry.iloc[0].area == pytest.approx(72.0)


def test_merge_ignores_overlaps_under_the_minimum():
    parcels = frame([{"parcel_id": "P1", "geometry": square(0, 0, 10)},
                     {"parcel_id": "P2", "geometry": square(10, 0, 10)}])
    buildings = frame([house("B", 1, 1, 9.1, 8)])                # 0.1 x 8 = 0.8 m² on P2
    assert len(run("HOME-MERGE", home_merge, district(parcels=parcels, buildings=buildings))) == 0
    cfg = ProjectConfig.model_validate({"limits": {"min_overlap_m2": 0.5}})
    assert len(run("HOME-MERGE", home_merge, district(parcels=parcels, buildings=buildings, config=cfg))) == 1
