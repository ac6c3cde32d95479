"""Village maps and the index, checked on the written HTML (the browser tests check them running)."""

from __future__ import annotations

import base64
import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from maps.basemaps import BASEMAPS, basemap_layers, resolve_tianditu_tk
from maps.index import render_index
from maps.offline import inline_assets
from maps.village import render_village_map
from spatial.errors import ConfigError, DataQualityWarning, LayerError, OutputError, RasterError
from spatial.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

from .pagedata import _DECODER, _skip_ws, call_arg, geo_layers, raw_layers  # noqa: F401

def context_layer(page: str, title: str) -> tuple[dict, dict]:
    found = [(d, o) for d, o in geo_layers(page) if o.get("popup", {}).get("title") == title]
    assert len(found) == 1, title
    return found[0]


@pytest.fixture()
def rendered(tmp_path, village_factory, monkeypatch):
    monkeypatch.delenv("TIANDITU_TK", raising=False)
    layers, findings, village = village_factory()
    out = render_village_map(layers, findings, village, tmp_path / "maps" / "v.html")
    return out.read_text(encoding="utf-8"), layers, findings, village, out


def test_writes_one_self_contained_file(rendered):
    page, *_, out = rendered
    assert out.name == "v.html" and out.parent.name == "maps"
    assert [p.name for p in out.parent.iterdir()] == ["v.html"]  # no temp file left behind
    # no script or stylesheet from anywhere: everything is inline
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*stylesheet", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']https?://[^"']*\.(js|css)\b""", page, re.I)
    # what the map needs is really there
    assert "Leaflet 1.9.4" in page and "L.Control.Measure" in page and "L.control.fullscreen" in page
    assert "LandguardMap" in page and "<title>平谷镇 东村（110117001001）问题核查图</title>" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_attribute_values_are_escaped_and_ids_hidden(rendered, constants):
    page, *_ = rendered
    assert constants["XSS"] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert constants["ID_NUMBER"] not in page  # owner_id is never put on a map
    # the evil message cannot end a script element: it is escaped, and no raw </script> or <script>alert
    assert "alert(2)" in page and "<script>alert(2)" not in page
    assert page.count("</script>") == len(re.findall(r"<script\b", page))


def test_finding_features_equal_findings_grouped_by_family(rendered):
    page, layers, findings, *_ = rendered
    finding_layers = [(d, o) for d, o in geo_layers(page) if o["kind"] == "finding"]
    ids = [f["properties"]["id"] for d, _ in finding_layers for f in d["features"]]
    assert sorted(ids) == sorted(findings["case_id"])
    families = {o["style"]["color"] for _, o in finding_layers}
    assert len(finding_layers) == 4 == len(families)  # one layer and one colour per family
    by_id = {f["properties"]["id"]: f for d, _ in finding_layers for f in d["features"]}
    assert by_id["SITE-CEMETERY-001e"]["geometry"]["type"] == "Point"
    assert by_id["HOME-MULTI-001b"]["geometry"]["type"] == "MultiPolygon"
    assert by_id["FARM-BUILD-001a"]["properties"]["s"] == "high"
    # severity is drawn by weight: the layer options carry the weights
    weights = finding_layers[0][1]["weights"]
    assert weights["high"] > weights["medium"] > weights["low"]
    # the panel lists every finding with a button that zooms to it
    panel = call_arg(page, "panel")
    assert sorted(re.findall(r'data-case="([^"]+)"', panel)) == sorted(findings["case_id"])
    assert "问题 5 处" in panel


def test_finding_popup_in_chinese(rendered):
    page, *_ = rendered
    feats = {f["properties"]["id"]: f["properties"]["p"] for d, o in geo_layers(page) if o["kind"] == "finding"
             for f in d["features"]}
    drip = feats["SET-DRIP-001c"]
    for text in ("规则名称", "滴水距离不足", "实测 0.3 m；限值 0.5 m", "依据", "京平政发〔2021〕4号 附件2 五(六)",
                 "状态", "案件编号", "SET-DRIP-001c", "房屋 001B0002", "m²（", "亩）"):
        assert text in drip, text
    farm = feats["FARM-BUILD-001a"]
    assert "900 m²（1.35 亩）" in farm and "新增" in farm and "高" in farm
    multi = feats["HOME-MULTI-001b"]
    assert "001P0000；001P0001" in multi and "存量" in multi
    assert "&lt;/script&gt;&lt;script&gt;alert(2)" in multi


