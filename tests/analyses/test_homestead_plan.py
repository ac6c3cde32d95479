"""HOME-APPROVED, HOME-PLAN, HOME-RELIC and HOME-MULTI with inherited parcels, on geometry built here."""

import pytest

from analyses.testing import run_rule
from layers.config import ProjectConfig
from tests.builders import district, frame, square


def parcel(pid, x, y=0, w=10, d=10, **attrs):
    return {"parcel_id": pid, "geometry": square(x, y, w, d), **attrs}


# HOME-APPROVED ------------------------------------------------------------------------------------
def test_parcel_over_its_approved_area_beyond_the_tolerance():
    p = frame([parcel("EDGE", 0, w=16, approved_area_m2=150.0),      # 160 m²: 10 m² over = tolerance
               parcel("OVER", 20, w=16.1, approved_area_m2=150.0),   # 161 m²: 11 m² over
               parcel("BIG", 40, w=30, approved_area_m2=280.0),      # 300 m²: 20 m² over, 5 % = 14 m²
               parcel("RATIO", 80, w=29, approved_area_m2=280.0),    # 290 m²: 10 m² over < 14 m²
               parcel("NONE", 120, w=30), parcel("ZERO", 160, approved_area_m2=0.0)])
    d = district(parcels=p)
    f = run_rule("HOME-APPROVED", d).sort_values("subject_id")
    assert f["subject_id"].tolist() == ["BIG", "OVER"]
    assert f["area_m2"].tolist() == [pytest.approx(20.0), pytest.approx(11.0)]
    assert f["limit"].tolist() == [pytest.approx(294.0), pytest.approx(160.0)]
    assert d.quality.layers["parcels"]["bad_approved_area_m2"] == 1


def test_approved_tolerance_is_configuration():
    cfg = ProjectConfig.model_validate({"limits": {"approved_excess_min_m2": 0, "approved_excess_ratio": 0}})
    p = frame([parcel("EDGE", 0, w=16, approved_area_m2=150.0)])
    assert run_rule("HOME-APPROVED", district(parcels=p, config=cfg))["subject_id"].tolist() == ["EDGE"]


# HOME-PLAN ----------------------------------------------------------------------------------------
def reason(message):
    return "outside" if "建设用地范围外" in message else "reduction" if "减量（腾退）区内" in message else message


def plan():
    return frame([{"kind": "construction", "name": "建设用地", "geometry": square(-100, -100, 200, 200)},
                  {"kind": "减量腾退区", "name": "腾退区", "geometry": square(50, 0, 20, 20)}])


def test_parcel_outside_construction_land_or_in_a_reduction_area():
    p = frame([parcel("IN", 0), parcel("HALF", 95), parcel("RED", 55), parcel("SLIVER", 99.5, w=10, d=10)])
    f = run_rule("HOME-PLAN", district(parcels=p, village_plan=plan())).sort_values("subject_id")
    got = list(zip(f["subject_id"], f["message"].map(reason), f["area_m2"].round(2)))
    assert got == [("HALF", "outside", 50.0), ("RED", "reduction", 100.0), ("SLIVER", "outside", 95.0)]
    assert set(f["severity"]) == {"low"}


def test_parcel_within_a_sliver_of_the_construction_line_is_not_outside():
    p = frame([parcel("EDGE", 90.05)])      # 0.05 m x 10 m = 0.5 m² outside, under the 1 m² minimum
    assert len(run_rule("HOME-PLAN", district(parcels=p, village_plan=plan()))) == 0


def test_a_plan_without_construction_land_judges_reduction_only():
    only = frame([{"kind": "reduction", "name": "腾退区", "geometry": square(50, 0, 20, 20)}])
    d = district(parcels=frame([parcel("FREE", 0), parcel("RED", 55)]), village_plan=only)
    f = run_rule("HOME-PLAN", d)
    assert list(zip(f["subject_id"], f["message"].map(reason))) == [("RED", "reduction")]
    assert d.quality.layers["parcels"]["plan_without_construction"] == 2


# HOME-RELIC ---------------------------------------------------------------------------------------
def test_parcel_in_a_relic_zone_without_heritage_approval():
    zones = frame([{"name": "古塔文物保护范围", "kind": "relic", "geometry": square(0, 0, 40, 20)},
                   {"name": "风景区", "kind": "scenic", "geometry": square(100, 0, 40, 20)}])
    approvals = frame([{"approval_id": "WW1", "kind": "relic", "geometry": square(20, 0, 10, 10)},
                       {"approval_id": "ZJ1", "kind": "homestead", "geometry": square(0, 0, 10, 10)}])
    p = frame([parcel("HIT", 0), parcel("OK", 20), parcel("SCENIC", 100), parcel("OUT", 200)])
    b = frame([{"building_id": "LONE", "geometry": square(32, 12, 6, 6)},      # on no parcel, in the zone
               {"building_id": "ONP", "geometry": square(1, 1, 8, 8)}])        # on HIT: the parcel speaks
    f = run_rule("HOME-RELIC", district(parcels=p, buildings=b, protected_zones=zones, approvals=approvals))
    got = sorted(zip(f["subject_layer"], f["subject_id"]))
    assert got == [("buildings", "LONE"), ("parcels", "HIT")]
    assert set(f["severity"]) == {"low"} and all("古塔文物保护范围" in m for m in f["message"])


def test_no_relic_zone_no_finding():
    zones = frame([{"name": "风景区", "kind": "scenic", "geometry": square(0, 0, 40, 20)}])
    assert len(run_rule("HOME-RELIC", district(parcels=frame([parcel("P", 0)]), protected_zones=zones))) == 0


# HOME-MULTI with an inherited parcel -------------------------------------------------------------
def test_inherited_parcel_keeps_the_household_a_finding_of_low_severity():
    p = frame([parcel("A1", 0, household_id="H1"), parcel("A2", 20, household_id="H1", inherited=True),
               parcel("B1", 40, household_id="H2"), parcel("B2", 60, household_id="H2", inherited=False)])
    f = run_rule("HOME-MULTI", district(parcels=p)).set_index("subject_id")
    assert f.loc["A1", "severity"] == "low" and "A2为继承取得" in f.loc["A1", "message"]
    assert f.loc["B1", "severity"] == "medium" and "继承" not in f.loc["B1", "message"]
