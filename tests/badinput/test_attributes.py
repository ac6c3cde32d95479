"""Attribute problems: codes stored as numbers, missing columns, unknown codes, dates in many formats."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyogrio

from landguard.pipeline import check
from tests.badinput.helpers import (AS_OF, base_layers, farm_build, findings, ok, one_error, quality, run_check,
                                    summary_text, write_district)
from tests.builders import frame, square


def test_land_use_codes_stored_as_numbers_are_read_as_text_and_counted(tmp_path):
    layers = base_layers()
    lu = layers["landuse"]
    layers["landuse"] = lu.assign(DLBM=[702.0, 103.0]).drop(columns="dlbm")     # 三调 exported as a Real field
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["landuse"]["numbers_as_text_dlbm"] == 2
    assert "数字转为文本（dlbm） 2" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}          # 103.0 was read as 0103 (dry land)


def test_missing_required_column_is_one_error_naming_file_column_and_key(tmp_path):
    layers = base_layers()
    layers["buildings"] = layers["buildings"].rename(columns={"building_id": "FWBH"})
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (", "buildings.gpkg", "缺少必需字段 'building_id'",
              '[layers.buildings] columns = { building_id = "你的字段名" }', "现有字段：FWBH")


def test_mapped_column_that_is_not_there_is_one_error(tmp_path):
    data = write_district(tmp_path / "d")
    (data / "landguard.toml").write_text(
        "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "buildings"))
        + '[layers.landuse]\npath = "landuse.gpkg"\ncolumns = { dlbm = "DLBM_2024" }\n', encoding="utf-8")
    res = run_check(data, tmp_path / "out")
    one_error(res, "landuse (landuse.gpkg)", "找不到字段 'DLBM_2024'", "[layers.landuse] columns", "dlbm")


def test_unknown_land_use_codes_are_counted_named_and_not_judged(tmp_path):
    layers = base_layers()
    layers["landuse"].loc[1, "dlbm"] = "9999"
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["landuse"]["unknown_codes"] == 1
    assert any("landuse" in n and "9999 ×1" in n and "不按任何地类判断" in n for n in q["notes"])
    assert farm_build(tmp_path / "out") == {}                     # an unknown code is no farmland


def test_dates_in_several_formats_are_all_read_and_bad_ones_named(tmp_path):
    layers = base_layers()
    given = ["2021-07-01", "2021/7/1", "20210701", "44378", "2021年7月1日", "soon"]
    layers["parcels"] = frame([{"parcel_id": f"P{i + 1}", "PZRQ": text, "geometry": square(-200 + 30 * i, 0, 20)}
                               for i, text in enumerate(given)])
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    dates = result.district["parcels"].set_index("parcel_id")["approved_date"]
    assert (dates.iloc[:5] == pd.Timestamp("2021-07-01")).all() and pd.isna(dates["P6"])
    q = quality(tmp_path / "out")
    assert q["layers"]["parcels"]["dates_converted_approved_date"] == 4        # all but the ISO one
    assert q["layers"]["parcels"]["bad_dates_approved_date"] == 1
    assert any("PZRQ（approved_date）有 1 个日期无法识别" in n and "第 6 行 'soon'" in n for n in q["notes"])
    assert "无法识别的日期（approved_date） 1" in summary_text(tmp_path / "out")


def test_excel_serial_dates_in_a_number_column_are_read(tmp_path):
    layers = base_layers()
    layers["parcels"] = layers["parcels"].assign(PZRQ=[44378.0, 2021.0])        # a serial and a bare year
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    dates = result.district["parcels"].set_index("parcel_id")["approved_date"]
    assert dates["P1"] == pd.Timestamp("2021-07-01")
    assert pd.isna(dates["P2"])                                   # 2021 is a year, not 1905-07-13
    assert quality(tmp_path / "out")["layers"]["parcels"]["bad_dates_approved_date"] == 1


# ------------------------------------------------------------------------ numbers that must stay exact

HOUSEHOLD_ID = 110105195001010039          # a valid GB 11643 number (check digit 9), > 2**53


def test_id_numbers_stored_as_int64_stay_exact_and_find_the_household(tmp_path):
    layers = base_layers()
    layers["parcels"] = frame([
        {"parcel_id": "P1", "owner_name": "李四", "geometry": square(-100, 0, 20)},
        {"parcel_id": "P2", "owner_name": "李四四", "geometry": square(-60, 0, 20)},
        {"parcel_id": "P3", "owner_name": "王五", "geometry": square(-30, 0, 20)}])
    # an Integer64 field as Access/Excel exports write it, with a null (GDAL then reads float64 by default)
    layers["parcels"]["ZJHM"] = pd.array([HOUSEHOLD_ID, HOUSEHOLD_ID, None], dtype="Int64")
    data = write_district(tmp_path / "d", layers)
    assert pyogrio.read_info(data / "parcels.gpkg")["dtypes"][list(
        pyogrio.read_info(data / "parcels.gpkg")["fields"]).index("ZJHM")] == "int64"
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["HOME-MULTI"])
    owners = result.district["parcels"].set_index("parcel_id")["owner_id"]
    assert owners["P1"] == owners["P2"] == str(HOUSEHOLD_ID) and owners["P3"] is None
    f = findings(tmp_path / "out")
    multi = f[f["rule_id"] == "HOME-MULTI"]
    assert len(multi) == 1 and multi["related_ids"].iloc[0] == "P1;P2"
    assert quality(tmp_path / "out")["invalid_id_numbers"] == []


def test_integer_ids_of_parcels_and_buildings_stay_exact_text(tmp_path):
    layers = base_layers()
    big = 12345678901234567                           # 17 digits: float64 would make it ...568
    layers["buildings"]["building_id"] = pd.array([big - 1, big, None], dtype="Int64")
    layers["parcels"]["parcel_id"] = pd.array([7, 8], dtype="int64")
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    assert farm_build(tmp_path / "out") == {str(big): 100.0}
    assert result.district["parcels"]["parcel_id"].tolist() == ["7", "8"]        # no "7.0"
    assert result.district["buildings"]["building_id"].tolist()[:2] == [str(big - 1), str(big)]


def test_id_numbers_stored_as_floats_are_reported_as_already_lossy(tmp_path):
    layers = base_layers()
    layers["parcels"]["owner_id"] = [1.10105195001010039e17, 3.0]             # a Real field: digits gone
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["parcels"]["digits_lost_owner_id"] == 1
    assert any(n.startswith("parcels：字段 owner_id（owner_id）以浮点数存储，1 个 16 位以上的数字已失真") for n in q["notes"])
    assert "数字超过15位已失真（owner_id） 1" in summary_text(tmp_path / "out")


# ------------------------------------------------------------------------ numbers written with units

def test_numbers_with_units_and_chinese_numerals_are_read_and_the_rest_named(tmp_path):
    layers = base_layers()
    layers["buildings"]["CS"] = ["3层", "二层", "三层"]                 # floors, as clerks type them
    layers["buildings"]["YKGD"] = ["9.2m", "3.2米", "高"]               # eave heights: "高" is no number
    layers["parcels"]["PZMJ"] = ["575平方米", "0.3 亩"]                # approved areas
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["HOME-FLOORS"])
    b = result.district["buildings"].set_index("building_id")
    assert b["floors"].tolist() == [3, 2, 3]
    assert b["eave_height_m"].iloc[:2].tolist() == [9.2, 3.2] and pd.isna(b["eave_height_m"]["B3"])
    areas = result.district["parcels"].set_index("parcel_id")["approved_area_m2"]
    assert areas["P1"] == 575.0 and round(areas["P2"], 2) == 200.0
    f = findings(tmp_path / "out")
    assert sorted(f.loc[f["rule_id"] == "HOME-FLOORS", "subject_id"]) == ["B1", "B3"]   # 3层, 三层 > 2 floors
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["units_converted_floors"] == 3
    assert q["layers"]["buildings"]["units_converted_eave_height_m"] == 2
    assert q["layers"]["buildings"]["bad_numbers_eave_height_m"] == 1
    assert q["layers"]["parcels"]["units_converted_approved_area_m2"] == 2
    assert any(n.startswith("buildings：字段 YKGD（eave_height_m）有 1 个值不是可识别的数值") and "第 3 行 '高'" in n
               for n in q["notes"])
    assert "无法识别的数值（eave_height_m） 1" in summary_text(tmp_path / "out")


def test_a_number_in_the_wrong_unit_is_unreadable_not_converted(tmp_path):
    layers = base_layers()
    layers["buildings"]["CS"] = ["3米", "2", None]                    # metres in a floors column
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    floors = result.district["buildings"]["floors"]
    assert pd.isna(floors.iloc[0]) and floors.iloc[1] == 2 and pd.isna(floors.iloc[2])
    assert quality(tmp_path / "out")["layers"]["buildings"]["bad_numbers_floors"] == 1


# ------------------------------------------------------------------------ dates pandas cannot hold

def test_no_expiry_date_9999_12_31_is_read_as_open_ended_not_a_crash(tmp_path):
    layers = base_layers()
    layers["approvals"] = frame([   # a temporary approval with no expiry covers B2: it is approved, not expired
        {"approval_id": "A1", "kind": "temporary", "valid_until": "9999-12-31", "geometry": square(90, 90, 30)}])
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out", rules=("FARM-BUILD", "FARM-TEMPEXPIRED"))
    ok(res)
    assert farm_build(tmp_path / "out") == {}
    assert (findings(tmp_path / "out")["rule_id"] == "FARM-TEMPEXPIRED").sum() == 0
    assert quality(tmp_path / "out")["layers"]["approvals"]["open_ended_dates_valid_until"] == 1


def test_dates_out_of_range_are_noted_with_layer_and_column(tmp_path):
    layers = base_layers()
    layers["parcels"]["PZRQ"] = ["0001-01-01", "2999-12-31"]
    data = write_district(tmp_path / "d", layers)
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    dates = result.district["parcels"].set_index("parcel_id")["approved_date"]
    assert pd.isna(dates["P1"]) and dates["P2"] > pd.Timestamp("2262-01-01")
    q = quality(tmp_path / "out")
    assert q["layers"]["parcels"]["dates_out_of_range_approved_date"] == 2
    note, = [n for n in q["notes"] if "超出可处理的范围" in n]
    assert note.startswith("parcels：字段 PZRQ（approved_date）有 2 个日期超出可处理的范围")
    assert "第 1 行 '0001-01-01'" in note and "第 2 行 '2999-12-31'" in note


def test_an_id_number_typed_into_a_date_column_is_not_quoted(tmp_path):
    layers = base_layers()
    layers["parcels"]["PZRQ"] = ["110105195001010039", "1101 0519 5001 0100 39"]
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    text = summary_text(tmp_path / "out") + (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert "无法识别的日期（approved_date） 2" in text
    for secret in ("19500101", "5001 0100", "0519"):
        assert secret not in text
    assert "第 1 行 '110…'" in text
