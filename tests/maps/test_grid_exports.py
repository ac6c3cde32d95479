"""Field files per 田长 grid (``field_grids``): one set per grid, its findings only, the leader's name masked."""

from __future__ import annotations

import json
import sqlite3

import pyogrio
import pytest

from analyses.ledger import VERIFICATION_COLUMNS
from analyses.testing import run_rule
from landguard.pipeline import write_exports
from layers.privacy import mask_name
from maps.exports import GRIDS_FOLDER, export_grids
from spatial.errors import LayerError
from tests.builders import district, frame, square

VILLAGE = "110117104201"
WEST_LEADER, EAST_LEADER = "欧阳建国", "王秀英"


def _grids(west_id="G-西", east_id="../x"):
    # the test village is x, y in -500..500: a west grid and an east grid with a hostile id
    return frame([{"grid_id": west_id, "village_id": VILLAGE, "grid_leader": WEST_LEADER,
                   "geometry": square(-500, -500, 500, 1000)},
                  {"grid_id": east_id, "village_id": VILLAGE, "grid_leader": EAST_LEADER,
                   "geometry": square(0, -500, 500, 1000)}])


def _district(grids):
    farmland = frame([{"dlbm": "0103", "tbbh": "1", "geometry": square(-500, -500, 1000)}])
    buildings = frame([{"building_id": "B_W", "built_year": 2022, "geometry": square(-100, 0, 10)},
                       {"building_id": "B_E1", "built_year": 2022, "geometry": square(100, 0, 10)},
                       {"building_id": "B_E2", "built_year": 2022, "geometry": square(200, 0, 10)}])
    parcels = frame([{"parcel_id": "P_W", "village_id": VILLAGE, "owner_name": "张三丰",
                      "geometry": square(-102, -2, 14)},
                     {"parcel_id": "P_E", "village_id": VILLAGE, "owner_name": "李四光",
                      "geometry": square(98, -2, 14)}])
    buildings["village_id"] = VILLAGE
    return district(landuse=farmland, buildings=buildings, parcels=parcels, field_grids=grids)


@pytest.fixture
def written(tmp_path):
    d = _district(_grids())
    findings = run_rule("FARM-BUILD", d)
    assert set(findings["grid_id"]) == {"G-西", "../x"}  # routed by analyses.routing
    out = tmp_path / "exports"
    return findings, out, write_exports(d, findings, out, jobs=1)


def test_one_set_of_files_per_grid_named_by_grid_and_village(written):
    _, out, files = written
    folder = out / GRIDS_FOLDER
    assert {k for k in files if k.startswith("grid:")} == {"grid:G-西", "grid:../x"}
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{stem}{ext}" for stem in ("G-西_测试村", "_x_测试村") for ext in (".geojson", ".gpkg", ".kml"))
    for key in ("grid:G-西", "grid:../x"):
        assert all(p.resolve().parent == folder.resolve() for p in files[key].values())
    # the hostile id wrote nothing outside the grids folder: only the village files and the folder
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [GRIDS_FOLDER, *(f"{VILLAGE}_测试村{ext}" for ext in (".geojson", ".gpkg", ".kml"))])
    assert not (out / "x.gpkg").exists() and not (out.parent / "x_测试村.gpkg").exists()


def test_each_grid_file_holds_its_findings_only(written):
    findings, _, files = written
    for key, grid_id in (("grid:G-西", "G-西"), ("grid:../x", "../x")):
        expected = set(findings.loc[findings["grid_id"] == grid_id, "case_id"])
        doc = json.loads(files[key]["geojson"].read_text(encoding="utf-8"))
        assert {f["id"] for f in doc["features"]} == expected and expected
        assert {f["properties"]["grid_id"] for f in doc["features"]} == {grid_id}
        gpkg = pyogrio.read_dataframe(files[key]["gpkg"], layer="findings")
        assert set(gpkg["case_id"]) == expected
        kml = pyogrio.read_dataframe(files[key]["kml"])
        assert len(kml) == len(expected)
    subjects = set(pyogrio.read_dataframe(files["grid:../x"]["gpkg"], layer="findings")["subject_id"])
    assert subjects == {"B_E1", "B_E2"}
    # the grid's parcels only, the grid itself as a layer
    assert pyogrio.read_dataframe(files["grid:G-西"]["gpkg"], layer="parcels")["parcel_id"].tolist() == ["P_W"]
    grid = pyogrio.read_dataframe(files["grid:G-西"]["gpkg"], layer="field_grid")
    assert grid["grid_id"].tolist() == ["G-西"]


