import hashlib
import json

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

from analyses.findings import concat_findings, finalise
from analyses.registry import CATALOGUE
from landguard.cli.main import cli
from tests.builders import CRS, frame, square

ID = "110117199001011234"
V1, V2 = "110117104201", "110117104202"


def _findings(skip=()):
    rows = [{"subject_layer": "buildings", "subject_id": s, "village_id": v, "village": name, "township": "金海湖镇",
             "status": "new", "geometry": square(x, 0, 10), "message": f"房屋{s}占用耕地，权利人{ID}"}
            for s, v, name, x in (("B1", V1, "甲村", 0), ("B2", V1, "甲村", 20), ("B3", V2, "乙村", 40)) if s not in skip]
    farm = finalise(CATALOGUE["FARM-BUILD"], frame(rows))
    home = finalise(CATALOGUE["HOME-MULTI"], frame([
        {"subject_layer": "parcels", "subject_id": "P1", "village_id": V2, "village": "乙村", "township": "金海湖镇",
         "related_ids": "P1;P2", "measured": 2, "limit": 1, "unit": "处", "geometry": square(200, 0, 15),
         "message": "一户多宅"}]), area=False)
    return concat_findings([farm, home], crs=CRS)


def _write(findings, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(findings, path, layer="findings")
    return path


@pytest.fixture
def runs(tmp_path):
    """Two months of `check` output: B2 was demolished in between."""
    return (_write(_findings(), tmp_path / "2026-10" / "findings.gpkg"),
            _write(_findings(skip=("B2",)), tmp_path / "2026-11" / "findings.gpkg"))


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def test_export_writes_every_village_masked(tmp_path, runs):
    code, out = invoke("export", "--findings", runs[1].parent, "--out", tmp_path / "field")
    assert code == 0, out
    assert "已导出 2 个村" in out and f"{V1} 甲村：1 条" in out and f"{V2} 乙村：2 条" in out
    names = sorted(p.name for p in (tmp_path / "field").iterdir())
    assert names == sorted(f"{v}_{n}.{ext}" for v, n in ((V1, "甲村"), (V2, "乙村")) for ext in ("geojson", "gpkg", "kml"))
    for path in (tmp_path / "field").iterdir():
        assert ID.encode() not in path.read_bytes()
    doc = json.loads((tmp_path / "field" / f"{V2}_乙村.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["subject_id"] for f in doc["features"]} == {"B3", "P1"}


def test_export_one_village_in_the_working_crs(tmp_path, runs):
    code, out = invoke("export", "--findings", runs[1], "--out", tmp_path / "field", "--village", V2, "--crs", "working")
    assert code == 0, out
    assert sorted(p.name for p in (tmp_path / "field").iterdir()) == [f"{V2}_乙村.{e}" for e in ("geojson", "gpkg", "kml")]
    assert pyogrio.read_info(tmp_path / "field" / f"{V2}_乙村.gpkg", layer="findings")["crs"] == "EPSG:4548"


def test_export_of_a_village_without_findings_writes_empty_files(tmp_path, runs):
    code, out = invoke("export", "--findings", runs[1], "--out", tmp_path / "f", "--village", "110117999999")
    assert code == 0 and "无问题" in out
    assert len(pyogrio.read_dataframe(tmp_path / "f" / "110117999999.kml")) == 0


def test_ledger_with_previous_and_the_verify_round_trip(tmp_path, runs):
    ledger = tmp_path / "台账.xlsx"
    code, out = invoke("ledger", "--findings", runs[1], "--previous", runs[0], "--out", ledger)
    assert code == 0, out
    assert "新增 0、持续 3、已整改 1" in out
    sheet = openpyxl.load_workbook(ledger)["耕地非农化"]
    changes = {r[7]: r[17] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert changes == {"B1": "持续", "B2": "已整改", "B3": "持续"}

    code, out = invoke("export", "--findings", runs[1], "--out", tmp_path / "field", "--village", V1)
    assert code == 0, out
    returned = pyogrio.read_dataframe(tmp_path / "field" / f"{V1}_甲村.gpkg", layer="findings")
    returned["verified"], returned["verified_by"] = "违法", "王五"
    pyogrio.write_dataframe(returned, tmp_path / "returned.gpkg", layer="findings")

    code, out = invoke("verify", "--in", tmp_path / "returned.gpkg", "--ledger", ledger)
    assert code == 0, out
    assert "更新 1 条" in out and "未匹配 0 条" in out
    row = next(r for r in openpyxl.load_workbook(ledger)["耕地非农化"].iter_rows(min_row=2, values_only=True)
               if r[7] == "B1")
    assert row[18:20] == ("违法", "王五")
    digest = hashlib.sha256(ledger.read_bytes()).hexdigest()
    code, out = invoke("verify", "--in", tmp_path / "returned.gpkg", "--ledger", ledger)
    assert code == 0 and "更新 0 条，未变化 1 条" in out
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == digest


def test_ledger_into_a_folder(tmp_path, runs):
    code, out = invoke("ledger", "--findings", runs[1], "--out", tmp_path / "out")
    assert code == 0, out
    assert (tmp_path / "out" / "ledger.xlsx").is_file()
    code, out = invoke("ledger", "--findings", runs[1], "--out", tmp_path / "l.xls")
    assert code == 2 and "错误 / error: --out" in out and ".xlsx" in out


def test_errors_are_one_line(tmp_path):
    other = _write(_findings().rename(columns={"case_id": "id"}), tmp_path / "bad" / "findings.gpkg")
    code, out = invoke("export", "--findings", other, "--out", tmp_path / "f")
    assert code == 2 and out.count("\n") == 1 and "lacks column(s) case_id" in out
    code, out = invoke("verify", "--in", other, "--ledger", other)
    assert code == 2 and out.startswith("错误 / error:") and out.count("\n") == 1


@pytest.fixture
def district_gpkg(tmp_path):
    """The district the findings came from, as a GeoPackage with canonical layer names."""
    path = tmp_path / "district.gpkg"
    layers = {
        "villages": frame([{"village_id": V1, "name": "甲村", "township": "金海湖镇", "geometry": square(-500, -500, 500, 1000)},
                           {"village_id": V2, "name": "乙村", "township": "金海湖镇", "geometry": square(0, -500, 500, 1000)}]),
        "parcels": frame([{"parcel_id": "P1", "owner_name": "张三丰", "owner_id": ID, "geometry": square(-100, 0, 14)},
                          {"parcel_id": "P2", "owner_name": "欧阳娜娜", "owner_id": "11011719850203456X",
                           "geometry": square(200, 0, 15)}]),
        "buildings": frame([{"building_id": "B1", "geometry": square(-98, 2, 8)},
                            {"building_id": "B3", "geometry": square(40, 0, 10)}]),
        "landuse": frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 1000)}]),
    }
    for name, layer in layers.items():
        pyogrio.write_dataframe(layer, path, layer=name)
    return path


