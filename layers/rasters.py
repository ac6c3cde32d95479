"""Raster sampling: building heights from the nDSM (normalised surface model, metres above ground).

The nDSM is read in windows with rasterio, one window per group of nearby buildings (per village and
per tile of at most ``tile_px`` x ``tile_px`` pixels), never whole into memory. Inside a window all
footprints are burnt into one label image with :func:`rasterio.features.rasterize`, and the percentile
of every footprint is taken at once by sorting the pixels by (label, value)
(:func:`percentile_by_label`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from spatial.errors import RasterError

__all__ = ["read_windows", "sample_ndsm", "percentile_by_label"]

#: Largest side of one read window, in pixels (2048² float32 pixels are 16 MB).
_TILE_PX = 2048


def _sortable(values: np.ndarray) -> np.ndarray:
    """float32 values as uint64 integers of the same order (IEEE 754 bit trick)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    negative = (bits & 0x80000000) != 0
    return np.where(negative, ~bits & 0xFFFFFFFF, bits | 0x80000000)


def _unsortable(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_sortable` (the low 32 bits of ``keys``), as float64."""
    low = keys & 0xFFFFFFFF
    negative = (low & 0x80000000) == 0
    bits = np.where(negative, ~low & 0xFFFFFFFF, low & 0x7FFFFFFF).astype(np.uint32)
    return bits.view(np.float32).astype(float)


def percentile_by_label(labels, values, q, n_labels: int) -> np.ndarray:
    """The ``q``-th percentile of ``values`` per label, by one sort (linear interpolation, as numpy's default).

    Values are taken at float32 precision (that of an nDSM): label and value are packed into one
    64-bit key and sorted once, without an argsort.

    Parameters
    ----------
    labels : array-like of int
        Label of each value, in ``0 .. n_labels - 1``.
    values : array-like of float
        Finite values.
    q : float or array-like of float
        Percentile(s) in [0, 100]: one for all labels or one per label.
    n_labels : int
        Number of labels; labels without values get NaN.

    Returns
    -------
    numpy.ndarray of float, shape (n_labels,)

    Examples
    --------
    >>> percentile_by_label([0, 0, 0, 2], [1.0, 3.0, 2.0, 7.0], 50, 3).tolist()
    [2.0, nan, 7.0]
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(n_labels, np.nan)
    if len(labels) == 0:
        return out
    keys = (labels.astype(np.uint64) << np.uint64(32)) | _sortable(np.asarray(values, dtype=float))
    keys.sort()
    v = _unsortable(keys)
    counts = np.bincount(labels, minlength=n_labels)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    qq = np.broadcast_to(np.asarray(q, dtype=float), (n_labels,))[has] / 100.0
    pos = qq * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    frac = pos - lo
    base = starts[has]
    out[has] = v[base + lo] + (v[base + hi] - v[base + lo]) * frac
    return out


def _to_raster_crs(geoms: np.ndarray, crs, raster_crs) -> np.ndarray:
    """Geometries reprojected from ``crs`` to the raster's CRS (unchanged when they are the same)."""
    src, dst = CRS.from_user_input(crs), CRS.from_user_input(raster_crs)
    if src == dst:
        return geoms
    tr = Transformer.from_crs(src, dst, always_xy=True)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def _pixel_boxes(geoms: np.ndarray, transform, width: int, height: int) -> np.ndarray:
    """Each geometry's bounding box in pixel space ``(col0, row0, col1, row1)``, clipped to the raster."""
    b = shapely.bounds(geoms)
    xs = np.stack([b[:, 0], b[:, 2], b[:, 0], b[:, 2]], axis=1)
    ys = np.stack([b[:, 1], b[:, 1], b[:, 3], b[:, 3]], axis=1)
    inv = ~transform
    cols = inv.a * xs + inv.b * ys + inv.c
    rows = inv.d * xs + inv.e * ys + inv.f
    box = np.stack([np.floor(cols.min(axis=1)), np.floor(rows.min(axis=1)),
                    np.ceil(cols.max(axis=1)), np.ceil(rows.max(axis=1))], axis=1)
    box = np.nan_to_num(box, nan=-1.0)
    box[:, [0, 2]] = np.clip(box[:, [0, 2]], 0, width)
    box[:, [1, 3]] = np.clip(box[:, [1, 3]], 0, height)
    return box.astype(np.int64)


def _passes(geoms: np.ndarray) -> np.ndarray:
    """A pass number per geometry so that no two overlapping geometries share a pass (greedy)."""
    npass = np.zeros(len(geoms), dtype=np.int64)
    if len(geoms) < 2:
        return npass
    tree = shapely.STRtree(geoms)
    li, ri = tree.query(geoms, predicate="intersects")
    keep = li < ri
    li, ri = li[keep], ri[keep]
    if len(li) == 0:
        return npass
    area = shapely.area(shapely.intersection(geoms[li], geoms[ri]))
    li, ri = li[area > 0], ri[area > 0]
    if len(li) == 0:
        return npass
    # few pairs (overlapping footprints are rare): a small loop over them only
    neighbours: dict[int, set[int]] = {}
    for a, b in zip(li.tolist(), ri.tolist()):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    for i in sorted(neighbours):
        used = {int(npass[j]) for j in neighbours[i] if j < i}
        k = 0
        while k in used:
            k += 1
        npass[i] = k
    return npass


def _burn(geoms: np.ndarray, labels: np.ndarray, shape, transform, all_touched: bool) -> list[np.ndarray]:
    """Label images (one per pass of non-overlapping geometries); 0 is background, labels start at 1."""
    from rasterio.features import rasterize

    images = []
    npass = _passes(geoms)
    for k in range(int(npass.max()) + 1 if len(npass) else 0):
        sel = npass == k
        images.append(rasterize(zip(geoms[sel], labels[sel].tolist()), out_shape=shape, transform=transform,
                                fill=0, dtype="int32", all_touched=all_touched))
    return images


def read_windows(src, box: np.ndarray, groups=None, *, band: int = 1, tile_px: int | None = None):
    """Read a raster in windows, one per group of footprints: ``(members, values, transform)`` for each.

    Parameters
    ----------
    src : rasterio dataset
        The open raster.
    box : numpy.ndarray
        Each footprint's pixel box ``(col0, row0, col1, row1)`` (:func:`_pixel_boxes`), all inside the raster.
    groups : array-like, optional
        Footprints of one group (e.g. one village) are read together.
    band : int
        The band to read.
    tile_px : int, optional
        Also split each group into tiles of this many pixels, so one window never spans a whole district.

    Yields
    ------
    members : numpy.ndarray of int
        Positions (into ``box``) of the footprints of this window.
    values : numpy.ndarray of float
        The window's values with the band's scale and offset applied, NaN where nodata.
    transform : affine.Affine
        The window's transform.

    Examples
    --------
    >>> # for members, values, wt in read_windows(src, box, village_ids): ...
    """
    from rasterio.windows import Window

    scale = float(src.scales[band - 1] or 1.0) if src.scales else 1.0
    offset = float(src.offsets[band - 1] or 0.0) if src.offsets else 0.0
    n = len(box)
    keys = {"g": (pd.Series(np.asarray(groups, dtype=object)).astype(str).to_numpy()
                  if groups is not None else np.zeros(n, dtype=object))}
    if tile_px:
        keys.update(tx=box[:, 0] // tile_px, ty=box[:, 1] // tile_px)
    for _, members in pd.DataFrame(keys).groupby(list(keys), sort=True).indices.items():
        members = np.asarray(members)
        c0, r0 = box[members, 0].min(), box[members, 1].min()
        c1, r1 = box[members, 2].max(), box[members, 3].max()
        window = Window(int(c0), int(r0), int(c1 - c0), int(r1 - r0))
        values = np.ma.filled(src.read(band, window=window, masked=True).astype(float), np.nan) * scale + offset
        yield members, values, src.window_transform(window)


def sample_ndsm(path: str | os.PathLike, geoms, crs, *, percentile=95.0, shrink_m=0.5, groups=None,
                band: int = 1, tile_px: int = _TILE_PX) -> np.ndarray:
    """A high percentile of the nDSM pixels inside each footprint (its roof height above ground).

    Each footprint is first shrunk by ``shrink_m`` (in ``crs``, metres) so that the blurred wall edges do
    not pull the figure down; a footprint that the shrink makes empty, or that holds no pixel centre,
    is sampled unshrunk with every pixel it touches. Nodata and non-finite pixels are ignored.

    Parameters
    ----------
    path : path-like
        The nDSM GeoTIFF (any CRS; footprints are reprojected to it).
    geoms : array-like of shapely geometries
        Building footprints in ``crs``.
    crs : pyproj.CRS or str
        CRS of ``geoms`` (metric: the shrink is in its units).
    percentile : float or array-like of float
        Percentile in (0, 100], one for all or one per footprint (default 95).
    shrink_m : float or array-like of float
        Inward buffer before sampling (default 0.5 m), one for all or one per footprint.
    groups : array-like, optional
        A group per footprint (e.g. its ``village_id``): one window is read per group and tile.
    band : int
        Band to read (default 1).
    tile_px : int
        Largest window side in pixels.

    Returns
    -------
    numpy.ndarray of float
        Height per footprint; NaN for footprints outside the raster or on nodata only.

    Raises
    ------
    RasterError
        The file cannot be opened, has no CRS or no such band.

    Examples
    --------
    >>> import rasterio, tempfile
    >>> from rasterio.transform import from_origin
    >>> p = Path(tempfile.mkdtemp()) / "ndsm.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=20, height=20, count=1, dtype="float32",
    ...                    crs="EPSG:4548", transform=from_origin(508000, 4443020, 1, 1)) as dst:
    ...     dst.write(np.full((1, 20, 20), 7.5, dtype="float32"))
    >>> sample_ndsm(p, [shapely.box(508002, 4443002, 508010, 4443010), shapely.box(0, 0, 1, 1)],
    ...             "EPSG:4548").tolist()
    [7.5, nan]
    """
    import rasterio

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    q = np.broadcast_to(np.asarray(percentile, dtype=float), (n,)).copy()
    shrink = np.broadcast_to(np.asarray(shrink_m, dtype=float), (n,))
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    shrunk = np.full(n, None, dtype=object)
    shrunk[valid] = shapely.buffer(geoms[valid], -shrink[valid], join_style="mitre")
    small = valid & (shapely.is_empty(shrunk) | shapely.is_missing(shrunk))
    shrunk[small] = geoms[small]
    try:
        src = rasterio.open(Path(path))
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: cannot open the nDSM raster ({exc}); give a GeoTIFF in [rasters] ndsm") from None
    with src:
        if src.crs is None:
            raise RasterError(f"{path}: the nDSM raster has no CRS; georeference it (e.g. EPSG:4548)")
        if not 1 <= band <= src.count:
            raise RasterError(f"{path}: the nDSM raster has {src.count} band(s), not band {band}")
        idx = np.flatnonzero(valid)
        first = _to_raster_crs(shrunk[idx], crs, src.crs)
        full = _to_raster_crs(geoms[idx], crs, src.crs)
        box = _pixel_boxes(full, src.transform, src.width, src.height)
        inside = (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
        idx, first, full, box = idx[inside], first[inside], full[inside], box[inside]
        if len(idx) == 0:
            return out
        group = np.asarray(groups, dtype=object)[idx] if groups is not None else None
        result = np.full(len(idx), np.nan)
        q_idx = q[idx]
        for members, values, wt in read_windows(src, box, group, band=band, tile_px=tile_px):
            local = np.arange(1, len(members) + 1)
            images = _burn(first[members], local, values.shape, wt, all_touched=False)
            burnt = np.zeros(len(members) + 1, dtype=np.int64)
            for img in images:
                burnt += np.bincount(img.ravel(), minlength=len(members) + 1)
            empty = burnt[1:] == 0
            if empty.any():
                images += _burn(full[members[empty]], local[empty], values.shape, wt, all_touched=True)
            finite = np.isfinite(values)
            hits = [(img > 0) & finite for img in images]
            labels = np.concatenate([img[hit] - 1 for img, hit in zip(images, hits)])
            pixels = np.concatenate([values[hit] for hit in hits])
            result[members] = percentile_by_label(labels, pixels, q_idx[members], len(members))
    out[idx] = result
    return out
