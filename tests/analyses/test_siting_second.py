"""SITE-LAND, SITE-LEVEL, SITE-APPROVAL, SITE-GREEN, SITE-GRAVE on geometry built in code (EPSG:4548)."""

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from analyses.testing import run_rule
from analyses.siting_land import normalise_levels
from analyses.findings import case_ids
from layers.config import ProjectConfig, load_config
from spatial.errors import ConfigError
from tests.builders import CRS, X0, Y0, at, district, frame, square

CFG = ProjectConfig.model_validate({"project": {"working_crs": CRS}})


def cem(cid, x, y, w=40.0, h=30.0, **attrs):
    return {"cemetery_id": cid, "name": f"{cid}墓地", "geometry": square(x, y, w, h), **attrs}


def landuse(*patches):
    """The village's land: 0702 everywhere but the given (code, x, y, w, h) patches."""
    rows = [{"dlbm": c, "tbbh": f"T{i}", "geometry": square(x, y, w, h)} for i, (c, x, y, w, h) in enumerate(patches)]
    rest = shapely.difference(square(-500, -500, 1000), shapely.union_all([r["geometry"] for r in rows])) \
        if rows else square(-500, -500, 1000)
    return frame(rows + [{"dlbm": "0702", "tbbh": "T_rest", "geometry": rest}])


def run(rule, cemeteries=(), config=CFG, **layers):
    if cemeteries is not None:
        layers["cemeteries"] = frame([dict(c) for c in cemeteries])
    return run_rule(rule, district(config=config, **layers))


# -- SITE-LAND -------------------------------------------------------------------------------------
def test_site_land_farmland_woodland_pbf_and_red_line():
    lu = landuse(("0103", 0, 0, 100, 100), ("0301", 200, 0, 100, 100), ("1206", 400, 0, 100, 100))
    pbf = frame([{"pbf_id": "PBF1", "geometry": square(0, 0, 50, 100)}])
    red = frame([{"name": "红线", "geometry": square(-300, -300, 100, 100)}])
    cems = [cem("A", 80, 10), cem("B", 230, 10), cem("C", 410, 10), cem("D", 10, 10), cem("E", -280, -280)]
    f = run("SITE-LAND", cems, landuse=lu, pbf=pbf, eco_redline=red).set_index("subject_id")
    assert sorted(f.index) == ["A", "B", "D", "E"]           # C on 裸土地 1206: barren land is allowed
    assert f.loc["A", "area_m2"] == pytest.approx(20 * 30) and f.loc["A", "severity"] == "medium"
    assert f.loc["A"].geometry.symmetric_difference(square(80, 10, 20, 30)).area < 1e-6
    assert f.loc["B", "area_m2"] == pytest.approx(1200) and "林地" in f.loc["B", "message"]
    assert f.loc["D", "severity"] == "high" and "永久基本农田" in f.loc["D", "message"]
    assert f.loc["E", "severity"] == "high" and "生态保护红线" in f.loc["E", "message"]
    assert "第八条" in f.loc["A", "message"]


def test_site_land_slivers_are_noise():
    lu = landuse(("0103", 0, 0, 100, 100))
    f = run("SITE-LAND", [cem("A", 99.99, 10, 40, 30)], landuse=lu)  # 0.3 m² on farmland
    assert f.empty


def test_site_land_baseline_farmland_counts():
    # the current survey shows 0905 but the baseline 0103: the cemetery took farmland
    lu = landuse(("0905", 0, 0, 100, 100))
    base = landuse(("0103", 0, 0, 100, 100))
    f = run("SITE-LAND", [cem("A", 10, 10)], landuse=lu, landuse_baseline=base)
    assert f["subject_id"].tolist() == ["A"] and f["area_m2"].iloc[0] == pytest.approx(1200)


# -- SITE-LEVEL ------------------------------------------------------------------------------------
def villages(*towns):
    """Villages 200 m wide from x = -500, the last one reaching x = 500."""
    n = len(towns)
    return frame([{"village_id": f"V{i}", "name": f"村{i}", "township": t,
                   "geometry": square(-500 + 200 * i, -500, 200 if i < n - 1 else 1000 - 200 * i, 1000)}
                  for i, t in enumerate(towns)])


