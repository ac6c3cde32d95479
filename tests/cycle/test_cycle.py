"""The monthly cycle end to end (spec/WORKFLOW.md §1, §2): three dated runs of a small district with a
verification round trip (photos with EXIF) between them; cases new, continuing, rectified, closed out, overdue."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from analyses.register import REGISTER_COLUMNS, read_register
from landguard.cli.main import cli
from landguard.cli.verify import command as verify_cmd
from landguard.project import Project, stamp_project
from maps.exports import export_village
from tests.badinput.helpers import VILLAGE_B
from tests.cycle.helpers import district_with, fill_returned, jpeg, lonlat_of

RUN1, RUN2, RUN3 = "2026-01-10", "2026-02-20", "2026-08-01"
ON_FARMLAND = {"B2": (100, 100), "B4": (200, 100), "B5": (300, 100), "B6": (100, 300)}


def _check(data, project, as_of, *extra):
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--project", str(project), "--as-of", as_of,
                                         "--rule", "FARM-BUILD", "--jobs", "1", "-q", *extra])
    return res


def _case(reg, building):
    row = reg[reg["subject_id"] == building]
    assert len(row) == 1, building
    return row.iloc[0]


def _returned_folder(tmp_path, project, reg, name="returned", run=RUN1):
    """Export village B's field GeoPackage from run 1 and fill it in like QField, photos under DCIM/."""
    folder = tmp_path / name
    findings = pyogrio.read_dataframe(Project(project).runs_dir / run / "findings.gpkg", layer="findings")
    gpkg = export_village(findings, folder, VILLAGE_B)["gpkg"]
    stamp_project(gpkg, Project(project).meta()["id"])
    crs = findings.crs
    ids = {b: _case(reg, b)["case_id"] for b in ("B2", "B4", "B5", "B6")}
    geom = {b: _case(reg, b).geometry for b in ids}
    jpeg(folder / "DCIM" / "b2.jpg", lonlat=lonlat_of(geom["B2"], crs, dx=20), taken=dt.datetime(2026, 2, 1, 10),
         direction=90)
    jpeg(folder / "DCIM" / "b4.jpg", lonlat=lonlat_of(geom["B4"], crs, dx=900), taken=dt.datetime(2026, 2, 2, 9))
    jpeg(folder / "DCIM" / "b5.jpg", lonlat=None, taken=dt.datetime(2026, 2, 3, 9))
    (folder / "DCIM" / "fake.jpg").write_text("not a picture", encoding="utf-8")
    fill_returned(gpkg, {
        ids["B2"]: {"verified": "已整改", "verified_by": "王五", "verified_on": "2026-02-01", "remark": "已拆除",
                    "photo": "DCIM/b2.jpg"},
        ids["B4"]: {"verified": "违法", "verified_by": "王五", "verified_on": "2026-02-02", "photo": "DCIM/b4.jpg"},
        ids["B5"]: {"verified": "误报", "verified_by": "王五", "verified_on": "2026-02-03", "remark": "温室棚架",
                    "photo": "DCIM/b5.jpg;DCIM/fake.jpg;../../etc/passwd"},
    })
    return folder, ids


