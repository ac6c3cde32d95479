"""The monthly cycle on the generated sample district: three dated runs with a verification round trip (a zip
with the field GeoPackage and EXIF photos) between them — cases new, continuing, rectified, closed out, overdue."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile

import pyogrio
import pytest
from click.testing import CliRunner

from analyses.register import read_register
from landguard.cli.main import cli
from landguard.sample import generate_sample
from tests.cycle.helpers import fill_returned, jpeg, lonlat_of

pytestmark = pytest.mark.e2e
RUN1, RUN2, RUN3 = "2026-01-10", "2026-02-20", "2026-08-01"


def _without(sample_dir, target, buildings: set[str]):
    """A copy of the sample whose buildings layer lacks ``buildings`` (demolished, or not yet built)."""
    shutil.copytree(sample_dir, target)
    gpkg = target / "district.gpkg"
    b = pyogrio.read_dataframe(gpkg, layer="buildings")
    pyogrio.write_dataframe(b[~b["building_id"].isin(buildings)], gpkg, layer="buildings", driver="GPKG")
    return target / "landguard.toml"


def _check(toml, project, day):
    res = CliRunner().invoke(cli, ["check", "--config", str(toml), "--project", str(project), "--as-of", day,
                                   "--rule", "FARM-BUILD", "--jobs", "1", "-q"])
    assert res.exit_code == 0, res.output
    return read_register(project / "cases.gpkg").set_index("subject_id")


def test_sample_district_three_runs_and_a_verification_with_photos(tmp_path):
    sample = tmp_path / "sample"
    generate_sample(sample)
    project = tmp_path / "项目"
    gone, fixed, later = "B002302", "B002301", "B002292"   # FARM-BUILD cases of the sample (truth.csv)
    reg = _check(_without(sample, tmp_path / "s1", {later}), project, RUN1)
    assert {gone, fixed} <= set(reg.index) and later not in reg.index
    assert set(reg["change"]) == {"新增"}

    res = CliRunner().invoke(cli, ["export", "--project", str(project)])
    assert res.exit_code == 0, res.output
    exports = project / "runs" / RUN1 / "exports"
    vid = reg.loc[gone, "village_id"]
    (gpkg,) = exports.glob(f"{vid}*.gpkg")
    back = tmp_path / "back"
    back.mkdir()
    shutil.copy(gpkg, back / gpkg.name)
    crs = pyogrio.read_info(project / "cases.gpkg", layer="cases")["crs"]
    jpeg(back / "DCIM" / "a.jpg", lonlat=lonlat_of(reg.loc[gone, "geometry"], crs, dx=10),
         taken=dt.datetime(2026, 1, 20, 10), direction=180)
    jpeg(back / "DCIM" / "b.jpg", lonlat=None, taken=dt.datetime(2026, 1, 21, 10))
    fill_returned(back / gpkg.name, {
        reg.loc[gone, "case_id"]: {"verified": "已整改", "verified_on": "2026-01-20", "photo": "DCIM/a.jpg"},
        reg.loc[fixed, "case_id"]: {"verified": "违法", "verified_on": "2026-01-21", "photo": "DCIM/b.jpg"}})
    z = tmp_path / "back.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in back.rglob("*"):
            zf.write(p, p.relative_to(back).as_posix())
    res = CliRunner().invoke(cli, ["verify", "--project", str(project), "--in", str(z)])
    assert res.exit_code == 0, res.output
    reg = read_register(project / "cases.gpkg").set_index("subject_id")
    assert reg.loc[gone, "photo_count"] == 1 and reg.loc[gone, "photo_flags"] == ""
    assert reg.loc[fixed, "photo_flags"] == "无定位"
    assert (project / reg.loc[gone, "photos"]).is_file()

    # run 2: the rectified house is gone, a new one appears
    reg = _check(_without(sample, tmp_path / "s2", {gone}), project, RUN2)
    assert (reg.loc[gone, "change"], reg.loc[gone, "progress"]) == ("已整改", "已销号")
    assert (reg.loc[fixed, "change"], reg.loc[fixed, "progress"]) == ("持续", "整改中")
    assert reg.loc[later, "change"] == "新增"
    # run 3: same data; cases past their first deadline and not rectified are overdue
    reg = _check(_without(sample, tmp_path / "s3", {gone}), project, RUN3)
    assert set(reg.loc[reg["last_seen"] == RUN3, "change"]) == {"持续"}
    assert reg.loc[fixed, "overdue"] == 1 and reg.loc[gone, "overdue"] == 0
    assert reg.loc[gone, "progress"] == "已销号" and reg.loc[gone, "closed_on"] == RUN2
    assert sorted(p.name for p in (project / "runs").iterdir()) == [RUN1, RUN2, RUN3]
