"""``check --project DIR --out postgresql://...``: the run and the case register also in PostGIS, one transaction."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from analyses.register import read_register
from landguard.cli.main import cli
from tests.cycle.helpers import district_with
from tests.cycle.test_cycle import ON_FARMLAND, RUN1, RUN2
from tests.test_postgis import pg  # noqa: F401  (the session's PostGIS server)

pytestmark = pytest.mark.postgis


def test_project_run_writes_the_register_table_too(pg, tmp_path):  # noqa: F811
    project = tmp_path / "p"
    url = f"{pg.url}?table=cycle.findings"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS cycle")
    d1 = district_with(tmp_path / "d1", ON_FARMLAND)
    d2 = district_with(tmp_path / "d2", {k: v for k, v in ON_FARMLAND.items() if k != "B2"})
    for data, day in ((d1, RUN1), (d2, RUN2)):
        res = CliRunner().invoke(cli, ["check", "--data", str(data), "--project", str(project), "--out", url,
                                       "--as-of", day, "--rule", "FARM-BUILD", "--jobs", "1", "-q"])
        assert res.exit_code == 0, res.output
    reg = read_register(project / "cases.gpkg")
    with psycopg.connect(pg.url) as conn:
        rows = conn.execute("SELECT case_id, progress, change, runs_seen, first_seen FROM cycle.findings_cases "
                            "ORDER BY case_id").fetchall()
        found = conn.execute("SELECT count(*) FROM cycle.findings").fetchone()[0]
    assert found == 3
    assert [r[0] for r in rows] == reg["case_id"].tolist()
    assert sorted(r[2] for r in rows) == sorted(reg["change"].tolist())
    assert {r[4] for r in rows} == {RUN1} and sorted(r[3] for r in rows) == ["1", "2", "2", "2"]
