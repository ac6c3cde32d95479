import datetime as dt
import hashlib
import unicodedata

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from analyses.compare import CHANGE_GONE, CHANGE_NEW, CHANGE_ONGOING
from analyses.findings import concat_findings, finalise
from analyses.ledger import (COLUMN_LABELS, FAMILY_SHEETS, RECTIFICATION_COLUMNS, VERIFICATION_COLUMNS,
                             apply_verification, read_ledger, write_ledger)
from analyses.registry import CATALOGUE
from maps.exports import export_gpkg
from spatial.errors import LayerError, OutputError
from tests.builders import CRS, frame, square

ID = "110117199001011234"
HEADERS = ["案件编号", "规则编号", "规则名称", "严重程度", "乡镇", "行政村", "对象图层", "对象编号", "关联编号", "实测值",
           "限值", "单位", "面积(平方米)", "面积(亩)", "状态", "依据", "说明", "变化", "核查结论", "核查人", "核查日期",
           "备注", "照片"]
V1 = ("110117104201", "甲村", "金海湖镇")
V2 = ("110117104202", "乙村", "金海湖镇")
V3 = ("110117105201", "丙村", "峪口镇")


def _rows(rule_id, rows, **kw):
    for r in rows:
        r["village_id"], r["village"], r["township"] = r.pop("at")
    return finalise(CATALOGUE[rule_id], frame(rows), **kw)


def _findings(skip=()):
    parts = [
        _rows("FARM-BUILD", [
            {"subject_layer": "buildings", "subject_id": s, "at": at, "status": "new", "geometry": square(x, 0, 10),
             "message": f"房屋{s}占用耕地"}
            for s, at, x in (("B1", V1, 0), ("B2", V1, 20), ("B3", V2, 40), ("B4", V3, 60)) if s not in skip]),
        _rows("FARM-NONAGRI", [{"subject_layer": "landuse", "subject_id": "T1", "at": V1,
                                "geometry": square(100, 0, 20, 30), "message": "硬化占用耕地"}]),
        _rows("HOME-MULTI", [{"subject_layer": "parcels", "subject_id": "P1", "related_ids": "P1;P2", "at": V2,
                              "measured": 2, "limit": 1, "unit": "处", "severity": "high", "geometry": square(200, 0, 15),
                              "message": f"户主{ID}名下有2处宅基地，超过一户一宅的规定，应当依法处理并整改到位"}],
              area=False),
        _rows("SET-DRIP", [{"subject_layer": "buildings", "subject_id": "B7", "measured": 0.3, "limit": 0.5,
                            "unit": "m", "key": "east", "at": V3, "geometry": square(300, 0, 0.2, 10),
                            "message": "滴水距离不足"}]),
    ]
    return concat_findings(parts, crs=CRS)


@pytest.fixture
def findings():
    return _findings()


