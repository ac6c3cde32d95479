"""Coordinate reference systems: choosing the metric working CRS and moving data into it."""

from __future__ import annotations

from typing import Iterable

import geopandas as gpd
import numpy as np
import pyproj
from pyproj import CRS, Transformer

from .errors import CRSError

__all__ = ["gk3_zone_crs", "choose_working_crs", "to_crs", "lonlat_of"]

_GK3_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135


def gk3_zone_crs(lon: float) -> CRS:
    """Return the CGCS2000 3-degree Gauss-Krüger CRS (no zone prefix) whose zone holds ``lon``.

    The zones are EPSG:4534 (central meridian 75°E) to EPSG:4554 (135°E).

    Parameters
    ----------
    lon : float
        Longitude in degrees east.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> gk3_zone_crs(117.1).to_epsg()   # Pinggu, central meridian 117°E
    4548
    """
    if not np.isfinite(lon):
        raise CRSError(f"cannot choose a working CRS from longitude {lon!r}")
    cm = int(round(lon / 3.0)) * 3
    if cm < _GK3_FIRST_CM or cm > _GK3_LAST_CM:
        raise CRSError(
            f"longitude {lon:.3f}° lies outside China's CGCS2000 3-degree zones (73.5°E–136.5°E); "
            "set [project] working_crs in the configuration"
        )
    return CRS.from_epsg(_GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3)


def lonlat_of(frames: Iterable[gpd.GeoDataFrame]) -> tuple[float, float]:
    """Return the (lon, lat) of the centre of the combined bounds of ``frames``.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame(geometry=[shapely.Point(117.1, 40.1)], crs=4490)
    >>> [round(v, 1) for v in lonlat_of([f])]
    [117.1, 40.1]
    """
    xs, ys = [], []
    for frame in frames:
        if frame is None or frame.empty or frame.crs is None:
            continue
        minx, miny, maxx, maxy = frame.total_bounds
        if not np.all(np.isfinite([minx, miny, maxx, maxy])):
            continue
        to_ll = Transformer.from_crs(frame.crs, 4326, always_xy=True)
        lon, lat = to_ll.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        xs.extend(lon)
        ys.extend(lat)
    if not xs:
        raise CRSError("no layer with a CRS and features to choose the working CRS from")
    return (float(np.mean([min(xs), max(xs)])), float(np.mean([min(ys), max(ys)])))


def choose_working_crs(frames: Iterable[gpd.GeoDataFrame], requested: str | int | None = "auto") -> CRS:
    """Choose the metric working CRS for a set of layers.

    Parameters
    ----------
    frames : iterable of GeoDataFrame
        The input layers (any CRS).
    requested : str, int or None
        ``"auto"``/``None`` picks the CGCS2000 3-degree zone of the data's centre; anything else is
        parsed by pyproj and must be projected.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame(geometry=[shapely.Point(117.1, 40.14)], crs=4490)
    >>> choose_working_crs([f]).to_epsg()
    4548
    """
    if requested not in (None, "", "auto"):
        try:
            crs = CRS.from_user_input(requested)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"working_crs {requested!r} is not a CRS pyproj understands: {exc}") from None
        if not crs.is_projected:
            raise CRSError(f"working_crs {requested!r} is not projected; areas and distances need metres")
        return crs
    lon, _ = lonlat_of(frames)
    return gk3_zone_crs(lon)


def to_crs(frame: gpd.GeoDataFrame, crs: CRS, *, name: str = "layer") -> gpd.GeoDataFrame:
    """Reproject ``frame`` to ``crs`` (x = easting, y = northing, whatever EPSG's axis order says).

    GeoPandas and pyproj transform with ``always_xy``, so EPSG:4490 and the Gauss-Krüger zones,
    whose official axis order is northing first, still come out as (x, y).

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame(geometry=[shapely.Point(117.0, 40.0)], crs=4490)
    >>> p = to_crs(f, CRS.from_epsg(4548)).geometry.iloc[0]
    >>> round(p.x), round(p.y) // 1000
    (500000, 4429)
    """
    if frame.crs is None:
        raise CRSError(f"{name}: no CRS; set `crs` for this layer in the configuration (e.g. crs = \"EPSG:4548\")")
    if CRS.from_user_input(frame.crs) == crs:
        return frame
    return frame.to_crs(crs)
