"""``FARM-SPACE`` 耕地保护空间内非耕地 (PG-NF 四(九)19; 附件2 二(二)2).

Land inside the farmland protection space (role ``farmland_protection``: ``kind`` = ``retention``
耕地保有量空间, target “全部为现状耕地” by the end of 2022; ``protection`` 耕地保护空间, by 2035; a
``target_year`` on the polygon overrides its kind's, and the kinds' years are the ``space_target_year``
limit) whose current survey class is not 耕地 (``01xx``) is a 复耕 / 退园还耕 candidate. One finding per
current land-use patch: geometry = its part inside the space (≥ ``min_overlap_m2``), the class named,
``related_ids`` = the spaces; severity ``medium`` when the run date is past the target (year end), ``low``
before it. Where a patch lies in spaces with different targets, the earliest applies. A space with neither
a known kind nor a ``target_year`` is a data-quality note; its land is reported ``low`` without a date.
Patches whose code is not a GB/T 21010 code are not judged (the district notes them).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landuse import class_name, is_farmland, is_garden, is_known, is_woodland
from layers.values import per_value
from spatial.bigoverlay import union_by
from spatial.overlay import pairwise_intersection

from ._common import fmt_area, partial
from .context import Context, Note, RuleResult
from .farmland_base import min_area, polygonal
from .registry import implements

__all__ = ["farm_space", "space_targets", "SPACE_NAMES"]

#: Protection space kinds and their Chinese names.
SPACE_NAMES = {"retention": "耕地保有量空间", "protection": "耕地保护空间"}
_AREA_TOL = 0.005


def space_targets(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each protection space's kind (None when unknown), target year (NaN when unknown) and whether its
    ``kind`` was given but not understood.

    Examples
    --------
    >>> # kinds, years, bad = space_targets(ctx)
    """
    fp = ctx["farmland_protection"]
    raw = fp["kind"] if "kind" in fp.columns else pd.Series([None] * len(fp), dtype=object)
    text = per_value(raw, lambda v: v.strip().lower() if isinstance(v, str) and v.strip() else None)
    words = {"retention": "retention", "耕地保有量空间": "retention", "保有量": "retention",
             "protection": "protection", "耕地保护空间": "protection", "保护空间": "protection"}
    kind = per_value(text, lambda v: words.get(v) if isinstance(v, str) else None).to_numpy(dtype=object)
    tables = ctx.limit("space_target_year", fp["village_id"])
    by_kind = np.array([float(getattr(t, k)) if isinstance(k, str) else np.nan for t, k in zip(tables, kind)])
    own = pd.to_numeric(fp["target_year"], errors="coerce").to_numpy(dtype=float) if "target_year" in fp.columns \
        else np.full(len(fp), np.nan)
    own = np.where((own >= 1900) & (own <= 9999), np.round(own), np.nan)
    years = np.where(np.isnan(own), by_kind, own)
    return kind, years, (text.notna().to_numpy() & pd.isna(kind))


@implements("FARM-SPACE", inputs=("farmland_protection",), limits=("space_target_year",))
def farm_space(ctx: Context) -> RuleResult:
    """耕地保护空间内非耕地: current non-farmland patches inside the farmland protection space.

    Examples
    --------
    >>> # farm_space(ctx) -> one row per land-use patch, its part inside the space
    """
    fp = ctx["farmland_protection"]
    lu = ctx["landuse"]
    empty = partial(ctx.crs, [], subject_layer=[], subject_id=[])
    if fp.empty or lu.empty:
        return RuleResult(empty)
    kind, years, bad = space_targets(ctx)
    sids = fp["space_id"].astype(object).to_numpy(dtype=object) if "space_id" in fp.columns \
        else np.array([f"farmland_protection#{i + 1}" for i in range(len(fp))], dtype=object)
    notes = []
    unknown = np.isnan(years)
    if unknown.any():
        notes.append(Note("farmland_protection", "unknown_kind", tuple(str(i) for i in sids[unknown]),
                          "farmland_protection：{n} 个耕地保护空间既无可识别的类型（kind 应为 retention 耕地保有量空间 "
                          "或 protection 耕地保护空间）也无目标年份（target_year）：{ids}；其中的非耕地按未定目标年份报告"))
    codes = lu["dlbm"].astype(object)
    cand = np.flatnonzero(is_known(codes) & ~is_farmland(codes))
    li, ri, parts = pairwise_intersection(lu.geometry.to_numpy()[cand], fp.geometry.to_numpy())
    if len(li) == 0:
        return RuleResult(empty, tuple(notes))
    which, inside = union_by(li, parts)
    inside = polygonal(inside)
    area = shapely.area(inside)
    rows_i = cand[which]
    rows = lu.iloc[rows_i]
    keep = area >= min_area(ctx, rows["village_id"]) - _AREA_TOL
    which, inside, area, rows_i, rows = which[keep], inside[keep], area[keep], rows_i[keep], rows[keep]
    if len(which) == 0:
        return RuleResult(empty, tuple(notes))
    pairs = pd.DataFrame({"l": li, "s": ri, "y": years[ri]})
    grouped = pairs.groupby("l")
    target = grouped["y"].min().reindex(which).to_numpy(dtype=float)
    first = pairs.sort_values(["l", "y", "s"], na_position="last").drop_duplicates("l").set_index("l")["s"]
    space = first.reindex(which).to_numpy(dtype=np.intp)
    related = grouped["s"].agg(lambda s: ";".join(str(sids[i]) for i in sorted(set(s)))).reindex(which)
    past = ~np.isnan(target) & np.array(
        [ctx.as_of > dt.date(int(y), 12, 31) if not np.isnan(y) else False for y in target], dtype=bool)
    code = per_value(codes.iloc[rows_i], lambda c: c.strip().upper()).to_numpy(dtype=object)
    names = class_name(pd.Series(code, dtype=object)).to_numpy(dtype=object)
    remedy = np.where(is_garden(code), "退园还耕", np.where(is_woodland(code), "退林还耕", "复耕")).astype(object)
    space_name = [SPACE_NAMES.get(k, "耕地保护空间") if isinstance(k, str) else "耕地保护空间" for k in kind[space]]
    when = [("目标年份未定" if np.isnan(y) else
             f"目标为{int(y)}年底前全部为现状耕地，{'已逾期' if p else '尚未到期'}") for y, p in zip(target, past)]
    tbbh = rows["tbbh"].to_numpy(dtype=object)
    message = [f"图斑{t}（{c} {n if isinstance(n, str) else ''}）有{a}位于{sn}{sid}内，现状不是耕地；{w}；"
               f"列为{r}候选，依据{{basis}}。"
               for t, c, n, a, sn, sid, w, r in zip(tbbh, code, names, fmt_area(area), space_name, sids[space], when,
                                                    remedy)]
    return RuleResult(partial(ctx.crs, inside, subject_layer="landuse", subject_id=tbbh,
                              related_ids=related.to_numpy(dtype=object),
                              village_id=rows["village_id"].to_numpy(dtype=object),
                              severity=np.where(past, "medium", "low"), measured=np.round(area, 2), limit=0.0,
                              unit="m²", area_m2=area, message=message), tuple(notes))
