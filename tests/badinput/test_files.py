"""Broken or mislabelled files: encodings, a truncated GeoPackage, a shapefile missing a part."""

from __future__ import annotations

import pyogrio
import pytest

from tests.badinput.helpers import (base_layers, farm_build, ok, one_error, quality, run_check, summary_text,
                                    write_district)


def villages_shapefile(tmp_path, *, encoding: str, cpg: str | None):
    """The district with its villages (Chinese names) as a shapefile in ``encoding`` with the given ``.cpg``."""
    layers = base_layers()
    data = write_district(tmp_path / "d", layers, villages=None)
    pyogrio.write_dataframe(layers["villages"], data / "villages.shp", encoding=encoding)
    (data / "villages.cpg").unlink(missing_ok=True)
    if cpg is not None:
        (data / "villages.cpg").write_text(cpg)
    raw = (data / "villages.dbf").read_bytes()
    assert "东店村".encode(encoding) in raw
    return data


def test_gbk_shapefile_without_cpg_reads_as_chinese_and_says_so(tmp_path):
    data = villages_shapefile(tmp_path, encoding="GBK", cpg=None)
    res = run_check(data, tmp_path / "out")
    ok(res)
    text = summary_text(tmp_path / "out")
    assert "金海湖镇 东店村（110117104201）" in text and "西店村" in text
    assert any("villages.shp：没有 .cpg 文件，已按属性内容识别为 GBK 编码读取" in n
               for n in quality(tmp_path / "out")["notes"])


def test_utf8_shapefile_with_a_wrong_cpg_reads_as_chinese_and_says_so(tmp_path):
    data = villages_shapefile(tmp_path, encoding="UTF-8", cpg="936")
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert "金海湖镇 东店村（110117104201）" in summary_text(tmp_path / "out")
    assert any(".cpg 声明的编码 936 与属性内容不符，已按 UTF-8 读取" in n for n in quality(tmp_path / "out")["notes"])


def test_gbk_shapefile_with_a_wrong_utf8_cpg_reads_as_chinese(tmp_path):
    data = villages_shapefile(tmp_path, encoding="GBK", cpg="UTF-8")
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert "东店村" in summary_text(tmp_path / "out")
    assert any("已按 GBK 读取" in n for n in quality(tmp_path / "out")["notes"])


def test_truncated_geopackage_given_as_data_is_one_error(tmp_path):
    layers = base_layers()
    whole = tmp_path / "district.gpkg"
    for role, f in layers.items():
        f.to_file(whole, layer=role)
    cut = tmp_path / "cut" / "district.gpkg"
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    res = run_check(cut, tmp_path / "out")
    one_error(res, "district.gpkg", "不完整", f"应有 {whole.stat().st_size} 字节", "请重新复制或导出该文件")
    assert not (tmp_path / "out" / "findings.gpkg").exists()


def test_truncated_geopackage_named_in_the_configuration_is_one_error(tmp_path):
    data = write_district(tmp_path / "d")
    (data / "landguard.toml").write_text(
        "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse", "buildings")),
        encoding="utf-8")
    f = data / "parcels.gpkg"
    f.write_bytes(f.read_bytes()[:50_000])
    res = run_check(data, tmp_path / "out")
    one_error(res, "parcels (parcels.gpkg)", "文件 parcels.gpkg 不完整")


def test_shapefile_missing_its_dbf_is_one_error(tmp_path):
    data = write_district(tmp_path / "d", buildings="buildings.shp")
    (data / "buildings.dbf").unlink()
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (", "缺少属性表文件 buildings.dbf", "请把 buildings.dbf 与 buildings.shp 一起复制过来")


def test_shapefile_missing_its_shx_is_one_error_and_nothing_is_written_beside_it(tmp_path):
    data = write_district(tmp_path / "d", buildings="buildings.shp")
    (data / "buildings.shx").unlink()
    before = sorted(p.name for p in data.iterdir())
    res = run_check(data, tmp_path / "out")
    one_error(res, "缺少索引文件 buildings.shx")
    assert sorted(p.name for p in data.iterdir()) == before      # GDAL was not asked to rebuild it in place


def test_truncated_shapefile_is_one_error(tmp_path):
    data = write_district(tmp_path / "d", buildings="buildings.shp")
    shp = data / "buildings.shp"
    shp.write_bytes(shp.read_bytes()[:-40])
    res = run_check(data, tmp_path / "out")
    one_error(res, "文件 buildings.shp 不完整")


def test_complete_shapefile_reads(tmp_path):
    data = write_district(tmp_path / "d", buildings="buildings.shp")
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


@pytest.mark.parametrize("role", ["villages", "parcels", "buildings", "landuse"])
def test_a_required_layer_with_no_feature_is_one_error_naming_it(tmp_path, role):
    layers = base_layers()
    layers[role] = layers[role].iloc[:0]
    data = write_district(tmp_path / "d", layers)
    assert pyogrio.read_info(data / f"{role}.gpkg", layer=role)["features"] == 0
    res = run_check(data, tmp_path / "out")
    one_error(res, f"{role} (", f"{role}.gpkg", "图层没有任何要素（0 个）", f"[layers.{role}] path")
    assert not (tmp_path / "out" / "findings.gpkg").exists()


def test_an_empty_optional_layer_is_fine(tmp_path):
    layers = base_layers()
    layers["approvals"] = base_layers()["parcels"].iloc[:0].rename(columns={"parcel_id": "approval_id"}).assign(
        kind=[])
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert farm_build(tmp_path / "out") == {"B2": 100.0}
