"""The KML is written as text, byte for byte what xml.etree.ElementTree wrote for the same tree before.

The reference below is the ElementTree writer the text writer replaced (kept here only as the oracle);
the findings are hostile: markup and entities in messages, quotes, newlines, an ID number, an empty
subject, holes, multi-parts, coordinates with more than 7 decimals, a finding without geometry.
"""

import html
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from analyses.findings import concat_findings, finalise
from analyses.ledger import COLUMN_LABELS
from analyses.registry import CATALOGUE
from layers.privacy import mask_frame
from maps.exports import (_KML_FIELDS, _KML_NS, _ROUND, _display, _kml_colour, _kml_style_id, _wgs84,
                          GEOJSON_PROPERTIES, export_kml)
from maps.style import FAMILY_COLOURS, FAMILY_LABELS, SEVERITY_WEIGHTS
from tests.builders import CRS, X0, Y0, frame, square


def _old_geometry(parent, geom):
    kind = shapely.get_type_id(geom)
    coords = lambda g: " ".join(f"{x!r},{y!r}" for x, y in np.round(shapely.get_coordinates(g), 7).tolist())  # noqa: E731
    if kind == 0:
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = coords(geom)
    elif kind in (1, 2):
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = coords(geom)
    elif kind == 3:
        poly = ET.SubElement(parent, "Polygon")
        rings = [("outerBoundaryIs", shapely.get_exterior_ring(geom))]
        rings += [("innerBoundaryIs", shapely.get_interior_ring(geom, i))
                  for i in range(shapely.get_num_interior_rings(geom))]
        for tag, ring in rings:
            ET.SubElement(ET.SubElement(ET.SubElement(poly, tag), "LinearRing"), "coordinates").text = coords(ring)
    else:
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in shapely.get_parts(geom):
            _old_geometry(multi, part)


def _old_kml(findings, path, title):
    """The ElementTree writer of maps.exports.export_kml before it wrote text."""
    props = _display(mask_frame(findings[GEOJSON_PROPERTIES]))
    families = findings["family"].astype(object).to_numpy()
    severities = findings["severity"].astype(object).to_numpy()
    messages = mask_frame(findings[["message"]])["message"].astype(object).to_numpy()
    geoms = _wgs84(findings.geometry)
    root = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = title
    schema = ET.SubElement(doc, "Schema", name="finding", id="finding")
    for c in _KML_FIELDS:
        field = ET.SubElement(schema, "SimpleField", name=c, type="double" if c in _ROUND else "string")
        ET.SubElement(field, "displayName").text = COLUMN_LABELS[c]
    for sid in dict.fromkeys(s for s in map(_kml_style_id, families, severities) if s):
        fam, sev = sid.split("-", 1)
        style = ET.SubElement(doc, "Style", id=sid)
        line = ET.SubElement(style, "LineStyle")
        ET.SubElement(line, "color").text = _kml_colour(FAMILY_COLOURS[fam], 0xFF)
        ET.SubElement(line, "width").text = f"{SEVERITY_WEIGHTS[sev]:g}"
        ET.SubElement(ET.SubElement(style, "PolyStyle"), "color").text = _kml_colour(FAMILY_COLOURS[fam], 0x59)
    folder = ET.SubElement(doc, "Folder")
    ET.SubElement(folder, "name").text = "问题图斑"
    for record, fam, sev, message, geom in zip(props.to_dict("records"), families, severities, messages, geoms):
        mark = ET.SubElement(folder, "Placemark")
        ET.SubElement(mark, "name").text = " ".join(str(record[c]) for c in ("rule_name", "subject_id") if record[c])
        label = FAMILY_LABELS.get(fam, fam or "")
        text = message if isinstance(message, str) else ""
        ET.SubElement(mark, "description").text = f"<b>{html.escape(str(label))}</b> {html.escape(text)}"
        sid = _kml_style_id(fam, sev)
        if sid:
            ET.SubElement(mark, "styleUrl").text = f"#{sid}"
        data = ET.SubElement(ET.SubElement(mark, "ExtendedData"), "SchemaData", schemaUrl="#finding")
        for c in _KML_FIELDS:
            if record[c] is not None and record[c] != "":
                ET.SubElement(data, "SimpleData", name=c).text = str(record[c])
        if geom is not None:
            _old_geometry(mark, geom)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


@pytest.fixture
def hostile():
    holed = shapely.affinity.translate(shapely.Polygon(
        [(0, 0), (0, 40), (40, 40), (40, 0)], [[(10, 10), (20, 10), (20, 20), (10, 20)]]), X0 + 0.123456789, Y0)
    rows = [
        {"subject_layer": "buildings", "subject_id": "B1", "geometry": holed,
         "message": "权利人110117199001011234 & <b>违法</b> \"引号\" 'x' ]]> &amp;\n第二行\t制表"},
        {"subject_layer": "buildings", "subject_id": "", "geometry": shapely.MultiPolygon(
            [square(100, 0, 10.000000123), square(130, 0, 10)]), "message": "<![CDATA[x]]>"},
        {"subject_layer": "buildings", "subject_id": "B3 & <4>", "geometry": square(300, 0, 0.2, 10), "message": None},
    ]
    for r in rows:
        r.update(village_id="110117104201", village="测试村", township="金海湖镇")
    farm = finalise(CATALOGUE["FARM-BUILD"], frame(rows))
    home = finalise(CATALOGUE["HOME-MULTI"], frame([
        {"subject_layer": "parcels", "subject_id": "P1", "measured": 2, "limit": 1, "unit": "处", "severity": "high",
         "village_id": "110117104201", "geometry": square(200, 0, 15), "message": "两处 > 一处"}]), area=False)
    return concat_findings([farm, home], crs=CRS)


@pytest.mark.parametrize("title", ["金海湖镇 测试村 问题图斑 (2026-11-22)", "a & <b> \"c\"", ""])
def test_text_kml_is_what_elementtree_wrote(hostile, tmp_path, title):
    new = export_kml(hostile, tmp_path / "new.kml", title=title or None)
    name = title or ET.parse(new).getroot().find(f"{{{_KML_NS}}}Document/{{{_KML_NS}}}name").text
    _old_kml(hostile, tmp_path / "old.kml", name)
    assert new.read_bytes() == (tmp_path / "old.kml").read_bytes()
    assert b"&amp;lt;b&amp;gt;" in new.read_bytes() and b"110117199001011234" not in new.read_bytes()


def test_text_kml_with_a_finding_without_geometry_and_none(hostile, tmp_path):
    some = hostile.copy()
    some.loc[some.index[0], "geometry"] = None
    new = export_kml(some, tmp_path / "new.kml", title="t")
    _old_kml(some, tmp_path / "old.kml", "t")
    assert new.read_bytes() == (tmp_path / "old.kml").read_bytes()
    empty = export_kml(some.iloc[:0], tmp_path / "empty.kml", title="t")
    _old_kml(some.iloc[:0], tmp_path / "empty_old.kml", "t")
    assert empty.read_bytes() == (tmp_path / "empty_old.kml").read_bytes()
