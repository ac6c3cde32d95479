"""The district's ``index.html``: an overview map of the villages and the table of their finding counts.

One self-contained page: Leaflet and the villages' outlines are inline, so it works offline (no tiles;
a plain background). Villages are coloured by their number of cases; a click opens the village's map.
Beside the map (below it on a phone) the table, sortable by any column; every village name links to its
map, and on a phone the page never scrolls sideways. Every value is HTML-escaped; the data reaches the
page's script as script-safe JSON, never through a template engine.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyses.registry import FAMILIES
from spatial.errors import LayerError

from .offline import asset_text, inline_script, inline_style, script_json, write_text_atomic
from .style import FAMILY_COLOURS

__all__ = ["render_index", "INDEX_COLUMNS", "CASE_CLASSES"]

#: Upper bounds of the overview map's colour classes (cases per village) and their colours.
CASE_CLASSES: tuple[tuple[float, str], ...] = ((0, "#e8f3e8"), (2, "#fee8c8"), (9, "#fdbb84"), (29, "#ef6548"),
                                               (math.inf, "#990000"))
#: Simplification of the villages' outlines on the overview map, metres.
_OVERVIEW_TOLERANCE_M = 2.0

#: Columns ``render_index`` needs (counts may be missing: they count as 0).
INDEX_COLUMNS: tuple[str, ...] = ("village_id", "village", "township", "href")

_CSS = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
  margin: 16px 20px; color: #222; }
* { box-sizing: border-box; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.lg-sub { color: #555; margin: 0 0 12px; }
.lg-layout { display: flex; gap: 16px; align-items: flex-start; }
#lg-overview { flex: 0 0 38%; min-width: 0; height: calc(100vh - 110px); min-height: 360px;
  border: 1px solid #ccc; border-radius: 4px; background: #f2efe9; position: sticky; top: 8px; }
.lg-tablebox { flex: 1 1 0; min-width: 0; max-width: 100%; overflow-x: auto; }
.lg-key { background: rgba(255,255,255,0.95); padding: 6px 8px; border-radius: 4px; font-size: 12px;
  line-height: 1.5; box-shadow: 0 1px 4px rgba(0,0,0,0.35); }
.lg-key i { display: inline-block; width: 14px; height: 10px; margin-right: 5px; border: 1px solid #777; }
.lg-vtip { font-size: 13px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ddd; padding: 5px 8px; }
td a { color: #0b57a4; }
th { background: #f4f4f4; }
th.lg-sort { cursor: pointer; user-select: none; }
th.lg-sort::after { content: " ⇅"; color: #aaa; }
th.lg-asc::after { content: " ▲"; color: #333; }
th.lg-desc::after { content: " ▼"; color: #333; }
td.lg-n { text-align: right; font-variant-numeric: tabular-nums; }
td.lg-zero { color: #aaa; }
tfoot td { font-weight: bold; background: #fafafa; }
.lg-sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
tr.lg-hot td { background: #fff4cc; }
@media (max-width: 700px) {
  body { margin: 10px; }
  h1 { font-size: 17px; }
  .lg-layout { display: block; }
  #lg-overview { height: 46vh; min-height: 260px; position: static; margin-bottom: 10px; }
  table { font-size: 12px; }
  th, td { padding: 6px 3px; }
  th { white-space: normal; }
  .lg-code, .lg-maplink { display: none; }
  #lg-villages tbody td:nth-child(2) { white-space: nowrap; }
  td a { display: inline-block; min-height: 28px; line-height: 28px; }
}
@media print {
  #lg-overview { height: 120mm; position: static; }
  .lg-layout { display: block; }
}
"""

