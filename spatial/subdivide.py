"""Subdivision of huge polygons into pieces of bounded vertex count (like PostGIS ``ST_Subdivide``).

One eco red line of 200,000 vertices makes every intersection with it slow; its pieces of a few hundred
vertices each are fast, and an STRtree over them is selective. Results are re-assembled per original id.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["subdivide"]


def subdivide(geoms, max_vertices: int = 256, *, max_depth: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Split every geometry with more than ``max_vertices`` vertices into pieces by halving its box.

    Works level by level on whole arrays: each level cuts every still-too-large piece in two along
    the longer side of its bounding box (vectorised intersection with the two half boxes).

    Parameters
    ----------
    geoms : array-like of shapely geometries (polygonal)
    max_vertices : int
        Largest vertex count of a piece (pieces that cannot be cut further may exceed it at ``max_depth``).

    Returns
    -------
    pieces : numpy.ndarray of geometries
    source : numpy.ndarray of int
        Index into ``geoms`` of each piece's original.

    Examples
    --------
    >>> circle = shapely.Point(0, 0).buffer(100, quad_segs=2000)   # 8,001 vertices
    >>> pieces, source = subdivide([circle], max_vertices=256)
    >>> bool(shapely.get_num_coordinates(pieces).max() <= 256), round(float(shapely.area(pieces).sum() / circle.area), 9)
    (True, 1.0)
    """
    geoms = np.asarray(geoms, dtype=object)
    source = np.arange(len(geoms))
    ok = ~shapely.is_missing(geoms)
    geoms, source = geoms[ok], source[ok]
    done_g, done_s = [], []
    for _ in range(max_depth):
        big = shapely.get_num_coordinates(geoms) > max_vertices
        done_g.append(geoms[~big])
        done_s.append(source[~big])
        if not big.any():
            geoms, source = geoms[:0], source[:0]
            break
        geoms, source = geoms[big], source[big]
        x0, y0, x1, y1 = shapely.bounds(geoms).T
        wide = (x1 - x0) >= (y1 - y0)
        xm, ym = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        a = shapely.intersection(geoms, shapely.box(x0, y0, np.where(wide, xm, x1), np.where(wide, y1, ym)))
        b = shapely.intersection(geoms, shapely.box(np.where(wide, xm, x0), np.where(wide, y0, ym), x1, y1))
        geoms = np.concatenate([a, b])
        source = np.concatenate([source, source])
        keep = ~shapely.is_empty(geoms)
        geoms, source = geoms[keep], source[keep]
        # an intersection may return collections of polygons and slivers of lines; keep polygonal parts
        parts, idx = shapely.get_parts(geoms, return_index=True)
        poly = np.isin(shapely.get_type_id(parts), (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON))
        geoms, source = parts[poly], source[idx[poly]]
    done_g.append(geoms)
    done_s.append(source)
    return np.concatenate(done_g), np.concatenate(done_s)
