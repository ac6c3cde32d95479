"""The inspector's village map: one self-contained HTML file per village.

Everything a map needs (Leaflet, its plugins, landguard's map code, the data, the orthophoto) is inside
the file; only basemap tiles come from the network, and without them every layer still shows on a
plain background. Geometries are simplified within 0.2 m in the metric working CRS, then converted
to WGS84 and rounded to 7 decimals (about 1 cm). Each overlay reaches the page in a compact form
(:func:`_layer_data`: vertices as integers in 1e-7 degrees, differenced, property columns) that
``LandguardMap.decode`` turns back into the same GeoJSON, double for double. Every attribute value is
HTML-escaped in Python before it reaches the page.

No data passes through a template engine. folium/branca render a page with Jinja and then parse the
output of each element's macros again as Jinja source, so text such as ``{{ 7*7 }}`` or ``{#`` in an
attribute would be evaluated (or crash the run). Every piece of data (GeoJSON with its popups, the
panel, the legend, layer names, options) therefore enters the folium tree as an opaque placeholder
(:class:`_Slots`), and the real text is put in place of the placeholders in one pass after the template
stage, when the page is already plain text.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import os
import re
import secrets
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer, LayerControl
from folium.plugins import Fullscreen, MeasureControl
from folium.template import Template
from pyproj import CRS

from analyses.registry import FAMILIES
from spatial.crs import gk3_zone_crs
from spatial.errors import CRSError, DataQualityWarning, LayerError, OutputError, RasterError
from spatial.units import M2_PER_MU

from .basemaps import DEFAULT_BASEMAPS, basemap_layers
from .offline import ASSETS_DIR, asset_text, inline_assets, inline_script, inline_style, script_json, write_text_atomic
from .style import (CHANGE_CLASSES, CHANGE_STYLES, CONTEXT_ORDER, FAMILY_COLOURS, FAMILY_LABELS, JUDGEMENT_COLOURS,
                    RECTIFIED_STYLE, SEVERITY_LABELS, SEVERITY_WEIGHTS, STATUS_LABELS, column_label, context_style,
                    layer_label, popup_columns, unit_label)

__all__ = ["render_village_map", "display_columns", "SIMPLIFY_TOLERANCE_M", "COORD_DECIMALS", "CLIP_MARGIN_M",
           "THUMB_MAX_PX", "PHOTOS_PER_CASE"]

#: Display simplification tolerance, metres (in the metric working CRS).
SIMPLIFY_TOLERANCE_M: float = 0.2
#: Decimals kept for WGS84 coordinates (1e-7° ≈ 1 cm).
COORD_DECIMALS: int = 7

_CDN_LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"
_CDN_LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css"
_OTHER_COLOUR = "#1f78b4"
_DASH = "—"


# --------------------------------------------------------------------------------------------------
# folium elements
# --------------------------------------------------------------------------------------------------
class _Slots:
    """Data kept out of the template stage: a placeholder goes into the folium tree, the text comes after.

    A placeholder is ``LGSLOT<nonce>X<n>Z`` (letters and digits only, so JSON, HTML escaping and Jinja
    leave it alone; the nonce is new for every page). :meth:`fill` replaces every placeholder in one
    regular-expression pass, so text put in is never scanned again.

    Examples
    --------
    >>> slots = _Slots()
    >>> page = f"var a = {slots.put('{{ 7*7 }}')};"
    >>> "{{" in page, slots.fill(page)
    (False, 'var a = {{ 7*7 }};')
    """

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(8)
        self._values: list[str] = []
        self._pattern = re.compile(f"LGSLOT{self._nonce}X([0-9]+)Z")

    def put(self, text: str) -> str:
        """The placeholder of ``text`` (kept as is)."""
        self._values.append(str(text))
        return f"LGSLOT{self._nonce}X{len(self._values) - 1}Z"

    def put_json(self, obj) -> str:
        """The placeholder of ``obj`` as script-safe JSON (:func:`maps.offline.script_json`)."""
        return self.put(script_json(obj))

    def put_name(self, name: str) -> str:
        """A layer name: folium writes it as a JSON string (``{{ name|tojson }}``); the placeholder stands
        for the string's content, filled in JSON-escaped."""
        return self.put(script_json(str(name))[1:-1])

    def fill(self, page: str) -> str:
        """``page`` with every placeholder replaced by its text; each placeholder must appear."""
        seen: set[int] = set()

        def value(match: re.Match) -> str:
            k = int(match.group(1))
            seen.add(k)
            return self._values[k]

        out = self._pattern.sub(value, page)
        if len(seen) != len(self._values):
            raise OutputError(f"village map: {len(self._values) - len(seen)} piece(s) of data did not reach "
                              "the page (a map element dropped its placeholder); report this")
        return out


class _Raw(Element):
    """Text placed as is (no Jinja: vendored code may contain ``{{``)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


def _emit_script(element: MacroElement, kwargs: dict) -> None:
    """Put ``element``'s script macro output in the page as it is.

    branca's ``MacroElement.render`` wraps the output in an ``Element``, which compiles it as a Jinja
    template once more: a cost per element (a sixth of a village map's time) and a second template stage
    for text that holds nothing to evaluate. The output goes in as :class:`_Raw` text instead.
    """
    script = element._template.module.__dict__["script"]
    element.get_root().script.add_child(_Raw(script(element, kwargs)), name=element.get_name())


class _Script(MacroElement):
    """A piece of map script; ``__MAP__`` is replaced by the map's variable name."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.code.replace("__MAP__", this._parent.get_name()) }}
        {% endmacro %}
        """
    )

    def __init__(self, code: str, name: str = "LandguardScript"):
        super().__init__()
        self._name = name
        self.code = code

    def render(self, **kwargs):
        _emit_script(self, kwargs)


class _Runtime(_Script):
    """landguard's map runtime: inlined into the page head, set up right after the map is created."""

    def __init__(self):
        icons = {key: _asset_data_uri(f"leaflet/images/{name}") for key, name in
                 (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                  ("shadowUrl", "marker-shadow.png"))}
        super().__init__(f"LandguardMap.setup(__MAP__, {script_json({'icons': icons})});",
                         name="LandguardRuntime")

    def render(self, **kwargs):
        header = self.get_root().header
        header.add_child(_Raw(inline_style(asset_text("landguard/landguard.css"))), name="landguard_css")
        header.add_child(_Raw(inline_script(asset_text("landguard/landguard.js"))), name="landguard_js")
        super().render(**kwargs)


def _asset_data_uri(relpath: str) -> str:
    data = (ASSETS_DIR / relpath).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


class _GeoLayer(Layer):
    """An overlay drawn by ``LandguardMap.geoLayer`` (keeps its WGS84 data for GCJ-02 redraws).

    The name, the data and the options go into ``slots``; the element holds only their placeholders.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = LandguardMap.geoLayer(
                {{ this._parent.get_name() }}, {{ this.data }}, {{ this.opts }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, data: str, opts: dict, slots: _Slots, *, show: bool = True):
        super().__init__(name=slots.put_name(name), overlay=True, control=True, show=show)
        self._name = "LandguardLayer"
        self.data = slots.put(data)
        self.opts = slots.put_json(opts)

    def render(self, **kwargs):
        # what folium's Layer.render writes (the layer, then ``.addTo(map)`` when shown), not compiled again
        _emit_script(self, kwargs)
        if self.show:
            self.get_root().script.add_child(_Raw(f"{self.get_name()}.addTo({self._parent.get_name()});"),
                                             name=self.get_name() + "_add")


class _ImageLayer(Layer):
    """The orthophoto overlay (a PNG data URL)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = LandguardMap.image(
                {{ this._parent.get_name() }}, {{ this.url }}, {{ this.bounds }}, {"alt": "正射影像"});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, url: str, bounds: list):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "LandguardImage"
        self.url = script_json(url)
        self.bounds = script_json(bounds)


