"""The sample district's rasters: nDSM, orthophoto and two land-cover classifications (EPSG:4548).

* ``ndsm.tif`` — float32 metres above ground, 0.5 m pixels, over the settlements of
  ``sample.raster_villages``; roofs drawn from each building's true eave/ridge heights (pitched roofs
  rise linearly to a ridge along the long axis), ground 0.
* ``ortho.tif`` — RGB uint8, 1 m pixels, the whole of the ``raster_villages``.
* ``landcover_before.tif`` / ``landcover_after.tif`` — uint8 classes (1 cropland, 2 forest, 3 grassland,
  4 water, 5 built-up, 6 bare), 2 m pixels on the district's 2 m grid, the whole district: the
  baseline (2019) and current surveys, buildings by ``built_year`` (<= 2019 before, all after), and the
  planters' ``landcover_changes`` in ``after``.

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

__all__ = ["write_rasters", "LANDCOVER_CLASSES", "landcover_class"]

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
    _write(path, out, transform, -9999.0, predictor=3)


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


def _landcover(sample: Sample, layer: str, year: int, changes: bool) -> tuple[np.ndarray, object]:
    width, height = int(SIZE[0] / 2), int(SIZE[1] / 2)
    transform = from_origin(ORIGIN[0], ORIGIN[1] + SIZE[1], 2.0, 2.0)
    lu = sample.layers[layer]
    shapes = list(zip(lu.geometry.to_numpy(), [landcover_class(c) for c in lu["dlbm"]]))
    b = sample.layers["buildings"]
    built = b["built_year"].fillna(0).astype(int) <= year
    shapes += [(g, 5) for g in b.geometry[built.to_numpy()]]
    if changes:
        shapes += [(c.geometry, c.after) for c in sample.landcover_changes]
    data = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0, dtype="uint8")
    return data, transform


def write_rasters(sample: Sample, folder: str | os.PathLike) -> dict[str, Path]:
    """Write the four rasters into ``folder`` and return their paths by raster role.

    Examples
    --------
    >>> import tempfile
    >>> from layers.sample.generate import build_sample
    >>> sorted(write_rasters(build_sample(0), tempfile.mkdtemp()))
    ['landcover_after', 'landcover_before', 'ndsm', 'ortho']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.tif" for name in ("ndsm", "ortho", "landcover_before", "landcover_after")}
    _ndsm(sample, paths["ndsm"])
    _ortho(sample, paths["ortho"])
    for name, layer, year, changes in (("landcover_before", "landuse_baseline", 2019, False),
                                       ("landcover_after", "landuse", 2025, True)):
        data, transform = _landcover(sample, layer, year, changes)
        _write(paths[name], data, transform, 0)
    return paths
