"""Farmland rules about protected areas (PG-NF 四(六), MY-6 三(四)): ``FARM-RESERVE`` PBF inside a nature
reserve, ``FARM-REDLINE`` the eco red line over PBF or over a contiguous farmland block.

Reserves and red lines are few, huge polygons, and PBF blocks can be huge too: every overlay here is
:func:`spatial.bigoverlay.subdivided_intersection` on subdivided pieces, re-assembled per feature.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import assign_villages
from layers.landuse import is_farmland
from layers.values import per_value
from spatial.bigoverlay import components, subdivided_intersection, union_by
from spatial.overlay import area_pairs, candidate_pairs, covered_intersection, covering, prepared_copies, union_parts
from spatial.units import m2_to_mu

from ._common import fmt_area, join_per, partial
from .farmland_base import baseline_survey, min_area, minus_cover, polygonal
from .context import Context
from .registry import implements

__all__ = ["reserve_zone", "farm_reserve", "farm_redline"]

_EMPTY = np.empty(0, dtype=object)


def reserve_zone(zones) -> np.ndarray:
    """``core`` for 核心保护区 (``core``, ``核心…``), ``general`` for everything else.

    Examples
    --------
    >>> reserve_zone(["core", "核心保护区", "general", None]).tolist()
    ['core', 'core', 'general', 'general']
    """
    z = per_value(zones, lambda v: v.strip().lower() if isinstance(v, str) else "")
    return np.where(z.str.contains("core") | z.str.contains("核心"), "core", "general").astype(object)


def _names_of(parts, geoms, names) -> np.ndarray:
    """For each part, the ';'-joined names of the polygons it meets.

    Candidates come from a bounding-box query; the exact ``intersects`` test then runs with the few,
    huge named polygons prepared (a predicate query would prepare each small part instead and walk all
    200,000 vertices of a red line for every part).
    """
    parts = np.asarray(parts, dtype=object)
    geoms = np.asarray(geoms, dtype=object)
    li, ri = candidate_pairs(parts, geoms, predicate=None)
    if len(li):
        used, at = np.unique(ri, return_inverse=True)
        hit = shapely.intersects(prepared_copies(geoms[used])[at], parts[li])
        li, ri = li[hit], ri[hit]
    return join_per(li, np.asarray(names, dtype=object)[ri], len(parts))


@implements("FARM-RESERVE", inputs=("pbf", "nature_reserves"), uses=("pieces:nature_reserves",))
def farm_reserve(ctx: Context) -> gpd.GeoDataFrame:
    """占用永久基本农田扩大自然保护地: PBF inside a nature reserve.

    One finding per PBF polygon and zone (``key`` = zone): in the ``core`` zone severity ``high`` (must
    exit: 生态退耕、有序退出), in the ``general`` zone ``medium`` (assess its effect). Where zones overlap,
    the core zone counts.

    Examples
    --------
    >>> # farm_reserve(ctx)
    """
    pbf, nr = ctx["pbf"], ctx["nature_reserves"]
    zone = reserve_zone(nr["zone"])
    pieces, source = ctx.used("pieces:nature_reserves")
    core_cover = pieces[zone[source] == "core"]
    frames = []
    for z in ("core", "general"):
        cover = core_cover if z == "core" else pieces[zone[source] == z]
        idx, part = subdivided_intersection(pbf.geometry.to_numpy(), cover)
        if z == "general":
            part = minus_cover(part, core_cover)
        part = polygonal(part)
        rows = pbf.iloc[idx]
        area = shapely.area(part)
        keep = area >= min_area(ctx, rows["village_id"])
        rows, part, area = rows[keep], part[keep], area[keep]
        names = _names_of(part, nr.geometry.to_numpy()[zone == z], nr["name"].to_numpy(dtype=object)[zone == z])
        ids = rows["pbf_id"].to_numpy(dtype=object)
        if z == "core":
            message = [f"永久基本农田{i}有{a}位于自然保护地{n}核心保护区内，应纳入生态退耕、有序退出（{{basis}}）。"
                       for i, a, n in zip(ids, fmt_area(area), names)]
        else:
            message = [f"永久基本农田{i}有{a}位于自然保护地{n}一般控制区内，应评估其对生态功能的影响并确定是否退出（{{basis}}）。"
                       for i, a, n in zip(ids, fmt_area(area), names)]
        frames.append(partial(ctx.crs, part, subject_layer="pbf", subject_id=ids, key=z, related_ids=names,
                              village_id=rows["village_id"].to_numpy(dtype=object),
                              severity="high" if z == "core" else "medium",
                              measured=area, limit=0.0, unit="m²", area_m2=area, message=message))
    return pd.concat(frames, ignore_index=True)


def _union_area_by(keys, geoms) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the area of the union of each key's geometries (pairs unioned in one call)."""
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    area = np.zeros(len(uniq))
    n = counts[inverse]
    single = n == 1
    area[inverse[single]] = shapely.area(geoms[single])
    two = np.flatnonzero(n == 2)
    if len(two):
        order = two[np.argsort(inverse[two], kind="stable")]
        first, second = order[0::2], order[1::2]
        # |A ∪ B| = |A| + |B| - |A ∩ B|; the intersection is the covered one when one covers the other
        both = covered_intersection(geoms, geoms, first, second)
        area[inverse[first]] = shapely.area(geoms[first]) + shapely.area(geoms[second]) - shapely.area(both)
    more = n > 2
    if more.any():
        k, u = union_by(inverse[more], geoms[more])
        area[k] = shapely.area(u)
    return uniq, area


