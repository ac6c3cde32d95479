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