@pytest.mark.parametrize("full_names", [False, True])
def test_export_with_data_carries_the_villages_parcels_and_buildings(tmp_path, runs, district_gpkg, full_names):
    args = ["export", "--findings", runs[1], "--data", district_gpkg, "--out", tmp_path / "field"]
    code, out = invoke(*args, *(["--full-names"] if full_names else []))
    assert code == 0, out
    parcels = pyogrio.read_dataframe(tmp_path / "field" / f"{V2}_乙村.gpkg", layer="parcels")
    buildings = pyogrio.read_dataframe(tmp_path / "field" / f"{V1}_甲村.gpkg", layer="buildings")
    assert parcels["parcel_id"].tolist() == ["P2"] and buildings["building_id"].tolist() == ["B1"]
    assert parcels["owner_id"].tolist() == ["110117********456X"]
    assert parcels["owner_name"].tolist() == (["欧阳娜娜"] if full_names else ["欧阳**"])
    for path in (tmp_path / "field").iterdir():
        blob = path.read_bytes()
        assert ID.encode() not in blob and b"11011719850203456X" not in blob


def test_export_refuses_a_village_the_data_does_not_have(tmp_path, runs, district_gpkg):
    code, out = invoke("export", "--findings", runs[1], "--data", district_gpkg, "--out", tmp_path / "f",
                       "--village", "999")
    assert code == 2 and "--village 999: not a village_id" in out


def test_ledger_uses_the_comparison_check_wrote(tmp_path, runs):
    from analyses.compare import compare_runs, read_findings

    changes = compare_runs(read_findings(runs[1]), read_findings(runs[0]))
    pyogrio.write_dataframe(changes, runs[1], layer="changes")  # as `check --previous` leaves it
    code, out = invoke("ledger", "--findings", runs[1].parent, "--out", tmp_path / "l.xlsx")
    assert code == 0 and "新增 0、持续 3、已整改 1" in out, out
    sheet = openpyxl.load_workbook(tmp_path / "l.xlsx")["耕地非农化"]
    assert {r[7]: r[17] for r in sheet.iter_rows(min_row=2, values_only=True)}["B2"] == "已整改"
