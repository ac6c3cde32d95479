"""The terminal for a large district (issue 18): a one-screen summary by township; --data next to a landguard.toml."""

from __future__ import annotations

from click.testing import CliRunner

from landguard.cli.main import cli


def test_check_console_fits_one_screen_and_names_every_township(sample_dir, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["check", "--config", str(sample_dir / "landguard.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) <= 40, res.output
    import geopandas as gpd

    villages = gpd.read_file(sample_dir / "district.gpkg", layer="villages")
    towns = sorted(set(villages["township"].dropna()))
    assert len(towns) >= 2 and all(any(line.strip().startswith(t) for line in lines) for t in towns)
    total = next(line for line in lines if line.strip().startswith("合计"))
    n = len(gpd.read_file(out / "findings.gpkg", layer="findings"))
    assert total.split()[-1] == str(n)                                   # the totals add up to the findings
    assert "数据质量" in res.output and "跳过" in res.output
    # no per-village line on the console; every village's line in summary.txt
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    for vid in villages["village_id"]:
        assert f"（{vid}）" in summary and f"（{vid}）" not in res.output


def test_data_file_named_by_the_landguard_toml_beside_it_uses_that_configuration(sample_dir, sample_check, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["check", "--data", str(sample_dir / "district.gpkg"), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert "使用同一文件夹的配置" in res.output and "landguard.toml" in res.output
    import geopandas as gpd

    found = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert len(found) == len(sample_check.findings)                   # nothing lost against --config
    assert set(found["rule_id"]) == set(sample_check.findings["rule_id"])


def test_data_file_not_named_by_the_toml_beside_it_says_what_the_toml_would_add(sample_dir, tmp_path):
    import shutil

    from layers.config import config_for_data, data_config_hint

    data = tmp_path / "district.gpkg"
    shutil.copy(sample_dir / "district.gpkg", data)
    (tmp_path / "landguard.toml").write_text(
        f'[layers.villages]\npath = "{(sample_dir / "district.gpkg").as_posix()}"\nlayer = "villages"\n\n'
        f'[layers.protected_zones]\npath = "{(sample_dir / "shp" / "protected_zones.shp").as_posix()}"\n'
        f'encoding = "gbk"\n\n[rasters]\nndsm = "{(sample_dir / "rasters" / "ndsm.tif").as_posix()}"\n',
        encoding="utf-8")
    cfg = config_for_data(data)
    assert "protected_zones" not in cfg.layers and "parcels" in cfg.layers  # --data alone, as asked
    hint = data_config_hint(data)
    assert hint is not None and len(hint.splitlines()) == 1
    assert "protected_zones" in hint and "ndsm" in hint and f"--config {tmp_path / 'landguard.toml'}" in hint
    assert "villages" not in hint.split("配置了")[1].split("，")[0]      # what --data has already is not listed
    assert data_config_hint(data, config=tmp_path / "landguard.toml") is None
    (tmp_path / "landguard.toml").unlink()
    assert data_config_hint(data) is None
