"""Road land and the belts beside it: buffering centre lines to road land, measuring a belt's width.

A green belt's width is its area divided by its length along the road (or water) it lines; the length
is measured along the belt itself: the part of the belt's edge that faces the land. (Measured along the
road instead, a belt behind a roadside ditch would come out longer by twice the ditch's width, and so too
narrow.)
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["road_land", "length_along", "belt_width"]

_LINES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING,
          shapely.GeometryType.LINEARRING)


def road_land(geoms, width_m=None) -> np.ndarray:
    """Road land polygons: lines buffered by half their width with flat caps, polygons as they are.

    Parameters
    ----------
    geoms : array-like of geometries
        Road polygons (road land already) or centre lines.
    width_m : array-like of float, optional
        Full width of each line's road land; lines with a missing or non-positive width give None.

    Returns
    -------
    numpy.ndarray of geometries (None where a line has no width)

    Examples
    --------
    >>> land = road_land([shapely.LineString([(0, 0), (100, 0)]), shapely.box(0, 10, 5, 20)], [12.0, None])
    >>> [round(g.area, 6) for g in land], land[0].bounds
    ([1200.0, 50.0], (0.0, -6.0, 100.0, 6.0))
    """
    geoms = np.asarray(geoms, dtype=object)
    width = np.full(len(geoms), np.nan) if width_m is None else np.asarray(
        [np.nan if w is None else w for w in np.asarray(width_m, dtype=object)], dtype=float)
    out = geoms.copy()
    is_line = np.isin(shapely.get_type_id(geoms), _LINES)
    ok = is_line & (width > 0)
    out[is_line & ~ok] = None
    if ok.any():
        out[ok] = shapely.buffer(geoms[ok], width[ok] / 2.0, cap_style="flat", join_style="mitre")
    return out


def length_along(belts, lands, *, eps: float = 0.01) -> np.ndarray:
    """Pairwise length of each belt's edge that faces its land.

    The land near the belt is grown by the belt's distance to it plus ``eps`` (mitred, so a rectangle
    stays a rectangle) and the belt's boundary inside it is measured: for a belt lying against the land,
    or behind a ditch beside it, the result is the length of the belt's facing edge (plus ``2 * eps``).

    Examples
    --------
    >>> road = shapely.box(0, 0, 100, 10)
    >>> belt = shapely.box(20, 10, 70, 15)               # 50 m along the road's north edge
    >>> round(float(length_along([belt], [road])[0]), 2)
    50.02
    >>> behind_ditch = shapely.box(20, 11.5, 70, 16.5)   # the same belt behind a 1.5 m 边沟
    >>> round(float(length_along([behind_ditch], [road])[0]), 2)
    50.02
    """
    belts = np.asarray(belts, dtype=object)
    lands = np.asarray(lands, dtype=object)
    if len(belts) == 0:
        return np.zeros(0)
    gap = shapely.distance(belts, lands)
    # only the land near the belt is grown (a road's land can be kilometres long)
    window = shapely.buffer(shapely.envelope(belts), gap + 2 * eps, join_style="mitre")
    reach = shapely.buffer(shapely.intersection(lands, window), gap + eps, join_style="mitre")
    return shapely.length(shapely.intersection(shapely.boundary(belts), reach))


def belt_width(belts, lands, *, eps: float = 0.01) -> np.ndarray:
    """Pairwise measured width of a belt beside its land: area ÷ length along the land's edge.

    Returns NaN where the belt faces none of the edge.

    Examples
    --------
    >>> road = shapely.box(0, 0, 1000, 10)
    >>> round(float(belt_width([shapely.box(0, 10, 1000, 15.5)], [road])[0]), 3)
    5.5
    """
    length = length_along(belts, lands, eps=eps)
    area = shapely.area(np.asarray(belts, dtype=object))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(length > 0, area / np.where(length > 0, length, 1.0), np.nan)
