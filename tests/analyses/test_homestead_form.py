"""HOME-ROOF, HOME-STAIR, and HOME-HEIGHT from the plinth (attributes and nDSM rasters written in the test)."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from analyses.testing import run_rule
from analyses.homestead_form import footprint_depth
from layers.config import ProjectConfig
from tests.builders import X0, Y0, district, frame, square


def house(bid, x, y=0, w=12, d=10, **attrs):
    return {"building_id": bid, "geometry": square(x, y, w, d), **attrs}


def write_ndsm(path, draw):
    """A 0.25 m nDSM over local (-10..110, -10..30); ``draw(x, y)`` returns the heights at pixel centres."""
    res = 0.25
    width, height = 480, 160
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    x = -10 + (cols + 0.5) * res
    y = 30 - (rows + 0.5) * res
    data = draw(x, y).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4548", transform=from_origin(X0 - 10, Y0 + 30, res, res), nodata=-9999.0) as dst:
        dst.write(data, 1)
    return path


def gable(x, y, x0, eave, slope_deg, w=12, d=10):
    """Heights of a gable roof on (x0..x0+w, 0..d), ridge along x at y = d/2; 0 outside."""
    inside = (x > x0) & (x < x0 + w) & (y > 0) & (y < d)
    h = eave + np.tan(np.radians(slope_deg)) * (d / 2 - np.abs(y - d / 2))
    return np.where(inside, h, 0.0)


# HOME-ROOF ----------------------------------------------------------------------------------------
def test_depth_is_the_short_side_of_the_rotated_rectangle():
    assert footprint_depth([square(0, 0, 12, 10)]).tolist() == [pytest.approx(10.0)]


def test_roof_slope_from_attributes_26_and_30_degrees_are_compliant():
    t26, t30 = np.tan(np.radians(26.0)) * 5, np.tan(np.radians(30.0)) * 5
    b = frame([house("OK26", 0, roof="pitched", eave_height_m=3.3, ridge_height_m=3.3 + t26),
               house("OK30", 20, roof="pitched", eave_height_m=3.3, ridge_height_m=3.3 + t30),
               house("STEEP", 40, roof="坡屋顶", eave_height_m=3.3, ridge_height_m=6.5),       # 32.6°
               house("FLATISH", 60, roof="pitched", eave_height_m=3.3, ridge_height_m=5.3),    # 21.8°
               house("FLATROOF", 80, roof="flat", eave_height_m=3.3, ridge_height_m=6.5)])     # not pitched
    f = run_rule("HOME-ROOF", district(buildings=b)).sort_values("subject_id")
    assert f["subject_id"].tolist() == ["FLATISH", "STEEP"]
    assert f["measured"].tolist() == [pytest.approx(21.8, abs=0.05), pytest.approx(32.62, abs=0.05)]
    assert f["limit"].tolist() == [26.0, 30.0]
    assert set(f["severity"]) == {"low"} and set(f["unit"]) == {"°"}
    assert "来源：属性" in f["message"].iloc[0] and "进深10.00米" in f["message"].iloc[0]


def test_ridge_lower_than_eave_is_a_note_not_a_finding():
    d = district(buildings=frame([house("BAD", 0, roof="pitched", eave_height_m=6.0, ridge_height_m=3.0)]))
    assert len(run_rule("HOME-ROOF", d)) == 0
    assert d.quality.layers["buildings"]["bad_roof_heights"] == 1
    assert any("BAD" in n and "ridge_height_m" in n and "eave_height_m" in n for n in d.quality.notes)


def test_roof_slope_limits_are_configuration():
    cfg = ProjectConfig.model_validate({"limits": {"roof_slope_max_deg": 35}})
    b = frame([house("STEEP", 40, roof="pitched", eave_height_m=3.3, ridge_height_m=6.5)])
    assert len(run_rule("HOME-ROOF", district(buildings=b, config=cfg))) == 0


def test_roof_slope_from_the_ndsm(tmp_path):
    ndsm = write_ndsm(tmp_path / "ndsm.tif", lambda x, y: gable(x, y, 0, 3.3, 28.0) + gable(x, y, 20, 3.3, 36.0)
                      + gable(x, y, 40, 3.3, 26.5))
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("R28", 0, roof="pitched"), house("R36", 20, roof="pitched"), house("R26", 40, roof="pitched")])
    f = run_rule("HOME-ROOF", district(buildings=b, config=cfg))
    # a plain percentile difference over depth/2 would call 28° and 26.5° roofs too flat
    assert f["subject_id"].tolist() == ["R36"]
    assert f["measured"].iloc[0] == pytest.approx(36.0, abs=0.5)
    assert "来源：nDSM" in f["message"].iloc[0]


def test_pitched_roof_without_heights_or_ndsm_is_listed_unchecked():
    d = district(buildings=frame([house("NOH", 0, roof="pitched")]))
    assert len(run_rule("HOME-ROOF", d)) == 0
    assert d.quality.layers["buildings"]["roof_unchecked"] == 1


# HOME-STAIR ---------------------------------------------------------------------------------------
def test_stairwell_attributes_6_m2_and_2_7_m_are_compliant_larger_is_partial_third_floor():
    b = frame([house("OK", 0, floors=2, stair_area_m2=6.0, stair_height_m=2.7),
               house("WIDE", 20, floors=2, stair_area_m2=12.5, stair_height_m=2.6),
               house("TALL", 40, floors=2, stair_area_m2=5.0, stair_height_m=3.0),
               house("NEG", 60, floors=2, stair_area_m2=-4.0)])
    d = district(buildings=b)
    f = run_rule("HOME-STAIR", d).sort_values("subject_id")
    assert f["subject_id"].tolist() == ["TALL", "WIDE"]
    assert list(zip(f["measured"], f["limit"], f["unit"])) == [(3.0, 2.7, "m"), (12.5, 6.0, "m²")]
    assert set(f["severity"]) == {"medium"} and all("局部三层" in m for m in f["message"])
    assert d.quality.layers["buildings"]["bad_stair_values"] == 1
    assert any("NEG" in n and "stair_area_m2" in n for n in d.quality.notes)


def test_stairwell_from_the_ndsm_in_a_two_floor_building(tmp_path):
    def draw(x, y):
        roof = lambda x0: (x > x0) & (x < x0 + 12) & (y > 0) & (y < 10)
        box = lambda x0, s: (x > x0 + 4) & (x < x0 + 4 + s) & (y > 3) & (y < 3 + s)
        h = np.zeros_like(x, dtype=float)
        for x0 in (0, 20, 40, 60):
            h = np.where(roof(x0), 6.6, h)
        h = np.where(box(0, 3.0), 9.6, h)     # 9 m² stairwell, 3.0 m above the roof
        h = np.where(box(20, 2.0), 9.0, h)     # 4 m², 2.4 m: compliant
        h = np.where(roof(40), 8.0, h)         # the whole roof high: HOME-HEIGHT's, not a stairwell
        h = np.where(box(60, 3.0), 9.6, h)     # 9 m², but the building has one floor
        return h
    ndsm = write_ndsm(tmp_path / "ndsm.tif", draw)
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("BIG", 0, floors=2, roof="flat"), house("SMALL", 20, floors=2, roof="flat"),
               house("HIGH", 40, floors=2, roof="flat"), house("ONE", 60, floors=1, roof="flat")])
    f = run_rule("HOME-STAIR", district(buildings=b, config=cfg))
    assert f["subject_id"].tolist() == ["BIG"]
    assert f["measured"].iloc[0] == pytest.approx(9.0, abs=0.8) and f["unit"].iloc[0] == "m²"
    assert "来源：nDSM" in f["message"].iloc[0] and "层高3.00米" in f["message"].iloc[0]


def test_stairwell_threshold_counts_the_plinth(tmp_path):
    # a 1.0 m plinth: the roof at 7.6 m above ground is 6.6 m above the plinth; a 9 m² block to 8.0 m
    # above ground (7.0 m above the plinth) is under 7.2 + 0.3 m: no stairwell
    def draw(x, y):
        h = np.where((x > 0) & (x < 12) & (y > 0) & (y < 10), 7.6, 0.0)
        return np.where((x > 4) & (x < 7) & (y > 3) & (y < 6), 8.0, h)
    ndsm = write_ndsm(tmp_path / "ndsm.tif", draw)
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("P", 0, floors=2, roof="flat", plinth_m=1.0)])
    assert len(run_rule("HOME-STAIR", district(buildings=b, config=cfg))) == 0
    b = frame([house("P", 0, floors=2, roof="flat", plinth_m=0.2)])   # threshold 7.7: the 9 m² block is above it
    assert run_rule("HOME-STAIR", district(buildings=b, config=cfg))["subject_id"].tolist() == ["P"]


# HOME-HEIGHT from the plinth ----------------------------------------------------------------------
def flat_roofs(tmp_path, heights):
    def draw(x, y):
        h = np.zeros_like(x, dtype=float)
        for k, v in enumerate(heights):
            h = np.where((x > 20 * k) & (x < 20 * k + 12) & (y > 0) & (y < 10), v, h)
        return h
    return write_ndsm(tmp_path / "ndsm.tif", draw)


def test_ndsm_height_counts_from_the_top_of_the_plinth(tmp_path):
    ndsm = flat_roofs(tmp_path, [7.6, 7.6, 8.0, 7.6])
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([house("PL", 0, floors=2, roof="flat", plinth_m=0.45),   # 7.15 above the plinth: compliant
               house("UNK", 20, floors=2, roof="flat"),                # unknown plinth, 0.4 over: low
               house("FAR", 40, floors=2, roof="flat"),                # unknown plinth, 0.8 over: medium
               house("NEG", 60, floors=2, roof="flat", plinth_m=-1.0)])  # bad plinth: unknown, 0.4 over: low
    d = district(buildings=b, config=cfg)
    f = run_rule("HOME-HEIGHT", d).set_index("subject_id")
    assert sorted(f.index) == ["FAR", "NEG", "UNK"]
    assert f.loc["UNK", "severity"] == "low" and "礅基高度不详" in f.loc["UNK", "message"]
    assert f.loc["FAR", "severity"] == "medium"
    assert f.loc["NEG", "severity"] == "low"
    assert all("来源：nDSM" in m for m in f["message"])
    assert d.quality.layers["buildings"]["bad_plinth_m"] == 1
    assert any("NEG" in n and "plinth_m" in n for n in d.quality.notes)


def test_plinth_default_and_uncertainty_are_configuration(tmp_path):
    ndsm = flat_roofs(tmp_path, [7.6])
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}, "limits": {"plinth_default_m": 0.5}})
    b = frame([house("UNK", 0, floors=2, roof="flat")])
    assert len(run_rule("HOME-HEIGHT", district(buildings=b, config=cfg))) == 0
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}, "limits": {"plinth_uncertain_m": 0.2}})
    assert run_rule("HOME-HEIGHT", district(buildings=b, config=cfg))["severity"].tolist() == ["medium"]


def test_attribute_heights_are_taken_as_above_the_plinth():
    b = frame([house("A", 0, floors=2, roof="flat", eave_height_m=7.3, plinth_m=0.5)])
    f = run_rule("HOME-HEIGHT", district(buildings=b))
    assert f["measured"].tolist() == [pytest.approx(7.3)] and f["severity"].tolist() == ["medium"]
    assert "来源：属性" in f["message"].iloc[0]
