"""FARM-NONAGRI, FARM-GREEN, FARM-CORRIDOR, FARM-LAKE, FARM-NONGRAIN on hand-made geometries."""

import pytest
import shapely

from analyses.testing import run_rule
from analyses import CATALOGUE, RULES, finalise
from layers.config import ProjectConfig
from tests.builders import at, district, frame, square


def run(rule, d):
    return run_rule(rule, d)


def baseline():
    """Homesteads west of x = 0, farmland 0 ≤ x < 300 (two patches), grassland east of it."""
    return frame([{"dlbm": "0702", "tbbh": "B1", "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "F1", "geometry": square(0, -500, 150, 1000)},
                  {"dlbm": "0101", "tbbh": "F2", "geometry": square(150, -500, 150, 1000)},
                  {"dlbm": "0404", "tbbh": "G1", "geometry": square(300, -500, 200, 1000)}])


def current(*patches):
    rows = []
    for i, (code, geom, *year) in enumerate(patches):
        rows.append({"dlbm": code, "tbbh": f"T{i + 1}", "survey_year": year[0] if year else 2023, "geometry": geom})
    return frame(rows)


NO_BUILDINGS = frame([{"building_id": "B0", "geometry": square(-400, -400, 8)}])


def make(*patches, **frames):
    frames.setdefault("buildings", NO_BUILDINGS.copy())
    return district(landuse=current(*patches), landuse_baseline=baseline(), **frames)


# ---- FARM-NONAGRI --------------------------------------------------------------------------------
def test_construction_patch_reports_only_the_land_outside_the_building():
    b = frame([{"building_id": "H1", "built_year": 2022, "geometry": square(15, 15, 10)}])
    d = make(("0702", square(10, 10, 20)), ("0702", square(60, 10, 10)), buildings=b)
    non = run("FARM-NONAGRI", d)
    assert non["subject_id"].tolist() == ["T1", "T2"]
    assert non["area_m2"].tolist() == pytest.approx([300.0, 100.0])
    assert non.geometry.iloc[0].intersection(square(15, 15, 10)).area == pytest.approx(0.0, abs=1e-9)
    assert non["status"].tolist() == ["new", "new"]
    build = run("FARM-BUILD", d)
    assert build["subject_id"].tolist() == ["H1"] and build["area_m2"].iloc[0] == pytest.approx(100.0)


def test_a_building_on_pbf_whose_patch_is_its_footprint_is_one_farm_build_only():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 100)}])
    b = frame([{"building_id": "H1", "geometry": square(20, 20, 10)}])
    d = make(("0702", square(20, 20, 10)), buildings=b, pbf=pbf)
    assert run("FARM-NONAGRI", d).empty
    f = run("FARM-BUILD", d)
    assert f["subject_id"].tolist() == ["H1"] and f["severity"].tolist() == ["high"]


def test_rural_roads_facility_land_approved_and_already_built_land_are_not_conversions():
    ap = frame([{"approval_id": "A1", "kind": "construction", "geometry": square(95, 5, 30)}])
    d = make(("1006", square(10, 10, 20)), ("1202", square(50, 10, 20)), ("0601", square(100, 10, 20)),
             ("0702", square(-100, 10, 20)), approvals=ap)
    assert run("FARM-NONAGRI", d).empty


def test_one_patch_over_two_farmland_patches_and_pbf_is_one_finding_with_the_summed_area():
    pbf = frame([{"pbf_id": "J1", "geometry": square(140, 0, 20, 10)}])
    d = make(("0601", square(130, 0, 40, 10), 2019), pbf=pbf)
    f = run("FARM-NONAGRI", d)
    assert len(f) == 1 and f["area_m2"].iloc[0] == pytest.approx(400.0)
    assert f["severity"].iloc[0] == "high" and f["status"].iloc[0] == "existing"
    assert f["area_mu"].iloc[0] == pytest.approx(400 / 666.6666667)


def test_only_the_part_on_farmland_counts():
    d = make(("0702", square(-10, 0, 20)))   # half on homestead land in the baseline
    f = run("FARM-NONAGRI", d)
    assert f["area_m2"].tolist() == pytest.approx([200.0])
    assert "违规占用耕地从事非农建设" == f["rule_name"].iloc[0] and "{basis}" not in f["message"].iloc[0]


def test_without_a_baseline_only_pbf_shows_a_conversion():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 10)}])
    lu = current(("0702", square(0, 0, 20)))
    f = run("FARM-NONAGRI", district(landuse=lu, pbf=pbf, buildings=NO_BUILDINGS.copy()))
    assert f["area_m2"].tolist() == pytest.approx([100.0])


