"""Geometry repair: make valid, keep the parts a role can hold, drop Z and empties, and count it all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["RepairCounts", "repair_geometries", "polygonal_part", "far_apart_parts"]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)


@dataclass
class RepairCounts:
    """What :func:`repair_geometries` did to one layer (one count per feature).

    Attributes
    ----------
    z_dropped, m_dropped : int
        Features whose Z (heights) or M (measures) were dropped.
    repaired : int
        Invalid features made valid (self-intersections, bow-ties, wrong ring order...).
    lines_to_polygons : int
        Closed lines in a polygon role (outlines drawn in CAD) turned into polygons.
    dropped_empty : int
        Null or empty geometries dropped.
    dropped_wrong_type : int
        Points, or open lines in a polygon role, dropped.
    dropped_degenerate : int
        Polygons with no area left after repair (all points on a line) dropped.
    """

    z_dropped: int = 0
    m_dropped: int = 0
    repaired: int = 0
    lines_to_polygons: int = 0
    dropped_empty: int = 0
    dropped_wrong_type: int = 0
    dropped_degenerate: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict."""
        return dict(self.__dict__)


def polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (collections are unpacked; None when none).

    Examples
    --------
    >>> g = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (5, 5)])])
    >>> polygonal_part(np.array([g]))[0].area
    1.0
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    coll = types == shapely.GeometryType.GEOMETRYCOLLECTION
    if coll.any():
        parts, idx = shapely.get_parts(geoms[coll], return_index=True)
        keep = np.isin(shapely.get_type_id(parts), _POLYGONAL)
        merged = np.full(coll.sum(), None, dtype=object)
        if keep.any():
            pieces = shapely.get_parts(parts[keep])
            owners = np.repeat(idx[keep], shapely.get_num_geometries(parts[keep]))
            order = np.argsort(owners, kind="stable")
            multi = shapely.multipolygons(pieces[order], indices=owners[order])
            present = np.unique(owners)
            merged[present] = multi[present]
            single = np.bincount(owners, minlength=len(merged)) == 1
            merged[single] = shapely.get_geometry(merged[single], 0)
        out[coll] = merged
    other = ~coll & ~np.isin(types, _POLYGONAL) & (types >= 0)
    out[other] = None
    return out


