"""The QGIS plugin (qgis_plugin/landguard), built by ``make qgis-plugin``, loaded from its zip in a real QGIS:
the provider offers check/maps/export/verify, ``landguard:check`` runs the installed command on the sample
district and the findings come back as a layer with its default style."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qgis.test_qgis_outputs import SYSTEM_PYTHON, _have_qgis, _qgis

ROOT = Path(__file__).resolve().parents[2]
LANDGUARD = Path(sys.executable).with_name("landguard")

pytestmark = pytest.mark.skipif(not _have_qgis(), reason="python3-qgis not installed (make system-test-deps)")


def test_plugin_zip_loads_and_check_brings_the_findings_back(tmp_path):
    make = subprocess.run(["make", "-s", "qgis-plugin", f"DIST={tmp_path}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert make.returncode == 0, make.stderr
    zipped = tmp_path / "landguard-qgis-plugin.zip"
    sample = subprocess.run([str(LANDGUARD), "sample", "--out", str(tmp_path / "sample")], capture_output=True,
                            text=True, timeout=600)
    assert sample.returncode == 0, sample.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path), LANDGUARD_COMMAND=str(LANDGUARD))
    res = subprocess.run([SYSTEM_PYTHON, str(ROOT / "tests/qgis/plugin_check.py"), str(zipped),
                          str(tmp_path / "sample"), str(tmp_path / "out")], capture_output=True, text=True,
                         env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["algorithms"] == ["landguard:check", "landguard:export", "landguard:maps", "landguard:verify"]
    assert got["ok"] and got["results"]["FINDINGS"] == str(tmp_path / "out" / "findings.gpkg")
    layer = got["loaded"]["findings"]
    assert layer["valid"] and layer["count"] > 100 and layer["renderer"] == "categorizedSymbol"
    assert got["provider_after_unload"] is False                       # unloading removes the provider
    # the sample district's findings (seven of them failed QGIS's geometry check before): all valid, one type
    checked = _qgis(tmp_path / "out" / "findings.gpkg")
    findings = checked["files"][str(tmp_path / "out" / "findings.gpkg")]["findings"]
    assert findings["invalid"] == [] and findings["geometry_types"] == ["MultiPolygon"]
    assert findings["count"] == layer["count"]
