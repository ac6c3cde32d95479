"""Bad monitoring-patch batches and survey series: bureau field names, GBK, several files, geographic CRS,
text dates; no id column, duplicate ids, reversed dates, patches outside every village, vintages without a year."""

from __future__ import annotations

import geopandas as gpd
import pyogrio

from tests.badinput.helpers import (VILLAGE_B, base_layers, findings, ok, one_error, quality, run_check,
                                    write_district)
from tests.builders import frame, square

LAYERS = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse", "buildings"))


def _batch(rows) -> gpd.GeoDataFrame:
    return frame([dict(r) for r in rows])


def _write_shp(f: gpd.GeoDataFrame, path, encoding="GBK"):
    pyogrio.write_dataframe(f, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)


def test_gbk_batch_in_two_geographic_shapefiles_with_bureau_names_and_text_dates(tmp_path):
    data = write_district(tmp_path / "d")
    one = _batch([{"JCBH": "卫片001", "TBLX": "建/构筑物", "QSX": "2026年1月", "HSX": "2026年7月", "PC": "2026Q3",
                   "TBMJ": 400.0, "geometry": square(200, 100, 20)}]).to_crs(4490)
    two = _batch([{"JCBH": "卫片002", "TBLX": "推堆土", "QSX": "20260101", "HSX": "20260715", "PC": "2026Q3",
                   "TBMJ": 100.0, "geometry": square(300, 100, 10)},
                  {"JCBH": "卫片003", "TBLX": "硬化", "QSX": "2026-01-01", "HSX": "2026-07-15", "PC": "2026Q3",
                   "TBMJ": 100.0, "geometry": square(-300, 100, 10)}]).to_crs(4490)
    _write_shp(one, data / "wp_a.shp")
    _write_shp(two, data / "wp_b.shp")
    toml = LAYERS + '[layers.monitoring_patches]\npath = ["wp_a.shp", "wp_b.shp"]\n'
    (data / "landguard.toml").write_text(toml, encoding="utf-8")
    res = run_check(data, tmp_path / "out", rules=("FARM-PATCH", "FARM-DIG"))
    ok(res)
    f = findings(tmp_path / "out")
    patch = f[f["rule_id"] == "FARM-PATCH"].set_index("subject_id")
    assert patch["judgement"].to_dict() == {"卫片001": "违法", "卫片002": "违法", "卫片003": "其他"}
    assert patch.loc["卫片001", "area_m2"] == __import__("pytest").approx(400.0, rel=1e-3)
    assert patch.loc["卫片001", "dated_by"] == "卫片后时相2026-07-01"
    assert "第2026Q3批" in patch.loc["卫片001", "message"]
    dig = f[f["rule_id"] == "FARM-DIG"]
    assert dig["subject_id"].tolist() == ["卫片002"] and dig["village_id"].tolist() == [VILLAGE_B]


def test_batch_without_an_id_column_is_one_error(tmp_path):
    layers = base_layers()
    layers["monitoring_patches"] = _batch([{"TBLX": "硬化", "HSX": "2026-07-15", "geometry": square(200, 100, 20)}])
    data = write_district(tmp_path / "d", layers,
                          toml=LAYERS + '[layers.monitoring_patches]\npath = "monitoring_patches.gpkg"\n')
    res = run_check(data, tmp_path / "out", rules=("FARM-PATCH",))
    one_error(res, "monitoring_patches.gpkg", "patch_id", "columns")


def test_duplicate_ids_reversed_dates_and_patches_outside_are_noted(tmp_path):
    layers = base_layers()
    layers["monitoring_patches"] = _batch([
        {"JCBH": "W1", "QSX": "2026-07-15", "HSX": "2026-01-15", "geometry": square(200, 100, 20)},
        {"JCBH": "W1", "QSX": "2026-01-15", "HSX": "2026-07-15", "geometry": square(300, 100, 20)},
        {"JCBH": "W9", "QSX": "2026-01-15", "HSX": "2026-07-15", "geometry": square(5000, 5000, 20)}])
    data = write_district(tmp_path / "d", layers,
                          toml=LAYERS + '[layers.monitoring_patches]\npath = "monitoring_patches.gpkg"\n')
    res = run_check(data, tmp_path / "out", rules=("FARM-PATCH",))
    ok(res)
    notes = quality(tmp_path / "out")["notes"]
    assert sorted(findings(tmp_path / "out")["subject_id"]) == ["W1", "W1#2"]
    assert any("编号 patch_id 重复" in n and "W1" in n for n in notes)
    assert any("after_date（HSX）早于前时相" in n and "W1" in n for n in notes)
    assert any("不在任何行政村范围内" in n and "W9" in n for n in notes)


def test_history_vintage_without_a_year_is_one_error_and_a_year_in_the_name_is_used(tmp_path):
    layers = base_layers()
    vint = frame([{"DLBM": "0103", "geometry": square(0, -500, 500, 1000)}])
    data = write_district(tmp_path / "d", layers)
    vint.to_file(data / "vintage.gpkg")
    vint.to_file(data / "bgdc_2018.gpkg")
    (data / "landguard.toml").write_text(LAYERS + '[layers.landuse_history]\npath = ["vintage.gpkg"]\n',
                                         encoding="utf-8")
    one_error(run_check(data, tmp_path / "out"), "vintage.gpkg", "survey_year")
    (data / "landguard.toml").write_text(LAYERS + '[layers.landuse_history]\npath = ["bgdc_2018.gpkg"]\n',
                                         encoding="utf-8")
    res = run_check(data, tmp_path / "out2")
    ok(res)
    f = findings(tmp_path / "out2")
    assert f["dated_by"].tolist() == ["2018年度变更调查仍为耕地"] and f["status"].tolist() == ["new"]
    assert any("bgdc_2018.gpkg" in n and "按文件名取 2018 年" in n for n in quality(tmp_path / "out2")["notes"])


def test_summary_counts_the_batch_per_township(tmp_path):
    from tests.badinput.helpers import summary_text

    layers = base_layers()
    layers["monitoring_patches"] = _batch([
        {"JCBH": "W1", "PC": "2026Q3", "HSX": "2026-07-15", "geometry": square(200, 100, 20)},
        {"JCBH": "W2", "PC": "2026Q3", "HSX": "2026-07-15", "geometry": square(-300, 100, 20)}])
    data = write_district(tmp_path / "d", layers,
                          toml=LAYERS + '[layers.monitoring_patches]\npath = "monitoring_patches.gpkg"\n')
    ok(run_check(data, tmp_path / "out", rules=("FARM-PATCH",)))
    text = summary_text(tmp_path / "out")
    assert "执法卫片图斑（按批次、乡镇）：" in text
    assert "2026Q3 金海湖镇：图斑 2 个；合法 0 个 0.00亩，违法 1 个 0.60亩，其他 1 个 0.60亩，待核查 0 个 0.00亩" in text
