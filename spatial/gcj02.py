"""WGS84 <-> GCJ-02 ("Mars coordinates") for display on Chinese web maps.

Gaode/AMap and Tencent tiles are drawn in GCJ-02, a published obfuscation of WGS84 that moves
points by a few hundred metres inside China and not at all outside it. Tianditu, Esri and OSM tiles
are in WGS84/CGCS2000 (the two differ by centimetres). Nothing in landguard computes in GCJ-02: it is
used only to draw overlays on top of GCJ-02 tiles.

The forward formula is the widely published one (Krasovsky ellipsoid, a = 6378245 m); the inverse is
solved by fixed-point iteration to well under a millimetre.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wgs84_to_gcj02", "gcj02_to_wgs84", "out_of_china"]

_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lon, lat):
    """Whether points lie outside the rectangle where GCJ-02 applies (there it equals WGS84).

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> bool(out_of_china(117.1, 40.14)), bool(out_of_china(2.35, 48.85))
    (False, True)
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    return out[()] if out.ndim == 0 else out


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat); zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _pair(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return lon_a, lat_a, scalar


def wgs84_to_gcj02(lon, lat):
    """Convert WGS84 longitude/latitude to GCJ-02 (unchanged outside China).

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees; arrays are converted element-wise.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: floats for scalar input, arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    """
    lon_a, lat_a, scalar = _pair(lon, lat)
    dlon, dlat = _delta(lon_a, lat_a)
    out_lon, out_lat = lon_a + dlon, lat_a + dlat
    if scalar:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iter: int = 20):
    """Convert GCJ-02 longitude/latitude back to WGS84 (iterative, to ``tolerance`` degrees).

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees.
    tolerance : float
        Stop when every point moves less than this (degrees; 1e-10° is about 0.01 mm).
    max_iter : int
        Upper bound on iterations (the offset is smooth: 3–5 usually suffice).

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(117.1, 40.14))
    >>> round(lon, 9), round(lat, 9)
    (117.1, 40.14)
    """
    g_lon, g_lat, scalar = _pair(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        dlon, dlat = _delta(w_lon, w_lat)
        n_lon = g_lon - dlon
        n_lat = g_lat - dlat
        moved = max(float(np.max(np.abs(n_lon - w_lon), initial=0.0)),
                    float(np.max(np.abs(n_lat - w_lat), initial=0.0)))
        w_lon, w_lat = n_lon, n_lat
        if moved < tolerance:
            break
    if scalar:
        return float(w_lon), float(w_lat)
    return w_lon, w_lat

