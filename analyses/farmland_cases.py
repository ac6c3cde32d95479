"""Farmland rules built on other findings or on imagery: ``FARM-CRIMINAL`` 涉嫌犯罪移送 (sums of
``FARM-BUILD``, ``FARM-NONAGRI``, ``FARM-LAKE`` and ``FARM-DIG`` per owner or contiguous case patch, and construction on
baseline woodland and grassland) and ``FARM-RS`` 卫片图斑.
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
from layers.landuse import is_construction, is_grassland, is_woodland
from layers.values import per_value
from spatial.overlay import prepare_cover
from spatial.units import m2_to_mu

from ._common import fmt_area, partial, status_from_year
from .farmland_base import baseline_survey, cover_area, min_area, minus_cover, polygonal
from .context import Context
from .registry import implements, intermediate

__all__ = ["owner_keys", "other_agri_construction", "farm_criminal", "farm_rs"]


def owner_keys(owner_ids) -> np.ndarray:
    """Who owns a finding: the normalised ID number when valid, else the stripped text, else None.

    Examples
    --------
    >>> owner_keys(["11010519491231002x ", "  ", None, "甲公司"]).tolist()
    ['11010519491231002X', None, None, '甲公司']
    """
    raw = per_value(owner_ids, lambda v: v.strip() or None if isinstance(v, str) else None)
    ids, valid = normalise_ids(raw)
    out = np.where(valid.to_numpy(), ids.to_numpy(dtype=object), raw.to_numpy(dtype=object)).astype(object)
    out[pd.isna(out)] = None
    return out


_NONE = np.empty(0, dtype=object)


def _on_land(ctx: Context, cover: np.ndarray) -> dict:
    """Construction without approval on ``cover`` (subdivided pieces), off farmland: buildings and patches.

    Buildings keep their ``owner_id``; construction land-use patches (outside building footprints) have none.
    """
    b, lu = ctx["buildings"], ctx["landuse"]
    bi, bpart = np.empty(0, dtype=np.intp), _NONE
    li, lpart = np.empty(0, dtype=np.intp), _NONE
    cand = np.flatnonzero(is_construction(lu["dlbm"].astype(object)))
    if len(cover):
        bi, bpart = subdivided_intersection(b.geometry.to_numpy(), cover)
        if len(cand):
            li, lpart = subdivided_intersection(lu.geometry.to_numpy()[cand], cover)
            li = cand[li]
    for c in (ctx.used("approved_cover"), ctx.used("farmland_cover")):   # farmland is counted as farmland
        bpart, lpart = minus_cover(bpart, c), minus_cover(lpart, c)
    lpart = minus_cover(lpart, ctx.used("buildings_cover"))
    geom = polygonal(np.concatenate([bpart, lpart]))
    bv, lv = b["village_id"].to_numpy(dtype=object)[bi], lu["village_id"].to_numpy(dtype=object)[li]
    byear = b["built_year"].iloc[bi] if "built_year" in b.columns else pd.Series([None] * len(bi), dtype=object)
    status = np.concatenate([status_from_year(byear, ctx.limit("farmland_cutoff", bv)),
                             status_from_year(lu["survey_year"].iloc[li], ctx.limit("farmland_cutoff", lv))])
    keep = shapely.area(geom) >= min_area(ctx, np.concatenate([bv, lv]))
    return {
        "geom": geom[keep],
        "layer": np.array(["buildings"] * len(bi) + ["landuse"] * len(li), dtype=object)[keep],
        "sid": np.concatenate([b["building_id"].astype(str).to_numpy(dtype=object)[bi],
                               lu["tbbh"].astype(str).to_numpy(dtype=object)[li]])[keep],
        "owner": np.concatenate([owner_keys(b["owner_id"].to_numpy(dtype=object)[bi]),
                                 np.full(len(li), None, dtype=object)])[keep],
        "status": status.astype(object)[keep],
    }


@intermediate("other_agri_construction", uses=("approved_cover", "farmland_cover", "buildings_cover"))
def other_agri_construction(ctx: Context) -> dict:
    """Construction without approval on baseline woodland (``03xx``) and grassland (``04xx``) off farmland.

    Returns ``{"wood": parts, "grass": parts}``, each a dict of arrays ``geom``, ``layer``, ``sid``,
    ``owner`` (normalised ``owner_id`` of buildings, None for land-use patches) and ``status``. Building
    footprints come first; construction land-use patches count only outside them.

    Examples
    --------
    >>> # ctx.used("other_agri_construction")["wood"]["geom"]
    """
    base = baseline_survey(ctx)
    codes, geoms = base["dlbm"].astype(object), base.geometry.to_numpy()
    return {"wood": _on_land(ctx, prepare_cover(geoms[is_woodland(codes)])),
            "grass": _on_land(ctx, prepare_cover(geoms[is_grassland(codes)]))}


@implements("FARM-CRIMINAL",
            uses=("FARM-BUILD", "FARM-NONAGRI", "FARM-LAKE", "FARM-DIG", "pbf_cover", "other_agri_construction"),
            limits=("criminal_pbf_mu", "criminal_other_mu", "criminal_woodland_mu", "criminal_grassland_mu",
                    "farmland_cutoff"))
def farm_criminal(ctx: Context) -> gpd.GeoDataFrame:
    """涉嫌犯罪移送: one owner illegally occupies PBF ≥ ``criminal_pbf_mu`` (5 亩) or other farmland ≥
    ``criminal_other_mu`` (10 亩), summed over that owner's ``FARM-BUILD``, ``FARM-NONAGRI``, ``FARM-LAKE``
    and ``FARM-DIG`` (取土 / 压占) findings; or builds without approval on baseline woodland ``03xx`` ≥ ``criminal_woodland_mu``
    (10 亩) or grassland ``04xx`` ≥ ``criminal_grassland_mu`` (20 亩) (PG-NF 四(十一)24 “其他农用地”; the
    sources name no figure for these: the defaults come from 法释〔2005〕15号 and 法释〔2012〕15号, and the
    message says they are configured).

    The owner is a building's ``owner_id``; findings without one (land-use patches, buildings with no
    owner) are grouped into contiguous case patches (parts that touch). The other rules' findings come from
    the runner (declared in ``uses``). ``related_ids`` = the summed subjects' ids; subject = the first of
    them; geometry = their union; ``measured``/``limit`` = the first threshold reached (PBF, other farmland,
    woodland, grassland). No ID number is written out.

    Examples
    --------
    >>> # farm_criminal(ctx)
    """
    found = [ctx.used(r) for r in ("FARM-BUILD", "FARM-NONAGRI", "FARM-LAKE", "FARM-DIG")]
    extra = ctx.used("other_agri_construction")
    wood, grass = extra["wood"], extra["grass"]
    geoms = np.concatenate([f.geometry.to_numpy() for f in found] + [wood["geom"], grass["geom"]])
    if len(geoms) == 0:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    layer = np.concatenate([f["subject_layer"].to_numpy(dtype=object) for f in found] + [wood["layer"], grass["layer"]])
    sid = np.concatenate([f["subject_id"].to_numpy(dtype=object) for f in found]
                         + [wood["sid"], grass["sid"]]).astype(str)
    status = np.concatenate([f["status"].to_numpy(dtype=object) for f in found] + [wood["status"], grass["status"]])
    buildings = ctx["buildings"]
    owner_of = pd.Series(buildings["owner_id"].to_numpy(dtype=object),
                         index=buildings["building_id"].astype(str).to_numpy())
    owner_of = owner_of[~owner_of.index.duplicated()]
    b = found[0]
    b_owner = b["subject_id"].astype(str).map(owner_of).to_numpy(dtype=object)
    n_farm = sum(len(f) for f in found)
    owner = np.concatenate([owner_keys(b_owner), np.full(n_farm - len(b), None, dtype=object),
                            wood["owner"], grass["owner"]])
    area = shapely.area(geoms)
    farm = np.zeros(len(geoms), dtype=bool)
    farm[:n_farm] = True
    on_pbf = np.zeros(len(geoms))
    on_pbf[:n_farm] = np.minimum(cover_area(geoms[:n_farm], ctx.used("pbf_cover")), area[:n_farm])
    kind = np.array(["farm"] * n_farm + ["wood"] * len(wood["geom"]) + ["grass"] * len(grass["geom"]), dtype=object)
    # group: by owner, else by contiguity among the ownerless parts
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
                          "other": np.where(farm, area - on_pbf, 0.0),
                          "wood": np.where(kind == "wood", area, 0.0), "grass": np.where(kind == "grass", area, 0.0),
                          "new": status == "new", "known": pd.notna(status)})
    # only groups holding, of some kind, at least the smallest figure any village has can reach a threshold:
    # the others are neither unioned nor placed in a village
    keys = ("criminal_pbf_mu", "criminal_other_mu", "criminal_woodland_mu", "criminal_grassland_mu")
    every = np.r_[ctx.villages["village_id"].to_numpy(dtype=object), [None]]
    smallest = np.array([np.nanmin(ctx.limit(k, every).astype(float)) for k in keys])
    held = frame.groupby("g", sort=False)[["pbf", "other", "wood", "grass"]].sum()
    held_mu = m2_to_mu(held.to_numpy(dtype=float))
    can = ((held_mu >= smallest - 1e-9) & (held_mu > 0)).any(axis=1)
    frame = frame[frame["g"].isin(held.index[can]).to_numpy()]
    if frame.empty:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    frame = frame.sort_values(["g", "layer", "sid"], kind="stable")
    agg = frame.groupby("g", sort=True).agg(
        pbf=("pbf", "sum"), other=("other", "sum"), wood=("wood", "sum"), grass=("grass", "sum"),
        area=("area", "sum"), layer=("layer", "first"), sid=("sid", "first"), new=("new", "any"),
        known=("known", "all"), related=("sid", lambda s: ";".join(dict.fromkeys(s))))
    agg["n"] = agg["related"].str.count(";") + 1
    groups, unions = union_by(frame["g"].to_numpy(dtype=object).astype(str), geoms[frame.index.to_numpy()])
    agg = agg.reindex(groups)
    unions = polygonal(unions)
    vids = assign_villages(unions, ctx.villages)
    names = ("永久基本农田", "其他耕地", "林地", "草地")
    mu = np.column_stack([m2_to_mu(agg[c].to_numpy(float)) for c in ("pbf", "other", "wood", "grass")])
    lim = np.column_stack([ctx.limit(k, vids).astype(float) for k in keys])
    hit = (mu >= lim - 1e-9) & (mu > 0)
    keep = hit.any(axis=1)
    agg, unions, vids, mu, lim, hit = agg[keep], unions[keep], vids[keep], mu[keep], lim[keep], hit[keep]
    first = np.argmax(hit, axis=1)
    rows = np.arange(len(first))
    owned = agg.index.str.startswith("O:")

    def text(w, k, r, m, lm, h):
        held = "、".join(f"{names[j]}{m[j]:.2f}亩" for j in range(4) if j < 2 or m[j] > 0)
        reached = "、".join(f"{names[j]}{lm[j]:g}亩" for j in range(4) if h[j])
        note = ""
        if h[2] or h[3]:
            note = ("（林地、草地的数额标准依据未作规定，为配置值，默认值取自最高人民法院法释〔2005〕15号"
                    "（林地）、法释〔2012〕15号（草地））")
        return (f"{'同一权利人名下' if w else '同一连片违法占地'}{k}处（{r.replace(';', '、')}）合计非法占用{held}，"
                f"达到{reached}的追究刑事责任标准{note}，涉嫌非法占用农用地罪，建议移送公安机关（{{basis}}）。")

    message = [text(w, k, r, m, lm, h) for w, k, r, m, lm, h in zip(owned, agg["n"], agg["related"], mu, lim, hit)]
    status = np.where(agg["new"].to_numpy(), "new", np.where(agg["known"].to_numpy(), "existing", None)).astype(object)
    return partial(ctx.crs, unions, subject_layer=agg["layer"].to_numpy(dtype=object),
                   subject_id=agg["sid"].to_numpy(dtype=object), related_ids=agg["related"].to_numpy(dtype=object),
                   key=np.where(owned, "owner", "patch"), village_id=vids, severity="high",
                   measured=mu[rows, first], limit=lim[rows, first],
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
