"""Open landguard's outputs in a real QGIS (run with the system python: /usr/bin/python3, headless).

Usage: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis/qgis_check.py FILE...``. Prints one JSON
object: per file and layer whether it loaded valid, its renderer type, aliases, editor widgets, read-only
fields, geometry types and the features failing QGIS's own validity check (QGIS and GEOS validators,
duplicate nodes included), plus every message QGIS and GDAL logged while opening the files.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsDataProvider, QgsGeometry, QgsVectorLayer, QgsWkbTypes,
)

app = QgsApplication([], False)
app.initQgis()
messages = []
QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: messages.append(f"{tag}: {msg}"))


def sublayers(path):
    if not path.endswith(".gpkg"):
        return [None]
    layer = QgsVectorLayer(path, "probe", "ogr")
    separator = QgsDataProvider.sublayerSeparator()
    names = [s.split(separator)[1] for s in layer.dataProvider().subLayers()] if layer.isValid() else []
    return [n for n in names if n != "layer_styles"]


def check(path, name):
    uri = path if name is None else f"{path}|layername={name}"
    layer = QgsVectorLayer(uri, name or os.path.basename(path), "ogr")
    out = {"valid": layer.isValid()}
    if not layer.isValid():
        return out
    fields = layer.fields()
    out["renderer"] = layer.renderer().type() if layer.renderer() else None
    if out["renderer"] == "categorizedSymbol":
        out["categories"] = {c.value(): c.label() for c in layer.renderer().categories()}
        out["category_colours"] = {c.value(): c.symbol().color().name() for c in layer.renderer().categories()}
        out["category_widths"] = {c.value(): round(c.symbol().symbolLayer(0).strokeWidth(), 3)
                                  for c in layer.renderer().categories()}
    out["aliases"] = {f.name(): f.alias() for f in fields}
    out["widgets"] = {f.name(): layer.editorWidgetSetup(i).type() for i, f in enumerate(fields)}
    out["value_maps"] = {}
    for i, f in enumerate(fields):
        setup = layer.editorWidgetSetup(i)
        if setup.type() == "ValueMap":
            entries = setup.config().get("map", [])
            out["value_maps"][f.name()] = [list(e.items())[0] for e in entries]
    form = layer.editFormConfig()
    out["read_only"] = [f.name() for i, f in enumerate(fields) if form.readOnly(i)]
    types, invalid, count = set(), [], 0
    for feature in layer.getFeatures():
        count += 1
        geom = feature.geometry()
        if geom.isNull():
            continue
        types.add(QgsWkbTypes.displayString(geom.wkbType()))
        errors = []
        for method in (QgsGeometry.ValidatorQgisInternal, QgsGeometry.ValidatorGeos):
            errors += [e.what() for e in geom.validateGeometry(method)]
        if errors:
            invalid.append({"fid": feature.id(), "errors": errors[:3]})
    out["layer_type"] = QgsWkbTypes.displayString(layer.wkbType())
    out["geometry_types"] = sorted(types)
    out["invalid"] = invalid
    out["count"] = count
    return out


def gdal_warnings(path):
    """What the system GDAL (the one QGIS uses) says when it opens ``path``: e.g. the GeoPackage 1.4 warning."""
    from osgeo import gdal

    said = []
    gdal.PushErrorHandler(lambda cls, num, msg: said.append(msg))
    try:
        gdal.OpenEx(path, gdal.OF_VECTOR)
    finally:
        gdal.PopErrorHandler()
    return said


from osgeo import gdal  # noqa: E402

result = {"qgis": __import__("qgis.core", fromlist=["Qgis"]).Qgis.QGIS_VERSION, "gdal": gdal.__version__,
          "files": {}, "gdal_warnings": {}}
for path in sys.argv[1:]:
    result["gdal_warnings"][path] = gdal_warnings(path)
    result["files"][path] = {str(name): check(path, name) for name in sublayers(path)}
result["messages"] = messages
print(json.dumps(result, ensure_ascii=False))
app.exitQgis()