def test_three_runs_with_a_verification_round_trip(tmp_path):
    project = tmp_path / "项目"
    d1 = district_with(tmp_path / "d1", ON_FARMLAND)
    res = _check(d1, project, RUN1)
    assert res.exit_code == 0, res.output
    reg = read_register(project / "cases.gpkg")
    assert list(reg.columns) == [*REGISTER_COLUMNS, "geometry"]
    assert len(reg) == 4 and set(reg["change"]) == {"新增"} and set(reg["progress"]) == {"未整改"}
    assert (project / "runs" / RUN1 / "findings.gpkg").is_file() and (project / "runs" / RUN1 / "summary.txt").is_file()
    deadline1 = _case(reg, "B6")["deadline"]
    assert deadline1 == "2026-07-09"  # run 1 + 180 days (undated FARM-BUILD)

    # the field returns a folder: GeoPackage + photos
    folder, ids = _returned_folder(tmp_path, project, reg)
    res = CliRunner().invoke(verify_cmd, ["--project", str(project), "--in", str(folder)])
    assert res.exit_code == 0, res.output
    assert "不是图片" in res.output and "路径在回传文件夹之外" in res.output and "空白行 1" in res.output
    reg = read_register(project / "cases.gpkg")
    b2, b4, b5 = _case(reg, "B2"), _case(reg, "B4"), _case(reg, "B5")
    assert (b2["verified"], b2["progress"], b2["photo_count"], b2["photo_flags"]) == ("已整改", "已整改", 1, "")
    assert b2["photos"] == f"photos/{ids['B2']}/b2.jpg" and (project / b2["photos"]).is_file()
    assert b2["photo_points"].split(",")[2] == "90.0"
    assert (b4["progress"], b4["photo_flags"]) == ("整改中", "照片位置存疑")
    assert (b5["progress"], b5["photo_count"], b5["photo_flags"]) == ("误报", 1, "无定位")
    assert b5["closed_on"] == "2026-02-03"
    # idempotent: the same folder again changes nothing, byte for byte
    before = (project / "cases.gpkg").read_bytes()
    res = CliRunner().invoke(verify_cmd, ["--project", str(project), "--in", str(folder)])
    assert res.exit_code == 0, res.output
    assert (project / "cases.gpkg").read_bytes() == before
    assert sorted(p.name for p in (project / "photos" / ids["B2"]).iterdir()) == ["b2.jpg"]

    # run 2: B2 demolished, B7 new
    d2 = district_with(tmp_path / "d2", {**{k: v for k, v in ON_FARMLAND.items() if k != "B2"}, "B7": (300, 300)})
    res = _check(d2, project, RUN2)
    assert res.exit_code == 0, res.output
    assert "新增 1，持续 3，已整改 1" in res.output
    reg = read_register(project / "cases.gpkg")
    b2, b4, b5, b6, b7 = (_case(reg, b) for b in ("B2", "B4", "B5", "B6", "B7"))
    assert (b2["change"], b2["progress"], b2["closed_on"]) == ("已整改", "已销号", RUN2)
    assert (b4["change"], b4["progress"], b4["runs_seen"]) == ("持续", "整改中", 2)
    assert (b5["change"], b5["progress"]) == ("持续", "误报")
    assert (b6["change"], b6["progress"], b6["first_seen"], b6["deadline"]) == ("持续", "未整改", RUN1, deadline1)
    assert (b7["change"], b7["first_seen"]) == ("新增", RUN2)
    changes = pyogrio.read_dataframe(project / "runs" / RUN2 / "findings.gpkg", layer="changes")
    assert changes["change"].value_counts().to_dict() == {"持续": 3, "已整改": 1, "新增": 1}

    # run 3: B4 gone too; B6 is past its deadline
    d3 = district_with(tmp_path / "d3", {k: v for k, v in ON_FARMLAND.items() if k in ("B5", "B6")} | {"B7": (300, 300)})
    assert _check(d3, project, RUN3).exit_code == 0
    reg = read_register(project / "cases.gpkg")
    assert sorted(p.name for p in (project / "runs").iterdir()) == [RUN1, RUN2, RUN3]
    overdue = reg.loc[reg["overdue"] == 1, "subject_id"].tolist()
    assert overdue == ["B6"]
    b4 = _case(reg, "B4")
    assert (b4["change"], b4["progress"]) == ("已整改", "已整改")  # gone, awaiting the field's word
    assert _case(reg, "B2")["progress"] == "已销号" and _case(reg, "B2")["change"] is None
    assert "2026-02-02:核查 违法" in b4["history"] and b4["history"].startswith(f"{RUN1}:新增")
    # the field confirms B4 in a zip: closed out
    z = tmp_path / "back.zip"
    folder2, _ = _returned_folder(tmp_path, project, reg, name="r2", run=RUN2)
    fill_returned(next(folder2.glob("*.gpkg")), {ids["B4"]: {"verified": "已整改", "verified_on": "2026-08-05"}})
    with zipfile.ZipFile(z, "w") as zf:
        for p in folder2.rglob("*"):
            zf.write(p, p.relative_to(folder2).as_posix())
    res = CliRunner().invoke(verify_cmd, ["--project", str(project), str(z)])  # WORKFLOW's positional form
    assert res.exit_code == 0, res.output
    b4 = _case(read_register(project / "cases.gpkg"), "B4")
    assert (b4["progress"], b4["closed_on"]) == ("已销号", "2026-08-05")
    assert not [p for p in project.iterdir() if p.name.startswith(".verify-")]


