"""HOME-MULTI (extended), HOME-OLD, HOME-AREA, HOME-PBF on hand-made parcels."""

import datetime as dt

import pandas as pd
import pytest
import shapely

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.homestead import home_area, home_multi, home_old, home_pbf, household_keys
from layers.config import ProjectConfig
from tests.builders import district, frame, square

VALID = "11010519491231002X"       # a valid 18-digit number
OLD15 = "110105491231002"          # the same person, 15-digit form
BAD = "110105194912310021"         # wrong check digit
AS_OF = dt.date(2026, 11, 22)


def run(rule, func, d):
    return run_rule(rule, d)


def parcel(pid, x, size=15, height=None, **attrs):
    return {"parcel_id": pid, "geometry": square(x, 0, size, height), **attrs}


def two_villages():
    return frame([{"village_id": "V1", "name": "东村", "township": "甲镇", "geometry": square(-500, -500, 500, 1000)},
                  {"village_id": "V2", "name": "西村", "township": "乙镇", "geometry": square(0, -500, 500, 1000)}])


# HOME-MULTI ----------------------------------------------------------------------------------------
def test_wrong_check_digit_is_reported_as_data_quality_and_never_matched():
    d = district(parcels=frame([parcel("P1", 0, owner_id=BAD), parcel("P2", 20, owner_id=BAD),
                                parcel("P3", 40, owner_id=VALID)]))
    assert len(run("HOME-MULTI", home_multi, d)) == 0
    listed = [r["parcel_id"] for r in d.quality.invalid_ids]
    assert listed == ["P1", "P2"]
    assert BAD not in str(d.quality.invalid_ids)          # masked, not in clear
    assert "证件号码校验失败 2 条" in d.quality.to_text()


def test_same_person_15_and_18_digits_across_villages_is_one_household_with_union_geometry():
    d = district(parcels=frame([parcel("P1", -100, owner_id=OLD15, owner_name="张三"),
                                parcel("P2", 100, owner_id=VALID, owner_name="张三")]), villages=two_villages())
    f = run("HOME-MULTI", home_multi, d)
    assert f["related_ids"].tolist() == ["P1;P2"]
    assert f["severity"].tolist() == ["medium"]
    assert f.geometry.iloc[0].equals(shapely.union(square(-100, 0, 15), square(100, 0, 15)))
    assert "东村" in f["message"].iloc[0] and "西村" in f["message"].iloc[0]


def test_parcel_without_household_id_joins_the_household_its_id_number_belongs_to():
    f = run("HOME-MULTI", home_multi, district(parcels=frame([
        parcel("P1", 0, household_id="H1", owner_id=VALID), parcel("P2", 20, owner_id=OLD15),
        parcel("P3", 40, household_id="H2")])))
    assert f["related_ids"].tolist() == ["P1;P2"]
    assert "户编号及证件号码" in f["message"].iloc[0]


def test_id_number_seen_in_two_households_does_not_merge_them():
    common = {"owner_name": "张三", "village_id": "V1", "owner_id": VALID}
    keys, _ = household_keys(frame([parcel("P1", 0, household_id="H1", **common),
                                    parcel("P2", 20, household_id="H2", **common),
                                    parcel("P3", 40, household_id=None, **common)]))
    assert keys.tolist() == ["H:H1", "H:H2", f"I:{VALID}"]


def test_replaced_parcel_past_its_deadline_is_still_not_counted_in_multi():
    f = run("HOME-MULTI", home_multi, district(parcels=frame([
        parcel("OLD", 0, household_id="H1", replaced_by="NEW", new_house_completed="2025-01-01"),
        parcel("NEW", 20, household_id="H1")])))
    assert len(f) == 0


# HOME-OLD -----------------------------------------------------------------------------------------
def relocation(completed, *, built=True, config=None):
    parcels = frame([parcel("OLD", 0, owner_id=VALID, replaced_by="NEW", new_house_completed=completed),
                     parcel("NEW", 50, owner_id=VALID)])
    buildings = frame([{"building_id": "B_OLD", "geometry": square(2, 2, 8)},
                       {"building_id": "B_NEW", "geometry": square(52, 2, 8)}] if built else
                      [{"building_id": "B_NEW", "geometry": square(52, 2, 8)}])
    return district(parcels=parcels, buildings=buildings, as_of=AS_OF, config=config)


def test_relocation_completed_two_months_ago_is_within_its_three_months():
    d = relocation("2026-09-22")
    assert len(run("HOME-OLD", home_old, d)) == 0
    assert len(run("HOME-MULTI", home_multi, d)) == 0


def test_relocation_completed_four_months_ago_with_the_old_house_standing_is_found():
    f = run("HOME-OLD", home_old, relocation("2026-07-22"))
    assert f["subject_id"].tolist() == ["OLD"]
    assert f["related_ids"].tolist() == ["NEW;B_OLD"]
    assert f["limit"].tolist() == [3.0] and f["unit"].tolist() == ["月"]
    assert f["measured"].iloc[0] == pytest.approx(4.0, abs=0.1)
    assert f.geometry.iloc[0].equals(square(2, 2, 8))          # the standing house, not the parcel
    assert "2026-10-22" in f["message"].iloc[0]


def test_deadline_is_calendar_months_and_the_last_day_is_still_in_time():
    assert len(run("HOME-OLD", home_old, relocation("2026-08-22"))) == 0     # deadline = as_of
    assert len(run("HOME-OLD", home_old, relocation("2026-08-21"))) == 1     # deadline yesterday


