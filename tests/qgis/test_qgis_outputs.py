"""landguard's outputs opened in a real QGIS (Debian's python3-qgis, QGIS 3.22 LTR with GDAL 3.6), headless.

The system python runs QGIS (``tests/qgis/qgis_check.py`` in a subprocess with ``QT_QPA_PLATFORM=offscreen``);
``make system-test-deps`` installs python3-qgis when missing (tools/ensure-qgis.sh). Each output layer must
load valid with its default style from ``layer_styles`` applied (renderer, Chinese aliases, the verification
value map, the photo attachment widget, computed fields read-only), every geometry must pass QGIS's own
validity checks (duplicate nodes included), one geometry type per layer, and GDAL 3.6 must open every
GeoPackage without the version warning.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import shapely

from analyses.findings import concat_findings, finalise
from analyses.ledger import VERDICTS, VERIFICATION_COLUMNS
from analyses.registry import CATALOGUE
from landguard.outputs import write_findings
from maps.exports import export_village
from maps.style import FAMILY_COLOURS
from tests.builders import CRS, at, frame, square

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis_check.py")
VILLAGE = "110117104201"


def _have_qgis() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core, osgeo.gdal"], capture_output=True,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _have_qgis(), reason="python3-qgis not installed (make system-test-deps)")


def _qgis(*paths: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(paths[0].parent))
    res = subprocess.run([SYSTEM_PYTHON, str(SCRIPT), *map(str, paths)], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _partial(rows):
    for r in rows:
        r.setdefault("village_id", VILLAGE)
        r.setdefault("village", "东店村")
        r.setdefault("township", "金海湖镇")
    return frame(rows)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """findings.gpkg and one village's field files, from findings with the defects overlays leave:
    a sliver part, a repeated node, a part that collapses at 7 decimals, a point grave, a hole."""
    tmp = tmp_path_factory.mktemp("qgis")
    dup = at(shapely.Polygon([(0, 0), (20, 0), (20, 0), (20, 20), (20, 20.0000001), (0, 20)]))
    sliver = shapely.union_all([square(40, 0, 20), at(shapely.box(60, 0, 80, 0.0004))])
    strip = shapely.union_all([square(100, 0, 20), at(shapely.box(130, 0, 170, 0.004))])
    holed = shapely.difference(square(200, 0, 40), square(210, 10, 10))
    farm = finalise(CATALOGUE["FARM-BUILD"], _partial([
        {"subject_layer": "buildings", "subject_id": "B1", "geometry": dup, "status": "new"},
        {"subject_layer": "buildings", "subject_id": "B2", "geometry": sliver, "status": "existing"},
        {"subject_layer": "buildings", "subject_id": "B3", "geometry": strip}]), min_part_m2=0.0)
    home = finalise(CATALOGUE["HOME-MULTI"], _partial([
        {"subject_layer": "parcels", "subject_id": "P1", "severity": "high", "geometry": holed}]), area=False)
    grave = finalise(CATALOGUE["SITE-GRAVE"], _partial([
        {"subject_layer": "graves", "subject_id": "G1", "severity": "low", "geometry": at(shapely.Point(300, 5))}]))
    findings = concat_findings([farm, home, grave], crs=CRS)
    parcels = frame([{"parcel_id": "P1", "village_id": VILLAGE, "owner_name": "张三", "geometry": square(200, 0, 40)}])
    buildings = frame([{"building_id": "B1", "village_id": VILLAGE, "floors": 2, "geometry": square(0, 0, 20)}])
    found = write_findings(findings, tmp / "findings.gpkg", extra={"changes": findings.assign(change="新增")})
    files = export_village(findings, tmp / "field", VILLAGE, parcels=parcels, buildings=buildings)
    working = export_village(findings, tmp / "working", VILLAGE, crs="working")
    return {"findings": found, **files, "working": working["gpkg"], "n": len(findings)}


def test_every_layer_loads_valid_with_clean_geometry_of_one_type(outputs):
    paths = [outputs[k] for k in ("findings", "gpkg", "working", "geojson", "kml")]
    result = _qgis(*paths)
    assert result["qgis"].startswith("3.")
    layers = {(Path(p).name, name): layer for p, file in result["files"].items() for name, layer in file.items()}
    assert set(layers) >= {("findings.gpkg", "findings"), ("findings.gpkg", "changes"),
                           (outputs["gpkg"].name, "findings"), (outputs["gpkg"].name, "parcels"),
                           (outputs["gpkg"].name, "buildings"), (outputs["geojson"].name, "None"),
                           (outputs["kml"].name, "None")}
    for key, layer in layers.items():
        assert layer["valid"], key
        assert layer["invalid"] == [], (key, layer["invalid"])           # QGIS and GEOS validators
        assert len(layer["geometry_types"]) == 1, (key, layer["geometry_types"])
        if key[1] in ("findings", "changes", "None"):
            assert layer["geometry_types"] == ["MultiPolygon"] and layer["count"] == outputs["n"], key
    for path, said in result["gdal_warnings"].items():                   # GDAL 3.6: no "1.4 ... partially supported"
        assert not [m for m in said if "partially supported" in m or "version" in m.lower()], (path, said)


def test_default_style_from_layer_styles_is_applied(outputs):
    result = _qgis(outputs["findings"], outputs["gpkg"])
    found = result["files"][str(outputs["findings"])]["findings"]
    field = result["files"][str(outputs["gpkg"])]["findings"]
    for layer in (found, field):
        assert layer["renderer"] == "categorizedSymbol"                   # not QGIS's random single symbol
        assert layer["categories"]["siting/medium"] == "公墓选址 · 中"
        assert layer["category_colours"]["siting/low"] == FAMILY_COLOURS["siting"]   # brown, as on the maps
        assert layer["category_widths"]["farmland/high"] > layer["category_widths"]["farmland/low"]
        assert layer["aliases"]["case_id"] == "案件编号" and layer["aliases"]["area_mu"] == "面积(亩)"
        assert dict(map(tuple, layer["value_maps"]["severity"]))["高"] == "high"
        assert "case_id" in layer["read_only"] and "message" in layer["read_only"]   # computed: read-only
    assert field["widgets"]["verified"] == "ValueMap"
    assert [v for _, v in field["value_maps"]["verified"]] == list(VERDICTS)
    assert field["widgets"]["photo"] == "ExternalResource" and field["widgets"]["verified_on"] == "DateTime"
    assert not set(VERIFICATION_COLUMNS) & set(field["read_only"])       # the field team fills these in
    parcels = result["files"][str(outputs["gpkg"])]["parcels"]
    assert parcels["renderer"] == "singleSymbol" and parcels["aliases"]["owner_name"] == "权利人"
