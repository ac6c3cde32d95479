"""The index and two village maps opened from file:// in headless Chromium with the network blocked.

Needs Debian's chromium (``bash tools/ensure-chromium.sh``) and Playwright for Python; these tests fail,
never skip, when either is missing. Only basemap tiles may try the network: they are aborted, and
every other request must be a local file.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from maps.index import render_index
from maps.village import render_village_map
from spatial.gcj02 import wgs84_to_gcj02

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LANDGUARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
#: A 1 x 1 grey PNG, served as every tile when a test needs online tiles that load.
TILE_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                         "1f15c4890000000d49444154789c63d8d8d8f80f0004fe02fea3b1f1e70000000049454e44ae426082")


# --------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"headless Chromium not found at {CHROMIUM}: run `bash tools/ensure-chromium.sh` "
                    "(installs Debian's chromium with apt-get)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed: `.venv/bin/pip install playwright` "
                    "(never `playwright install`: the tests drive Debian's chromium)", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _ortho(path: Path, bounds) -> Path:
    x0, y0, x1, y1 = bounds
    width, height = int(x1 - x0) // 2 + 40, int(y1 - y0) // 2 + 40
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([60 + (xx % 40), 90 + (yy % 30), np.full_like(xx, 60)]).astype("uint8")
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=3, dtype="uint8",
                       crs="EPSG:4548", transform=from_origin(x0 - 40, y1 + 40, 2.0, 2.0)) as dst:
        dst.write(rgb)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory, village_factory):
    """index.html and two village maps, as ``landguard maps`` writes them."""
    out = tmp_path_factory.mktemp("site")
    saved = os.environ.pop("TIANDITU_TK", None)
    try:
        layers_a, findings_a, village_a = village_factory("110117001001", "东村", "平谷镇", n_parcels=60)
        ortho = _ortho(out / "ortho.tif", layers_a["villages"].total_bounds)
        own = layers_a["villages"]
        x0, y0, x1, y1 = own.total_bounds
        neighbour = gpd.GeoDataFrame({"village_id": ["110117001002"], "name": ["北村"], "township": ["平谷镇"]},
                                     geometry=[shapely.box(x0, y1, x1, y1 + 150.0)], crs=own.crs)
        layers_a["villages"] = pd.concat([own, neighbour], ignore_index=True)
        path_a = render_village_map(layers_a, findings_a, village_a, out / "villages" / "110117001001.html",
                                    ortho=ortho, ortho_max_px=512, project="平谷区 2026 年第三季度核查",
                                    run_date=pd.Timestamp("2026-09-30").date())
        layers_b, findings_b, village_b = village_factory("110117002003", "西村", "王辛庄镇", n_parcels=20,
                                                          x0=509500.0, y0=4444000.0)
        findings_b = findings_b.iloc[:3].reset_index(drop=True)
        path_b = render_village_map(layers_b, findings_b, village_b, out / "villages" / "110117002003.html",
                                    basemaps=("gaode", "osm"), start_online=True)
        # a long list (40 findings): the side panel and the legend would meet on a desktop
        findings_d = pd.concat([findings_a.assign(case_id=findings_a["case_id"] + f"-{k}") for k in range(8)],
                               ignore_index=True)
        path_d = render_village_map(layers_a, findings_d, village_a, out / "villages" / "long.html")
        # online first, no orthophoto: with the network blocked it must fall back to the offline background
        path_c = render_village_map(layers_b, findings_b, village_b, out / "villages" / "online.html",
                                    basemaps=("esri-imagery", "osm"), start_online=True)
    finally:
        if saved is not None:
            os.environ["TIANDITU_TK"] = saved

    def counts(v, f):
        by = f["family"].value_counts()
        row = {"village_id": v["village_id"], "village": v["name"], "township": v["township"],
               "href": f"villages/{v['village_id']}.html"}
        row.update({fam: int(by.get(fam, 0)) for fam in ("farmland", "homestead", "setback", "siting")})
        row["total"] = len(f)
        return row

    table = pd.DataFrame([counts(village_b, findings_b), counts(village_a, findings_a)])
    shapes = pd.concat([layers_a["villages"].iloc[:1], layers_b["villages"]], ignore_index=True)
    index = render_index(table, out / "index.html", geometries=shapes, project="平谷区 2026 年第三季度核查",
                         run_date="2026-09-30")
    return {"index": index, "a": (path_a, layers_a, findings_a, village_a),
            "b": (path_b, layers_b, findings_b, village_b), "c": (path_c, layers_b, findings_b, village_b),
            "d": (path_d, layers_a, findings_d, village_a)}


class Opened:
    """A page and everything it logged."""

    def __init__(self, page, log):
        self.page = page
        self.log = log

    def js(self, code: str, arg=None):
        return self.page.evaluate(code, arg)

    def assert_clean(self):
        """No JS error, no dialog; the only failed loads are blocked tiles (images from http)."""
        blocked = {url for _, url in self.log["blocked"]}
        errors = [m for m in self.log["console"] if m[0] == "error"
                  and not (m[1].startswith("Failed to load resource") and m[2] in blocked)]
        assert errors == [], errors
        assert self.log["pageerror"] == []
        assert self.log["dialogs"] == [], "a script ran an alert()"
        assert {kind for kind, _ in self.log["blocked"]} <= {"image"}, self.log["blocked"]
        assert all(url.startswith(("http://", "https://")) for _, url in self.log["blocked"])


@pytest.fixture()
def open_page(browser):
    contexts = []

    def _open(path: Path, *, map_ready: bool = True, viewport: dict | None = None, tiles: bool = False) -> Opened:
        """Open ``path``; http(s) requests are aborted, or with ``tiles`` answered with a grey PNG tile."""
        ctx = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block", locale="zh-CN")
        contexts.append(ctx)
        log = {"console": [], "pageerror": [], "dialogs": [], "blocked": [], "served": []}

        def route(r):
            url = r.request.url
            if url.startswith(("file://", "data:", "blob:")):
                r.continue_()
            elif tiles and r.request.resource_type == "image":
                log["served"].append(url)
                r.fulfill(status=200, content_type="image/png", body=TILE_PNG)
            else:
                log["blocked"].append((r.request.resource_type, url))
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("console", lambda m: log["console"].append((m.type, m.text, m.location.get("url", ""))))
        page.on("pageerror", lambda e: log["pageerror"].append(str(e)))

        def dialog(d):
            log["dialogs"].append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.as_uri())
        if map_ready:
            page.wait_for_selector("html[data-lg-ready='1']", state="attached", timeout=15000)
        return Opened(page, log)

    yield _open
    for ctx in contexts:
        ctx.close()


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def _inside_wgs84(geom, crs="EPSG:4548") -> tuple[float, float]:
    """(lat, lon) of a point inside ``geom``."""
    p = gpd.GeoSeries([shapely.point_on_surface(geom)], crs=crs).to_crs(4326).iloc[0]
    return p.y, p.x


def _click_at(o: Opened, lat: float, lon: float, zoom: int = 19):
    """Centre the map on (lat, lon) at ``zoom`` and click there with the mouse."""
    x, y = o.js("""([lat, lon, zoom]) => {
        const m = LandguardMap.state.map;
        m.closePopup();
        let ll = [lat, lon];
        if (LandguardMap.state.gcj) { const g = LandguardMap.gcj02(lon, lat); ll = [g[1], g[0]]; }
        m.setView(ll, zoom, {animate: false});
        const p = m.latLngToContainerPoint(ll), r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""", [lat, lon, zoom])
    o.page.mouse.click(x, y)


def _popup_text(o: Opened) -> str:
    """Text of the open popup (once a closing one has faded out)."""
    o.page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1", timeout=5000)
    popup = o.page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5000)
    return popup.inner_text()


def _feature_centre(o: Opened, case_id: str) -> list[float]:
    return o.js("""(id) => {
        const c = LandguardMap.state.byCase[id].getBounds().getCenter();
        return [c.lng, c.lat];
    }""", case_id)


def _switch_base(o: Opened, label: str):
    o.page.hover(".leaflet-control-layers")
    o.page.locator(".leaflet-control-layers-base label", has_text=label).click()
    o.page.mouse.move(640, 780)


# --------------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------------
def test_index_lists_sorts_and_links(open_page, site):
    o = open_page(site["index"], map_ready=False)
    rows = o.page.locator("#lg-villages tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").nth(1).inner_text() == "西村"
    o.page.locator("th", has_text="合计").click()  # counts: largest first
    assert rows.nth(0).locator("td").nth(1).inner_text() == "东村"
    o.page.locator("th", has_text="合计").click()
    assert rows.nth(0).locator("td").nth(1).inner_text() == "西村"
    o.page.locator("th", has_text="行政村").click()  # text: pinyin order, dōng before xī
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)] == ["东村", "西村"]
    o.assert_clean()
    o.page.locator("tr", has_text="东村").get_by_role("link", name="东村").click()
    o.page.wait_for_selector("html[data-lg-ready='1']", state="attached", timeout=15000)
    assert o.page.title() == "平谷镇 东村（110117001001）问题核查图"
    o.assert_clean()


@pytest.mark.parametrize("which", ["a", "b"])
def test_village_map_shows_every_layer_and_finding(open_page, site, which):
    path, layers, findings, village = site[which]
    o = open_page(path, tiles=(which == "b"))  # b opens on Gaode: its tiles load
    page = o.page
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator(".leaflet-control-measure").count() == 1
    assert page.locator(".lg-legend").count() == 1
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    overlays = [t.strip() for t in overlays]
    expected = [f"行政村（{len(layers['villages'])}）", "永久基本农田（1）", "耕地（1）", "道路（1）",
                f"宅基地（{len(layers['parcels'])}）", f"房屋（{len(layers['buildings'])}）"]
    by_family = findings["family"].value_counts()
    names = {"farmland": "耕地“非农化”", "homestead": "宅基地", "setback": "相邻权益与退让", "siting": "公墓选址"}
    expected += [f"{names[f]}问题（{by_family[f]}）" for f in names if f in by_family]
    if which == "a":
        expected = ["正射影像"] + expected
    assert overlays == expected
    bases = [t.strip() for t in page.locator(".leaflet-control-layers-base label").all_inner_texts()]
    assert bases == (["离线底图（无需网络）", "Esri 影像", "OpenStreetMap", "高德地图（GCJ-02）"] if which == "a"
                     else ["离线底图（无需网络）", "高德地图（GCJ-02）", "OpenStreetMap"])
    checked = page.locator(".leaflet-control-layers-base input:checked").locator("xpath=..").inner_text().strip()
    assert checked == ("离线底图（无需网络）" if which == "a" else "高德地图（GCJ-02）")
    # every context feature and every finding is drawn
    n_context = sum(len(f) for f in layers.values())
    assert page.locator("path.lg-ctx").count() == n_context
    assert page.locator("path[data-case]").count() == len(findings)
    assert sorted(page.locator("path[data-case]").evaluate_all("ps => ps.map(p => p.getAttribute('data-case'))")) \
        == sorted(findings["case_id"])
    assert o.js("LandguardMap.count('finding')") == len(findings)
    assert page.locator(".lg-panel button[data-case]").count() == len(findings)
    assert page.locator(".leaflet-image-layer").count() == (1 if which == "a" else 0)
    # the first view frames the findings: all inside the view, closer than the whole village
    w, s, e, n = findings.to_crs(4326).total_bounds
    inside = o.js("""([s, w, n, e]) => {
        const b = LandguardMap.state.map.getBounds();
        let sw = [s, w], ne = [n, e];
        if (LandguardMap.state.gcj) {
            const a = LandguardMap.gcj02(w, s), c = LandguardMap.gcj02(e, n);
            sw = [a[1], a[0]]; ne = [c[1], c[0]];
        }
        return b.contains(L.latLngBounds(sw, ne));
    }""", [s, w, n, e])
    assert inside
    own = layers["villages"].iloc[:1].to_crs(4326).total_bounds
    village_zoom = o.js("""([s, w, n, e]) => LandguardMap.state.map.getBoundsZoom(L.latLngBounds([s, w], [n, e]))""",
                        [own[1], own[0], own[3], own[2]])
    assert o.js("LandguardMap.state.map.getZoom()") >= village_zoom
    o.assert_clean()


def test_clicking_each_finding_opens_its_popup_with_the_basis(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path)
    for row in findings.itertuples():
        lat, lon = _inside_wgs84(row.geometry)
        _click_at(o, lat, lon)
        text = _popup_text(o)
        assert row.basis in text, (row.case_id, text)
        assert row.case_id in text and row.rule_name in text and "规则名称" in text and "依据" in text
        assert o.page.locator(f'.lg-panel button.lg-active[data-case="{row.case_id}"]').count() == 1
    o.assert_clean()


def test_panel_entry_zooms_to_its_finding_and_opens_the_popup(open_page, site):
    path, layers, findings, village = site["b"]
    o = open_page(path, tiles=True)
    target = findings.loc[findings["rule_id"] == "SET-DRIP"].iloc[0]
    zoom_before = o.js("LandguardMap.state.map.getZoom()")
    # the family layer may be switched off: the panel switches it back on
    o.page.hover(".leaflet-control-layers")
    o.page.locator(".leaflet-control-layers-overlays label", has_text="相邻权益与退让").locator("input").uncheck()
    o.page.mouse.move(640, 780)
    assert o.page.locator(f'path[data-case="{target.case_id}"]').count() == 0
    o.page.locator(f'.lg-panel button[data-case="{target.case_id}"]').click()
    text = _popup_text(o)
    assert target.case_id in text and target.basis in text and "实测 0.3 m；限值 0.5 m" in text
    assert o.js("LandguardMap.state.map.getZoom()") > zoom_before
    assert o.js("""(id) => LandguardMap.state.map.getBounds().contains(
        LandguardMap.state.byCase[id].getBounds())""", target.case_id)
    o.assert_clean()


def test_script_in_attributes_renders_as_text(open_page, site, constants):
    path, layers, findings, village = site["a"]
    o = open_page(path)
    parcels = layers["parcels"]
    evil = parcels.loc[parcels["owner_name"] == constants["XSS"]].iloc[0]
    _click_at(o, *_inside_wgs84(evil.geometry))
    text = _popup_text(o)
    assert evil.parcel_id in text and constants["XSS"] in text
    assert o.page.locator(".leaflet-popup-content script").count() == 0
    multi = findings.loc[findings["rule_id"] == "HOME-MULTI"].iloc[0]
    o.page.locator(f'.lg-panel button[data-case="{multi.case_id}"]').click()
    assert constants["EVIL_MESSAGE"] in _popup_text(o)
    assert o.page.locator(".leaflet-popup-content script").count() == 0
    assert o.js("document.querySelectorAll('script').length") == o.js(
        "document.querySelectorAll('head script').length + document.querySelectorAll('body script').length")
    o.assert_clean()  # no alert() dialog


def test_gaode_basemap_shifts_overlays_to_gcj02_and_back(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path, tiles=True)
    cid = findings.loc[findings["rule_id"] == "FARM-BUILD", "case_id"].iloc[0]
    assert o.js("document.documentElement.getAttribute('data-lg-datum')") == "wgs84"
    lon, lat = _feature_centre(o, cid)
    img_before = o.js("LandguardMap.state.images[0].getBounds().getSouthWest()")
    _switch_base(o, "高德地图（GCJ-02）")
    assert o.js("document.documentElement.getAttribute('data-lg-datum')") == "gcj02"
    glon, glat = _feature_centre(o, cid)
    assert (glon, glat) == pytest.approx(wgs84_to_gcj02(lon, lat), abs=1e-6)
    assert abs(glon - lon) > 0.003  # really moved (several hundred metres)
    img_after = o.js("LandguardMap.state.images[0].getBounds().getSouthWest()")
    assert (img_after["lng"], img_after["lat"]) == pytest.approx(
        wgs84_to_gcj02(img_before["lng"], img_before["lat"]), abs=1e-6)
    # the finding is still clickable where the GCJ-02 tiles show it
    row = findings.loc[findings["case_id"] == cid].iloc[0]
    _click_at(o, *_inside_wgs84(row.geometry))
    assert cid in _popup_text(o)
    _switch_base(o, "Esri 影像")
    assert o.js("document.documentElement.getAttribute('data-lg-datum')") == "wgs84"
    assert o.js("document.documentElement.getAttribute('data-lg-offline')") is None  # tiles loaded: no fallback
    assert _feature_centre(o, cid) == pytest.approx([lon, lat], abs=1e-9)
    o.assert_clean()


def test_map_whose_first_basemap_is_gaode_opens_in_gcj02(open_page, site):
    path, layers, findings, village = site["b"]
    o = open_page(path, tiles=True)
    assert o.js("document.documentElement.getAttribute('data-lg-datum')") == "gcj02"
    row = findings.iloc[0]
    lat, lon = _inside_wgs84(row.geometry)
    centre = _feature_centre(o, row.case_id)
    c = gpd.GeoSeries([row.geometry], crs="EPSG:4548").to_crs(4326).iloc[0].bounds
    assert centre == pytest.approx(list(wgs84_to_gcj02((c[0] + c[2]) / 2, (c[1] + c[3]) / 2)), abs=1e-6)
    _click_at(o, lat, lon)
    assert row.basis in _popup_text(o)
    o.assert_clean()


def test_measure_tool_reports_area_in_mu(open_page, site):
    path, *_ = site["a"]
    o = open_page(path)
    o.page.locator(".leaflet-control-measure").hover()
    o.page.get_by_text("开始一次新的测量").click()
    for x, y in [(420, 420), (620, 420), (620, 600)]:
        o.page.mouse.click(x, y)
        o.page.wait_for_timeout(120)
    o.page.get_by_text("完成测量").click()
    text = _popup_text(o)
    assert "面积测量" in text and "平方米" in text and "亩" in text
    o.assert_clean()


def test_fullscreen_and_layer_toggle(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path)
    o.page.locator(".leaflet-control-zoom-fullscreen").click()
    o.page.wait_for_function("!!document.fullscreenElement")
    o.page.locator(".leaflet-control-zoom-fullscreen").click()
    o.page.wait_for_function("!document.fullscreenElement")
    n_parcels = len(layers["parcels"])
    o.page.hover(".leaflet-control-layers")
    box = o.page.locator(".leaflet-control-layers-overlays label", has_text="宅基地（").locator("input")
    box.uncheck()
    assert o.page.locator("path.lg-ctx").count() == sum(len(f) for f in layers.values()) - n_parcels
    box.check()
    assert o.page.locator("path.lg-ctx").count() == sum(len(f) for f in layers.values())
    o.page.locator(".leaflet-control-layers-overlays label", has_text="正射影像").locator("input").uncheck()
    assert o.page.locator(".leaflet-image-layer").count() == 0
    o.assert_clean()


def test_panel_folds_on_a_phone_and_unfolds(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path, viewport={"width": 390, "height": 760})
    panel = o.page.locator(".lg-panel")
    assert "lg-collapsed" in panel.get_attribute("class")
    assert o.page.locator(".lg-panel button[data-case]").first.is_hidden()
    o.page.get_by_role("button", name="展开").click()
    assert "lg-collapsed" not in panel.get_attribute("class")
    first = o.page.locator(".lg-panel button[data-case]").first
    case_id = first.get_attribute("data-case")
    assert case_id == "FARM-BUILD-001a"  # high severity first, then by rule id
    first.click()
    assert case_id in _popup_text(o)
    o.assert_clean()


def _colour_pixels(png: bytes, rgb: tuple[int, int, int], tol: int = 40) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with MemoryFile(png) as mem, mem.open() as img:
            arr = img.read()[:3].astype(int)
    diff = np.abs(arr - np.array(rgb).reshape(3, 1, 1)).max(axis=0)
    return int((diff <= tol).sum())


def test_screenshot_of_a_village_map(open_page, site, tmp_path):
    path, *_ = site["a"]
    o = open_page(path)
    o.page.wait_for_timeout(200)
    shot = tmp_path / "village.png"
    png = o.page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    # the findings are visible in their family colours, the parcels' outline too
    assert _colour_pixels(png, (0xE3, 0x1A, 0x1C)) > 30      # farmland red
    assert _colour_pixels(png, (0xFF, 0x7F, 0x00)) > 30      # homestead orange
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    shutil.copyfile(shot, ARTIFACTS / "village.png")
    o.assert_clean()


# --------------------------------------------------------------------------------------------------
# phone and desktop (issue 16)
# --------------------------------------------------------------------------------------------------
def _save(o: Opened, name: str) -> Path:
    """A screenshot of the page in tests/maps/_artifacts (kept with the test output)."""
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    out = ARTIFACTS / name
    o.page.screenshot(path=str(out), full_page=False)
    return out


def _rect(o: Opened, selector: str) -> dict:
    return o.js("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; }""",
                selector)


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def _settled(o: Opened):
    """Wait until the map has stopped moving (autoPan of a popup is animated)."""
    o.page.wait_for_function("""() => { const m = LandguardMap.state.map;
        return !m._panAnim || !m._panAnim._inProgress; }""", timeout=5000)
    o.page.wait_for_timeout(350)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_legend_never_covers_the_findings_list(open_page, site, size):
    path, layers, findings, village = site["d"]
    vp = SIZES[size]
    o = open_page(path, viewport=vp)
    panel, legend = ".lg-panel", ".lg-legend"
    folded = "lg-folded" in o.page.locator(legend).get_attribute("class")
    assert folded == (size == "phone")  # the legend starts folded on a phone
    if size == "phone":
        # a bottom sheet across the whole width, folded to its header
        r = _rect(o, panel)
        assert r["left"] == 0 and r["right"] == vp["width"] and abs(r["bottom"] - vp["height"]) < 1
        assert r["height"] < 120
        assert o.page.locator(".lg-panel button[data-case]").first.is_hidden()
        # thumb-sized: the fold button and the zoom buttons at least 40 px
        for sel in (".lg-panel button.lg-toggle", ".leaflet-control-zoom-in", ".lg-legend button.lg-ltoggle"):
            b = _rect(o, sel)
            assert b["height"] >= 36 and b["width"] >= 40, (sel, b)
    else:
        r = _rect(o, panel)
        assert r["right"] <= vp["width"] and r["top"] < 200 and r["width"] < 400  # the side panel
    assert not _overlap(_rect(o, panel), _rect(o, legend))
    # unfold both: still apart
    if "lg-collapsed" in o.page.locator(panel).get_attribute("class"):
        o.page.locator(".lg-panel button.lg-toggle").click()
    if "lg-folded" in o.page.locator(legend).get_attribute("class"):
        o.page.locator(".lg-legend button.lg-ltoggle").click()
    assert o.page.locator(".lg-legend .lg-lbody").is_visible()
    # on a phone the open legend folds the sheet (they take turns); on a desktop both stay open
    assert o.page.locator(".lg-panel button[data-case]").first.is_visible() == (size == "desktop")
    assert not _overlap(_rect(o, panel), _rect(o, legend)), (_rect(o, panel), _rect(o, legend))
    legend_box = _rect(o, legend)
    assert legend_box["top"] >= 0 and legend_box["bottom"] <= vp["height"]
    # nor does it cover the map's controls
    for sel in (".leaflet-control-zoom", ".leaflet-control-measure", ".leaflet-control-layers"):
        assert not _overlap(legend_box, _rect(o, sel)), sel
    if size == "phone":
        _save(o, f"village-{size}-legend.png")
        o.page.locator(".lg-panel button.lg-toggle").click()  # the sheet again: the legend folds
        assert "lg-folded" in o.page.locator(legend).get_attribute("class")
        assert o.page.locator(".lg-panel button[data-case]").first.is_visible()
        assert not _overlap(_rect(o, panel), _rect(o, legend))
    _save(o, f"village-{size}-open.png")
    o.assert_clean()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_selected_finding_popup_is_inside_the_viewport_and_on_top(open_page, site, size):
    path, layers, findings, village = site["a"]
    vp = SIZES[size]
    o = open_page(path, viewport=vp)
    _save(o, f"village-{size}.png")
    for k, row in enumerate(findings.itertuples()):
        if "lg-collapsed" in o.page.locator(".lg-panel").get_attribute("class"):
            o.page.locator(".lg-panel button.lg-toggle").click()
        o.page.locator(f'.lg-panel button[data-case="{row.case_id}"]').click()
        text = _popup_text(o)
        assert row.case_id in text
        _settled(o)
        if size == "phone":  # the sheet folds out of the way
            assert "lg-collapsed" in o.page.locator(".lg-panel").get_attribute("class")
        box = _rect(o, ".leaflet-popup-content-wrapper")
        assert box["left"] >= 0 and box["top"] >= 0, box
        assert box["right"] <= vp["width"] and box["bottom"] <= vp["height"], box
        bar, sheet = _rect(o, ".lg-bar"), _rect(o, ".lg-panel")
        assert not _overlap(box, bar) and not _overlap(box, sheet), (box, bar, sheet)
        top = o.js("""([x, y]) => { const e = document.elementFromPoint(x, y);
            return !!(e && e.closest('.leaflet-popup')); }""",
                   [(box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2])
        assert top, (row.case_id, box)
        # the finding itself is on the screen, not hidden under the sheet
        inside = o.js("""(id) => { const m = LandguardMap.state.map, l = LandguardMap.state.byCase[id];
            const c = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
            const p = m.latLngToContainerPoint(c), r = m.getContainer().getBoundingClientRect();
            const y = r.top + p.y, sheet = document.querySelector('.lg-panel').getBoundingClientRect();
            return p.x >= 0 && p.x <= r.width && p.y >= 0 && (LandguardMap.narrow() ? y < sheet.top : p.y <= r.height);
        }""", row.case_id)
        assert inside, row.case_id
        if k == 0:
            _save(o, f"village-{size}-popup.png")
    o.assert_clean()


def test_title_bar_shows_project_date_and_village(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path, viewport=PHONE)
    bar = o.page.locator(".lg-bar").inner_text()
    assert "平谷区 2026 年第三季度核查" in bar and "2026-09-30" in bar and "东村" in bar and "平谷镇" in bar
    # the map starts below the bar
    assert _rect(o, ".folium-map")["top"] >= _rect(o, ".lg-bar")["bottom"] - 1
    o.assert_clean()


def test_village_highlighted_and_neighbours_dimmed(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path)
    styles = o.js("""() => { const out = {};
        LandguardMap.state.layers.forEach(l => l.eachLayer(f => { const p = f.feature.properties;
            if (p.o !== undefined) { out[p.v[0]] = [f.options.weight, f.options.fillOpacity, f.options.fill]; } }));
        return out; }""")
    own, other = styles["东村"], styles["北村"]
    assert own[0] > other[0] and not own[2]        # bold outline, no fill
    assert other[2] and other[1] > 0.2             # neighbour greyed out
    o.assert_clean()


def test_search_finds_a_case_by_case_id_subject_or_owner(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path, viewport=PHONE)
    box = o.page.locator(".lg-search")
    o.page.locator(".lg-panel button.lg-toggle").click()
    target = findings.loc[findings["rule_id"] == "HOME-MULTI"].iloc[0]  # subject 001P0000, owner 张0*
    for query in (target.subject_id, "张0*", target.case_id.lower()):
        box.fill(query)
        visible = o.page.locator(".lg-panel button[data-case]:visible")
        assert visible.count() >= 1
        assert target.case_id in visible.evaluate_all("bs => bs.map(b => b.getAttribute('data-case'))"), query
    box.fill("no-such-case")
    assert o.page.locator(".lg-panel button[data-case]:visible").count() == 0
    assert "未找到" in o.page.locator(".lg-hits").inner_text()
    box.fill(target.case_id)
    assert o.page.locator(".lg-panel button[data-case]:visible").count() == 1
    box.press("Enter")
    assert target.case_id in _popup_text(o)
    o.assert_clean()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_failed_tiles_fall_back_to_the_offline_background_with_every_layer(open_page, site, size):
    path, layers, findings, village = site["c"]
    o = open_page(path, viewport=SIZES[size])
    o.page.wait_for_selector("html[data-lg-offline='1']", state="attached", timeout=10000)
    note = o.page.locator(".lg-notice")
    assert note.is_visible() and "离线底图" in note.inner_text()
    o.page.hover(".leaflet-control-layers")
    checked = o.page.locator(".leaflet-control-layers-base input:checked").locator("xpath=..").inner_text().strip()
    assert checked == "离线底图（无需网络）"
    assert o.page.locator("path.lg-ctx").count() == sum(len(f) for f in layers.values())
    assert o.page.locator("path[data-case]").count() == len(findings)
    assert o.page.locator(".leaflet-tile-pane img").count() == 0
    o.page.mouse.move(5, 400)
    _save(o, f"village-{size}-offline.png")
    o.assert_clean()


def test_print_puts_the_list_below_the_map(open_page, site):
    path, layers, findings, village = site["a"]
    o = open_page(path, viewport=DESKTOP)
    o.page.emulate_media(media="print")
    o.js("LandguardMap.printing(true)")
    m, panel = _rect(o, ".folium-map"), _rect(o, ".lg-panel")
    assert panel["top"] >= m["bottom"] - 1
    assert o.page.locator(".lg-panel button[data-case]").first.is_visible()
    assert o.page.locator(".leaflet-control-layers").is_hidden()
    pdf = ARTIFACTS / "village-print.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    o.page.pdf(path=str(pdf), format="A4", landscape=True)
    assert pdf.stat().st_size > 10_000
    o.js("LandguardMap.printing(false)")
    o.page.emulate_media(media="screen")
    assert o.page.locator(".leaflet-control-container .lg-panel").count() == 1
    o.assert_clean()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_index_overview_map_has_no_sideways_scroll_and_links_every_village(open_page, site, size):
    vp = SIZES[size]
    o = open_page(site["index"], viewport=vp)  # waits for the overview map
    assert o.js("document.documentElement.scrollWidth") <= vp["width"]
    assert o.js("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert "平谷区 2026 年第三季度核查" in o.page.locator("p.lg-sub").inner_text()
    names = o.page.locator("#lg-villages tbody tr td:nth-child(2) a")
    assert names.count() == 2
    assert sorted(names.all_inner_texts()) == ["东村", "西村"]
    # coloured by cases: 东村 has 5, 西村 3 -> the 3-9 class for both; the map and the table side by side
    colours = o.js("""() => { const out = {}; LandguardIndex.layer.eachLayer(l => {
        out[l.feature.properties.id] = l.options.fillColor; }); return out; }""")
    assert colours == {"110117001001": "#fdbb84", "110117002003": "#fdbb84"}
    m, t = _rect(o, "#lg-overview"), _rect(o, "#lg-villages")
    # the whole table shows without scrolling sideways inside its box either
    assert o.js("(() => { const b = document.querySelector('.lg-tablebox'); return b.scrollWidth <= b.clientWidth; })()")
    if size == "desktop":
        assert m["right"] <= t["left"] and m["height"] > 500 and m["width"] > 400
    else:
        assert m["bottom"] <= t["top"] and m["right"] <= vp["width"]
    _save(o, f"index-{size}.png")
    # a click on a village opens its map
    x, y = o.js("""(id) => { let c; LandguardIndex.layer.eachLayer(l => { if (l.feature.properties.id === id) {
        c = LandguardIndex.map.latLngToContainerPoint(l.getBounds().getCenter()); } });
        const r = document.getElementById('lg-overview').getBoundingClientRect(); return [r.left + c.x, r.top + c.y]; }""",
                "110117002003")
    o.page.mouse.click(x, y)
    o.page.wait_for_url("**/villages/110117002003.html", timeout=15000)
    o.page.wait_for_selector("html[data-lg-ready='1']", state="attached", timeout=15000)
    assert o.page.title() == "王辛庄镇 西村（110117002003）问题核查图"
    o.assert_clean()
