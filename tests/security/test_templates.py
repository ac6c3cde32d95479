"""No attribute value is ever evaluated as a template: Jinja syntax in the data stays text in every map.

folium/branca render a page with Jinja and parse each element's output again as Jinja source; text such as
``{{ 7*7 }}`` in a village name used to come out as ``49``, ``{#`` crashed ``maps`` (exit 3) and a crafted
value reached Python's ``os``. Each payload below is put into every kind of attribute a map shows (village
name and township, owner name, building id, land-use code name and number, and through the building id the
finding's subject and message), then ``check``, ``maps`` and ``export`` run through the CLI.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from analyses.findings import finalise
from analyses.registry import CATALOGUE
from landguard.cli.main import cli
from maps.village import render_village_map
from tests.badinput.helpers import VILLAGE_A, VILLAGE_B, base_layers, ok, run_check, write_district
from tests.builders import CRS, frame, square

#: Payloads; those that reach Python create ``PWNED`` (``{target}`` is its full path; the ones without
#: quotes survive HTML escaping and create ``./PWNED`` in the working directory, the test's folder).
PAYLOADS = {
    "expression": "{{ 7*7 }}",
    "statement": "{% for x in [1] %}x{% endfor %}",
    "comment": "{#",
    "unclosed": "{{ x",
    "raw-end": "{% endraw %}",
    "os-system": "{{ cycler.__init__.__globals__.os.system('touch {target}') }}",
    "os-popen": "{{ lipsum.__globals__['os'].popen('touch {target}').read() }}",
    "os-open": "{{ cycler.__init__.__globals__.os.open(dict(PWNED=1)|first, 64) }}",
    "os-mkdir": "{{ lipsum.__globals__.os.mkdir(dict(PWNED=1)|first) }}",
}

#: What a template engine would have made of the payloads that evaluate harmlessly.
EVALUATED = {"expression": "49", "statement": "x"}


def _payload(key: str, target: Path) -> str:
    return PAYLOADS[key].replace("{target}", str(target))


def _values(p: str) -> dict[str, str]:
    """One value per attribute, each with its own prefix so each can be found in the page."""
    return {"village": f"西店村{p}", "township": f"金海湖镇{p}", "owner": f"李{p}", "building": f"B2{p}",
            "dlmc": f"旱地{p}", "tbbh": f"图斑{p}"}


def _hostile_district(folder: Path, p: str) -> Path:
    v = _values(p)
    layers = base_layers()
    layers["villages"].loc[1, ["name", "township"]] = [v["village"], v["township"]]
    layers["villages"].loc[0, "township"] = v["township"]
    layers["parcels"].loc[:, "owner_name"] = v["owner"]
    layers["buildings"].loc[1, "building_id"] = v["building"]          # the FARM-BUILD finding's subject
    layers["landuse"]["dlmc"] = ["农村宅基地", v["dlmc"]]
    layers["landuse"].loc[1, "tbbh"] = v["tbbh"]
    return write_district(folder, layers)


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("key", list(PAYLOADS))
def test_jinja_in_attributes_stays_text_in_maps_and_exports(tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    p = _payload(key, marker)
    data = _hostile_district(tmp_path / "data", p)
    res = run_check(data, tmp_path / "out")
    ok(res)
    found = tmp_path / "out" / "findings.gpkg"
    maps = tmp_path / "maps"
    res = _cli("maps", "--findings", str(found), "--data", str(data), "--out", str(maps), "-q", "--full-names")
    assert res.exit_code == 0, res.output
    exports = tmp_path / "exports"
    res = _cli("export", "--findings", str(found), "--data", str(data), "--out", str(exports), "--full-names")
    assert res.exit_code == 0, res.output
    assert not marker.exists(), "a value from the data ran as code"

    # files are named <village_id>_<村名> (the name made safe): found by their id
    page = next(maps.glob(f"{VILLAGE_B}*.html")).read_text(encoding="utf-8")     # the finding, B2 and its farmland
    both = page + next(maps.glob(f"{VILLAGE_A}*.html")).read_text(encoding="utf-8")  # the parcels and their owners
    v = _values(p)
    for what, value in v.items():
        assert html.escape(value) in both, f"{what}: {value!r} is not in the maps as text"
    title = html.escape(f"{v['township']} {v['village']}（{VILLAGE_B}）问题核查图")
    assert f"<title>{title}</title>" in page
    message = f"房屋{html.escape(v['building'])}未经批准占用耕地"
    assert message in page                                                # the finding's message, as text
    if key in EVALUATED:
        for what, value in v.items():
            evaluated = value.replace(p, EVALUATED[key])
            assert html.escape(evaluated) not in both, f"{what}: evaluated as a template"

    index = (maps / "index.html").read_text(encoding="utf-8")
    assert html.escape(v["village"]) in index and html.escape(v["township"]) in index

    doc = json.loads(next(exports.glob(f"{VILLAGE_B}*.geojson")).read_text(encoding="utf-8"))
    assert [f["properties"]["subject_id"] for f in doc["features"]] == [v["building"]]


def test_jinja_in_finding_fields_and_family_stays_text(tmp_path, monkeypatch):
    """The Python API with a findings frame whose every text field holds a payload (as a tampered
    findings.gpkg would): message, basis, rule name, case id, related ids and an unknown family, which
    becomes a layer name in the layer control."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    p = PAYLOADS["os-open"]
    village = {"village_id": "110117104201", "name": f"村{p}", "township": f"镇{p}"}
    villages = frame([{**village, "geometry": square(-500, -500, 1000)}])
    parcels = frame([{"parcel_id": f"P{p}", "owner_name": f"张{p}", "geometry": square(0, 0, 20)}])
    raw = gpd.GeoDataFrame({"subject_layer": ["parcels"], "subject_id": [f"P{p}"]},
                           geometry=[square(0, 0, 20)], crs=CRS)
    findings = finalise(CATALOGUE["FARM-BUILD"], raw).assign(
        message=f"说明{p}", basis=f"依据{p}", rule_name=f"规则{p}", case_id=f"C{p}", related_ids=f"R{p}",
        family=f"类{p}")
    out = render_village_map({"villages": villages, "parcels": parcels}, findings, village, tmp_path / "m.html")
    assert not marker.exists()
    page = out.read_text(encoding="utf-8")
    for value in (village["name"], village["township"], f"P{p}", f"张{p}", f"说明{p}", f"依据{p}", f"规则{p}",
                  f"C{p}", f"R{p}", f"类{p}问题（1）"):
        assert html.escape(value) in page, value
