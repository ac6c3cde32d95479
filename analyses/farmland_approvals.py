"""Farmland rules about approvals (PG-NF 四(七)15, 四(八)16–17): ``FARM-FACILITY`` 大棚房,
``FARM-UNAPPROVED`` 未批先用, ``FARM-OVERUSE`` 批少占多, ``FARM-MISPLACED`` 批甲占乙,
``FARM-TEMPEXPIRED`` 临时用地超期.

A building *claims* an approval through its ``approval_id``; construction patches claim the
approvals their part on farmland overlaps.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landuse import is_construction, stem
from layers.values import per_value
from spatial.bigoverlay import union_by
from spatial.overlay import candidate_pairs, intersection_by_left, pairwise_intersection, prepare_cover

from ._common import fmt_area, join_per, partial, status_from_dates, status_from_year
from .farmland_base import (
    approval_kinds, cover_area, land_name, min_area, polygonal,
)
from .context import Context
from .registry import implements, intermediate

__all__ = ["is_nonagri_use", "facility", "farm_facility", "farm_unapproved", "farm_overuse", "farm_misplaced",
           "farm_tempexpired"]

_USE_WORDS = {"residential", "residence", "dwelling", "house", "housing", "home", "homestay", "villa", "apartment",
              "commercial", "business", "shop", "store", "retail", "restaurant", "catering", "hotel", "hostel",
              "guesthouse", "inn", "office", "club", "clubhouse", "entertainment", "leisure", "resort"}
_USE_CHINESE = ("住宅", "居住", "住房", "民居", "宿舍", "民宿", "别墅", "商业", "商服", "商铺", "经营", "餐饮", "饭店",
                "农家乐", "旅馆", "酒店", "宾馆", "办公", "会所", "娱乐", "休闲", "度假")


def is_nonagri_use(uses) -> np.ndarray:
    """Whether each ``use`` text says residential or commercial (English words or Chinese terms).

    Examples
    --------
    >>> is_nonagri_use(["residential", "greenhouse", "农家乐餐厅", None, "storage; Home"]).tolist()
    [True, False, True, False, True]
    """
    def one(text) -> bool:
        if not isinstance(text, str):
            return False
        words = set(re.findall(r"[a-z]+", text.lower()))
        return bool(words & _USE_WORDS) or any(t in text for t in _USE_CHINESE)

    return per_value(uses, one).to_numpy(dtype=bool)  # a few dozen distinct texts in a layer


def _approvals(ctx: Context) -> gpd.GeoDataFrame | None:
    ap = ctx.get("approvals")
    if ap is None:
        return None
    ids = per_value(ap["approval_id"], lambda v: v.strip() if isinstance(v, str) else v)
    return ap.assign(approval_id=ids, kind=approval_kinds(ctx).to_numpy(dtype=object))


def _claims(ctx: Context) -> pd.Series:
    """Each building's ``approval_id`` stripped (None when not given)."""
    return ctx["buildings"]["approval_id"].astype(object).map(
        lambda v: v.strip() or None if isinstance(v, str) else None)


@intermediate("facility")
def facility(ctx: Context) -> dict:
    """Buildings that ``FARM-FACILITY`` reports (residential/commercial use on 设施农用地): ``rows`` (positions
    in ``buildings``), ``geom`` (their part on 设施农用地), ``related`` (the approvals / patches).

    Examples
    --------
    >>> # ctx.used("facility")["rows"] -> array([12, 40])
    """
    b = ctx["buildings"]
    empty = {"rows": np.empty(0, dtype=np.intp), "geom": np.empty(0, dtype=object), "related": np.empty(0, dtype=object)}
    cand = np.flatnonzero(is_nonagri_use(b["use"]))
    if len(cand) == 0:
        return empty
    geoms, ids = [], []
    ap = _approvals(ctx)
    if ap is not None:
        fac = (ap["kind"] == "facility_agri").to_numpy()
        geoms.append(ap.geometry.to_numpy()[fac])
        ids.append(ap["approval_id"].to_numpy(dtype=object)[fac])
    lu = ctx["landuse"]
    f1202 = (stem(lu["dlbm"]) == "1202").to_numpy()
    geoms.append(lu.geometry.to_numpy()[f1202])
    ids.append(lu["tbbh"].to_numpy(dtype=object)[f1202])
    cover, cover_ids = np.concatenate(geoms), np.concatenate(ids)
    li, ri, parts = pairwise_intersection(b.geometry.to_numpy()[cand], cover)
    if len(li) == 0:
        return empty
    idx, inside = union_by(li, parts)
    related = join_per(li, cover_ids[ri], len(cand))
    inside = polygonal(inside)
    area = shapely.area(inside)
    keep = area >= min_area(ctx, b["village_id"].to_numpy(dtype=object)[cand[idx]])
    return {"rows": cand[idx[keep]], "geom": inside[keep], "related": related[idx[keep]]}


