"""Farmland rules built on other findings or on imagery: ``FARM-CRIMINAL`` 涉嫌犯罪移送 (sums of
``FARM-BUILD`` and ``FARM-NONAGRI`` per owner or contiguous case patch) and ``FARM-RS`` 卫片图斑.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import assign_villages
from layers.idnumbers import normalise_ids
from layers.landcover import CHANGE_NAMES, change_patches, patch_ids
from spatial.bigoverlay import components, subdivided_intersection, union_by
from spatial.units import m2_to_mu

from ._common import fmt_area, partial
from .farmland_base import cover_area, min_area, polygonal
from .context import Context
from .registry import implements, intermediate

__all__ = ["owner_keys", "farm_criminal", "farm_rs"]


def owner_keys(owner_ids) -> np.ndarray:
    """Who owns a finding: the normalised ID number when valid, else the stripped text, else None.

    Examples
    --------
    >>> owner_keys(["11010519491231002x ", "  ", None, "甲公司"]).tolist()
    ['11010519491231002X', None, None, '甲公司']
    """
    raw = pd.Series(owner_ids, dtype=object).map(lambda v: v.strip() or None if isinstance(v, str) else None)
    ids, valid = normalise_ids(raw)
    out = np.where(valid.to_numpy(), ids.to_numpy(dtype=object), raw.to_numpy(dtype=object)).astype(object)
    out[pd.isna(out)] = None
    return out


@implements("FARM-CRIMINAL", uses=("FARM-BUILD", "FARM-NONAGRI", "pbf_cover"),
            limits=("criminal_pbf_mu", "criminal_other_mu"))
def farm_criminal(ctx: Context) -> gpd.GeoDataFrame:
    """涉嫌犯罪移送: one owner illegally occupies PBF ≥ ``criminal_pbf_mu`` (5 亩) or other farmland ≥
    ``criminal_other_mu`` (10 亩), summed over that owner's ``FARM-BUILD`` and ``FARM-NONAGRI`` findings.

    The owner is a building's ``owner_id``; findings without one (every ``FARM-NONAGRI`` patch, buildings
    with no owner) are grouped into contiguous case patches (findings that touch). The other rules'
    findings come from the runner (declared in ``uses``). ``related_ids`` = the summed findings'
    subject ids; subject = the first of them; geometry = their union. No ID number is written out.

    Examples
    --------
    >>> # farm_criminal(ctx)
    """
    b = ctx.used("FARM-BUILD")
    n = ctx.used("FARM-NONAGRI")
    geoms = np.concatenate([b.geometry.to_numpy(), n.geometry.to_numpy()])
    if len(geoms) == 0:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    layer = np.concatenate([b["subject_layer"].to_numpy(dtype=object), n["subject_layer"].to_numpy(dtype=object)])
    sid = np.concatenate([b["subject_id"].to_numpy(dtype=object), n["subject_id"].to_numpy(dtype=object)]).astype(str)
    status = np.concatenate([b["status"].to_numpy(dtype=object), n["status"].to_numpy(dtype=object)])
    buildings = ctx["buildings"]
    owner_of = pd.Series(buildings["owner_id"].to_numpy(dtype=object),
                         index=buildings["building_id"].astype(str).to_numpy())
    owner_of = owner_of[~owner_of.index.duplicated()]
    b_owner = b["subject_id"].astype(str).map(owner_of).to_numpy(dtype=object)
    owner = np.concatenate([owner_keys(b_owner), np.full(len(n), None, dtype=object)])
    area = shapely.area(geoms)
    on_pbf = np.minimum(cover_area(geoms, ctx.used("pbf_cover")), area)
    # group: by owner, else by contiguity among the ownerless findings
    group = np.full(len(geoms), None, dtype=object)
    has = pd.notna(owner)
    group[has] = "O:" + owner[has].astype(str)
    loose = np.flatnonzero(~has)
    if len(loose):
        tree = shapely.STRtree(geoms[loose])
        li, ri = tree.query(geoms[loose], predicate="intersects")
        labels = components(len(loose), li, ri)
        group[loose] = ["P:" + str(x) for x in labels]
    frame = pd.DataFrame({"g": group, "layer": layer, "sid": sid, "area": area, "pbf": on_pbf,
                          "new": status == "new", "known": pd.notna(status)})
    frame["other"] = frame["area"] - frame["pbf"]
    frame = frame.sort_values(["g", "layer", "sid"], kind="stable")
    agg = frame.groupby("g", sort=True).agg(
        pbf=("pbf", "sum"), other=("other", "sum"), area=("area", "sum"), layer=("layer", "first"),
        sid=("sid", "first"), n=("sid", "size"), new=("new", "any"), known=("known", "all"),
        related=("sid", lambda s: ";".join(s)))
    groups, unions = union_by(frame["g"].to_numpy(dtype=object).astype(str), geoms[frame.index.to_numpy()])
    agg = agg.reindex(groups)
    unions = polygonal(unions)
    vids = assign_villages(unions, ctx.villages)
    pbf_mu, other_mu = m2_to_mu(agg["pbf"].to_numpy(float)), m2_to_mu(agg["other"].to_numpy(float))
    lim_pbf = ctx.limit("criminal_pbf_mu", vids).astype(float)
    lim_other = ctx.limit("criminal_other_mu", vids).astype(float)
    hit_pbf = pbf_mu >= lim_pbf - 1e-9
    hit_other = other_mu >= lim_other - 1e-9
    keep = hit_pbf | hit_other
    agg, unions, vids = agg[keep], unions[keep], vids[keep]
    pbf_mu, other_mu, lim_pbf, lim_other, hit_pbf = (pbf_mu[keep], other_mu[keep], lim_pbf[keep], lim_other[keep],
                                                     hit_pbf[keep])
    owned = agg.index.str.startswith("O:")
    message = [
        f"{'同一权利人名下' if w else '同一连片违法占地'}{k}处（{r.replace(';', '、')}）合计非法占用永久基本农田{p:.2f}亩、其他耕地{o:.2f}亩，"
        f"达到{('永久基本农田' + format(lp, 'g')) if hp else ('其他耕地' + format(lo, 'g'))}亩的追究刑事责任标准，"
        f"涉嫌非法占用农用地罪，建议移送公安机关（{{basis}}）。"
        for w, k, r, p, o, hp, lp, lo in zip(owned, agg["n"], agg["related"], pbf_mu, other_mu, hit_pbf, lim_pbf, lim_other)]
    status = np.where(agg["new"].to_numpy(), "new", np.where(agg["known"].to_numpy(), "existing", None)).astype(object)
    return partial(ctx.crs, unions, subject_layer=agg["layer"].to_numpy(dtype=object),
                   subject_id=agg["sid"].to_numpy(dtype=object), related_ids=agg["related"].to_numpy(dtype=object),
                   key=np.where(owned, "owner", "patch"), village_id=vids, severity="high",
                   measured=np.where(hit_pbf, pbf_mu, other_mu), limit=np.where(hit_pbf, lim_pbf, lim_other),
                   unit="亩", area_m2=agg["area"].to_numpy(float), status=status, message=message)


@implements("FARM-RS", inputs=("landcover_before", "landcover_after"),
            uses=("farmland_cover", "pbf_cover", "pieces:eco_redline"), limits=("rs_min_area_m2",))
def farm_rs(ctx: Context) -> gpd.GeoDataFrame:
    """卫片图斑 (待核查): pixels that were cropland in ``landcover_before`` and are built-up, forest or water in
    ``landcover_after`` (class codes from ``[landcover]``), vectorised, clipped to farmland, patches under
    ``rs_min_area_m2`` (default 50 m²) dropped.

    Each patch is tagged like a national change-patch table: SFYN (是否涉及永久基本农田) and SFHX (是否涉及
    生态保护红线). Severity ``low`` until verified in the field. Subject id ``RS-<E>-<N>`` from the patch's
    centroid in the working CRS (stable on unchanged rasters).

    Examples
    --------
    >>> # farm_rs(ctx)
    """
    patches = change_patches(ctx.rasters["landcover_before"], ctx.rasters["landcover_after"],
                             ctx.raster_classes, crs=ctx.crs,
                             bounds=tuple(ctx.villages.total_bounds))
    patches = patches[patches["change"] != "bare"]  # cropland -> bare soil is FARM-DIG's
    idx, part = subdivided_intersection(patches.geometry.to_numpy(), ctx.used("farmland_cover"))
    part = polygonal(part)
    vids = assign_villages(part, ctx.villages)
    area = shapely.area(part)
    keep = area >= np.maximum(ctx.limit("rs_min_area_m2", vids).astype(float), 1e-9)
    idx, part, vids, area = idx[keep], part[keep], vids[keep], area[keep]
    kind = patches["change"].to_numpy(dtype=object)[idx]
    small = min_area(ctx, vids)
    sfyn = cover_area(part, ctx.used("pbf_cover")) >= small
    eco = ctx.get("eco_redline")
    sfhx = (cover_area(part, ctx.used("pieces:eco_redline")[0]) >= small if eco is not None and len(eco)
            else np.zeros(len(part), dtype=bool))
    ids = patch_ids(part)
    yes = {True: "是", False: "否"}
    message = [f"卫片图斑{i}：耕地变为{CHANGE_NAMES[k]}，面积{a}，SFYN（涉及永久基本农田）={yes[bool(y)]}，"
               f"SFHX（涉及生态保护红线）={yes[bool(h)]}，需外业核查确认（{{basis}}）。"
               for i, k, a, y, h in zip(ids, kind, fmt_area(area), sfyn, sfhx)]
    return partial(ctx.crs, part, subject_layer="landcover_after", subject_id=ids, village_id=vids,
                   severity="low", measured=area, limit=ctx.limit("rs_min_area_m2", vids).astype(float),
                   unit="m²", area_m2=area, message=message)