def _display_width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def test_ledger_has_a_summary_and_a_sheet_per_family(tmp_path, findings):
    path = write_ledger(findings, tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "整改台账", "耕地非农化", "宅基地", "退让", "公墓选址", "乡镇考核"]
    for title in FAMILY_SHEETS.values():
        ws = wb[title]
        assert [c.value for c in ws[1]] == HEADERS
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:W{ws.max_row}"
    farm = wb["耕地非农化"]
    assert farm.max_row - 1 == 5 and wb["宅基地"].max_row - 1 == 1 and wb["公墓选址"].max_row == 1
    area = HEADERS.index("面积(平方米)") + 1
    assert all(farm.cell(r, area).number_format == "0.00" for r in range(2, farm.max_row + 1))
    assert all(farm.cell(r, area + 1).number_format == "0.00" for r in range(2, farm.max_row + 1))
    # columns fit their widest text, CJK counting double
    home = wb["宅基地"]
    message_col = openpyxl.utils.get_column_letter(HEADERS.index("说明") + 1)
    rule_col = openpyxl.utils.get_column_letter(HEADERS.index("规则名称") + 1)
    assert farm.column_dimensions[rule_col].width == 16                # a long rule name wraps at its print cap
    nonagri = next(r for r in range(2, farm.max_row + 1) if farm[f"{rule_col}{r}"].value == "违规占用耕地从事非农建设")
    assert farm.row_dimensions[nonagri].height >= 2 * 15
    unit_col = openpyxl.utils.get_column_letter(HEADERS.index("面积(平方米)") + 1)
    assert farm.column_dimensions[unit_col].width >= 12 + 2             # short figures: the header wraps instead
    assert _display_width(home[f"{message_col}2"].value) > 40      # a long sentence: capped (for print), and wraps
    assert home.column_dimensions[message_col].width == 40 and home[f"{message_col}2"].alignment.wrap_text
    case_col = openpyxl.utils.get_column_letter(1)
    assert farm.column_dimensions[case_col].width >= len(findings["case_id"].iloc[0])
    # an office document, yet no ID number in clear (issue 12): masked inside the text
    assert ID not in home[f"{message_col}2"].value and "户主110117********1234名下" in home[f"{message_col}2"].value
    row = {h: c.value for h, c in zip(HEADERS, home[2])}
    assert (row["严重程度"], row["对象图层"], row["乡镇"], row["行政村"]) == ("高", "宅基地", "金海湖镇", "乙村")
    assert (row["实测值"], row["限值"], row["单位"], row["变化"]) == (2, 1, "处", None)