def test_site_level_mentougou_table():
    v = villages("永定镇", "斋堂镇", "清水镇", "城子街道")
    cems = [cem("D_ok", -480, 0, level="district"), cem("T_ok", -280, 0, level="镇级"),
            cem("D_bad", -80, 0, level="district"), cem("T_bad", -80, 100, level="town"),
            cem("B_ok", -80, 200, level="burial_point"), cem("D_ok2", 120, 0, level="区级"),
            cem("T_bad2", -480, 200, level="town"), cem("N", -80, 300)]
    f = run("SITE-LEVEL", cems, villages=v).set_index("subject_id")
    assert sorted(f.index) == ["D_bad", "T_bad", "T_bad2"]
    assert "区级公墓只能设在永定镇、龙泉镇、军庄镇、东辛房、大峪、城子" in f.loc["D_bad", "message"]
    assert "清水镇" in f.loc["D_bad", "message"] and "第九条" in f.loc["D_bad", "message"]
    assert f.loc["T_bad2"].geometry.equals(square(-480, 200, 40, 30))


def test_site_level_table_is_configuration_per_township():
    v = villages("峪口镇", "金海湖镇")
    cfg = ProjectConfig.model_validate({"project": {"working_crs": CRS},
                                        "limits": {"cemetery_levels": {"district": ["峪口镇"], "town": []}},
                                        "townships": {"金海湖镇": {"limits": {"cemetery_levels": {
                                            "district": [], "town": ["金海湖"]}}}}})
    cems = [cem("A", -480, 0, level="district"), cem("B", -280, 0, level="town"), cem("C", -280, 100, level="district")]
    f = run("SITE-LEVEL", cems, villages=v, config=cfg)
    assert f["subject_id"].tolist() == ["C"]


def test_site_level_two_town_cemeteries_in_one_township_are_flagged_one_is_not():
    # 第九条: 潭柘寺镇、斋堂镇各建一处镇级公墓 — two in 潭柘寺镇 (in two of its villages), one in 斋堂镇
    v = villages("潭柘寺镇", "潭柘寺镇", "斋堂镇", "清水镇")
    cems = [cem("T1", -480, 0, level="town"), cem("T2", -280, 0, level="镇级"), cem("B", -480, 100, level="burial_point"),
            cem("Z", -80, 0, level="town"), cem("Q", 120, 0, level="town"), cem("Q2", 120, 100, level="town")]
    f = run("SITE-LEVEL", cems, villages=v).set_index("subject_id")
    # 斋堂镇's one is allowed; a burial point is not counted; 清水镇's two are misplaced, once each (not counted)
    assert sorted(f.index) == ["Q", "Q2", "T1", "T2"]
    assert "镇级公墓只能设在潭柘寺镇、斋堂镇" in f.loc["Q", "message"] and "共有" not in f.loc["Q", "message"]
    # the count finding has its own case id: not the one a wrong-township finding of the same cemetery gets
    assert f.loc["Q", "case_id"] == case_ids("SITE-LEVEL", ["cemeteries"], ["Q"], ["town"])[0]
    assert f.loc["T1", "case_id"] == case_ids("SITE-LEVEL", ["cemeteries"], ["T1"], ["town_count"])[0]
    assert f.loc["T1", "case_id"] != case_ids("SITE-LEVEL", ["cemeteries"], ["T1"], ["town"])[0]
    t1, t2 = f.loc["T1"], f.loc["T2"]
    assert t1["related_ids"] == "T2" and t2["related_ids"] == "T1"
    assert t1["measured"] == t2["measured"] == 2 and t1["limit"] == 1 and t1["unit"] == "处"
    assert "潭柘寺镇" in t1["message"] and "共有2处镇级公墓" in t1["message"] and "T2墓地（T2）" in t1["message"]
    assert "只能建1处" in t1["message"] and "第九条" in t1["message"]
    assert t1.geometry.equals(square(-480, 0, 40, 30))


def test_site_level_counts_a_township_whole_when_the_run_is_split_by_village():
    # the two 镇级 cemeteries are 800 m apart, in the first and the last village of 潭柘寺镇: no village chunk
    # (halo 100 m) holds both, so the count needs the whole district (scope "district")
    from landguard.run import run_rules_parallel

    v = villages("潭柘寺镇", "清水镇", "清水镇", "清水镇", "潭柘寺镇")
    d = district(config=CFG, villages=v, cemeteries=frame([cem("T1", -480, 0, level="town"),
                                                           cem("T2", 400, 0, level="town")]))
    one = run_rule("SITE-LEVEL", d)
    split, _ = run_rules_parallel(d, ["SITE-LEVEL"], jobs=2, chunks_per_job=3, split="villages")
    assert sorted(one["subject_id"]) == sorted(split["subject_id"]) == ["T1", "T2"]
    assert sorted(split["case_id"]) == sorted(one["case_id"])