def test_context_layers_and_popups(rendered):
    page, layers, *_ = rendered
    titles = [o["popup"]["title"] for _, o in geo_layers(page) if o["kind"] == "context"]
    # bottom to top; the empty eco red line is left out
    assert titles == ["行政村", "永久基本农田", "耕地", "道路", "宅基地", "房屋"]
    data, opts = context_layer(page, "宅基地")
    assert opts["popup"]["rows"] == ["权利人", "户编号", "批准日期", "批准面积 (m²)", "图形面积"]
    first = data["features"][0]["properties"]["v"]
    assert first[0] == "001P0000" and first[3] == "2015-06-01" and first[4] == "200"
    assert len(data["features"]) == len(layers["parcels"])
    legend = call_arg(page, "legend")
    assert "图例" in legend and "宅基地" in legend and "耕地“非农化”问题" in legend


def test_coordinates_rounded_and_simplified(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=10, vertices=400)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    data, _ = context_layer(page, "宅基地")
    coords = [c for f in data["features"] for c in f["geometry"]["coordinates"][0]]
    text = json.dumps(data["features"][0]["geometry"])
    decimals = [len(d) for d in re.findall(r"\d+\.(\d+)", text)]
    assert max(decimals) <= 7
    # 400-gons with 5 cm wiggles: fewer vertices, and still within 0.2 m (+1 cm rounding) of the original
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert 10 < len(ring) < 400
    shown = gpd.GeoSeries([shapely.Polygon(ring)], crs=4326).to_crs(4548).iloc[0]
    original = layers["parcels"].geometry.iloc[0]
    assert shapely.hausdorff_distance(shown, original) <= 0.21
    assert len(coords) > 0


def test_500_parcels_stay_under_0_6_mb(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=500, vertices=24)
    out = render_village_map(layers, findings, village, tmp_path / "big.html")
    page = out.read_text(encoding="utf-8")
    data, _ = context_layer(page, "宅基地")
    assert len(data["features"]) == 500
    assert len(context_layer(page, "房屋")[0]["features"]) == 499
    # Leaflet and the runtime are ~0.21 MB; the data in the compact form ~0.23 MB (GeoJSON text: 0.81 MB in all)
    assert out.stat().st_size < 600_000