def test_summary_counts_and_areas_by_township_and_village(tmp_path, findings):
    wb = openpyxl.load_workbook(write_ledger(findings, tmp_path / "l.xlsx"))
    ws = wb["汇总"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["乡镇", "行政村代码", "行政村", "耕地非农化(处)", "耕地非农化面积(平方米)", "耕地非农化面积(亩)"]
    assert "新增(处)" not in header                             # no comparison, no change counts
    rows = {r[1]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    v1 = rows[V1[0]]
    assert (v1["乡镇"], v1["行政村"], v1["耕地非农化(处)"], v1["宅基地(处)"], v1["合计(处)"]) == ("金海湖镇", "甲村", 3, 0, 3)
    assert v1["耕地非农化面积(平方米)"] == pytest.approx(100 + 100 + 600)
    assert v1["耕地非农化面积(亩)"] == pytest.approx(800 / (10000 / 15))
    assert rows[V2[0]]["宅基地(处)"] == 1 and rows[V3[0]]["退让(处)"] == 1
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["峪口镇", "金海湖镇", "金海湖镇", "合计"]
    total = rows[None]
    assert total["合计(处)"] == len(findings) and total["耕地非农化(处)"] == 5
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}4"  # the total row stays out


def test_month_to_month_change_in_sheets_and_summary(tmp_path, findings):
    previous = _findings()
    now = _findings(skip=("B2",))
    extra = _rows("FARM-BUILD", [{"subject_layer": "buildings", "subject_id": "B5", "at": V3, "geometry": square(80, 0, 10)}])
    now = concat_findings([now, extra], crs=CRS)
    path = write_ledger(now, tmp_path / "l.xlsx", previous=previous)
    back = read_ledger(path).set_index("subject_id")
    assert back.loc["B2", "change"] == CHANGE_GONE and back.loc["B5", "change"] == CHANGE_NEW
    assert (back.drop(index=["B2", "B5"])["change"] == CHANGE_ONGOING).all()
    ws = openpyxl.load_workbook(path)["汇总"]
    header = [c.value for c in ws[1]]
    assert header[-3:] == ["新增(处)", "持续(处)", "已整改(处)"]
    rows = {r[1]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert (rows[V1[0]]["新增(处)"], rows[V1[0]]["持续(处)"], rows[V1[0]]["已整改(处)"]) == (0, 2, 1)
    assert rows[V1[0]]["耕地非农化(处)"] == 2                     # the rectified case no longer counts
    assert rows[V3[0]]["新增(处)"] == 1
    assert (rows[None]["新增(处)"], rows[None]["已整改(处)"]) == (1, 1)


def test_read_ledger_gives_back_the_findings(tmp_path, findings):
    back = read_ledger(write_ledger(findings, tmp_path / "l.xlsx"))
    assert sorted(back["case_id"]) == sorted(findings["case_id"])
    merged = back.merge(findings, on="case_id", suffixes=("", "_f"))
    for col in ("rule_id", "family", "severity", "subject_layer", "subject_id", "status", "village"):
        assert merged[col].tolist() == merged[f"{col}_f"].astype(object).where(merged[f"{col}_f"].notna(), None).tolist()
    assert np.allclose(merged["area_m2"].fillna(-1), merged["area_m2_f"].fillna(-1))


def test_write_ledger_names_missing_columns(tmp_path, findings):
    with pytest.raises(LayerError, match="family"):
        write_ledger(findings.drop(columns="family"), tmp_path / "l.xlsx")
    assert not list(tmp_path.iterdir())


# -- the round trip --------------------------------------------------------------------------------


def _returned(tmp_path, findings, name="returned.gpkg", **verdicts):
    """Export the field GeoPackage, fill it in as a field team would, and return it."""
    field = pyogrio.read_dataframe(export_gpkg(findings, tmp_path / f"field-{name}"), layer="findings")
    for subject, values in verdicts.items():
        rows = field["subject_id"] == subject
        for col, value in values.items():
            field.loc[rows, col] = value
    stranger = field.iloc[:1].copy()
    stranger[["case_id", "verified", "remark"]] = ["FARM-BUILD-0000000000", "违法", "外业新发现"]
    drawn = field.iloc[:1].copy()
    drawn[["case_id", "verified"]] = [None, "违法"]
    drawn.geometry = [shapely.Point(117.1, 40.1)]
    field = pd.concat([field, stranger, drawn], ignore_index=True)
    pyogrio.write_dataframe(field, tmp_path / name, layer="findings")
    return tmp_path / name


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verification_round_trip_updates_the_ledger_and_is_idempotent(tmp_path, findings):
    ledger = write_ledger(findings, tmp_path / "l.xlsx")
    returned = _returned(tmp_path, findings,
                         B1={"verified": "违法", "verified_by": "王五", "verified_on": "2026-11-25", "photo": "DCIM/b1.jpg"},
                         P1={"verified": "合法", "remark": "已批准易地建房"})
    first = apply_verification(ledger, returned)
    assert (first.updated, first.unchanged) == (2, len(findings) - 2)
    assert first.unmatched == ["FARM-BUILD-0000000000", "(无案件编号)"]
    back = read_ledger(ledger).set_index("subject_id")
    assert back.loc["B1", ["verified", "verified_by", "verified_on", "photo"]].tolist() == \
        ["违法", "王五", "2026-11-25", "DCIM/b1.jpg"]
    assert back.loc["P1", ["verified", "remark"]].tolist() == ["合法", "已批准易地建房"]
    assert back.drop(index=["B1", "P1"])["verified"].isna().all()
    wb = openpyxl.load_workbook(ledger)
    cell = wb["耕地非农化"].cell(row=[c.value for c in wb["耕地非农化"]["H"]].index("B1") + 1,
                               column=HEADERS.index("核查日期") + 1)
    assert cell.value == dt.datetime(2026, 11, 25)                # a real date in Excel
    unmatched = list(wb["未匹配"].iter_rows(values_only=True))
    assert unmatched[0][:2] == ("案件编号", "核查结论")
    assert [r[0] for r in unmatched[1:]] == ["FARM-BUILD-0000000000", "(无案件编号)"]
    assert unmatched[2][6:8] == (117.1, 40.1) and unmatched[1][-1] == "returned.gpkg"

    digest, mtime = _digest(ledger), ledger.stat().st_mtime_ns
    second = apply_verification(ledger, returned)
    assert (second.updated, second.unchanged) == (0, len(findings))
    assert second.unmatched == first.unmatched                  # still listed, never dropped
    assert _digest(ledger) == digest and ledger.stat().st_mtime_ns == mtime


def test_a_later_return_changes_only_what_it_fills(tmp_path, findings):
    ledger = write_ledger(findings, tmp_path / "l.xlsx")
    apply_verification(ledger, _returned(tmp_path, findings, B1={"verified": "违法", "verified_by": "王五"}))
    later = _returned(tmp_path, findings, name="later.gpkg", B1={"verified": "无法核实"}, B3={"verified": "合法"})
    result = apply_verification(ledger, later)
    assert result.updated == 2
    back = read_ledger(ledger).set_index("subject_id")
    assert back.loc["B1", ["verified", "verified_by"]].tolist() == ["无法核实", "王五"]  # empty never erases
    assert back.loc["B3", "verified"] == "合法"
    sources = [r[-1] for r in openpyxl.load_workbook(ledger)["未匹配"].iter_rows(min_row=2, values_only=True)]
    assert sources == ["returned.gpkg", "returned.gpkg", "later.gpkg", "later.gpkg"]


def test_conflicting_rows_are_reported(tmp_path, findings):
    ledger = write_ledger(findings, tmp_path / "l.xlsx")
    field = pyogrio.read_dataframe(export_gpkg(findings, tmp_path / "f.gpkg"), layer="findings")
    twice = pd.concat([field.iloc[:1].assign(verified="违法"), field.iloc[:1].assign(verified="合法")], ignore_index=True)
    pyogrio.write_dataframe(twice, tmp_path / "twice.gpkg", layer="findings")
    result = apply_verification(ledger, tmp_path / "twice.gpkg")
    assert result.conflicting == [field["case_id"].iloc[0]] and result.updated == 1
    assert read_ledger(ledger).set_index("case_id").loc[field["case_id"].iloc[0], "verified"] == "合法"


def test_verification_errors_name_the_file_and_what_is_missing(tmp_path, findings):
    ledger = write_ledger(findings, tmp_path / "l.xlsx")
    bare = findings[["case_id", "geometry"]]
    pyogrio.write_dataframe(bare, tmp_path / "bare.gpkg", layer="findings")
    with pytest.raises(LayerError, match="bare.gpkg: layer findings has none of the columns verified"):
        apply_verification(ledger, tmp_path / "bare.gpkg")
    pyogrio.write_dataframe(bare, tmp_path / "other.gpkg", layer="parcels")
    with pytest.raises(LayerError, match="no layer 'findings'"):
        apply_verification(ledger, tmp_path / "other.gpkg")
    wb = openpyxl.load_workbook(ledger)
    wb["宅基地"].cell(row=1, column=HEADERS.index("核查结论") + 1).value = "结论"
    wb.save(ledger)
    returned = _returned(tmp_path, findings)
    with pytest.raises(OutputError, match="sheet 宅基地 has no column 核查结论"):
        apply_verification(ledger, returned)
    with pytest.raises(OutputError, match="no such ledger"):
        apply_verification(tmp_path / "none.xlsx", returned)


def test_verification_labels_are_the_ledger_headers():
    assert [COLUMN_LABELS[c] for c in VERIFICATION_COLUMNS] == HEADERS[-5:]


# -- printing (spec/WORKFLOW.md §3) -----------------------------------------------------------------

ENGLISH_CODES = {"high", "medium", "low", "new", "existing", "historic", "farmland", "homestead", "setback", "siting",
                 "landcover_after", "buildings", "parcels", "landuse", "m", "m²"}


def _ugly(findings):
    """Findings with the raw floats and codes a real run writes."""
    f = findings.copy()
    f.loc[f.index[0], "area_m2"] = 120.0000000037835
    f.loc[f.index[0], "area_mu"] = 120.0000000037835 / (10000 / 15)
    f.loc[f.index[1], "area_mu"] = 0.04567
    f.loc[f.index[-1], "measured"] = 0.30000000000000004
    f.loc[f.index[1], "subject_layer"] = "landcover_after"
    return f


def test_every_sheet_prints_landscape_fitted_with_repeated_headers(tmp_path, findings):
    wb = openpyxl.load_workbook(write_ledger(_ugly(findings), tmp_path / "l.xlsx"))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title                 # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth == 1, ws.title
        assert ws.page_setup.fitToHeight == (1 if ws.title == "汇总" else 0), ws.title
        assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
        for row in ws.iter_rows(min_row=2):
            assert all(c.alignment.wrap_text for c in row), ws.title
    home = wb["宅基地"]
    msg = HEADERS.index("说明") + 1
    text = home.cell(2, msg).value
    width = home.column_dimensions[openpyxl.utils.get_column_letter(msg)].width
    lines = -(-_display_width(text) // (width - 2))
    assert lines >= 2 and home.row_dimensions[2].height >= 15 * lines   # tall enough to show the wrapped text


def test_numbers_are_rounded_and_codes_are_chinese(tmp_path, findings):
    wb = openpyxl.load_workbook(write_ledger(_ugly(findings), tmp_path / "l.xlsx"))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, float):
                    assert c.value == round(c.value, 4), (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert c.value not in ENGLISH_CODES and "landcover" not in c.value, (ws.title, c.coordinate)
    farm = wb["耕地非农化"]
    rows = [dict(zip(HEADERS, r)) for r in farm.iter_rows(min_row=2, values_only=True)]
    areas = sorted(r["面积(平方米)"] for r in rows)
    assert 120.0 in areas and 120.0000000037835 not in areas
    assert 0.046 in [r["面积(亩)"] for r in rows]                        # below 0.1 亩: three decimals
    small = next(c for (c,) in farm.iter_rows(min_row=2, min_col=14, max_col=14) if c.value == 0.046)
    assert small.number_format == "0.000"
    assert "后时相土地覆盖" in [r["对象图层"] for r in rows]
    assert all(r["状态"] for r in rows)                                  # status filled: 新增问题 or 时间不明
    assert {r["状态"] for r in rows} <= {"新增问题", "存量问题", "历史遗留问题", "时间不明"}
    drip = next(r for r in wb["退让"].iter_rows(min_row=2, values_only=True))
    drip = dict(zip(HEADERS, drip))
    assert (drip["实测值"], drip["单位"], drip["状态"]) == (0.3, "米", "不适用")
    summary = wb["汇总"]
    header = [c.value for c in summary[1]]
    assert {"新增问题(处)", "存量问题(处)", "历史遗留问题(处)"} <= set(header)
    # the round trip still reads canonical values back
    back = read_ledger(tmp_path / "l.xlsx").set_index("subject_id")
    assert back.loc["B7", "unit"] == "m" and back.loc["B7", "status"] is None


def test_rectification_sheet_lists_open_and_rectified_cases_with_overdue(tmp_path, findings):
    previous = _findings()
    now = _findings(skip=("B2",))
    now["deadline"] = "2026-01-31"
    now.loc[now["subject_id"] == "B1", "deadline"] = "2026-12-31"
    path = write_ledger(now, tmp_path / "l.xlsx", previous=previous, as_of=dt.date(2026, 6, 1))
    ws = openpyxl.load_workbook(path)["整改台账"]
    assert [c.value for c in ws[1]] == RECTIFICATION_COLUMNS
    rows = {r[0]: dict(zip(RECTIFICATION_COLUMNS, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    by_subject = {r["对象"]: r for r in rows.values()}
    assert len(rows) == len(previous)
    assert by_subject["房屋 B2"]["整改进度"] == "已整改" and by_subject["房屋 B2"]["是否超期"] == "否"
    assert by_subject["房屋 B1"]["是否超期"] == "否"                       # deadline not yet reached
    assert by_subject["房屋 B3"]["是否超期"] == "是" and by_subject["房屋 B3"]["整改进度"] == "未整改"
    assert by_subject["房屋 B3"]["整改期限"] == "2026-01-31" and by_subject["房屋 B3"]["状态"] == "新增问题"
    first = next(ws.iter_rows(min_row=2, values_only=True))
    assert first[RECTIFICATION_COLUMNS.index("是否超期")] == "是"            # overdue cases first


def test_rectification_sheet_shows_the_register(tmp_path, findings):
    f = findings.copy()
    n = len(f)
    f["progress"] = ["已销号", "误报", *["整改中"] * (n - 2)]
    f["closed_on"] = ["2026-05-20", "2025-01-01", *[None] * (n - 2)]
    f["overdue"] = [0, 0, 1, *[0] * (n - 3)]
    f["verified"] = ["已整改", "误报", "违法", *[None] * (n - 3)]
    f["photo_count"] = [2, 0, 1, *[0] * (n - 3)]
    f["photo_flags"] = [";照片位置存疑", "", "无定位", *[""] * (n - 3)]
    f["first_seen"] = "2026-03-01"
    ws = openpyxl.load_workbook(write_ledger(f, tmp_path / "l.xlsx", as_of=dt.date(2026, 6, 1)))["整改台账"]
    rows = {r[0]: dict(zip(RECTIFICATION_COLUMNS, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    ids = f["case_id"].tolist()
    assert ids[1] not in rows                                            # 误报 closed long ago: left out
    assert rows[ids[0]]["整改进度"] == "已销号" and rows[ids[0]]["销号日期"] == "2026-05-20"
    assert (rows[ids[0]]["照片数"], rows[ids[0]]["照片核验"]) == (2, "照片位置存疑")
    assert (rows[ids[2]]["是否超期"], rows[ids[2]]["核查结论"], rows[ids[2]]["照片核验"]) == ("是", "违法", "无定位")
    assert rows[ids[3]]["首次发现"] == "2026-03-01"


def test_township_assessment_ranks_and_marks_the_last_three(tmp_path, findings):
    towns = ["A镇", "B镇", "C镇", "D镇", "E镇"]
    parts = []
    for i, town in enumerate(towns):
        rows = [{"subject_layer": "buildings", "subject_id": f"{town}{k}", "at": (f"11011710{i}201", f"{town}村", town),
                 "status": "new", "geometry": square(100 * i + 20 * k, 0, 10)} for k in range(4)]
        parts.append(_rows("FARM-BUILD", rows))
    previous = concat_findings(parts, crs=CRS)
    # A镇 rectifies 3 of 4, B镇 2, C镇 1, D镇 and E镇 none (E镇 has one new case more)
    gone = {"A镇0", "A镇1", "A镇2", "B镇0", "B镇1", "C镇0"}
    now = previous[~previous["subject_id"].isin(gone)]
    extra = _rows("FARM-BUILD", [{"subject_layer": "buildings", "subject_id": "E镇9", "at": ("110117104201", "E镇村", "E镇"),
                                  "status": "new", "geometry": square(900, 0, 10)}])
    now = concat_findings([now, extra], crs=CRS)
    ws = openpyxl.load_workbook(write_ledger(now, tmp_path / "l.xlsx", previous=previous))["乡镇考核"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert [rows[t]["排名"] for t in towns] == [1, 2, 3, 4, 5]
    assert rows["A镇"]["整改率"] == 0.75 and rows["D镇"]["整改率"] == 0
    assert rows["E镇"]["新增问题(处)"] == 1 and rows["A镇"]["新增问题(处)"] == 0
    assert [t for t in towns if rows[t]["备注"]] == ["C镇", "D镇", "E镇"]
    assert rows["D镇"]["问题占用耕地(亩)"] == round(400 / (10000 / 15), 2)
    assert ws.cell(2, header.index("整改率") + 1).number_format == "0.00%"


def _soffice():
    import shutil

    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None or shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("needs LibreOffice and poppler-utils: run `bash tools/ensure-office.sh` (make system-test-deps)")
    return exe


def test_ledger_prints_to_pdf_with_libreoffice(tmp_path, findings):
    import subprocess

    exe = _soffice()
    path = write_ledger(_ugly(findings), tmp_path / "ledger.xlsx", previous=_findings(skip=()))
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "ledger.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == 7                                                   # one page per sheet: 7 sheets, few rows
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "汇总" in first and "合计" in first and "耕地非农化(处)" in first.replace("\n", "").replace(" ", "") or \
        "耕地非农化" in first
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for heading in ("整改台账", "耕地非农化", "宅基地", "乡镇考核", "案件编号", "整改进度", "第 1 页"):
        assert heading in text, heading
    assert "120.0000000037835" not in text and "landcover_after" not in text
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(png)], check=True)
    assert list(tmp_path.glob("page*.png"))
