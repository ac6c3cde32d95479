"""Fast pairwise overlay: candidate pairs from one bulk STRtree query, then vectorised intersection."""

from __future__ import annotations

import threading

import numpy as np
import shapely

from .subdivide import subdivide

__all__ = ["candidate_pairs", "area_pairs", "covering", "prepared_copies", "covered_intersection", "pairwise_intersection", "intersection_by_left", "prepare_cover",
           "union_groups", "union_parts"]


def union_groups(group, geoms, n: int, *, coverage: bool = False) -> np.ndarray:
    """Union of ``geoms`` per group number, without a Python call per group.

    A group with one member keeps that geometry as it is. Groups with more members are unioned with
    :func:`shapely.union_all` along the rows of a ``None``-padded 2-D array (GEOS unary union per row, in
    one vectorised call per size class: groups of 2, 3-4, 5-8, … members), the members in their input
    order, so the result is the one ``shapely.union_all`` gives on each group's members.

    Parameters
    ----------
    group : array-like of int
        Group number of each geometry, in ``0 … n-1``.
    geoms : array-like of geometries
    n : int
        Number of groups.
    coverage : bool
        Each group's members form a polygonal coverage (no overlaps, shared edges vertex for vertex):
        union them with the faster :func:`shapely.coverage_union_all` (undefined on other input; see
        its caller's checks).

    Returns
    -------
    numpy.ndarray of geometries
        Length ``n``: the union of each group (``None`` for a group without members).

    Examples
    --------
    >>> g = union_groups([1, 0, 1], [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(1, 0, 2, 1)], 3)
    >>> g[0].area, g[1].area, g[2]
    (1.0, 2.0, None)
    """
    group = np.asarray(group, dtype=np.intp)
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(n, None, dtype=object)
    if len(group) == 0:
        return out
    counts = np.bincount(group, minlength=n)
    single = counts[group] == 1
    out[group[single]] = geoms[single]
    multi = np.flatnonzero(~single)
    if len(multi) == 0:
        return out
    order = multi[np.argsort(group[multi], kind="stable")]        # members by group, input order kept
    g = group[order]
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    size = counts[g]
    width = 2 ** np.ceil(np.log2(size)).astype(int)                 # size class: padding at most doubles
    for w in np.unique(width):
        sel = width == w
        ids, row = np.unique(g[sel], return_inverse=True)
        padded = np.full((len(ids), w), None, dtype=object)
        padded[row, rank[sel]] = geoms[order[sel]]
        out[ids] = (shapely.coverage_union_all if coverage else shapely.union_all)(padded, axis=1)
    return out


def union_parts(group, parts, n: int) -> np.ndarray:
    """Union of ``parts`` per group ``0 … n-1``, trying the fast coverage union first.

    Parts that share their edges vertex for vertex and do not overlap (e.g. the pieces of one farmland
    block cut from neighbouring survey patches) are unioned several times faster by
    :func:`shapely.coverage_union_all` than by a full overlay. A group whose coverage union is not valid or has another area than its
    parts' sum (they overlap, or their shared edges do not match vertex for vertex) is unioned with
    ``shapely.union_all`` instead, so the result is always the union.

    Examples
    --------
    >>> g = union_parts([0, 0, 1], [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 2, 2)], 2)
    >>> [round(x.area, 6) for x in g], g[0].geom_type
    ([2.0, 4.0], 'Polygon')
    >>> round(union_parts([0, 0], [shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)], 1)[0].area, 6)   # overlapping
    3.0
    """
    group = np.asarray(group, dtype=np.intp)
    parts = np.asarray(parts, dtype=object)
    total = np.bincount(group, weights=shapely.area(parts), minlength=n)
    has = np.bincount(group, minlength=n) > 0
    try:
        out = union_groups(group, parts, n, coverage=True)
        good = has & shapely.is_valid(out) & (np.abs(shapely.area(out) - total) <= 1e-9 * total + 1e-6)
    except shapely.errors.GEOSException:
        out, good = np.full(n, None, dtype=object), ~has
    if not good.all():
        redo = ~good[group]
        out[~good] = union_groups(group[redo], parts[redo], n)[~good]
    return out


