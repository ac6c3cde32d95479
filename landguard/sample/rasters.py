"""The sample district's rasters: nDSM, orthophoto and two land-cover classifications (EPSG:4548).

* ``ndsm.tif`` — float32 metres above ground, 0.5 m pixels, over the settlements of
  ``sample.raster_villages``; roofs drawn from each building's true eave/ridge heights (pitched roofs
  rise linearly to a ridge along the long axis), planted roof stairwells on top, ground 0.
* ``ortho.tif`` — RGB uint8, 1 m pixels, the whole of the ``raster_villages``.
* ``landcover_before.tif`` / ``landcover_after.tif`` — uint8 classes (1 cropland, 2 forest, 3 grassland,
  4 water, 5 built-up, 6 bare), 2 m pixels on the district's 2 m grid, the whole district: the
  baseline (2019) and current surveys (cropland burnt first, so a patch edge through pixel centres gives
  them to the other class in both, whatever the row order), buildings by ``built_year`` (<= 2019 before,
  <= 2025 after), and the planters' ``landcover_changes`` in ``after`` (:func:`burn_landcover`).

All tiled (256 x 256), DEFLATE-compressed, with nodata set.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

from .model import ORIGIN, SIZE, WORKING_EPSG, Sample

__all__ = ["write_rasters", "LANDCOVER_CLASSES", "landcover_class", "landcover_grid", "burn_landcover",
           "BEFORE_YEAR", "AFTER_YEAR"]

#: Buildings built up to these years are in ``landcover_before`` / ``landcover_after``.
BEFORE_YEAR, AFTER_YEAR = 2019, 2025

#: Land-cover class codes of the sample rasters.
LANDCOVER_CLASSES = {1: "cropland", 2: "forest", 3: "grassland", 4: "water", 5: "built_up", 6: "bare"}

_PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate"}


def landcover_class(dlbm: str) -> int:
    """Land-cover class of a GB/T 21010 code.

    Examples
    --------
    >>> [landcover_class(c) for c in ("0103", "0301", "0404", "1104A", "0702", "1206")]
    [1, 2, 3, 4, 5, 6]
    """
    code = dlbm.rstrip("AK")
    if code[:2] == "01" or code == "1203":
        return 1
    if code[:2] in ("02", "03"):
        return 2
    if code[:2] == "04":
        return 3
    if code[:2] == "11":
        return 4
    if code in ("0602", "1206", "1207", "1205"):
        return 6
    return 5


def _write(path: Path, data: np.ndarray, transform, nodata, **extra) -> None:
    bands = data if data.ndim == 3 else data[None]
    profile = dict(_PROFILE, height=bands.shape[1], width=bands.shape[2], count=bands.shape[0],
                   dtype=bands.dtype.name, crs=f"EPSG:{WORKING_EPSG}", transform=transform, nodata=nodata, **extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)


def _window(bounds: tuple[float, float, float, float], res: float) -> tuple:
    minx, miny, maxx, maxy = (np.floor(bounds[0] / res) * res, np.floor(bounds[1] / res) * res,
                              np.ceil(bounds[2] / res) * res, np.ceil(bounds[3] / res) * res)
    width, height = int(round((maxx - minx) / res)), int(round((maxy - miny) / res))
    return from_origin(minx, maxy, res, res), width, height


def _ndsm(sample: Sample, path: Path) -> None:
    settlements = [sample.villages[v]["settlement"] for v in sample.raster_villages]
    area = shapely.union_all(settlements).buffer(20.0, join_style="mitre")
    transform, width, height = _window(area.bounds, 0.5)
    b = sample.layers["buildings"]
    b = b[b.intersects(area)]
    eave = b["_eave_true"].fillna(b["eave_height_m"]).fillna(3.0).to_numpy(float)
    ridge = b["_ridge_true"].fillna(b["ridge_height_m"]).to_numpy(float)
    pitched = (b["roof"] == "pitched").to_numpy() & np.isfinite(ridge)
    geoms = b.geometry.to_numpy()
    index = rasterize(zip(geoms, range(1, len(b) + 1)), out_shape=(height, width), transform=transform,
                      fill=0, dtype="int32")
    rows, cols = np.nonzero(index)
    k = index[rows, cols] - 1
    xs, ys = rasterio.transform.xy(transform, rows, cols)
    xs, ys = np.asarray(xs), np.asarray(ys)
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    long_x = (maxx - minx) >= (maxy - miny)
    half = np.where(long_x, (maxy - miny), (maxx - minx)) / 2
    centre = np.where(long_x, (miny + maxy) / 2, (minx + maxx) / 2)
    offset = np.abs(np.where(long_x[k], ys, xs) - centre[k])
    rise = np.clip(1 - offset / half[k], 0, 1)
    heights = np.where(pitched[k], eave[k] + (np.nan_to_num(ridge[k]) - eave[k]) * rise, eave[k])
    out = np.zeros((height, width), dtype="float32")
    out[rows, cols] = heights
    stairs = _stair_boxes(b)
    if stairs:
        top = rasterize(stairs, out_shape=(height, width), transform=transform, fill=0.0, dtype="float32")
        out = np.where(top > 0, top, out)
    _write(path, out, transform, -9999.0, predictor=3)


def _stair_boxes(b) -> list[tuple[shapely.Polygon, float]]:
    """Roof stairwells the planters drew (``_stair_w_m`` × ``_stair_d_m`` centred on the footprint, top
    ``_stair_top_m`` above ground), each box snapped to the nDSM's 0.5 m grid so its area is exact in pixels.

    Examples
    --------
    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame({"_stair_w_m": [3.5], "_stair_d_m": [3.0], "_stair_top_m": [9.2]},
    ...                      geometry=[shapely.box(10.1, 20.2, 20.1, 26.2)], crs=4548)
    >>> [(g.bounds, top) for g, top in _stair_boxes(b)]
    [((13.5, 21.5, 17.0, 24.5), 9.2)]
    """
    if "_stair_top_m" not in b.columns:
        return []
    top = b["_stair_top_m"].to_numpy(dtype=float)
    has = np.isfinite(top)
    if not has.any():
        return []
    w, d = b["_stair_w_m"].to_numpy(dtype=float)[has], b["_stair_d_m"].to_numpy(dtype=float)[has]
    c = shapely.get_coordinates(shapely.centroid(b.geometry.to_numpy()[has]))
    x0, y0 = np.round((c[:, 0] - w / 2) / 0.5) * 0.5, np.round((c[:, 1] - d / 2) / 0.5) * 0.5
    return list(zip(shapely.box(x0, y0, x0 + w, y0 + d), top[has].tolist()))


_COLOURS = {
    "01": (122, 150, 70), "0101": (88, 138, 104), "0102": (112, 158, 78), "02": (82, 122, 56),
    "03": (46, 92, 48), "04": (142, 160, 92), "0702": (176, 166, 150), "06": (160, 160, 166),
    "0602": (184, 170, 150), "09": (150, 140, 130), "10": (96, 96, 102), "1006": (152, 142, 120),
    "11": (58, 98, 150), "1202": (222, 226, 232), "1203": (132, 142, 92), "1206": (172, 152, 122),
}


def _colour(dlbm: str) -> tuple[int, int, int]:
    code = dlbm.rstrip("AK")
    return _COLOURS.get(code) or _COLOURS.get(code[:2]) or (150, 150, 150)


def _ortho(sample: Sample, path: Path) -> None:
    area = shapely.union_all([sample.villages[v]["geometry"] for v in sample.raster_villages])
    transform, width, height = _window(area.bounds, 1.0)
    lu = sample.layers["landuse"]
    lu = lu[lu.intersects(area)]
    palette = np.array([(0, 0, 0)] + [_colour(c) for c in lu["dlbm"]], dtype=np.int16)
    shade = np.concatenate([[0], sample.rng.integers(-8, 9, len(lu))]).astype(np.int16)
    index = rasterize(zip(lu.geometry.to_numpy(), range(1, len(lu) + 1)), out_shape=(height, width),
                      transform=transform, fill=0, dtype="int32")
    rgb = palette[index] + shade[index][..., None]
    farmland = np.isin(index, np.flatnonzero(lu["dlbm"].str[:2].isin(["01", "02"]).to_numpy()) + 1)
    stripes = ((np.arange(width) // 3) % 2 * 10 - 5).astype(np.int16)
    rgb[farmland] += stripes[np.nonzero(farmland)[1]][:, None]
    b = sample.layers["buildings"]
    b = b[b.intersects(area)]
    roof = rasterize(zip(b.geometry.to_numpy(), np.where(b["roof"] == "pitched", 2, 1)), out_shape=(height, width),
                     transform=transform, fill=0, dtype="uint8")
    rgb[roof == 1] = (128, 128, 132)
    rgb[roof == 2] = (104, 106, 112)
    out = np.clip(rgb, 1, 255).astype(np.uint8).transpose(2, 0, 1)
    _write(path, out, transform, 0, photometric="RGB", predictor=2)


def landcover_grid(bounds: tuple[float, float, float, float] | None = None) -> tuple[object, int, int]:
    """Transform, width and height of the land-cover grid (2 m pixels on the district's 2 m grid),
    over the whole district or the grid cells covering ``bounds`` (clipped to the district).

    Examples
    --------
    >>> transform, width, height = landcover_grid((504011.0, 4442001.0, 504019.5, 4442006.0))
    >>> (transform.c, transform.f, width, height)
    (504010.0, 4442006.0, 5, 3)
    """
    ox, oy = ORIGIN
    x0, y0, x1, y1 = ox, oy, ox + SIZE[0], oy + SIZE[1]
    if bounds is not None:
        x0 = max(x0, ox + np.floor((bounds[0] - ox) / 2.0) * 2.0)
        y0 = max(y0, oy + np.floor((bounds[1] - oy) / 2.0) * 2.0)
        x1 = min(x1, ox + np.ceil((bounds[2] - ox) / 2.0) * 2.0)
        y1 = min(y1, oy + np.ceil((bounds[3] - oy) / 2.0) * 2.0)
    return from_origin(float(x0), float(y1), 2.0, 2.0), int(round((x1 - x0) / 2.0)), int(round((y1 - y0) / 2.0))


def burn_landcover(landuse, buildings, year: int, changes=(),
                   bounds: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, object]:
    """Land-cover classes on the 2 m grid (whole district, or the cells covering ``bounds``).

    Land-use patches are burnt cropland first, every other class after it, so that a patch edge running
    through pixel centres (e.g. the 5 m belt of 平蓟路 ends at y = 3211 on a grid of odd centres) gives
    its pixels to the non-cropland side in every survey, whatever the order of the rows (planters append
    rows to one survey only). Then buildings with ``built_year`` <= ``year`` (unknown years count as
    old) as built-up, then ``changes`` (:class:`~.model.LandcoverChange`), each later shape winning.

    Examples
    --------
    >>> import geopandas as gpd
    >>> lu = gpd.GeoDataFrame({"dlbm": ["0301", "0103"]}, crs=4548, geometry=[
    ...     shapely.box(504000, 4442000, 504010, 4442005), shapely.box(504000, 4442005, 504010, 4442010)])
    >>> b = gpd.GeoDataFrame({"built_year": [2020]}, geometry=[shapely.box(504000, 4442000, 504001, 4442001)],
    ...                      crs=4548)
    >>> data, _ = burn_landcover(lu, b, 2019, bounds=(504000, 4442000, 504002, 4442010))
    >>> data[:, 0].tolist()  # top (north) to bottom; the pixel centred on y = 4442005 goes to the woodland
    [1, 1, 2, 2, 2]
    """
    transform, width, height = landcover_grid(bounds)
    if bounds is not None:
        window = shapely.box(*rasterio.transform.array_bounds(height, width, transform))
        landuse = landuse[landuse.intersects(window)]
        buildings = buildings[buildings.intersects(window)]
    classes = np.array([landcover_class(c) for c in landuse["dlbm"]], dtype=int)
    order = np.argsort(classes != 1, kind="stable")
    shapes = list(zip(landuse.geometry.to_numpy()[order], classes[order].tolist()))
    built = (buildings["built_year"].fillna(0).astype(int) <= year).to_numpy()
    shapes += [(g, 5) for g in buildings.geometry.to_numpy()[built]]
    shapes += [(c.geometry, c.after) for c in changes]
    if not shapes:
        return np.zeros((height, width), dtype="uint8"), transform
    data = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0, dtype="uint8")
    return data, transform


def _landcover(sample: Sample, layer: str, year: int, changes: bool) -> tuple[np.ndarray, object]:
    return burn_landcover(sample.layers[layer], sample.layers["buildings"], year,
                          sample.landcover_changes if changes else ())


def write_rasters(sample: Sample, folder: str | os.PathLike) -> dict[str, Path]:
    """Write the four rasters into ``folder`` and return their paths by raster role.

    Examples
    --------
    >>> import tempfile
    >>> from landguard.sample.generate import build_sample
    >>> sorted(write_rasters(build_sample(0), tempfile.mkdtemp()))
    ['landcover_after', 'landcover_before', 'ndsm', 'ortho']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.tif" for name in ("ndsm", "ortho", "landcover_before", "landcover_after")}
    _ndsm(sample, paths["ndsm"])
    _ortho(sample, paths["ortho"])
    for name, layer, year, changes in (("landcover_before", "landuse_baseline", BEFORE_YEAR, False),
                                       ("landcover_after", "landuse", AFTER_YEAR, True)):
        data, transform = _landcover(sample, layer, year, changes)
        _write(paths[name], data, transform, 0)
    return paths
