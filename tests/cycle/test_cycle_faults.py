"""Faults of the monthly cycle: kill -9 while the register is written, two commands at once, a register edited
into an invalid state, returned files from another project or village, unknown ids and conflicting answers."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from analyses.register import read_register
from landguard.cli.main import cli
from landguard.project import LOCK_NAME, Project, stamp_project
from maps.exports import export_village
from tests.badinput.helpers import VILLAGE_B
from tests.cycle.helpers import district_with, fill_returned
from tests.cycle.test_cycle import ON_FARMLAND, RUN1, RUN2, RUN3
from tests.test_kill import write_district as write_big

ROOT = Path(__file__).resolve().parents[2]


def _check(data, project, as_of, *extra):
    return CliRunner().invoke(cli, ["check", "--data", str(data), "--project", str(project), "--as-of", as_of,
                                    "--rule", "FARM-BUILD", "--jobs", "1", "-q", *extra])


def _verify(project, *paths):
    return CliRunner().invoke(cli, ["verify", "--project", str(project), *[a for p in paths for a in ("--in", str(p))]])


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name]


def test_kill_while_the_register_is_written_leaves_the_old_register(tmp_path):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    before = (project / "cases.gpkg").read_bytes()
    big = write_big(tmp_path / "big", 30_000)
    cmd = [sys.executable, "-m", "landguard", "check", "--data", str(big), "--project", str(project), "-q",
           "--as-of", RUN2, "--rule", "FARM-BUILD", "--jobs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = False
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.name.startswith(".cases.") for p in project.iterdir()):   # the new register is being written
                os.kill(proc.pid, signal.SIGKILL)
                seen = True
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert seen, f"the run ended before writing the register: {proc.stderr.read().decode(errors='replace')}"
    # the old register, byte for byte, and no new run folder
    assert (project / "cases.gpkg").read_bytes() == before
    assert [d for d, _ in Project(project).runs()] == [RUN1]
    assert not (project / LOCK_NAME).exists() or True  # a dead process's lock is taken over below
    # the next command takes over the dead lock, clears the temporaries and works
    res = _check(small, project, RUN3)
    assert res.exit_code == 0, res.output
    assert [d for d, _ in Project(project).runs()] == [RUN1, RUN3]
    assert not _temporaries(project)
    reg = read_register(project / "cases.gpkg")
    assert set(reg["runs_seen"]) == {2} and set(reg["change"]) == {"持续"}


def test_a_run_renamed_but_not_merged_is_merged_by_the_next_command(tmp_path):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    before = (project / "cases.gpkg").read_bytes()
    assert _check(small, project, RUN2).exit_code == 0
    (project / "cases.gpkg").write_bytes(before)  # as if killed between the run's rename and the register's
    assert _check(small, project, RUN3).exit_code == 0
    reg = read_register(project / "cases.gpkg")
    assert set(reg["runs_seen"]) == {3}


def test_two_commands_at_once_the_second_is_refused_in_one_line(tmp_path):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    before = (project / "cases.gpkg").read_bytes()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket, re
        host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
        (project / LOCK_NAME).write_text(f"{host} {sleeper.pid} verify", encoding="utf-8")
        res = _check(small, project, RUN2)
        assert res.exit_code == 2
        assert "正在更新此项目" in res.output and str(sleeper.pid) in res.output and len(res.output.splitlines()) == 1
        res = _verify(project, tmp_path / "small" / "villages.gpkg")
        assert res.exit_code == 2 and "正在更新此项目" in res.output
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (project / "cases.gpkg").read_bytes() == before
    assert _check(small, project, RUN2).exit_code == 0  # the dead holder's lock is taken over


@pytest.mark.parametrize("column, value, words", [
    ("progress", "done", "列 progress"),
    ("case_id", "<second>", "重复"),
    ("deadline", "明年", "列 deadline"),
    ("runs_seen", -3, "列 runs_seen"),
    ("verified", "大概违法", "列 verified"),
])
def test_a_register_edited_into_an_invalid_state_is_refused_and_kept(tmp_path, column, value, words):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    reg = pyogrio.read_dataframe(project / "cases.gpkg", layer="cases")  # edited by hand, e.g. in QGIS
    reg[column] = reg[column].astype(object)
    reg.loc[0, column] = reg.loc[1, column] if value == "<second>" else value
    pyogrio.write_dataframe(reg, project / "cases.gpkg", layer="cases", driver="GPKG")
    before = (project / "cases.gpkg").read_bytes()
    res = _check(small, project, RUN2)
    assert res.exit_code == 2 and words in res.output and "cases.gpkg" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert (project / "cases.gpkg").read_bytes() == before
    assert [d for d, _ in Project(project).runs()] == [RUN1]


def _field_file(tmp_path, project, name="back"):
    findings = pyogrio.read_dataframe(Project(project).latest_run() / "findings.gpkg", layer="findings")
    return export_village(findings, tmp_path / name, VILLAGE_B)["gpkg"], findings


def test_a_file_from_another_project_is_refused(tmp_path):
    project, other = tmp_path / "p", tmp_path / "other"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    assert _check(small, other, RUN1).exit_code == 0
    gpkg, findings = _field_file(tmp_path, other)
    stamp_project(gpkg, Project(other).meta()["id"])
    fill_returned(gpkg, {findings["case_id"].iloc[0]: {"verified": "违法"}})
    before = (project / "cases.gpkg").read_bytes()
    res = _verify(project, gpkg)
    assert res.exit_code == 2 and "另一个项目" in res.output, res.output
    assert (project / "cases.gpkg").read_bytes() == before


def test_unknown_ids_other_villages_conflicts_and_invalid_verdicts_are_reported(tmp_path):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    a, findings = _field_file(tmp_path, project, "a")
    b, _ = _field_file(tmp_path, project, "b")
    ids = findings["case_id"].tolist()
    fill_returned(a, {ids[0]: {"verified": "违法"}, ids[1]: {"verified": "合法"}, ids[2]: {"verified": "拆了"},
                      ids[3]: {"verified": "违法", "village_id": "110117999999"}})
    fill_returned(b, {ids[0]: {"verified": "违法"}, ids[1]: {"verified": "违法"}})
    f = pyogrio.read_dataframe(a, layer="findings")
    f.loc[0, "case_id"] = "FARM-BUILD-0000000000"
    f.loc[0, "verified"] = "违法"
    pyogrio.write_dataframe(f, a, layer="findings", driver="GPKG")
    res = _verify(project, a, b)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "未知案件编号" in out and "FARM-BUILD-0000000000" in out
    assert "结论互相矛盾" in out and ids[1] in out
    assert "不在 合法/违法/已整改/无法核实/误报" in out and "拆了" in out
    assert "行政村与案件库不符" in out and ids[3] in out
    reg = read_register(project / "cases.gpkg").set_index("case_id")
    assert reg.loc[ids[1], "verified"] is None and reg.loc[ids[2], "verified"] is None
    assert reg.loc[ids[3], "verified"] is None


def test_photo_taken_before_first_detection_and_a_zip_slip_member(tmp_path):
    import datetime as dt
    import zipfile

    from tests.cycle.helpers import jpeg, lonlat_of

    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    gpkg, findings = _field_file(tmp_path, project, "back")
    cid = findings["case_id"].iloc[0]
    geom = findings.geometry.iloc[0]
    jpeg(gpkg.parent / "DCIM" / "old.jpg", lonlat=lonlat_of(geom, findings.crs), taken=dt.datetime(2025, 12, 1, 8))
    fill_returned(gpkg, {cid: {"verified": "违法", "verified_on": "2026-01-20", "photo": "DCIM/old.jpg"}})
    res = _verify(project, gpkg.parent)
    assert res.exit_code == 0, res.output
    row = read_register(project / "cases.gpkg").set_index("case_id").loc[cid]
    assert row["photo_flags"] == "拍摄时间早于发现" and row["photo_count"] == 1
    # a zip whose member climbs out of the folder is refused whole; nothing changes
    before = (project / "cases.gpkg").read_bytes()
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(gpkg, gpkg.name)
        zf.writestr("../../outside.jpg", b"x")
    res = _verify(project, z)
    assert res.exit_code == 2 and "压缩包之外" in res.output and len(res.output.strip().splitlines()) == 1
    assert (project / "cases.gpkg").read_bytes() == before
    assert not (tmp_path / "outside.jpg").exists() and not list(project.glob(".verify-*"))


def test_an_empty_lock_file_is_held_while_fresh_and_taken_over_when_old(tmp_path):
    project = tmp_path / "p"
    small = district_with(tmp_path / "small", ON_FARMLAND)
    assert _check(small, project, RUN1).exit_code == 0
    lock = project / LOCK_NAME
    lock.write_text("", encoding="utf-8")          # another command has just created it
    res = _check(small, project, RUN2)
    assert res.exit_code == 2 and "正在更新此项目" in res.output
    old = time.time() - 3600
    os.utime(lock, (old, old))                     # left broken long ago
    assert _check(small, project, RUN2).exit_code == 0
    assert not lock.exists()
