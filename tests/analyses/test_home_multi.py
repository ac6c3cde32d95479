import pytest

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.homestead import home_multi
from tests.builders import district, frame, square

VALID = "11010519491231002X"       # a valid 18-digit number
OLD15 = "110105491231002"          # the same person, 15-digit form
BAD = "110105194912310021"         # wrong check digit


def run(parcels, **kw):
    d = district(parcels=parcels, **kw)
    return run_rule("HOME-MULTI", d)


def two_villages():
    return frame([{"village_id": "V1", "name": "东村", "township": "甲镇", "geometry": square(-500, -500, 500, 1000)},
                  {"village_id": "V2", "name": "西村", "township": "乙镇", "geometry": square(0, -500, 500, 1000)}])


def parcel(pid, x, **attrs):
    return {"parcel_id": pid, "geometry": square(x, 0, 15), **attrs}


def test_household_id_groups_parcels():
    f = run(frame([parcel("P2", 0, household_id="H1"), parcel("P1", 20, household_id="H1"),
                   parcel("P3", 40, household_id="H2")]))
    assert f["subject_id"].tolist() == ["P1"]
    assert f["related_ids"].tolist() == ["P1;P2"]
    assert f["measured"].tolist() == [2.0] and f["limit"].tolist() == [1.0]
    assert f["area_m2"].iloc[0] == pytest.approx(450.0)


def test_15_and_18_digit_numbers_match_across_villages():
    f = run(frame([parcel("P1", -100, owner_id=OLD15, owner_name="张三"),
                   parcel("P2", 100, owner_id=VALID, owner_name="张叁")]), villages=two_villages())
    assert f["related_ids"].tolist() == ["P1;P2"]
    assert f["village_id"].tolist() == ["V1"]


def test_full_width_digits_and_lower_case_x_match():
    fw = "１１０１０５１９４９１２３１００２ｘ"
    f = run(frame([parcel("P1", 0, owner_id=fw), parcel("P2", 20, owner_id=VALID.lower())]))
    assert len(f) == 1


def test_wrong_check_digit_is_never_matched():
    f = run(frame([parcel("P1", 0, owner_id=BAD, owner_name="李四"), parcel("P2", 20, owner_id=VALID, owner_name="李四")]))
    assert len(f) == 0


def test_name_matches_only_within_one_village_and_is_low_confidence():
    same_village = run(frame([parcel("P1", 0, owner_name="王五"), parcel("P2", 20, owner_name="王 五")]))
    assert same_village["severity"].tolist() == ["low"]
    assert "置信度较低" in same_village["message"].iloc[0]
    across = run(frame([parcel("P1", -100, owner_name="王五"), parcel("P2", 100, owner_name="王五")]),
                 villages=two_villages())
    assert len(across) == 0


def test_different_valid_ids_with_one_name_are_two_households():
    other = "110105195001010012"
    from layers.idnumbers import is_valid_id
    assert is_valid_id(other)
    f = run(frame([parcel("P1", 0, owner_id=VALID, owner_name="赵六"), parcel("P2", 20, owner_id=other, owner_name="赵六")]))
    assert len(f) == 0


def test_replaced_parcel_is_not_counted():
    f = run(frame([parcel("OLD", 0, household_id="H1", replaced_by="NEW", new_house_completed="2026-09-22"),
                   parcel("NEW", 20, household_id="H1")]))
    assert len(f) == 0


def test_case_id_is_stable_and_does_not_depend_on_row_order():
    rows = [parcel("P2", 0, household_id="H1"), parcel("P1", 20, household_id="H1")]
    a = run(frame([dict(r) for r in rows]))
    b = run(frame([dict(r) for r in reversed(rows)]))
    assert a["case_id"].tolist() == b["case_id"].tolist()
    assert a["case_id"].iloc[0].startswith("HOME-MULTI-")