def _interiors_meet(geoms, li, ri) -> np.ndarray:
    """Whether the interiors of each pair of polygons meet (DE-9IM ``T********``): a pair where one covers
    the other (PBF drawn on its survey patch) by a prepared ``covers``, the others by ``relate_pattern``."""
    solid = (shapely.area(geoms[li]) > 0) & (shapely.area(geoms[ri]) > 0)
    out = solid & np.logical_or(*covering(geoms, geoms, li, ri))
    rest = ~out
    out[rest] = shapely.relate_pattern(geoms[li[rest]], geoms[ri[rest]], "T********")
    return out


def _blocks(ctx: Context, red: np.ndarray, reserves: np.ndarray, pbf_cover: np.ndarray) -> dict:
    """Contiguous farmland blocks (baseline 耕地 patches and PBF, touching counts) that meet the red line,
    and the part of each that FARM-REDLINE reports: under the red line, outside reserves, not PBF.

    A block can be all the farmland of a ctx (100,000s of polygons), so it is never unioned whole:
    its area is the sum over its clusters of members whose interiors overlap (PBF drawn on a survey
    patch) of each cluster's union area. Its reported part is (⋃ members ∩ red) − reserves − PBF, and
    since (A ∪ P) − P = A − P for the PBF members P, that is the union over its baseline *patches* of
    (patch ∩ red) − reserves − PBF: small pieces, cut per patch. Only blocks of at least the smallest
    ``redline_block_mu`` of any village are cut at all, and a geometry is built only for the blocks with
    a part of area > 0.

    Returns
    -------
    dict
        ``subject`` (smallest ``tbbh`` per block), ``patches`` (survey patches per block), ``size`` (area
        per block, m²), ``index`` (blocks with a reported part of area > 0) and ``part`` (that part).
    """
    lu = baseline_survey(ctx)
    farm = np.flatnonzero(is_farmland(lu["dlbm"]))
    pbf = ctx.get("pbf")
    nodes = np.concatenate([lu.geometry.to_numpy()[farm],
                            pbf.geometry.to_numpy() if pbf is not None else _EMPTY])
    # each touching pair once (i < j): envelope pairs, then one vectorised intersects test on half of them
    li, ri = shapely.STRtree(nodes).query(nodes)
    up = li < ri
    li, ri = li[up], ri[up]
    touch = shapely.intersects(nodes[li], nodes[ri])
    li, ri = li[touch], ri[touch]
    labels = components(len(nodes), li, ri)
    hit, _ = candidate_pairs(nodes, red)
    touched = np.unique(labels[hit])
    members = np.flatnonzero(np.isin(labels, touched))
    block_ids = touched
    # area of each block: members whose interiors overlap are unioned in small clusters, the rest only touch
    is_member = np.zeros(len(nodes), dtype=bool)
    is_member[members] = True
    pair = is_member[li]
    l2, r2 = li[pair], ri[pair]
    can = area_pairs(nodes, nodes, l2, r2)     # envelopes meeting along a line: the pair only touches
    l2, r2 = l2[can], r2[can]
    overlap = _interiors_meet(nodes, l2, r2)
    cluster = components(len(nodes), l2[overlap], r2[overlap])
    cluster_ids, cluster_area = _union_area_by(cluster[members], nodes[members])
    size = pd.Series(cluster_area).groupby(labels[cluster_ids]).sum().reindex(block_ids).to_numpy(dtype=float)
    # subject of a block: its smallest 图斑编号 among the survey patches
    is_patch = members < len(farm)
    tb = pd.Series(lu["tbbh"].to_numpy(dtype=object)[farm[members[is_patch]]].astype(str))
    subject = tb.groupby(labels[members[is_patch]]).min().reindex(block_ids).to_numpy(dtype=object)
    n_patches = pd.Series(1, index=labels[members[is_patch]]).groupby(level=0).size().reindex(block_ids).fillna(0)
    # the block-size test first: a block smaller than every village's figure is never reported
    smallest = np.nanmin(ctx.limit("redline_block_mu",
                                   np.r_[ctx.villages["village_id"].to_numpy(dtype=object), [None]]).astype(float))
    can = (m2_to_mu(size) >= smallest) & pd.notna(subject)
    patches = members[is_patch & np.isin(labels[members], block_ids[can])]
    # (patch ∩ red) − reserves − PBF = (patch − PBF − reserves) ∩ red: the differences on the simple patches
    # first (a patch under PBF vanishes there), the red line's jagged pieces only for what is left
    patches = np.unique(patches[candidate_pairs(nodes[patches], red)[0]])
    rest = polygonal(minus_cover(minus_cover(nodes[patches], pbf_cover), reserves))
    left = shapely.area(rest) > 0
    patches, rest = patches[left], rest[left]
    pidx, ppart = subdivided_intersection(rest, red)
    ppart = polygonal(ppart)
    parea = shapely.area(ppart)
    some = parea > 0
    block = np.searchsorted(block_ids, labels[patches[pidx[some]]])
    part = union_parts(block, ppart[some], len(block_ids))
    area = shapely.area(part)
    index = np.flatnonzero(area > 0).astype(np.intp)
    return {"subject": subject, "patches": n_patches.to_numpy(dtype=int), "size": size,
            "index": index, "part": part[index]}


