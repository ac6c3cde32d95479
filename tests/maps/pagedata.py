"""Reading a village map's data back in tests: the one Python mirror of ``LandguardMap.decode``.

The page passes each overlay to ``LandguardMap.geoLayer(map, DATA, OPTS)`` in the compact form of
``maps.village._layer_data``; :func:`decode` turns it into the GeoJSON FeatureCollection the page draws,
step for step as ``decode`` in ``maps/assets/landguard/landguard.js`` does (integers / 1e7, pairs summed
from the previous vertex, ring closed again, property columns read by index or joined from fixed texts and
holes, nulls left out).

Examples
--------
>>> decode({"n": 1, "g": {"k": 0, "l": [1], "c": [1165000000, 399000000]}, "f": {"id": ["C1"]}})
{'type': 'FeatureCollection', 'features': [{'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [116.5, 39.9]}, 'properties': {'id': 'C1'}}]}
"""

from __future__ import annotations

import json
import re

__all__ = ["call_arg", "decode", "geo_layers", "raw_layers"]

_DECODER = json.JSONDecoder()
_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
          7: "GeometryCollection"}


def _cell(col, i: int):
    if isinstance(col, list):
        return col[i]
    if "j" in col:
        return col["j"][0] + "".join(_cell(h, i) + part for h, part in zip(col["h"], col["j"][1:]))
    return col["d"][col["i"][i]]


def decode(data: dict) -> dict:
    """The GeoJSON FeatureCollection of one overlay's compact data (as ``LandguardMap.decode``)."""
    g = data["g"]
    k, m, r, l, c = g["k"], g.get("m", []), g.get("r", []), g.get("l", []), g.get("c", [])
    at = {"k": 0, "m": 0, "r": 0, "l": 0, "c": 0}
    pos = [0, 0]

    def take(name, seq):
        v = seq[at[name]]
        at[name] += 1
        return v

    def line(closed: bool) -> list:
        n = take("l", l)
        out = []
        for _ in range(n):
            pos[0] += c[at["c"]]
            pos[1] += c[at["c"] + 1]
            at["c"] += 2
            out.append([pos[0] / 1e7, pos[1] / 1e7])
        if closed and n:
            out.append(list(out[0]))
        return out

    def polygon() -> list:
        return [line(True) for _ in range(take("r", r))]

    def geometry() -> dict:
        t = k if isinstance(k, int) else take("k", k)
        if t == 7:
            return {"type": _TYPES[7], "geometries": [geometry() for _ in range(take("m", m))]}
        if t == 0:
            p = line(False)
            return {"type": _TYPES[0], "coordinates": p[0] if p else []}
        if t == 1:
            return {"type": _TYPES[1], "coordinates": line(False)}
        if t == 3:
            return {"type": _TYPES[3], "coordinates": polygon()}
        out = []
        for _ in range(take("m", m)):
            if t == 4:
                p = line(False)
                out.append(p[0] if p else [])
            else:
                out.append(line(False) if t == 5 else polygon())
        return {"type": _TYPES[t], "coordinates": out}

    f, v = data.get("f", {}), data.get("v")
    features = []
    for i in range(data["n"]):
        props = {key: _cell(col, i) for key, col in f.items() if _cell(col, i) is not None}
        if v is not None:
            props["v"] = [_cell(col, i) for col in v]
        features.append({"type": "Feature", "geometry": geometry(), "properties": props})
    assert at["c"] == len(c) and at["l"] == len(l) and at["r"] == len(r) and at["m"] == len(m), "data left over"
    assert isinstance(k, int) or at["k"] == len(k), "types left over"
    return {"type": "FeatureCollection", "features": features}


def _skip_ws(text: str, i: int) -> int:
    while text[i].isspace():
        i += 1
    return i


def raw_layers(page: str) -> list[tuple[dict, dict]]:
    """Every overlay's (compact data, options) exactly as written into the page."""
    out = []
    for m in re.finditer(r"LandguardMap\.geoLayer\(\s*\w+,\s*", page):
        data, end = _DECODER.raw_decode(page, m.end())
        i = _skip_ws(page, end)
        assert page[i] == ","
        opts, _ = _DECODER.raw_decode(page, _skip_ws(page, i + 1))
        out.append((data, opts))
    return out


def geo_layers(page: str) -> list[tuple[dict, dict]]:
    """Every overlay's (FeatureCollection, options), the data decoded as the page decodes it."""
    return [(decode(data), opts) for data, opts in raw_layers(page)]


def call_arg(page: str, func: str):
    """The JSON argument after the map of ``LandguardMap.<func>(map, ARG)``."""
    m = re.search(rf"LandguardMap\.{func}\(\s*\w+,\s*", page)
    assert m, func
    return _DECODER.raw_decode(page, m.end())[0]
