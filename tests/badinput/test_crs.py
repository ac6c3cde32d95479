"""CRS problems: no CRS, a CRS that does not fit the numbers, swapped axes."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pyogrio
import pytest
import shapely

from tests.badinput.helpers import (base_layers, farm_build, ok, one_error, quality, run_check, summary,
                                    summary_text, swap_xy, write_district)


def spoilt_buildings(spoil) -> dict[str, gpd.GeoDataFrame]:
    layers = base_layers()
    layers["buildings"] = spoil(layers["buildings"])
    return layers


def test_layer_without_crs_is_one_error_naming_file_and_key_then_the_key_works(tmp_path):
    layers = base_layers()
    data = write_district(tmp_path / "d", layers, buildings="buildings.shp")
    (data / "buildings.prj").unlink()
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (", "buildings.shp", "没有坐标系", '[layers.buildings] crs = "EPSG:....', ".prj")
    toml = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse"))
    toml += '[layers.buildings]\npath = "buildings.shp"\ncrs = "EPSG:4548"\n'
    (data / "landguard.toml").write_text(toml, encoding="utf-8")
    res = run_check(data, tmp_path / "out2")
    ok(res)
    assert farm_build(tmp_path / "out2") == {"B2": 100.0}


def test_degree_crs_with_metre_numbers_is_read_in_the_other_layers_crs(tmp_path):
    layers = spoilt_buildings(lambda b: b.set_crs(4490, allow_override=True))      # a wrong .prj
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["crs_replaced"] == 3
    assert any("buildings" in n and "EPSG:4490" in n and "已按 EPSG:4548 读取" in n for n in q["notes"])
    assert "坐标系与坐标值不符、已更正 3" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_degree_crs_with_zone_prefixed_eastings_is_read_in_that_zone(tmp_path):
    # zone 39 eastings (39 508 000) in a file that says CGCS2000 degrees
    layers = spoilt_buildings(lambda b: b.to_crs(4527).set_crs(4490, allow_override=True))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["crs_replaced"] == 3
    assert any("已按 EPSG:4527 读取" in n for n in q["notes"])
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_metre_crs_with_degree_numbers_is_read_as_degrees(tmp_path):
    layers = spoilt_buildings(lambda b: b.to_crs(4490).set_crs(4548, allow_override=True))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["crs_replaced"] == 3
    assert any("像是经纬度" in n and "已按 EPSG:4490 读取" in n for n in q["notes"])
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_latitude_longitude_swapped_is_swapped_back_and_counted(tmp_path):
    layers = spoilt_buildings(lambda b: gpd.GeoDataFrame(b.drop(columns="geometry"),
                                                         geometry=swap_xy(b.to_crs(4490).geometry), crs=4490))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert q["layers"]["buildings"]["axes_swapped"] == 3
    assert "坐标轴顺序颠倒、已互换 3" in summary_text(tmp_path / "out")
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_northing_easting_swapped_is_swapped_back_and_counted(tmp_path):
    layers = spoilt_buildings(lambda b: gpd.GeoDataFrame(b.drop(columns="geometry"),
                                                         geometry=swap_xy(b.geometry), crs=4548))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["axes_swapped"] == 3
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_crs_set_in_the_configuration_that_does_not_fit_is_one_error(tmp_path):
    # the user insists the metre numbers are degrees: we do not second-guess, we say so
    data = write_district(tmp_path / "d")
    toml = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse"))
    toml += '[layers.buildings]\npath = "buildings.gpkg"\ncrs = "EPSG:4490"\n'
    (data / "landguard.toml").write_text(toml, encoding="utf-8")
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (buildings.gpkg)", '配置的 [layers.buildings] crs = "EPSG:4490"', "与坐标值不符",
              "像是以米为单位的投影坐标")


def test_numbers_no_crs_can_hold_are_one_error(tmp_path):
    # eastings of 9 000 km in a Gauss-Krüger layer: neither it, swapped, nor any other reading fits
    layers = spoilt_buildings(lambda b: b.set_geometry(b.geometry.translate(9_000_000_000, 0)))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    one_error(res, "buildings (", "文件声明的坐标系 EPSG:4548 与坐标值不符", "[layers.buildings] crs")


@pytest.mark.parametrize("epsg", [4549, 4527])
def test_a_layer_in_another_layers_crs_by_mistake_is_put_back(tmp_path, epsg):
    # numbers of EPSG:4548 in a file labelled with the next zone (4549) or the zone-prefixed 4527
    layers = spoilt_buildings(lambda b: b.set_crs(epsg, allow_override=True))
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert quality(tmp_path / "out")["layers"]["buildings"]["crs_replaced"] == 3
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_file_with_a_crs_but_the_configuration_overrides_it(tmp_path):
    data = write_district(tmp_path / "d", spoilt_buildings(lambda b: b.set_crs(4549, allow_override=True)))
    toml = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse"))
    toml += '[layers.buildings]\npath = "buildings.gpkg"\ncrs = "EPSG:4548"\n'
    (data / "landguard.toml").write_text(toml, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pyogrio.read_info(data / "buildings.gpkg")["crs"] == "EPSG:4549"
    res = run_check(data, tmp_path / "out")
    ok(res)
    q = quality(tmp_path / "out")
    assert "crs_replaced" not in q["layers"]["buildings"]
    assert any("按配置 [layers.buildings] crs 使用 EPSG:4548（文件声明 EPSG:4549）" in n for n in q["notes"])
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_a_stray_feature_at_zero_zero_does_not_move_the_working_crs(tmp_path):
    layers = base_layers()
    b = layers["buildings"]
    b.loc[len(b)] = {"building_id": "B9", "geometry": shapely.box(0, 0, 10, 10)}       # 500 km off, at the equator
    data = write_district(tmp_path / "d", layers)
    res = run_check(data, tmp_path / "out")
    ok(res)
    s = summary(tmp_path / "out")
    assert s["working_crs"] == "EPSG:4548"
    assert s["quality"]["layers"]["buildings"]["outside_villages"] == 1
    assert farm_build(tmp_path / "out") == {"B2": 100.0}


def test_zone_prefixed_eastings_are_called_a_zone_prefix_not_swapped_axes():
    import geopandas as gpd
    import shapely

    from layers.quality import QualityReport
    from layers.sanity import check_layer_crs

    v = gpd.GeoDataFrame(geometry=[shapely.box(508000, 4443000, 509000, 4444000)], crs=4548)
    p = gpd.GeoDataFrame(geometry=[shapely.box(39508100, 4443100, 39508110, 4443110)], crs=4548)
    q = QualityReport()
    fixed = check_layer_crs({"villages": v, "parcels": p}, quality=q)
    assert fixed["parcels"].crs.to_epsg() == 4527
    assert "带号前缀" in q.notes[0] and "颠倒" not in q.notes[0]
