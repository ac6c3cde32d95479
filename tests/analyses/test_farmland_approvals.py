"""FARM-FACILITY, FARM-UNAPPROVED, FARM-OVERUSE, FARM-MISPLACED, FARM-TEMPEXPIRED on hand-made geometries."""

import pytest

from analyses.testing import run_rule
from analyses import CATALOGUE, RULES, finalise
from analyses.farmland_approvals import is_nonagri_use
from tests.builders import district, frame, square


def run(rule, d):
    return run_rule(rule, d)


def farmland():
    return frame([{"dlbm": "0702", "tbbh": "B1", "survey_year": 2023, "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "F1", "survey_year": 2023, "geometry": square(0, -500, 300, 1000)},
                  {"dlbm": "0404", "tbbh": "G1", "survey_year": 2023, "geometry": square(300, -500, 200, 1000)}])


def with_patches(*patches):
    lu = farmland()
    extra = frame([{"dlbm": c, "tbbh": t, "survey_year": 2023, "geometry": g} for t, c, g in patches])
    return lu, extra


# ---- FARM-FACILITY --------------------------------------------------------------------------------
def test_use_words():
    assert is_nonagri_use(["民宿", "residential", "Greenhouse", "storage", "tool shed", "农家乐", None]).tolist() == \
        [True, True, False, False, False, True, False]


def test_a_house_in_a_facility_approval_or_on_a_1202_patch():
    ap = frame([{"approval_id": "SN1", "kind": "facility_agri", "geometry": square(10, 10, 40)}])
    base = farmland()
    current = base.copy()
    current.loc[len(current)] = {"dlbm": "1202", "tbbh": "S1", "survey_year": 2023, "geometry": square(100, 10, 40)}
    b = frame([{"building_id": "R1", "use": "民宿", "built_year": 2022, "geometry": square(15, 15, 10)},
               {"building_id": "R2", "use": "residential", "geometry": square(105, 15, 10)},
               {"building_id": "G1", "use": "greenhouse", "geometry": square(30, 30, 10)},
               {"building_id": "N1", "use": None, "geometry": square(120, 30, 5)}])
    d = district(landuse=current, landuse_baseline=base, buildings=b, approvals=ap)
    f = run("FARM-FACILITY", d).set_index("subject_id")
    assert sorted(f.index) == ["R1", "R2"]
    assert f.loc["R1", "related_ids"] == "SN1" and f.loc["R2", "related_ids"] == "S1"
    assert f.loc["R1", "area_m2"] == pytest.approx(100.0) and f.loc["R1", "status"] == "new"
    assert set(f["severity"]) == {"high"} and "大棚房" in f.loc["R1", "message"]
    # one finding per case: the 大棚房 are not also FARM-BUILD; the greenhouse on the approved facility land is
    # legal; the building with no use on the 1202 patch without approval stays a FARM-BUILD
    assert run("FARM-BUILD", d)["subject_id"].tolist() == ["N1"]


# ---- FARM-UNAPPROVED ------------------------------------------------------------------------------
def test_a_building_naming_an_approval_that_does_not_exist():
    ap = frame([{"approval_id": "JS-1", "kind": "construction", "geometry": square(10, 10, 20)}])
    b = frame([{"building_id": "U1", "approval_id": "JS-404", "built_year": 2021, "geometry": square(50, 10, 10)},
               {"building_id": "U2", "approval_id": "JS-404", "geometry": square(-50, 10, 10)},   # not farmland
               {"building_id": "OK", "approval_id": "JS-1", "geometry": square(12, 12, 10)},
               {"building_id": "NA", "geometry": square(80, 10, 10)}])
    d = district(landuse=farmland(), buildings=b, approvals=ap)
    f = run("FARM-UNAPPROVED", d)
    assert f["subject_id"].tolist() == ["U1"] and f["related_ids"].tolist() == ["JS-404"]
    assert f["area_m2"].iloc[0] == pytest.approx(100.0) and f["status"].iloc[0] == "new"


# ---- FARM-MISPLACED --------------------------------------------------------------------------------
def test_more_than_half_outside_the_claimed_approval():
    ap = frame([{"approval_id": "JS-1", "kind": "construction", "geometry": square(0, 0, 20)}])
    b = frame([{"building_id": "M60", "approval_id": "JS-1", "geometry": square(16, 0, 10)},    # 60 % outside
               {"building_id": "M50", "approval_id": "JS-1", "geometry": square(0, 15, 10)},    # 50 %: not more
               {"building_id": "M0", "approval_id": "JS-1", "geometry": square(2, 2, 10)}])
    d = district(landuse=farmland(), buildings=b, approvals=ap)
    f = run("FARM-MISPLACED", d)
    assert f["subject_id"].tolist() == ["M60"]
    assert f["measured"].iloc[0] == pytest.approx(0.6) and f["limit"].iloc[0] == 0.5
    assert f.geometry.iloc[0].symmetric_difference(square(20, 0, 6, 10)).area < 1e-6


# ---- FARM-OVERUSE -----------------------------------------------------------------------------------
def test_occupying_more_than_approved_beyond_the_tolerance():
    ap = frame([{"approval_id": "A", "kind": "construction", "approved_area_m2": 400.0, "geometry": square(0, 0, 20)},
                {"approval_id": "B", "kind": "construction", "approved_area_m2": 400.0, "geometry": square(100, 0, 20)},
                {"approval_id": "C", "kind": "construction", "approved_area_m2": 400.0, "geometry": square(200, 0, 20)}])
    current = farmland()
    # A: a factory patch reaching 5 m beyond its 20 m x 20 m approval: 500 m² used, 100 m² over
    current.loc[len(current)] = {"dlbm": "0601", "tbbh": "T1", "survey_year": 2023, "geometry": square(0, 0, 25, 20)}
    # B: buildings claiming B use 419 m² (19 m² over: less than 5 % = 20 m²); C: 421 m² (21 m² over)
    b = frame([{"building_id": "B1", "approval_id": "B", "geometry": square(100, 0, 20)},
               {"building_id": "B2", "approval_id": "B", "geometry": square(121, 0, 1, 19)},
               {"building_id": "C1", "approval_id": "C", "geometry": square(200, 0, 20)},
               {"building_id": "C2", "approval_id": "C", "geometry": square(221, 0, 1, 21)}])
    d = district(landuse=current, landuse_baseline=farmland(), buildings=b, approvals=ap)
    f = run("FARM-OVERUSE", d).set_index("subject_id")
    assert sorted(f.index) == ["A", "C"]
    assert f.loc["A", "measured"] == pytest.approx(500.0) and f.loc["A", "related_ids"] == "T1"
    assert f.loc["A", "area_m2"] == pytest.approx(100.0)      # the part outside the approval
    assert f.loc["C", "measured"] == pytest.approx(421.0) and f.loc["C", "related_ids"] == "C1;C2"
    assert f.loc["C", "limit"] == pytest.approx(420.0)


# ---- FARM-TEMPEXPIRED -----------------------------------------------------------------------------
def test_a_temporary_approval_that_expired_yesterday_still_built_on():
    ap = frame([{"approval_id": "LS-old", "kind": "temporary", "valid_until": "2026-11-21", "geometry": square(0, 0, 30)},
                {"approval_id": "LS-today", "kind": "temporary", "valid_until": "2026-11-22", "geometry": square(100, 0, 30)},
                {"approval_id": "LS-empty", "kind": "temporary", "valid_until": "2020-01-01", "geometry": square(200, 0, 30)}])
    b = frame([{"building_id": "S1", "geometry": square(5, 5, 10)},
               {"building_id": "S2", "geometry": square(105, 5, 10)}])
    d = district(landuse=farmland(), buildings=b, approvals=ap)   # as_of 2026-11-22
    f = run("FARM-TEMPEXPIRED", d)
    assert f["subject_id"].tolist() == ["LS-old"]
    assert f["measured"].iloc[0] == 1.0 and f["unit"].iloc[0] == "天"
    assert f["area_m2"].iloc[0] == pytest.approx(100.0) and f["related_ids"].iloc[0] == "S1"
    assert f["status"].iloc[0] == "new"
    # and the building under the expired approval is an unapproved building on farmland
    assert run("FARM-BUILD", d)["subject_id"].tolist() == ["S1"]