_JS = """
(function () {
  var table = document.getElementById("lg-villages");
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell.getAttribute("data-v");
    if (v === null) { v = cell.textContent; }
    return numeric ? parseFloat(v) || 0 : v;
  }
  function sortBy(col, numeric, desc) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      var c = numeric ? x - y : String(x).localeCompare(String(y), "zh-Hans-CN");
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) { heads[i].classList.remove("lg-asc", "lg-desc"); }
    heads[col].classList.add(desc ? "lg-desc" : "lg-asc");
    heads[col].setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.classList.contains("lg-sort")) { return; }
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "n";
      // counts sort largest first on the first click; text sorts A-Z first
      var desc = th.classList.contains("lg-desc") ? false : th.classList.contains("lg-asc") ? true : numeric;
      sortBy(col, numeric, desc);
    });
  });
})();
"""


def _count(value) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return 0
    return int(f) if math.isfinite(f) else 0


def _href(value) -> str:
    """A relative link, percent-encoded and HTML-escaped; refuses URLs with a scheme."""
    text = "" if value is None or value != value else str(value)
    scheme = text.split("/", 1)[0]
    if ":" in scheme:
        raise LayerError(f"index: href {text!r} is not a relative path to a village map (e.g. 110117001001.html)")
    return html.escape(quote(text, safe="/#?&=.-_~%"), quote=True)


_MAP_JS = """
(function () {
  var data = JSON.parse(document.getElementById("lg-overview-data").textContent);
  var map = L.map("lg-overview", {zoomSnap: 0.25, attributionControl: false});
  var rows = {};
  Array.prototype.forEach.call(document.querySelectorAll("#lg-villages tbody tr"), function (tr) {
    rows[tr.getAttribute("data-village")] = tr;
  });
  var layer = L.geoJSON(data.villages, {
    style: function (f) {
      return {color: "#555", weight: 1, fillColor: f.properties.c, fillOpacity: 0.85};
    },
    onEachFeature: function (f, sub) {
      var p = f.properties;
      // p.t is HTML-escaped in Python
      sub.bindTooltip(p.t, {sticky: true, className: "lg-vtip"});
      sub.on("click", function () { if (p.h) { window.location.href = p.h; } });
      sub.on("mouseover", function () {
        sub.setStyle({weight: 3, color: "#111"});
        if (rows[p.id]) { rows[p.id].classList.add("lg-hot"); }
      });
      sub.on("mouseout", function () {
        layer.resetStyle(sub);
        if (rows[p.id]) { rows[p.id].classList.remove("lg-hot"); }
      });
    }
  }).addTo(map);
  var key = L.control({position: "bottomright"});
  key.onAdd = function () {
    var div = L.DomUtil.create("div", "lg-key");
    div.innerHTML = data.key;
    return div;
  };
  key.addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  var b = layer.getBounds();
  if (b.isValid()) { map.fitBounds(b, {padding: [10, 10], animate: false}); } else { map.setView([35, 105], 4); }
  document.documentElement.setAttribute("data-lg-ready", "1");
  window.LandguardIndex = {map: map, layer: layer};
})();
"""


def _case_colour(n: np.ndarray) -> np.ndarray:
    """The colour class of each village's case count (:data:`CASE_CLASSES`)."""
    bounds = np.array([b for b, _ in CASE_CLASSES])
    colours = np.array([c for _, c in CASE_CLASSES], dtype=object)
    return colours[np.searchsorted(bounds, n, side="left")]


