"""What the maps and field files draw of a village: its layers with the farmland picked out, and which
rasters cover it. Domain data, computed here so that the pipeline only strings steps together."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from .district import District
from .landuse import is_farmland

__all__ = ["village_display_layers", "rasters_covering", "raster_footprint"]


def village_display_layers(district: District, village_id: str) -> dict[str, gpd.GeoDataFrame | None]:
    """Every layer's features in one village, for drawing, with ``farmland`` in place of the surveys.

    ``farmland`` is the 耕地 of the baseline survey when one is given, else of the current survey (what the
    farmland rules call farmland, without the PBF, which is a layer of its own).

    Examples
    --------
    >>> # layers = village_display_layers(district, "110117104201"); layers["farmland"]
    """
    layers = dict(district.village_layers(village_id))
    survey = district.get("landuse_baseline") if "landuse_baseline" in district else district["landuse"]
    lu = layers.pop("landuse_baseline", None) if "landuse_baseline" in layers else layers.get("landuse")
    farmland = lu if lu is not None else survey.iloc[:0]
    layers["farmland"] = farmland[is_farmland(farmland["dlbm"])]
    layers.pop("landuse", None)
    return layers


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
