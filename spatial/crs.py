"""Coordinate reference systems: choosing the metric working CRS and moving data into it."""

from __future__ import annotations

import functools
from typing import Iterable

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj import CRS, Transformer

from .errors import CRSError

__all__ = ["gk3_zone_crs", "choose_working_crs", "to_crs", "lonlat_of", "to_lonlat", "in_area_of_use", "CHINA_BOUNDS",
           "feature_centres"]

_GK3_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135

#: (west, south, east, north) in degrees: China with a margin; the practical area of use of world-wide CRSs.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)

#: At most this many features per layer are looked at to locate a layer (evenly spaced rows).
_SAMPLE = 5000


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


def feature_centres(frame: gpd.GeoDataFrame, sample: int = _SAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """Bounding-box centres of at most ``sample`` evenly spaced features, in the frame's CRS.

    Examples
    --------
    >>> f = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2, 4)], crs=4548)
    >>> [v.tolist() for v in feature_centres(f)]
    [[1.0], [2.0]]
    """
    geoms = frame.geometry.to_numpy()
    step = max(1, len(geoms) // sample)
    b = shapely.bounds(geoms[::step])
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def to_lonlat(x, y, crs) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (on the CRS's own datum) of points given in ``crs``; NaN where the numbers
    cannot be coordinates of that CRS.

    Examples
    --------
    >>> lon, lat = to_lonlat([500000.0], [4429000.0], "EPSG:4548")
    >>> round(float(lon[0]), 3), round(float(lat[0]), 2)
    (117.0, 40.0)
    >>> bool(np.isnan(to_lonlat([508000.0], [4443000.0], "EPSG:4490")[0][0]))   # metres are no degrees
    True
    """
    return _to_lonlat(np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float)),
                      CRS.from_user_input(crs))


@functools.lru_cache(maxsize=64)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    """A cached always-xy transformer (building one costs about a second of PROJ database look-ups)."""
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt), always_xy=True)


def _to_lonlat(x: np.ndarray, y: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of points given in ``crs`` (NaN where they cannot be)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if crs.is_geographic:
        bad = ~((np.abs(x) <= 180) & (np.abs(y) <= 90))
        return np.where(bad, np.nan, x), np.where(bad, np.nan, y)
    try:
        to_ll = _transformer(crs.to_wkt(), (crs.geodetic_crs or CRS.from_epsg(4326)).to_wkt())
        lon, lat = to_ll.transform(x, y, errcheck=False)
    except pyproj.exceptions.ProjError:
        return np.full(len(x), np.nan), np.full(len(x), np.nan)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def in_area_of_use(x, y, crs, *, tolerance: float = 2.0) -> np.ndarray:
    """Whether each point, given in ``crs``, lies where that CRS is meant to be used.

    The area is the CRS's EPSG area of use (for world-wide CRSs such as WGS 84: China, see
    :data:`CHINA_BOUNDS`), widened by ``tolerance`` degrees. A point whose numbers cannot be coordinates of
    the CRS (metres in a degree CRS, degrees in a Gauss-Krüger zone, swapped axes) falls outside.

    Parameters
    ----------
    x, y : array-like of float
        Coordinates in ``crs`` (x = easting or longitude).
    crs : anything pyproj reads
    tolerance : float
        Degrees added on every side of the area of use.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> in_area_of_use([508000.0, 4443000.0], [4443000.0, 508000.0], "EPSG:4548").tolist()  # second swapped
    [True, False]
    >>> in_area_of_use([117.1, 508000.0], [40.1, 4443000.0], "EPSG:4490").tolist()          # metres in degrees
    [True, False]
    """
    crs = CRS.from_user_input(crs)
    lon, lat = _to_lonlat(np.atleast_1d(x), np.atleast_1d(y), crs)
    west, south, east, north = CHINA_BOUNDS
    aou = crs.area_of_use
    if aou is not None:
        w, s, e, n = aou.bounds
        if w <= e and not (e < west or w > east or n < south or s > north):  # clip world-wide areas to China
            west, south, east, north = max(w, west), max(s, south), min(e, east), min(n, north)
    with np.errstate(invalid="ignore"):
        return ((lon >= west - tolerance) & (lon <= east + tolerance) &
                (lat >= south - tolerance) & (lat <= north + tolerance))


def lonlat_of(frames: Iterable[gpd.GeoDataFrame]) -> tuple[float, float]:
    """Return the (lon, lat) at the middle of the layers' features (median of their centres).

    The median, not the centre of the bounds, so that a few stray features (a parcel at 0, 0) cannot move
    the working CRS into another zone.

    Examples
    --------
    >>> f = gpd.GeoDataFrame(geometry=[shapely.Point(117.1, 40.1)], crs=4490)
    >>> [round(v, 1) for v in lonlat_of([f])]
    [117.1, 40.1]
    """
    lons, lats = [], []
    for frame in frames:
        if frame is None or frame.empty or frame.crs is None:
            continue
        x, y = feature_centres(frame)
        lon, lat = _to_lonlat(x, y, CRS.from_user_input(frame.crs))
        ok = np.isfinite(lon) & np.isfinite(lat)
        lons.append(lon[ok])
        lats.append(lat[ok])
    lon = np.concatenate(lons) if lons else np.empty(0)
    lat = np.concatenate(lats) if lats else np.empty(0)
    if len(lon) == 0:
        raise CRSError("no layer with a CRS and features to choose the working CRS from")
    return float(np.median(lon)), float(np.median(lat))


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