# --------------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------------
def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _num(value, decimals: int = 2) -> str:
    """A number without trailing zeros (``0.62``, ``3``), or ``—``."""
    if _missing(value):
        return _DASH
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(f):
        return _DASH
    text = f"{f:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _text(value) -> str:
    """Display text of an attribute value (not yet escaped)."""
    if _missing(value):
        return _DASH
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()[:10]
    if isinstance(value, (float, np.floating)):
        return _num(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _esc(value) -> str:
    return html.escape(_text(value), quote=True)


def _esc_column(values: pd.Series) -> list[str]:
    """``[_esc(v) for v in values]``; in a text column each distinct text is escaped once.

    Examples
    --------
    >>> _esc_column(pd.Series(["<a>", None, "<a>", 3.0]))
    ['&lt;a&gt;', '—', '&lt;a&gt;', '3']
    >>> _esc_column(pd.Series(["a&b", None, "a&b"]))
    ['a&amp;b', '—', 'a&amp;b']
    >>> _esc_column(pd.Series([2.5, np.nan, 2.5, -0.0, 0.0]))
    ['2.5', '—', '2.5', '-0', '0']
    """
    texts = (pd.api.types.infer_dtype(values, skipna=True) == "string" if values.dtype == object
             else pd.api.types.is_string_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype))
    if len(values) == 0:
        return []
    if texts:
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
    elif isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuM":
        codes, distinct = pd.factorize(values, use_na_sentinel=True)   # booleans, integers, naive dates
    elif isinstance(values.dtype, np.dtype) and values.dtype.kind == "f" and values.dtype.itemsize in (2, 4, 8):
        codes, distinct = _factorize_floats(values.to_numpy())
    else:
        return [_esc(v) for v in values.to_numpy(dtype=object)]
    escaped = np.array([_esc(v) for v in distinct] + [_esc(None)], dtype=object)  # code -1 (missing): the last
    return escaped[codes].tolist()


def _factorize_floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of floats by their bits (-0.0 and 0.0 stay apart; every NaN is one value each way).

    Examples
    --------
    >>> codes, distinct = _factorize_floats(np.array([1.5, -0.0, 1.5, 0.0]))
    >>> codes.tolist(), distinct.tolist()
    ([0, 1, 0, 2], [1.5, -0.0, 0.0])
    """
    values = np.ascontiguousarray(values)
    bits = values.view(f"i{values.dtype.itemsize}")
    codes, distinct = pd.factorize(bits)
    return codes, np.asarray(distinct).view(values.dtype)


def _area_text(area_m2, area_mu=None) -> str:
    if _missing(area_m2):
        return _DASH
    mu = float(area_m2) / M2_PER_MU if _missing(area_mu) else float(area_mu)
    return f"{_num(area_m2, 1)} m²（{_num(mu, 2)} 亩）"


def _table(rows: list[tuple[str, str]]) -> str:
    """Rows are already-escaped (label, value) pairs."""
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _severity(value) -> str:
    s = "" if _missing(value) else str(value)
    return s if s in SEVERITY_WEIGHTS else "medium"


# --------------------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------------------
def _metric(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``frame`` in a metric CRS (its own when projected, else the GK zone of its centre)."""
    if frame.crs is None:
        raise CRSError(f"layer {name!r}: no CRS; give the village's frames in the working CRS (e.g. EPSG:4548)")
    crs = CRS.from_user_input(frame.crs)
    if crs.is_projected:
        return frame
    minx, miny, maxx, maxy = frame.to_crs(4326).total_bounds
    return frame.to_crs(gk3_zone_crs((minx + maxx) / 2.0))


#: Context features are cut to the village's bounding box plus this margin, metres (a district-wide
#: red-line polygon would otherwise put its every vertex into each village's page).
CLIP_MARGIN_M: float = 300.0


