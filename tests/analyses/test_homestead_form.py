"""HOME-ROOF, HOME-STAIR, and HOME-HEIGHT from the plinth (attributes and nDSM rasters written in the test)."""

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely import affinity

from analyses.homestead_form import footprint_depth, roof_heights, roof_slope_deg
from analyses.testing import run_rule
from layers.config import ProjectConfig, load_config
from spatial.errors import ConfigError
from tests.builders import X0, Y0, at, district, frame, square


def house(bid, x, y=0, w=12, d=10, **attrs):
    return {"building_id": bid, "geometry": square(x, y, w, d), **attrs}


def write_ndsm(path, draw, res=0.25, left=-10.0, top=30.0):
    """An nDSM over local (left..left+120, top-40..top); ``draw(x, y)`` returns the heights at pixel centres."""
    width, height = round(120 / res), round(40 / res)
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    x = left + (cols + 0.5) * res
    y = top - (rows + 0.5) * res
    data = draw(x, y).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4548", transform=from_origin(X0 + left, Y0 + top, res, res), nodata=-9999.0) as dst:
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


def rotated_gable(x, y, cx, cy, angle_deg, eave, slope_deg, w, d):
    """Heights of a gable roof w long, d deep, centred on (cx, cy), its ridge turned angle_deg from x; 0 outside."""
    a = np.radians(angle_deg)
    u = (x - cx) * np.cos(a) + (y - cy) * np.sin(a)
    v = -(x - cx) * np.sin(a) + (y - cy) * np.cos(a)
    inside = (np.abs(u) < w / 2) & (np.abs(v) < d / 2)
    return np.where(inside, eave + np.tan(np.radians(slope_deg)) * (d / 2 - np.abs(v)), 0.0)


def rotated_house(bid, cx, cy, angle_deg, w, d, **attrs):
    g = affinity.rotate(at(shapely.box(cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2)), angle_deg, origin=at(
        shapely.Point(cx, cy)))
    return {"building_id": bid, "geometry": g, **attrs}


# (id, centre x, angle, length, depth, eave, slope): 0.5 m pixels off the footprints' grid, rotated and narrow roofs
ROOFS = [("R28", 8, 0, 12, 10, 3.3, 28.0), ("R20", 26, 0, 12, 10, 3.3, 20.0), ("R35", 44, 0, 12, 10, 6.4, 35.0),
         ("R28TURN", 64, 30, 12, 8, 6.4, 28.0), ("R28NARROW", 84, 0, 10, 6, 3.0, 28.0),
         ("R35TURN", 102, -55, 10, 7, 3.0, 35.0)]


def test_roof_slope_from_ndsm_percentiles_within_a_degree(tmp_path):
    # the p95 − p5 height difference spans 0.9 of the run sampled (depth/2 − shrink), not depth/2: taken over
    # depth/2 a 28° roof would read 23° and be flagged; the slope must be within 1° whatever the pixel grid
    ndsm = write_ndsm(tmp_path / "ndsm.tif", lambda x, y: sum(
        rotated_gable(x, y, cx, 10, ang, e, sl, w, d) for _, cx, ang, w, d, e, sl in ROOFS), res=0.5, left=-10.13,
        top=30.07)
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    b = frame([rotated_house(bid, cx, 10, ang, w, d, roof="pitched") for bid, cx, ang, w, d, _, _ in ROOFS])
    f = run_rule("HOME-ROOF", district(buildings=b, config=cfg)).set_index("subject_id")
    assert sorted(f.index) == ["R20", "R35", "R35TURN"]
    assert f.loc["R20", "measured"] == pytest.approx(20.0, abs=1.0) and f.loc["R20", "limit"] == 26.0
    assert f.loc["R35", "measured"] == pytest.approx(35.0, abs=1.0) and f.loc["R35", "limit"] == 30.0
    assert f.loc["R35TURN", "measured"] == pytest.approx(35.0, abs=1.0)
    assert all("来源：nDSM" in m for m in f["message"])
    geoms = b.geometry.to_numpy()
    eave, ridge = roof_heights(ndsm, geoms, "EPSG:4548", 0.5)
    slope = roof_slope_deg(eave, ridge, footprint_depth(geoms))
    assert slope.tolist() == pytest.approx([r[6] for r in ROOFS], abs=1.0)
    assert eave.tolist() == pytest.approx([r[5] for r in ROOFS], abs=0.3)


