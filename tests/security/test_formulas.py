"""No formula in the ledger: every value from the data, or from a returned field file, is a string cell.

Text beginning with ``=``, ``+``, ``-``, ``@`` (``=HYPERLINK(...)``, ``=IMAGE(...)``, ``@SUM(...)``) would be
stored by openpyxl as a formula and evaluated by Excel / WPS when the ledger is opened. The ledger must
store such text as text, unchanged (a number-like id such as ``007`` stays the text ``007``), keep the
figures we compute as numbers, and mask every ID number (names stay in full).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

from analyses.findings import concat_findings, finalise
from analyses.ledger import apply_verification, write_ledger
from analyses.registry import CATALOGUE
from landguard.cli.main import cli
from maps.exports import export_gpkg
from tests.builders import CRS, frame, square

ID = "110117199001011234"
MASKED = "110117********1234"
LINK = '=HYPERLINK("http://evil.example/x","点击查看")'
IMAGE = '=IMAGE("http://evil.example/pixel.png")'
PAYLOADS = [LINK, IMAGE, "-2+3", "@SUM(A1:A9)", "=1+1", "=cmd|' /C calc'!A0"]


def _hostile_findings():
    farm = finalise(CATALOGUE["FARM-BUILD"], frame([
        {"subject_layer": "buildings", "subject_id": sid, "village_id": vid, "village": village, "township": town,
         "status": "new", "related_ids": related, "message": message, "geometry": square(30 * i, 0, 10)}
        for i, (sid, vid, village, town, related, message) in enumerate([
            ("007", "=1+1", LINK, "+镇", "@SUM(A1:A9)", f"权利人{ID}，{IMAGE}"),
            (LINK, "-110117104201", "张三丰村", IMAGE, "-2+3", "=1+1"),
            ("=cmd|' /C calc'!A0", "110117104202", "@乙村", "金海湖镇", LINK, f"+{ID}"),
        ])]))
    home = finalise(CATALOGUE["HOME-MULTI"], frame([
        {"subject_layer": "parcels", "subject_id": "-P1", "village_id": "110117104202", "village": "@乙村",
         "township": "金海湖镇", "related_ids": "-P1;=P2", "measured": 2, "limit": 1, "unit": "=处",
         "message": f"户主{ID}名下有2处宅基地", "geometry": square(200, 0, 15)}]), area=False)
    return concat_findings([farm, home], crs=CRS)


def _cells(path: Path):
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_no_formula(path: Path) -> None:
    formulas = [(title, c.coordinate, c.value) for title, c in _cells(path) if c.data_type == "f"]
    assert formulas == []
    with zipfile.ZipFile(path) as z:  # and in the file itself, whatever a reader makes of it: no <f> element
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[ >]", z.read(name)), name


def _texts(path: Path) -> set:
    return {c.value for _, c in _cells(path) if c.data_type == "s"}


def test_ledger_stores_text_from_the_data_as_text_never_as_a_formula(tmp_path):
    path = write_ledger(_hostile_findings(), tmp_path / "台账.xlsx")
    _assert_no_formula(path)
    texts = _texts(path)
    # every payload is there, character for character, as text
    for value in [*PAYLOADS, "+镇", "-110117104201", "@乙村", "-P1;=P2", "=处", "-P1", "007"]:
        assert value in texts, value
    # number-like ids stay text
    cells = _cells(path)
    sid = [c for _, c in cells if c.value == "007"]
    assert sid and all(c.data_type == "s" for c in sid)
    # the figures we compute stay numbers
    farm = openpyxl.load_workbook(path)["耕地非农化"]
    area = [c.value for c in farm[1]].index("面积(平方米)") + 1
    assert {farm.cell(r, area).data_type for r in range(2, farm.max_row + 1)} == {"n"}
    assert farm.cell(2, area).value == pytest.approx(100.0)
    # text a spreadsheet would take for a formula is also marked "quote prefix", so editing keeps it text
    assert all(c.quotePrefix for _, c in cells if c.value == LINK)


def test_ledger_masks_id_numbers_in_every_cell_and_keeps_names(tmp_path):
    path = write_ledger(_hostile_findings(), tmp_path / "台账.xlsx")
    cells = _cells(path)
    assert not [c.value for _, c in cells if ID in str(c.value)]
    assert f"权利人{MASKED}，{IMAGE}" in _texts(path) and f"+{MASKED}" in _texts(path)
    assert "张三丰村" in _texts(path)
    with zipfile.ZipFile(path) as z:
        assert not any(ID.encode() in z.read(n) for n in z.namelist())


def test_ledger_command_writes_no_formula(tmp_path):
    findings = tmp_path / "run" / "findings.gpkg"
    findings.parent.mkdir()
    pyogrio.write_dataframe(_hostile_findings(), findings, layer="findings")
    res = CliRunner().invoke(cli, ["ledger", "--findings", str(findings), "--out", str(tmp_path / "l.xlsx")])
    assert res.exit_code == 0, res.output
    _assert_no_formula(tmp_path / "l.xlsx")
    assert "007" in _texts(tmp_path / "l.xlsx")


def _returned(tmp_path: Path, findings) -> Path:
    """The field team's GeoPackage: every verification value and an unknown case id hostile."""
    field = pyogrio.read_dataframe(export_gpkg(findings, tmp_path / "field.gpkg"), layer="findings")
    field["verified"] = "=1+1"
    field["verified_by"] = ["+张三", "@李四", "-王五", "\t=SUM(A1)"]
    field["verified_on"] = ["2026-11-30", "-2026", "=TODAY()", None]
    field["remark"] = [LINK, f"权利人身份证{ID}", IMAGE, "\r=1+1"]
    field["photo"] = ["=IMAGE(\"file:///etc/passwd\")", "@photo.jpg", "007", "-1.jpg"]
    extra = field.iloc[[0]].copy()
    extra["case_id"], extra["remark"] = IMAGE, f"现场新增，{ID}"
    blank = field.iloc[[1]].copy()
    blank["case_id"] = None
    import pandas as pd
    out = pd.concat([field, extra, blank], ignore_index=True)
    path = tmp_path / f"returned-{ID}.gpkg"   # even the file's name carries an ID number
    pyogrio.write_dataframe(out, path, layer="findings")
    return path