def test_site_level_three_town_cemeteries_each_name_the_other_two():
    v = villages("斋堂镇", "清水镇")
    cems = [cem(c, -480, 40 * i, level="town") for i, c in enumerate(("A", "B", "C"))]
    f = run("SITE-LEVEL", cems, villages=v).set_index("subject_id")
    assert f["related_ids"].to_dict() == {"A": "B;C", "B": "A;C", "C": "A;B"}
    assert (f["measured"] == 3).all() and "另有公墓B墓地（B）、公墓C墓地（C））" in f.loc["A", "message"]


def test_site_level_town_count_is_configuration_per_township():
    v = villages("潭柘寺镇", "斋堂镇", "大华山镇")
    cfg = ProjectConfig.model_validate({
        "project": {"working_crs": CRS},
        "limits": {"cemetery_levels": {"town": ["潭柘寺镇", "斋堂镇", "大华山镇"]}},
        "townships": {"潭柘寺镇": {"limits": {"cemetery_levels": {"town_per_township": 2}}},
                      "斋堂镇": {"limits": {"cemetery_levels": {"town_per_township": 0}}}}})
    cems = [cem("T1", -480, 0, level="town"), cem("T2", -480, 100, level="town"),     # 2 of 2 allowed
            cem("Z", -280, 0, level="town"),                                           # 0 allowed
            cem("D1", 120, 0, level="town"), cem("D2", 120, 100, level="town")]        # 2 of the district's 1
    f = run("SITE-LEVEL", cems, villages=v, config=cfg).set_index("subject_id")
    assert sorted(f.index) == ["D1", "D2", "Z"]
    assert f.loc["Z", "limit"] == 0 and "不能建镇级公墓" in f.loc["Z", "message"] and pd.isna(f.loc["Z", "related_ids"])
    assert f.loc["D1", "limit"] == 1 and f.loc["D1", "related_ids"] == "D2"


def test_site_level_unknown_township_is_misplaced_not_counted():
    # a village without a township: its 镇级 cemeteries are misplaced (no table allows them), never counted, even
    # where every township may hold 镇级 cemeteries ("*"); the known township's two are counted
    v = villages(None, "斋堂镇")
    star = ProjectConfig.model_validate({"project": {"working_crs": CRS},
                                         "limits": {"cemetery_levels": {"town": ["*"]}}})
    cems = [cem("U1", -480, 0, level="town"), cem("U2", -480, 100, level="town"),
            cem("Z1", 120, 0, level="town"), cem("Z2", 120, 100, level="town")]
    f = run("SITE-LEVEL", cems, villages=v).set_index("subject_id")
    assert sorted(f.index) == ["U1", "U2", "Z1", "Z2"] and "未知乡镇" in f.loc["U1", "message"]
    assert f.loc["Z1", "related_ids"] == "Z2" and pd.isna(f.loc["U1", "related_ids"])
    g = run("SITE-LEVEL", cems, villages=v, config=star).set_index("subject_id")
    assert sorted(g.index) == ["Z1", "Z2"]


def test_site_level_district_cemeteries_have_no_count():
    v = villages("永定镇", "龙泉镇")
    cems = [cem("D1", -480, 0, level="district"), cem("D2", -480, 100, level="district"),
            cem("D3", 120, 0, level="district")]
    assert run("SITE-LEVEL", cems, villages=v).empty


@pytest.mark.parametrize("value, needle", [("-1", "greater than or equal to 0"), ("1.5", "valid integer"),
                                           ("true", "valid integer")])
