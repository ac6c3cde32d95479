"""Clean finding geometry: one fixed precision, no slivers, one geometry type, valid after rounding.

Overlays leave findings with sliver parts, near-duplicate nodes and, once rounded for an output
(GeoJSON's 7 decimals), rings that collapse to zero area. :func:`clean_polygons` is the one place
finding geometry is made clean; it is applied when findings are finalised (working CRS, 1 mm grid,
:func:`analyses.findings.finalise`), when ``findings.gpkg`` is written and, with the output's grid,
to the lon/lat geometry of every field file (:mod:`maps.exports`).

What comes out, per row:

* a ``MultiPolygon`` (always: one geometry type per layer), valid, its coordinates on the grid, no two
  consecutive equal nodes, no part of zero area;
* parts smaller than ``min_part`` dropped, except the row's largest part (a finding never disappears);
  :func:`analyses.findings.finalise` gives each finding its township's own ``min_overlap_m2`` (per row);
* a finding without any area (a grave mapped as a point, a line) becomes a small square marker of
  half-width ``marker`` around it, so the findings layer holds one geometry type (MultiPolygon);
* a missing geometry stays missing (``None``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = ["GRID_M", "MARKER_M", "GPKG_DATASET_OPTIONS", "clean_polygons", "is_clean"]

#: Precision of finding geometry in the (metric) working CRS: 1 mm.
GRID_M: float = 0.001

#: GDAL dataset creation options of every GeoPackage landguard writes: version 1.2, which GDAL 3.6 and
#: QGIS 3.22 LTR read without the "version 1.4 may only be partially supported" warning.
GPKG_DATASET_OPTIONS: dict[str, str] = {"VERSION": "1.2"}

#: Half-width (m) of the square marker that stands for a finding without area (a point grave).
MARKER_M: float = 0.5


def _explode(geoms: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-part geometries of ``geoms`` (nested collections too) with the row index of each."""
    while len(geoms):
        multi = shapely.get_type_id(geoms) >= 4
        if not multi.any():
            break
        parts, at = shapely.get_parts(geoms[multi], return_index=True)
        geoms = np.concatenate([geoms[~multi], parts])
        index = np.concatenate([index[~multi], index[multi][at]])
    return geoms, index


def clean_polygons(geoms, *, grid: float = GRID_M, min_part=0.0, marker: float | None = MARKER_M) -> np.ndarray:
    """Valid MultiPolygons snapped to ``grid``, without slivers, zero-area parts or duplicate nodes.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        One geometry per finding (``None`` allowed), in a CRS whose unit ``grid`` is given in.
    grid : float
        Grid size the coordinates are snapped to (``0.001`` = 1 mm in a metric CRS, ``1e-7`` for
        7-decimal lon/lat).
    min_part : float or array-like
        Parts with a smaller area are dropped (per row when an array), except each row's largest part.
    marker : float or None
        Half-width of the square that replaces a geometry without area (point, line, or a polygon
        that collapses on the grid); ``None`` leaves such a row empty (``None``).

    Returns
    -------
    numpy.ndarray
        Object array of ``MultiPolygon`` or ``None``, one per input row.

    Examples
    --------
    >>> sliver = shapely.Polygon([(10, 0), (20, 0), (20, 0.0004), (10, 0.0002)])
    >>> out = clean_polygons([shapely.union(shapely.box(0, 0, 10, 10), sliver), shapely.Point(5, 5), None])
    >>> [g.geom_type if g is not None else None for g in out], round(float(out[0].area), 6)
    (['MultiPolygon', 'MultiPolygon', None], 100.0)
    >>> float(out[1].area), is_clean(out[:2], grid=0.001)
    (1.0, True)
    """
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    n = len(arr)
    out = np.full(n, None, dtype=object)
    if n == 0:
        return out
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        return out
    valid = arr[rows].copy()
    broken = ~shapely.is_valid(valid)                # make_valid returns a valid geometry as it is: skip those
    valid[broken] = shapely.make_valid(valid[broken])
    parts, index = _explode(valid, rows)
    dims = shapely.get_dimensions(parts)
    has_area = np.zeros(n, dtype=bool)
    has_area[index[dims == 2]] = True
    polys, at = parts[dims == 2], index[dims == 2]
    snapped = _snap(polys, grid)
    polys, at = _explode(snapped, at)
    keep = (shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)
    polys, at = polys[keep], at[keep]
    area = shapely.area(polys)
    limit = np.broadcast_to(np.asarray(min_part, dtype=float), (n,))[at] if np.ndim(min_part) else float(min_part)
    largest = pd.Series(area).groupby(at).transform("max").to_numpy() if len(area) else area
    keep = (area > 0) & ((area >= limit) | (area == largest))
    polys, at = polys[keep], at[keep]
    order = np.argsort(at, kind="stable")
    polys, at = polys[order], at[order]
    if len(polys):
        shapely.multipolygons(polys, indices=at, out=out)
    crossed = np.flatnonzero(~shapely.is_missing(out) & ~shapely.is_valid(out))
    if len(crossed):   # parts snapped onto each other (two buildings' parts sharing an edge): merge them
        fixed, at = _explode(shapely.set_precision(out[crossed], grid), crossed)
        keep = (shapely.get_type_id(fixed) == 3) & (shapely.area(fixed) > 0)
        fixed, at = fixed[keep], at[keep]
        order = np.argsort(at, kind="stable")
        out[crossed] = None
        if len(fixed):
            pos = np.searchsorted(crossed, at[order])
            merged = shapely.multipolygons(fixed[order], indices=pos)
            has = np.unique(pos)
            out[crossed[has]] = merged[has]
    lost = present & shapely.is_missing(out)               # no area (point, line) or collapsed on the grid
    if marker is not None and lost.any():
        centre = shapely.point_on_surface(shapely.make_valid(arr[lost]))
        xy = shapely.get_coordinates(centre)
        half = max(float(marker), 2 * grid)
        boxes = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half, xy[:, 1] + half)
        boxes = shapely.set_precision(boxes, grid)
        out[lost] = shapely.multipolygons(boxes, indices=np.arange(len(boxes)))
    return out