def _clip(geoms: np.ndarray, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """``geoms`` cut to ``box`` where they reach beyond it (kept whole when the cut would leave nothing)."""
    if box is None or len(geoms) == 0:
        return geoms
    rect = shapely.box(*box)
    beyond = ~shapely.contains(rect, geoms)
    if not beyond.any():
        return geoms
    out = geoms.copy()
    cut = shapely.clip_by_rect(geoms[beyond], *box)
    empty = shapely.is_empty(cut) | shapely.is_missing(cut)
    cut[empty] = geoms[beyond][empty]
    out[beyond] = cut
    return out


def _display_geoms(frame: gpd.GeoDataFrame, clip_box: tuple[float, float, float, float] | None = None
                   ) -> np.ndarray:
    """Cut to ``clip_box`` (metric CRS), simplify within 0.2 m, convert to WGS84, drop Z, round to 7 decimals."""
    geoms = shapely.force_2d(np.asarray(frame.geometry.array, dtype=object))
    geoms = _clip(geoms, clip_box)
    geoms = shapely.simplify(geoms, SIMPLIFY_TOLERANCE_M, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=frame.crs).to_crs(4326).array
    wgs = np.asarray(wgs, dtype=object)
    return shapely.transform(wgs, lambda xy: np.round(xy, COORD_DECIMALS))


def _valid_mask(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


_LONG_DECIMAL = re.compile(r"-?\d+\.\d{%d,}(?:[eE][-+]?\d+)?" % (COORD_DECIMALS + 1))


@functools.lru_cache(maxsize=1 << 17)
def _short_text(number: str) -> str:
    """``number`` at 7 decimals without trailing zeros (neighbouring features share their vertices: cached)."""
    text = f"{round(float(number), COORD_DECIMALS):.{COORD_DECIMALS}f}"
    return text.rstrip("0").rstrip(".")


def _short(match: re.Match) -> str:
    return _short_text(match.group(0))


def _collection(geoms: np.ndarray, props: list[dict]) -> str:
    """A GeoJSON FeatureCollection as script-safe text (coordinates written with at most 7 decimals)."""
    # GEOS writes 17 significant digits (117.09525789999999); rewrite each number at 7 decimals, in one pass
    # over all the geometries (GeoJSON from GEOS holds no newline)
    texts = _LONG_DECIMAL.sub(_short, "\n".join(shapely.to_geojson(geoms).tolist())).split("\n") if len(geoms) else []
    # one JSON encoding for every feature, each geometry standing in as a token (a fresh nonce: no data
    # can equal it) put in place afterwards: the same text as encoding the features one by one
    token = f"LGGEOM{secrets.token_hex(8)}X"
    doc = script_json([{"type": "Feature", "geometry": f"{token}{k}", "properties": p} for k, p in enumerate(props)])
    features = re.sub(f'"{token}([0-9]+)"', lambda m: texts[int(m.group(1))], doc)
    return f'{{"type":"FeatureCollection","features":{features}}}'


#: Coordinates travel to the page as integers in units of 10^-COORD_DECIMALS degrees.
_COORD_SCALE: float = 10.0 ** COORD_DECIMALS
#: GeoJSON geometry types by shapely type id (a LinearRing is written as a LineString, as GEOS does; a
#: missing geometry, id -1, reads the last entry: an empty collection).
_KIND = np.array([0, 1, 1, 3, 4, 5, 6, 7], dtype=np.int64)


def _preorder(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``geoms`` with each geometry collection followed by its members (recursively, in order).

    Returns the items, their GeoJSON type codes (:data:`_KIND`) and each collection's member count
    (0 for other items). The loop runs once per level of nesting, not per geometry.
    """
    items = np.asarray(geoms, dtype=object)
    kinds = _KIND[shapely.get_type_id(items)] if len(items) else np.zeros(0, dtype=np.int64)
    counts = np.zeros(len(items), dtype=np.int64)
    done = np.zeros(len(items), dtype=bool)
    while True:
        where = np.flatnonzero((kinds == 7) & ~done)
        if len(where) == 0:
            return items, kinds, counts
        members, owner = shapely.get_parts(items[where], return_index=True)
        n = np.bincount(owner, minlength=len(where))
        counts[where], done[where] = n, True
        pos = np.repeat(where + 1, n)
        items = np.insert(items, pos, np.asarray(members, dtype=object))
        kinds = np.insert(kinds, pos, _KIND[shapely.get_type_id(members)] if len(members) else [])
        counts = np.insert(counts, pos, 0)
        done = np.insert(done, pos, False)


def _in_order(*pieces: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The values of ``(owner, values)`` pieces merged by owner index (stable: each piece keeps its order)."""
    owner = np.concatenate([o for o, _ in pieces])
    values = np.concatenate([np.asarray(v, dtype=object) for _, v in pieces]) if pieces else np.zeros(0, object)
    return values[np.argsort(owner, kind="stable")]


def _encode_geoms(geoms: np.ndarray) -> tuple[dict, np.ndarray]:
    """The compact page form of WGS84 ``geoms`` (rounded to 7 decimals) and the vertices, as integers.

    The form (decoded by ``LandguardMap.decode`` in landguard.js and by ``tests/maps/pagedata.py``):

    - ``k``: each geometry's GeoJSON type code (0 Point, 1 LineString, 3 Polygon, 4 MultiPoint,
      5 MultiLineString, 6 MultiPolygon, 7 GeometryCollection), one number when all are alike; a
      collection's members follow it in the same list;
    - ``m``: the number of parts of each multi-geometry and collection, in order;
    - ``r``: the number of rings of each polygon (a multipolygon's polygons included);
    - ``l``: the number of vertices of each point, line and ring (a ring without its closing vertex,
      which repeats its first);
    - ``c``: every vertex as integers ``round(lon * 1e7)``, ``round(lat * 1e7)``, each pair written as
      its difference from the vertex before (the first from 0, 0). ``int / 1e7`` is the same double
      as parsing the 7-decimal text.

    Returns the form and the ``(n, 2)`` integer vertices (before differencing).

    Examples
    --------
    >>> form, ints = _encode_geoms(np.array([shapely.box(116.1, 39.9, 116.1000002, 39.9000001)]))
    >>> form
    {'k': 3, 'r': [1], 'l': [4], 'c': [1161000002, 399000000, 0, 1, -2, 0, 0, -1]}
    """
    items, kinds, gc_counts = _preorder(geoms)
    n_items = len(items)
    plain = np.flatnonzero(kinds != 7)
    multi = np.flatnonzero(np.isin(kinds, (4, 5, 6)))
    # the parts of every non-collection item, in order: a single geometry is its own part
    single = plain[kinds[plain] < 4]
    subs, sub_owner = (shapely.get_parts(items[multi], return_index=True) if len(multi)
                       else (np.zeros(0, object), np.zeros(0, np.int64)))
    parts = _in_order((single, items[single]), (multi[sub_owner], subs))
    part_kind = _KIND[shapely.get_type_id(parts)] if len(parts) else np.zeros(0, np.int64)
    m = np.zeros(n_items, dtype=np.int64)
    m[multi] = shapely.get_num_geometries(items[multi]) if len(multi) else 0
    m[kinds == 7] = gc_counts[kinds == 7]
    has_m = np.isin(kinds, (4, 5, 6, 7))
    # the lines: points and lines as they are, polygons as their rings (exterior first)
    poly = np.flatnonzero(part_kind == 3)
    rings, ring_owner = (shapely.get_rings(parts[poly], return_index=True) if len(poly)
                         else (np.zeros(0, object), np.zeros(0, np.int64)))
    r = np.bincount(ring_owner, minlength=len(poly))
    other = np.flatnonzero(part_kind != 3)
    lines = _in_order((other, parts[other]), (poly[ring_owner], rings))
    closed = _in_order((other, np.zeros(len(other), dtype=bool)), (poly[ring_owner], np.ones(len(rings), dtype=bool)))
    closed = closed.astype(bool)
    if len(lines):
        xy, owner = shapely.get_coordinates(lines, return_index=True)
        n = np.bincount(owner, minlength=len(lines))
    else:
        xy, n = np.zeros((0, 2)), np.zeros(0, np.int64)
    # a ring's closing vertex repeats its first: left out, put back by the decoder
    drop = closed & (n > 0)
    keep = np.ones(len(xy), dtype=bool)
    keep[(np.cumsum(n) - 1)[drop]] = False
    ints = np.rint(xy[keep] * _COORD_SCALE).astype(np.int64)
    delta = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)) if len(ints) else ints
    form: dict = {"k": int(kinds[0]) if n_items and (kinds == kinds[0]).all() and kinds[0] != 7 else kinds.tolist()}
    if has_m.any():
        form["m"] = m[has_m].tolist()
    if len(poly):
        form["r"] = r.tolist()
    form["l"] = (n - drop).tolist()
    form["c"] = delta.ravel().tolist()
    return form, ints


class _Joined:
    """A text property made of fixed ``parts`` and per-feature ``holes`` (one list of texts per feature):
    feature ``i``'s text is ``parts[0] + holes[i][0] + parts[1] + ... + parts[-1]``."""

    def __init__(self, parts: Sequence[str], holes: Sequence[Sequence[str]]):
        self.parts = list(parts)
        self.holes = [list(h) for h in holes]
        if any(len(h) != len(self.parts) - 1 for h in self.holes):
            raise ValueError("each feature needs one text per hole")

    def __len__(self) -> int:
        return len(self.holes)

    def __getitem__(self, i: int) -> str:
        return _joined(self.parts, self.holes[i])

    def take(self, idx) -> "_Joined":
        return _Joined(self.parts, [self.holes[i] for i in idx])


def _column(values: Sequence | _Joined) -> list | dict:
    """A property column for the page: the values, or ``{"d": distinct texts, "i": index of each}`` when
    texts repeat (half as many distinct texts as values or fewer), or for :class:`_Joined` texts
    ``{"j": parts, "h": [column of each hole]}``."""
    if isinstance(values, _Joined):
        return {"j": values.parts, "h": [_column(col) for col in zip(*values.holes)] if len(values)
                else [[] for _ in values.parts[1:]]}
    values = list(values)
    if len(values) >= 4 and pd.api.types.infer_dtype(values, skipna=False) == "string":
        codes, distinct = pd.factorize(np.asarray(values, dtype=object))
        if 2 * len(distinct) <= len(values):
            return {"d": distinct.tolist(), "i": codes.tolist()}
    return values


def _layer_data(geoms: np.ndarray, props: Mapping[str, Sequence], values: Sequence[Sequence[str]] | None = None,
                name: str = "layer") -> str:
    """One overlay's data as script-safe JSON, in the compact form ``LandguardMap.geoLayer`` decodes.

    ``{"n": features, "g": geometries (:func:`_encode_geoms`), "f": {key: column}, "v": [column, ...]}``:
    feature ``i`` gets ``properties[key] = f[key][i]`` (left out where it is null) and, with ``v``, the
    popup values ``properties.v = [v[0][i], v[1][i], ...]``; a column is a list or ``{"d", "i"}``
    (:func:`_column`). ``geoms`` are WGS84, rounded to 7 decimals; a feature with a non-finite
    coordinate is left out (with a warning naming ``name``).

    Examples
    --------
    >>> _layer_data(np.array([shapely.Point(116.5, 39.9)]), {"id": ["C1"]})
    '{"n":1,"g":{"k":0,"l":[1],"c":[1165000000,399000000]},"f":{"id":["C1"]}}'
    """
    geoms = np.asarray(geoms, dtype=object)
    props = {k: v if isinstance(v, _Joined) else list(v) for k, v in props.items()}
    values = [list(c) for c in values] if values is not None else None
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():
        keep = ~np.isin(np.arange(len(geoms)), owner[~finite])
        warnings.warn(f"village map, layer {name}: {int((~keep).sum())} feature(s) with a coordinate that is not a "
                      "number in WGS84 left out of the map (图形坐标无效，未绘制)", DataQualityWarning, stacklevel=3)
        geoms = geoms[keep]
        idx = np.flatnonzero(keep)
        props = {k: v.take(idx) if isinstance(v, _Joined) else [v[i] for i in idx] for k, v in props.items()}
        values = [[c[i] for i in idx] for c in values] if values is not None else None
    form, _ = _encode_geoms(geoms)
    out: dict = {"n": len(geoms), "g": form, "f": {k: _column(v) for k, v in props.items()}}
    if values is not None:
        out["v"] = [_column(c) for c in values]
    return script_json(out)


def _bounds_wgs(geoms: np.ndarray) -> np.ndarray | None:
    if len(geoms) == 0:
        return None
    b = shapely.total_bounds(geoms)
    return b if np.all(np.isfinite(b)) else None


# --------------------------------------------------------------------------------------------------
# popups
# --------------------------------------------------------------------------------------------------
def _context_popups(role: str, frame: gpd.GeoDataFrame) -> tuple[dict, list[list[str]]]:
    """Popup spec of a context layer (title, row labels) and its escaped values, column by column.

    The page builds each popup from these when it opens (a feature's ``v[0]`` is its id for the title,
    ``v[1:]`` the row values), so the labels are not repeated per feature.
    """
    cols = popup_columns(role, frame.columns)
    id_col = next((c for c in cols if c.endswith("_id") or c in ("name", "tbbh")), None)
    row_cols = [c for c in cols if c != id_col]
    geoms = np.asarray(frame.geometry.array, dtype=object)
    polygonal = bool(np.isin(shapely.get_type_id(geoms), (3, 6)).any())
    columns = [_esc_column(frame[c]) for c in row_cols]
    ids = _esc_column(frame[id_col]) if id_col else [""] * len(frame)
    if polygonal:
        # each distinct area written once; features that are not polygons have none
        codes, distinct = _factorize_floats(shapely.area(geoms))
        texts = np.array([html.escape(_area_text(a)) for a in distinct] + [_DASH], dtype=object)
        codes = np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), codes, -1)
        columns.append(texts[codes].tolist())
    labels = [html.escape(column_label(c)) for c in row_cols] + (["图形面积"] if polygonal else [])
    spec = {"title": html.escape(layer_label(role)), "colour": context_style(role).get("color", "#999"),
            "rows": labels}
    return spec, [ids, *columns]