def test_site_level_bad_town_count_names_the_key(tmp_path, value, needle):
    path = tmp_path / "landguard.toml"
    path.write_text(f'[townships."潭柘寺镇".limits.cemetery_levels]\ntown_per_township = {value}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"townships\.潭柘寺镇\.limits\.cemetery_levels\.town_per_township") as info:
        load_config(path)
    assert needle in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_site_level_unknown_level_is_a_note_not_a_finding():
    d = district(config=CFG, cemeteries=frame([cem("A", 0, 0, level="county"), cem("B", 100, 0, level="district")]))
    f = run_rule("SITE-LEVEL", d)
    assert f["subject_id"].tolist() == ["B"]            # 金海湖镇 is not in Mentougou's district list
    assert d.quality.layers["cemeteries"]["unknown_level"] == 1
    assert any("无法识别" in n and "A" in n for n in d.quality.notes)


def test_normalise_levels():
    lv, bad = normalise_levels(["集中埋葬点", "BURIAL_POINT", "", "x"])
    assert lv.tolist() == ["burial_point", "burial_point", None, None] and bad.tolist() == [False, False, False, True]


# -- SITE-APPROVAL ---------------------------------------------------------------------------------
def approval(aid, x, y, w, h, kind="cemetery", area=None):
    return {"approval_id": aid, "kind": kind, "approved_area_m2": area, "geometry": square(x, y, w, h)}


def test_site_approval_unapproved_outside_and_over_area():
    aps = frame([approval("GMP1", 0, 0, 40, 30), approval("GMP2", 100, 0, 40, 30),
                 approval("GMP3", 200, 0, 50, 30, area=1000.0), approval("JS1", 300, 0, 40, 30, kind="construction"),
                 approval("GMP4", 400, 0, 50, 30, area=1450.0)])
    cems = [cem("ok", 0, 0), cem("out", 110, 0), cem("over", 200, 0, 50, 30), cem("none", 300, 0),
            cem("claims", -300, 0, approval_id="GMP9"), cem("named", -200, 0, approval_id="GMP1"),
            cem("tol", 400, 0, 50, 30)]
    f = run("SITE-APPROVAL", cems, approvals=aps).set_index("subject_id")
    assert sorted(f.index) == ["claims", "named", "none", "out", "over"]
    assert "没有公墓审批" in f.loc["none", "message"] and "未批先建" in f.loc["none", "message"]
    assert "GMP9" in f.loc["claims", "message"] and "未批先建" in f.loc["claims", "message"]
    out = f.loc["out"]
    assert "批准范围以外" in out["message"] and out["area_m2"] == pytest.approx(10 * 30)
    assert out.geometry.symmetric_difference(square(140, 0, 10, 30)).area < 1e-6
    # 1500 m² against 1000 approved: tolerance max(5 %, 10 m²) = 50 m²
    over = f.loc["over"]
    assert over["measured"] == pytest.approx(1500) and over["limit"] == pytest.approx(1050)
    assert "超出批准面积" in over["message"] and "GMP3" in over["related_ids"]
    # "named" names GMP1 but stands 200 m west of it: wholly outside
    assert f.loc["named", "area_m2"] == pytest.approx(1200)


def test_site_approval_tolerance_edge():
    aps = frame([approval("A1", 0, 0, 50, 30, area=1450.0), approval("A2", 100, 0, 50, 30, area=1420.0)])
    # 1500 m² each: A1 excess 50 < max(72.5, 10); A2 excess 80 > 71
    f = run("SITE-APPROVAL", [cem("c1", 0, 0, 50, 30), cem("c2", 100, 0, 50, 30)], approvals=aps)
    assert f["subject_id"].tolist() == ["c2"]


def test_site_approval_without_cemetery_approvals_says_so():
    d = district(config=CFG, cemeteries=frame([cem("A", 0, 0)]),
                 approvals=frame([approval("JS1", 300, 0, 40, 30, kind="construction")]))
    assert run_rule("SITE-APPROVAL", d).empty
    assert any("没有公墓审批" in n for n in d.quality.notes)


# -- SITE-GREEN ------------------------------------------------------------------------------------
def test_site_green_attribute():
    d = district(config=CFG, cemeteries=frame([cem("A", 0, 0, green_ratio=0.49), cem("B", 100, 0, green_ratio=0.5),
                                               cem("C", 200, 0, green_ratio=35.0), cem("D", 300, 0)]))
    f = run_rule("SITE-GREEN", d)
    assert f["subject_id"].tolist() == ["A"]
    row = f.iloc[0]
    assert row["severity"] == "low" and row["measured"] == pytest.approx(0.49) and row["limit"] == 0.5
    assert "49%" in row["message"] and "green_ratio" in row["message"]
    assert d.quality.layers["cemeteries"]["bad_green_ratio"] == 1
    assert d.quality.layers["cemeteries"]["green_unchecked"] == 2   # C (bad value) and D: nothing to judge by


def test_site_green_from_landcover_pixels(tmp_path):
    # 1 m pixels; cemetery A (x 0..40) has its west 18 m forest (2), east grass-free bare (6): 45 % green;
    # cemetery B (x 100..140) 30 m of grassland (3): 75 %
    width, height = 300, 100
    data = np.full((height, width), 6, dtype=np.uint8)
    x_origin, y_top = X0 - 50, Y0 + 80
    data[:, 50:68] = 2
    data[:, 150:180] = 3
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="uint8", crs=CRS,
                       transform=from_origin(x_origin, y_top, 1.0, 1.0), nodata=0) as dst:
        dst.write(data, 1)
    cfg = ProjectConfig.model_validate({"project": {"working_crs": CRS}, "rasters": {"landcover_after": str(path)}})
    cems = frame([cem("A", 0, 0), cem("B", 100, 0), cem("C", 200, 0, green_ratio=0.9)])
    d = district(config=cfg, cemeteries=cems)
    f = run_rule("SITE-GREEN", d)
    assert f["subject_id"].tolist() == ["A"]
    assert f["measured"].iloc[0] == pytest.approx(18 / 40) and "landcover_after" in f["message"].iloc[0]
    cfg2 = ProjectConfig.model_validate({"project": {"working_crs": CRS}, "rasters": {"landcover_after": str(path)},
                                         "landcover": {"vegetation": [2, 3, 6]}})
    assert run_rule("SITE-GREEN", district(config=cfg2, cemeteries=cems)).empty