def test_same_columns_and_styles_as_the_village_file(written):
    _, out, files = written
    village = pyogrio.read_info(files[VILLAGE]["gpkg"], layer="findings")["fields"].tolist()
    grid = pyogrio.read_info(files["grid:G-西"]["gpkg"], layer="findings")["fields"].tolist()
    assert grid == village and grid[-len(VERIFICATION_COLUMNS):] == list(VERIFICATION_COLUMNS)
    with sqlite3.connect(files["grid:G-西"]["gpkg"]) as con:
        styled = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles")}
        domain = con.execute("SELECT constraint_name FROM gpkg_data_columns "
                             "WHERE table_name = 'findings' AND column_name = 'verified'").fetchone()
    assert {"findings", "parcels", "buildings"} <= styled
    assert domain == ("verified_values",)


@pytest.mark.parametrize("full_names", [False, True])
def test_grid_leader_masked_in_every_written_file(tmp_path, full_names):
    d = _district(_grids())
    findings = run_rule("FARM-BUILD", d)
    files = write_exports(d, findings, tmp_path, jobs=1, full_names=full_names)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 9
    for path in written:
        data = path.read_bytes()
        for leader in (WEST_LEADER, EAST_LEADER):
            assert leader.encode("utf-8") not in data, path
    masked = mask_name(WEST_LEADER)
    assert masked != WEST_LEADER and masked.startswith("欧")
    layer = pyogrio.read_dataframe(files["grid:G-西"]["gpkg"], layer="field_grid")
    assert layer["grid_leader"].tolist() == [masked]
    kml_name = pyogrio.list_layers(files["grid:G-西"]["kml"])  # the KML document names grid and leader
    text = files["grid:G-西"]["kml"].read_text(encoding="utf-8")
    assert f"网格 G-西 田长 {masked}" in text and len(kml_name) == 1


def test_two_grids_with_one_file_name_are_refused_before_writing(tmp_path):
    d = _district(_grids(west_id="G/1", east_id="G:1"))
    findings = run_rule("FARM-BUILD", d)
    with pytest.raises(LayerError, match=r"field_grids 图层 grid_id 列.*'G/1'.*'G:1'"):
        write_exports(d, findings, tmp_path / "exports", jobs=1)
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").rglob("*"))


def test_only_the_chosen_villages_grids(tmp_path):
    d = _district(_grids())
    findings = run_rule("FARM-BUILD", d)
    assert export_grids(findings, tmp_path, d.get("field_grids"), villages=["110117104299"]) == {}
    assert set(export_grids(findings, tmp_path, d.get("field_grids"), villages=[VILLAGE])) == {"G-西", "../x"}


def test_cli_export_with_data_writes_the_grid_files_masked(tmp_path):
    from click.testing import CliRunner

    from landguard.cli.main import cli

    d = _district(_grids())
    findings = run_rule("FARM-BUILD", d)
    data = tmp_path / "district.gpkg"
    for role in ("villages", "landuse", "parcels", "buildings", "field_grids"):
        pyogrio.write_dataframe(d.get(role), data, layer=role, driver="GPKG")
    pyogrio.write_dataframe(findings, tmp_path / "findings.gpkg", layer="findings", driver="GPKG")
    out = tmp_path / "field"
    result = CliRunner().invoke(cli, ["export", "--findings", str(tmp_path / "findings.gpkg"), "--data", str(data),
                                      "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "田长网格：2 个" in result.output
    names = sorted(p.name for p in (out / GRIDS_FOLDER).iterdir())
    assert names == sorted(f"{s}{e}" for s in ("G-西_测试村", "_x_测试村") for e in (".geojson", ".gpkg", ".kml"))
    for path in out.rglob("*"):
        if path.is_file():
            assert WEST_LEADER.encode("utf-8") not in path.read_bytes(), path
    doc = json.loads((out / GRIDS_FOLDER / "_x_测试村.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["subject_id"] for f in doc["features"]} == {"B_E1", "B_E2"}