def _finding_rows(f: pd.DataFrame) -> dict[str, list]:
    """Per-finding display pieces, column-wise (escaped)."""
    n = len(f)

    def col(name, default=None):
        return f[name].to_numpy(dtype=object) if name in f.columns else np.full(n, default, dtype=object)

    return {k: col(k) for k in ("case_id", "rule_id", "rule_name", "family", "severity", "subject_layer",
                                 "subject_id", "related_ids", "measured", "limit", "unit", "area_m2",
                                 "area_mu", "status", "basis", "message", "judgement")}


#: The fixed text of every finding popup, around :func:`_finding_holes`: popup = parts[0] + holes[0] +
#: parts[1] + ... + parts[-1] (the page receives the parts once per layer, the holes as columns).
_FINDING_LABELS = ("规则名称", "严重程度", "实测与限值", "面积", "对象", "关联对象", "依据", "状态", "案件编号")
_FINDING_PARTS: tuple[str, ...] = (
    '<div class="lg-pop lg-pop-finding"><h4 style="border-color:', '">', "", " <small>", "</small></h4><table>",
    f"<tr><th>{_FINDING_LABELS[0]}</th><td>",
    *(f"</td></tr><tr><th>{label}</th><td>" for label in _FINDING_LABELS[1:]),
    "</td></tr></table>", "", "</div>")


def _finding_popup(c: dict, i: int, extra: str = "", change: str = "") -> str:
    """The popup of finding ``i``; ``extra`` (escaped HTML: the verification) is appended, ``change`` badged.

    Examples
    --------
    >>> c = {k: [None] for k in ("case_id", "rule_id", "rule_name", "family", "severity", "subject_layer",
    ...      "subject_id", "related_ids", "measured", "limit", "unit", "area_m2", "area_mu", "status", "basis",
    ...      "message", "judgement")}
    >>> c.update(rule_name=["一户<多宅>"], message=["说明"])
    >>> text = _finding_popup(c, 0)
    >>> text.split("<table>")[0]
    '<div class="lg-pop lg-pop-finding"><h4 style="border-color:#1f78b4">一户&lt;多宅&gt; <small>—</small></h4>'
    >>> text.endswith('<tr><th>案件编号</th><td>—</td></tr></table><p class="lg-msg">说明</p></div>')
    True
    """
    return _joined(_FINDING_PARTS, _finding_holes(c, i, extra, change))


def _joined(parts: Sequence[str], holes: Sequence[str]) -> str:
    """``parts[0] + holes[0] + parts[1] + ... + parts[-1]``."""
    return "".join(p + h for p, h in zip(parts, holes)) + parts[-1]


def _finding_holes(c: dict, i: int, extra: str = "", change: str = "") -> list[str]:
    """The variable pieces of finding ``i``'s popup (escaped HTML), in :data:`_FINDING_PARTS`' holes."""
    family = _text(c["family"][i])
    judgement = c["judgement"][i]
    colour = JUDGEMENT_COLOURS.get(str(judgement), FAMILY_COLOURS.get(family, _OTHER_COLOUR)) \
        if not _missing(judgement) else FAMILY_COLOURS.get(family, _OTHER_COLOUR)
    sev = _severity(c["severity"][i])
    unit = unit_label(c["unit"][i])
    unit_sfx = f" {unit}" if unit else ""
    measured, limit = c["measured"][i], c["limit"][i]
    if _missing(measured) and _missing(limit):
        mv = _DASH
    else:
        mv = (f"实测 {_num(measured)}{unit_sfx if not _missing(measured) else ''}；"
              f"限值 {_num(limit)}{unit_sfx if not _missing(limit) else ''}")
    layer = c["subject_layer"][i]
    subject = _DASH if _missing(layer) and _missing(c["subject_id"][i]) else (
        f"{layer_label(str(layer)) if not _missing(layer) else ''} {_text(c['subject_id'][i])}".strip())
    related = c["related_ids"][i]
    related_text = _DASH if _missing(related) or str(related) == "" else "；".join(
        s.strip() for s in str(related).split(";") if s.strip())
    status = c["status"][i]
    status_text = _DASH if _missing(status) else STATUS_LABELS.get(str(status), str(status))
    e = html.escape
    values = [_esc(c["rule_name"][i]), e(SEVERITY_LABELS[sev]), e(mv), e(_area_text(c["area_m2"][i], c["area_mu"][i])),
              e(subject), e(related_text), _esc(c["basis"][i]), e(status_text), _esc(c["case_id"][i])]
    # a monitoring patch: its pre-judgement first (its figures are in the message)
    first = "" if _missing(judgement) else f"<tr><th>预判结论</th><td>{_esc(judgement)}</td></tr>"
    message = c["message"][i]
    msg = "" if _missing(message) else f'<p class="lg-msg">{_esc(message)}</p>'
    return [colour, _change_badge(change), _esc(c["rule_name"][i]), _esc(c["rule_id"][i]), first, *values, msg, extra]


# --------------------------------------------------------------------------------------------------
# panel and legend
# --------------------------------------------------------------------------------------------------
def _swatch(style: dict) -> str:
    border = style.get("color", "#666")
    fill = style.get("fillColor", border) if style.get("fill", True) else "transparent"
    opacity = style.get("fillOpacity", 0.2) if style.get("fill", True) else 0
    dash = "dashed" if style.get("dashArray") else "solid"
    rgba = _rgba(fill, opacity) if fill != "transparent" else "transparent"
    return f'<span class="lg-sw" style="border:2px {dash} {border};background:{rgba}"></span>'


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        return hex_colour
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _family_order(families) -> list[str]:
    present = [f for f in pd.unique(pd.Series(families, dtype=object).dropna().astype(str))]
    return [f for f in FAMILIES if f in present] + sorted(f for f in present if f not in FAMILIES)


def display_columns(role: str, columns) -> list[str]:
    """The columns of a ``role`` frame that :func:`render_village_map` reads (popups, the search box's
    owners, the village's id), so a caller masks only what reaches the page.

    Examples
    --------
    >>> display_columns("parcels", ["parcel_id", "owner_id", "owner_name", "remark"])
    ['parcel_id', 'owner_name']
    """
    shown = set(popup_columns(role, columns))
    if "owner_name" in columns:
        shown.update(c for c in columns if c.endswith("_id") and c not in ("owner_id", "household_id"))
        shown.add("owner_name")
    if role == "villages":
        shown.update(c for c in ("village_id", "name", "township") if c in columns)
    return [c for c in columns if c in shown]


def _owners_of(layers: Mapping[str, gpd.GeoDataFrame], findings: pd.DataFrame) -> np.ndarray:
    """Per finding, the (already masked) ``owner_name`` of its subject, looked up by id in the layers."""
    out = np.full(len(findings), "", dtype=object)
    if len(findings) == 0 or "subject_id" not in findings.columns:
        return out
    pieces = []
    for frame in layers.values():
        if frame is None or len(frame) == 0 or "owner_name" not in frame.columns:
            continue
        for col in frame.columns:
            if col.endswith("_id") and col not in ("village_id", "owner_id", "household_id"):
                pieces.append(pd.DataFrame({"id": frame[col].astype(str).to_numpy(),
                                            "owner": frame["owner_name"].to_numpy(dtype=object)}))
    if not pieces:
        return out
    table = pd.concat(pieces, ignore_index=True).dropna().drop_duplicates("id").set_index("id")["owner"]
    got = findings["subject_id"].astype(str).map(table)
    return got.where(got.notna(), "").astype(str).to_numpy(dtype=object)


