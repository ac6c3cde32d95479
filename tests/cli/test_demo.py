"""``landguard demo`` (what ``make demo`` runs) goes through the whole monthly cycle on the sample district."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from analyses.register import read_register
from landguard.cli.main import cli

pytestmark = pytest.mark.e2e


def test_demo_runs_two_checks_a_verification_and_every_output(tmp_path):
    res = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "-q"])
    assert res.exit_code == 0, res.output
    project = tmp_path / "demo" / "project"
    runs = sorted(p.name for p in (project / "runs").iterdir())
    assert len(runs) == 2
    reg = read_register(project / "cases.gpkg")
    assert {"新增", "持续", "已整改"} <= set(reg["change"])
    verified = reg[reg["verified"].notna() & (reg["verified"] != "")]
    assert set(verified["verified"]) == {"已整改", "违法"} and (verified["photo_count"] == 1).all()
    assert all((project / p).is_file() for p in verified["photos"])
    last = project / "runs" / runs[-1]
    assert (last / "maps" / "index.html").is_file() and (last / "台账.xlsx").is_file()
    assert any(last.joinpath("exports").glob("*.kml"))
    assert (project / "reports" / runs[-1] / "月报.pdf").stat().st_size > 10_000
