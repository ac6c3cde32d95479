"""Side-by-side setback measurement: a footprint's four sides and each side's clearance to the boundary it faces.

A footprint's sides are the sides of its minimum rotated rectangle (:func:`shapely.oriented_envelope`).
The long sides are eaves, the short sides gables; of the eaves the one facing away from a *front*
direction (e.g. towards the nearest road) is the rear eave, and without a front direction the northern
one. Footprints far from rectangular (filled area / rectangle area below ``min_fill``, e.g. L-shaped
houses) are not classified: their sides are ``"side"``.

A side's clearance is measured *side by side*, not to the nearest point anywhere: only the parts of the
surrounding boundary that lie in the strip in front of the side (between the perpendiculars through its
ends) and run roughly parallel to it (within ``max_angle``) count. The clearance is the distance from
the footprint to those parts; it is negative when the boundary passes behind the side line through the
footprint (the building reaches beyond the boundary by that much).

Everything is computed on arrays: four sides per footprint, every boundary segment near a footprint
paired with that footprint's sides, the strip clipping done with Liang–Barsky on numpy arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = ["COMPASS", "SIDE_KINDS", "compass", "footprint_sides", "facing_boundary", "side_clearance", "side_band"]

#: Compass sectors of 45°, clockwise from north, by the Chinese name used in messages.
COMPASS: tuple[str, ...] = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")

#: Side kinds and their Chinese names: rear eave, front eave, gable, unclassified side.
SIDE_KINDS: dict[str, str] = {"rear": "后檐", "front": "前檐", "gable": "山墙", "side": "侧墙"}

_SIDE_COLUMNS = ["building", "side", "x0", "y0", "x1", "y1", "nx", "ny", "length", "depth", "fill",
                 "classified", "kind", "rear_basis", "direction"]


def compass(nx, ny) -> np.ndarray:
    """Compass name (北, 东北, 东 …) of each direction vector, in 45° sectors.

    Parameters
    ----------
    nx, ny : array-like of float
        Direction components (east, north); need not be unit length.

    Examples
    --------
    >>> compass([0, 1, 1, -1], [1, 0, -1, 0.1]).tolist()
    ['北', '东', '东南', '西']
    """
    return np.asarray(COMPASS, dtype=object)[_sector(nx, ny)]


def _sector(nx, ny) -> np.ndarray:
    """Index into :data:`COMPASS` of each direction."""
    bearing = np.degrees(np.arctan2(np.asarray(nx, dtype=float), np.asarray(ny, dtype=float)))
    return np.round(np.mod(bearing, 360.0) / 45.0).astype(np.int8) % 8


def _labels(codes: np.ndarray, names) -> pd.Categorical:
    """Text column from codes into ``names`` (a categorical: no string per row to build)."""
    return pd.Categorical.from_codes(codes, categories=list(names))


def _shifted(geoms: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Copies of the geometries, each moved by its own ``offset`` row (dx, dy)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    return shapely.set_coordinates(np.array(geoms, dtype=object, copy=True), coords + offset[index])


def _filled_area(geoms: np.ndarray) -> np.ndarray:
    """Area of each (multi)polygon with its holes filled."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    filled = shapely.area(parts)
    holed = np.flatnonzero(shapely.get_num_interior_rings(parts) > 0)      # only these change
    filled[holed] = shapely.area(shapely.polygons(shapely.get_exterior_ring(parts[holed])))
    return np.bincount(index, weights=filled, minlength=len(geoms))