@implements("FARM-FACILITY", uses=("facility",), limits=("farmland_cutoff",))
def farm_facility(ctx: Context) -> gpd.GeoDataFrame:
    """大棚房 / 设施农用地非农使用: a building inside a ``facility_agri`` approval or a ``1202`` patch whose
    ``use`` says residential or commercial (住宅、民宿、餐饮、会所…).

    Geometry = the building's part on 设施农用地; ``related_ids`` = the approvals / patches; severity ``high``.
    Buildings without a ``use`` are not judged.

    Examples
    --------
    >>> # farm_facility(ctx)
    """
    found = ctx.used("facility")
    rows = ctx["buildings"].iloc[found["rows"]]
    ids = rows["building_id"].to_numpy(dtype=object)
    uses = rows["use"].to_numpy(dtype=object)
    area = shapely.area(found["geom"])
    message = [f"房屋{i}（用途：{u}）位于设施农用地（{r.replace(';', '、')}）上，{a}用于非农经营或居住，"
               f"属“大棚房”问题，违反{{basis}}，应予整治。" for i, u, r, a in zip(ids, uses, found["related"], fmt_area(area))]
    return partial(ctx.crs, found["geom"], subject_layer="buildings", subject_id=ids,
                   village_id=rows["village_id"].to_numpy(dtype=object), related_ids=found["related"],
                   severity="high", measured=area, limit=0.0, unit="m²", area_m2=area,
                   status=status_from_year(rows["built_year"], ctx.limit("farmland_cutoff", rows["village_id"])), message=message)


@implements("FARM-UNAPPROVED", inputs=("approvals",), uses=("buildings_on_farmland", "pbf_cover"),
            limits=("farmland_cutoff",))
def farm_unapproved(ctx: Context) -> gpd.GeoDataFrame:
    """未批先用: a building on farmland whose ``approval_id`` names no existing approval.

    Geometry = the building's part on farmland (≥ the minimum overlap); severity ``high`` on PBF.

    Examples
    --------
    >>> # farm_unapproved(ctx)
    """
    b = ctx["buildings"]
    claims = _claims(ctx).to_numpy(dtype=object)
    known = set(_approvals(ctx)["approval_id"].dropna())
    idx, on_farm = ctx.used("buildings_on_farmland")
    claimed = claims[idx]
    bad = pd.notna(claimed) & ~pd.Series(claimed, dtype=object).isin(known).to_numpy()
    idx, geom = idx[bad], polygonal(on_farm[bad])
    rows = b.iloc[idx]
    area = shapely.area(geom)
    keep = area >= min_area(ctx, rows["village_id"])
    rows, geom, area = rows[keep], geom[keep], area[keep]
    on_pbf = cover_area(geom, ctx.used("pbf_cover")) >= min_area(ctx, rows["village_id"])
    ids = rows["building_id"].to_numpy(dtype=object)
    cl = claims[idx[keep]]
    message = [f"房屋{i}所称批准文号{c}在用地批复中不存在，占用{w}{a}，属未批先用，违反{{basis}}。"
               for i, c, w, a in zip(ids, cl, land_name(on_pbf), fmt_area(area))]
    return partial(ctx.crs, geom, subject_layer="buildings", subject_id=ids, related_ids=cl,
                   village_id=rows["village_id"].to_numpy(dtype=object), severity=np.where(on_pbf, "high", "medium"),
                   measured=area, limit=0.0, unit="m²", area_m2=area,
                   status=status_from_year(rows["built_year"], ctx.limit("farmland_cutoff", rows["village_id"])), message=message)