# -- SITE-GRAVE ------------------------------------------------------------------------------------
def grave(gid, x, y, count=None, w=None):
    geom = at(shapely.Point(x, y)) if w is None else square(x, y, w, w)
    return {"grave_id": gid, "count": count, "geometry": geom}


def test_site_grave_points_and_polygons():
    lu = landuse(("0103", 0, 0, 100, 100))
    pbf = frame([{"pbf_id": "P1", "geometry": square(0, 0, 30, 100)}])
    aps = frame([approval("GMP1", 200, 0, 60, 60)])
    cems = [cem("approved", 300, 0, approval_id="GMP1"), cem("unapproved", 400, 0)]
    graves = frame([grave("G1", 50, 50, count=3), grave("G2", 10, 10), grave("G3", 220, 20), grave("G4", 310, 10),
                    grave("G5", 410, 10), grave("G6", -200, -200), grave("G7", 190, 0, w=20.0),
                    grave("G8", 255.1, 0, w=5.0)])
    f = run("SITE-GRAVE", cems, landuse=lu, pbf=pbf, approvals=aps, graves=graves).set_index("subject_id")
    assert sorted(f.index) == ["G1", "G2", "G5", "G6", "G7"]
    assert f.loc["G1", "severity"] == "medium" and f.loc["G1", "measured"] == 3 and "耕地上" in f.loc["G1", "message"]
    assert f.loc["G2", "severity"] == "medium" and "永久基本农田上" in f.loc["G2", "message"]
    assert f.loc["G6", "severity"] == "low" and f.loc["G6", "measured"] == 1
    assert f.loc["G5", "severity"] == "low"   # inside a cemetery that has no approval
    # a point grave is drawn as a 1 m square marker centred on it (one MultiPolygon layer; spatial/clean.py)
    assert f.loc["G1"].geometry.geom_type == "MultiPolygon" and f.loc["G1"].geometry.area == pytest.approx(1.0)
    assert f.loc["G1"].geometry.centroid.equals_exact(at(shapely.Point(50, 50)), 1e-3)
    assert f.loc["G1", "area_m2"] == 0.0                 # the rule's own figure: a point grave has no area
    # G8 has 0.5 m² outside the approval (a sliver); the polygon grave G7: its 10 x 20 m part west of it
    assert f.loc["G7"].geometry.symmetric_difference(square(190, 0, 10, 20)).area < 1e-6
    assert f.loc["G7", "area_m2"] == pytest.approx(200)


def test_site_grave_without_approvals_uses_the_cemeteries_layer():
    graves = frame([grave("G1", 10, 10), grave("G2", 100, 100)])
    d = district(config=CFG, cemeteries=frame([cem("C", 0, 0)]), graves=graves)
    f = run_rule("SITE-GRAVE", d)
    assert f["subject_id"].tolist() == ["G2"]
    assert any("以公墓图层" in n for n in d.quality.notes)


def test_site_grave_skipped_without_graves():
    with pytest.raises(ValueError, match="skipped"):
        run_rule("SITE-GRAVE", district(config=CFG, cemeteries=frame([cem("C", 0, 0)])))
