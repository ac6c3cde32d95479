"""The district's ``index.html``: every village with its finding counts per family and a link to its map.

One self-contained page (inline CSS and a few lines of JS to sort by any column), Chinese headers,
every value HTML-escaped.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from analyses.registry import FAMILIES
from spatial.errors import LayerError

from .offline import inline_script, inline_style, write_text_atomic
from .style import FAMILY_COLOURS

__all__ = ["render_index", "INDEX_COLUMNS"]

#: Columns ``render_index`` needs (counts may be missing: they count as 0).
INDEX_COLUMNS: tuple[str, ...] = ("village_id", "village", "township", "href")

_CSS = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
  margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.lg-sub { color: #555; margin: 0 0 14px; }
table { border-collapse: collapse; min-width: 640px; }
th, td { border: 1px solid #ddd; padding: 5px 10px; }
th { background: #f4f4f4; white-space: nowrap; }
th.lg-sort { cursor: pointer; user-select: none; }
th.lg-sort::after { content: " ⇅"; color: #aaa; }
th.lg-asc::after { content: " ▲"; color: #333; }
th.lg-desc::after { content: " ▼"; color: #333; }
td.lg-n { text-align: right; font-variant-numeric: tabular-nums; }
td.lg-zero { color: #aaa; }
tfoot td { font-weight: bold; background: #fafafa; }
.lg-sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
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


def render_index(villages: pd.DataFrame, out_path: str | os.PathLike, *, title: str = "村级问题图斑核查图索引") -> Path:
    """Write ``index.html``: one row per village with counts per family and a link to its map.

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

    rows = []
    cols = {c: villages[c].to_numpy(dtype=object) for c in INDEX_COLUMNS}
    for i in range(len(villages)):
        cells = [f"<td>{e(_s(cols['township'][i]))}</td>", f"<td>{e(_s(cols['village'][i]))}</td>",
                 f"<td>{e(_s(cols['village_id'][i]))}</td>"]
        for f in families:
            n = counts[f][i]
            cells.append(f'<td class="lg-n{" lg-zero" if n == 0 else ""}" data-v="{n}">{n}</td>')
        cells.append(f'<td class="lg-n" data-v="{totals[i]}">{totals[i]}</td>')
        cells.append(f'<td><a href="{_href(cols["href"][i])}">打开地图</a></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ['<td colspan="3">合计（{} 个村）</td>'.format(len(villages))]
    foot += [f'<td class="lg-n">{sum(counts[f])}</td>' for f in families]
    foot += [f'<td class="lg-n">{sum(totals)}</td>', "<td></td>"]

    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n{inline_style(_CSS)}\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n"
        f'<p class="lg-sub">共 {len(villages)} 个行政村，问题 {sum(totals)} 处。'
        "点击表头排序，点击“打开地图”查看该村核查图。</p>\n"
        '<table id="lg-villages">\n<thead><tr>' + "".join(head_cells) + "</tr></thead>\n<tbody>\n"
        + "\n".join(rows) + "\n</tbody>\n<tfoot><tr>" + "".join(foot) + "</tr></tfoot>\n</table>\n"
        + inline_script(_JS) + "\n</body>\n</html>\n"
    )
    return write_text_atomic(out_path, page)


def _s(value) -> str:
    return "" if value is None or value is pd.NA or value != value else str(value)