def footprint_sides(geoms, front=None, *, min_fill: float = 0.8, square_tolerance: float = 0.02) -> pd.DataFrame:
    """The four sides of each footprint's minimum rotated rectangle, classified.

    Parameters
    ----------
    geoms : array-like of (multi)polygons
        Footprints in a metric CRS.
    front : array-like of shape (n, 2), optional
        Per footprint, a direction towards its front (e.g. towards the nearest road); rows of NaN, or
        ``None`` for all, mean "unknown": the rear eave is then the northern eave. A front direction
        that points along the gables (more than 60° from the eaves' normals) is not trusted either.
    min_fill : float
        Footprints whose filled area is less than this share of their rectangle are not classified
        (every side gets kind ``"side"``).
    square_tolerance : float
        Sides whose lengths differ by less than this share are "equally long"; the eaves are then the
        pair facing the front direction (or north/south).

    Returns
    -------
    DataFrame
        Four rows per footprint with a usable rectangle, columns ``building`` (position in ``geoms``),
        ``side`` (0–3), ``x0, y0, x1, y1`` (the side's ends), ``nx, ny`` (outward unit normal),
        ``length``, ``depth`` (the rectangle's extent behind the side), ``fill``, ``classified``,
        ``kind`` (``rear``/``front``/``gable``/``side``), ``rear_basis`` (``front`` when the rear was
        found from the front direction, ``north`` otherwise) and ``direction`` (compass name of the normal);
        these three are categoricals.

    Examples
    --------
    >>> s = footprint_sides([shapely.box(0, 0, 10, 6)])
    >>> sorted(zip(s["direction"], s["kind"]))
    [('东', 'gable'), ('北', 'rear'), ('南', 'front'), ('西', 'gable')]
    >>> footprint_sides([shapely.box(0, 0, 10, 6)], front=[[0.0, 1.0]]).set_index("direction").loc["南", "kind"]
    'rear'
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return pd.DataFrame({c: [] for c in _SIDE_COLUMNS})
    # GEOS finds the minimum rectangle to ~1e-5 m only at projected coordinates of millions of metres:
    # work on copies moved next to the origin and move the rectangles back
    origin = np.nan_to_num(shapely.bounds(geoms)[:, :2])
    local = _shifted(geoms, -origin)
    env = shapely.oriented_envelope(local)
    ok = ((shapely.get_type_id(env) == shapely.GeometryType.POLYGON) & (shapely.get_num_coordinates(env) == 5)
          & (shapely.area(env) > 0))
    idx = np.flatnonzero(ok)
    m = len(idx)
    if m == 0:
        return pd.DataFrame({c: [] for c in _SIDE_COLUMNS})
    ring = shapely.get_coordinates(shapely.get_exterior_ring(env[idx])).reshape(m, 5, 2) + origin[idx, None, :]
    a, b = ring[:, :4], ring[:, 1:]
    centre = ring[:, :4].mean(axis=1, keepdims=True)
    d = b - a
    length = np.hypot(d[..., 0], d[..., 1])
    t = d / length[..., None]
    normal = np.stack([t[..., 1], -t[..., 0]], axis=-1)
    flip = np.einsum("ijk,ijk->ij", normal, (a + b) / 2 - centre) < 0
    normal[flip] *= -1
    depth = np.roll(length, -1, axis=1)
    fill = _filled_area(local[idx]) / shapely.area(env[idx])
    classified = fill >= min_fill

    south = np.array([0.0, -1.0])
    f = np.tile(south, (m, 1))
    given = np.zeros(m, dtype=bool)
    if front is not None:
        fr = np.asarray(front, dtype=float).reshape(n, 2)[idx]
        norm = np.hypot(fr[:, 0], fr[:, 1])
        given = np.isfinite(norm) & (norm > 0)
        f[given] = fr[given] / norm[given, None]

    def eave_axis(direction):
        align = np.abs(np.einsum("ijk,ik->ij", normal[:, :2], direction))   # sides 0 and 1
        square = np.abs(length[:, 0] - length[:, 1]) <= square_tolerance * length[:, :2].max(axis=1)
        return np.where(square, np.where(align[:, 0] >= align[:, 1], 0, 1), np.where(length[:, 0] >= length[:, 1], 0, 1))

    axis = eave_axis(f)
    rows = np.arange(m)
    eave_normal = normal[rows, axis]
    # a front direction along the gables says nothing about which eave is the rear: use north instead
    weak = given & (np.abs(np.einsum("ik,ik->i", eave_normal, f)) < 0.5)
    f[weak] = south
    given &= ~weak
    axis = np.where(weak, eave_axis(f), axis)
    eave_normal = normal[rows, axis]
    # the rear eave is the one facing away from the front; ties go to the side with the lower index
    first_is_rear = np.einsum("ik,ik->i", eave_normal, f) <= 0
    rear = np.where(first_is_rear, axis, axis + 2)
    kinds = list(SIDE_KINDS)
    kind = np.full((m, 4), kinds.index("gable"), dtype=np.int8)
    kind[rows, axis] = kinds.index("front")
    kind[rows, axis + 2] = kinds.index("front")
    kind[rows, rear] = kinds.index("rear")
    kind[~classified] = kinds.index("side")

    out = pd.DataFrame({
        "building": np.repeat(idx, 4),
        "side": np.tile(np.arange(4), m),
        "x0": a[..., 0].ravel(), "y0": a[..., 1].ravel(), "x1": b[..., 0].ravel(), "y1": b[..., 1].ravel(),
        "nx": normal[..., 0].ravel(), "ny": normal[..., 1].ravel(),
        "length": length.ravel(), "depth": depth.ravel(),
        "fill": np.repeat(fill, 4), "classified": np.repeat(classified, 4),
        "kind": _labels(kind.ravel(), kinds),
        "rear_basis": _labels(np.repeat(np.where(given, 0, 1).astype(np.int8), 4), ("front", "north")),
        "direction": _labels(_sector(normal[..., 0].ravel(), normal[..., 1].ravel()), COMPASS),
    })
    return out


def _segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every straight segment of each linear geometry: owner index, start (k, 2), end (k, 2)."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    linear = np.isin(shapely.get_type_id(parts), (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING))
    parts, owner = parts[linear], owner[linear]
    coords, part = shapely.get_coordinates(parts, return_index=True)
    same = part[1:] == part[:-1]
    return owner[part[:-1][same]], coords[:-1][same], coords[1:][same]


def _clip_to_boxes(owner: np.ndarray, p: np.ndarray, q: np.ndarray, boxes: np.ndarray):
    """The part of each segment ``p → q`` inside its owner's box ``(xmin, ymin, xmax, ymax)`` (Liang–Barsky,
    vectorised): segments outside their box, or meeting it in a point only, are dropped.

    Examples
    --------
    >>> o, a, b = _clip_to_boxes(np.array([0, 0]), np.array([[-5.0, 1.0], [-5.0, 9.0]]),
    ...                          np.array([[5.0, 1.0], [5.0, 9.0]]), np.array([[0.0, 0.0, 2.0, 2.0]]))
    >>> o.tolist(), a.tolist(), b.tolist()
    ([0], [[0.0, 1.0]], [[2.0, 1.0]])
    """
    box = boxes[owner]
    d = q - p
    pk = np.stack([-d[:, 0], d[:, 0], -d[:, 1], d[:, 1]], axis=1)
    qk = np.stack([p[:, 0] - box[:, 0], box[:, 2] - p[:, 0], p[:, 1] - box[:, 1], box[:, 3] - p[:, 1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = qk / pk
        s0 = np.max(np.where(pk < 0, ratio, 0.0), axis=1)
        s1 = np.min(np.where(pk > 0, ratio, 1.0), axis=1)
    outside = np.any((pk == 0) & (qk < 0), axis=1)
    keep = ~outside & (s0 < s1)
    s0, s1, p, q, d = s0[keep], s1[keep], p[keep], q[keep], d[keep]
    start = np.where((s0 > 0)[:, None], p + s0[:, None] * d, p)       # unclipped ends stay exact
    end = np.where((s1 < 1)[:, None], p + s1[:, None] * d, q)
    return owner[keep], start, end


def facing_boundary(sides: pd.DataFrame, footprints, areas, *, reach, behind=None, max_angle: float = 45.0,
                    lateral_tolerance: float = 1e-3) -> pd.DataFrame:
    """The parts of each footprint's surrounding boundary that each of its sides faces, with their clearance.

    Parameters
    ----------
    sides : DataFrame
        From :func:`footprint_sides` (its ``building`` column indexes ``footprints`` and ``areas``).
    footprints : array-like of polygons
        The footprints the sides were taken from.
    areas : array-like of polygons or None
        Per footprint, the polygon whose boundary is measured (its own parcel); None: not measured.
    reach : float or array-like
        How far in front of each side to look (m); scalar or one value per row of ``sides``.
    behind : float or array-like, optional
        How far behind the side line to look for a boundary crossing the footprint (m); default half
        the rectangle's depth, so that a crossing boundary belongs to the side it is nearer to.
    max_angle : float
        Boundary segments turned more than this (degrees) from the side do not face it.
    lateral_tolerance : float
        The strip is narrowed by this much at both ends so that boundaries meeting the side's corners
        do not count.

    Returns
    -------
    DataFrame
        One row per (side, facing boundary piece): ``side`` (row position in ``sides``), ``clearance``
        (distance from the footprint to the piece, or the negative depth of the piece behind the side
        line when the piece touches the footprint) and ``piece`` (the clipped LineString).

    Examples
    --------
    >>> fp = [shapely.box(1, 1, 9, 5)]
    >>> s = footprint_sides(fp)
    >>> f = facing_boundary(s, fp, [shapely.box(0, 0, 10, 5.3)], reach=2.0)
    >>> sorted(zip(s["direction"].to_numpy()[f["side"]], f["clearance"].round(3)))
    [('东', 1.0), ('北', 0.3), ('南', 1.0), ('西', 1.0)]
    """
    footprints = np.asarray(footprints, dtype=object)
    areas = np.asarray(areas, dtype=object)
    empty = pd.DataFrame({"side": np.empty(0, dtype=np.intp), "clearance": np.empty(0),
                          "piece": np.empty(0, dtype=object)})
    k = len(sides)
    if k == 0:
        return empty
    reach = np.broadcast_to(np.asarray(reach, dtype=float), (k,)).copy()
    depth = sides["depth"].to_numpy(dtype=float)
    behind = depth / 2 if behind is None else np.broadcast_to(np.asarray(behind, dtype=float), (k,)).copy()
    building = sides["building"].to_numpy()
    # group the sides by footprint (rows of one footprint need not be consecutive)
    order = np.argsort(building, kind="stable")
    ub, first, counts = np.unique(building[order], return_index=True, return_counts=True)
    # one window per footprint: its bounds grown by the largest reach of its sides
    grow = pd.Series(np.maximum(reach, behind)).groupby(building).max().reindex(ub).to_numpy()
    has_area = ~shapely.is_missing(areas[ub])
    ub, first, counts, grow = ub[has_area], first[has_area], counts[has_area], grow[has_area]
    if len(ub) == 0:
        return empty
    bounds = shapely.bounds(footprints[ub])
    window = np.stack([bounds[:, 0] - grow, bounds[:, 1] - grow, bounds[:, 2] + grow, bounds[:, 3] + grow], axis=1)
    owner, p, q = _clip_to_boxes(*_segments(shapely.boundary(areas[ub])), window)
    if len(owner) == 0:
        return empty
    # pair every segment with every side of its footprint
    rep = counts[owner]
    within = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
    side_row = order[np.repeat(first[owner], rep) + within]
    seg = np.repeat(np.arange(len(owner)), rep)
    xy = sides[["x0", "y0", "x1", "y1", "nx", "ny", "length"]].to_numpy(dtype=float)
    # the side's frame: u along it (from its first to its second end), v out along its normal
    tx, ty = -xy[:, 5], xy[:, 4]
    flip = np.sign(tx * (xy[:, 2] - xy[:, 0]) + ty * (xy[:, 3] - xy[:, 1]))
    tx, ty = tx * flip, ty * flip
    ax, ay, nx, ny = xy[side_row, 0], xy[side_row, 1], xy[side_row, 4], xy[side_row, 5]
    tx, ty = tx[side_row], ty[side_row]
    px, py = p[seg, 0] - ax, p[seg, 1] - ay
    qx, qy = q[seg, 0] - ax, q[seg, 1] - ay
    up, vp = px * tx + py * ty, px * nx + py * ny
    du, dv = (qx * tx + qy * ty) - up, (qx * nx + qy * ny) - vp
    seg_len = np.hypot(du, dv)
    # only segments turned at most max_angle from the side face it: the rest is never clipped
    fa = np.flatnonzero((seg_len > 0) & (np.abs(du) >= np.cos(np.radians(max_angle)) * seg_len))
    if len(fa) == 0:
        return empty
    side_row, seg, up, vp, du, dv = side_row[fa], seg[fa], up[fa], vp[fa], du[fa], dv[fa]
    length = xy[side_row, 6]
    # Liang–Barsky against u in [tol, L - tol], v in [-behind, reach]
    s0, s1 = np.zeros(len(fa)), np.ones(len(fa))
    out = np.zeros(len(fa), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for pk, qk in ((-du, up - lateral_tolerance), (du, length - lateral_tolerance - up),
                       (-dv, vp + behind[side_row]), (dv, reach[side_row] - vp)):
            ratio = qk / pk
            s0 = np.where(pk < 0, np.maximum(s0, ratio), s0)
            s1 = np.where(pk > 0, np.minimum(s1, ratio), s1)
            out |= (pk == 0) & (qk < 0)
    keep = ~out & (s0 <= s1)
    if not keep.any():
        return empty
    s0, s1, side_row, seg = s0[keep], s1[keep], side_row[keep], seg[keep]
    p0, d = p[seg], (q - p)[seg]
    start, end = p0 + s0[:, None] * d, p0 + s1[:, None] * d
    vmin = np.minimum(vp[keep] + s0 * dv[keep], vp[keep] + s1 * dv[keep])
    pieces = shapely.linestrings(np.stack([start, end], axis=1))
    rows = side_row
    gap = shapely.distance(footprints[building[rows]], pieces)
    clearance = np.where(gap > 1e-9, gap, np.minimum(vmin, 0.0))
    return pd.DataFrame({"side": rows, "clearance": clearance, "piece": pieces})


def side_clearance(sides: pd.DataFrame, facing: pd.DataFrame) -> np.ndarray:
    """Each side's shortest clearance (``inf`` when no boundary faces it within reach).

    Parameters
    ----------
    sides : DataFrame
        From :func:`footprint_sides`.
    facing : DataFrame
        From :func:`facing_boundary` (possibly filtered, e.g. without shared boundaries).

    Examples
    --------
    >>> fp = [shapely.box(1, 1, 9, 5)]
    >>> s = footprint_sides(fp)
    >>> c = side_clearance(s, facing_boundary(s, fp, [shapely.box(0, 0, 10, 5.3)], reach=0.5))
    >>> dict(zip(s["direction"], c.round(3).tolist()))
    {'西': inf, '北': 0.3, '东': inf, '南': inf}
    """
    out = np.full(len(sides), np.inf)
    if len(facing):
        np.minimum.at(out, facing["side"].to_numpy(), facing["clearance"].to_numpy(dtype=float))
    return out


def side_band(sides: pd.DataFrame, outer, inner=0.0) -> np.ndarray:
    """The band in front of each side between offsets ``inner`` and ``outer`` (m), as polygons.

    With ``inner=0`` and ``outer`` the required distance this is the strip between the side and its
    required line; a negative ``inner`` extends it behind the side line.

    Examples
    --------
    >>> s = footprint_sides([shapely.box(0, 0, 10, 6)])
    >>> band = side_band(s, 0.4)
    >>> round(float(band[s["direction"].to_numpy() == "北"][0].area), 3)
    4.0
    """
    k = len(sides)
    outer = np.broadcast_to(np.asarray(outer, dtype=float), (k,))
    inner = np.broadcast_to(np.asarray(inner, dtype=float), (k,))
    a = sides[["x0", "y0"]].to_numpy(dtype=float)
    b = sides[["x1", "y1"]].to_numpy(dtype=float)
    n = sides[["nx", "ny"]].to_numpy(dtype=float)
    ring = np.stack([a + inner[:, None] * n, b + inner[:, None] * n, b + outer[:, None] * n,
                     a + outer[:, None] * n, a + inner[:, None] * n], axis=1)
    return shapely.polygons(ring)