def _panel_html(village: Mapping[str, str], findings: pd.DataFrame, drawn: np.ndarray,
                owners: np.ndarray | None = None, history: Mapping[str, dict] | None = None,
                rectified: pd.DataFrame | None = None) -> str:
    history = history or {}
    c = _finding_rows(findings)
    n = len(findings)
    owners = np.full(n, "", dtype=object) if owners is None else owners
    head = (f'<div class="lg-head"><span class="lg-title">{_esc(village.get("township"))} · '
            f'{_esc(village.get("name"))} · 问题 {n} 处</span>'
            '<button type="button" class="lg-toggle" data-lg-toggle="1" aria-expanded="true">收起</button></div>'
            f'<div class="lg-sub">村代码 {_esc(village.get("village_id"))} · 点击条目定位</div>')
    if n:
        head += ('<div class="lg-find"><input type="search" class="lg-search" aria-label="搜索问题" '
                 'placeholder="搜索：案件编号 / 对象编号 / 权利人" autocomplete="off">'
                 '<span class="lg-hits" aria-live="polite"></span></div>')
    if n == 0:
        return head + '<div class="lg-body"><p class="lg-empty">本村未发现问题。</p></div>'
    sev_rank = {"high": 0, "medium": 1, "low": 2}
    order = sorted(range(n), key=lambda i: (sev_rank[_severity(c["severity"][i])], _text(c["rule_id"][i]),
                                            _text(c["case_id"][i])))
    parts = [head, '<div class="lg-body">']
    fams = np.array([_text(v) for v in c["family"]], dtype=object)
    for fam in _family_order(fams):
        colour = FAMILY_COLOURS.get(fam, _OTHER_COLOUR)
        members = [i for i in order if fams[i] == fam]
        parts.append(f'<div data-lg-group="1"><h5><span class="lg-sw" style="border-color:{colour};'
                     f'background:{_rgba(colour, 0.3)}"></span>{html.escape(FAMILY_LABELS.get(fam, fam))}'
                     f'（{len(members)}）</h5><ol>')
        for i in members:
            # what the search box matches: case id, subject id, masked owner (lower case, escaped)
            key = " ".join(_text(v) for v in (c["case_id"][i], c["subject_id"][i], owners[i]) if not _missing(v))
            q = html.escape(key.lower(), quote=True)
            sev = _severity(c["severity"][i])
            h = history.get(_text(c["case_id"][i]), {})
            label = (f'<span class="lg-sev lg-sev-{sev}">{SEVERITY_LABELS[sev]}</span>'
                     f'{_change_badge(h.get("change", "")) if h.get("change") != "持续" else ""}'
                     f'{_esc(c["rule_name"][i])} <span class="lg-sid">{_esc(c["subject_id"][i])}</span>')
            if drawn[i]:
                parts.append(f'<li data-q="{q}"><button type="button" class="lg-item" '
                             f'data-case="{_esc(c["case_id"][i])}" '
                             f'style="border-left-color:{colour}" title="点击定位">{label}</button></li>')
            else:
                parts.append(f'<li data-q="{q}"><button type="button" class="lg-item" disabled '
                             f'title="无图形，无法定位" '
                             f'style="border-left-color:{colour}">{label}</button></li>')
        parts.append("</ol></div>")
    if rectified is not None and len(rectified):
        r = _finding_rows(rectified)
        parts.append(f'<div data-lg-group="1"><h5>{_swatch(dict(RECTIFIED_STYLE))}已整改（上期发现，本期未再发现）'
                     f'（{len(rectified)}）</h5><ol>')
        for i in range(len(rectified)):
            q = html.escape(" ".join(_text(v) for v in (r["case_id"][i], r["subject_id"][i]) if not _missing(v)).lower(),
                            quote=True)
            parts.append(f'<li data-q="{q}"><button type="button" class="lg-item" data-case="{_esc(r["case_id"][i])}" '
                         f'style="border-left-color:{RECTIFIED_STYLE["color"]}" title="点击定位">'
                         f'{_change_badge("已整改")}{_esc(r["rule_name"][i])} '
                         f'<span class="lg-sid">{_esc(r["subject_id"][i])}</span></button></li>')
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts)


def _bar_html(village: Mapping[str, str], project: str | None, run_date) -> str:
    """The title bar: village (township, name, code), then project and run date (escaped)."""
    sub = []
    if not _missing(project) and str(project).strip():
        sub.append(f"项目：{_esc(project)}")
    if not _missing(run_date) and str(run_date).strip():
        sub.append(f"检查日期：{_esc(run_date)}")
    sub.append(f"村代码 {_esc(village.get('village_id'))}")
    return (f'<span class="lg-bar-t">{_esc(village.get("township"))} {_esc(village.get("name"))} 问题核查图</span>'
            f'<span class="lg-bar-s">{" · ".join(sub)}</span>')


