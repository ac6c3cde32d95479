"""Family ``setback`` — 相邻权益与退让 (京平政发〔2021〕4号 附件2 二、五).

``SET-OUTSIDE`` (超出宅基地范围)
    The part of a building footprint outside its own parcel (the parcel it overlaps most), at least
    ``min_overlap_m2``; ``measured`` is the strip's largest width (the farthest point of the outside
    part from the parcel).

``SET-DRIP`` (滴水距离不足)
    Each side of a building, from its footprint's minimum rotated rectangle (:mod:`spatial.sides`), is
    measured side by side against the part of its own parcel's boundary that it faces. The long sides
    are eaves, the short ones gables. The rear eave is the eave facing away from the nearest road within
    ``drip_road_search_m`` (roads as polygons or centre lines; only the direction matters); when no road
    is that close, or the road lies off a gable, it is the northern eave, and the message says which.
    Limits (附件2 五(六)): rear eave ``drip_rear_1f_m`` (平房 0.4 m), ``drip_rear_2f_m`` (两层 0.8 m) or
    ``drip_rear_2f_downspout_m`` (两层 with 雨落管 0.4 m); gables ``drip_gable_1f_m`` (0.2 m) and
    ``drip_gable_2f_m`` (0.3 m).

    The front eave faces the courtyard or the street and 五(六) names no figure for it. 五(二) still
    requires every side's drip (房屋四至包括滴水, 房檐控制在滴水范围内) to stay inside the parcel, so the
    front eave is held to the smallest figure 五(六) names for any side: the 房山和围墙 (gable and
    courtyard wall) limit. Courtyard walls are not a layer here; the same figure applies to them.

    Buildings of three or more floors (a ``HOME-FLOORS`` case) use the two-floor limits; buildings whose
    ``floors`` is unknown use the one-floor limits (the smaller ones) and the message says so; a
    ``downspout`` that is not recorded as true counts as none. Footprints far from rectangular (filled
    area under 80 % of the rectangle, e.g. L-shaped houses, or several parts) have no eaves and gables
    that can be told apart: every side gets the gable limit (the smallest) and the message says so.

    A side of a ``row_house`` (排子房, by three-party agreement) is not measured against the parts of the
    boundary it shares with a neighbouring parcel. A side whose clearance is negative (the building
    reaches over the boundary there) is left to ``SET-OUTSIDE`` when that rule reports the building; a
    smaller crossing (under ``min_overlap_m2``) is a drip finding with the negative clearance. Buildings
    with no own parcel are not subjects. Distances are compared at the precision they are reported in
    (0.01 m): 0.40 m against 0.4 m is compliant, 0.39 m is not.

    One finding per offending side (``key`` = the side's compass direction, so case ids are stable per
    side); ``measured`` is the side's shortest clearance; the geometry is the band between the side and
    its required line.

``SET-REDLINE`` (生态红线/蓝线内建设)
    The part of a building inside the eco red line or a ``protected_zones`` polygon of kind
    ``blue_line`` (河湖蓝线) or ``water_source`` (水源保护区), at least ``min_overlap_m2``. Huge zones are
    subdivided before the overlay. Without both layers the rule has nothing to check and says so in the
    data-quality notes.

Areas are compared with ``min_overlap_m2`` at the precision they are reported in (0.01 m²), distances
with the drip limits at 0.01 m.

``status`` of a building's finding is ``new`` when it was built after the year ``homestead_area_date``
(2021-07-01, the day PG-4 took effect) falls in, ``existing`` before it, unknown otherwise.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.bigoverlay import union_by
from spatial.overlay import pairwise_intersection
from spatial.sides import facing_boundary, footprint_sides, side_band, side_clearance

from ._common import fmt_area, partial, status_from_year
from .context import Context, Note, RuleResult
from .registry import implements, intermediate

__all__ = ["own_parcels", "set_outside", "set_drip", "set_redline", "front_directions"]

#: Distances are reported to 0.01 m: shortfalls below half of that are not violations.
_DIST_TOL = 0.005
#: Areas are reported to 0.01 m²: an overlap this short of the minimum area still reaches it.
_AREA_TOL = 0.005
#: A boundary piece this close to another parcel is shared with it (m).
_SHARED_TOL = 0.05
#: Footprints whose filled area is under this share of their minimum rectangle are not classified.
_MIN_FILL = 0.8
#: Vertices of an outside part are this far apart at most when its width is measured (m).
_WIDTH_STEP = 0.02


def own_parcels(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> np.ndarray:
    """Row of ``parcels`` that is each building's own parcel (largest overlap), -1 when none overlaps.

    Examples
    --------
    >>> b = gpd.GeoDataFrame(geometry=[shapely.box(1, 1, 9, 5)], crs=4548)
    >>> p = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 4), shapely.box(0, 4, 10, 10)], crs=4548)
    >>> own_parcels(b, p).tolist()
    [0]
    """
    li, ri, parts = pairwise_intersection(buildings.geometry.to_numpy(), parcels.geometry.to_numpy())
    return _own(len(buildings), li, ri, shapely.area(parts))


def _own(n: int, li: np.ndarray, ri: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per building ``0 … n-1``, the parcel of its largest overlap (the lowest row on a tie), -1 when none."""
    out = np.full(n, -1, dtype=np.intp)
    sel = area > 0
    if not sel.any():
        return out
    frame = pd.DataFrame({"b": li[sel], "p": ri[sel], "a": area[sel]})
    frame = frame.sort_values(["b", "a", "p"], ascending=[True, False, True]).drop_duplicates("b")
    out[frame["b"].to_numpy()] = frame["p"].to_numpy()
    return out


