"""Land-cover change patches (卫片图斑) from two classified rasters, read window by window.

Pixels that are cropland in ``landcover_before`` and built-up, forest or water in ``landcover_after``
(class codes from the ``[landcover]`` configuration) are vectorised with ``rasterio.features.shapes``
one window at a time, so a raster of any size never sits whole in memory; patches cut by window edges
are joined again afterwards. When the two rasters are not on the same grid, ``before`` is resampled
(nearest) onto ``after``'s grid through a ``WarpedVRT``, still window by window.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.errors import RasterError

__all__ = ["CHANGE_KINDS", "CHANGE_NAMES", "change_patches", "patch_ids"]

#: Change kinds in the order of their pixel codes (1, 2, 3).
CHANGE_KINDS = ("built_up", "forest", "water", "bare")
#: Chinese names of the change kinds.
CHANGE_NAMES = {"built_up": "建设用地（建/构筑物、硬化）", "forest": "林地", "water": "水域（坑塘）",
                "bare": "裸土（取土、堆土压占）"}


def _open(path: str | os.PathLike, role: str):
    import rasterio

    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and friends
        raise RasterError(f"{path}: raster {role} cannot be opened ({exc}); check [rasters] {role}") from None
    if src.crs is None:
        src.close()
        raise RasterError(f"{path}: raster {role} has no CRS; write one into the GeoTIFF (e.g. gdal_edit.py -a_srs)")
    return src


def _class_values(classes, name: str) -> np.ndarray:
    values = classes.get(name) if isinstance(classes, dict) else getattr(classes, name, None)
    return np.asarray(list(values or []), dtype=float)


def change_patches(before: str | os.PathLike, after: str | os.PathLike, classes, *, crs=None,
                   bounds: tuple[float, float, float, float] | None = None, tile: int = 1024) -> gpd.GeoDataFrame:
    """Vectorised cropland → built-up / forest / water change patches.

    Parameters
    ----------
    before, after : path-like
        Classified land-cover GeoTIFFs of the earlier and the later date.
    classes : LandcoverClasses or dict
        Class codes: ``cropland``, ``built_up``, ``forest``, ``water`` (each a list of ints).
    crs : CRS-like, optional
        Return the patches in this CRS (default: the ``after`` raster's).
    bounds : tuple, optional
        Only this extent (minx, miny, maxx, maxy in ``crs``), e.g. the district's.
    tile : int
        Window size in pixels.

    Returns
    -------
    GeoDataFrame
        ``change`` (one of :data:`CHANGE_KINDS`) and the patch polygon; 4-connected pixels form one patch.

    Raises
    ------
    RasterError
        A raster cannot be opened or has no CRS.

    Examples
    --------
    >>> # change_patches("lc_2019.tif", "lc_2025.tif", {"cropland": [1], "built_up": [5], "forest": [2],
    >>> #                "water": [4]}, crs="EPSG:4548")
    """
    from rasterio.enums import Resampling
    from rasterio.features import shapes
    from rasterio.vrt import WarpedVRT
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import bounds as window_bounds
    from rasterio.windows import transform as window_transform

    crop = _class_values(classes, "cropland")
    targets = [_class_values(classes, k) for k in CHANGE_KINDS]
    polys: list[shapely.Geometry] = []
    kinds: list[int] = []
    frames: list[shapely.Geometry] = []   # each patch's window outline
    with ExitStack() as stack:
        a = stack.enter_context(_open(after, "landcover_after"))
        b = stack.enter_context(_open(before, "landcover_before"))
        if (b.crs != a.crs or b.transform != a.transform or b.width != a.width or b.height != a.height):
            b = stack.enter_context(WarpedVRT(b, crs=a.crs, transform=a.transform, width=a.width, height=a.height,
                                              resampling=Resampling.nearest))
        area = (0, 0, a.width, a.height)   # col0, row0, col1, row1
        if bounds is not None:
            rb = transform_bounds(crs, a.crs, *bounds) if crs is not None else bounds
            w = from_bounds(*rb, transform=a.transform)
            area = (max(0, int(np.floor(w.col_off))), max(0, int(np.floor(w.row_off))),
                    min(a.width, int(np.ceil(w.col_off + w.width))), min(a.height, int(np.ceil(w.row_off + w.height))))
        nodata_a, nodata_b = a.nodata, b.nodata
        c0, r0, c1, r1 = area
        for row in range(r0, r1, tile):
            for col in range(c0, c1, tile):
                win = Window(col, row, min(tile, c1 - col), min(tile, r1 - row))
                va = a.read(1, window=win)
                vb = b.read(1, window=win)
                was = np.isin(vb, crop)
                if nodata_b is not None:
                    was &= vb != nodata_b
                code = np.zeros(va.shape, dtype=np.uint8)
                for k, values in enumerate(targets, start=1):
                    code[was & np.isin(va, values) & (code == 0)] = k
                if nodata_a is not None:
                    code[va == nodata_a] = 0
                if not code.any():
                    continue
                found = list(shapes(code, mask=code > 0, transform=window_transform(win, a.transform), connectivity=4))
                polys.extend(shapely.geometry.shape(g) for g, _ in found)
                kinds.extend(int(v) for _, v in found)
                frames.extend([shapely.box(*window_bounds(win, a.transform)).boundary] * len(found))
        raster_crs = a.crs
    polys_a = np.asarray(polys, dtype=object)
    kinds_a = np.asarray(kinds, dtype=int)
    # patches touching their window's outline may continue in the next window: join them per kind
    edge_a = shapely.intersects(shapely.boundary(polys_a), np.asarray(frames, dtype=object)) if len(polys) else \
        np.zeros(0, dtype=bool)
    out_g, out_k = [polys_a[~edge_a]], [kinds_a[~edge_a]]
    for k in np.unique(kinds_a[edge_a]):
        merged = shapely.get_parts(shapely.union_all(polys_a[edge_a & (kinds_a == k)]))
        out_g.append(merged)
        out_k.append(np.full(len(merged), k))
    geoms = np.concatenate(out_g) if out_g else np.empty(0, dtype=object)
    codes = np.concatenate(out_k) if out_k else np.empty(0, dtype=int)
    frame = gpd.GeoDataFrame({"change": pd.Series([CHANGE_KINDS[c - 1] for c in codes], dtype=object)},
                             geometry=gpd.GeoSeries(geoms, crs=raster_crs), crs=raster_crs)
    if crs is not None:
        frame = frame.to_crs(crs)
    cent = shapely.centroid(frame.geometry.to_numpy())  # only to order the patches, in any CRS
    order = np.lexsort((shapely.get_x(cent), shapely.get_y(cent)))
    return frame.iloc[order].reset_index(drop=True)


def patch_ids(geoms) -> np.ndarray:
    """Stable ids of change patches from their centroids: ``RS-<easting>-<northing>`` in whole metres
    (``-2``, ``-3``… for patches sharing one).

    Examples
    --------
    >>> patch_ids([shapely.box(504010, 4442010, 504050, 4442040), shapely.box(10, 10, 12, 12)]).tolist()
    ['RS-504030-4442025', 'RS-11-11']
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    c = shapely.centroid(geoms)
    base = pd.Series([f"RS-{x:.0f}-{y:.0f}" for x, y in zip(shapely.get_x(c), shapely.get_y(c))], dtype=object)
    n = base.groupby(base).cumcount().to_numpy()
    return np.asarray([b if k == 0 else f"{b}-{k + 1}" for b, k in zip(base, n)], dtype=object)