def test_verify_writes_what_comes_back_as_text_masked_and_is_idempotent(tmp_path):
    findings = _hostile_findings()
    ledger = write_ledger(findings, tmp_path / "台账.xlsx")
    returned = _returned(tmp_path, findings)
    result = apply_verification(ledger, returned)
    assert result.updated == 4 and IMAGE in result.unmatched
    _assert_no_formula(ledger)
    texts = _texts(ledger)
    for value in ["=1+1", "+张三", "@李四", "-王五", "=SUM(A1)", "-2026", "=TODAY()", LINK, IMAGE,
                  '=IMAGE("file:///etc/passwd")', "@photo.jpg", "007", "-1.jpg", f"权利人身份证{MASKED}",
                  f"现场新增，{MASKED}", f"returned-{MASKED}.gpkg"]:
        assert value in texts, value
    assert not [c.value for _, c in _cells(ledger) if ID in str(c.value)]
    # the same file again: nothing changes, byte for byte (masked values compare equal)
    digest = hashlib.sha256(ledger.read_bytes()).hexdigest()
    again = apply_verification(ledger, returned)
    assert again.updated == 0
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == digest


def test_verify_command_writes_no_formula(tmp_path):
    findings = _hostile_findings()
    ledger = write_ledger(findings, tmp_path / "台账.xlsx")
    returned = _returned(tmp_path, findings)
    res = CliRunner().invoke(cli, ["verify", "--in", str(returned), "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    _assert_no_formula(ledger)
    assert ID not in res.output