def _approval_shapes(ctx: Context) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Distinct approval ids, the union of each one's polygons, and its first row's attributes."""
    ap = _approvals(ctx)
    ap = ap[ap["approval_id"].notna().to_numpy()]
    ids, shapes = union_by(ap["approval_id"].to_numpy(dtype=object).astype(str), ap.geometry.to_numpy())
    first = ap.assign(_id=ap["approval_id"].astype(str)).drop_duplicates("_id").set_index("_id").reindex(ids)
    return ids, shapes, first


@implements("FARM-MISPLACED", inputs=("approvals",), limits=("misplaced_share", "farmland_cutoff"))
def farm_misplaced(ctx: Context) -> gpd.GeoDataFrame:
    """批甲占乙: a building claiming an approval that lies mostly (more than ``misplaced_share``, default 50 %)
    outside that approval's polygon.

    ``measured`` = the share outside; geometry = the part outside.

    Examples
    --------
    >>> # farm_misplaced(ctx)
    """
    b = ctx["buildings"]
    ids, shapes, _ = _approval_shapes(ctx)
    claims = _claims(ctx)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    where = claims.map(pos).to_numpy(dtype=float)
    rows_i = np.flatnonzero(~np.isnan(where))
    bg = b.geometry.to_numpy()[rows_i]
    outside = polygonal(shapely.difference(bg, shapes[where[rows_i].astype(np.intp)]))
    total = shapely.area(bg)
    share = np.divide(shapely.area(outside), total, out=np.zeros(len(bg)), where=total > 0)
    rows = b.iloc[rows_i]
    limit = ctx.limit("misplaced_share", rows["village_id"]).astype(float)
    keep = share > limit
    rows, outside, share, limit = rows[keep], outside[keep], share[keep], limit[keep]
    bids = rows["building_id"].to_numpy(dtype=object)
    claimed = claims.to_numpy(dtype=object)[rows_i[keep]]
    message = [f"房屋{i}所用批准文号{c}，但其{s:.0%}位于该批复范围以外（{a}），属批甲占乙，违反{{basis}}。"
               for i, c, s, a in zip(bids, claimed, share, fmt_area(shapely.area(outside)))]
    return partial(ctx.crs, outside, subject_layer="buildings", subject_id=bids, related_ids=claimed,
                   village_id=rows["village_id"].to_numpy(dtype=object), severity="medium", measured=share,
                   limit=limit, unit="比例", status=status_from_year(rows["built_year"], ctx.limit("farmland_cutoff", rows["village_id"])),
                   message=message)


@implements("FARM-OVERUSE", inputs=("approvals",), uses=("conversions",),
            limits=("overuse_ratio", "overuse_min_m2", "farmland_cutoff"))
def farm_overuse(ctx: Context) -> gpd.GeoDataFrame:
    """批少占多: the buildings and construction patches claiming one approval occupy more than its
    ``approved_area_m2`` (the polygon's area when not given).

    Occupied land = the union of the footprints of the buildings that name the approval and of the parts
    on farmland of the current construction patches that overlap its polygon. Flagged when the excess is
    more than ``max(overuse_ratio × approved, overuse_min_m2)`` (default 5 %, 10 m²); geometry = the
    occupied part outside the approval's polygon (the whole occupied land when none is outside).

    Examples
    --------
    >>> # farm_overuse(ctx)
    """
    b = ctx["buildings"]
    lu = ctx["landuse"]
    ids, shapes, first = _approval_shapes(ctx)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    claims = _claims(ctx)
    bw = claims.map(pos).to_numpy(dtype=float)
    b_rows = np.flatnonzero(~np.isnan(bw))
    keys = [bw[b_rows].astype(np.intp)]
    geoms = [b.geometry.to_numpy()[b_rows]]
    names = [b["building_id"].to_numpy(dtype=object)[b_rows]]
    years = [pd.to_numeric(b["built_year"], errors="coerce").to_numpy(dtype=float)[b_rows]]
    conv = ctx.used("conversions")
    cons = conv[is_construction(conv["code"])]
    if len(cons):
        li, ri, parts = pairwise_intersection(cons["on_farm"].to_numpy(), shapes)
        ok = shapely.area(parts) >= min_area(
            ctx, lu["village_id"].to_numpy(dtype=object)[cons["row"].to_numpy()[li]])
        li, ri = li[ok], ri[ok]
        keys.append(ri)
        geoms.append(cons["on_farm"].to_numpy()[li])
        names.append(lu["tbbh"].to_numpy(dtype=object)[cons["row"].to_numpy()[li]])
        years.append(pd.to_numeric(lu["survey_year"], errors="coerce").to_numpy(dtype=float)[cons["row"].to_numpy()[li]])
    keys, geoms = np.concatenate(keys), np.concatenate(geoms)
    if len(keys) == 0:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    which, occupied = union_by(keys, geoms)
    occupied = polygonal(occupied)
    frame = pd.DataFrame({"k": keys, "n": np.concatenate(names).astype(str), "y": np.concatenate(years)})
    related = join_per(keys, frame["n"].to_numpy(dtype=object), len(ids))[which]
    newest = frame.groupby("k")["y"].max().reindex(which).to_numpy(dtype=float)
    attrs = first.iloc[which]
    approved = pd.to_numeric(attrs["approved_area_m2"], errors="coerce").to_numpy(dtype=float)
    approved = np.where(np.isnan(approved), shapely.area(shapes[which]), approved)
    used = shapely.area(occupied)
    excess = used - approved
    vids = attrs["village_id"].to_numpy(dtype=object)
    tolerance = np.maximum(ctx.limit("overuse_ratio", vids).astype(float) * approved,
                           ctx.limit("overuse_min_m2", vids).astype(float))
    keep = excess > tolerance
    which, occupied, approved, used, excess, tolerance, vids, related, newest = (
        a[keep] for a in (which, occupied, approved, used, excess, tolerance, vids, related, newest))
    outside = polygonal(shapely.difference(occupied, shapes[which]))
    geom = np.where(shapely.area(outside) >= min_area(ctx, vids), outside, occupied)
    message = [f"用地批复{i}批准面积{fmt_area([p])[0]}，实际占用{fmt_area([u])[0]}，超出{fmt_area([e])[0]}"
               f"（{e / p:.0%}），属批少占多，违反{{basis}}。" if p > 0 else
               f"用地批复{i}批准面积为0，实际占用{fmt_area([u])[0]}，属批少占多，违反{{basis}}。"
               for i, p, u, e in zip(ids[which], approved, used, excess)]
    return partial(ctx.crs, geom, subject_layer="approvals", subject_id=ids[which], related_ids=related,
                   village_id=vids, severity="medium", measured=used, limit=approved + tolerance, unit="m²",
                   status=status_from_year(pd.array(newest, dtype="Float64"), ctx.limit("farmland_cutoff", vids)),
                   message=message)


@implements("FARM-TEMPEXPIRED", inputs=("approvals",), uses=("buildings_on_farmland", "conversions", "pbf_cover"),
            limits=("farmland_cutoff",))
def farm_tempexpired(ctx: Context) -> gpd.GeoDataFrame:
    """临时用地超期: a ``temporary`` approval past ``valid_until`` (before the run date) that still covers
    buildings or construction on farmland.

    Geometry = that occupied part of the approval; ``measured`` = days past ``valid_until``;
    ``related_ids`` = the buildings and patches on it.

    Examples
    --------
    >>> # farm_tempexpired(ctx)
    """
    ap = _approvals(ctx)
    until = pd.to_datetime(ap["valid_until"], errors="coerce")
    expired = ((ap["kind"] == "temporary") & (until < pd.Timestamp(ctx.as_of))).to_numpy()
    ap, until = ap[expired], until[expired]
    b = ctx["buildings"]
    lu = ctx["landuse"]
    b_idx, b_parts = ctx.used("buildings_on_farmland")
    conv = ctx.used("conversions")
    cons = conv[is_construction(conv["code"])]
    occ = np.concatenate([b_parts, cons["on_farm"].to_numpy()])
    names = np.concatenate([b["building_id"].to_numpy(dtype=object)[b_idx],
                            lu["tbbh"].to_numpy(dtype=object)[cons["row"].to_numpy()]]).astype(str)
    idx, part = intersection_by_left(ap.geometry.to_numpy(), prepare_cover(occ) if len(occ) else occ)
    part = polygonal(part)
    rows = ap.iloc[idx]
    area = shapely.area(part)
    keep = area >= min_area(ctx, rows["village_id"])
    idx, rows, part, area = idx[keep], rows[keep], part[keep], area[keep]
    li, ri = candidate_pairs(part, occ)
    related = join_per(li, names[ri], len(part))
    days = (pd.Timestamp(ctx.as_of) - until.iloc[idx]).dt.days.to_numpy(dtype=float)
    ids = rows["approval_id"].to_numpy(dtype=object)
    dates = until.iloc[idx].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    on_pbf = cover_area(part, ctx.used("pbf_cover")) >= min_area(ctx, rows["village_id"])
    message = [f"临时用地{i}已于{d}到期（超期{n:.0f}天），仍有房屋或建设占用{w}{a}，违反{{basis}}，应责令限期恢复种植条件。"
               for i, d, n, w, a in zip(ids, dates, days, land_name(on_pbf), fmt_area(area))]
    return partial(ctx.crs, part, subject_layer="approvals", subject_id=ids, related_ids=related,
                   village_id=rows["village_id"].to_numpy(dtype=object), severity=np.where(on_pbf, "high", "medium"),
                   measured=days, limit=0.0, unit="天", area_m2=area,
                   status=status_from_dates(until.iloc[idx], ctx.limit("farmland_cutoff", rows["village_id"])), message=message)
