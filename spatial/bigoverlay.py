"""Overlay with huge polygons on either side, grouped unions and connected components.

A permanent-basic-farmland block or an eco red line can have hundreds of thousands of vertices; every
intersection with it costs as much as its vertex count. :func:`subdivided_intersection` cuts such
polygons into pieces of bounded vertex count (:func:`spatial.subdivide.subdivide`) on *both* sides,
intersects the pieces pairwise and re-assembles the result per original feature.
"""

from __future__ import annotations

import numpy as np
import shapely

from .overlay import intersection_by_left, union_groups
from .subdivide import subdivide

__all__ = ["union_by", "subdivided_intersection", "components"]


def union_by(keys, geoms) -> tuple[np.ndarray, np.ndarray]:
    """Union of ``geoms`` per key.

    Parameters
    ----------
    keys : array-like
        One key per geometry (ints or strings).
    geoms : array-like of geometries

    Returns
    -------
    unique_keys : numpy.ndarray
        Sorted distinct keys.
    unions : numpy.ndarray of geometries
        The union of each key's geometries (the geometry itself when a key has one).

    Examples
    --------
    >>> k, g = union_by([1, 0, 1], [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(1, 0, 2, 1)])
    >>> k.tolist(), [round(x.area, 6) for x in g]
    ([0, 1], [1.0, 2.0])
    """
    keys = np.asarray(keys)
    geoms = np.asarray(geoms, dtype=object)
    if len(keys) == 0:
        return keys, np.empty(0, dtype=object)
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, union_groups(inverse.ravel(), geoms, len(uniq))


def subdivided_intersection(left, cover, *, max_vertices: int = 256,
                            min_area: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The part of each ``left`` geometry inside the union of ``cover``, with huge polygons subdivided.

    Left geometries with more than ``max_vertices`` vertices are cut into pieces, so are cover
    geometries; pieces are intersected pairwise (one bulk STRtree query) and the parts are re-assembled
    per original left feature. The areas equal those of a plain overlay up to floating-point noise.

    Parameters
    ----------
    left : array-like of polygonal geometries
    cover : array-like of polygonal geometries
        May overlap itself; overlapping parts count once.
    max_vertices : int
        Largest vertex count of a piece.
    min_area : float
        Drop results smaller than this (m²).

    Returns
    -------
    index : numpy.ndarray of int
        Rows of ``left`` with a covered part of area > 0 and ≥ ``min_area``.
    geoms : numpy.ndarray of geometries
        That part of each of those rows.

    Examples
    --------
    >>> ring = shapely.Point(0, 0).buffer(100, quad_segs=5000)          # 20,001 vertices
    >>> idx, parts = subdivided_intersection([ring], [shapely.box(0, -200, 200, 200)])
    >>> idx.tolist(), round(parts[0].area / (ring.area / 2), 6)
    ([0], 1.0)
    """
    left = np.asarray(left, dtype=object)
    cover = np.asarray(cover, dtype=object)
    if len(left) == 0 or len(cover) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    if (shapely.get_num_coordinates(cover) > max_vertices).any():
        cover, _ = subdivide(cover, max_vertices=max_vertices)
    big = shapely.get_num_coordinates(left) > max_vertices
    if not big.any():
        return intersection_by_left(left, cover, min_area=min_area)
    pieces, source = subdivide(left[big], max_vertices=max_vertices)
    work = np.concatenate([left[~big], pieces])
    owner = np.concatenate([np.flatnonzero(~big), np.flatnonzero(big)[source]])
    idx, parts = intersection_by_left(work, cover)
    if len(idx) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    index, geoms = union_by(owner[idx], parts)
    area = shapely.area(geoms)
    keep = (area > 0) & (area >= min_area)
    return index[keep].astype(np.intp), geoms[keep]


def components(n: int, li, ri) -> np.ndarray:
    """Connected components of an undirected graph given as edge arrays (vectorised label propagation).

    Parameters
    ----------
    n : int
        Number of nodes.
    li, ri : array-like of int
        Edges (e.g. the pairs of a bulk STRtree self-query).

    Returns
    -------
    numpy.ndarray of int
        Per node, the smallest node index of its component.

    Examples
    --------
    >>> components(5, [0, 1, 3], [1, 2, 3]).tolist()
    [0, 0, 0, 3, 4]
    """
    labels = np.arange(n)
    li = np.asarray(li, dtype=np.intp)
    ri = np.asarray(ri, dtype=np.intp)
    if len(li) == 0:
        return labels
    while True:
        old = labels.copy()
        low = np.minimum(labels[li], labels[ri])
        np.minimum.at(labels, li, low)
        np.minimum.at(labels, ri, low)
        # pointer jumping: follow labels to their own label until stable
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, old):
            return labels