# ---- FARM-GREEN -----------------------------------------------------------------------------------
def test_woodland_on_farmland_pbf_and_a_0307k_patch():
    pbf = frame([{"pbf_id": "J1", "geometry": square(100, 0, 50)}])
    d = make(("0301", square(10, 10, 30), 2021), ("0307", square(100, 0, 50), 2019), ("0307K", square(200, 0, 20)),
             pbf=pbf)
    f = run("FARM-GREEN", d).set_index("subject_id")
    assert sorted(f.index) == ["T1", "T2", "T3"]
    assert f.loc["T1", "severity"] == "medium" and f.loc["T1", "status"] == "new"
    assert f.loc["T2", "severity"] == "high" and f.loc["T2", "status"] == "existing"
    assert f.loc["T3", "area_m2"] == pytest.approx(400.0)
    assert "可恢复" in f.loc["T3", "message"] and "可恢复" not in f.loc["T1", "message"]
    assert "0307K 可调整其他林地" in f.loc["T3", "message"]


def test_turf_counts_on_pbf_only():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 10, 20)}])
    d = make(("0403", square(0, 0, 20)), pbf=pbf)
    f = run("FARM-GREEN", d)
    assert f["area_m2"].tolist() == pytest.approx([200.0])
    assert "苗木草皮" in f["message"].iloc[0]


# ---- FARM-CORRIDOR --------------------------------------------------------------------------------
ROAD_Y = 100.0


def road(grade="provincial", **extra):
    # road land 10 m wide across the farmland, y 100..110
    return frame([{"road_id": "S201", "grade": grade, "geometry": square(-100, ROAD_Y, 500, 10), **extra}])


@pytest.mark.parametrize("width, flagged", [(5.0, False), (5.5, True)])
def test_a_belt_along_a_provincial_road(width, flagged):
    belt = square(20, ROAD_Y + 10, 100, width)
    d = make(("0301", belt), roads=road())
    corr = run("FARM-CORRIDOR", d)
    assert run("FARM-GREEN", d).empty          # the allowed strip is never FARM-GREEN
    if not flagged:
        assert corr.empty
        return
    assert corr["subject_id"].tolist() == ["T1"] and corr["related_ids"].tolist() == ["S201"]
    assert corr["area_m2"].iloc[0] == pytest.approx(0.5 * 100, abs=1e-6)
    assert corr["measured"].iloc[0] == pytest.approx(5.5, abs=0.01)
    assert corr["limit"].iloc[0] == 5.0 and corr["unit"].iloc[0] == "m"
    # only the strip beyond 5 m from the road land's edge
    assert corr.geometry.iloc[0].symmetric_difference(square(20, ROAD_Y + 15, 100, 0.5)).area < 1e-6
    assert "5.50米" in corr["message"].iloc[0] and "省道" in corr["message"].iloc[0]


def test_county_road_centre_line_with_width_is_buffered_to_road_land_with_flat_caps():
    line = frame([{"road_id": "X012", "grade": "county", "width_m": 8.0,
                   "geometry": at(shapely.LineString([(0, ROAD_Y), (200, ROAD_Y)]))}])
    # road land y 96..104: a 4 m belt north of it reaches 1 m beyond the county road's 3 m
    d = make(("0301", square(50, ROAD_Y + 4, 100, 4)), roads=line)
    corr = run("FARM-CORRIDOR", d)
    assert corr["subject_id"].tolist() == ["T1"]
    assert corr["limit"].iloc[0] == 3.0 and corr["measured"].iloc[0] == pytest.approx(4.0, abs=0.01)
    assert corr.geometry.iloc[0].symmetric_difference(square(50, ROAD_Y + 7, 100, 1)).area < 1e-6
    assert run("FARM-GREEN", d).empty


def test_a_township_sets_its_own_belt_width():
    cfg = ProjectConfig.model_validate({"townships": {"金海湖镇": {"limits": {"green_belt_m": {"provincial": 6.0}}}}})
    d = district(landuse=current(("0301", square(20, ROAD_Y + 10, 100, 5.5))), landuse_baseline=baseline(),
                 buildings=NO_BUILDINGS.copy(), roads=road(), config=cfg)
    assert run("FARM-CORRIDOR", d).empty


@pytest.mark.parametrize("grade, allowed", [("railway", 5.0), ("expressway", 5.0), ("national", 5.0),
                                            ("provincial", 5.0), ("county", 3.0), ("township", 3.0),
                                            ("village", 0.0), (None, 0.0), ("forest_track", 0.0)])
def test_allowed_belt_per_grade_none_beside_village_roads_or_unknown_grades(grade, allowed):
    # a 5.5 m belt: beyond every allowed width, by 0.5 m (5 m grades), 2.5 m (3 m grades) or all of it (0 m)
    d = make(("0301", square(20, ROAD_Y + 10, 100, 5.5)), roads=road(grade))
    corr = run("FARM-CORRIDOR", d)
    assert corr["limit"].tolist() == [allowed]
    assert corr["area_m2"].iloc[0] == pytest.approx((5.5 - allowed) * 100, abs=1e-6)
    assert run("FARM-GREEN", d).empty
    if allowed == 0.0:
        assert "不允许" in corr["message"].iloc[0] and "标准0米" in corr["message"].iloc[0]
        assert ("等级不明" in corr["message"].iloc[0]) == (grade is None)