def test_demolished_old_house_is_not_found():
    assert len(run("HOME-OLD", home_old, relocation("2026-01-01", built=False))) == 0


def test_relocation_months_from_configuration():
    cfg = ProjectConfig.model_validate({"limits": {"relocation_months": 6}})
    assert len(run("HOME-OLD", home_old, relocation("2026-07-22", config=cfg))) == 0


def test_old_parcel_without_completion_date_is_listed_as_unchecked():
    d = relocation(None)
    assert len(run("HOME-OLD", home_old, d)) == 0
    assert d.quality.layers["parcels"]["relocation_undated"] == 1
    assert any("OLD" in n and "竣工日期" in n for n in d.quality.notes)


# HOME-AREA ----------------------------------------------------------------------------------------
def test_parcel_of_exactly_173_33_m2_is_compliant_and_one_a_bit_larger_is_not():
    d = district(parcels=frame([parcel("EXACT", 0, 10, 17.333, approved_date="2022-01-01"),
                                parcel("OVER", 20, 10, 17.334, approved_date="2022-01-01")]))
    assert d["parcels"].geometry.area.iloc[0] == pytest.approx(173.33, abs=1e-6)
    f = run("HOME-AREA", home_area, d)
    assert f["subject_id"].tolist() == ["OVER"]


def test_area_finding_reports_parcel_area_standard_and_excess_with_severity_by_date():
    d = district(parcels=frame([parcel("NEW", 0, 10, 20, approved_date="2021-07-01"),
                                parcel("OLD", 20, 10, 20, approved_date="2021-06-30"),
                                parcel("UNDATED", 40, 10, 20)]))
    f = run("HOME-AREA", home_area, d).set_index("subject_id")
    assert f.loc["NEW", "severity"] == "high" and f.loc["NEW", "status"] == "new"
    assert f.loc["OLD", "severity"] == "low" and f.loc["OLD", "status"] == "existing"
    assert f.loc["UNDATED", "severity"] == "low" and pd.isna(f.loc["UNDATED", "status"])
    assert f.loc["NEW", "measured"] == pytest.approx(200.0)
    assert f.loc["NEW", "limit"] == pytest.approx(173.33)
    assert f.loc["NEW", "area_m2"] == pytest.approx(26.67)
    assert f.loc["NEW", "area_mu"] == pytest.approx(26.67 / (10000 / 15))
    assert "历史超占26.67平方米" in f.loc["OLD", "message"]
    assert "历史超占" not in f.loc["NEW", "message"]


# HOME-PBF -----------------------------------------------------------------------------------------
def test_parcel_on_pbf_gives_the_overlap_high_and_slivers_are_ignored():
    pbf = frame([{"pbf_id": "J1", "geometry": square(10, -50, 100)},
                 {"pbf_id": "J2", "geometry": square(-120, -50, 100.05, 100)}])   # 0.05 m x 15 m sliver on P0
    d = district(parcels=frame([parcel("P1", 0), parcel("P0", -20)]), pbf=pbf)
    f = run("HOME-PBF", home_pbf, d)
    assert f["subject_id"].tolist() == ["P1"]
    assert f["severity"].tolist() == ["high"]
    assert f["area_m2"].iloc[0] == pytest.approx(75.0)
    assert f.geometry.iloc[0].equals(square(10, 0, 5, 15))


def test_home_pbf_is_skipped_without_a_pbf_layer():
    from analyses import run_rules
    d = district(parcels=frame([parcel("P1", 0)]))
    _, outcomes = run_rules(d, ["HOME-PBF"])
    assert outcomes[0].skipped and "pbf" in outcomes[0].skipped


def test_every_home_rule_runs_through_the_runner_with_readable_messages():
    from analyses import RULES, run_rules
    parcels = frame([parcel("P1", 0, 10, 20, household_id="H1", approved_date="2022-01-01"),
                     parcel("P2", 10, 10, 10, household_id="H1"),
                     parcel("OLD", 100, owner_id=VALID, replaced_by="P9", new_house_completed="2025-01-01"),
                     parcel("P9", 200, owner_id=VALID)])
    buildings = frame([{"building_id": "B1", "floors": 3, "basement": True, "roof": "flat", "eave_height_m": 9.0,
                        "geometry": square(1, 1, 17, 8)},
                       {"building_id": "B2", "geometry": square(101, 1, 13, 13)}])
    pbf = frame([{"pbf_id": "J1", "geometry": square(15, 0, 10)}])
    d = district(parcels=parcels, buildings=buildings, pbf=pbf)
    # the second edition's HOME-ROOF/STAIR/APPROVED/PLAN/RELIC need other data: test_homestead_form/plan.py
    second = {"HOME-ROOF", "HOME-STAIR", "HOME-APPROVED", "HOME-PLAN", "HOME-RELIC"}
    home = [r for r in RULES if r.startswith("HOME-") and r not in second]
    f, outcomes = run_rules(d, home)
    assert sorted(set(f["rule_id"])) == sorted(home)
    assert all(o.skipped is None for o in outcomes)
    assert f["message"].str.contains("京平政发〔2021〕4号").all()
    assert not f["message"].str.contains("[{}]", regex=True).any()
    assert f["case_id"].is_unique
