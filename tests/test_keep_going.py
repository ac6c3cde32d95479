"""One village whose data a rule cannot handle does not stop the run (issue: keep going / --fail-fast)."""

from __future__ import annotations

import json

import pyogrio
import pytest
from click.testing import CliRunner

from analyses.registry import RULES
from analyses.setback import set_outside
from landguard.cli.main import cli
from tests.builders import frame, square


@pytest.fixture
def brittle_set_outside():
    """SET-OUTSIDE made to fail on one village's data (a building id its code cannot take), then restored."""
    real = RULES["SET-OUTSIDE"]

    def brittle(ctx):
        if (ctx["buildings"]["building_id"] == "BROKEN").any():
            raise ValueError("building BROKEN: footprint cannot be measured")
        return set_outside(ctx)

    RULES["SET-OUTSIDE"] = type(real)(**{**real.__dict__, "func": brittle})
    yield
    RULES["SET-OUTSIDE"] = real


def two_village_gpkg(path):
    # two villages 4 km apart, so that each one's region holds none of the other's features
    frame([{"village_id": "V1", "name": "东村", "township": "甲镇", "geometry": square(-3000, -500, 1000)},
           {"village_id": "V2", "name": "西村", "township": "甲镇", "geometry": square(2000, -500, 1000)}]
          ).to_file(path, layer="villages")
    frame([{"dlbm": "0702", "geometry": square(-3000, -500, 1000)},
           {"dlbm": "0702", "geometry": square(2000, -500, 1000)}]).to_file(path, layer="landuse")
    frame([{"parcel_id": "P1", "geometry": square(-2500, 0, 13)},
           {"parcel_id": "P2", "geometry": square(2500, 0, 13)}]).to_file(path, layer="parcels")
    frame([{"building_id": "B1", "geometry": square(-2498, 2, 10, 11.3)},     # 0.3 m outside P1, in V1
           {"building_id": "BROKEN", "geometry": square(2502, 2, 10, 11.3)}]  # same case in V2
          ).to_file(path, layer="buildings")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failing_village_is_listed_and_the_rest_is_kept(tmp_path, brittle_set_outside, jobs):
    data = two_village_gpkg(tmp_path / "d.gpkg")
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "out"), "-q", "--jobs", jobs])
    assert res.exit_code == 4, res.output
    assert "partial run" in res.output
    found = pyogrio.read_dataframe(tmp_path / "out" / "findings.gpkg")
    assert list(zip(found["rule_id"], found["subject_id"])) == [("SET-OUTSIDE", "B1")]   # V1's case is kept
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["partial"] is True
    assert list(summary["failures"]["SET-OUTSIDE"]) == ["V2"]
    assert "footprint cannot be measured" in summary["failures"]["SET-OUTSIDE"]["V2"]
    text = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "未全部完成" in text and "西村（V2）" in text


def test_fail_fast_stops_at_the_first_failure(tmp_path, brittle_set_outside):
    data = two_village_gpkg(tmp_path / "d.gpkg")
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "out"), "-q",
                                   "--jobs", "1", "--fail-fast"])
    assert res.exit_code == 3 and "footprint cannot be measured" in res.output
    assert not (tmp_path / "out" / "findings.gpkg").exists()


def test_a_healthy_run_is_not_partial(tmp_path):
    data = two_village_gpkg(tmp_path / "d.gpkg")
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    found = pyogrio.read_dataframe(tmp_path / "out" / "findings.gpkg")
    assert sorted(found.loc[found["rule_id"] == "SET-OUTSIDE", "subject_id"]) == ["B1", "BROKEN"]