def _closed_lines_to_polygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons from lines whose every part is a closed ring (None for any other geometry)."""
    out = np.full(len(geoms), None, dtype=object)
    types = shapely.get_type_id(geoms)
    lines = np.flatnonzero(np.isin(types, _LINEAR + (shapely.GeometryType.LINEARRING,)) & ~shapely.is_empty(geoms))
    if len(lines) == 0:
        return out
    parts, owner = shapely.get_parts(geoms[lines], return_index=True)
    closed = shapely.is_closed(parts) & (shapely.get_num_coordinates(parts) >= 4)
    all_closed = np.bincount(owner, weights=~closed, minlength=len(lines)) == 0
    use = all_closed[owner]
    if not use.any():
        return out
    coords, ring = shapely.get_coordinates(parts[use], return_index=True)
    polys = shapely.polygons(shapely.linearrings(coords, indices=ring))
    present, dense = np.unique(owner[use], return_inverse=True)
    multi = shapely.multipolygons(polys, indices=dense)
    single = np.bincount(dense) == 1
    made = np.where(single, shapely.get_geometry(multi, 0), multi)
    out[lines[present]] = shapely.make_valid(made)
    return out


def repair_geometries(geoms, kind: str = "polygon") -> tuple[np.ndarray, np.ndarray, RepairCounts]:
    """Repair a layer's geometries.

    Z and M are dropped; closed lines in a polygon role become polygons; invalid geometries are made valid;
    parts the role cannot hold are dropped (for ``kind="polygon"`` the polygonal parts are kept); null, empty
    and zero-area geometries are dropped. Valid polygons come out unchanged (same area).

    Parameters
    ----------
    geoms : array-like of shapely geometries
    kind : {"polygon", "polygon_or_line"}

    Returns
    -------
    geoms : numpy.ndarray
        The repaired geometries that are kept.
    keep : numpy.ndarray of bool
        Which input rows are kept.
    counts : RepairCounts

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> g, keep, counts = repair_geometries([bowtie, None])
    >>> round(g[0].area, 3), keep.tolist(), counts.repaired, counts.dropped_empty
    (2.0, [True, False], 1, 1)
    """
    geoms = np.array(geoms, dtype=object)
    counts = RepairCounts()
    missing = shapely.is_missing(geoms)
    present = ~missing
    has_z = np.zeros(len(geoms), dtype=bool)
    has_m = np.zeros(len(geoms), dtype=bool)
    has_z[present] = shapely.has_z(geoms[present])
    has_m[present] = shapely.has_m(geoms[present])
    counts.z_dropped = int(has_z.sum())
    counts.m_dropped = int(has_m.sum())
    if (has_z | has_m).any():
        geoms[has_z | has_m] = shapely.force_2d(geoms[has_z | has_m])
    empty = missing.copy()
    empty[present] = shapely.is_empty(geoms[present])
    counts.dropped_empty = int(empty.sum())
    types = np.full(len(geoms), -1)
    types[~empty] = shapely.get_type_id(geoms[~empty])
    allowed = _POLYGONAL + (_LINEAR if kind == "polygon_or_line" else ())
    wrong = ~empty & ~np.isin(types, allowed)
    if wrong.any() and kind == "polygon":
        made = _closed_lines_to_polygons(geoms[wrong])
        turned = ~shapely.is_missing(made)
        counts.lines_to_polygons = int(turned.sum())
        idx = np.flatnonzero(wrong)[turned]
        geoms[idx] = made[turned]
        wrong[idx] = False
    check = ~empty & ~wrong
    valid = np.ones(len(geoms), dtype=bool)
    valid[check] = shapely.is_valid(geoms[check])
    invalid = check & ~valid
    counts.repaired = int(invalid.sum())
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    if wrong.any():  # points, open lines, collections: keep their polygonal parts if any
        geoms[wrong] = polygonal_part(geoms[wrong])
        lost = shapely.is_missing(geoms[wrong])
        counts.dropped_wrong_type = int(lost.sum())
        counts.repaired += int((~lost).sum())  # a collection: its polygonal parts are kept
    if invalid.any():  # a collection from make_valid: keep what the role can hold
        types = shapely.get_type_id(geoms[invalid])
        odd = ~np.isin(types, allowed)
        if odd.any():
            idx = np.flatnonzero(invalid)[odd]
            geoms[idx] = polygonal_part(geoms[idx])
    gone = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if kind == "polygon":
        gone |= ~gone & (shapely.area(geoms) <= 0)
    counts.dropped_degenerate = int((gone & ~empty & ~(wrong & shapely.is_missing(geoms))).sum())
    keep = ~gone
    return geoms[keep], keep, counts


def far_apart_parts(geoms, distance: float) -> np.ndarray:
    """Whether each multi-part geometry has a part farther than ``distance`` from its largest part.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        In a metric CRS.
    distance : float
        Metres.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> near = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 25, 5)])
    >>> far = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(5000, 0, 5005, 5)])
    >>> far_apart_parts([near, far, shapely.box(0, 0, 1, 1)], 500).tolist()
    [False, True, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=bool)
    multi = np.flatnonzero(~shapely.is_missing(geoms) & (shapely.get_num_geometries(geoms) > 1))
    if len(multi) == 0:
        return out
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    size = np.where(shapely.get_dimensions(parts) == 2, shapely.area(parts), shapely.length(parts))
    order = np.lexsort((-size, owner))
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    largest = np.empty(len(multi), dtype=object)
    largest[owner[order][first]] = parts[order][first]
    gap = shapely.distance(parts, largest[owner])
    worst = np.zeros(len(multi))
    np.maximum.at(worst, owner, gap)
    out[multi] = worst > distance
    return out
