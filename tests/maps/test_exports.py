import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import fiona
import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from analyses.findings import concat_findings, finalise
from analyses.ledger import VERDICTS, VERIFICATION_COLUMNS
from analyses.registry import CATALOGUE
from maps.exports import GEOJSON_PROPERTIES, export_geojson, export_gpkg, export_kml, export_village
from maps.style import FAMILY_COLOURS as MAP_COLOURS, FAMILY_LABELS, SEVERITY_WEIGHTS
from spatial.errors import CRSError, LayerError, OutputError
from tests.builders import CRS, X0, Y0, frame, square

ID_A = "110117199001011234"
ID_B = "11011719850203456X"
ID_C = "110117850203456"  # 15 digits
VILLAGE, OTHER = "110117104201", "110117104202"


def _partial(rows):
    for r in rows:
        r.setdefault("village_id", VILLAGE)
        r.setdefault("village", "测试村")
        r.setdefault("township", "金海湖镇")
    return frame(rows)


@pytest.fixture
def findings():
    """Findings of all four families, in the working CRS: a ring with a hole drawn clockwise, a
    multipolygon, ID numbers and XML-hostile text in messages, missing figures."""
    outer = [(0, 0), (0, 40), (40, 40), (40, 0), (0, 0)]          # clockwise
    hole = [(10, 10), (20, 10), (20, 20), (10, 20), (10, 10)]      # counter-clockwise
    holed = shapely.affinity.translate(shapely.Polygon(outer, [hole]), X0, Y0)
    farm = finalise(CATALOGUE["FARM-BUILD"], _partial([
        {"subject_layer": "buildings", "subject_id": "B1", "status": "new", "geometry": holed,
         "message": f"权利人{ID_A}在耕地上建房 & <违法> “待核”"},
        {"subject_layer": "buildings", "subject_id": "B2", "status": "existing",
         "geometry": shapely.MultiPolygon([square(100, 0, 10), square(130, 0, 10)]),
         "message": "两处房屋占用耕地"},
        {"subject_layer": "buildings", "subject_id": "B9", "village_id": OTHER, "village": "邻村",
         "geometry": square(900, 900, 10), "message": "邻村的问题"},
    ]))
    home = finalise(CATALOGUE["HOME-MULTI"], _partial([
        {"subject_layer": "parcels", "subject_id": "P1", "related_ids": f"P1;P2;{ID_B}", "measured": 2,
         "limit": 1, "unit": "处", "severity": "high", "geometry": square(200, 0, 15),
         "message": f"户主{ID_B}与{ID_C}名下有2处宅基地"},
    ]), area=False)
    setback = finalise(CATALOGUE["SET-DRIP"], _partial([
        {"subject_layer": "buildings", "subject_id": "B3", "measured": 0.3, "limit": 0.5, "unit": "m",
         "severity": "low", "key": "east", "geometry": square(300, 0, 0.2, 10), "message": "滴水距离不足"},
    ]))
    siting = finalise(CATALOGUE["SITE-CEMETERY"], _partial([
        {"subject_layer": "cemeteries", "subject_id": "C1", "geometry": square(400, 0, 30),
         "message": "公墓距道路不足50米"},
    ]))
    return concat_findings([farm, home, setback, siting], crs=CRS)


@pytest.fixture
def parcels():
    return frame([
        {"parcel_id": "P1", "village_id": VILLAGE, "owner_name": "张三丰", "owner_id": ID_A,
         "approved_date": pd.Timestamp("2010-05-01"), "geometry": square(200, 0, 15)},
        {"parcel_id": "P2", "village_id": VILLAGE, "owner_name": "欧阳娜娜", "owner_id": ID_C,
         "approved_date": pd.NaT, "geometry": square(220, 0, 15)},
        {"parcel_id": "P9", "village_id": OTHER, "owner_name": "李四", "owner_id": ID_B,
         "approved_date": pd.NaT, "geometry": square(900, 900, 15)},
    ])


