import geopandas as gpd
import pyogrio
import pytest
import shapely

from layers.config import LayerSource
from layers.readers import read_layer, sniff_dbf_encoding
from spatial.errors import CRSError, LayerError

NAMES = ["金海湖镇水源保护区", "峪口镇文物保护区"]


def write_gbk_shapefile(path, *, cpg: str | None = None, encoding="GBK"):
    frame = gpd.GeoDataFrame({"name": NAMES, "kind": ["water_source", "relic"]},
                             geometry=[shapely.box(508000, 4443000, 508100, 4443100),
                                       shapely.box(508200, 4443000, 508300, 4443100)], crs=4548)
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def test_gbk_shapefile_without_cpg_reads_as_chinese(tmp_path):
    shp = write_gbk_shapefile(tmp_path / "zones.shp")
    raw = shp.with_suffix(".dbf").read_bytes()
    assert NAMES[0].encode("gbk") in raw and NAMES[0].encode("utf-8") not in raw
    assert sniff_dbf_encoding(shp) == "GBK"
    frame, _ = read_layer("protected_zones", LayerSource(path=str(shp)))
    assert frame["name"].tolist() == NAMES


def test_gbk_shapefile_with_a_wrong_utf8_cpg_still_reads(tmp_path):
    shp = write_gbk_shapefile(tmp_path / "zones.shp", cpg="UTF-8")
    frame, _ = read_layer("protected_zones", LayerSource(path=str(shp)))
    assert frame["name"].tolist() == NAMES


def test_encoding_override_and_fiona_engine(tmp_path):
    shp = write_gbk_shapefile(tmp_path / "zones.shp")
    for engine in ("pyogrio", "fiona"):
        frame, _ = read_layer("protected_zones", LayerSource(path=str(shp), encoding="gbk", engine=engine))
        assert frame["name"].tolist() == NAMES, engine


def test_utf8_shapefile(tmp_path):
    shp = write_gbk_shapefile(tmp_path / "zones.shp", encoding="UTF-8")
    assert sniff_dbf_encoding(shp) == "UTF-8"
    assert read_layer("protected_zones", LayerSource(path=str(shp)))[0]["name"].tolist() == NAMES


def test_bureau_field_names_are_recognised_and_typed(tmp_path):
    f = gpd.GeoDataFrame({"ZDDM": ["110117104201JC00001"], "QLRMC": ["张三"], "ZJHM": ["11010519491231002X"],
                          "PZRQ": ["2021/7/1"], "PZMJ": ["180.5"]},
                         geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    f.to_file(tmp_path / "zjd.gpkg", layer="ZJD")
    frame, notes = read_layer("parcels", LayerSource(path=str(tmp_path / "zjd.gpkg")))
    row = frame.iloc[0]
    assert row["parcel_id"] == "110117104201JC00001" and row["owner_name"] == "张三"
    assert str(row["approved_date"].date()) == "2021-07-01" and row["approved_area_m2"] == 180.5
    assert frame["household_id"].isna().all()


def test_explicit_column_mapping_and_missing_mapped_column(tmp_path):
    f = gpd.GeoDataFrame({"FWBM": ["F1"], "CS": [3]}, geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    f.to_file(tmp_path / "fw.gpkg")
    frame, _ = read_layer("buildings", LayerSource(path=str(tmp_path / "fw.gpkg"), columns={"building_id": "FWBM", "floors": "CS"}))
    assert frame["floors"].tolist() == [3]
    with pytest.raises(LayerError, match="column 'JZCS'.*not found"):
        read_layer("buildings", LayerSource(path=str(tmp_path / "fw.gpkg"), columns={"floors": "JZCS"}))


def test_numeric_codes_come_back_as_text(tmp_path):
    f = gpd.GeoDataFrame({"DLBM": [101.0, 1104.0]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4548)
    f.to_file(tmp_path / "lu.gpkg")
    frame, _ = read_layer("landuse", LayerSource(path=str(tmp_path / "lu.gpkg")))
    assert frame["dlbm"].tolist() == ["0101", "1104"]


def test_no_crs_needs_a_configured_one(tmp_path):
    f = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)])
    pyogrio.write_dataframe(f, tmp_path / "red.shp")
    with pytest.raises(CRSError, match=r"eco_redline .*no CRS.*crs ="):
        read_layer("eco_redline", LayerSource(path=str(tmp_path / "red.shp")))
    frame, _ = read_layer("eco_redline", LayerSource(path=str(tmp_path / "red.shp"), crs="EPSG:4527"))
    assert frame.crs.to_epsg() == 4527


def test_geojson_and_flatgeobuf(tmp_path):
    f = gpd.GeoDataFrame({"name": ["潮白河"], "kind": ["river"]}, geometry=[shapely.box(117.1, 40.1, 117.2, 40.2)], crs=4326)
    f.to_file(tmp_path / "w.geojson", driver="GeoJSON")
    f.to_file(tmp_path / "w.fgb", driver="FlatGeobuf")
    for name in ("w.geojson", "w.fgb"):
        frame, _ = read_layer("waters", LayerSource(path=str(tmp_path / name)))
        assert frame["name"].tolist() == ["潮白河"] and frame.crs.to_epsg() == 4326


def test_missing_file_and_ambiguous_layer(tmp_path):
    with pytest.raises(LayerError, match="file not found"):
        read_layer("parcels", LayerSource(path=str(tmp_path / "nope.gpkg")))
    f = gpd.GeoDataFrame({"parcel_id": ["P"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    f.to_file(tmp_path / "two.gpkg", layer="a")
    f.to_file(tmp_path / "two.gpkg", layer="b")
    with pytest.raises(LayerError, match="has layers a, b; set \\[layers.parcels\\] layer"):
        read_layer("parcels", LayerSource(path=str(tmp_path / "two.gpkg")))


def test_inputs_are_never_written(tmp_path):
    shp = write_gbk_shapefile(tmp_path / "zones.shp")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    read_layer("protected_zones", LayerSource(path=str(shp)))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
