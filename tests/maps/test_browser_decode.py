"""In headless Chromium: the page's own decoder (``LandguardMap.decode``) draws exactly the input geometry.

Every vertex Leaflet holds is read back from the page and compared, as a double, with the map's display
geometry (simplified within 0.2 m, WGS84, 7 decimals); for shapes that simplification leaves alone, with
the input itself within 1e-7 degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from maps.village import _display_geoms, render_village_map

from .pagedata import geo_layers
from .test_browser import browser, open_page  # noqa: F401  (the headless Chromium fixtures)

pytestmark = pytest.mark.browser

CRS = "EPSG:4548"

#: Every drawn feature as Leaflet holds it: per layer, per feature, nested [lng, lat] lists.
_DRAWN = """() => {
    const tree = (sub) => {
        if (sub.getLayers) { return {group: sub.getLayers().map(tree)}; }
        if (sub.getLatLngs) {
            const walk = (a) => Array.isArray(a) ? a.map(walk) : [a.lng, a.lat];
            return {lines: walk(sub.getLatLngs())};
        }
        const p = sub.getLatLng();
        return {point: [p.lng, p.lat]};
    };
    return LandguardMap.state.layers.map((layer) => layer.getLayers().map(tree));
}"""


def _leaflet(geometry: dict):
    """What Leaflet holds for a GeoJSON geometry (a polygon's rings without their closing vertex)."""
    t, c = geometry["type"], geometry.get("coordinates")
    if t == "Point":
        return {"point": c}
    if t == "LineString":
        return {"lines": c}
    if t == "MultiLineString":
        return {"lines": c}
    if t == "Polygon":
        return {"lines": [ring[:-1] for ring in c]}
    if t == "MultiPolygon":
        return {"lines": [[ring[:-1] for ring in poly] for poly in c]}
    if t == "MultiPoint":
        return {"group": [{"point": p} for p in c]}
    if t == "GeometryCollection":
        return {"group": [_leaflet(g) for g in geometry["geometries"]]}
    raise AssertionError(t)


def _expected(frame: gpd.GeoDataFrame) -> list:
    geoms = _display_geoms(frame)
    return [_leaflet(shapely.geometry.mapping(g)) for g in geoms]


def _lists(obj):
    """``mapping`` gives tuples; the page gives lists."""
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_lists(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def mixed_map(tmp_path_factory, village_factory):
    layers, findings, village = village_factory(n_parcels=40)
    x0, y0 = layers["villages"].total_bounds[:2]
    hole = shapely.Polygon([(x0 + 10, y0 + 10), (x0 + 60, y0 + 10), (x0 + 60, y0 + 60), (x0 + 10, y0 + 60)],
                           [[(x0 + 20, y0 + 20), (x0 + 30, y0 + 20), (x0 + 30, y0 + 30)]])
    layers["waters"] = gpd.GeoDataFrame(
        {"name": ["W1", "W2", "W3", "W4", "W5"]},
        geometry=[hole,
                  shapely.MultiLineString([[(x0, y0), (x0 + 50.123, y0 + 7.77)], [(x0 + 5, y0 + 90), (x0 + 80, y0 + 95)]]),
                  shapely.GeometryCollection([shapely.Point(x0 + 70, y0 + 70),
                                              shapely.LineString([(x0 + 71, y0 + 71), (x0 + 90, y0 + 75)])]),
                  shapely.MultiPoint([(x0 + 100, y0 + 100), (x0 + 105, y0 + 101)]),
                  shapely.MultiPolygon([shapely.box(x0 + 120, y0 + 5, x0 + 130, y0 + 15), hole])],
        crs=CRS)
    out = render_village_map(layers, findings, village, tmp_path_factory.mktemp("decode") / "v.html")
    return out, layers, findings


def test_drawn_vertices_are_the_input_geometry_exactly(open_page, mixed_map):
    path, layers, findings = mixed_map
    o = open_page(path)
    drawn = o.js(_DRAWN)
    kinds = o.js("LandguardMap.state.layers.map((l) => l._lgKind)")
    expected = {role: _lists(_expected(frame)) for role, frame in layers.items() if len(frame)}
    context = [d for d, k in zip(drawn, kinds) if k == "context"]
    matched = [[role for role, want in expected.items() if want == got] for got in context]
    # every drawn context layer is one input layer, vertex for vertex; every input layer is drawn
    assert all(len(m) == 1 for m in matched), [len(g) for g in context]
    assert sorted(m[0] for m in matched) == sorted(expected)
    assert "waters" in expected and len(expected["waters"]) == 5
    # findings: one layer per family, together every drawn finding in the page's order
    finding_layers = [d for d, k in zip(drawn, kinds) if k == "finding"]
    want = _lists(_expected(findings))
    assert sorted(map(repr, (f for layer in finding_layers for f in layer))) == sorted(map(repr, want))
    # and the page's decoded data (closing vertices, properties, every type) is what tests/maps/pagedata.py reads
    page = path.read_text(encoding="utf-8")
    assert o.js("LandguardMap.state.layers.map((l) => l._lgData)") == [d for d, _ in geo_layers(page)]
    o.assert_clean()


def test_unsimplified_shapes_are_within_1e7_degrees_of_the_input(open_page, mixed_map):
    path, layers, _ = mixed_map
    o = open_page(path)
    buildings = layers["buildings"]
    wgs = buildings.to_crs(4326)
    ids = buildings["building_id"].astype(str).to_numpy()
    got = o.js("""(ids) => {
        const out = [];
        LandguardMap.state.layers.forEach((layer) => {
            if (layer._lgKind !== 'context') { return; }
            layer.eachLayer((sub) => {
                const v = (sub.feature.properties.v || [])[0];
                if (typeof v === 'string' && ids.indexOf(v) >= 0) {
                    out.push([v, sub.getLatLngs()[0].map((p) => [p.lng, p.lat])]);
                }
            });
        });
        return out;
    }""", ids.tolist())
    assert len(got) == len(buildings) > 10
    worst = 0.0
    for bid, ring in got:
        k = int(np.flatnonzero(ids == bid)[0])
        src = np.asarray(wgs.geometry.iloc[k].exterior.coords)[:-1]
        assert len(ring) == len(src)   # a rectangle: nothing to simplify
        worst = max(worst, float(np.abs(np.asarray(ring) - src).max()))
    assert worst <= 0.5e-7 + 1e-12


def test_gcj02_redraw_and_back_give_the_same_vertices(open_page, mixed_map):
    path, *_ = mixed_map
    o = open_page(path)
    before = o.js(_DRAWN)
    o.js("LandguardMap.setDatum(true, false)")
    shifted = o.js(_DRAWN)
    o.js("LandguardMap.setDatum(false, false)")
    assert shifted != before and o.js(_DRAWN) == before
    o.assert_clean()
