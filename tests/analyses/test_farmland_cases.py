"""FARM-CRIMINAL (sums of other findings) and FARM-RS (change patches from two rasters)."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from analyses.testing import run_rule
from analyses import CATALOGUE, RULES, finalise
from layers.config import ProjectConfig
from layers.landcover import patch_ids
from tests.builders import X0, Y0, district, frame, square

ID_A = "11010519491231002X"
ID_B = "110105194912310021"   # wrong check digit: still one owner by its text


def run(rule, d):
    return run_rule(rule, d)


def farmland():
    return frame([{"dlbm": "0702", "tbbh": "B1", "survey_year": 2023, "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "F1", "survey_year": 2023, "geometry": square(0, -500, 500, 1000)}])


# ---- FARM-CRIMINAL ---------------------------------------------------------------------------------
def test_one_owner_over_5_mu_of_pbf_and_one_just_under():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 400, 400)}])
    b = frame([{"building_id": "A1", "owner_id": ID_A.lower(), "built_year": 2022, "geometry": square(0, 0, 40, 42)},
               {"building_id": "A2", "owner_id": ID_A, "built_year": 2019, "geometry": square(100, 0, 40, 42)},
               # owner B: 2 x 1650 m² = 3300 m² = 4.95 亩 < 5 亩
               {"building_id": "B1", "owner_id": ID_B, "geometry": square(0, 100, 30, 55)},
               {"building_id": "B2", "owner_id": ID_B, "geometry": square(100, 100, 30, 55)}])
    d = district(landuse=farmland(), pbf=pbf, buildings=b)
    f = run("FARM-CRIMINAL", d)
    assert f["subject_id"].tolist() == ["A1"] and f["related_ids"].tolist() == ["A1;A2"]
    assert f["measured"].iloc[0] == pytest.approx(3360 / 666.6666667) and f["limit"].iloc[0] == 5.0
    assert f["area_m2"].iloc[0] == pytest.approx(3360.0) and f["unit"].iloc[0] == "亩"
    assert f["status"].iloc[0] == "new" and f["severity"].iloc[0] == "high"
    assert ID_A not in f["message"].iloc[0] and "移送" in f["message"].iloc[0]


def test_contiguous_construction_patches_over_10_mu_of_farmland():
    current = farmland()
    patches = [("T1", square(0, 0, 50, 70)), ("T2", square(50, 0, 50, 70)),     # touching: 7000 m² = 10.5 亩
               ("T3", square(200, 0, 60, 110))]                                # alone: 6600 m² = 9.9 亩
    for t, g in patches:
        current.loc[len(current)] = {"dlbm": "0601", "tbbh": t, "survey_year": 2019, "geometry": g}
    # an ownerless building touching T3 joins its case patch: 6600 + 100 = 6700 m² = 10.05 亩
    b = frame([{"building_id": "H9", "geometry": square(260, 0, 10)},
               {"building_id": "B0", "geometry": square(-400, -400, 8)}])
    d = district(landuse=current, landuse_baseline=farmland(), buildings=b)
    f = run("FARM-CRIMINAL", d).set_index("subject_id")
    assert sorted(f.index) == ["H9", "T1"]
    assert f.loc["T1", "related_ids"] == "T1;T2" and f.loc["T1", "measured"] == pytest.approx(10.5)
    assert f.loc["T1", "limit"] == 10.0 and f.loc["T1", "status"] == "existing"
    assert f.loc["H9", "related_ids"] == "H9;T3"


def test_criminal_runs_alone_without_the_other_rules_having_run():
    b = frame([{"building_id": "A1", "owner_id": ID_A, "geometry": square(0, 0, 100, 70)}])
    d = district(landuse=farmland(), buildings=b)
    f = run_rule("FARM-CRIMINAL", d)
    assert f["subject_id"].tolist() == ["A1"]          # 7000 m² of farmland = 10.5 亩


# ---- FARM-RS --------------------------------------------------------------------------------------
def test_lake_findings_are_summed_into_a_case_patch():
    current = farmland()
    for t, g in [("T1", square(0, 0, 50, 70)), ("T2", square(50, 0, 50, 70))]:   # touching: 7000 m² = 10.5 亩
        current.loc[len(current)] = {"dlbm": "1104", "tbbh": t, "survey_year": 2022, "geometry": g}
    d = district(landuse=current, landuse_baseline=farmland(), buildings=frame(
        [{"building_id": "B0", "geometry": square(-400, -400, 8)}]))
    assert len(run("FARM-LAKE", d)) == 2 and run("FARM-NONAGRI", d).empty
    f = run("FARM-CRIMINAL", d)
    assert f["related_ids"].tolist() == ["T1;T2"] and f["measured"].iloc[0] == pytest.approx(10.5)
    assert f["limit"].iloc[0] == 10.0 and f["status"].iloc[0] == "new"


def other_land():
    """Baseline: homesteads x -500..-250, woodland -250..0, farmland 0..250, grassland 250..500."""
    return frame([{"dlbm": c, "tbbh": t, "survey_year": 2023, "geometry": square(x, -500, 250, 1000)}
                  for c, t, x in [("0702", "B1", -500), ("0301", "W1", -250), ("0103", "F1", 0), ("0404", "G1", 250)]])


def test_construction_on_woodland_10_mu_and_grassland_20_mu_per_owner():
    b = frame([
        # woodland: 甲 2 x 3500 m² = 10.5 亩 (over 10); 乙 6600 m² = 9.9 亩; 戊 7000 m² under a construction approval
        {"building_id": "A1", "owner_id": "甲公司", "built_year": 2021, "geometry": square(-240, -450, 50, 70)},
        {"building_id": "A2", "owner_id": "甲公司", "built_year": 2018, "geometry": square(-240, -300, 50, 70)},
        {"building_id": "Y1", "owner_id": "乙公司", "geometry": square(-150, -450, 60, 110)},
        {"building_id": "E1", "owner_id": "戊公司", "geometry": square(-150, 0, 100, 70)},
        # grassland: 丙 13400 m² = 20.1 亩 (over 20); 丁 7000 m² = 10.5 亩 (over the woodland figure, not grassland's)
        {"building_id": "C1", "owner_id": "丙公司", "geometry": square(260, -450, 100, 134)},
        {"building_id": "D1", "owner_id": "丁公司", "geometry": square(260, 0, 100, 70)}])
    current = other_land()
    # an ownerless 0601 patch on woodland: 7000 m² = 10.5 亩, a case patch of its own
    current.loc[len(current)] = {"dlbm": "0601", "tbbh": "T9", "survey_year": 2019,
                                 "geometry": square(-240, 200, 100, 70)}
    ap = frame([{"approval_id": "JS1", "kind": "construction", "geometry": square(-150, 0, 100, 70)}])
    d = district(landuse=current, landuse_baseline=other_land(), buildings=b, approvals=ap)
    f = run("FARM-CRIMINAL", d).set_index("subject_id")
    assert sorted(f.index) == ["A1", "C1", "T9"]
    assert f.loc["A1", "related_ids"] == "A1;A2" and f.loc["A1", "measured"] == pytest.approx(10.5)
    assert f.loc["A1", "limit"] == 10.0 and f.loc["A1", "status"] == "new"
    assert f.loc["C1", "limit"] == 20.0 and f.loc["C1", "measured"] == pytest.approx(20.1)
    assert f.loc["T9", "message"].startswith("同一连片违法占地") and f.loc["T9", "status"] == "existing"
    msg = f.loc["A1", "message"]
    assert "林地10.50亩" in msg and "配置值" in msg and "法释〔2005〕15号" in msg and "法释〔2012〕15号" in msg
    assert "草地20亩" in f.loc["C1", "message"] and "甲公司" not in f.loc["C1", "message"]
    # the figures are configuration: a township raising the woodland figure drops 甲 and T9
    cfg = ProjectConfig.model_validate({"townships": {"金海湖镇": {"limits": {"criminal_woodland_mu": 11.0}}}})
    d2 = district(landuse=current, landuse_baseline=other_land(), buildings=b, approvals=ap, config=cfg)
    assert run("FARM-CRIMINAL", d2)["subject_id"].tolist() == ["C1"]


def write(path, data, res=2.0):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype="uint8", crs="EPSG:4548", transform=from_origin(X0 - 500, Y0 + 500, res, res),
                       nodata=0, tiled=True, blockxsize=256, blockysize=256) as dst:
        dst.write(data, 1)


def rc(x, y):
    """Pixel (row, col) of local coordinates on the 2 m grid whose north-west corner is (-500, 500)."""
    return int((500 - y) / 2), int((x + 500) / 2)


def test_change_patches_clipped_tagged_and_filtered(tmp_path):
    before = np.ones((500, 500), dtype=np.uint8)            # all cropland
    after = before.copy()
    r0, c0 = rc(10, 50)
    after[r0:r0 + 15, c0:c0 + 20] = 5                        # 40 m x 30 m built-up at x 10..50, y 20..50
    r0, c0 = rc(100, 50)
    after[r0:r0 + 10, c0:c0 + 15] = 2                        # 30 m x 20 m forest on PBF and the red line
    r0, c0 = rc(200, 50)
    after[r0:r0 + 3, c0:c0 + 3] = 4                          # 6 m x 6 m water: 36 m² < 50 m²
    r0, c0 = rc(-30, 50)
    after[r0:r0 + 10, c0:c0 + 10] = 5                        # x -30..-10: not farmland in the survey
    r0, c0 = rc(300, 50)
    after[r0:r0 + 10, c0:c0 + 10] = 3                        # cropland -> grassland: not a change we report
    write(tmp_path / "before.tif", before)
    write(tmp_path / "after.tif", after)
    pbf = frame([{"pbf_id": "J1", "geometry": square(100, 30, 30, 20)}])
    eco = frame([{"name": "红线", "geometry": square(120, 0, 100, 100)}])
    d = district(landuse=farmland(), pbf=pbf, eco_redline=eco)
    d.rasters = {"landcover_before": tmp_path / "before.tif", "landcover_after": tmp_path / "after.tif"}
    f = run("FARM-RS", d).sort_values("area_m2", ascending=False)
    assert f["area_m2"].tolist() == pytest.approx([1200.0, 600.0])
    assert f["subject_id"].tolist() == patch_ids([square(10, 20, 40, 30), square(100, 30, 30, 20)]).tolist()
    assert set(f["severity"]) == {"low"} and all("外业核查" in m for m in f["message"])
    built, forest = f["message"].tolist()
    assert "建设用地" in built and "SFYN（涉及永久基本农田）=否" in built and "SFHX（涉及生态保护红线）=否" in built
    assert "林地" in forest and "SFYN（涉及永久基本农田）=是" in forest and "SFHX（涉及生态保护红线）=是" in forest


def test_rs_is_skipped_without_rasters():
    from analyses.runner import run_rules

    d = district(landuse=farmland())
    _, outcomes = run_rules(d, ["FARM-RS"])
    assert outcomes[0].skipped and "landcover_before" in outcomes[0].skipped


def test_dig_findings_are_summed_into_a_case_patch():
    # two touching 推堆土 patches on PBF: 2 x 1750 m² = 3500 m² = 5.25 亩 ≥ 5 亩; a lone one of 3300 m² = 4.95 亩
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, -500, 500, 1000)}])
    patches = frame([
        {"patch_id": "D1", "change_type": "推堆土", "after_date": "2026-07-01", "geometry": square(0, 0, 50, 35)},
        {"patch_id": "D2", "change_type": "取土", "after_date": "2026-07-01", "geometry": square(0, 35, 50, 35)},
        {"patch_id": "D3", "change_type": "压占", "after_date": "2026-07-01", "geometry": square(200, 0, 50, 66)},
    ])
    d = district(landuse=farmland(), pbf=pbf, monitoring_patches=patches,
                 buildings=frame([{"building_id": "B0", "geometry": square(-400, -400, 8)}]))
    assert sorted(run("FARM-DIG", d)["subject_id"]) == ["D1", "D2", "D3"]
    f = run("FARM-CRIMINAL", d)
    assert f["related_ids"].tolist() == ["D1;D2"] and f["subject_id"].tolist() == ["D1"]
    assert f["measured"].iloc[0] == pytest.approx(3500 / 666.6666667) and f["limit"].iloc[0] == 5.0
