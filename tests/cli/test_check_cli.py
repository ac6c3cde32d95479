import geopandas as gpd
import pyogrio
import shapely
from click.testing import CliRunner

from landguard.cli.main import cli
from tests.builders import frame, square


def small_gpkg(path, *, with_parcels=True):
    v = frame([{"village_id": "110117104201", "name": "东店村", "township": "金海湖镇", "geometry": square(-500, -500, 1000)}])
    v.to_crs(4490).to_file(path, layer="villages")                    # stored in lon/lat on purpose
    frame([{"dlbm": "0702", "geometry": square(-500, -500, 500, 1000)},
           {"dlbm": "0103", "geometry": square(0, -500, 500, 1000)}]).to_file(path, layer="landuse")
    if with_parcels:
        frame([{"parcel_id": "P1", "owner_id": "11010519491231002X", "geometry": square(-30, 0, 13)},
               {"parcel_id": "P2", "owner_id": "110105491231002", "geometry": square(-60, 0, 13)},
               {"parcel_id": "P3", "owner_id": "110105194912310021", "geometry": square(-90, 0, 13)}]).to_file(path, layer="parcels")
    bowtie = shapely.affinity.translate(shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), 508100, 4443100)
    frame([{"building_id": "B1", "geometry": square(-28, 2, 10)},
           {"building_id": "B2", "geometry": square(10, 10, 10)},        # on farmland
           {"building_id": "B3", "geometry": square(-58, 2, 10, 11.3)},   # 0.3 m over its parcel
           {"building_id": "B4", "geometry": bowtie}]).to_file(path, layer="buildings")
    return path


def test_check_with_canonical_gpkg_and_no_config(tmp_path):
    data = small_gpkg(tmp_path / "district.gpkg")
    before = data.read_bytes()
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 0, res.output
    found = pyogrio.read_dataframe(tmp_path / "out" / "findings.gpkg")
    assert sorted(zip(found["rule_id"], found["subject_id"])) == [
        ("FARM-BUILD", "B2"), ("FARM-BUILD", "B4"), ("HOME-MULTI", "P1"), ("SET-OUTSIDE", "B3")]
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "证件号码校验失败 1 条" in summary and "P3" in summary
    assert "110105194912310021" not in summary        # never in clear
    assert "修复无效几何 1" in summary                  # the bow-tie
    assert "FARM-GREEN" in summary and "跳过" in summary
    assert data.read_bytes() == before                  # inputs are read-only


def test_missing_required_layer_is_one_line(tmp_path):
    data = small_gpkg(tmp_path / "district.gpkg", with_parcels=False)
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "required layer 'parcels'" in lines[0] and "Traceback" not in res.output


def test_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "landguard.toml"
    cfg.write_text("[limits]\ncoverage_max = 2\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["check", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "limits.coverage_max" in lines[0] and str(cfg) in lines[0]


def test_out_refuses_a_foreign_non_empty_folder(tmp_path):
    data = small_gpkg(tmp_path / "district.gpkg")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(foreign), "-q"])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (foreign / "notes.txt").read_text() == "keep me"
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(foreign), "-q", "--overwrite"])
    assert res.exit_code == 0, res.output


def test_unknown_rule_id(tmp_path):
    data = small_gpkg(tmp_path / "district.gpkg")
    res = CliRunner().invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "o"), "--rule", "FARM-BILD"])
    assert res.exit_code == 2 and "FARM-BILD" in res.output


def test_previous_run_marks_new_ongoing_and_rectified(tmp_path):
    data = small_gpkg(tmp_path / "district.gpkg")
    runner = CliRunner()
    assert runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "m1"), "-q"]).exit_code == 0
    # next month: building B2 (on farmland) has been demolished
    b = pyogrio.read_dataframe(data, layer="buildings")
    pyogrio.write_dataframe(b[b["building_id"] != "B2"], data, layer="buildings")
    res = runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "m2"), "-q",
                              "--previous", str(tmp_path / "m1" / "findings.gpkg")])
    assert res.exit_code == 0, res.output
    changes = pyogrio.read_dataframe(tmp_path / "m2" / "findings.gpkg", layer="changes")
    gone = changes[changes["change"] == "已整改"]
    assert list(zip(gone["rule_id"], gone["subject_id"])) == [("FARM-BUILD", "B2")]
    assert set(changes.loc[changes["change"] != "已整改", "change"]) == {"持续"}
    assert "已整改 1 条" in (tmp_path / "m2" / "summary.txt").read_text(encoding="utf-8")


def test_unexpected_errors_are_one_line_unless_debug():
    import click

    @click.command("boom")
    def boom():
        raise ZeroDivisionError("division by zero")

    cli.add_command(boom)
    try:
        res = CliRunner().invoke(cli, ["boom"])
        assert res.exit_code == 3
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and "ZeroDivisionError" in lines[0] and "--debug" in lines[0]
        res = CliRunner().invoke(cli, ["--debug", "boom"])
        assert isinstance(res.exception, ZeroDivisionError)
    finally:
        cli.commands.pop("boom")