def test_missing_layers_and_no_findings(tmp_path, village_factory):
    layers, findings, village = village_factory(findings=False)
    only = {"villages": layers["villages"], "parcels": layers["parcels"].iloc[:0]}
    page = render_village_map(only, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    assert [o["popup"]["title"] for _, o in geo_layers(page)] == ["行政村"]
    assert "本村未发现问题" in call_arg(page, "panel")
    # no findings: fitted to the village polygon
    fit = call_arg(page, "ready")
    bounds = layers["villages"].to_crs(4326).total_bounds
    assert np.ravel(fit) == pytest.approx([bounds[1], bounds[0], bounds[3], bounds[2]], abs=1e-6)


def test_nothing_to_map_and_bad_village_record(tmp_path, village_factory):
    layers, findings, village = village_factory(findings=False)
    with pytest.raises(LayerError, match="nothing to map"):
        render_village_map({}, findings, village, tmp_path / "v.html")
    with pytest.raises(LayerError, match="township"):
        render_village_map(layers, findings, {"village_id": "1", "name": "x"}, tmp_path / "v.html")
    assert not (tmp_path / "v.html").exists()


def test_rewrite_replaces_the_file_atomically(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=5)
    out = tmp_path / "v.html"
    out.write_text("old", encoding="utf-8")
    render_village_map(layers, findings, village, out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.html"]


def test_basemaps_tianditu_needs_a_key(tmp_path, village_factory, monkeypatch):
    monkeypatch.delenv("TIANDITU_TK", raising=False)
    assert [b.layer_name for b in basemap_layers()] == ["离线底图（无需网络）", "Esri 影像", "OpenStreetMap",
                                                        "高德地图（GCJ-02）"]
    assert resolve_tianditu_tk("${TIANDITU_TK}") is None
    layers, findings, village = village_factory(n_parcels=3)
    page = render_village_map(layers, findings, village, tmp_path / "a.html").read_text(encoding="utf-8")
    assert "tianditu" not in page
    monkeypatch.setenv("TIANDITU_TK", "k3y&x")
    page = render_village_map(layers, findings, village, tmp_path / "b.html").read_text(encoding="utf-8")
    assert page.count("tk=k3y%26x") == 4  # img + cia, vec + cva
    assert page.count("img_w/wmts") == page.count("cia_w/wmts") == 1
    assert page.count("vec_w/wmts") == page.count("cva_w/wmts") == 1
    page = render_village_map(layers, findings, village, tmp_path / "c.html", basemaps=["gaode", "osm"],
                              tianditu_tk="abc").read_text(encoding="utf-8")
    assert "tianditu" not in page and '"gcj02":true' not in page  # flag is passed as an argument
    assert re.search(r"LandguardMap\.base\(\[[^\]]*autonavi[^\]]*\], true, false\)", page)
    with pytest.raises(ConfigError, match="unknown basemap 'bing'"):
        basemap_layers(["bing"])
    assert BASEMAPS["gaode"].gcj02 and not BASEMAPS["osm"].gcj02


def test_offline_background_is_shown_first_unless_online_is_asked(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=3)
    for online in (False, True):
        page = render_village_map(layers, findings, village, tmp_path / "v.html", basemaps=("gaode", "osm"),
                                  start_online=online).read_text(encoding="utf-8")
        calls = re.findall(r"var (\w+) = LandguardMap\.base\((\[[^\]]*\]), (true|false), (true|false)\)", page)
        assert len(calls) == 3
        assert [c[1] == "[]" for c in calls] == [True, False, False]  # the tile-less offline one first
        assert [c[3] for c in calls] == ["true", "false", "false"]    # flagged as the fallback
        added = [c[0] for c in calls if re.search(rf"\b{c[0]}\.addTo\(", page)]
        # only one base layer on the map at start: offline, or the first online one (Gaode) when asked
        assert added == [calls[1][0] if online else calls[0][0]]


def _write_ortho(path, crs, transform, width, height, count=3, dtype="uint8", nodata=None):
    yy, xx = np.mgrid[0:height, 0:width]
    bands = np.stack([1 + (xx * 254 // max(width - 1, 1)), 1 + (yy * 254 // max(height - 1, 1)),
                      np.full_like(xx, 128)])[:count].astype(dtype)
    if nodata is not None:
        bands[:, : height // 3, :] = nodata  # the northern third is nodata
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=count, dtype=dtype,
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(bands)


def _image_call(page: str) -> tuple[str, list]:
    """(data URL, bounds) of the orthophoto overlay."""
    m = re.search(r"LandguardMap\.image\(\s*\w+,\s*", page)
    assert m, "no image overlay"
    url, end = _DECODER.raw_decode(page, m.end())
    bounds, _ = _DECODER.raw_decode(page, _skip_ws(page, _skip_ws(page, end) + 1))
    return url, bounds


def _png_of(page: str) -> np.ndarray:
    url, _ = _image_call(page)
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with MemoryFile(base64.b64decode(url[len(prefix):])) as mem, mem.open() as png:
            assert png.driver == "PNG"
            return png.read()


def test_orthophoto_clipped_warped_and_toggleable(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=3)
    x0, y0, x1, y1 = layers["villages"].total_bounds
    # 2 km x 2 km at 1 m, much larger than the village: only the village's window is read
    tif = tmp_path / "ortho.tif"
    _write_ortho(tif, "EPSG:4548", from_origin(x0 - 1000, y1 + 1000, 1.0, 1.0), 2000, 2000)
    page = render_village_map(layers, findings, village, tmp_path / "v.html", ortho=tif,
                              ortho_max_px=256).read_text(encoding="utf-8")
    img = _png_of(page)
    assert img.shape[0] == 4 and max(img.shape[1:]) <= 300
    assert img[3].min() == 255  # raster covers the whole window: fully opaque
    assert "\\u6b63\\u5c04\\u5f71\\u50cf" in page  # "正射影像" in the layer control (JSON-escaped)
    _, bounds = _image_call(page)
    vb = layers["villages"].to_crs(4326).total_bounds
    (s, w), (n, e) = bounds
    assert w < vb[0] < vb[2] < e and s < vb[1] < vb[3] < n
    assert e - w < (vb[2] - vb[0]) * 1.5  # clipped near the village, not the whole 2 km raster


def test_orthophoto_in_other_crs_partial_and_outside(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=3)
    w, s, e, n = layers["villages"].to_crs(4326).total_bounds
    # 16-bit single band in lon/lat covering only the western half, its northern third nodata:
    # stretched to grey, clipped to what it covers, transparent where nodata
    tif = tmp_path / "geo.tif"
    res = 0.00002
    half = (w + e) / 2
    width = int(round((half - (w - 0.001)) / res))
    height = int(round((n - s + 0.002) / res))
    _write_ortho(tif, "EPSG:4326", from_origin(w - 0.001, n + 0.001, res, res), width, height, count=1,
                 dtype="uint16", nodata=0)
    page = render_village_map(layers, findings, village, tmp_path / "v.html", ortho=tif,
                              ortho_max_px=200).read_text(encoding="utf-8")
    img = _png_of(page)
    _, ((south, west), (north, east)) = _image_call(page)
    assert east == pytest.approx(w - 0.001 + width * res, abs=2 * res) and east < e
    rows = img.shape[1]
    assert (img[3][: rows // 6] == 0).all() and (img[3][rows // 2:] == 255).all()
    opaque = img[3] == 255
    assert np.array_equal(img[0][opaque], img[1][opaque]) and img[0][opaque].std() > 10  # grey ramp
    far = tmp_path / "far.tif"
    _write_ortho(far, "EPSG:4548", from_origin(400000, 4300000, 1.0, 1.0), 50, 50)
    with pytest.warns(DataQualityWarning, match="does not cover"):
        page = render_village_map(layers, findings, village, tmp_path / "w.html", ortho=far).read_text(
            encoding="utf-8")
    assert "LandguardMap.image(" not in page


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_unusable_orthophoto_is_a_raster_error(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=3)
    with pytest.raises(RasterError, match="missing.tif: cannot open"):
        render_village_map(layers, findings, village, tmp_path / "v.html", ortho=tmp_path / "missing.tif")
    bare = tmp_path / "bare.tif"
    with rasterio.open(bare, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as dst:
        dst.write(np.zeros((1, 4, 4), dtype="uint8"))
    with pytest.raises(RasterError, match="no CRS"):
        render_village_map(layers, findings, village, tmp_path / "v.html", ortho=bare)
    assert not (tmp_path / "v.html").exists()


def test_inline_assets_refuses_unknown_remote_code():
    with pytest.raises(OutputError, match="not vendored"):
        inline_assets('<script src="https://example.com/tracker.js"></script>')
    with pytest.raises(OutputError, match="not vendored"):
        inline_assets('<link rel="stylesheet" href="//cdn.example.com/x.css"/>')
    out = inline_assets('<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>')
    assert out.startswith("<style>") and "data:image/png;base64," in out and "images/layers.png" not in out


def test_index_lists_villages_with_counts_and_links(tmp_path):
    df = pd.DataFrame({
        "village_id": ["110117001001", "110117001002", "110117002001"],
        "village": ["东村", "<b>西村</b>", "南村"], "township": ["平谷镇", "平谷镇", "王辛庄镇"],
        "href": ["110117001001.html", "villages/西村.html", "110117002001.html"],
        "farmland": [3, 0, 1], "homestead": [2, 1, 0], "setback": [1, 0, 0], "siting": [0, 0, np.nan],
    })
    out = render_index(df, tmp_path / "index.html")
    page = out.read_text(encoding="utf-8")
    for head in ("乡镇", "行政村", "村代码", "耕地“非农化”", "宅基地", "相邻权益与退让", "公墓选址", "合计", "地图"):
        assert f"{head}</th>" in page, head
    assert "&lt;b&gt;西村&lt;/b&gt;" in page and "<b>西村" not in page
    assert 'href="villages/%E8%A5%BF%E6%9D%91.html"' in page
    assert page.count("打开地图</a>") == 3
    totals = [re.findall(r'data-v="(\d+)"', row)[-1] for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page)[1:4]]
    assert totals == ["6", "1", "1"]  # per village
    assert "共 3 个行政村，问题 8 处" in page
    assert not re.search(r"<script[^>]*\bsrc|<link[^>]*stylesheet", page)
    with pytest.raises(LayerError, match="relative path"):
        render_index(df.assign(href="javascript:alert(1)"), tmp_path / "bad.html")
    with pytest.raises(LayerError, match="href"):
        render_index(df.drop(columns="href"), tmp_path / "bad.html")


def test_gcj02_used_for_display_matches_runtime_formula():
    # the JS runtime carries the same constants as spatial/gcj02.py
    from maps.offline import asset_text

    js = asset_text("landguard/landguard.js")
    assert "6378245.0" in js and "0.00669342162296594323" in js
    lon, lat = wgs84_to_gcj02(117.1, 40.14)
    assert gcj02_to_wgs84(lon, lat) == pytest.approx((117.1, 40.14), abs=1e-9)


def test_first_view_frames_the_findings_and_the_bar_names_project_and_date(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=60)
    page = render_village_map(layers, findings, village, tmp_path / "v.html", project="{{ 7*7 }}<b>项目</b>",
                              run_date=pd.Timestamp("2026-09-30").date()).read_text(encoding="utf-8")
    fit = np.ravel(call_arg(page, "ready"))
    w, s_, e, n = findings.to_crs(4326).total_bounds
    assert fit == pytest.approx([s_, w, n, e], abs=2e-7)
    vw, vs, ve, vn = layers["villages"].to_crs(4326).total_bounds
    assert (fit[3] - fit[1]) < (ve - vw)  # tighter than the village
    bar = call_arg(page, "bar")
    assert "{{ 7*7 }}&lt;b&gt;项目&lt;/b&gt;" in bar and "2026-09-30" in bar and "东村" in bar
    assert "<b>" not in bar


def test_first_view_stays_on_the_village_when_a_finding_reaches_far_away(tmp_path, village_factory):
    # a household's parcels 5 km away (HOME-MULTI's geometry is the union of all of them) must not open
    # the map at district scale: the first view keeps to the village and a tenth of its size around it
    layers, findings, village = village_factory(n_parcels=60)
    i = findings.index[findings["rule_id"] == "HOME-MULTI"][0]
    g = findings.geometry.loc[i]
    far = g.union(shapely.affinity.translate(g.buffer(5), 5000, 5000))
    findings = findings.copy()
    findings.loc[i, "geometry"] = far
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    fit = np.ravel(call_arg(page, "ready"))                        # [south, west, north, east]
    vw, vs, ve, vn = layers["villages"].to_crs(4326).total_bounds
    assert fit[2] <= vn + (vn - vs) * 0.1 + 1e-7 and fit[3] <= ve + (ve - vw) * 0.1 + 1e-7
    near = findings.drop(index=i).to_crs(4326).total_bounds
    assert fit[0] <= near[1] and fit[1] <= near[0]                 # the findings in the village still framed


def test_neighbours_flagged_and_search_keys_hold_masked_owner(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=10)
    own = layers["villages"]
    other = own.assign(village_id="110117001009", name="邻村", geometry=own.geometry.translate(0, 400))
    layers["villages"] = pd.concat([own, other], ignore_index=True)
    page = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    data, opts = context_layer(page, "行政村")
    assert [f["properties"]["o"] for f in data["features"]] == [1, 0]
    assert opts["own"]["weight"] > opts["other"]["weight"] and opts["other"]["fill"] is True
    panel = call_arg(page, "panel")
    multi = findings.loc[findings["rule_id"] == "HOME-MULTI"].iloc[0]
    owner = layers["parcels"].set_index("parcel_id").loc[multi.subject_id, "owner_name"]
    assert f'data-q="{multi.case_id.lower()} {multi.subject_id.lower()} {owner.lower()}"' in panel
    assert 'class="lg-search"' in panel


def test_index_overview_map_data_is_escaped_and_coloured_by_cases(tmp_path):
    box = shapely.box(508000, 4443000, 508600, 4443400)
    df = pd.DataFrame({"village_id": ["110117001001", "110117001002", "110117001003"],
                       "village": ["东村", "</script><script>alert(1)</script>", "{{ 7*7 }}"],
                       "township": ["平谷镇"] * 3, "href": ["a.html", "b.html", "c.html"],
                       "farmland": [0, 2, 40]})
    shapes = gpd.GeoDataFrame({"village_id": df["village_id"]},
                              geometry=[box, shapely.affinity.translate(box, 700), shapely.affinity.translate(box, 1400)],
                              crs=4548)
    page = render_index(df, tmp_path / "index.html", geometries=shapes, project="项目<甲>",
                        run_date="2026-09-30").read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="lg-overview-data">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1))
    props = {f["properties"]["id"]: f["properties"] for f in data["villages"]["features"]}
    assert [props[v]["c"] for v in df["village_id"]] == ["#e8f3e8", "#fee8c8", "#990000"]  # 0, 1-2, >= 30
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in props["110117001002"]["t"]
    assert "{{ 7*7 }}" in props["110117001003"]["t"] and "49" not in props["110117001003"]["t"]
    assert props["110117001001"]["h"] == "a.html"
    assert "项目：项目&lt;甲&gt;" in page and "检查日期：2026-09-30" in page
    assert page.count("<script>alert(1)") == 0
    # every village name is a link to its map
    assert re.findall(r'<td data-v="[^"]*"><a href="([^"]+)">', page) == ["a.html", "b.html", "c.html"]
    assert not re.search(r"<script[^>]*\bsrc|<link[^>]*stylesheet|https?://", page.split("</style>", 2)[-1])


def test_district_wide_polygons_are_cut_to_the_village_for_drawing(tmp_path, village_factory):
    layers, findings, village = village_factory(n_parcels=10)
    x0, y0, x1, y1 = layers["villages"].total_bounds
    # a 20 km red line with a vertex every 2 m of its ring: its whole outline would be ~40 000 points
    t = np.linspace(0, 2 * np.pi, 40000, endpoint=False)
    ring = np.c_[x0 + 10000 * np.cos(t), y0 + 10000 * np.sin(t)]
    layers["eco_redline"] = gpd.GeoDataFrame({"name": ["生态红线"]}, geometry=[shapely.Polygon(ring)], crs=4548)
    out = render_village_map(layers, findings, village, tmp_path / "v.html")
    page = out.read_text(encoding="utf-8")
    data, opts = context_layer(page, "生态保护红线")
    shown = gpd.GeoSeries([shapely.geometry.shape(data["features"][0]["geometry"])], crs=4326).to_crs(4548)
    bx0, by0, bx1, by1 = shown.total_bounds
    from maps.village import CLIP_MARGIN_M
    m = CLIP_MARGIN_M + 1.0
    assert bx0 >= x0 - m and by0 >= y0 - m and bx1 <= x1 + m and by1 <= y1 + m
    assert out.stat().st_size < 600_000
    # the popup still gives the whole polygon's area
    area = data["features"][0]["properties"]["v"][-1]
    assert area.startswith(f"{shapely.Polygon(ring).area:,.1f}".rstrip("0").rstrip(".")[:6])


def test_display_columns_keep_what_the_page_reads():
    from maps.village import display_columns

    cols = ["parcel_id", "village_id", "owner_name", "owner_id", "household_id", "approved_area_m2", "remark_x"]
    kept = display_columns("parcels", cols)
    assert "owner_id" not in kept and "remark_x" not in kept
    assert {"parcel_id", "owner_name", "approved_area_m2"} <= set(kept)
    assert set(display_columns("villages", ["village_id", "name", "township", "x"])) == {"village_id", "name",
                                                                                        "township"}
