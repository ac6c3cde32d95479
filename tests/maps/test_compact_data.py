"""The compact overlay data of village maps (issue 16): integer vertices, differences, property columns.

Every test decodes through ``tests/maps/pagedata.decode``, the mirror of ``LandguardMap.decode``; the
browser test ``test_browser_decode.py`` proves the page's own decoder draws the same coordinates.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import pandas as pd
import numpy as np
import pytest
import shapely

from maps.village import _display_geoms, _encode_geoms, _layer_data, render_village_map
from spatial.errors import DataQualityWarning

from .pagedata import decode, geo_layers, raw_layers

CRS = "EPSG:4548"


def _geojson(geoms) -> list[dict]:
    """What the page drew before: GEOS GeoJSON of each geometry, its numbers as 7-decimal text."""
    out = []
    for g in geoms:
        text = shapely.to_geojson(g)
        out.append(json.loads(text, parse_float=lambda s: float(f"{float(s):.7f}")))
    return out


def _decoded_geoms(geoms, **props) -> list[dict]:
    data = json.loads(_layer_data(np.asarray(geoms, dtype=object), props or {"id": list(range(len(geoms)))}))
    return [f["geometry"] for f in decode(data)["features"]]


def _rounded(geoms) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, 7))


def test_every_geometry_type_decodes_to_the_same_geojson():
    x, y = 116.6565495, 39.9194795
    hole = shapely.Polygon([(x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001)],
                           [[(x + 0.0002, y + 0.0002), (x + 0.0004, y + 0.0002), (x + 0.0004, y + 0.0004)]])
    geoms = _rounded([
        shapely.Point(x, y),
        shapely.LineString([(x, y), (x + 0.0000001, y - 0.0000001), (x + 0.5, y + 0.25)]),
        shapely.LinearRing([(x, y), (x + 0.001, y), (x, y + 0.001)]),
        hole,
        shapely.MultiPoint([(x, y), (x - 0.3, y + 0.1)]),
        shapely.MultiLineString([[(x, y), (x + 1, y)], [(x, y + 1), (x + 1, y + 1), (x + 1, y + 2)]]),
        shapely.MultiPolygon([hole, shapely.box(x + 0.01, y, x + 0.02, y + 0.01)]),
        shapely.GeometryCollection([shapely.Point(x, y), hole,
                                    shapely.GeometryCollection([shapely.LineString([(x, y), (x + 1, y + 1)])]),
                                    shapely.MultiPoint([(x, y)])]),
        shapely.box(-179.9999999, -89.9999999, 179.9999999, 89.9999999),
    ])
    assert _decoded_geoms(geoms) == _geojson(geoms)
    # the types in another order (one list of type codes) and all of one type (one number)
    assert _decoded_geoms(geoms[::-1]) == _geojson(geoms[::-1])
    form, _ = _encode_geoms(geoms[[3, 3]])
    assert form["k"] == 3 and form["r"] == [2, 2] and form["l"] == [4, 3, 4, 3]  # closing vertices left out


def test_decoded_numbers_are_the_doubles_of_the_7_decimal_text():
    rng = np.random.default_rng(16)
    xy = np.column_stack([rng.uniform(115.4, 117.6, 5000), rng.uniform(39.4, 41.1, 5000)])
    lines = _rounded(shapely.linestrings(xy.reshape(-1, 10, 2)))
    got = np.array([c for g in _decoded_geoms(lines) for c in g["coordinates"]])
    text = np.array([[float(f"{v:.7f}") for v in pair] for pair in xy])
    assert got.dtype == np.float64 and np.array_equal(got, text)           # bit for bit, not "close"
    assert np.abs(got - xy).max() <= 0.5e-7 + 1e-12


def test_coordinates_are_integers_not_decimal_text(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=30)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    for data, _ in raw_layers(page):
        assert all(isinstance(v, int) for v in data["g"]["c"])
        assert '"type":"Feature"' not in json.dumps(data, separators=(",", ":"))
    # what the page draws is the simplified, rounded WGS84 geometry of the input, exactly
    drawn = next(d for d, o in geo_layers(page) if o.get("popup", {}).get("title") == "房屋")
    want = _geojson(_display_geoms(layers["buildings"]))
    assert [f["geometry"] for f in drawn["features"]] == want


def test_the_compact_form_is_less_than_half_the_geojson(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=200, vertices=12)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    for (raw, opts), (data, _) in zip(raw_layers(page), geo_layers(page)):
        if opts.get("kind") == "context" and len(data["features"]) >= 100:
            compact = len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode())
            geojson = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
            assert compact < 0.5 * geojson, (opts["popup"]["title"], compact, geojson)


def test_property_columns_repeat_texts_by_index_and_leave_out_nulls():
    geoms = _rounded(shapely.points(np.column_stack([np.linspace(116, 117, 6), np.full(6, 40.0)])))
    props = {"s": ["high", "low", "high", "high", "low", "high"], "id": [f"C{k}" for k in range(6)],
             "c": [None, "新增", None, None, None, "持续"], "d": [None, 90.0, None, 0.0, None, 12.5],
             "o": [1, 0, 0, 0, 0, 0]}
    values = [["a", "b", "c", "d", "e", "f"], ["—"] * 6, ["x", "y", "x", "y", "x", "y"]]
    data = json.loads(_layer_data(geoms, props, values))
    assert data["f"]["s"] == {"d": ["high", "low"], "i": [0, 1, 0, 0, 1, 0]}
    assert data["f"]["id"] == props["id"] and data["v"][1] == {"d": ["—"], "i": [0] * 6}
    feats = decode(data)["features"]
    for i, f in enumerate(feats):
        want = {k: v[i] for k, v in props.items() if v[i] is not None}
        want["v"] = [col[i] for col in values]
        assert f["properties"] == want


def test_hostile_texts_stay_data_in_columns(tmp_path):
    evil = ["</script><script>alert(1)</script>", "<!--", "{{ 7*7 }}", "\u2028\u2029", "\"\\"]
    geoms = _rounded(shapely.points(np.column_stack([np.linspace(116, 117, 10), np.full(10, 40.0)])))
    text = _layer_data(geoms, {"t": evil * 2}, [evil * 2])
    assert "</" not in text and "<!--" not in text
    data = json.loads(text)
    assert isinstance(data["f"]["t"], dict)                               # repeated: sent by index
    assert [f["properties"]["t"] for f in decode(data)["features"]] == evil * 2


def test_a_feature_with_a_coordinate_that_is_not_a_number_is_left_out_and_named():
    good = shapely.box(116.1, 39.9, 116.2, 40.0)
    bad = shapely.LineString([(116.1, 39.9), (np.inf, 40.0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = json.loads(_layer_data(np.array([good, bad, good], dtype=object), {"id": ["A", "B", "C"]},
                                      [["a", "b", "c"]], name="roads"))
    assert [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)] == [
        ("village map, layer roads: 1 feature(s) with a coordinate that is not a number in WGS84 left out of the map "
         "(图形坐标无效，未绘制)")]
    feats = decode(data)["features"]
    assert [f["properties"] for f in feats] == [{"id": "A", "v": ["a"]}, {"id": "C", "v": ["c"]}]


def test_an_empty_layer_and_empty_parts():
    assert decode(json.loads(_layer_data(np.zeros(0, dtype=object), {"id": []}))) == {
        "type": "FeatureCollection", "features": []}
    geoms = np.array([shapely.Point(), shapely.from_wkt("MULTIPOLYGON (((116 40, 116.1 40, 116.1 40.1, 116 40)), EMPTY)"),
                      shapely.GeometryCollection()], dtype=object)
    got = _decoded_geoms(geoms)
    assert got[0] == {"type": "Point", "coordinates": []}
    assert got[1]["coordinates"][1] == [] and len(got[1]["coordinates"][0][0]) == 4
    assert got[2] == {"type": "GeometryCollection", "geometries": []}


@pytest.mark.parametrize("n", [1, 7, 500])
def test_many_features_keep_their_order(n):
    rng = np.random.default_rng(n)
    centres = np.column_stack([rng.uniform(116, 117, n), rng.uniform(39.5, 40.5, n)])
    sizes = rng.uniform(1e-5, 1e-3, n)
    boxes = _rounded(shapely.box(centres[:, 0], centres[:, 1], centres[:, 0] + sizes, centres[:, 1] + sizes))
    mixed = np.where(rng.random(n) < 0.3, shapely.multipolygons([[b] for b in boxes]), boxes)
    assert _decoded_geoms(mixed) == _geojson(mixed)


def test_display_geometries_in_the_working_crs_round_trip():
    frame = gpd.GeoDataFrame(geometry=[shapely.box(508000.123, 4443000.456, 508012.3, 4443009.9),
                                       shapely.Point(508100.0, 4443100.0)], crs=CRS)
    geoms = _display_geoms(frame)
    assert _decoded_geoms(geoms) == _geojson(geoms)


@pytest.mark.parametrize("values", [
    pd.Series([1.5, np.nan, -0.0, 0.0, 1e20, 3.14159, 1.5], dtype="float32"),
    pd.Series([2.0, 2.0, np.nan, 0.1 + 0.2, 0.3, -0.0]),
    pd.Series([1, 2, 2, 3, -7]), pd.Series([True, False, True]),
    pd.Series(pd.to_datetime(["2020-01-02", None, "2020-01-02"])),
    pd.Series([1, None, 2, 2], dtype="Int64"), pd.Series(np.array([1.5, 2.5, 1.5], dtype=np.float16)),
    pd.Series(["<b>", None, "<b>", "a&b"]), pd.Series([1, "1", True, 1.0], dtype=object),
    pd.Series(["x", "y", "x"], dtype="category"),
], ids=lambda s: str(s.dtype))
def test_escaped_columns_are_the_values_escaped_one_by_one(values):
    from maps.village import _esc, _esc_column

    assert _esc_column(values) == [_esc(v) for v in values.to_numpy(dtype=object)]


def test_each_overlay_is_added_to_the_map_once_and_listed_in_the_layer_control(tmp_path, village_factory):
    import re

    layers, findings, village = village_factory(n_parcels=12)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    names = re.findall(r"var (landguard_layer_\w+) = LandguardMap\.geoLayer\(", page)
    assert len(names) == len(raw_layers(page)) >= 6
    m = re.search(r"var (map_\w+) = L\.map\(", page)
    for name in names:
        assert page.count(f"{name}.addTo({m.group(1)});") == 1
    overlays = page[page.index("overlays :  {"):]
    overlays = overlays[:overlays.index("},")]
    assert sorted(re.findall(r'" : (landguard_layer_\w+),', overlays)) == sorted(names)


def test_finding_popups_send_their_fixed_text_once_per_layer(tmp_path, village_factory):
    from maps.village import _FINDING_PARTS, _joined

    layers, findings, village = village_factory(n_parcels=12)
    findings = pd.concat([findings.assign(case_id=findings["case_id"] + f"-{k}") for k in range(6)],
                         ignore_index=True)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    raw = [(d, o) for d, o in raw_layers(page) if o["kind"] == "finding"]
    assert raw and all(d["f"]["p"]["j"] == list(_FINDING_PARTS) for d, _ in raw)
    assert page.count("<tr><th>规则名称<\\/th><td>") == len(raw)                 # not once per finding
    popups = {f["properties"]["id"]: f["properties"]["p"] for d, o in geo_layers(page) if o["kind"] == "finding"
              for f in d["features"]}
    assert len(popups) == len(findings)
    one = popups[findings["case_id"].iloc[1]]
    assert one.startswith('<div class="lg-pop lg-pop-finding"><h4 style="border-color:') and one.endswith("</div>")
    assert "<tr><th>严重程度</th><td>中</td></tr>" in one
    assert popups["FARM-BUILD-001a-0"] == (
        '<div class="lg-pop lg-pop-finding"><h4 style="border-color:#e31a1c">乱占耕地建房 <small>FARM-BUILD</small></h4>'
        "<table><tr><th>规则名称</th><td>乱占耕地建房</td></tr><tr><th>严重程度</th><td>高</td></tr>"
        "<tr><th>实测与限值</th><td>实测 900 m²；限值 0 m²</td></tr><tr><th>面积</th><td>900 m²（1.35 亩）</td></tr>"
        "<tr><th>对象</th><td>房屋 001B9001</td></tr><tr><th>关联对象</th><td>—</td></tr>"
        "<tr><th>依据</th><td>京平政办发〔2021〕1号 四(七)14; 京平政发〔2021〕4号 五(三)</td></tr>"
        "<tr><th>状态</th><td>新增</td></tr><tr><th>案件编号</th><td>FARM-BUILD-001a-0</td></tr></table>"
        '<p class="lg-msg">房屋占用耕地 900 平方米。</p></div>')
    assert _joined(["<a>", "</a>"], ["x"]) == "<a>x</a>"


def test_joined_columns_round_trip_hostile_holes():
    from maps.village import _Joined

    evil = ["</script>", "{{ 7*7 }}", "<!--", "a&amp;b", ""]
    holes = [[evil[k % 5], evil[(k + 1) % 5], "同"] for k in range(9)]
    parts = ["<p>", "</p><p>", "</p>", "<i>end</i>"]
    geoms = _rounded(shapely.points(np.column_stack([np.linspace(116, 117, 9), np.full(9, 40.0)])))
    text = _layer_data(geoms, {"p": _Joined(parts, holes)})
    assert "</" not in text and "<!--" not in text
    data = json.loads(text)
    assert data["f"]["p"]["h"][2] == {"d": ["同"], "i": [0] * 9}
    got = [f["properties"]["p"] for f in decode(data)["features"]]
    assert got == ["".join(p + h for p, h in zip(parts, row)) + parts[-1] for row in holes]