def test_same_date_needs_overwrite_and_older_dates_are_refused(tmp_path):
    project = tmp_path / "p"
    d1 = district_with(tmp_path / "d1", ON_FARMLAND)
    assert _check(d1, project, RUN2).exit_code == 0
    before = (project / "cases.gpkg").read_bytes()
    res = _check(d1, project, RUN2)
    assert res.exit_code != 0 and "--overwrite" in res.output
    res = _check(d1, project, RUN1)
    assert res.exit_code != 0 and "更早" in res.output
    assert (project / "cases.gpkg").read_bytes() == before
    res = _check(d1, project, RUN2, "--overwrite")
    assert res.exit_code == 0, res.output
    reg = read_register(project / "cases.gpkg")
    assert set(reg["runs_seen"]) == {1} and set(reg["change"]) == {"新增"}


def test_maps_export_ledger_with_project_use_the_latest_run(tmp_path):
    project = tmp_path / "p"
    d1 = district_with(tmp_path / "d1", ON_FARMLAND)
    assert _check(d1, project, RUN1).exit_code == 0
    run = project / "runs" / RUN1
    res = CliRunner().invoke(cli, ["export", "--project", str(project)])
    assert res.exit_code == 0, res.output
    (gpkg,) = (run / "exports").glob(f"{VILLAGE_B}*.gpkg")
    from landguard.project import _project_of

    assert _project_of(gpkg) == Project(project).meta()["id"]
    res = CliRunner().invoke(cli, ["ledger", "--project", str(project)])
    assert res.exit_code == 0, res.output
    assert (run / "台账.xlsx").is_file()
    res = CliRunner().invoke(cli, ["maps", "--project", str(project), "--data", str(d1), "-q"])
    assert res.exit_code == 0, res.output
    assert (run / "maps" / "index.html").is_file()
    res = CliRunner().invoke(cli, ["ledger"])
    assert res.exit_code == 2 and "--project" in res.output


def test_project_folder_from_the_configuration(tmp_path):
    from tests.badinput.helpers import base_layers, write_district

    toml = "\n".join(['[project]', 'folder = "项目"', 'as_of = "2026-01-10"', *[
        f'[layers.{r}]\npath = "{r}.gpkg"' for r in base_layers()]]) + "\n"
    data = write_district(tmp_path / "d", toml=toml)
    res = CliRunner().invoke(cli, ["check", "--config", str(data / "landguard.toml"), "--rule", "FARM-BUILD",
                                   "--jobs", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert (data / "项目" / "runs" / RUN1 / "findings.gpkg").is_file() and (data / "项目" / "cases.gpkg").is_file()
    res = CliRunner().invoke(cli, ["check", "--config", str(data / "landguard.toml"), "--out", str(tmp_path / "o"),
                                   "--rule", "FARM-BUILD", "--jobs", "1", "-q"])
    assert res.exit_code == 0 and (tmp_path / "o" / "findings.gpkg").is_file()  # --out: a one-off run