@implements("FARM-REDLINE", inputs=("eco_redline",), uses=("pieces:eco_redline", "pieces:nature_reserves", "pbf_cover"),
            limits=("redline_block_mu",))
def farm_redline(ctx: Context) -> gpd.GeoDataFrame:
    """生态保护红线划定冲突: the eco red line covering PBF, or covering a contiguous farmland block of
    ``redline_block_mu`` (default 50 亩) or more, outside nature reserves. The sources name no block
    figure: the message says the figure is configured.

    PBF: one finding per PBF polygon (severity ``high``). Blocks: baseline farmland patches and PBF that
    touch form a block; a block of ≥ N 亩 (its whole area) under the red line is one finding for its part
    under the line that is not PBF (reported above), subject = its smallest ``tbbh`` (severity ``medium``).

    Examples
    --------
    >>> # farm_redline(ctx)
    """
    eco = ctx["eco_redline"]
    red = ctx.used("pieces:eco_redline")[0]
    reserves = ctx.used("pieces:nature_reserves")[0]
    frames = []
    pbf = ctx.get("pbf")
    if pbf is not None and len(pbf):
        idx, part = subdivided_intersection(pbf.geometry.to_numpy(), red)
        part = polygonal(minus_cover(part, reserves))
        rows = pbf.iloc[idx]
        area = shapely.area(part)
        keep = area >= min_area(ctx, rows["village_id"])
        rows, part, area = rows[keep], part[keep], area[keep]
        names = _names_of(part, eco.geometry.to_numpy(), eco["name"].to_numpy(dtype=object))
        ids = rows["pbf_id"].to_numpy(dtype=object)
        message = [f"生态保护红线（{n}）划入永久基本农田{i}共{a}（自然保护地以外），永久基本农田不得划入生态保护红线（{{basis}}）。"
                   for i, a, n in zip(ids, fmt_area(area), names)]
        frames.append(partial(ctx.crs, part, subject_layer="pbf", subject_id=ids, related_ids=names,
                              village_id=rows["village_id"].to_numpy(dtype=object), severity="high",
                              measured=area, limit=0.0, unit="m²", area_m2=area, message=message))
    blocks = _blocks(ctx, red, reserves, ctx.used("pbf_cover"))
    if len(blocks["index"]):
        idx, part = blocks["index"], blocks["part"]
        vids = assign_villages(part, ctx.villages)
        size = blocks["size"][idx]
        limit_mu = ctx.limit("redline_block_mu", vids).astype(float)
        area = shapely.area(part)
        keep = (m2_to_mu(size) >= limit_mu) & (area >= min_area(ctx, vids)) & pd.notna(blocks["subject"][idx])
        idx, part, vids, size, limit_mu, area = idx[keep], part[keep], vids[keep], size[keep], limit_mu[keep], area[keep]
        names = _names_of(part, eco.geometry.to_numpy(), eco["name"].to_numpy(dtype=object))
        subject = blocks["subject"][idx]
        message = [f"生态保护红线（{n}）划入集中连片耕地（图斑{s}所在连片地块，共{m2_to_mu(z):.1f}亩，"
                   f"达到集中连片{lm:g}亩的配置值：依据未规定连片面积，该数值为本地配置 redline_block_mu）{a}，"
                   f"自然保护地以外的集中连片耕地不得划入生态保护红线（{{basis}}）。"
                   for n, s, z, lm, a in zip(names, subject, size, limit_mu, fmt_area(area))]
        frames.append(partial(ctx.crs, part, subject_layer=
                              "landuse_baseline" if "landuse_baseline" in ctx else "landuse",
                              subject_id=subject, related_ids=names, village_id=vids, severity="medium",
                              measured=m2_to_mu(size), limit=limit_mu, unit="亩", area_m2=area, message=message))
    if not frames:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    return pd.concat(frames, ignore_index=True)
