"""Geometry repair: make valid, keep the parts a role can hold, drop Z and empties, and count it all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["RepairCounts", "repair_geometries", "polygonal_part", "far_apart_parts", "drop_nonfinite_parts"]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)
_POINTS = (shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT)


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
    dropped_bad_coords : int
        Features dropped because every part has a NaN or infinite coordinate.
    bad_coord_parts : int
        Features kept without their parts that had a NaN or infinite coordinate.
    """

    z_dropped: int = 0
    m_dropped: int = 0
    repaired: int = 0
    lines_to_polygons: int = 0
    dropped_empty: int = 0
    dropped_wrong_type: int = 0
    dropped_degenerate: int = 0
    dropped_bad_coords: int = 0
    bad_coord_parts: int = 0

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


def drop_nonfinite_parts(geoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop the parts of each geometry that have a NaN or infinite x or y (GEOS cannot compute with them).

    Returns
    -------
    geoms : numpy.ndarray
        The geometries, those with bad coordinates rebuilt from their good parts (None when none is left).
    dropped : numpy.ndarray of bool
        Geometries that had no good part left.
    trimmed : numpy.ndarray of bool
        Geometries kept without some of their parts.

    Examples
    --------
    >>> nan = shapely.Polygon([(0, 0), (float("nan"), 0), (1, 1)])
    >>> g, dropped, trimmed = drop_nonfinite_parts([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), nan]), nan, None])
    >>> g[0].area, g[1], dropped.tolist(), trimmed.tolist()
    (1.0, None, [False, True, False], [True, False, False])
    """
    geoms = np.array(geoms, dtype=object)
    dropped = np.zeros(len(geoms), dtype=bool)
    trimmed = np.zeros(len(geoms), dtype=bool)
    present = np.flatnonzero(~shapely.is_missing(geoms))
    if len(present) == 0:
        return geoms, dropped, trimmed
    coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
    bad_coord = ~np.isfinite(coords).all(axis=1)
    if not bad_coord.any():
        return geoms, dropped, trimmed
    bad = present[np.unique(owner[bad_coord])]
    parts, part_owner = shapely.get_parts(geoms[bad], return_index=True)
    pc, pidx = shapely.get_coordinates(parts, return_index=True)
    part_bad = np.bincount(pidx, weights=~np.isfinite(pc).all(axis=1), minlength=len(parts)) > 0
    good = ~part_bad
    n_good = np.bincount(part_owner[good], minlength=len(bad))
    rebuilt = np.full(len(bad), None, dtype=object)
    if good.any():
        kept, kept_owner = parts[good], part_owner[good]
        single = n_good == 1
        first = np.full(len(bad), -1)
        first[kept_owner[::-1]] = np.arange(len(kept))[::-1]
        rebuilt[single] = kept[first[single]]
        multi = np.flatnonzero(n_good > 1)
        if len(multi):
            sel = np.isin(kept_owner, multi)
            dense = np.searchsorted(multi, kept_owner[sel])
            polygonal = np.isin(shapely.get_type_id(kept[sel]), _POLYGONAL)
            linear = np.isin(shapely.get_type_id(kept[sel]), _LINEAR)
            all_poly = np.bincount(dense, weights=~polygonal, minlength=len(multi)) == 0
            all_line = np.bincount(dense, weights=~linear, minlength=len(multi)) == 0
            out = shapely.geometrycollections(kept[sel], indices=dense)
            polys = all_poly[dense]
            if polys.any():
                made = shapely.multipolygons(kept[sel][polys], indices=np.searchsorted(np.flatnonzero(all_poly), dense[polys]))
                out[all_poly] = made
            lines = all_line[dense] & ~polys
            if lines.any():
                made = shapely.multilinestrings(kept[sel][lines], indices=np.searchsorted(np.flatnonzero(all_line & ~all_poly), dense[lines]))
                out[all_line & ~all_poly] = made
            rebuilt[multi] = out
    geoms[bad] = rebuilt
    dropped[bad] = n_good == 0
    trimmed[bad] = n_good > 0
    return geoms, dropped, trimmed


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


def _is_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid``, with strictly convex quadrilaterals (houses, parcels) told valid without GEOS.

    A polygon of one ring with four distinct corners that all turn the same way, each turn clearly away from
    a straight line, is a simple convex polygon, hence valid: exact, and a fraction of GEOS's cost. Anything
    else (holes, more corners, a bowtie, a corner on a straight line or a repeated point) goes to GEOS.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> _is_valid(np.array([shapely.box(0, 0, 1, 1), bowtie, shapely.Point(0, 0)])).tolist()
    [True, False, True]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=bool)
    quad = ((shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (shapely.get_num_coordinates(geoms) == 5)
            & (shapely.get_num_interior_rings(geoms) == 0))
    q = np.flatnonzero(quad)
    if len(q):
        xy = shapely.get_coordinates(geoms[q]).reshape(len(q), 5, 2)
        xy = xy - xy[:, :1]                                 # relative to the first corner: small numbers
        e = xy[:, 1:] - xy[:, :-1]                          # the four edges
        f = np.roll(e, -1, axis=1)
        cross = e[..., 0] * f[..., 1] - e[..., 1] * f[..., 0]
        scale = np.hypot(e[..., 0], e[..., 1]) * np.hypot(f[..., 0], f[..., 1])
        clear = np.abs(cross) > 1e-9 * scale
        convex = clear.all(axis=1) & ((cross > 0).all(axis=1) | (cross < 0).all(axis=1))
        out[q[convex]] = True
        quad[q[~convex]] = False
    rest = ~quad
    out[rest] = shapely.is_valid(geoms[rest])
    return out


def repair_geometries(geoms, kind: str = "polygon") -> tuple[np.ndarray, np.ndarray, RepairCounts]:
    """Repair a layer's geometries.

    Parts with a NaN or infinite coordinate are dropped (a feature with no other part is dropped); Z and M
    are dropped; closed lines in a polygon role become polygons; invalid geometries are made valid;
    parts the role cannot hold are dropped (for ``kind="polygon"`` the polygonal parts are kept); null, empty
    and zero-area geometries are dropped. Valid polygons come out unchanged (same area).

    Parameters
    ----------
    geoms : array-like of shapely geometries
    kind : {"polygon", "polygon_or_line", "polygon_or_point"}

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
    geoms, nonfinite, trimmed = drop_nonfinite_parts(geoms)
    counts.dropped_bad_coords = int(nonfinite.sum())
    counts.bad_coord_parts = int(trimmed.sum())
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
    counts.dropped_empty = int((empty & ~nonfinite).sum())
    types = np.full(len(geoms), -1)
    types[~empty] = shapely.get_type_id(geoms[~empty])
    allowed = _POLYGONAL + (_LINEAR if kind == "polygon_or_line" else ()) + (_POINTS if kind == "polygon_or_point" else ())
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
    valid[check] = _is_valid(geoms[check])
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
