"""Village maps of a project: each case's change, verification and photos from the case register."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from PIL import Image

from analyses.register import CASE_COLUMNS, REGISTER_COLUMNS
from landguard.sample.field import photo_jpeg
from maps.village import PHOTOS_PER_CASE, THUMB_MAX_PX, render_village_map

from .test_browser import browser, open_page  # noqa: F401  (the headless Chromium fixtures)
from .pagedata import call_arg, geo_layers

CRS = "EPSG:4548"
EVIL_VERDICT = "违法<img src=x onerror=alert(1)>{{ 7*7 }}"
EVIL_NOTE = "说明</script><script>alert(3)</script>{% raw %}"


def _register(findings: gpd.GeoDataFrame, root, x0: float, y0: float) -> gpd.GeoDataFrame:
    """The findings as register rows (first one verified with photos), plus one case rectified since."""
    reg = findings.copy()
    for c in CASE_COLUMNS:
        reg[c] = None
    reg["change"] = "持续"
    reg.loc[reg.index[1], "change"] = "新增"
    first = reg.index[0]
    cid = reg.loc[first, "case_id"]
    folder = root / "photos" / cid
    folder.mkdir(parents=True)
    big = photo_jpeg(folder / "a.jpg", lonlat=(117.101, 40.141), taken=dt.datetime(2026, 11, 10, 9, 30),
                     direction=135.0)
    Image.new("RGB", (1600, 1200), (200, 30, 30)).save(folder / "b.jpg", "JPEG")  # larger than a thumbnail
    for k in range(3, 6):
        photo_jpeg(folder / f"p{k}.jpg", lonlat=None, taken=None)
    (root.parent / "outside.jpg").write_bytes((folder / "b.jpg").read_bytes())
    photos = [f"photos/{cid}/a.jpg", f"photos/{cid}/b.jpg", "../outside.jpg"] + \
        [f"photos/{cid}/p{k}.jpg" for k in range(3, 6)]
    reg.loc[first, ["verified", "verified_on", "verified_by", "note"]] = [EVIL_VERDICT, "2026-11-10", "王<b>某",
                                                                          EVIL_NOTE]
    reg.loc[first, "photos"] = "; ".join(photos)
    reg.loc[first, "photo_count"] = len(photos)
    reg.loc[first, "photo_flags"] = "; 照片位置存疑; ; 无定位; 无定位; 无定位"
    reg.loc[first, "photo_points"] = "117.101,40.141,135,2026-11-10T09:30:00; 117.102,40.142,,; ; ; ; "
    assert big.is_file()
    gone = reg.iloc[[2]].copy()
    gone["case_id"] = "GONE-1"
    gone["change"] = "已整改"
    gone["verified"] = "已整改"
    gone["verified_on"] = "2026-11-01"
    gone = gone.set_geometry(gpd.GeoSeries([shapely.box(x0 + 200, y0 + 40, x0 + 230, y0 + 70)], crs=CRS,
                                           index=gone.index))
    out = pd.concat([reg, gone], ignore_index=True)
    return gpd.GeoDataFrame(out[[*REGISTER_COLUMNS, "geometry"]], geometry="geometry", crs=CRS)


@pytest.fixture()
def page(tmp_path, village_factory):
    layers, findings, village = village_factory()
    root = tmp_path / "project"
    root.mkdir()
    reg = _register(findings, root, 508000.0, 4443000.0)
    out = render_village_map(layers, findings, village, tmp_path / "v.html", register=reg, photo_root=root)
    return out.read_text(encoding="utf-8"), findings, reg


def _popups(text: str) -> dict[str, str]:
    return {f["properties"]["id"]: f["properties"]["p"] for data, _ in geo_layers(text)
            for f in data["features"] if "id" in f["properties"]}


def test_popup_holds_verdict_date_inspector_and_thumbnails(page):
    text, findings, reg = page
    pop = _popups(text)[findings["case_id"].iloc[0]]
    assert "核查结论" in pop and "2026-11-10" in pop and "王&lt;b&gt;某" in pop
    imgs = re.findall(r'<img src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', pop)
    assert len(imgs) == PHOTOS_PER_CASE  # capped; the photo outside the project folder is never read
    sizes = [Image.open(io.BytesIO(base64.b64decode(b))).size for b in imgs]
    assert all(max(s) <= THUMB_MAX_PX for s in sizes)
    assert (THUMB_MAX_PX, 240) in sizes  # the 1600 x 1200 photo, downscaled
    assert "照片位置存疑" in pop and "另有 3 张" in pop


def test_photo_outside_the_project_is_not_embedded(page):
    text, findings, _ = page
    pop = _popups(text)[findings["case_id"].iloc[0]]
    assert "照片 3：无法读取" in pop  # ../outside.jpg: a path escaping the folder
    # exactly 3 thumbnails in the whole page: one case, capped
    assert text.count("data:image/jpeg;base64,") == PHOTOS_PER_CASE


def test_hostile_verdict_and_note_stay_text(page):
    text, findings, _ = page
    pop = _popups(text)[findings["case_id"].iloc[0]]
    assert "违法&lt;img src=x onerror=alert(1)&gt;{{ 7*7 }}" in pop
    assert "<img src=x" not in text and "alert(3)</script>" not in text and "onerror=alert(1)>" not in text
    assert "49" not in re.sub(r"[^{}0-9]", "", pop.split("核查结论")[1][:80])


def test_rectified_case_is_drawn_dashed_and_listed(page):
    text, findings, reg = page
    layers = [(d, o) for d, o in geo_layers(text) if "lg-rectified" in o.get("style", {}).get("className", "")]
    assert len(layers) == 1
    data, opts = layers[0]
    assert [f["properties"]["id"] for f in data["features"]] == ["GONE-1"]
    assert opts["style"]["dashArray"]
    xs = [x for x, _ in data["features"][0]["geometry"]["coordinates"][0]]
    want = gpd.GeoSeries([reg.geometry.iloc[-1]], crs=CRS).to_crs(4326).total_bounds
    assert min(xs) == pytest.approx(want[0], abs=1e-6)
    panel = call_arg(text, "panel")
    assert 'data-case="GONE-1"' in panel and "lg-chg-done" in panel
    assert "lg-chg-new" in panel  # the 新增 case is badged in the list


def test_changes_style_the_findings(page):
    text, findings, _ = page
    feats = {f["properties"]["id"]: (f["properties"], o) for d, o in geo_layers(text) for f in d["features"]
             if "id" in f["properties"]}
    props, opts = feats[findings["case_id"].iloc[1]]
    assert props["c"] == "新增" and "新增" in opts["changes"]
    assert feats[findings["case_id"].iloc[0]][0]["c"] == "持续"


def test_photo_points_are_markers_with_direction(page):
    text, findings, _ = page
    layers = [(d, o) for d, o in geo_layers(text) if o.get("kind") == "photo"]
    assert len(layers) == 1
    feats = layers[0][0]["features"]
    assert [f["geometry"]["coordinates"] for f in feats] == [[117.101, 40.141], [117.102, 40.142]]
    assert feats[0]["properties"]["d"] == 135.0 and "d" not in feats[1]["properties"]
    assert "135°" in feats[0]["properties"]["p"] and "照片位置存疑" in feats[1]["properties"]["p"]


def test_without_register_nothing_changes(tmp_path, village_factory):
    layers, findings, village = village_factory()
    text = render_village_map(layers, findings, village, tmp_path / "v.html").read_text(encoding="utf-8")
    assert "data:image/jpeg" not in text and "lg-chg-" not in call_arg(text, "panel")
    assert not [o for _, o in geo_layers(text) if o.get("kind") == "photo"]


@pytest.mark.browser
def test_browser_popup_shows_the_photo_and_markers_point_their_way(page, tmp_path, open_page):
    text, findings, _ = page
    path = tmp_path / "v.html"  # written by the fixture
    o = open_page(path)
    cid = findings["case_id"].iloc[0]
    assert o.js("(id) => LandguardMap.focus(id)", cid)
    o.page.wait_for_selector(".leaflet-popup .lg-thumbs img", timeout=5000)
    widths = o.js("() => Array.from(document.querySelectorAll('.leaflet-popup .lg-thumbs img'))"
                  ".map(i => i.complete ? i.naturalWidth : -1)")
    assert len(widths) == PHOTOS_PER_CASE and all(w > 0 for w in widths)
    assert "现场核查" in o.page.inner_text(".leaflet-popup")
    assert o.page.locator(".lg-photo").count() == 2
    assert "rotate(135deg)" in o.page.locator(".lg-photo-dir").first.get_attribute("style")
    assert o.page.locator("path.lg-rectified").count() == 1
    assert o.js("() => LandguardMap.focus('GONE-1')")
    o.assert_clean()


def test_landguard_maps_with_a_project_shows_the_verification(tmp_path):
    """check -> field verification with an EXIF photo -> check again -> ``landguard maps --project``."""
    import pyogrio
    from click.testing import CliRunner

    from analyses.register import read_register
    from landguard.cli.main import cli
    from landguard.project import Project, stamp_project
    from maps.exports import export_village
    from tests.badinput.helpers import VILLAGE_B
    from tests.cycle.helpers import district_with, fill_returned, jpeg, lonlat_of

    project = tmp_path / "项目"
    d1 = district_with(tmp_path / "d1", {"B2": (100, 100), "B4": (200, 100)})

    def check(data, as_of):
        res = CliRunner().invoke(cli, ["check", "--data", str(data), "--project", str(project), "--as-of", as_of,
                                       "--rule", "FARM-BUILD", "--jobs", "1", "-q"])
        assert res.exit_code == 0, res.output

    check(d1, "2026-01-10")
    reg = read_register(project / "cases.gpkg")
    findings = pyogrio.read_dataframe(Project(project).runs_dir / "2026-01-10" / "findings.gpkg", layer="findings")
    folder = tmp_path / "returned"
    gpkg = export_village(findings, folder, VILLAGE_B)["gpkg"]
    stamp_project(gpkg, Project(project).meta()["id"])
    ids = {b: reg.loc[reg["subject_id"] == b, "case_id"].iloc[0] for b in ("B2", "B4")}
    b4 = reg.loc[reg["subject_id"] == "B4"].geometry.iloc[0]
    jpeg(folder / "DCIM" / "b4.jpg", lonlat=lonlat_of(b4, findings.crs, dx=5), taken=dt.datetime(2026, 2, 2, 9),
         direction=270)
    fill_returned(gpkg, {ids["B4"]: {"verified": "违法", "verified_by": "王五", "verified_on": "2026-02-02",
                                     "remark": "{{ 7*7 }}<b>x</b>", "photo": "DCIM/b4.jpg"},
                         ids["B2"]: {"verified": "已整改", "verified_by": "王五", "verified_on": "2026-02-01"}})
    res = CliRunner().invoke(cli, ["verify", "--project", str(project), "--in", str(folder)])
    assert res.exit_code == 0, res.output
    check(district_with(tmp_path / "d2", {"B4": (200, 100)}), "2026-02-20")  # B2 demolished
    res = CliRunner().invoke(cli, ["maps", "--project", str(project), "--data", str(d1), "-q"])
    assert res.exit_code == 0, res.output
    pages = [p for p in (project / "runs" / "2026-02-20" / "maps").glob("*.html") if p.name != "index.html"]
    text = next(p.read_text(encoding="utf-8") for p in pages if ids["B4"] in p.read_text(encoding="utf-8"))
    pops = _popups(text)
    assert "违法" in pops[ids["B4"]] and "2026-02-02" in pops[ids["B4"]] and "王五" in pops[ids["B4"]]
    assert "{{ 7*7 }}&lt;b&gt;x&lt;/b&gt;" in pops[ids["B4"]] and "<b>x</b>" not in text
    assert pops[ids["B4"]].count('<img src="data:image/jpeg;base64,') == 1
    assert ids["B2"] in pops and "已整改" in pops[ids["B2"]]  # gone this run, drawn from the register
    photo = [d for d, o in geo_layers(text) if o.get("kind") == "photo"]
    assert len(photo) == 1 and photo[0]["features"][0]["properties"]["d"] == 270.0