def _legend_html(families: list[str], contexts: list[str], has_ortho: bool, has_rectified: bool = False,
                 has_photos: bool = False) -> str:
    parts = ['<button type="button" class="lg-ltoggle" data-lg-legend="1" aria-expanded="true">图例</button>'
             '<div class="lg-lbody">']
    for fam in families or list(FAMILIES):
        colour = FAMILY_COLOURS.get(fam, _OTHER_COLOUR)
        parts.append(f'<div class="lg-row"><span class="lg-sw" style="border:2px solid {colour};'
                     f'background:{_rgba(colour, 0.3)}"></span>{html.escape(FAMILY_LABELS.get(fam, fam))}问题</div>')
    weights = "".join(
        f'<span class="lg-line" style="border-top-width:{w:g}px"></span>{SEVERITY_LABELS[s]} '
        for s, w in SEVERITY_WEIGHTS.items())
    parts.append(f'<div class="lg-row">严重程度（线宽）：</div><div class="lg-row">{weights}</div>')
    if has_rectified:
        parts.append(f'<div class="lg-row">{_swatch(dict(RECTIFIED_STYLE))}已整改（上期图形）</div>')
    if has_photos:
        parts.append('<div class="lg-row"><span class="lg-sw lg-sw-photo"></span>照片拍摄位置（箭头为拍摄方向）</div>')
    for role in contexts:
        parts.append(f'<div class="lg-row">{_swatch(context_style(role))}{html.escape(layer_label(role))}</div>')
    if has_ortho:
        parts.append('<div class="lg-row"><span class="lg-sw" style="background:#8a9a6b;border-color:#555">'
                     '</span>正射影像</div>')
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# orthophoto
# --------------------------------------------------------------------------------------------------
def _ortho_overlay(path: str | Path, bounds: tuple[float, float, float, float], crs, max_px: int):
    """Clip ``path`` to ``bounds`` (in ``crs``), warp to EPSG:3857, encode as PNG; (data URL, lat/lon bounds)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds
    from rasterio.windows import from_bounds

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: cannot open the orthophoto ({exc})") from None
    with src:
        if src.crs is None:
            raise RasterError(f"{path}: orthophoto has no CRS; georeference it (e.g. EPSG:4548)")
        left, bottom, right, top = transform_bounds(crs, src.crs, *bounds, densify_pts=21)
        window = from_bounds(left, bottom, right, top, transform=src.transform)
        full = rasterio.windows.Window(0, 0, src.width, src.height)
        try:
            window = window.intersection(full).round_offsets().round_lengths()
        except rasterio.errors.WindowError:
            window = None
        if window is None or window.width < 1 or window.height < 1:
            warnings.warn(f"{path}: orthophoto does not cover the village; no image overlay",
                          DataQualityWarning, stacklevel=3)
            return None
        scale = max(window.width / max_px, window.height / max_px, 1.0)
        out_w, out_h = max(1, int(round(window.width / scale))), max(1, int(round(window.height / scale)))
        bands = [1, 2, 3] if src.count >= 3 else [1]
        data = src.read(bands, window=window, out_shape=(len(bands), out_h, out_w),
                        resampling=Resampling.average, masked=True)
        w_transform = src.window_transform(window) @ rasterio.Affine.scale(window.width / out_w,
                                                                         window.height / out_h)
        src_crs = src.crs
    rgb = _to_uint8(data)
    valid = (~np.ma.getmaskarray(data)).any(axis=0).astype(np.uint8) * 255
    west, south, east, north = rasterio.transform.array_bounds(out_h, out_w, w_transform)
    dst_transform, dst_w, dst_h = calculate_default_transform(src_crs, "EPSG:3857", out_w, out_h,
                                                              left=west, bottom=south, right=east, top=north)
    dst = np.zeros((4, dst_h, dst_w), dtype=np.uint8)
    for k in range(3):
        reproject(rgb[k], dst[k], src_transform=w_transform, src_crs=src_crs, dst_transform=dst_transform,
                  dst_crs="EPSG:3857", resampling=Resampling.bilinear)
    reproject(valid, dst[3], src_transform=w_transform, src_crs=src_crs, dst_transform=dst_transform,
              dst_crs="EPSG:3857", resampling=Resampling.nearest, dst_nodata=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=dst_w, height=dst_h, count=4, dtype="uint8") as png:
                png.write(dst)
            payload = mem.read()
    west, south, east, north = transform_bounds(
        "EPSG:3857", "EPSG:4326", *rasterio.transform.array_bounds(dst_h, dst_w, dst_transform))
    url = "data:image/png;base64," + base64.b64encode(payload).decode("ascii")
    return url, [[round(south, 7), round(west, 7)], [round(north, 7), round(east, 7)]]


def _to_uint8(data: np.ma.MaskedArray) -> np.ndarray:
    """Bands as 3 x H x W uint8 (grey repeated; non-byte data stretched 2–98 %)."""
    if data.dtype == np.uint8:
        # byte imagery as it is (no float copy: that was a sixth of the orthophoto's time)
        out = np.asarray(np.ma.filled(data, 0), dtype=np.uint8)
        return np.repeat(out, 3, axis=0) if out.shape[0] == 1 else out
    arr = np.ma.filled(data.astype(float), np.nan)
    if data.dtype != np.uint8:
        out = np.empty(arr.shape, dtype=np.uint8)
        for k in range(arr.shape[0]):
            band = arr[k]
            finite = band[np.isfinite(band)]
            lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
            hi = hi if hi > lo else lo + 1.0
            out[k] = np.clip((np.nan_to_num(band, nan=lo) - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)
    else:
        out = np.nan_to_num(arr, nan=0.0).astype(np.uint8)
    if out.shape[0] == 1:
        out = np.repeat(out, 3, axis=0)
    return out


# --------------------------------------------------------------------------------------------------
# history and verification (the project's case register)
# --------------------------------------------------------------------------------------------------
#: Longest side of a photo thumbnail embedded in a popup, pixels.
THUMB_MAX_PX: int = 320
#: Photos embedded per case (the rest are counted, not embedded: the page stays small).
PHOTOS_PER_CASE: int = 3
_PHOTO_MAX_BYTES = 40 * 1024 * 1024  # a larger "photo" is not opened


def _split(value, sep: str = ";") -> list[str]:
    return [] if _missing(value) else [p.strip() for p in str(value).split(sep)]


def _thumbnail(path: Path) -> str | None:
    """``path`` as a JPEG data URI at most :data:`THUMB_MAX_PX` on its longest side, or None if unreadable."""
    from PIL import Image, ImageOps

    try:
        if path.stat().st_size > _PHOTO_MAX_BYTES:
            return None
        with Image.open(path) as img:
            img.draft("RGB", (THUMB_MAX_PX, THUMB_MAX_PX))
            img = ImageOps.exif_transpose(img)
            img.thumbnail((THUMB_MAX_PX, THUMB_MAX_PX))
            import io

            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="JPEG", quality=70, optimize=True)
    except Exception:  # noqa: BLE001 - any unreadable or hostile file: no thumbnail, the flag says why
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _photo_file(root: Path | None, rel: str) -> Path | None:
    """The photo ``rel`` inside ``root`` (the project folder), or None when it is absolute, escapes or is missing."""
    if root is None or not rel:
        return None
    rel = rel.replace("\\", "/")
    if Path(rel).is_absolute() or re.match(r"^[A-Za-z]:", rel):
        return None
    base = root.resolve()
    full = (base / rel).resolve()
    if base not in full.parents or not full.is_file():
        return None
    return full


def _float_or_none(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _case_history(register: pd.DataFrame | None, photo_root: Path | None) -> dict[str, dict]:
    """Per ``case_id`` of the register: its change, the verification's popup section (escaped HTML) and its
    photo points ``(lon, lat, direction or None, popup, tooltip)``.

    Examples
    --------
    >>> reg = pd.DataFrame({"case_id": ["C1"], "change": ["持续"], "verified": ["违法"],
    ...                     "verified_on": ["2026-11-10"], "verified_by": ["王<b>"], "note": [None],
    ...                     "photos": [None], "photo_flags": [None], "photo_points": [None]})
    >>> h = _case_history(reg, None)["C1"]
    >>> h["change"], "王&lt;b&gt;" in h["html"]
    ('持续', True)
    """
    out: dict[str, dict] = {}
    if register is None or len(register) == 0 or "case_id" not in register.columns:
        return out
    n = len(register)

    def col(name):
        return register[name].to_numpy(dtype=object) if name in register.columns else np.full(n, None, dtype=object)

    cols = {k: col(k) for k in ("case_id", "change", "verified", "verified_on", "verified_by", "note", "photos",
                                "photo_flags", "photo_points", "progress")}
    for i in range(n):  # one row per case of one village; each photo is a file to read anyway
        cid = _text(cols["case_id"][i])
        change = "" if _missing(cols["change"][i]) else str(cols["change"][i])
        photos = [p for p in _split(cols["photos"][i])]
        flags = _split(cols["photo_flags"][i])
        points = _split(cols["photo_points"][i])
        verified = cols["verified"][i]
        rows = []
        if not _missing(verified) and str(verified).strip():
            rows = [("核查结论", f'<b class="lg-verdict">{_esc(verified)}</b>'),
                    ("核查日期", _esc(cols["verified_on"][i])), ("核查人", _esc(cols["verified_by"][i]))]
            if not _missing(cols["note"][i]) and str(cols["note"][i]).strip():
                rows.append(("核查说明", _esc(cols["note"][i])))
        if not _missing(cols["progress"][i]):
            rows.append(("整改进度", _esc(cols["progress"][i])))
        thumbs, marks, pts = [], [], []
        for k, rel in enumerate(photos):
            if not rel:
                continue
            flag = flags[k] if k < len(flags) else ""
            label = f"照片 {k + 1}"
            if flag:
                marks.append(f'<span class="lg-pflag">{html.escape(label)}：{_esc(flag)}</span>')
            if len(thumbs) < PHOTOS_PER_CASE:
                uri = _thumbnail(f) if (f := _photo_file(photo_root, rel)) is not None else None
                if uri is not None:
                    thumbs.append(f'<figure><img src="{html.escape(uri, quote=True)}" alt="{html.escape(label)}" '
                                  f'loading="lazy"><figcaption>{html.escape(label)}'
                                  f'{"（" + _esc(flag) + "）" if flag else ""}</figcaption></figure>')
                else:
                    marks.append(f'<span class="lg-pflag">{html.escape(label)}：无法读取</span>')
            parts = points[k].split(",", 3) if k < len(points) else []
            parts += [""] * (4 - len(parts))
            lon, lat, direction = (_float_or_none(v) for v in parts[:3])
            if lon is not None and lat is not None and -180 <= lon <= 180 and -90 <= lat <= 90:
                d_text = f"{direction:.0f}°" if direction is not None else "未知"
                prow = [("案件编号", _esc(cid)), ("照片", html.escape(label)), ("拍摄方向", html.escape(d_text)),
                        ("拍摄时间", _esc(parts[3].strip() or None))]
                if flag:
                    prow.append(("照片标记", _esc(flag)))
                pts.append((round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS),
                            None if direction is None else round(direction % 360.0, 1),
                            f'<div class="lg-pop"><h4 style="border-color:#0570b0">拍摄位置</h4>{_table(prow)}</div>',
                            f"{_esc(cid)} {html.escape(label)}"))
        more = len([p for p in photos if p]) - len(thumbs)
        body = ""
        if rows or photos:
            body = '<div class="lg-verify"><h5>现场核查</h5>' + (_table(rows) if rows else "")
            if thumbs:
                body += f'<div class="lg-thumbs">{"".join(thumbs)}</div>'
            if more > 0 and len(thumbs) == PHOTOS_PER_CASE:
                body += f'<p class="lg-more">另有 {more} 张照片见案件库</p>'
            if marks:
                body += f'<p class="lg-pflags">{"".join(marks)}</p>'
            body += "</div>"
        out[cid] = {"change": change, "html": body, "points": pts}
    return out


def _change_badge(change: str) -> str:
    cls = CHANGE_CLASSES.get(change)
    return f'<span class="lg-chg lg-chg-{cls}">{html.escape(change)}</span>' if cls else ""


def _photo_layer(history: Mapping[str, dict], slots: _Slots) -> _GeoLayer | None:
    """The photo points of every case: a marker where each photo was taken, pointing its way when known."""
    pts = [p for h in history.values() for p in h["points"]]
    if not pts:
        return None
    geoms = shapely.points(np.array([[p[0], p[1]] for p in pts], dtype=float))
    props = {"p": [p[3] for p in pts], "t": [p[4] for p in pts]}
    if any(p[2] is not None for p in pts):
        props["d"] = [p[2] for p in pts]
    label = f'<span class="lg-sw lg-sw-photo"></span>照片拍摄位置（{len(pts)}）'
    return _GeoLayer(label, _layer_data(geoms, props, name="photos"), {"kind": "photo", "z": 420,
                                                        "style": {"color": "#0570b0"}}, slots)


def _rectified(register: gpd.GeoDataFrame | None, findings: pd.DataFrame) -> gpd.GeoDataFrame | None:
    """Register cases the latest run no longer found (已整改), with their last geometry, in a metric CRS."""
    if register is None or len(register) == 0 or "change" not in register.columns:
        return None
    known = set(findings["case_id"].astype(str)) if "case_id" in findings.columns else set()
    keep = (register["change"].astype(str) == "已整改").to_numpy() & \
        ~register["case_id"].astype(str).isin(known).to_numpy()
    if not keep.any():
        return None
    out = register[keep]
    if not isinstance(out, gpd.GeoDataFrame) or out.crs is None:
        return None
    out = _metric(out, "cases")
    return out[_valid_mask(out)]


# --------------------------------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------------------------------
def _village_bounds_metric(layers: Mapping[str, gpd.GeoDataFrame], village_id: str):
    frame = layers.get("villages")
    if frame is None or frame.empty:
        return None
    frame = _metric(frame, "villages")
    if "village_id" in frame.columns:
        own = frame[frame["village_id"].astype(str) == str(village_id)]
        if not own.empty:
            frame = own
    return frame.total_bounds, frame.crs


#: The village of the map (``o`` = 1) drawn bold, its neighbours (``o`` = 0) dimmed.
_OWN_VILLAGE = {"color": "#111111", "weight": 3.5, "dashArray": None, "opacity": 1.0}
_OTHER_VILLAGE = {"color": "#777777", "weight": 1.5, "dashArray": "4 4", "opacity": 0.7, "fill": True,
                  "fillColor": "#9a9a9a", "fillOpacity": 0.35}


def _context_layers(layers: Mapping[str, gpd.GeoDataFrame], slots: _Slots, village_id: str | None = None,
                    clip: tuple[np.ndarray, object] | None = None) -> tuple[list[tuple[str, _GeoLayer]], list]:
    """One overlay per non-empty context role, bottom to top, and their WGS84 bounds.

    ``clip`` is the village's (bounds, CRS): features are drawn cut to the bounds plus
    :data:`CLIP_MARGIN_M` (popups keep the whole feature's figures).
    """
    roles = [r for r in CONTEXT_ORDER if r in layers] + [r for r in layers if r not in CONTEXT_ORDER]
    out: list[tuple[str, _GeoLayer]] = []
    bounds: list[np.ndarray] = []
    for z, role in enumerate(roles):
        frame = layers[role]
        if frame is None or len(frame) == 0:
            continue
        frame = _metric(frame, role)
        frame = frame[_valid_mask(frame)]
        if frame.empty:
            continue
        box = None
        if clip is not None and CRS.from_user_input(frame.crs) == CRS.from_user_input(clip[1]):
            x0, y0, x1, y1 = (float(v) for v in clip[0])
            box = (x0 - CLIP_MARGIN_M, y0 - CLIP_MARGIN_M, x1 + CLIP_MARGIN_M, y1 + CLIP_MARGIN_M)
        geoms = _display_geoms(frame, box)
        b = _bounds_wgs(geoms)
        if b is not None:
            bounds.append(b)
        spec, values = _context_popups(role, frame)
        style = context_style(role)
        style["className"] = "lg-ctx"
        label = f"{_swatch(context_style(role))}{html.escape(layer_label(role))}（{len(frame)}）"
        opts = {"style": style, "kind": "context", "popup": spec, "z": 360 + min(z, 25)}
        props = {}
        if role == "villages" and village_id is not None and "village_id" in frame.columns:
            own = (frame["village_id"].astype(str) == str(village_id)).to_numpy()
            props = {"o": own.astype(np.int64).tolist()}
            opts.update(own=_OWN_VILLAGE, other=_OTHER_VILLAGE)
        layer = _GeoLayer(label, _layer_data(geoms, props, values, role), opts, slots)
        out.append((role, layer))
    return out, bounds


def _finding_layers(findings: gpd.GeoDataFrame, drawn: np.ndarray, slots: _Slots,
                    history: Mapping[str, dict] | None = None) -> tuple[list[_GeoLayer], list[str], list]:
    """One overlay per finding family (findings without geometry are only listed), the families, bounds.

    ``history`` (from :func:`_case_history`) adds each case's change (styled, badged) and verification.
    """
    history = history or {}
    if len(findings) == 0:
        return [], [], []
    cols = _finding_rows(findings)
    fam = np.array([_text(v) for v in cols["family"]], dtype=object)
    geoms = np.empty(len(findings), dtype=object)
    bounds: list[np.ndarray] = []
    if drawn.any():
        geoms[drawn] = _display_geoms(findings[drawn])
        b = _bounds_wgs(geoms[drawn])
        if b is not None:
            bounds.append(b)
    families = _family_order(fam)
    # monitoring patches (FARM-PATCH) get one overlay per pre-judgement, coloured by it
    judged = np.isin(cols["judgement"].astype(str), list(JUDGEMENT_COLOURS)) & pd.notna(cols["judgement"])
    group = np.where(judged, np.array(["判:" + str(v) for v in cols["judgement"]], dtype=object), fam)
    keys = families + ["判:" + j for j in JUDGEMENT_COLOURS if ("判:" + j) in set(group[judged])]
    out: list[_GeoLayer] = []
    for j, family in enumerate(keys):
        idx = np.flatnonzero((group == family) & drawn)
        if len(idx) == 0:
            continue
        hist = [history.get(_text(cols["case_id"][i]), {}) for i in idx]
        holes = [_finding_holes(cols, i, h.get("html", ""), h.get("change", "")) for i, h in zip(idx, hist)]
        props = {"p": _Joined(_FINDING_PARTS, holes),
                 "id": [_text(cols["case_id"][i]) for i in idx],
                 "s": [_severity(cols["severity"][i]) for i in idx],
                 "t": [f'{_esc(cols["rule_name"][i])} {_esc(cols["subject_id"][i])}' for i in idx]}
        change = [h["change"] if h.get("change") in CHANGE_STYLES else None for h in hist]
        if any(c is not None for c in change):
            props["c"] = change
        patch = family.startswith("判:")
        colour = JUDGEMENT_COLOURS[family[2:]] if patch else FAMILY_COLOURS.get(family, _OTHER_COLOUR)
        style = {"color": colour, "weight": SEVERITY_WEIGHTS["medium"], "opacity": 0.95,
                 "fillColor": colour, "fillOpacity": 0.3, "className": "lg-finding"}
        name = f"执法卫片图斑·{family[2:]}" if patch else f"{FAMILY_LABELS.get(family, family)}问题"
        label = (f'<span class="lg-sw" style="border-color:{colour};background:{_rgba(colour, 0.3)}"></span>'
                 f"{html.escape(name)}（{len(idx)}）")
        out.append(_GeoLayer(label, _layer_data(geoms[idx], props, name="findings"),
                             {"style": style, "weights": dict(SEVERITY_WEIGHTS), "kind": "finding",
                              "changes": {k: dict(v) for k, v in CHANGE_STYLES.items()},
                              "z": 390 + min(j, 8)}, slots))
    return out, families, bounds


def render_village_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    findings: gpd.GeoDataFrame,
    village: Mapping[str, str],
    out_path: str | os.PathLike,
    *,
    ortho: str | os.PathLike | None = None,
    basemaps: Sequence[str] = DEFAULT_BASEMAPS,
    tianditu_tk: str | None = None,
    ortho_max_px: int = 1600,
    project: str | None = None,
    run_date: str | date | None = None,
    start_online: bool = False,
    register: gpd.GeoDataFrame | None = None,
    photo_root: str | os.PathLike | None = None,
) -> Path:
    """Write one village's self-contained interactive map (HTML) for inspectors.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Role name (``villages``, ``parcels``, ``buildings``, ``farmland``, ``pbf``, ``eco_redline``,
        ``nature_reserves``, ``roads``, ``waters``, ...) to the frame clipped to the village, in a
        metric CRS. Missing or empty roles are left out. Personal ID numbers (``owner_id``) are never
        shown; ``owner_name`` is shown as given (mask it before).
    findings : GeoDataFrame
        The village's findings (columns of ``analyses.findings.FINDING_COLUMNS``).
    village : mapping
        ``village_id``, ``name`` and ``township``.
    out_path : path-like
        The HTML file to write (atomically; folders are created).
    ortho : path-like, optional
        An orthophoto GeoTIFF; clipped to the village, shown as a toggleable image overlay.
    basemaps : sequence of str
        Keys of :data:`maps.basemaps.BASEMAPS`; Tianditu ones need a key.
    tianditu_tk : str, optional
        Tianditu key (else ``$TIANDITU_TK``).
    ortho_max_px : int
        Longest side of the orthophoto image, pixels (bounds the file size).
    project : str, optional
        The project's name, shown in the title bar.
    run_date : str or date, optional
        The check's date (``as_of``), shown in the title bar.
    start_online : bool
        Open on the first online basemap instead of the offline background (the default: the map
        works without a network; online basemaps are choices, and when their tiles fail the map falls
        back to the offline background and says so).
    register : GeoDataFrame, optional
        The village's rows of the project's case register (``analyses.register.REGISTER_COLUMNS``, masked):
        each finding is styled and badged by its ``change`` (新增 / 持续), cases rectified since the last run
        (已整改) are drawn dashed from the register's last geometry, and popups show the verification
        (verdict, date, inspector, note, photo flags) with up to :data:`PHOTOS_PER_CASE` embedded thumbnails;
        a marker shows where each photo was taken (``photo_points``), pointing its direction when known.
    photo_root : path-like, optional
        The project folder the register's ``photos`` paths are relative to (paths escaping it are not read).

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> from analyses.findings import empty_findings
    >>> v = gpd.GeoDataFrame({"village_id": ["110117001001"], "name": ["东村"], "township": ["平谷镇"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508400, 4443300)], crs=4548)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "v.html"
    >>> p = render_village_map({"villages": v}, empty_findings(4548),
    ...                        {"village_id": "110117001001", "name": "东村", "township": "平谷镇"}, out)
    >>> "本村未发现问题" in p.read_text(encoding="utf-8")
    True
    """
    missing = [k for k in ("village_id", "name", "township") if k not in village]
    if missing:
        raise LayerError(f"village record: missing key(s) {', '.join(missing)}; give village_id, name and township")
    if findings is None:
        raise LayerError(f"village {village['village_id']}: findings is None; pass an empty findings frame instead")
    out_path = Path(out_path)

    slots = _Slots()  # every piece of data waits here until the template stage is over
    own = _village_bounds_metric(layers, village["village_id"])
    contexts, context_bounds = _context_layers(layers, slots, str(village["village_id"]), own)
    findings_m = _metric(findings, "findings") if len(findings) else findings
    drawn = _valid_mask(findings_m) if len(findings_m) else np.zeros(0, dtype=bool)
    history = _case_history(register, Path(photo_root) if photo_root is not None else None)
    finding_layers, families, finding_bounds = _finding_layers(findings_m, drawn, slots, history)
    rectified = _rectified(register, findings_m)
    if rectified is not None and len(rectified):
        rc = _finding_rows(rectified)
        rgeoms = _display_geoms(rectified)
        rows = range(len(rectified))
        rprops = {"p": _Joined(_FINDING_PARTS, [_finding_holes(rc, i, history.get(_text(rc["case_id"][i]), {})
                                                              .get("html", ""), "已整改") for i in rows]),
                  "id": [_text(rc["case_id"][i]) for i in rows],
                  "t": [f'已整改 {_esc(rc["rule_name"][i])} {_esc(rc["subject_id"][i])}' for i in rows]}
        finding_layers.append(_GeoLayer(f'{_swatch(dict(RECTIFIED_STYLE))}已整改（上期图形）（{len(rectified)}）',
                                        _layer_data(rgeoms, rprops, name="cases"),
                                        {"style": {**RECTIFIED_STYLE, "className": "lg-finding lg-rectified"},
                                         "kind": "finding", "z": 389}, slots))
    photo_layer = _photo_layer(history, slots)
    if photo_layer is not None:
        finding_layers.append(photo_layer)

    if own is not None:
        fit = gpd.GeoSeries([shapely.box(*own[0])], crs=own[1]).to_crs(4326).total_bounds
    elif context_bounds or finding_bounds:
        stack = np.vstack(context_bounds + finding_bounds)
        fit = np.array([stack[:, 0].min(), stack[:, 1].min(), stack[:, 2].max(), stack[:, 3].max()])
    else:
        raise LayerError(f"village {village['village_id']}: no layer and no finding has a geometry; nothing to map")
    west, south, east, north = (float(v) for v in fit)

    ortho_layer = None
    if ortho is not None:
        # the village polygon's bounds (in its CRS) plus a margin, else the WGS84 bounds of everything
        ob, ocrs = own if own is not None else (np.array([west, south, east, north]), "EPSG:4326")
        margin = 30.0 if CRS.from_user_input(ocrs).is_projected else 0.0003
        got = _ortho_overlay(ortho, (ob[0] - margin, ob[1] - margin, ob[2] + margin, ob[3] + margin), ocrs,
                             ortho_max_px)
        if got is not None:
            ortho_layer = _ImageLayer("正射影像", *got)

    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=16, tiles=None,
                   control_scale=False, prefer_canvas=False, maxZoom=21, minZoom=3)
    # only Leaflet itself from folium's defaults (no jQuery, Bootstrap, Font Awesome, awesome-markers)
    m.default_js = [("leaflet", _CDN_LEAFLET_JS)]
    m.default_css = [("leaflet_css", _CDN_LEAFLET_CSS)]
    title = f"{village['township']} {village['name']}（{village['village_id']}）问题核查图"
    m.get_root().header.add_child(_Raw(f"<title>{slots.put(html.escape(str(title)))}</title>"),
                                  name="title")
    m.add_child(_Runtime())
    for child in [*basemap_layers(basemaps, tianditu_tk, start_online=start_online),
                  *([ortho_layer] if ortho_layer else []),
                  *(layer for _, layer in contexts), *finding_layers]:
        m.add_child(child)
    Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏", force_separate_button=True).add_to(m)
    MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                   primary_area_unit="sqmeters", secondary_area_unit="mu",
                   units={"mu": {"factor": 1.0 / M2_PER_MU, "display": "亩", "decimals": 2}},
                   active_color="#1f78b4", completed_color="#1f78b4").add_to(m)
    LayerControl(position="topright", collapsed=True).add_to(m)
    panel = _panel_html(village, findings_m, drawn, _owners_of(layers, findings_m), history, rectified)
    legend = _legend_html(families, [role for role, _ in contexts], ortho_layer is not None,
                          rectified is not None and len(rectified) > 0, photo_layer is not None)
    if finding_bounds:
        # the first view frames the village's findings (the village itself when it has none), kept to the
        # village and a margin around it: a household's parcels in other villages (HOME-MULTI) or a long
        # road case would otherwise open the map at district scale
        fb = np.asarray(finding_bounds[0], dtype=float)
        if own is not None:
            mx, my = (fit[2] - fit[0]) * 0.1, (fit[3] - fit[1]) * 0.1
            fb = np.array([max(fb[0], fit[0] - mx), max(fb[1], fit[1] - my),
                           min(fb[2], fit[2] + mx), min(fb[3], fit[3] + my)])
            if fb[0] > fb[2] or fb[1] > fb[3]:   # no finding near the village itself: frame the village
                fb = np.asarray(fit, dtype=float)
        west, south, east, north = (float(v) for v in fb)
    fit_bounds = [[round(south, 7), round(west, 7)], [round(north, 7), round(east, 7)]]
    m.add_child(_Script(f"LandguardMap.bar(__MAP__, {slots.put_json(_bar_html(village, project, run_date))});",
                        name="LandguardBar"))
    m.add_child(_Script(f"LandguardMap.panel(__MAP__, {slots.put_json(panel)});", name="LandguardPanel"))
    m.add_child(_Script(f"LandguardMap.legend(__MAP__, {slots.put_json(legend)});", name="LandguardLegend"))
    m.add_child(_Script(f"LandguardMap.ready(__MAP__, {script_json(fit_bounds)});", name="LandguardReady"))

    page = inline_assets(m.get_root().render(), source=str(out_path))
    page = page.replace("<html>", '<html lang="zh-CN">', 1)
    page = slots.fill(page)  # the data, after every template and regular expression has run
    return write_text_atomic(out_path, page)