@pytest.fixture
def buildings():
    return frame([
        {"building_id": "B1", "village_id": VILLAGE, "owner_id": ID_A, "floors": 2, "geometry": square(0, 0, 40)},
        {"building_id": "B9", "village_id": OTHER, "owner_id": ID_B, "floors": 1, "geometry": square(900, 900, 10)},
    ])


# -- GeoJSON: RFC 7946 -----------------------------------------------------------------------------

_POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
_RING = {"type": "array", "minItems": 4, "items": _POSITION}
_NO_CRS = {"not": {"required": ["crs"]}}


def _geometry(kind, coordinates):
    return {"type": "object", "required": ["type", "coordinates"], "allOf": [_NO_CRS],
            "properties": {"type": {"const": kind}, "coordinates": coordinates}}


_GEOMETRIES = [
    _geometry("Point", _POSITION),
    _geometry("MultiPoint", {"type": "array", "items": _POSITION}),
    _geometry("LineString", {"type": "array", "minItems": 2, "items": _POSITION}),
    _geometry("MultiLineString", {"type": "array", "items": {"type": "array", "minItems": 2, "items": _POSITION}}),
    _geometry("Polygon", {"type": "array", "items": _RING}),
    _geometry("MultiPolygon", {"type": "array", "items": {"type": "array", "items": _RING}}),
]
#: RFC 7946 §3: FeatureCollection of Features; geometry objects or null; properties object or null;
#: id a string or number; no "crs" member anywhere (§4 removed it).
RFC7946 = {
    "type": "object",
    "required": ["type", "features"],
    "allOf": [_NO_CRS],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "bbox": {"type": "array", "minItems": 4},
        "features": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "allOf": [_NO_CRS],
            "properties": {
                "type": {"const": "Feature"},
                "id": {"type": ["string", "number"]},
                "properties": {"type": ["object", "null"]},
                "geometry": {"oneOf": [{"type": "null"}, *_GEOMETRIES,
                                       {"type": "object", "required": ["type", "geometries"],
                                        "properties": {"type": {"const": "GeometryCollection"},
                                                       "geometries": {"type": "array", "items": {"oneOf": _GEOMETRIES}}}}]},
            },
        }},
    },
}


def _signed_area(ring):
    xy = np.asarray(ring, dtype=float)
    return 0.5 * np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1])


def _polygons(geometry):
    if geometry is None:
        return []
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    if geometry["type"] == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in _polygons(g)]
    return []


def _leaves(geometry):
    """Every coordinate number of a geometry, as written."""
    if geometry is None:
        return
    parts = geometry.get("geometries", [])
    stack = [geometry["coordinates"]] if "coordinates" in geometry else []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            yield item
    for part in parts:
        yield from _leaves(part)


