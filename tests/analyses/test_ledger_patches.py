"""The ledger's 卫片核查 sheet: one row per monitoring patch, the columns a bureau returns (spec/WORKFLOW.md §3)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from analyses.ledger import PATCH_COLUMNS, PATCH_SHEET, patch_table, write_ledger
from analyses.testing import run_rule
from layers.readers import canonical_frame
from tests.builders import district, frame, square


@pytest.fixture
def batch():
    # west half farmland (0103), east half construction; PBF in the south-west
    landuse = frame([{"dlbm": "0103", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                     {"dlbm": "0702", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}])
    pbf = frame([{"pbf_id": "J1", "geometry": square(-500, -500, 500, 200)}])
    approvals = frame([{"approval_id": "A-OK", "kind": "construction", "geometry": square(-400, 0, 40)}])
    raw = frame([
        {"JCBH": "W1", "TBLX": "建/构筑物", "QSX": "20260101", "HSX": "2026年7月", "PC": "2026Q3",
         "geometry": square(-398, 2, 30)},
        {"JCBH": "W2", "TBLX": "=cmd|' /C calc'!A0", "QSX": "2026-01-01", "HSX": "20260715", "PC": "2026Q3",
         "geometry": square(-200, -400, 20)},
        {"JCBH": "W3", "TBLX": "硬化", "QSX": "2026-01-01", "HSX": "20260715", "PC": "2026Q3",
         "geometry": square(100, 0, 20)},
    ])
    patches, _ = canonical_frame("monitoring_patches", raw)
    d = district(landuse=landuse, pbf=pbf, approvals=approvals, monitoring_patches=patches)
    findings = run_rule("FARM-PATCH", d)
    return patches, findings, d


def _sheet(path):
    ws = openpyxl.load_workbook(path)[PATCH_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    return ws, [dict(zip(rows[0], r)) for r in rows[1:]], list(rows[0])


def test_one_row_per_patch_with_figures_judgement_and_cases(tmp_path, batch):
    patches, findings, _ = batch
    # the figures as analyses.farmland_patches.patch_figures gives them (m²), and one patch without a finding
    figures = patches.assign(area=[900.0, 400.0, 400.0], farm=[900.0, 400.0, 0.0], pbf=[0.0, 400.0, 0.0],
                             red=[0.0, 0.0, 0.0], approved=[900.0, 0.0, 0.0], approval_ids=["A-OK", None, None])
    outside = figures.iloc[[2]].assign(patch_id="W9", area=50.0, farm=0.0, approved=0.0)
    path = write_ledger(findings, tmp_path / "台账.xlsx", patches=pd.concat([figures, outside], ignore_index=True))
    ws, rows, header = _sheet(path)
    assert header == PATCH_COLUMNS
    assert {"批次", "监测编号", "乡镇", "村", "图斑面积(亩)", "耕地面积(亩)", "永久基本农田面积(亩)", "生态保护红线面积(亩)",
            "批准用地面积(亩)", "预判结论", "依据", "涉及批文", "关联案件", "核查结论"} <= set(header)
    by = {r["监测编号"]: r for r in rows}
    assert [r["监测编号"] for r in rows] == ["W1", "W2", "W3", "W9"]
    assert {k: by[k]["预判结论"] for k in by} == {"W1": "合法", "W2": "违法", "W3": "其他", "W9": "未预判（不在行政村范围内）"}
    case = findings.set_index("subject_id")["case_id"]
    assert by["W2"]["案件编号"] == case["W2"] and by["W9"]["案件编号"] is None
    assert by["W1"]["涉及批文"] == "A-OK" and by["W1"]["依据"] == "有效批准范围覆盖100.0%"
    assert by["W2"]["永久基本农田面积(亩)"] == pytest.approx(0.6) and by["W2"]["耕地面积(亩)"] == pytest.approx(0.6)
    assert by["W2"]["图斑面积(平方米)"] == pytest.approx(400.0) and by["W2"]["依据"] == "未经批准占用耕地0.6亩"
    assert by["W1"]["前时相"] == "2026-01-01" and by["W1"]["后时相"] == "2026-07-01" and by["W1"]["批次"] == "2026Q3"
    assert by["W1"]["乡镇"] == findings["township"].iloc[0]
    # hostile text stays text: never a formula
    cell = ws.cell(row=3, column=header.index("变化类型") + 1)
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"


def test_sheet_from_findings_alone_and_absent_without_patches(tmp_path, batch):
    patches, findings, _ = batch
    ws, rows, _ = _sheet(write_ledger(findings, tmp_path / "a.xlsx"))
    assert sorted(r["监测编号"] for r in rows) == ["W1", "W2", "W3"]
    assert {r["监测编号"]: r["涉及批文"] for r in rows}["W1"] == "A-OK"      # from related_ids
    other = findings[findings["rule_id"] != "FARM-PATCH"]
    assert PATCH_SHEET not in openpyxl.load_workbook(write_ledger(other, tmp_path / "b.xlsx")).sheetnames


def test_patch_sheet_prints_with_libreoffice(tmp_path, batch):
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None or shutil.which("pdftotext") is None:
        pytest.skip("needs LibreOffice and poppler-utils: run `bash tools/ensure-office.sh` (make system-test-deps)")
    patches, findings, _ = batch
    path = write_ledger(findings, tmp_path / "ledger.xlsx", patches=patches, as_of=dt.date(2026, 11, 22))
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "ledger.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = text.replace(" ", "").replace("\n", "")
    for word in ("监测编号", "预判结论", "永久基本农田", "W1", "合法", "违法", "其他"):
        assert word in flat, word


def test_patch_table_gives_the_figures_farm_patch_uses(tmp_path, batch):
    patches, findings, d = batch
    table = patch_table(d).set_index("patch_id")
    assert table.loc["W1", "approval_ids"] == "A-OK" and table.loc["W1", "approved"] == pytest.approx(900.0)
    assert table.loc["W2", ["area", "farm", "pbf", "red"]].tolist() == pytest.approx([400.0, 400.0, 400.0, 0.0])
    assert table.loc["W3", "farm"] == pytest.approx(0.0)
    _, rows, _ = _sheet(write_ledger(findings, tmp_path / "t.xlsx", patches=patch_table(d)))
    by = {r["监测编号"]: r for r in rows}
    assert by["W2"]["永久基本农田面积(亩)"] == pytest.approx(0.6) and by["W3"]["耕地面积(亩)"] == 0
    assert by["W1"]["批准用地面积(亩)"] == pytest.approx(1.35) and by["W1"]["依据"] == "有效批准范围覆盖100.0%"
    assert by["W2"]["依据"] == "未经批准占用耕地0.6亩、永久基本农田0.6亩"   # the unapproved part (free_*)
