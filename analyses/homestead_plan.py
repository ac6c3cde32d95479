"""Family ``homestead`` — a parcel against its approval, the village plan and heritage zones.

* ``HOME-APPROVED`` (附件1 三(四)1, PG-4 五(三)): parcel area above its ``approved_area_m2`` by more than
  ``max(approved_excess_ratio × approved, approved_excess_min_m2)`` (5 %, 10 m²; the FARM-OVERUSE
  tolerance, configured on its own); the excess is reported.
* ``HOME-PLAN`` (附件5 二, 附件2 五(一)): the part of a parcel outside the village plan's construction
  land (``village_plan.kind`` = ``construction``) or inside a planned reduction area (``reduction``),
  ≥ ``min_overlap_m2``; severity ``low`` (a reduction candidate). Parcels of a village whose plan holds
  no construction land at all are not judged outside it (a data-quality note says so).
* ``HOME-RELIC`` (PG-4 二): the part of a parcel — or of a building on no parcel — inside a ``relic``
  protected zone not covered by an approval of kind ``relic``, ≥ ``min_overlap_m2``; severity ``low``
  (needs the heritage department's approval, not demolition).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from layers.values import per_value

from spatial.overlay import candidate_pairs, intersection_by_left, prepare_cover

from ._common import fmt_area, join_per, partial
from .context import Context, Note, RuleResult
from .farmland_base import approval_kinds, cover_area, min_area, minus_cover, polygonal
from .homestead import _building_status, _empty, _parcel_status
from .registry import implements

__all__ = ["home_approved", "home_plan", "home_relic", "plan_kinds"]

_AREA_TOL = 0.005


def _status(ctx: Context, rows) -> np.ndarray:
    return _parcel_status(rows["approved_date"], ctx.limit("homestead_area_date", rows["village_id"]))


# ------------------------------------------------------------------------------------------------
# HOME-APPROVED
# ------------------------------------------------------------------------------------------------
@implements("HOME-APPROVED", limits=("approved_excess_ratio", "approved_excess_min_m2", "homestead_area_date"))
def home_approved(ctx: Context) -> RuleResult:
    """未按批准面积使用宅基地: parcel area above ``approved_area_m2`` by more than the tolerance.

    ``measured`` = the parcel's area, ``limit`` = approved area + tolerance, ``area_m2`` = the excess over
    the approved area; geometry = the parcel. Parcels without an approved area are not judged; a zero or
    negative approved area is a data-quality note.

    Examples
    --------
    >>> # approved 150 m², parcel 160 m² -> excess 10 m² = tolerance: compliant; 161 m² -> finding, area_m2 11
    >>> # home_approved(ctx)
    """
    p = ctx["parcels"]
    approved = pd.to_numeric(p["approved_area_m2"], errors="coerce").to_numpy(dtype=float)
    bad = np.isfinite(approved) & (approved <= 0)
    notes: tuple[Note, ...] = ()
    if bad.any():
        notes = (Note("parcels", "bad_approved_area_m2", tuple(p["parcel_id"].astype(str).to_numpy()[bad]),
                      "parcels：{n} 宗宅基地的批准面积 approved_area_m2 不大于 0（{ids}），未作批准面积检查；"
                      "请核对 approved_area_m2 字段（平方米）"),)
    ok = np.isfinite(approved) & ~bad
    vid = p["village_id"].to_numpy(dtype=object)
    area = p.geometry.area.to_numpy()
    tol = np.maximum(np.asarray(ctx.limit("approved_excess_ratio", vid), dtype=float) * approved,
                     np.asarray(ctx.limit("approved_excess_min_m2", vid), dtype=float))
    with np.errstate(invalid="ignore"):
        over = ok & (area - approved - tol > _AREA_TOL)
    if not over.any():
        return RuleResult(_empty(ctx), notes)
    rows = p[over]
    excess = (area - approved)[over]
    ids = rows["parcel_id"].to_numpy(dtype=object)
    message = [f"宅基地{q}批准面积{ap:.2f}平方米，实际使用{a:.2f}平方米，超出批准面积{e}（允许误差{t:.2f}平方米），"
               f"未按照批准面积使用宅基地，违反{{basis}}。"
               for q, ap, a, e, t in zip(ids, approved[over], area[over], fmt_area(excess), tol[over])]
    return RuleResult(partial(
        ctx.crs, rows.geometry.to_numpy(), subject_layer="parcels", subject_id=ids,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="medium", measured=area[over],
        limit=(approved + tol)[over], unit="m²", area_m2=excess, status=_status(ctx, rows), message=message), notes)


# ------------------------------------------------------------------------------------------------
# HOME-PLAN
# ------------------------------------------------------------------------------------------------
def plan_kinds(values) -> np.ndarray:
    """``construction``, ``reduction``, ``ecological``, ``farmland`` or None from ``village_plan.kind``.

    English or Chinese (建设用地/建设边界, 减量/腾退/拆除, 生态, 农业/耕地).

    Examples
    --------
    >>> plan_kinds(["Construction", "村庄建设用地", "减量腾退区", "生态空间", None]).tolist()
    ['construction', 'construction', 'reduction', 'ecological', None]
    """
    s = per_value(values, lambda v: v.strip().lower() if isinstance(v, str) else "")
    out = np.full(len(s), None, dtype=object)
    for kind, pattern in (("farmland", "farm|agri|农业|耕地"), ("ecological", "ecolog|生态"),
                          ("construction", "construct|建设"), ("reduction", "reduc|减量|腾退|拆")):
        out[s.str.contains(pattern, regex=True).to_numpy()] = kind
    return out


@implements("HOME-PLAN", inputs=("village_plan",), limits=("min_overlap_m2", "homestead_area_date"))
def home_plan(ctx: Context) -> RuleResult:
    """不符合村庄规划的宅基地: the part of a parcel outside planned construction land, or in a reduction area.

    One finding per parcel and reason (``key`` ``outside`` / ``reduction``), geometry = that part,
    ``measured`` = its area; severity ``low``: a candidate for the 城乡建设用地减量 list.

    Examples
    --------
    >>> # a 10 m parcel half outside the construction land -> key 'outside', area_m2 50
    >>> # home_plan(ctx)
    """
    p, plan = ctx["parcels"], ctx["village_plan"]
    kind = plan_kinds(plan["kind"])
    vid = p["village_id"].to_numpy(dtype=object)
    small = min_area(ctx, vid)
    notes: list[Note] = []
    out_idx, out_geom, red_idx, red_geom = (np.empty(0, dtype=np.intp), np.empty(0, dtype=object)) * 2
    build = kind == "construction"
    planned = set(plan["village_id"].to_numpy(dtype=object)[build].tolist()) if "village_id" in plan.columns else set()
    judged = pd.Series(vid, dtype=object).isin(planned).to_numpy() if build.any() else np.zeros(len(p), dtype=bool)
    if (~judged).any() and len(p):
        notes.append(Note("parcels", "plan_without_construction",
                          tuple(p["parcel_id"].astype(str).to_numpy()[~judged]),
                          "HOME-PLAN：{n} 宗宅基地所在村的村庄规划图层中没有建设用地（kind = construction），"
                          "未作规划建设用地范围外检查：{ids}"))
    if judged.any():
        sel = np.flatnonzero(judged)
        rest = polygonal(minus_cover(p.geometry.to_numpy()[sel], prepare_cover(plan.geometry.to_numpy()[build])))
        keep = shapely.area(rest) >= small[sel]
        out_idx, out_geom = sel[keep], rest[keep]
    reduce = kind == "reduction"
    if reduce.any():
        idx, part = intersection_by_left(p.geometry.to_numpy(), prepare_cover(plan.geometry.to_numpy()[reduce]))
        part = polygonal(part)
        keep = shapely.area(part) >= small[idx]
        red_idx, red_geom = idx[keep], part[keep]
    idx = np.concatenate([out_idx, red_idx]).astype(np.intp)
    if len(idx) == 0:
        return RuleResult(_empty(ctx), tuple(notes))
    geoms = np.concatenate([out_geom, red_geom])
    key = np.array(["outside"] * len(out_idx) + ["reduction"] * len(red_idx), dtype=object)
    area = shapely.area(geoms)
    rows = p.iloc[idx]
    ids = rows["parcel_id"].to_numpy(dtype=object)
    total = rows.geometry.area.to_numpy()
    message = [f"宅基地{q}有{fa}" + ("位于村庄规划建设用地范围外" if k == "outside" else "位于村庄规划减量（腾退）区内")
               + f"（占宗地{a / t * 100:.0f}%），不符合村庄规划，按{{basis}}纳入城乡建设用地减量范围候选。"
               for q, fa, k, a, t in zip(ids, fmt_area(area), key, area, total)]
    return RuleResult(partial(
        ctx.crs, geoms, subject_layer="parcels", subject_id=ids, key=key,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="low", measured=area, limit=0.0, unit="m²",
        area_m2=area, status=_status(ctx, rows), message=message), tuple(notes))


# ------------------------------------------------------------------------------------------------
# HOME-RELIC
# ------------------------------------------------------------------------------------------------
def _relic_zones(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of the ``relic`` protected zones and each piece's zone name."""
    pieces, source = ctx.used("pieces:protected_zones")
    zones = ctx["protected_zones"]
    zkind = per_value(zones["kind"], lambda k: k.strip().lower() if isinstance(k, str) else "")
    relic = (zkind.isin(["relic"]) | zkind.str.contains("文物", regex=False)).to_numpy()
    keep = relic[source] if len(source) else np.zeros(0, dtype=bool)
    return pieces[keep], zones["name"].astype(str).to_numpy(dtype=object)[source[keep]]