def assert_rfc7946(path):
    """Validate a GeoJSON file against RFC 7946, not just 'it parses'."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")                                  # §11: UTF-8
    assert not raw.startswith(b"\xef\xbb\xbf")                  # no byte order mark
    doc = json.loads(text)
    jsonschema.validate(doc, RFC7946)
    numbers = json.loads(text, parse_float=lambda s: s)         # the coordinates as written
    for feature in numbers["features"]:
        for number in _leaves(feature["geometry"]):             # §11.2: 7 decimals at most
            assert re.fullmatch(r"-?[0-9]+(\.[0-9]{1,7})?", str(number)), number
    for feature in doc["features"]:
        for polygon in _polygons(feature["geometry"]):
            for i, ring in enumerate(polygon):
                assert ring[0] == ring[-1]                      # closed
                area = _signed_area(ring)                       # §3.1.6: right-hand rule
                assert (area > 0) if i == 0 else (area < 0), (feature["id"], i, area)
                lon, lat = np.asarray(ring).T                   # §4: WGS84 lon/lat, in that order
                assert np.all((116 < lon) & (lon < 118)) and np.all((39 < lat) & (lat < 41))
    return doc


def test_geojson_is_rfc7946(tmp_path, findings):
    doc = assert_rfc7946(export_geojson(findings, tmp_path / "f.geojson"))
    assert len(doc["features"]) == len(findings)
    assert [f["id"] for f in doc["features"]] == findings["case_id"].tolist()
    holed = doc["features"][findings["subject_id"].tolist().index("B1")]["geometry"]
    assert holed["type"] == "MultiPolygon" and len(holed["coordinates"][0]) == 2  # the hole is kept, clockwise
    assert {f["geometry"]["type"] for f in doc["features"]} == {"MultiPolygon"}  # one type in the collection


def test_geojson_coordinates_are_the_findings(tmp_path, findings):
    doc = json.loads(export_geojson(findings, tmp_path / "f.geojson").read_text(encoding="utf-8"))
    back = gpd.GeoDataFrame.from_features(doc, crs=4326).to_crs(CRS)
    # 7 decimals are about 1 cm: areas and positions come back to within a few cm
    assert np.allclose(back.area, findings.area, rtol=1e-3, atol=0.05)
    assert np.allclose(back.centroid.x, findings.centroid.x, atol=0.05)
    assert np.allclose(back.centroid.y, findings.centroid.y, atol=0.05)


def test_geojson_properties_are_what_a_field_app_shows(tmp_path, findings):
    path = export_geojson(findings, tmp_path / "f.geojson")
    text = path.read_text(encoding="utf-8")
    assert "乱占耕地建房" in text and "\\u" not in text         # Chinese as is, not escaped
    doc = json.loads(text)
    props = {f["properties"]["subject_id"]: f["properties"] for f in doc["features"]}
    assert all(list(p) == GEOJSON_PROPERTIES for p in props.values())
    assert props["B3"]["measured"] == 0.3 and props["B3"]["limit"] == 0.5 and props["B3"]["unit"] == "m"
    assert props["B3"]["severity"] == "低" and props["B1"]["status"] == "新增问题"
    assert props["B1"]["measured"] is None                      # missing is null, never NaN
    assert props["P1"]["message"] == "户主110117********456X与110117*****3456名下有2处宅基地"
    assert props["B2"]["area_m2"] == 200.0


def test_empty_findings_give_a_valid_empty_collection(tmp_path, findings):
    doc = assert_rfc7946(export_geojson(findings.iloc[:0], tmp_path / "e.geojson"))
    assert doc["features"] == []


# -- GeoPackage ------------------------------------------------------------------------------------


def test_gpkg_opens_with_pyogrio_and_fiona_with_verification_columns(tmp_path, findings, parcels, buildings):
    path = export_gpkg(findings, tmp_path / "v.gpkg", parcels=parcels, buildings=buildings)
    # layer_styles: the QGIS default form (photo as an attachment field), read by QGIS, QField, Mergin Maps
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["buildings", "findings", "layer_styles", "parcels"]
    f = pyogrio.read_dataframe(path, layer="findings")
    assert f.crs.to_epsg() == 4326 and len(f) == len(findings)
    assert f["case_id"].tolist() == findings["case_id"].tolist()
    assert all(f[c].isna().all() for c in VERIFICATION_COLUMNS)
    with fiona.open(path, layer="findings") as src:
        assert len(src) == len(findings)
        assert all(src.schema["properties"][c].startswith("str") for c in VERIFICATION_COLUMNS)
    for layer, source in (("parcels", parcels), ("buildings", buildings)):
        with fiona.open(path, layer=layer) as src:
            assert len(src) == len(source)
    # the verdicts are offered as a value list (GeoPackage schema extension)
    with sqlite3.connect(path) as con:
        values = {v for (v,) in con.execute("SELECT value FROM gpkg_data_column_constraints "
                                            "WHERE constraint_name = 'verified_values'")}
        linked = con.execute("SELECT constraint_name, title FROM gpkg_data_columns "
                             "WHERE table_name = 'findings' AND column_name = 'verified'").fetchone()
    assert values == set(VERDICTS) and linked == ("verified_values", "核查结论")


def test_gpkg_masks_owners_unless_full_names(tmp_path, findings, parcels):
    masked = pyogrio.read_dataframe(export_gpkg(findings, tmp_path / "m.gpkg", parcels=parcels), layer="parcels")
    assert masked["owner_name"].tolist() == ["张**", "欧阳**", "李*"]
    assert masked["owner_id"].tolist() == ["110117********1234", "110117*****3456", "110117********456X"]
    full = pyogrio.read_dataframe(export_gpkg(findings, tmp_path / "f.gpkg", parcels=parcels, full_names=True),
                                  layer="parcels")
    assert full["owner_name"].tolist() == ["张三丰", "欧阳娜娜", "李四"]
    assert full["owner_id"].tolist() == masked["owner_id"].tolist()


def test_gpkg_in_the_working_crs(tmp_path, findings, parcels):
    path = export_gpkg(findings, tmp_path / "w.gpkg", parcels=parcels.to_crs(4490), crs="working")
    f = pyogrio.read_dataframe(path, layer="findings")
    p = pyogrio.read_dataframe(path, layer="parcels")
    assert f.crs.to_epsg() == 4548 and p.crs.to_epsg() == 4548
    assert np.allclose(f.area, findings.area) and np.allclose(p.area, parcels.area, rtol=1e-6)


def test_gpkg_refuses_an_unknown_crs_option(tmp_path, findings):
    with pytest.raises(CRSError, match="'wgs84'"):
        export_gpkg(findings, tmp_path / "x.gpkg", crs="EPSG:3857")
    assert not list(tmp_path.iterdir())


# -- KML -------------------------------------------------------------------------------------------


def test_kml_opens_with_gdal_one_placemark_per_finding(tmp_path, findings):
    path = export_kml(findings, tmp_path / "f.kml")
    read = pyogrio.read_dataframe(path)
    assert len(read) == len(findings)
    assert read.crs.to_epsg() == 4326
    assert sorted(read["Name"]) == sorted(f"{r} {s}" for r, s in zip(findings["rule_name"], findings["subject_id"]))
    back = read.set_index("Name").to_crs(CRS)
    b2 = findings.set_index("subject_id").loc["B2"]
    assert back.loc[f"{b2.rule_name} B2"].geometry.area == pytest.approx(b2.geometry.area, rel=1e-3)


def test_kml_styles_shared_per_family_and_severity_in_the_maps_colours(tmp_path, findings):
    path = export_kml(findings, tmp_path / "f.kml")
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    styles = {s.get("id"): s for s in root.iterfind(".//k:Style", ns)}
    expected = {f"{f}-{s}" for f, s in zip(findings["family"], findings["severity"])}
    assert set(styles) == expected == {"farmland-medium", "homestead-high", "setback-low", "siting-medium"}
    for sid, style in styles.items():
        family, severity = sid.split("-")
        hex_rgb = MAP_COLOURS[family]                               # the maps' colour, KML's aabbggrr
        assert style.find("k:LineStyle/k:color", ns).text == "ff" + hex_rgb[5:7] + hex_rgb[3:5] + hex_rgb[1:3]
        assert float(style.find("k:LineStyle/k:width", ns).text) == SEVERITY_WEIGHTS[severity]
    assert styles["siting-medium"].find("k:LineStyle/k:color", ns).text == "ff2859b1"   # brown, not green
    marks = root.findall(".//k:Placemark", ns)
    assert [m.find("k:styleUrl", ns).text for m in marks] == [f"#{f}-{s}" for f, s in zip(findings["family"],
                                                                                           findings["severity"])]


def test_kml_escapes_text_and_declares_chinese_labels_once(tmp_path, findings):
    path = export_kml(findings, tmp_path / "f.kml")
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    labels = {f.get("name"): f.find("k:displayName", ns).text for f in root.iterfind(".//k:Schema/k:SimpleField", ns)}
    assert labels["severity"] == "严重程度" and labels["area_mu"] == "面积(亩)"
    assert list(labels) == [c for c in GEOJSON_PROPERTIES if c != "message"]      # the message is the description
    marks = root.findall(".//k:Placemark", ns)
    b1 = next(m for m in marks if m.find("k:name", ns).text.endswith(" B1"))
    description = b1.find("k:description", ns).text          # HTML, once unescaped from XML
    assert description == (f"<b>{FAMILY_LABELS['farmland']}</b> "
                           "权利人110117********1234在耕地上建房 &amp; &lt;违法&gt; “待核”")  # & < > HTML-escaped
    values = {d.get("name"): d.text for d in b1.iterfind(".//k:SimpleData", ns)}
    assert values["subject_id"] == "B1" and values["status"] == "新增问题" and "message" not in values
    read = pyogrio.read_dataframe(path)                        # GDAL reads the typed fields back
    assert read.set_index("Name").loc["乱占耕地建房 B2", "area_m2"] == 200.0


def test_kml_document_is_named_by_township_village_and_run_date(tmp_path, findings):
    import datetime as dt

    mine = findings[findings["village_id"] == VILLAGE]
    path = export_kml(mine, tmp_path / "f.kml", run_date=dt.date(2026, 11, 30))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert ET.parse(path).getroot().find("k:Document/k:name", ns).text == "金海湖镇 测试村 问题图斑 (2026-11-30)"
    files = export_village(findings, tmp_path / "v", VILLAGE, run_date=dt.date(2026, 11, 30))
    assert ET.parse(files["kml"]).getroot().find("k:Document/k:name", ns).text == "金海湖镇 测试村 问题图斑 (2026-11-30)"


def test_kml_is_small(tmp_path, findings):
    """One sample village's KML was 1.4 MB for 366 findings. The old layout (indented XML, an HTML table and
    labelled Data per placemark, MultiGeometry for one part) took 4219 bytes a finding of this fixture; at
    most 40 % of that is allowed (measured: 1035 bytes; sample village 110117106201: 115719 -> 38807 bytes)."""
    many = concat_findings([findings] * 60, crs=CRS)
    path = export_kml(many, tmp_path / "f.kml")
    size = path.stat().st_size
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    assert len(root.findall(".//k:Placemark", ns)) == len(many)
    assert size / len(many) <= 0.4 * 4219, size / len(many)
    assert b"\n  " not in path.read_bytes()                      # not indented


def test_empty_kml_still_opens(tmp_path, findings):
    assert len(pyogrio.read_dataframe(export_kml(findings.iloc[:0], tmp_path / "e.kml"))) == 0


# -- per village, privacy, atomic writes -------------------------------------------------------------


def test_export_village_writes_three_files_of_that_village(tmp_path, findings, parcels, buildings):
    files = export_village(findings, tmp_path / "out", VILLAGE, parcels=parcels, buildings=buildings)
    stem = f"{VILLAGE}_测试村"                                   # the village's name from the findings
    assert {k: p.name for k, p in files.items()} == {"geojson": f"{stem}.geojson", "gpkg": f"{stem}.gpkg",
                                                     "kml": f"{stem}.kml"}
    named = export_village(findings, tmp_path / "named", VILLAGE, name="东店村")
    assert named["kml"].name == f"{VILLAGE}_东店村.kml"
    masked = export_village(findings, tmp_path / "masked", VILLAGE, name=f"村{ID_A}")   # an ID number as a name
    assert ID_A not in masked["kml"].name and masked["kml"].name.startswith(f"{VILLAGE}_村110117")
    mine = findings[findings["village_id"] == VILLAGE]
    assert_rfc7946(files["geojson"])
    assert len(pyogrio.read_dataframe(files["kml"])) == len(mine) == 5
    assert pyogrio.read_dataframe(files["gpkg"], layer="findings")["case_id"].tolist() == mine["case_id"].tolist()
    assert pyogrio.read_dataframe(files["gpkg"], layer="parcels")["parcel_id"].tolist() == ["P1", "P2"]
    assert pyogrio.read_dataframe(files["gpkg"], layer="buildings")["building_id"].tolist() == ["B1"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in files.values())


@pytest.mark.parametrize("full_names", [False, True])
def test_no_clear_id_number_in_any_export(tmp_path, findings, parcels, buildings, full_names):
    for village in (VILLAGE, OTHER):
        export_village(findings, tmp_path, village, parcels=parcels, buildings=buildings, full_names=full_names)
    blobs = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert len(blobs) == 6
    for name, blob in blobs.items():
        for id_number in (ID_A, ID_B, ID_C):
            assert id_number.encode() not in blob, (name, id_number)
    names_seen = any("张三丰".encode() in blob for blob in blobs.values())
    assert names_seen == full_names                            # and the scan does see what is there


def test_village_layers_need_a_village_id(tmp_path, findings, parcels):
    with pytest.raises(LayerError, match="parcels: no column village_id"):
        export_village(findings, tmp_path, VILLAGE, parcels=parcels.drop(columns="village_id"))


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_half_file(tmp_path, findings, parcels):
    path = export_gpkg(findings, tmp_path / "v.gpkg")
    before = path.read_bytes()
    broken = parcels.assign(fid=["a", "b", "c"])  # a text column named like the GeoPackage's feature id
    with pytest.raises(OutputError, match="cannot write layer parcels"):
        export_gpkg(findings, path, parcels=broken)  # fails after the findings layer was written
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.gpkg"]


def test_gpkg_photo_is_an_attachment_field_in_the_qgis_form(tmp_path, findings):
    """QField and Mergin Maps take the form from the layer's default QGIS style: photo is an ExternalResource
    (attachment) widget storing paths relative to the project, verified a value list of the five verdicts."""
    import sqlite3
    import xml.etree.ElementTree as ET

    path = export_gpkg(findings, tmp_path / "v.gpkg")
    con = sqlite3.connect(path)
    qml, default = con.execute("SELECT styleQML, useAsDefault FROM layer_styles WHERE f_table_name = 'findings'").fetchone()
    mime = con.execute("SELECT mime_type FROM gpkg_data_columns WHERE table_name = 'findings' AND column_name = 'photo'"
                       ).fetchone()[0]
    con.close()
    assert default == 1 and mime == "image/jpeg"
    root = ET.fromstring(qml.split(">", 1)[1])
    photo = root.find("./fieldConfiguration/field[@name='photo']/editWidget")
    assert photo.get("type") == "ExternalResource"
    opts = {o.get("name"): o.get("value") for o in photo.iter("Option") if o.get("name")}
    assert opts["RelativeStorage"] == "1" and opts["DocumentViewer"] == "1"
    verdicts = [o.get("value") for o in root.find("./fieldConfiguration/field[@name='verified']").iter("Option")
                if o.get("type") == "QString"]
    assert verdicts == list(VERDICTS) and set(VERDICTS) == {"合法", "违法", "已整改", "无法核实", "误报"}


def test_every_gpkg_carries_default_qgis_styles_for_each_layer(tmp_path, findings, parcels, buildings):
    """layer_styles rows QGIS applies on opening (tests/qgis checks it in a real QGIS): one default per layer,
    keyed by the layer's real geometry column; text from the data (a hostile column name) stays text."""
    from landguard.outputs import write_findings

    hostile = parcels.rename(columns={"owner_name": 'x"/><renderer-v2 type="pwned'})
    paths = [export_gpkg(findings, tmp_path / "v.gpkg", parcels=hostile, buildings=buildings),
             write_findings(findings, tmp_path / "findings.gpkg", extra={"changes": findings})]
    for path in paths:
        with sqlite3.connect(path) as con:
            geometry = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles"
                               ).fetchall()
            registered = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
        assert registered == ("attributes",)
        assert {r[0] for r in rows} == set(geometry) and all(r[1] == geometry[r[0]] and r[2] == 1 for r in rows)
        for table, _, _, qml in rows:
            root = ET.fromstring(qml.split(">", 1)[1])                   # well-formed QML
            renderers = [r.get("type") for r in root.iter("renderer-v2")]
            assert renderers == (["categorizedSymbol"] if table in ("findings", "changes") else ["singleSymbol"])
            aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
            if table in ("findings", "changes"):
                assert aliases["severity"] == "严重程度"
                editable = {f.get("name"): f.get("editable") for f in root.find("editable")}
                assert editable["case_id"] == "0" and editable.get("verified", "1") == "1"
            if table == "parcels":
                assert 'x"/><renderer-v2 type="pwned' in aliases            # the name, as an attribute value
