"""Basemaps of the village maps: Tianditu (with labels), Esri World Imagery, OpenStreetMap, Gaode.

Tianditu needs a key (``tk``, from the configuration or the ``TIANDITU_TK`` environment variable):
without one its layers are left out. Gaode tiles are drawn in GCJ-02; its layers carry the
``gcj02`` flag, and the map runtime shifts every overlay to GCJ-02 while such a layer is active.
Tiles are the only thing a map fetches from the network; a "blank" base layer is always offered
so a map used offline still has a clean background; it is the one shown at start, and the map
runtime falls back to it when an online basemap's tiles fail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import quote

from folium.map import Layer
from folium.template import Template

from spatial.errors import ConfigError

from .offline import script_json

__all__ = ["Basemap", "BASEMAPS", "DEFAULT_BASEMAPS", "BLANK", "resolve_tianditu_tk", "basemap_layers",
           "BasemapLayer"]


@dataclass(frozen=True)
class Basemap:
    """One selectable basemap.

    Attributes
    ----------
    key : str
        Name used in the configuration (``[maps] basemaps``).
    label : str
        Chinese name shown in the layer control.
    tiles : tuple of (url, options)
        Leaflet tile layers drawn together (imagery + labels); ``{tk}`` in a URL is the Tianditu key.
    gcj02 : bool
        Whether the tiles are in GCJ-02.
    needs_tk : bool
        Whether the basemap needs a Tianditu key.
    """

    key: str
    label: str
    tiles: tuple[tuple[str, dict], ...]
    gcj02: bool = False
    needs_tk: bool = False


_TDT_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'
_TDT_OPTS = {"subdomains": "01234567", "maxNativeZoom": 18, "maxZoom": 21, "attribution": _TDT_ATTR}


def _tianditu(layer: str) -> str:
    return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}")


_GAODE_ATTR = '&copy; <a href="https://www.amap.com/">高德地图</a>'

#: Every basemap landguard knows, by configuration key.
BASEMAPS: dict[str, Basemap] = {
    b.key: b
    for b in (
        Basemap("tianditu-img", "天地图影像", (
            (_tianditu("img"), dict(_TDT_OPTS)),
            (_tianditu("cia"), dict(_TDT_OPTS)),
        ), needs_tk=True),
        Basemap("tianditu-vec", "天地图矢量", (
            (_tianditu("vec"), dict(_TDT_OPTS)),
            (_tianditu("cva"), dict(_TDT_OPTS)),
        ), needs_tk=True),
        Basemap("esri-imagery", "Esri 影像", ((
            "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
            {"maxNativeZoom": 19, "maxZoom": 21,
             "attribution": "Tiles &copy; Esri &mdash; Source: Esri, Maxar, Earthstar Geographics, "
                            "and the GIS User Community"}),)),
        Basemap("osm", "OpenStreetMap", ((
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            {"maxNativeZoom": 19, "maxZoom": 21,
             "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                            "contributors"}),)),
        Basemap("gaode", "高德地图（GCJ-02）", ((
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            {"subdomains": "1234", "maxNativeZoom": 18, "maxZoom": 21, "attribution": _GAODE_ATTR}),),
            gcj02=True),
        Basemap("gaode-img", "高德影像（GCJ-02）", (
            ("https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
             {"subdomains": "1234", "maxNativeZoom": 18, "maxZoom": 21, "attribution": _GAODE_ATTR}),
            ("https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}",
             {"subdomains": "1234", "maxNativeZoom": 18, "maxZoom": 21}),
        ), gcj02=True),
    )
}

#: The default selection (the order is the layer control's; the first available one is shown).
DEFAULT_BASEMAPS: tuple[str, ...] = ("tianditu-img", "tianditu-vec", "esri-imagery", "osm", "gaode")

#: The always-offered empty background (no tiles, no network).
BLANK = Basemap("blank", "离线底图（无需网络）", ())


def resolve_tianditu_tk(tk: str | None = None) -> str | None:
    """The Tianditu key to use: ``tk`` when given, else ``$TIANDITU_TK``, else None.

    Blank values and unexpanded placeholders such as ``"${TIANDITU_TK}"`` count as no key.

    Examples
    --------
    >>> resolve_tianditu_tk("abc123")
    'abc123'
    """
    for value in (tk, os.environ.get("TIANDITU_TK")):
        if value is None:
            continue
        value = str(value).strip()
        if value and not value.startswith("${"):
            return value
    return None


class BasemapLayer(Layer):
    """A folium base layer drawing one :class:`Basemap` (its tile layers grouped).

    Examples
    --------
    >>> BasemapLayer(BASEMAPS["osm"]).layer_name
    'OpenStreetMap'
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = LandguardMap.base({{ this.tiles_js }}, {{ this.gcj02_js }}, {{ this.offline_js }});
        {% endmacro %}
        """
    )

    def __init__(self, basemap: Basemap, tk: str | None = None, *, show: bool = False):
        super().__init__(name=basemap.label, overlay=False, control=True, show=show)
        self._name = "Basemap"
        tiles = []
        for url, options in basemap.tiles:
            if "{tk}" in url:
                url = url.replace("{tk}", quote(tk or "", safe=""))
            tiles.append({"url": url, "options": options})
        self.basemap = basemap
        self.tiles_js = script_json(tiles)
        self.gcj02_js = "true" if basemap.gcj02 else "false"
        self.offline_js = "true" if not basemap.tiles else "false"


def basemap_layers(names: Sequence[str] = DEFAULT_BASEMAPS, tianditu_tk: str | None = None, *,
                   start_online: bool = False) -> list[BasemapLayer]:
    """The offline background first (shown), then the online base layers for ``names``, in order.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`BASEMAPS`. Tianditu ones are skipped when no key is available.
    tianditu_tk : str, optional
        Tianditu key; falls back to ``$TIANDITU_TK``.
    start_online : bool
        Show the first online basemap at start instead of the offline background.

    Returns
    -------
    list of BasemapLayer

    Raises
    ------
    ConfigError
        For a name that is not a known basemap.

    Examples
    --------
    >>> [b.layer_name for b in basemap_layers(["osm", "gaode"])]
    ['离线底图（无需网络）', 'OpenStreetMap', '高德地图（GCJ-02）']
    """
    if isinstance(names, str):
        names = [names]
    tk = resolve_tianditu_tk(tianditu_tk)
    chosen: list[Basemap] = []
    for name in names:
        key = str(name).strip().lower()
        if key not in BASEMAPS:
            raise ConfigError(f"[maps] basemaps: unknown basemap {name!r}; known: {', '.join(BASEMAPS)}")
        basemap = BASEMAPS[key]
        if basemap.needs_tk and tk is None:
            continue
        if basemap not in chosen:
            chosen.append(basemap)
    shown = chosen[0] if start_online and chosen else BLANK
    return [BasemapLayer(b, tk, show=(b is shown)) for b in [BLANK, *chosen]]