@implements("HOME-RELIC", inputs=("protected_zones",), uses=("pieces:protected_zones",),
            limits=("min_overlap_m2", "homestead_area_date"))
def home_relic(ctx: Context) -> RuleResult:
    """宅基地涉及文物保护范围: a parcel (or a building on no parcel) in a ``relic`` zone without a ``relic`` approval.

    Geometry = the part inside the zone and outside every ``relic`` approval; ``measured`` = its area;
    severity ``low``; the zone's name is in the message.

    Examples
    --------
    >>> # a parcel inside 文物保护范围 X with no approval of kind relic -> one finding naming X
    >>> # home_relic(ctx)
    """
    pieces, names = _relic_zones(ctx)
    if len(pieces) == 0:
        return RuleResult(_empty(ctx))
    ap = ctx.get("approvals")
    approved = (prepare_cover(ap.geometry.to_numpy()[(approval_kinds(ctx) == "relic").to_numpy()])
                if ap is not None and len(ap) else np.empty(0, dtype=object))
    p, b = ctx["parcels"], ctx["buildings"]
    # buildings on no parcel (by the minimum overlap) are subjects of their own
    bv = b["village_id"].to_numpy(dtype=object)
    bg = b.geometry.to_numpy()
    near = np.unique(candidate_pairs(bg, pieces)[0])     # only buildings meeting a zone can be subjects at all
    on_parcel = np.ones(len(b), dtype=bool)
    on_parcel[near] = cover_area(bg[near], prepare_cover(p.geometry.to_numpy())) >= min_area(ctx, bv[near])
    subjects = [("parcels", p, "parcel_id"), ("buildings", b[~on_parcel], "building_id")]
    frames = []
    for layer, rows, col in subjects:
        if rows.empty:
            continue
        idx, part = intersection_by_left(rows.geometry.to_numpy(), pieces)
        part = polygonal(minus_cover(part, approved))
        keep = shapely.area(part) >= min_area(ctx, rows["village_id"].to_numpy(dtype=object)[idx])
        idx, part = idx[keep], part[keep]
        if len(idx) == 0:
            continue
        sub = rows.iloc[idx]
        # names of the zones each part lies in
        li, ri = candidate_pairs(part, pieces)
        zone_names = join_per(li, names[ri], len(idx))
        zone_names[pd.isna(zone_names)] = "文物保护范围"
        area = shapely.area(part)
        ids = sub[col].to_numpy(dtype=object)
        what = "宅基地" if layer == "parcels" else "房屋"
        message = [f"{what}{q}有{fa}位于文物保护范围及建设控制地带（{z}）内，未见文物部门审批（approvals.kind = relic），"
                   f"应按{{basis}}报相关部门审批。" for q, fa, z in zip(ids, fmt_area(area), [z.replace(";", "、") for z in zone_names])]
        status = _status(ctx, sub) if layer == "parcels" else _building_status(ctx, sub)
        frames.append(partial(
            ctx.crs, part, subject_layer=layer, subject_id=ids, related_ids=zone_names,
            village_id=sub["village_id"].to_numpy(dtype=object), severity="low", measured=area, limit=0.0,
            unit="m²", area_m2=area, status=status, message=message))
    if not frames:
        return RuleResult(_empty(ctx))
    return RuleResult(gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=ctx.crs))