def _snap(polys: np.ndarray, grid: float) -> np.ndarray:
    """Polygons on ``grid``, valid: rounded point by point where that keeps them valid, else snap-rounded.

    Rounding each vertex (GEOS ``pointwise``) and dropping repeated nodes gives the same polygon as GEOS's
    valid-output snap rounding whenever the rounded polygon is valid and not empty (no two edges came
    within half a grid step of each other), at a fraction of the cost; only the others (slivers, spikes,
    near-touching rings) go through ``set_precision``'s noding, which keeps them valid and lets collapsed
    parts vanish.
    """
    if len(polys) == 0:                               # e.g. every finding a point grave: nothing to snap
        return polys.copy()
    rounded = shapely.set_precision(polys, grid, mode="pointwise")
    # a ring left with fewer than 4 distinct consecutive nodes collapsed: snap-round that polygon instead
    rings, owner = shapely.get_rings(rounded, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    repeat = np.r_[False, (ring[1:] == ring[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)]
    collapsed = np.zeros(len(polys), dtype=bool)
    collapsed[owner[np.bincount(ring[~repeat], minlength=len(rings)) < 4]] = True
    fast = rounded.copy()
    fast[~collapsed] = shapely.remove_repeated_points(rounded[~collapsed], 0.0)
    redo = collapsed | ~shapely.is_valid(fast) | shapely.is_empty(fast) | (shapely.area(fast) <= 0)
    if redo.any():
        fast[redo] = shapely.set_precision(polys[redo], grid)
    return fast


def is_clean(geoms, *, grid: float) -> bool:
    """Whether every geometry is a valid MultiPolygon on ``grid`` without duplicate nodes or zero-area parts.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        ``None`` entries are allowed (and clean).
    grid : float
        The grid the coordinates must lie on.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_clean([shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])], grid=0.001)
    True
    >>> is_clean([shapely.box(0, 0, 1, 1)], grid=0.001)   # a Polygon, not a MultiPolygon
    False
    """
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    arr = arr[~shapely.is_missing(arr)]
    if len(arr) == 0:
        return True
    if not np.all(shapely.get_type_id(arr) == 6) or not np.all(shapely.is_valid(arr)):
        return False
    parts = shapely.get_parts(arr)
    if np.any(shapely.area(parts) <= 0):
        return False
    rings = np.concatenate([shapely.get_exterior_ring(parts), _interiors(parts)])
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = (ring[1:] == ring[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)
    if same.any():
        return False
    return bool(np.all(np.abs(xy / grid - np.round(xy / grid)) < 1e-3))  # within float error of a grid point


def _interiors(polys: np.ndarray) -> np.ndarray:
    counts = shapely.get_num_interior_rings(polys)
    if counts.sum() == 0:
        return np.array([], dtype=object)
    owner = np.repeat(np.arange(len(polys)), counts)
    k = np.concatenate([np.arange(c) for c in counts])
    return shapely.get_interior_ring(polys[owner], k)