def test_roof_percentiles_are_limits_per_township(tmp_path):
    # a 1 m² chimney 2.5 m above the ridge: the 95th percentile ignores it (28°, compliant); a township
    # taking the 100th reads the chimney as the ridge (far too steep)
    def draw(x, y):
        h = gable(x, y, 0, 3.3, 28.0) + gable(x, y, 60, 3.3, 28.0)
        chimney = ((np.abs(x - 6) < 0.5) | (np.abs(x - 66) < 0.5)) & (np.abs(y - 5) < 0.5)
        return np.where(chimney, 3.3 + np.tan(np.radians(28.0)) * 5 + 2.5, h)
    ndsm = write_ndsm(tmp_path / "ndsm.tif", draw)
    villages = frame([
        {"village_id": "110117104201", "name": "甲村", "township": "金海湖镇", "geometry": square(-500, -500, 530, 1000)},
        {"village_id": "110117105201", "name": "乙村", "township": "峪口镇", "geometry": square(30, -500, 470, 1000)}])
    b = frame([house("A", 0, roof="pitched"), house("B", 60, roof="pitched")])
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)},
                                        "townships": {"峪口镇": {"limits": {"roof_ridge_percentile": 100}}}})
    f = run_rule("HOME-ROOF", district(villages=villages, buildings=b, config=cfg))
    assert f["subject_id"].tolist() == ["B"] and f["measured"].iloc[0] > 40
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(ndsm)}})
    assert len(run_rule("HOME-ROOF", district(villages=villages, buildings=b, config=cfg))) == 0


def test_eave_percentile_must_be_below_the_ridge_percentile(tmp_path):
    p = tmp_path / "landguard.toml"
    p.write_text('[townships."峪口镇".limits]\nroof_eave_percentile = 95\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"landguard.toml: \[townships\.峪口镇\.limits\] "
                                          r"roof_eave_percentile（95）应小于 roof_ridge_percentile（95）"):
        load_config(p).limit_set()


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


def test_roof_slope_from_an_ndsm_in_another_crs(tmp_path):
    # the nDSM in UTM 50N (EPSG:32650), footprints in EPSG:4548: distances in from the eave are measured in
    # the footprints' CRS after moving the pixel centres there
    from pyproj import Transformer

    to_local = Transformer.from_crs("EPSG:32650", "EPSG:4548", always_xy=True)
    x0, y0 = Transformer.from_crs("EPSG:4548", "EPSG:32650", always_xy=True).transform(X0 - 10, Y0 + 30)
    res, width, height = 0.5, 240, 80
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    lx, ly = to_local.transform(x0 + (cols + 0.5) * res, y0 - (rows + 0.5) * res)
    h = gable(lx - X0, ly - Y0, 0, 3.3, 28.0) + gable(lx - X0, ly - Y0, 20, 3.3, 35.0)
    path = tmp_path / "ndsm_utm.tif"
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:32650", transform=from_origin(x0, y0, res, res), nodata=-9999.0) as dst:
        dst.write(h.astype("float32"), 1)
    cfg = ProjectConfig.model_validate({"rasters": {"ndsm": str(path)}})
    b = frame([house("R28", 0, roof="pitched"), house("R35", 20, roof="pitched")])
    f = run_rule("HOME-ROOF", district(buildings=b, config=cfg))
    assert f["subject_id"].tolist() == ["R35"] and f["measured"].iloc[0] == pytest.approx(35.0, abs=1.0)