def _max_distance(parts: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Largest distance from any point of each part's boundary to its target polygon.

    Measured at the boundary's vertices, and along an edge only where its maximum can lie inside it.
    Let ``n1``, ``n2`` be the target's points nearest to an edge's ends ``p1``, ``p2``. When the segment
    ``n1 n2`` lies in the target (e.g. both ends face the same parcel edge), the distance along the edge
    is at most the distance to that segment, a convex function whose maximum is at an end: the edge's
    maximum is ``max(d1, d2)`` exactly. Only the other edges (around a corner or a notch of the parcel,
    where the farthest point can be mid-edge) are densified to ``_WIDTH_STEP`` (at most ~4000 points per
    edge) and measured point by point. The target is grown by 1e-6 m for the segment test, so that a
    nearest point computed a rounding error outside its own edge still counts.

    Examples
    --------
    >>> parcel = shapely.Polygon([(0, 0), (10, 0), (10, 10), (6, 10), (5, 9), (4, 10), (0, 10)])   # a notch
    >>> strip = shapely.box(0, 10, 10, 10.5).union(shapely.Polygon([(4, 10), (5, 9), (6, 10)]))
    >>> round(float(_max_distance(np.array([strip]), np.array([parcel]))[0]), 3)    # mid-edge: 1.5 / sqrt(2)
    1.061
    >>> strip = shapely.Polygon([(4, 10), (5, 9), (6, 10)])          # the notch alone: widest at its mouth
    >>> round(float(_max_distance(np.array([strip]), np.array([parcel]))[0]), 3)
    0.707
    """
    parts = np.asarray(parts, dtype=object)
    targets = np.asarray(targets, dtype=object)
    out = np.zeros(len(parts))
    if len(parts) == 0:
        return out
    polys, pidx = shapely.get_parts(parts, return_index=True)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return out
    owner = pidx[ridx[cidx]]
    target = targets[owner]
    pts = shapely.points(coords)
    d = shapely.distance(pts, target)
    np.maximum.at(out, owner, d)
    near = shapely.get_coordinates(shapely.shortest_line(pts, target)).reshape(-1, 2, 2)[:, 1]
    # edges: consecutive vertices of one ring
    k = np.flatnonzero(cidx[1:] == cidx[:-1])
    same = np.all(near[k] == near[k + 1], axis=1)
    k_test = k[~same]
    grown = shapely.buffer(targets, 1e-6, quad_segs=1, join_style="mitre")
    shapely.prepare(grown)
    chord = shapely.linestrings(np.stack([near[k_test], near[k_test + 1]], axis=1))
    inside = shapely.covers(grown[owner[k_test]], chord)
    edges = k_test[~inside]
    if len(edges):
        seg = shapely.linestrings(np.stack([coords[edges], coords[edges + 1]], axis=1))
        step = np.maximum(_WIDTH_STEP, shapely.length(seg) / 4000.0)
        dense, didx = shapely.get_coordinates(shapely.segmentize(seg, step), return_index=True)
        dd = shapely.distance(shapely.points(dense), target[edges][didx])
        np.maximum.at(out, owner[edges][didx], dd)
    return out


@intermediate("setback_outside", uses=("building_parcel_parts",))
def setback_outside(ctx: Context) -> dict:
    """Own parcel of every building and its part outside it (shared by SET-OUTSIDE and SET-DRIP).

    Returns a dict with ``own`` (row of the own parcel, -1 when none), ``outside`` (the part outside it),
    ``area`` and ``reported`` (whether SET-OUTSIDE reports it).

    Examples
    --------
    >>> # ctx.used("setback_outside")["own"]
    """
    b, p = ctx["buildings"], ctx["parcels"]
    pairs = ctx.used("building_parcel_parts")
    shared = shapely.area(pairs["part"])
    own = _own(len(b), pairs["b"], pairs["p"], shared)
    has = own >= 0
    outside = np.full(len(b), None, dtype=object)
    area = np.zeros(len(b))
    if has.any():
        bg, pg = b.geometry.to_numpy()[has], p.geometry.to_numpy()[own[has]]
        on_own = np.zeros(len(b))
        np.maximum.at(on_own, pairs["b"], shared)
        # a building inside its parcel (the shared part is the building itself) has nothing outside it
        rest = on_own[has] < shapely.area(bg)
        part = np.full(int(has.sum()), shapely.Polygon(), dtype=object)
        part[rest] = shapely.difference(bg[rest], pg[rest])
        outside[has] = part
        area[has] = shapely.area(part)
    reported = has & (area > 0) & (area >= ctx.limit("min_overlap_m2", b["village_id"]) - _AREA_TOL)
    return {"own": own, "outside": outside, "area": area, "reported": reported}


@implements("SET-OUTSIDE", uses=("setback_outside",), limits=("homestead_area_date",))
def set_outside(ctx: Context) -> gpd.GeoDataFrame:
    """超出宅基地范围: the part of each building footprint outside its own parcel.

    The own parcel is the one with the largest overlap; buildings touching no parcel are not subjects of
    this rule. Parts under the minimum area are digitising noise. ``measured`` is the strip's largest
    width (the farthest point of the outside part from the parcel).

    Examples
    --------
    >>> # set_outside(ctx) -> one row per building reaching over its parcel
    """
    b, p = ctx["buildings"], ctx["parcels"]
    info = ctx.used("setback_outside")
    keep = info["reported"]
    rows = b[keep]
    outside, area = info["outside"][keep], info["area"][keep]
    own = info["own"][keep]
    pg = p.geometry.to_numpy()[own]
    parcel_ids = p["parcel_id"].to_numpy(dtype=object)[own]
    width = _max_distance(outside, pg)
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}超出宅基地{q}范围{a}，最宽处{w:.2f}米，违反{{basis}}“房屋四至不得超出宅基地使用权属范围”。"
               for i, q, a, w in zip(ids, parcel_ids, fmt_area(area), width)]
    return partial(
        ctx.crs, outside,
        subject_layer="buildings", subject_id=ids, related_ids=parcel_ids,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="medium",
        measured=np.round(width, 3), limit=0.0, unit="m", area_m2=area,
        status=status_from_year(rows["built_year"], ctx.limit("homestead_area_date", rows["village_id"])), message=message,
    )


# ------------------------------------------------------------------------------------------------
# SET-DRIP
# ------------------------------------------------------------------------------------------------
def front_directions(geoms, roads, max_distance) -> np.ndarray:
    """Unit vector from each footprint's centroid towards its nearest road, NaN when none is that close.

    Parameters
    ----------
    geoms : array-like of polygons
    roads : array-like of geometries or None
        Road land polygons or centre lines (only the direction is used, so either will do).
    max_distance : float or array-like
        Roads farther than this from the footprint (m) are ignored; scalar or one per footprint.

    Examples
    --------
    >>> road = [shapely.LineString([(0, -5), (20, -5)])]
    >>> front_directions([shapely.box(5, 0, 15, 6)], road, 30.0).round(3).tolist()
    [[0.0, -1.0]]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full((len(geoms), 2), np.nan)
    if roads is None or len(roads) == 0 or len(geoms) == 0:
        return out
    roads = np.asarray(roads, dtype=object)
    limit = np.broadcast_to(np.asarray(max_distance, dtype=float), (len(geoms),))
    tree = shapely.STRtree(roads)
    (i, j), dist = tree.query_nearest(geoms, max_distance=float(limit.max()), return_distance=True,
                                      all_matches=False)
    ok = dist <= limit[i]
    i, j = i[ok], j[ok]
    if len(i) == 0:
        return out
    centre = shapely.centroid(geoms[i])
    ends = shapely.get_coordinates(shapely.shortest_line(centre, roads[j])).reshape(-1, 2, 2)
    v = ends[:, 1] - ends[:, 0]
    norm = np.hypot(v[:, 0], v[:, 1])
    good = norm > 1e-9
    out[i[good]] = v[good] / norm[good, None]
    return out


def _shared_pieces(pieces: np.ndarray, own: np.ndarray, parcel_geoms: np.ndarray) -> np.ndarray:
    """Whether each boundary piece lies on a parcel other than ``own`` (checked at its midpoint)."""
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    li, ri = _dwithin(mid, parcel_geoms, _SHARED_TOL)
    other = ri != own[li]
    out = np.zeros(len(pieces), dtype=bool)
    out[li[other]] = True
    return out


def _dwithin(left: np.ndarray, right: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    if len(left) == 0 or len(right) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return shapely.STRtree(right).query(left, predicate="dwithin", distance=distance)


def _is_true(values: pd.Series) -> np.ndarray:
    """True where a True/False/None column is True (None and False alike are not)."""
    return values.astype(object).eq(True).to_numpy(dtype=bool)


def _drip_limits(ctx: Context, rows: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Per building: rear and gable limits and why (floors, downspout)."""
    vid = rows["village_id"]
    floors = pd.to_numeric(rows["floors"], errors="coerce").to_numpy(dtype=float)
    two = floors >= 2
    unknown = np.isnan(floors)
    downspout = _is_true(rows["downspout"])
    rear = np.where(two, np.where(downspout, ctx.limit("drip_rear_2f_downspout_m", vid),
                                  ctx.limit("drip_rear_2f_m", vid)), ctx.limit("drip_rear_1f_m", vid))
    gable = np.where(two, ctx.limit("drip_gable_2f_m", vid), ctx.limit("drip_gable_1f_m", vid))
    storey = np.where(two, "两层楼房", np.where(unknown, "层数不详（按平房）", "平房"))
    rear_why = np.where(two, np.where(downspout, "两层楼房后檐设雨落管滴水不小于{:.2f}米",
                                      "两层楼房后檐滴水不小于{:.2f}米（未登记雨落管）"),
                        np.char.add(storey.astype(str), "后檐滴水不小于{:.2f}米"))
    gable_why = np.where(two, "两层楼房房山滴水不小于{:.2f}米",
                         np.char.add(storey.astype(str), "房山和围墙滴水不小于{:.2f}米"))
    return {"rear": rear.astype(float), "gable": gable.astype(float),
            "rear_why": rear_why.astype(object), "gable_why": gable_why.astype(object)}


def _side_label(kind: str, direction: str, basis: str) -> str:
    if kind == "rear":
        how = "背向道路" if basis == "front" else "未能由道路判定朝向，按北侧长边认定"
        return f"后檐（{direction}侧，{how}）"
    if kind == "front":
        return f"前檐（{direction}侧，按房山和围墙标准）"
    if kind == "gable":
        return f"山墙（{direction}侧）"
    return f"{direction}侧墙（轮廓不规则，无法区分后檐与山墙，按山墙标准）"


@implements("SET-DRIP", uses=("setback_outside",), limits=("drip_rear_1f_m", "drip_rear_2f_m", "drip_rear_2f_downspout_m", "drip_gable_1f_m",
                                                          "drip_gable_2f_m", "drip_road_search_m", "homestead_area_date"))
def set_drip(ctx: Context) -> gpd.GeoDataFrame:
    """滴水距离不足: building sides closer to their own parcel's boundary than the drip distance.

    See the module docstring for how sides, the rear eave and the limits are decided.

    Examples
    --------
    >>> # set_drip(ctx) -> one row per offending side of a building
    """
    b, p = ctx["buildings"], ctx["parcels"]
    info = ctx.used("setback_outside")
    has = np.flatnonzero(info["own"] >= 0)
    pg = p.geometry.to_numpy()
    # a side's clearance is never less than its footprint's distance to the parcel boundary: only buildings
    # nearer to it than their largest drip distance can have a side too close (the others are not measured)
    lim = _drip_limits(ctx, b.iloc[has])
    near = shapely.distance(b.geometry.to_numpy()[has], shapely.boundary(pg[info["own"][has]])) \
        < np.maximum(lim["rear"], lim["gable"]) + 1e-6
    has, lim = has[near], {k: v[near] for k, v in lim.items()}
    rows = b.iloc[has]
    own = info["own"][has]
    bg = rows.geometry.to_numpy()
    roads = ctx.get("roads")
    front = front_directions(bg, None if roads is None else roads.geometry.to_numpy(),
                             ctx.limit("drip_road_search_m", rows["village_id"]))
    sides = footprint_sides(bg, front, min_fill=_MIN_FILL)
    if sides.empty:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    j = sides["building"].to_numpy()
    kind = sides["kind"].to_numpy(dtype=object)
    is_rear = kind == "rear"
    limit = np.where(is_rear, lim["rear"][j], lim["gable"][j])
    why = np.where(is_rear, lim["rear_why"][j], lim["gable_why"][j])
    facing = facing_boundary(sides, bg, pg[own], reach=limit + 0.5)
    # row houses: the boundary they share with a neighbouring parcel is exempt
    row_house = _is_true(rows["row_house"])
    fb = j[facing["side"].to_numpy()]
    check = row_house[fb]
    if check.any():
        shared = np.zeros(len(facing), dtype=bool)
        shared[check] = _shared_pieces(facing["piece"].to_numpy()[check], own[fb[check]], pg)
        facing = facing[~shared]
    clearance = side_clearance(sides, facing)
    crossing_reported = (clearance < -_DIST_TOL) & info["reported"][has][j]   # SET-OUTSIDE reports it
    bad = (clearance < limit - _DIST_TOL) & ~crossing_reported
    if not bad.any():
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    s = sides[bad]
    c, lm, jb = clearance[bad], limit[bad], j[bad]
    geom = side_band(s, lm, np.where(c < -_DIST_TOL, c, 0.0))
    ids = rows["building_id"].to_numpy(dtype=object)[jb]
    pids = p["parcel_id"].to_numpy(dtype=object)[own[jb]]
    labels = [_side_label(k, d, r) for k, d, r in zip(s["kind"], s["direction"], s["rear_basis"])]
    where = [f"距宅基地{q}边界{max(x, 0.0):.2f}米" if x >= -_DIST_TOL else f"越出宅基地{q}边界{-x:.2f}米"
             for q, x in zip(pids, c)]
    message = [f"房屋{i}{lab}{w}，{y.format(m)}，违反{{basis}}。"
               for i, lab, w, y, m in zip(ids, labels, where, why[bad], lm)]
    return partial(
        ctx.crs, geom,
        subject_layer="buildings", subject_id=ids, related_ids=pids,
        village_id=rows["village_id"].to_numpy(dtype=object)[jb], severity="medium",
        measured=np.round(np.where(np.abs(c) <= _DIST_TOL, np.maximum(c, 0.0), c), 3), limit=lm, unit="m",
        status=status_from_year(rows["built_year"].to_numpy()[jb],
                                ctx.limit("homestead_area_date", rows["village_id"].to_numpy(dtype=object)[jb])),
        key=s["direction"].to_numpy(dtype=object), message=message,
    )


# ------------------------------------------------------------------------------------------------
# SET-REDLINE
# ------------------------------------------------------------------------------------------------
_ZONE_LABEL = {"eco_redline": "生态保护红线", "blue_line": "河湖蓝线", "water_source": "水源保护区"}


def _redline_zones(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The eco red line and blue-line/water-source zones: ``(geoms, kinds, names, pieces, source)``.

    One entry of ``geoms``/``kinds``/``names`` per zone; ``pieces`` are the zones subdivided (cut once per
    run and shared with the farmland rules, see :func:`analyses.farmland_base.cover_pieces`) and
    ``source`` the zone (index into ``geoms``) of each piece.
    """
    geoms, kinds, names, pieces, source = [], [], [], [], []
    n = 0
    red = ctx.get("eco_redline")
    if red is not None and not red.empty:
        geoms.append(red.geometry.to_numpy())
        kinds.append(np.full(len(red), "eco_redline", dtype=object))
        names.append(red["name"].to_numpy(dtype=object))
        p, s = ctx.used("pieces:eco_redline")
        pieces.append(p)
        source.append(s)
        n = len(red)
    zones = ctx.get("protected_zones")
    if zones is not None and not zones.empty:
        kind = zones["kind"].astype(object).str.strip().str.lower()
        sel = kind.isin(["blue_line", "water_source"]).to_numpy()
        geoms.append(zones.geometry.to_numpy()[sel])
        kinds.append(kind.to_numpy(dtype=object)[sel])
        names.append(zones["name"].to_numpy(dtype=object)[sel])
        p, s = ctx.used("pieces:protected_zones")
        rank = np.cumsum(sel) - 1          # position of each selected zone among the selected ones
        pieces.append(p[sel[s]])
        source.append(n + rank[s[sel[s]]])
    if not geoms:
        empty = np.empty(0, dtype=object)
        return empty, empty, empty, empty, np.empty(0, dtype=np.intp)
    return (np.concatenate(geoms), np.concatenate(kinds), np.concatenate(names), np.concatenate(pieces),
            np.concatenate(source).astype(np.intp))


@implements("SET-REDLINE", uses=("pieces:eco_redline", "pieces:protected_zones"), limits=("homestead_area_date",))
def set_redline(ctx: Context) -> gpd.GeoDataFrame:
    """生态红线/蓝线内建设: the part of each building inside the eco red line or a blue-line/water-source zone.

    One finding per building; the geometry is the union of its overlaps, ``related_ids`` the zones'
    names, severity ``high``.

    Examples
    --------
    >>> # set_redline(ctx) -> one row per building inside a red or blue line
    """
    b = ctx["buildings"]
    if "eco_redline" not in ctx and "protected_zones" not in ctx:
        return RuleResult(partial(ctx.crs, [], subject_layer=[], subject_id=[]), (Note(
            "", "", (), "SET-REDLINE：未提供生态保护红线（eco_redline）或管控区（protected_zones）图层，未检查。"),))
    zg, zk, zn, pieces, source = _redline_zones(ctx)
    if len(zg) == 0:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    li, ri, parts = pairwise_intersection(b.geometry.to_numpy(), pieces)
    if len(li) == 0:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    zone = source[ri]
    frame = pd.DataFrame({"b": li, "zone": zone})
    idx, geom = union_by(li, parts)
    area = shapely.area(geom)
    rows = b.iloc[idx]
    keep = (area > 0) & (area >= ctx.limit("min_overlap_m2", rows["village_id"]) - _AREA_TOL)
    if not keep.any():
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    idx, geom, area, rows = idx[keep], geom[keep], area[keep], rows[keep]
    zones_of = frame.drop_duplicates(["b", "zone"]).sort_values(["b", "zone"]).groupby("b")["zone"].agg(list)
    zones_of = zones_of.reindex(idx)
    related = [";".join(str(zn[z]) for z in zs) for zs in zones_of]
    what = ["、".join(f"{_ZONE_LABEL.get(zk[z], zk[z])}“{zn[z]}”" for z in zs) for zs in zones_of]
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}位于{w}内{a}，违反{{basis}}，不得在生态保护红线和河湖蓝线、水源保护区内建设。"
               for i, w, a in zip(ids, what, fmt_area(area))]
    return partial(
        ctx.crs, geom,
        subject_layer="buildings", subject_id=ids, related_ids=related,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="high",
        measured=np.round(area, 2), limit=0.0, unit="m²", area_m2=area,
        status=status_from_year(rows["built_year"], ctx.limit("homestead_area_date", rows["village_id"])), message=message,
    )
