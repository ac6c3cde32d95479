"""Outputs in bad places: an unwritable ledger path, two runs into one folder, killed runs' temporaries,
outputs written into the data folder.

Every case runs the real command (click's runner, or ``.venv/bin/landguard`` in a subprocess when two
processes or a kill are the point) on the tiny district of ``tests.badinput.helpers``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from landguard.cli.main import cli
from spatial.atomic import is_landguard_output
from tests.badinput.helpers import (VILLAGE_A, VILLAGE_B, findings, ok, one_error, quality, run_check,
                                    write_district)
from tests.test_kill import write_district as write_big_district

ROOT = Path(__file__).resolve().parents[2]
LANDGUARD = ROOT / ".venv" / "bin" / "landguard"
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
N_BIG = 60_000


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


@pytest.fixture
def checked(tmp_path):
    """A clean district checked once: (data folder, findings.gpkg)."""
    data = write_district(tmp_path / "data")
    res = run_check(data, tmp_path / "run")
    ok(res)
    return data, tmp_path / "run" / "findings.gpkg"


# -- ledger --out to a place that cannot be written ------------------------------------------------------


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "parent is a file":
        (tmp_path / "a-file").write_text("not a folder")
        return tmp_path / "a-file" / "台账.xlsx"
    if kind == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        return folder / "台账.xlsx"
    if kind == "sysfs":  # a folder even root cannot write into
        target = Path("/sys/landguard-台账.xlsx")
        try:
            target.write_bytes(b"")
        except OSError:
            return target
        target.unlink()
        pytest.skip("/sys is writable here")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["parent is a file", "read-only folder", "sysfs"])
def test_ledger_to_an_unwritable_place_is_one_line_naming_the_path(tmp_path, checked, kind):
    target = _unwritable(tmp_path, kind)
    res = CliRunner().invoke(cli, ["ledger", "--findings", str(checked[1]), "--out", str(target)])
    one_error(res, str(target))
    assert not target.exists()
    if target.parent.is_dir() and os.access(target.parent, os.R_OK):
        assert _temporaries(target.parent) == []


# -- two runs into one --out -----------------------------------------------------------------------------


def _holder(target: Path, release: Path, payload: str) -> subprocess.Popen:
    """A process writing ``target`` through atomic_path that holds its temporary until ``release`` exists."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from spatial.atomic import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_text({payload!r})
            print("holding", flush=True)
            while not Path({str(release)!r}).exists():
                time.sleep(0.01)
        print("done", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
    return proc


def test_a_second_check_leaves_a_running_writers_temporary_alone(tmp_path, checked):
    """Deterministic: a live writer holds its temporary in --out while a whole `check` runs there."""
    data, _ = checked
    out = tmp_path / "out"
    ok(run_check(data, out))
    release = tmp_path / "release"
    holder = _holder(out / "notes.txt", release, "the first run's file")
    try:
        held = _temporaries(out)
        assert len(held) == 1 and str(holder.pid) in held[0].name
        second = subprocess.run([str(LANDGUARD), "check", "--data", str(data), "--out", str(out), "-q",
                                 "--rule", "FARM-BUILD", "--jobs", "1"], cwd=ROOT, env=ENV, capture_output=True,
                                text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert held[0].exists()  # the running writer's temporary survived the second run's start-up
    finally:
        release.touch()
        stdout, stderr = holder.communicate(timeout=60)
    assert holder.returncode == 0 and "done" in stdout, stderr
    assert (out / "notes.txt").read_text() == "the first run's file"
    assert _temporaries(out) == []


def test_two_concurrent_checks_into_one_folder_both_end_with_whole_outputs(tmp_path):
    """Two real `landguard check` processes: the second runs whole while the first is writing its findings.

    The first is paused (SIGSTOP) as soon as its temporary findings file exists, so the second's start-up
    surely falls inside the first's write; then the first goes on (SIGCONT) and must finish as well.
    """
    big = write_big_district(tmp_path / "big", N_BIG)
    small = write_big_district(tmp_path / "small", 50)
    out = tmp_path / "out"
    cmd = [str(LANDGUARD), "check", "--out", str(out), "-q", "--rule", "FARM-BUILD", "--jobs", "1", "--data"]
    first = subprocess.Popen([*cmd, str(big)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    paused = None
    try:
        deadline = time.monotonic() + 300
        while first.poll() is None and time.monotonic() < deadline:
            temps = [p for p in _temporaries(out) if p.name.startswith(".findings.")] if out.is_dir() else []
            if temps:
                os.kill(first.pid, signal.SIGSTOP)
                paused = temps[0]
                break
            time.sleep(0.002)
        assert paused is not None, f"the first run never wrote its findings: {first.communicate()[1]}"
        second = subprocess.run([*cmd, str(small)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert len(findings(out)) == 50  # the second run's outputs, whole
        assert paused.exists()           # and the first's temporary untouched
        os.kill(first.pid, signal.SIGCONT)
        _, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGCONT)
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    # the first run finished last: its outputs, whole, and no temporary left
    assert len(findings(out)) == N_BIG
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "60000" in (out / "summary.txt").read_text(encoding="utf-8")
    assert _temporaries(out) == []


# -- killed runs' temporaries ----------------------------------------------------------------------------


def test_export_removes_a_killed_runs_temporaries_and_keeps_a_live_ones(tmp_path, checked):
    data, found = checked
    field = tmp_path / "field"
    field.mkdir()
    # a run killed (SIGKILL) while writing a village's GeoPackage leaves its temporary behind
    killed = _holder(field / f"{VILLAGE_A}.gpkg", tmp_path / "never", "half a file")
    killed_temp, = _temporaries(field)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed_temp.exists()
    release = tmp_path / "release"
    live = _holder(field / "other.gpkg", release, "still writing")
    try:
        live_temp = [p for p in _temporaries(field) if str(live.pid) in p.name]
        res = subprocess.run([str(LANDGUARD), "export", "--findings", str(found), "--out", str(field)],
                             cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert not killed_temp.exists()
        assert len(live_temp) == 1 and live_temp[0].exists()
    finally:
        release.touch()
        live.communicate(timeout=60)
    assert _temporaries(field) == []
    assert pyogrio.read_dataframe(field / f"{VILLAGE_B}_西店村.gpkg", layer="findings")["subject_id"].tolist() == ["B2"]


def test_check_removes_a_killed_runs_temporaries(tmp_path, checked):
    data, _ = checked
    out = tmp_path / "out"
    ok(run_check(data, out))
    killed = _holder(out / "findings.gpkg", tmp_path / "never", "half a file")
    temp, = _temporaries(out)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    ok(run_check(data, out))
    assert not temp.exists() and _temporaries(out) == []


# -- outputs are never read back as inputs -----------------------------------------------------------


def test_export_into_the_data_folder_then_check_finds_the_same(tmp_path, checked):
    data, found = checked
    before = findings(found.parent)
    res = CliRunner().invoke(cli, ["export", "--findings", str(found), "--data", str(data), "--out", str(data),
                                   "--village", VILLAGE_A, "--village", VILLAGE_B])
    assert res.exit_code == 0, res.output
    exported = sorted(data.glob("1101*.gpkg"))
    assert [p.name for p in exported] == [f"{VILLAGE_A}_东店村.gpkg", f"{VILLAGE_B}_西店村.gpkg"]  # <village_id>_<村名>
    for p in exported:  # the field GeoPackages carry parcels and buildings layers: role names
        assert {"parcels", "buildings"} <= {n for n, _ in pyogrio.list_layers(p)}
        assert is_landguard_output(p)
    assert not any(is_landguard_output(p) for p in data.glob("[a-z]*.gpkg"))  # the inputs are not marked

    out = tmp_path / "again"
    ok(run_check(data, out))
    after = findings(out)
    key = ["rule_id", "subject_id", "village_id", "area_m2"]
    assert after[key].sort_values(key).values.tolist() == before[key].sort_values(key).values.tolist()
    notes = "\n".join(quality(out)["notes"])
    for p in exported:
        assert f"{p.name}：landguard 写出的文件" in notes


def test_findings_written_by_check_are_marked_and_gdal_still_reads_them(tmp_path, checked):
    _, found = checked
    assert is_landguard_output(found)
    info = pyogrio.read_info(found, layer="findings")
    assert info["features"] == len(findings(found.parent))
