import pytest

from layers.config import config_for_data, load_config
from spatial.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "landguard.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_shaped_config_loads_with_township_overrides(tmp_path):
    cfg = load_config(write(tmp_path, '''
[project]
name = "平谷区"
as_of = "2026-11-22"
[layers.parcels]
path = "data/宅基地.gpkg"
layer = "ZJD"
columns = { parcel_id = "ZDDM", owner_id = "ZJHM" }
[layers.eco_redline]
path = "data/红线.shp"
crs = "EPSG:4527"
encoding = "gbk"
engine = "fiona"
[limits]
min_overlap_m2 = 2.0
green_belt_m = { default = 5.0, county = 3.0, township = 3.0 }
[townships."金海湖镇".limits]
coverage_max = 0.70
[maps]
tianditu_tk = "${LG_TEST_TK}"
'''))
    assert cfg.layers["parcels"].resolved_path() == str((tmp_path / "data/宅基地.gpkg").resolve())
    limits = cfg.limit_set()
    assert limits.per_row("coverage_max", ["金海湖镇", "峪口镇"]).tolist() == [0.70, 0.75]
    assert limits.per_row("min_overlap_m2", ["金海湖镇"]).tolist() == [2.0]   # inherits the district's
    assert str(cfg.project.as_of) == "2026-11-22"


@pytest.mark.parametrize("text, expected", [
    ("[limits]\ncoverage_max = 1.5\n", r"\[limits.coverage_max\] Input should be less than or equal to 1"),
    ("[limits]\ncoverage = 0.7\n", r"\[limits.coverage\] unknown key"),
    ("[layers.parcel]\npath = 'x.shp'\n", r"unknown role 'parcel'"),
    ("[layers.parcels]\npath = 'x.shp'\ncolumns = { owner = 'QLR' }\n", r"'owner' is not a column of role 'parcels'"),
    ("[layers.parcels]\npath = 'x.shp'\nengine = 'arcpy'\n", r"\[layers.parcels.engine\]"),
    ("[townships.\"金海湖镇\".limits]\ncoverage_max = 'x'\n", r"townships.金海湖镇.limits.coverage_max"),
    ("[limits\n", r"not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_folder_with_canonical_names_needs_no_config(tmp_path):
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame({"village_id": ["V"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(tmp_path / "d.gpkg", layer="villages")
    gpd.GeoDataFrame({"parcel_id": ["P"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(tmp_path / "parcels.shp")
    (tmp_path / "ndsm.tif").write_bytes(b"")
    cfg = config_for_data(tmp_path)
    assert sorted(cfg.layers) == ["parcels", "villages"] and "ndsm" in cfg.rasters


def test_township_tables_merge_with_the_districts(tmp_path):
    cfg = load_config(write(tmp_path, '''
[limits]
green_belt_m = { default = 5.0, county = 3.0, township = 3.0 }
[townships."峪口镇".limits]
green_belt_m = { county = 2.0 }
cemetery_road_grades = ["expressway"]
'''))
    limits = cfg.limit_set()
    belts = limits.per_row("green_belt_m", ["峪口镇", "金海湖镇"])
    assert belts[0].width_for("county") == 2.0 and belts[0].width_for("provincial") == 5.0
    assert belts[1].width_for("county") == 3.0
    assert limits.per_row("cemetery_road_grades", ["峪口镇", None])[0] == ["expressway"]
    assert "county" in limits.per_row("cemetery_road_grades", ["峪口镇", None])[1]


def test_limits_must_be_finite_in_the_district_and_in_townships(tmp_path):
    with pytest.raises(ConfigError, match=r"\[limits\.coverage_max\] 应为有限数值"):
        load_config(write(tmp_path, "[limits]\ncoverage_max = nan\n"))
    with pytest.raises(ConfigError, match=r"\[townships\.甲镇\.limits\.min_overlap_m2\] 应为有限数值.*got inf"):
        load_config(write(tmp_path, '[townships."甲镇".limits]\nmin_overlap_m2 = inf\n'))


def test_extra_grades_of_green_belt_are_validated_and_used(tmp_path):
    cfg = load_config(write(tmp_path, "[limits]\ngreen_belt_m = { village = 2 }\n"))
    assert cfg.limits.green_belt_m.width_for("village") == 2.0 and cfg.limits.green_belt_m.width_for("x") == 0.0
    with pytest.raises(ConfigError, match=r"\[limits\.green_belt_m\.village\]"):
        load_config(write(tmp_path, '[limits]\ngreen_belt_m = { village = "wide" }\n'))


def test_a_byte_order_mark_is_dropped(tmp_path):
    p = tmp_path / "landguard.toml"
    p.write_bytes(b"\xef\xbb\xbf" + '[project]\nname = "平谷区"\n'.encode("utf-8"))
    assert load_config(p).project.name == "平谷区"