def _overview_data(geometries: gpd.GeoDataFrame, villages: pd.DataFrame, totals: list[int]) -> dict:
    """The overview map's villages (GeoJSON, WGS84, simplified) and its colour key."""
    from .village import _collection, _metric

    if "village_id" not in geometries.columns:
        raise LayerError("index: village geometries lack column village_id; give the villages layer")
    geo = _metric(geometries[["village_id", geometries.geometry.name]].copy(), "villages")
    geoms = np.asarray(geo.geometry.array, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geo = geo[keep]
    table = pd.DataFrame({"id": villages["village_id"].astype(str).to_numpy(),
                          "n": np.asarray(totals, dtype=np.int64),
                          "name": [_s(v) for v in villages["village"]],
                          "township": [_s(v) for v in villages["township"]],
                          "href": [_s(v) for v in villages["href"]]})
    table = table.drop_duplicates("id").set_index("id")
    ids = geo["village_id"].astype(str).to_numpy()
    geo = geo[np.isin(ids, table.index.to_numpy())]
    ids = geo["village_id"].astype(str).to_numpy()
    rows = table.loc[ids]
    simple = shapely.simplify(np.asarray(geo.geometry.array, dtype=object), _OVERVIEW_TOLERANCE_M,
                              preserve_topology=True)
    wgs = np.asarray(gpd.GeoSeries(simple, crs=geo.crs).to_crs(4326).array, dtype=object)
    wgs = shapely.transform(wgs, lambda xy: np.round(xy, 6))
    colours = _case_colour(rows["n"].to_numpy())
    e = html.escape
    props = [{"id": i, "c": c, "h": quote(h, safe="/#?&=.-_~%"),
              "t": f"{e(t)} {e(nm)}：问题 {int(n)} 处（点击打开地图）"}
             for i, c, h, t, nm, n in zip(ids, colours, rows["href"], rows["township"], rows["name"], rows["n"])]
    lower = 0
    key = ["<b>问题数（处）</b>"]
    for upper, colour in CASE_CLASSES:
        label = f"{lower}" if upper == lower else (f"≥ {lower}" if math.isinf(upper) else f"{lower}–{int(upper)}")
        key.append(f'<div><i style="background:{colour}"></i>{label}</div>')
        lower = 0 if math.isinf(upper) else int(upper) + 1
    return {"villages": _collection(wgs, props), "key": "".join(key)}


def render_index(villages: pd.DataFrame, out_path: str | os.PathLike, *, title: str = "村级问题图斑核查图索引",
                 geometries: gpd.GeoDataFrame | None = None, project: str | None = None,
                 run_date=None) -> Path:
    """Write ``index.html``: the district overview map and one row per village with counts and links.

    Parameters
    ----------
    villages : DataFrame
        Columns ``village_id``, ``village``, ``township``, ``href`` (the map's path relative to the
        index), and counts ``farmland``, ``homestead``, ``setback``, ``siting`` and ``total``
        (missing counts are 0; a missing ``total`` is the sum of the families).
    out_path : path-like
        The page to write (atomically).
    title : str
        The page's heading.
    geometries : GeoDataFrame, optional
        The villages' polygons (``village_id``, geometry, any CRS): drawn as the overview map,
        coloured by cases; without them the page is the table alone.
    project : str, optional
        The project's name, shown under the heading.
    run_date : str or date, optional
        The check's date, shown under the heading.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> df = pd.DataFrame({"village_id": ["110117001001"], "village": ["东村"], "township": ["平谷镇"],
    ...                    "href": ["110117001001.html"], "farmland": [2], "homestead": [1]})
    >>> out = render_index(df, pathlib.Path(tempfile.mkdtemp()) / "index.html")
    >>> "东村" in out.read_text(encoding="utf-8")
    True
    """
    missing = [c for c in INDEX_COLUMNS if c not in villages.columns]
    if missing:
        raise LayerError(f"index: villages table lacks column(s) {', '.join(missing)}; "
                         f"give {', '.join(INDEX_COLUMNS)} and counts per family")
    families = list(FAMILIES)
    counts = {f: [_count(v) for v in villages[f]] if f in villages.columns else [0] * len(villages)
              for f in families}
    if "total" in villages.columns:
        totals = [_count(v) for v in villages["total"]]
    else:
        totals = [sum(c) for c in zip(*counts.values())] if len(villages) else []

    e = html.escape
    head_cells = ['<th class="lg-sort" data-type="t">乡镇</th>', '<th class="lg-sort" data-type="t">行政村</th>',
                  '<th class="lg-sort" data-type="t">村代码</th>']
    for f in families:
        head_cells.append(f'<th class="lg-sort" data-type="n"><span class="lg-sw" '
                          f'style="background:{FAMILY_COLOURS[f]}"></span>{e(FAMILIES[f])}</th>')
    head_cells.append('<th class="lg-sort" data-type="n">合计</th>')
    head_cells.append("<th>地图</th>")

    head_cells[2] = '<th class="lg-sort lg-code" data-type="t">村代码</th>'
    head_cells[-1] = '<th class="lg-maplink">地图</th>'
    rows = []
    cols = {c: villages[c].to_numpy(dtype=object) for c in INDEX_COLUMNS}
    for i in range(len(villages)):
        link = _href(cols["href"][i])
        cells = [f"<td>{e(_s(cols['township'][i]))}</td>",
                 f'<td data-v="{e(_s(cols["village"][i]))}"><a href="{link}">{e(_s(cols["village"][i]))}</a></td>',
                 f'<td class="lg-code">{e(_s(cols["village_id"][i]))}</td>']
        for f in families:
            n = counts[f][i]
            cells.append(f'<td class="lg-n{" lg-zero" if n == 0 else ""}" data-v="{n}">{n}</td>')
        cells.append(f'<td class="lg-n" data-v="{totals[i]}">{totals[i]}</td>')
        cells.append(f'<td class="lg-maplink"><a href="{link}">打开地图</a></td>')
        rows.append(f'<tr data-village="{e(_s(cols["village_id"][i]))}">' + "".join(cells) + "</tr>")
    foot = ['<td colspan="2">合计（{} 个村）</td>'.format(len(villages)), '<td class="lg-code"></td>']
    foot += [f'<td class="lg-n">{sum(counts[f])}</td>' for f in families]
    foot += [f'<td class="lg-n">{sum(totals)}</td>', '<td class="lg-maplink"></td>']

    overview = geometries is not None and len(geometries) > 0
    assets, map_part, map_script = "", "", ""
    if overview:
        data = _overview_data(geometries, villages, totals)
        assets = inline_style(asset_text("leaflet/leaflet.css")) + "\n" + inline_script(asset_text("leaflet/leaflet.js"))
        map_part = '<div id="lg-overview" role="region" aria-label="全区问题分布图"></div>\n'
        map_script = ('<script type="application/json" id="lg-overview-data">'
                      + '{"key":' + script_json(data["key"]) + ',"villages":' + data["villages"] + "}"
                      + "</script>\n" + inline_script(_MAP_JS))
    sub = []
    if project is not None and _s(project).strip():
        sub.append(f"项目：{e(_s(project))}")
    if run_date is not None and _s(run_date).strip():
        sub.append(f"检查日期：{e(_s(run_date))}")
    sub_text = ("　".join(sub) + "　") if sub else ""

    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n{assets}\n{inline_style(_CSS)}\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n"
        f'<p class="lg-sub">{sub_text}共 {len(villages)} 个行政村，问题 {sum(totals)} 处。'
        + ("点击地图上的村或村名打开该村核查图，点击表头排序。" if overview else
           "点击表头排序，点击村名或“打开地图”查看该村核查图。") + "</p>\n"
        '<div class="lg-layout">\n' + map_part + '<div class="lg-tablebox">\n'
        '<table id="lg-villages">\n<thead><tr>' + "".join(head_cells) + "</tr></thead>\n<tbody>\n"
        + "\n".join(rows) + "\n</tbody>\n<tfoot><tr>" + "".join(foot) + "</tr></tfoot>\n</table>\n</div>\n</div>\n"
        + inline_script(_JS) + "\n" + map_script + "</body>\n</html>\n"
    )
    return write_text_atomic(out_path, page)


def _s(value) -> str:
    return "" if value is None or value is pd.NA or value != value else str(value)
