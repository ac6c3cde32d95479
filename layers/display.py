"""What the maps and field files draw of a village: its layers with the farmland picked out, and which
rasters cover it. Domain data, computed here so that the pipeline only strings steps together."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .district import District
from .landuse import is_farmland

__all__ = ["village_display_layers", "village_display_rows", "rasters_covering", "raster_footprint"]


def village_display_layers(district: District, village_id: str) -> dict[str, gpd.GeoDataFrame | None]:
    """Every layer's features in one village, for drawing, with ``farmland`` in place of the surveys.

    ``farmland`` is the 耕地 of the baseline survey when one is given, else of the current survey (what the
    farmland rules call farmland, without the PBF, which is a layer of its own).

    Examples
    --------
    >>> # layers = village_display_layers(district, "110117104201"); layers["farmland"]
    """
    rows = village_display_rows(district, [village_id])[village_id]
    sources = display_sources(district)
    return {role: (sources[role].iloc[r] if r is not None else district.layers.get(role)) for role, r in rows.items()}


def display_sources(district: District) -> dict[str, gpd.GeoDataFrame | None]:
    """The district layer each role of :func:`village_display_layers` takes its rows from: every layer but
    the surveys, and ``farmland`` from the baseline survey when one is given, else the current one.

    Examples
    --------
    >>> # display_sources(district)["farmland"] is district["landuse_baseline"]
    """
    out = {role: frame for role, frame in district.layers.items() if role not in ("landuse", "landuse_baseline")}
    out["farmland"] = district.get("landuse_baseline") if "landuse_baseline" in district else district["landuse"]
    return out


def _grouped(which: np.ndarray, rows: np.ndarray, n: int) -> list[np.ndarray]:
    """``rows`` split by ``which`` (0..n-1), each part ascending."""
    order = np.lexsort((rows, which))
    which, rows = which[order], rows[order]
    cuts = np.searchsorted(which, np.arange(n + 1))
    return [rows[cuts[k]:cuts[k + 1]] for k in range(n)]


def village_display_rows(district: District, village_ids) -> dict[str, dict[str, np.ndarray | None]]:
    """For each village, the positions (ascending) in :func:`display_sources` of what its map draws.

    One bulk spatial-index query per layer for all the villages: each feature meeting the village's
    polygon (the first row of its ``village_id``), as :meth:`layers.district.District.village_layers`
    selects them; ``farmland`` is the 耕地 among the survey's. A role whose layer is missing or empty
    maps to None (its layer is drawn as it is).

    Examples
    --------
    >>> # village_display_rows(district, ["110117104201"])["110117104201"]["parcels"] -> array([...])
    """
    from spatial.errors import LayerError

    ids = list(village_ids)
    v = district.villages
    once = v[["village_id"]].reset_index(drop=True).drop_duplicates("village_id")  # each village's first row
    first = dict(zip(once["village_id"], once.index))
    for vid in ids:
        if vid not in first:
            raise LayerError(f"village {vid!r} is not in the villages layer")
    shapes = v.geometry.to_numpy()[[first[vid] for vid in ids]]
    out: dict[str, dict[str, np.ndarray | None]] = {vid: {} for vid in ids}
    survey_rows = None
    for role, frame in district.layers.items():
        if frame is None or frame.empty:
            parts = [None] * len(ids)
        else:
            parts = _grouped(*frame.sindex.query(shapes, predicate="intersects"), len(ids))
        if role in ("landuse", "landuse_baseline"):
            if role == ("landuse_baseline" if "landuse_baseline" in district.layers else "landuse"):
                survey_rows = (frame, parts)
            continue
        for vid, part in zip(ids, parts):
            out[vid][role] = part
    display_sources(district)  # no survey at all: refused as village_display_layers refuses it
    if survey_rows is None or survey_rows[0] is None:  # a baseline role without a layer: no farmland drawn
        parts = [np.zeros(0, dtype=np.intp)] * len(ids)
    else:
        frame, parts = survey_rows
        farm = np.asarray(is_farmland(frame["dlbm"]), dtype=bool)
        parts = [np.arange(len(frame))[farm] if p is None else p[farm[p]] for p in parts]
    for vid, part in zip(ids, parts):
        out[vid]["farmland"] = part
    return out


def raster_footprint(path, crs) -> shapely.Geometry | None:
    """A raster's footprint as a box in ``crs`` (None without a readable, georeferenced raster).

    Examples
    --------
    >>> raster_footprint(None, 4548) is None
    True
    """
    if path is None:
        return None
    import rasterio
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                return None
            return shapely.box(*transform_bounds(src.crs, crs, *src.bounds))
    except rasterio.errors.RasterioIOError:
        return None


def rasters_covering(district: District, role: str, village_ids) -> dict[str, Path | None]:
    """For each village, the ``role`` raster's path when it covers part of the village, else None.

    Villages it does not cover are counted once each in the data-quality report (``raster:<role>``).

    Examples
    --------
    >>> # rasters_covering(district, "ortho", ["110117104201"]) -> {"110117104201": Path(".../ortho.tif")}
    """
    path = district.rasters.get(role)
    box = raster_footprint(path, district.crs)
    ids = [str(v) for v in village_ids]
    if box is None:
        return {v: None for v in ids}
    v = district.villages
    shapes = v.set_index(v["village_id"].astype(str)).geometry
    shapes = shapes[~shapes.index.duplicated()].reindex(ids)
    hit = shapely.intersects(box, shapes.to_numpy())
    missed = int((~hit).sum())
    if missed:
        district.quality.count(f"raster:{role}", "villages_not_covered", missed)
    return {vid: (path if h else None) for vid, h in zip(ids, hit)}
