"""Geometry repair: make valid, keep the parts a role can hold, drop Z and empties, and count it all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["RepairCounts", "repair_geometries", "polygonal_part"]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)


@dataclass
class RepairCounts:
    """What :func:`repair_geometries` did to one layer."""

    z_dropped: int = 0
    repaired: int = 0
    dropped_empty: int = 0
    dropped_wrong_type: int = 0

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


def repair_geometries(geoms, kind: str = "polygon") -> tuple[np.ndarray, np.ndarray, RepairCounts]:
    """Repair a layer's geometries.

    Z (and M) are dropped, invalid geometries are made valid, parts the role cannot hold are dropped
    (for ``kind="polygon"`` the polygonal parts are kept), empty and null geometries are dropped.

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
    geoms = np.asarray(geoms, dtype=object)
    counts = RepairCounts()
    missing = shapely.is_missing(geoms)
    has_z = np.zeros(len(geoms), dtype=bool)
    has_z[~missing] = shapely.has_z(geoms[~missing])
    counts.z_dropped = int(has_z.sum())
    if has_z.any():
        geoms = geoms.copy()
        geoms[has_z] = shapely.force_2d(geoms[has_z])
    valid = np.ones(len(geoms), dtype=bool)
    valid[~missing] = shapely.is_valid(geoms[~missing])
    invalid = ~valid & ~missing
    counts.repaired = int(invalid.sum())
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    types = np.full(len(geoms), -1)
    types[~missing] = shapely.get_type_id(geoms[~missing])
    allowed = _POLYGONAL + (_LINEAR if kind == "polygon_or_line" else ())
    wrong = ~missing & ~np.isin(types, allowed)
    if wrong.any():
        geoms = geoms.copy()
        fixed = polygonal_part(geoms[wrong])
        geoms[wrong] = fixed
        counts.dropped_wrong_type = int(shapely.is_missing(fixed).sum())
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    counts.dropped_empty = int(empty.sum()) - counts.dropped_wrong_type
    keep = ~empty
    return geoms[keep], keep, counts