def candidate_pairs(left, right, predicate: str = "intersects") -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` where ``left[i]`` and ``right[j]`` satisfy ``predicate``.

    Examples
    --------
    >>> li, ri = candidate_pairs([shapely.box(0, 0, 2, 2)], [shapely.box(1, 1, 3, 3), shapely.box(5, 5, 6, 6)])
    >>> li.tolist(), ri.tolist()
    ([0], [0])
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    if len(left) == 0 or len(right) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    tree = shapely.STRtree(right)
    li, ri = tree.query(left, predicate=predicate)
    return li, ri


def area_pairs(left, right, li, ri) -> np.ndarray:
    """Which pairs ``(left[li], right[ri])`` can share area: their envelopes overlap in a box of positive area.

    An exact filter, not an estimate: two geometries whose envelopes meet only along a line or at a point
    (neighbouring patches of an axis-aligned survey grid, say) cannot have interiors in common, so their
    intersection has no area. It costs two ``bounds`` lookups per pair instead of a GEOS overlay.

    Examples
    --------
    >>> left = [shapely.box(0, 0, 1, 1)]
    >>> right = [shapely.box(1, 0, 2, 1), shapely.box(0.5, 0.5, 2, 2)]
    >>> area_pairs(left, right, np.array([0, 0]), np.array([0, 1])).tolist()
    [False, True]
    """
    li = np.asarray(li, dtype=np.intp)
    ri = np.asarray(ri, dtype=np.intp)
    if len(li) == 0:
        return np.zeros(0, dtype=bool)
    lb = shapely.bounds(np.asarray(left, dtype=object))[li]
    rb = shapely.bounds(np.asarray(right, dtype=object))[ri]
    width = np.minimum(lb[:, 2], rb[:, 2]) - np.maximum(lb[:, 0], rb[:, 0])
    height = np.minimum(lb[:, 3], rb[:, 3]) - np.maximum(lb[:, 1], rb[:, 1])
    return (width > 0) & (height > 0)


# covering() prepares the caller's geometries for the length of a call and unprepares them after; two
# threads doing so on a shared geometry would free GEOS memory the other is reading, so calls take turns.
_PREPARING = threading.Lock()


def prepared_copies(geoms) -> np.ndarray:
    """Prepared copies of ``geoms``: new objects with the same coordinates, the caller's left as they are.

    Preparing a geometry changes the object itself. Geometries shared between threads (the villages
    every layer is placed in) or kept in a layer are copied before they are prepared; a WKB round trip
    keeps every double (and Z), so predicates answer as for the originals.

    Examples
    --------
    >>> g = np.array([shapely.box(0, 0, 1, 1)])
    >>> shapely.is_prepared(prepared_copies(g)).tolist(), shapely.is_prepared(g).tolist()
    ([True], [False])
    """
    out = shapely.from_wkb(shapely.to_wkb(np.asarray(geoms, dtype=object), output_dimension=3))
    shapely.prepare(out)
    return out


def covering(left, right, li, ri) -> tuple[np.ndarray, np.ndarray]:
    """Per pair ``(left[li], right[ri])``: whether the left one covers the right one, and (otherwise) whether the
    right one covers the left one.

    Prepared ``covers`` tests: the geometries used are prepared for them and unprepared again unless they were
    prepared before. Calls take turns (a lock), so two threads never prepare and free the same geometry;
    other threads must not run predicates on these same objects meanwhile — pass :func:`prepared_copies`
    of a layer that threads share (``layers.district.assign_villages`` does, for the villages).

    Examples
    --------
    >>> parcel, house = shapely.box(0, 0, 10, 10), shapely.box(2, 2, 5, 5)
    >>> l_covers, r_covers = covering([parcel, house], [house, parcel], np.array([0, 1, 0]), np.array([0, 1, 1]))
    >>> l_covers.tolist(), r_covers.tolist()
    ([True, False, True], [False, True, False])
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    li = np.asarray(li, dtype=np.intp)
    ri = np.asarray(ri, dtype=np.intp)
    a, b = left[li], right[ri]
    with _PREPARING:
        fresh = [g[~shapely.is_prepared(g) & ~shapely.is_missing(g)] for g in (left[np.unique(li)], right[np.unique(ri)])]
        for g in fresh:
            shapely.prepare(g)
        try:
            b_in_a = shapely.covers(a, b)
            a_in_b = ~b_in_a & shapely.covers(b, a)
        finally:
            for g in fresh:
                shapely.destroy_prepared(g)
    return b_in_a, a_in_b


def covered_intersection(left, right, li, ri) -> np.ndarray:
    """``shapely.intersection(left[li], right[ri])``, without an overlay where one side covers the other.

    A building inside its parcel, a survey patch unchanged between two surveys: when one geometry of a
    pair covers the other, their intersection *is* the covered one (the same points), so it is returned
    as it is; a prepared ``covers`` test (:func:`covering`) costs a fraction of the overlay it saves.

    Examples
    --------
    >>> parcel, house = shapely.box(0, 0, 10, 10), shapely.box(2, 2, 5, 5)
    >>> g = covered_intersection([parcel, house], [house, shapely.box(8, 8, 12, 12)], np.array([0, 0]), np.array([0, 1]))
    >>> g[0] is house, g[1].area
    (True, 4.0)
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    li = np.asarray(li, dtype=np.intp)
    ri = np.asarray(ri, dtype=np.intp)
    out = np.empty(len(li), dtype=object)
    if len(li) == 0:
        return out
    a, b = left[li], right[ri]
    b_in_a, a_in_b = covering(left, right, li, ri)
    out[b_in_a] = b[b_in_a]
    out[a_in_b] = a[a_in_b]
    rest = ~(b_in_a | a_in_b)
    out[rest] = shapely.intersection(a[rest], b[rest])
    return out


def pairwise_intersection(left, right, predicate: str = "intersects", *, min_area: float = 0.0):
    """Intersections of every intersecting pair of ``left`` and ``right``.

    Returns
    -------
    li, ri : numpy.ndarray of int
        Pair indices (pairs whose intersection has area < ``min_area`` or no area are dropped).
    geoms : numpy.ndarray of geometries
        The polygonal intersection of each pair.

    Examples
    --------
    >>> li, ri, g = pairwise_intersection([shapely.box(0, 0, 2, 2)], [shapely.box(1, 1, 3, 3)])
    >>> g[0].area
    1.0
    """
    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    li, ri = candidate_pairs(left, right, predicate)
    can = area_pairs(left, right, li, ri)          # pairs that only touch have no area: no overlay for them
    li, ri = li[can], ri[can]
    geoms = covered_intersection(left, right, li, ri)
    area = shapely.area(geoms)
    keep = area > 0 if min_area <= 0 else area >= min_area
    return li[keep], ri[keep], geoms[keep]


def prepare_cover(geoms, max_vertices: int = 256) -> np.ndarray:
    """A coverage layer made ready for overlay: subdivided into small pieces.

    Union semantics are kept: overlay a subject with the returned pieces and union the results per subject
    (see :func:`intersection_by_left`).

    Examples
    --------
    >>> len(prepare_cover([shapely.Point(0, 0).buffer(10, quad_segs=500)], 128)) > 1
    True
    """
    pieces, _ = subdivide(geoms, max_vertices=max_vertices)
    return pieces


def intersection_by_left(left, cover, *, min_area: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The part of each ``left`` geometry that lies inside the union of ``cover``.

    ``cover`` may overlap itself (e.g. farmland patches and PBF blocks); overlapping parts count once.

    Returns
    -------
    index : numpy.ndarray of int
        Rows of ``left`` whose covered part has area ≥ ``min_area`` (and > 0).
    geoms : numpy.ndarray of geometries
        That covered part of each of those rows.

    Examples
    --------
    >>> cover = [shapely.box(0, 0, 5, 10), shapely.box(3, 0, 10, 10)]   # overlapping
    >>> idx, g = intersection_by_left([shapely.box(2, 2, 8, 4)], cover)
    >>> idx.tolist(), g[0].area
    ([0], 12.0)
    """
    left = np.asarray(left, dtype=object)
    li, ri, parts = pairwise_intersection(left, cover)
    if len(li) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    counts = np.bincount(li, minlength=len(left))
    out = union_groups(li, parts, len(left))
    index = np.flatnonzero(counts > 0)
    geoms = out[index]
    area = shapely.area(geoms)
    keep = (area > 0) & (area >= min_area)
    return index[keep], geoms[keep]