def test_village_belt_width_can_be_configured_per_township():
    cfg = ProjectConfig.model_validate({"townships": {"金海湖镇": {"limits": {"green_belt_m": {"village": 6.0}}}}})
    d = district(landuse=current(("0301", square(20, ROAD_Y + 10, 100, 5.5))), landuse_baseline=baseline(),
                 buildings=NO_BUILDINGS.copy(), roads=road("village"), config=cfg)
    assert run("FARM-CORRIDOR", d).empty and run("FARM-GREEN", d).empty
    d2 = make(("0301", square(20, ROAD_Y + 10, 100, 5.5)), roads=road("village"))
    assert run("FARM-CORRIDOR", d2)["limit"].tolist() == [0.0]


def reforestation(*boxes):
    return frame([{"approval_id": f"TG{i}", "kind": kind, "geometry": g} for i, (kind, g) in enumerate(boxes)])


def test_woodland_on_an_approved_reforestation_plot_is_not_green():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 400, 100, 100)}])
    patches = (("0301", square(0, 0, 100, 50)), ("0301", square(0, 400, 100, 50)), ("0301", square(0, 200, 100, 50)))
    # T1 wholly under a reforestation plot, T2 (on PBF) half under one, T3 under an approval of another
    # kind (facility_agri): still a finding
    aps = reforestation(("reforestation", square(-10, -10, 120, 70)), ("Reforestation ", square(0, 400, 50, 50)),
                        ("facility_agri", square(0, 200, 100, 50)))
    g = run("FARM-GREEN", make(*patches, pbf=pbf, approvals=aps)).set_index("subject_id")
    assert sorted(g.index) == ["T2", "T3"]
    assert g.loc["T2", "area_m2"] == pytest.approx(2500.0) and g.loc["T2", "severity"] == "high"
    assert g.loc["T3", "area_m2"] == pytest.approx(5000.0)
    # without the approvals every patch is a finding
    assert len(run("FARM-GREEN", make(*patches, pbf=pbf))) == 3


def test_a_reforestation_plot_beside_a_road_is_no_corridor():
    belt = ("0301", square(20, ROAD_Y + 10, 100, 8))
    aps = reforestation(("reforestation", square(20, ROAD_Y + 10, 100, 8)))
    d = make(belt, roads=road(), approvals=aps)
    assert run("FARM-CORRIDOR", d).empty and run("FARM-GREEN", d).empty
    assert len(run("FARM-CORRIDOR", make(belt, roads=road()))) == 1


def test_woodland_beyond_the_strip_but_not_touching_the_road_is_green_not_corridor():
    d = make(("0301", square(20, ROAD_Y + 13, 100, 10)), roads=road())
    assert run("FARM-CORRIDOR", d).empty
    g = run("FARM-GREEN", d)
    # the part within 5 m of the road land (y 113..115) is the allowed strip
    assert g["area_m2"].tolist() == pytest.approx([800.0])


def test_along_a_river_any_belt_on_pbf_is_flagged_and_off_pbf_it_is_green():
    river = frame([{"name": "泃河", "kind": "river", "geometry": square(-100, 300, 500, 20)}])
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 280, 50, 20)}])
    d = make(("0301", square(0, 297, 100, 3)), roads=road(), waters=river, pbf=pbf)
    corr = run("FARM-CORRIDOR", d)
    assert corr["area_m2"].tolist() == pytest.approx([150.0]) and corr["related_ids"].tolist() == ["泃河"]
    assert corr["limit"].tolist() == [0.0] and corr["measured"].iloc[0] == pytest.approx(3.0, abs=0.01)
    g = run("FARM-GREEN", d)
    assert g["area_m2"].tolist() == pytest.approx([150.0])
    assert g.geometry.iloc[0].intersection(corr.geometry.iloc[0]).area == pytest.approx(0.0, abs=1e-9)


# ---- FARM-LAKE / FARM-NONGRAIN -------------------------------------------------------------------
def test_ponds_parks_with_water_and_aquaculture():
    lake = frame([{"name": "景观湖", "kind": "reservoir", "geometry": square(105, 5, 10)}])
    d = make(("1104", square(0, 0, 20)), ("1104A", square(40, 0, 20)), ("0810", square(100, 0, 20)),
             ("0810", square(200, 0, 20)), ("1103", square(0, 50, 10)), ("0201", square(40, 50, 10)),
             ("1104K", square(80, 50, 10)), waters=lake)
    assert sorted(run("FARM-LAKE", d)["subject_id"]) == ["T1", "T3", "T5"]
    assert run("FARM-NONAGRI", d)["subject_id"].tolist() == ["T4"]   # a park without water
    ng = run("FARM-NONGRAIN", d).set_index("subject_id")
    assert sorted(ng.index) == ["T2", "T6", "T7"]
    assert set(ng["severity"]) == {"low"} and "可恢复" in ng.loc["T7", "message"]
