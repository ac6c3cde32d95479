"""Family ``siting`` (门政发〔2019〕19号), second edition: land, level, approval, green cover, scattered graves.

* ``SITE-LAND`` 公墓占用耕地林地 — the part of a cemetery or burial point on farmland (baseline 耕地 ∪ PBF),
  woodland (``03xx`` in the current survey) or the eco red line (overlap ≥ ``min_overlap_m2``); one finding
  per cemetery, geometry = that part; severity ``high`` when ≥ the minimum of it is PBF or red line.
* ``SITE-LEVEL`` 公墓层级与布局不符 — a cemetery whose ``level`` (``district`` / ``town`` / ``burial_point``,
  also 区级 / 镇级 / 集中埋葬点) is not allowed in its village's township by ``cemetery_levels`` (第九条's
  table; default Mentougou's), or one of more 镇级 cemeteries in a township than ``town_per_township``
  (第九条 各建一处; every one of them is flagged). A level the rule does not know is a data-quality note,
  never a finding.
* ``SITE-APPROVAL`` 公墓未批先建 / 擅自扩大 — a cemetery with no ``cemetery`` approval (its ``approval_id``,
  else the cemetery approvals it overlaps), the part of it outside its approved polygons (≥ the minimum
  overlap), or its area above the approved area (``approved_area_m2``, else the polygons' area) by more
  than ``max(overuse_ratio × approved, overuse_min_m2)`` (FARM-OVERUSE's tolerance). Without any
  ``cemetery`` approval in the district the rule says so in the summary and flags nothing.
* ``SITE-GREEN`` 公墓绿化覆盖率不足 — green cover below ``cemetery_green_min`` (50 %): the ``green_ratio``
  attribute (0–1), else the share of the cemetery's ``landcover_after`` pixels in the ``vegetation``
  classes of ``[landcover]``; severity ``low``.
* ``SITE-GRAVE`` 散坟乱葬 — a grave (role ``graves``, points or polygons) outside every approved cemetery
  and burial point (the ``cemetery`` approvals' polygons and the cemeteries that name one; without any
  cemetery approval, the cemeteries layer); ``medium`` on farmland or PBF, else ``low``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landuse import is_woodland
from layers.values import per_value
from spatial.bigoverlay import union_by
from spatial.overlay import intersection_by_left, pairwise_intersection, prepare_cover

from ._common import fmt_area, join_per, partial
from .context import Context, Note, RuleResult
from .farmland_base import approval_kinds, cover_area, min_area, minus_cover, polygonal
from .registry import implements, intermediate

__all__ = ["site_land", "site_level", "site_approval", "site_green", "site_grave", "normalise_levels",
           "class_share", "LEVEL_NAMES", "woodland_cover", "cemetery_approvals"]

#: Cemetery levels and their Chinese names.
LEVEL_NAMES = {"district": "区级公墓", "town": "镇级公墓", "burial_point": "集中埋葬点"}
_LEVEL_WORDS = {"district": "district", "区级": "district", "区级公墓": "district",
                "town": "town", "镇级": "town", "乡级": "town", "镇级公墓": "town", "乡镇级": "town",
                "burial_point": "burial_point", "burial point": "burial_point", "集中埋葬点": "burial_point",
                "埋葬点": "burial_point"}
_AREA_TOL = 0.005


def _empty(ctx: Context) -> gpd.GeoDataFrame:
    return partial(ctx.crs, [], subject_layer=[], subject_id=[])


def _label(names, ids) -> list[str]:
    return [f"公墓{n}（{i}）" if isinstance(n, str) and n else f"公墓{i}" for n, i in zip(names, ids)]


def _cemetery_labels(c: gpd.GeoDataFrame) -> list[str]:
    names = c["name"] if "name" in c.columns else pd.Series([None] * len(c), dtype=object)
    return _label(names.to_numpy(dtype=object), c["cemetery_id"].to_numpy(dtype=object))


def _strip(values) -> np.ndarray:
    s = pd.Series(values, dtype=object)
    return per_value(s, lambda v: (v.strip() or None) if isinstance(v, str) else None).to_numpy(dtype=object)


@intermediate("woodland_cover")
def woodland_cover(ctx: Context) -> np.ndarray:
    """Pieces whose union is the current survey's woodland (``03xx``).

    Examples
    --------
    >>> # ctx.used("woodland_cover")
    """
    lu = ctx["landuse"]
    return prepare_cover(lu.geometry.to_numpy()[is_woodland(lu["dlbm"])])


@intermediate("cemetery_approvals")
def cemetery_approvals(ctx: Context) -> dict:
    """The district's ``cemetery`` approvals by id: ``ids``, ``shapes`` (union per id), ``approved`` (area, m²).

    ``approved`` is the sum of ``approved_area_m2`` over the id's rows, else the shape's area.

    Examples
    --------
    >>> # ctx.used("cemetery_approvals")["ids"]
    """
    ap = ctx.get("approvals")
    empty = {"ids": np.empty(0, dtype=object), "shapes": np.empty(0, dtype=object), "approved": np.empty(0),
             "village_id": np.empty(0, dtype=object)}
    if ap is None or ap.empty:
        return empty
    ids = _strip(ap["approval_id"].to_numpy(dtype=object))
    sel = (approval_kinds(ctx) == "cemetery").to_numpy() & pd.notna(ids)
    if not sel.any():
        return empty
    ids = ids[sel].astype(str)
    keys, shapes = union_by(ids, ap.geometry.to_numpy()[sel])
    area = pd.to_numeric(ap["approved_area_m2"], errors="coerce").to_numpy(dtype=float)[sel]
    given = pd.Series(area).groupby(ids).sum(min_count=1).reindex(keys).to_numpy(dtype=float)
    approved = np.where(np.isnan(given), shapely.area(shapes), given)
    vids = pd.Series(ap["village_id"].to_numpy(dtype=object)[sel]).groupby(ids).first().reindex(keys)
    return {"ids": np.asarray(keys, dtype=object), "shapes": shapes, "approved": approved,
            "village_id": vids.to_numpy(dtype=object)}


# ------------------------------------------------------------------------------------------------
# SITE-LAND
# ------------------------------------------------------------------------------------------------
@implements("SITE-LAND", inputs=("cemeteries",), uses=("farmland_cover", "pbf_cover", "woodland_cover",
                                                      "pieces:eco_redline"))
def site_land(ctx: Context) -> gpd.GeoDataFrame:
    """公墓占用耕地林地: the part of each cemetery on farmland, PBF, woodland or the eco red line.

    Examples
    --------
    >>> # site_land(ctx) -> one row per cemetery with its part on such land
    """
    c = ctx["cemeteries"]
    if c.empty:
        return _empty(ctx)
    red = ctx.used("pieces:eco_redline")[0]
    covers = {"farm": ctx.used("farmland_cover"), "pbf": ctx.used("pbf_cover"),
              "wood": ctx.used("woodland_cover"), "red": red}
    geoms = c.geometry.to_numpy()
    areas = {k: cover_area(geoms, v) for k, v in covers.items()}
    everything = [v for v in covers.values() if len(v)]
    if not everything:
        return _empty(ctx)
    idx, part = intersection_by_left(geoms, np.concatenate(everything))
    part = polygonal(part)
    area = shapely.area(part)
    rows = c.iloc[idx]
    least = min_area(ctx, rows["village_id"])
    keep = area >= least - _AREA_TOL
    idx, part, area, rows, least = idx[keep], part[keep], area[keep], rows[keep], least[keep]
    a = {k: v[idx] for k, v in areas.items()}
    high = (a["pbf"] >= least - _AREA_TOL) | (a["red"] >= least - _AREA_TOL)
    names = (("farm", "耕地"), ("pbf", "其中永久基本农田"), ("wood", "林地"), ("red", "生态保护红线"))
    what = []
    for i in range(len(idx)):
        bits = [f"{label}{fmt_area([a[k][i]])[0]}" for k, label in names if a[k][i] >= least[i] - _AREA_TOL]
        what.append("、".join(bits))
    labels = _cemetery_labels(rows)
    message = [f"{lab}占用{w}（合计{t}），违反{{basis}}：公墓选址应充分利用荒山瘠地，不得占用耕地林地、开山辟地。"
               for lab, w, t in zip(labels, what, fmt_area(area))]
    return partial(ctx.crs, part, subject_layer="cemeteries", subject_id=rows["cemetery_id"].to_numpy(dtype=object),
                   village_id=rows["village_id"].to_numpy(dtype=object), severity=np.where(high, "high", "medium"),
                   measured=np.round(area, 2), limit=0.0, unit="m²", area_m2=area, message=message)


# ------------------------------------------------------------------------------------------------
# SITE-LEVEL
# ------------------------------------------------------------------------------------------------
def normalise_levels(values) -> tuple[np.ndarray, np.ndarray]:
    """Each ``level`` as ``district`` / ``town`` / ``burial_point`` (None when empty or unknown) and
    whether the value was given but not understood.

    Examples
    --------
    >>> lv, bad = normalise_levels(["District", "镇级", " 集中埋葬点 ", None, "county"])
    >>> lv.tolist(), bad.tolist()
    (['district', 'town', 'burial_point', None, None], [False, False, False, False, True])
    """
    text = pd.Series(_strip(values), dtype=object)
    level = per_value(text, lambda v: _LEVEL_WORDS.get(v.lower()) if isinstance(v, str) else None)
    level = level.where(level.notna(), None)
    return level.to_numpy(dtype=object), (text.notna() & level.isna()).to_numpy()


@implements("SITE-LEVEL", inputs=("cemeteries",), limits=("cemetery_levels",))
def site_level(ctx: Context) -> RuleResult:
    """公墓层级与布局不符: a cemetery level not allowed in its township, or more 镇级 cemeteries in a township
    than ``cemetery_levels.town_per_township`` (第九条: 潭柘寺镇、斋堂镇"各建一处").

    Two kinds of finding, each with its own ``key`` (so their case ids differ):

    * ``key`` = the level (``district`` / ``town`` / ``burial_point``): the level is not allowed in the
      cemetery's township (an unknown township allows only ``"*"`` levels);
    * ``key`` = ``town_count``: the township is allowed 镇级 cemeteries but holds more than its
      ``town_per_township`` (a township may override the count). Every 镇级 cemetery of that township is
      flagged, each naming the others (``related_ids``) with ``measured`` = how many, ``limit`` = the count:
      第九条 caps the number, not which one is lawful, and the data cannot tell — an approval does not
      decide it either, as 区民政局 approves against the same plan (第十三条(四)), and SITE-APPROVAL already
      reports the unapproved ones. The inspector picks the one that stays. Townships are grouped by their
      name as the villages layer gives it (the name township limits are keyed on); 镇级 cemeteries already
      flagged for their township are not counted again.

    District cemeteries have no count: 第九条 names the 门城新城 area (six townships together) and no number.

    Examples
    --------
    >>> # site_level(ctx) -> one row per misplaced or surplus cemetery, the whole cemetery as geometry
    """
    c = ctx["cemeteries"]
    if c.empty or "level" not in c.columns:
        return RuleResult(_empty(ctx))
    level, bad = normalise_levels(c["level"])
    notes = []
    ids = c["cemetery_id"].to_numpy(dtype=object)
    if bad.any():
        notes.append(Note("cemeteries", "unknown_level", tuple(str(i) for i in ids[bad]),
                          "cemeteries：{n} 处公墓的层级（level）无法识别（{ids}），应为 district 区级、town 镇级或 "
                          "burial_point 集中埋葬点；未作 SITE-LEVEL 检查"))
    judged = np.flatnonzero(pd.notna(level))
    rows = c.iloc[judged]
    lv_all = level[judged]
    towns_all = ctx.townships_of(rows["village_id"]).to_numpy(dtype=object)
    known = pd.notna(_strip(towns_all))
    tables_all = ctx.limit("cemetery_levels", rows["village_id"])
    # the table depends only on the township: judge each (township, level) pair once
    pair = pd.DataFrame({"t": towns_all, "l": lv_all}).groupby(["t", "l"], dropna=False, sort=False).ngroup()
    pair = pair.to_numpy(dtype=np.intp)
    _, first = np.unique(pair, return_index=True)
    ok = np.array([tables_all[i].allows(lv_all[i], towns_all[i]) for i in first], dtype=bool)[pair]
    quota = np.array([tables_all[i].town_per_township for i in first], dtype=np.int64)[pair]
    out = []
    wrong = np.flatnonzero(~ok)
    if len(wrong):
        wrows = c.iloc[judged[wrong]]
        lv, towns, tables = lv_all[wrong], towns_all[wrong], tables_all[wrong]
        where = ["、".join(getattr(t, x)) for t, x in zip(tables, lv)]
        message = [f"{lab}为{LEVEL_NAMES[x]}，位于{tw if isinstance(tw, str) and tw else '未知乡镇'}；按{{basis}}"
                   f"（配置 cemetery_levels），{LEVEL_NAMES[x]}只能设在{w}，其余乡镇只能设集中埋葬点。"
                   for lab, x, tw, w in zip(_cemetery_labels(wrows), lv, towns, where)]
        out.append(partial(ctx.crs, wrows.geometry.to_numpy(), subject_layer="cemeteries",
                           subject_id=wrows["cemetery_id"].to_numpy(dtype=object),
                           village_id=wrows["village_id"].to_numpy(dtype=object), severity="medium",
                           key=lv, message=message))
    surplus = _town_surplus(ctx.crs, rows, ok & (lv_all == "town") & known, towns_all, quota)
    if surplus is not None:
        out.append(surplus)
    if not out:
        return RuleResult(_empty(ctx), tuple(notes))
    return RuleResult(gpd.GeoDataFrame(pd.concat(out, ignore_index=True), geometry="geometry", crs=ctx.crs),
                      tuple(notes))


def _town_surplus(crs, rows: gpd.GeoDataFrame, counted: np.ndarray, towns: np.ndarray,
                  quota: np.ndarray) -> gpd.GeoDataFrame | None:
    """The ``town_count`` findings of :func:`site_level`: every counted 镇级 cemetery (``counted``) of a
    township holding more than its ``quota`` (None when no township does).

    Examples
    --------
    >>> # _town_surplus(crs, rows, counted, towns, quota) -> two findings for two 镇级 cemeteries in 潭柘寺镇
    """
    at = np.flatnonzero(counted)
    if len(at) == 0:
        return None
    group, names = pd.factorize(pd.Series(towns[at], dtype=object))
    size = np.bincount(group)
    # a township's rows share one table, so one quota (the smallest, were it ever to differ)
    allowed = pd.Series(quota[at]).groupby(group).min().to_numpy()
    over = size[group] > allowed[group]
    if not over.any():
        return None
    g = group[over]
    sub = rows.iloc[at[over]]
    m = len(sub)
    labels = np.asarray(_cemetery_labels(sub), dtype=object)
    ids = sub["cemetery_id"].to_numpy(dtype=object)
    # the other flagged cemeteries of each one's township: pairs (i, j), i != j, within a township
    pairs = pd.DataFrame({"g": g, "i": np.arange(m)})
    pairs = pairs.merge(pairs, on="g", suffixes=("", "_o"))
    pairs = pairs[pairs["i"] != pairs["i_o"]]
    other = pairs["i_o"].to_numpy(dtype=np.intp)
    related = join_per(pairs["i"], ids[other], m)
    others = join_per(pairs["i"], labels[other], m, sep="、")
    n, lim = size[g], allowed[g]
    message = [f"{lab}为镇级公墓，位于{names[gi]}；该乡镇共有{ni}处镇级公墓"
               + (f"（另有{o}）" if isinstance(o, str) else "")
               + f"，按{{basis}}（配置 cemetery_levels.town_per_township），每个乡镇"
               + (f"只能建{li}处镇级公墓，请核定保留哪{'一' if li == 1 else li}处。" if li > 0
                  else "不能建镇级公墓。")
               for lab, gi, ni, o, li in zip(labels, g, n, others, lim)]
    return partial(crs, sub.geometry.to_numpy(), subject_layer="cemeteries", subject_id=ids,
                   related_ids=related, village_id=sub["village_id"].to_numpy(dtype=object),
                   severity="medium", measured=n.astype(float), limit=lim.astype(float), unit="处",
                   key="town_count", message=message)


# ------------------------------------------------------------------------------------------------
# SITE-APPROVAL
# ------------------------------------------------------------------------------------------------
@implements("SITE-APPROVAL", inputs=("cemeteries", "approvals"), uses=("cemetery_approvals",),
            limits=("overuse_ratio", "overuse_min_m2"))
def site_approval(ctx: Context) -> RuleResult:
    """公墓未批先建 / 擅自扩大: cemeteries without a ``cemetery`` approval, outside it, or larger than it.

    Examples
    --------
    >>> # site_approval(ctx)
    """
    c = ctx["cemeteries"]
    ap = ctx.used("cemetery_approvals")
    if c.empty:
        return RuleResult(_empty(ctx))
    if len(ap["ids"]) == 0:
        return RuleResult(_empty(ctx), (Note("", "", (), "SITE-APPROVAL：用地批复（approvals）中没有公墓审批"
                                                        "（kind = cemetery），未检查公墓是否经批准。"),))
    n = len(c)
    geoms = c.geometry.to_numpy()
    vids = c["village_id"].to_numpy(dtype=object)
    least = min_area(ctx, vids)
    pos = pd.Series(np.arange(len(ap["ids"])), index=ap["ids"])
    claim = _strip(c["approval_id"]) if "approval_id" in c.columns else np.full(n, None, dtype=object)
    claimed = pd.Series(claim, dtype=object).map(pos).to_numpy(dtype=float)
    # the approvals each cemetery stands on (by overlap), for those that name none
    li, ri, parts = pairwise_intersection(geoms, ap["shapes"])
    big = shapely.area(parts) >= least[li] - _AREA_TOL
    li, ri = li[big], ri[big]
    has_claim = pd.notna(claim)
    named = ~np.isnan(claimed)
    use_l = np.concatenate([np.flatnonzero(named), li[~has_claim[li]]])
    use_r = np.concatenate([claimed[named].astype(np.intp), ri[~has_claim[li]]])
    which, shapes = union_by(use_l, ap["shapes"][use_r]) if len(use_l) else (np.empty(0, np.intp), np.empty(0, object))
    approved = pd.Series(ap["approved"][use_r]).groupby(use_l).sum().reindex(which).to_numpy(dtype=float)
    names = join_per(use_l, ap["ids"][use_r], len(c))[which]
    labels = np.asarray(_cemetery_labels(c), dtype=object)
    ids = c["cemetery_id"].to_numpy(dtype=object)
    out = []
    # 1. no approval at all (or an approval id that is not a cemetery approval)
    covered = np.zeros(n, dtype=bool)
    covered[which] = True
    none = np.flatnonzero(~covered)
    if len(none):
        msg = [f"{labels[i]}所称审批文号{claim[i]}不是已有的公墓审批（approvals.kind = cemetery），属未批先建，违反{{basis}}。"
               if has_claim[i] else f"{labels[i]}没有公墓审批（approvals.kind = cemetery）覆盖，属未批先建，违反{{basis}}。"
               for i in none]
        area = shapely.area(geoms[none])
        out.append(partial(ctx.crs, geoms[none], subject_layer="cemeteries", subject_id=ids[none],
                           related_ids=[claim[i] for i in none], village_id=vids[none], severity="medium",
                           measured=np.round(area, 2), limit=0.0, unit="m²", area_m2=area, key="unapproved",
                           message=msg))
    # 2. beyond the approval: outside its polygon, or above its area
    if len(which):
        g = geoms[which]
        outside = polygonal(shapely.difference(g, shapes))
        out_area = shapely.area(outside)
        total = shapely.area(g)
        tol = np.maximum(ctx.limit("overuse_ratio", vids[which]).astype(float) * approved,
                         ctx.limit("overuse_min_m2", vids[which]).astype(float))
        excess = total - approved
        over = excess > tol + _AREA_TOL
        out_flag = out_area >= least[which] - _AREA_TOL
        hit = over | out_flag
        if hit.any():
            w = np.flatnonzero(hit)
            geom = np.where(out_flag[w], outside[w], g[w])
            measured = np.where(over[w], total[w], out_area[w])
            limit = np.where(over[w], approved[w] + tol[w], 0.0)
            msg = []
            for k in w:
                bits = []
                if out_flag[k]:
                    bits.append(f"有{fmt_area([out_area[k]])[0]}位于批准范围以外")
                if over[k]:
                    bits.append(f"面积{fmt_area([total[k]])[0]}超出批准面积{fmt_area([approved[k]])[0]}"
                                f"{fmt_area([excess[k]])[0]}（容差{fmt_area([tol[k]])[0]}）")
                msg.append(f"{labels[which[k]]}（公墓审批{names[k].replace(';', '、')}）" + "，".join(bits)
                           + "，属擅自扩大建设范围，违反{basis}。")
            out.append(partial(ctx.crs, geom, subject_layer="cemeteries", subject_id=ids[which[w]],
                               related_ids=names[w], village_id=vids[which[w]], severity="medium",
                               measured=np.round(measured, 2), limit=np.round(limit, 2), unit="m²",
                               area_m2=shapely.area(geom), key="beyond", message=msg))
    if not out:
        return RuleResult(_empty(ctx))
    return RuleResult(gpd.GeoDataFrame(pd.concat(out, ignore_index=True), geometry="geometry", crs=ctx.crs))


# ------------------------------------------------------------------------------------------------
# SITE-GREEN
# ------------------------------------------------------------------------------------------------
def class_share(path, geoms, crs, classes) -> np.ndarray:
    """The share of each polygon's pixels (centres inside) whose class is in ``classes`` (NaN: no pixel).

    One small window is read per polygon (cemeteries are few); nodata pixels are left out.

    Examples
    --------
    >>> # class_share("landcover_after.tif", cemeteries.geometry, "EPSG:4548", [2, 3]) -> array([0.62, nan])
    """
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.windows import from_bounds

    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), np.nan)
    if len(geoms) == 0:
        return out
    wanted = np.asarray(list(classes or []), dtype=float)
    with rasterio.open(path) as src:
        g = gpd.GeoSeries(geoms, crs=crs).to_crs(src.crs).to_numpy()
        full = rasterio.windows.Window(0, 0, src.width, src.height)
        for i, geom in enumerate(g):
            if geom is None or geom.is_empty:
                continue
            w = from_bounds(*geom.bounds, transform=src.transform)
            c0, r0 = int(np.floor(w.col_off)), int(np.floor(w.row_off))
            c1, r1 = int(np.ceil(w.col_off + w.width)) + 1, int(np.ceil(w.row_off + w.height)) + 1
            try:
                win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0).intersection(full)
            except rasterio.errors.WindowError:
                continue
            data = src.read(1, window=win)
            inside = ~geometry_mask([geom], out_shape=data.shape, transform=src.window_transform(win))
            if src.nodata is not None:
                inside &= data != src.nodata
            if inside.any():
                out[i] = float(np.isin(data[inside], wanted).mean())
    return out


@implements("SITE-GREEN", inputs=("cemeteries",), limits=("cemetery_green_min",))
def site_green(ctx: Context) -> RuleResult:
    """公墓绿化覆盖率不足: green cover share below ``cemetery_green_min`` (attribute, else land cover).

    Examples
    --------
    >>> # site_green(ctx)
    """
    c = ctx["cemeteries"]
    if c.empty:
        return RuleResult(_empty(ctx))
    ids = c["cemetery_id"].to_numpy(dtype=object)
    given = pd.to_numeric(c["green_ratio"], errors="coerce").to_numpy(dtype=float) if "green_ratio" in c.columns \
        else np.full(len(c), np.nan)
    notes = []
    bad = ~np.isnan(given) & ((given < 0) | (given > 1))
    if bad.any():
        notes.append(Note("cemeteries", "bad_green_ratio", tuple(str(i) for i in ids[bad]),
                          "cemeteries：{n} 处公墓的绿化覆盖率（green_ratio）不在 0–1 之间（{ids}），"
                          "应填比例（如 0.62 表示 62%）；按未填处理"))
        given = np.where(bad, np.nan, given)
    ratio, source = given.copy(), np.where(np.isnan(given), None, "属性 green_ratio").astype(object)
    missing = np.isnan(ratio)
    path = ctx.rasters.get("landcover_after")
    if missing.any() and path is not None:
        veg = getattr(ctx.raster_classes, "vegetation", None) if ctx.raster_classes is not None else None
        veg = [2, 3] if veg is None else veg
        share = class_share(path, c.geometry.to_numpy()[missing], ctx.crs, veg)
        ratio[missing] = share
        source[np.flatnonzero(missing)[~np.isnan(share)]] = "土地覆盖 landcover_after 植被类像元"
    unjudged = np.isnan(ratio)
    if unjudged.any():
        notes.append(Note("cemeteries", "green_unchecked", tuple(str(i) for i in ids[unjudged]),
                          "cemeteries：{n} 处公墓没有绿化覆盖率（green_ratio），也没有可用的土地覆盖栅格"
                          "（landcover_after），未作 SITE-GREEN 检查：{ids}"))
    least = ctx.limit("cemetery_green_min", c["village_id"]).astype(float)
    low = ~unjudged & (ratio < least - 1e-9)
    if not low.any():
        return RuleResult(_empty(ctx), tuple(notes))
    rows = c[low]
    message = [f"{lab}绿化覆盖率{r:.0%}（{s}），低于{m:.0%}，违反{{basis}}。"
               for lab, r, s, m in zip(_cemetery_labels(rows), ratio[low], source[low], least[low])]
    return RuleResult(partial(ctx.crs, rows.geometry.to_numpy(), subject_layer="cemeteries",
                              subject_id=ids[low], village_id=rows["village_id"].to_numpy(dtype=object),
                              severity="low", measured=np.round(ratio[low], 4), limit=least[low], unit="比例",
                              message=message), tuple(notes))


# ------------------------------------------------------------------------------------------------
# SITE-GRAVE
# ------------------------------------------------------------------------------------------------
@implements("SITE-GRAVE", inputs=("graves",), uses=("cemetery_approvals", "farmland_cover", "pbf_cover"))
def site_grave(ctx: Context) -> RuleResult:
    """散坟乱葬: graves outside every approved cemetery and burial point.

    Examples
    --------
    >>> # site_grave(ctx)
    """
    g = ctx["graves"]
    if g.empty:
        return RuleResult(_empty(ctx))
    ap = ctx.used("cemetery_approvals")
    notes = ()
    allowed = [ap["shapes"]]
    c = ctx.get("cemeteries")
    if c is not None and len(c):
        if len(ap["ids"]):
            claim = _strip(c["approval_id"]) if "approval_id" in c.columns else np.full(len(c), None, dtype=object)
            allowed.append(c.geometry.to_numpy()[pd.Series(claim, dtype=object).isin(set(ap["ids"])).to_numpy()])
        else:
            allowed.append(c.geometry.to_numpy())
            notes = (Note("", "", (), "SITE-GRAVE：没有公墓审批（approvals.kind = cemetery），"
                                      "以公墓图层（cemeteries）中的全部公墓和集中埋葬点为合法葬地判断散坟。"),)
    cover = np.concatenate(allowed)
    cover = prepare_cover(cover) if len(cover) else cover
    geoms = g.geometry.to_numpy()
    vids = g["village_id"].to_numpy(dtype=object)
    least = min_area(ctx, vids)
    dims = shapely.get_dimensions(geoms)
    point = dims == 0
    outside = geoms.copy()
    keep = np.ones(len(g), dtype=bool)
    if len(cover):
        tree = shapely.STRtree(cover)
        pi = np.flatnonzero(point)
        hit, _ = tree.query(geoms[pi], predicate="intersects")
        keep[pi[np.unique(hit)]] = False
        qi = np.flatnonzero(~point)
        outside[qi] = polygonal(minus_cover(geoms[qi], cover))
    area = np.where(point, 0.0, shapely.area(outside))
    keep &= point | (area >= least - _AREA_TOL)
    farm, pbf = ctx.used("farmland_cover"), ctx.used("pbf_cover")

    def on(cov) -> np.ndarray:
        res = np.zeros(len(g), dtype=bool)
        if len(cov) == 0:
            return res
        pi = np.flatnonzero(point)
        hit, _ = shapely.STRtree(cov).query(geoms[pi], predicate="intersects")
        res[pi[np.unique(hit)]] = True
        res[~point] = cover_area(outside[~point], cov) >= least[~point] - _AREA_TOL
        return res

    on_farm = on(farm) | on(pbf)
    on_pbf = on(pbf)
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return RuleResult(_empty(ctx), notes)
    count = pd.to_numeric(g["count"], errors="coerce").to_numpy(dtype=float) if "count" in g.columns \
        else np.ones(len(g))
    count = np.where(np.isnan(count) | (count < 1), 1.0, np.round(count))[idx]
    ids = g["grave_id"].to_numpy(dtype=object)[idx]
    land = np.where(on_pbf[idx], "永久基本农田上", np.where(on_farm[idx], "耕地上", "")).astype(object)
    where = np.where(point[idx], "", [f"（{a}）" for a in fmt_area(area[idx])]).astype(object)
    message = [f"散坟{i}{w}（{n:.0f}座）位于{l}，不在任何经批准的公墓或集中埋葬点内，违反{{basis}}。"
               .replace("位于，", "") for i, w, n, l in zip(ids, where, count, land)]
    return RuleResult(partial(ctx.crs, outside[idx], subject_layer="graves", subject_id=ids,
                              village_id=vids[idx], severity=np.where(on_farm[idx], "medium", "low"),
                              measured=count, limit=0.0, unit="座", area_m2=area[idx], message=message), notes)
