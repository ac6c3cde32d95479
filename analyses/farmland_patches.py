"""Official monitoring patches (执法卫片 / 变化图斑, role ``monitoring_patches``): ``FARM-PATCH`` 执法卫片图斑预判
and ``FARM-DIG`` 违规取土、压占耕地 (from patches whose change type says so, and from land-cover pixels that
went from cropland to bare soil).

Approvals count for a patch only when they were valid at its ``after_date`` (the later image; the run date
when the patch has none): ``construction``, ``homestead``, ``facility_agri``, and ``temporary`` ones whose
``valid_until`` is on or after that date (and, when the layer has ``valid_from``, that started on or before it).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import assign_villages
from layers.landcover import change_patches, patch_ids
from spatial.bigoverlay import subdivided_intersection, union_by
from spatial.overlay import candidate_pairs
from spatial.units import m2_to_mu

from ._common import fmt_area, join_per, partial
from .context import Context, Note, RuleResult
from .farmland_base import approval_kinds, cover_area, min_area, minus_cover, polygonal
from .registry import implements, intermediate

__all__ = ["DIG_WORDS", "patch_approvals", "patch_figures", "farm_patch", "farm_dig", "is_dig", "patch_summary_lines"]

#: Change types of a monitoring patch that mean soil dug out or land buried (取土 / 压占).
DIG_WORDS = ("动土", "推堆土", "取土", "压占", "堆放", "堆土")
#: Rules whose findings a FARM-PATCH finding names when it overlaps them.
OVERLAPPED = ("FARM-BUILD", "FARM-NONAGRI", "FARM-GREEN", "FARM-LAKE", "FARM-NONGRAIN", "FARM-DIG")
_APPROVING = ("construction", "homestead", "facility_agri")


def is_dig(change_type) -> np.ndarray:
    """Whether each change type says 取土 / 压占 (one of :data:`DIG_WORDS`).

    Examples
    --------
    >>> is_dig(["推堆土", "建/构筑物", None, "临时堆放压占"]).tolist()
    [True, False, False, True]
    """
    s = pd.Series(np.asarray(change_type, dtype=object), dtype=object).fillna("").astype(str)
    return s.str.contains("|".join(DIG_WORDS), regex=True).to_numpy(dtype=bool)


def _when(ctx: Context) -> np.ndarray:
    """Each patch's ``after_date`` (the run date when it has none), as datetime64."""
    after = pd.to_datetime(ctx["monitoring_patches"]["after_date"], errors="coerce")
    return after.fillna(pd.Timestamp(ctx.as_of)).to_numpy(dtype="datetime64[ns]")


@intermediate("patch_approvals")
def patch_approvals(ctx: Context) -> pd.DataFrame:
    """Per monitoring patch: the part under approvals valid at its ``after_date`` and their ids.

    Returns
    -------
    DataFrame
        One row per patch (``row`` = position in ``monitoring_patches``) with ``approved`` (geometry or
        None), ``approved_area`` and ``approval_ids`` (``;``-separated, sorted; None without).

    Examples
    --------
    >>> # ctx.used("patch_approvals").loc[0, "approval_ids"] -> 'A1;A2'
    """
    p = ctx.get("monitoring_patches")
    n = 0 if p is None else len(p)
    approved = np.full(n, None, dtype=object)
    approved_area = np.zeros(n)
    approval_ids = np.full(n, None, dtype=object)

    def frame() -> pd.DataFrame:
        return pd.DataFrame({"row": np.arange(n), "approved": approved, "approved_area": approved_area,
                             "approval_ids": approval_ids})

    ap = ctx.get("approvals")
    if ap is None or ap.empty or n == 0:
        return frame()
    pg, ag = p.geometry.to_numpy(), ap.geometry.to_numpy()
    li, ri = candidate_pairs(pg, ag)
    when = _when(ctx)[li]
    kind = approval_kinds(ctx).to_numpy(dtype=object)[ri]
    until = pd.to_datetime(ap["valid_until"], errors="coerce").to_numpy(dtype="datetime64[ns]")[ri]
    ok = np.isin(kind, _APPROVING) | ((kind == "temporary") & ~np.isnat(until) & (until >= when))
    if "valid_from" in ap.columns:
        start = pd.to_datetime(ap["valid_from"], errors="coerce").to_numpy(dtype="datetime64[ns]")[ri]
        ok &= np.isnat(start) | (start <= when)
    li, ri = li[ok], ri[ok]
    parts = polygonal(shapely.intersection(pg[li], ag[ri]))
    keep = shapely.area(parts) > 0
    li, ri, parts = li[keep], ri[keep], parts[keep]
    if len(li) == 0:
        return frame()
    rows, unions = union_by(li, parts)
    approved[rows] = unions
    approved_area[rows] = shapely.area(unions)
    joined = join_per(li, ap["approval_id"].astype(str).to_numpy(dtype=object)[ri], len(approval_ids))
    approval_ids[rows] = joined[rows]
    return frame()


@intermediate("patch_figures", uses=("patch_approvals", "farmland_cover", "pbf_cover", "pieces:eco_redline"))
def patch_figures(ctx: Context) -> pd.DataFrame:
    """The figures of every monitoring patch, recomputed in the working CRS (m²).

    Columns: ``area`` (the patch), ``farm``, ``pbf``, ``red`` (the patch's area on 耕地 incl. PBF, on PBF, on
    the eco red line), ``approved`` (under valid approvals), ``free`` (the patch minus valid approvals, geometry)
    and ``free_farm``, ``free_pbf``, ``free_red`` (that unapproved part's areas on them).

    Examples
    --------
    >>> # ctx.used("patch_figures")[["area", "farm", "approved"]]
    """
    p = ctx["monitoring_patches"]
    geom = p.geometry.to_numpy()
    apr = ctx.used("patch_approvals")
    red = ctx.used("pieces:eco_redline")[0]
    has = apr["approved"].notna().to_numpy()
    free = geom.copy()
    if has.any():
        free[has] = polygonal(shapely.difference(geom[has], apr["approved"].to_numpy(dtype=object)[has]))
    farm_c, pbf_c = ctx.used("farmland_cover"), ctx.used("pbf_cover")
    return pd.DataFrame({
        "area": shapely.area(geom), "farm": cover_area(geom, farm_c), "pbf": cover_area(geom, pbf_c),
        "red": cover_area(geom, red), "approved": apr["approved_area"].to_numpy(float),
        "free": free, "free_farm": cover_area(free, farm_c), "free_pbf": cover_area(free, pbf_c),
        "free_red": cover_area(free, red),
    })


def _mu(a) -> np.ndarray:
    return m2_to_mu(np.asarray(a, dtype=float))


def _overlapping_cases(ctx: Context, geoms: np.ndarray, small: np.ndarray) -> np.ndarray:
    """``;``-joined case ids of the other rules' findings each geometry overlaps by ≥ its minimum area."""
    out = np.full(len(geoms), None, dtype=object)
    frames = [ctx.used(r) for r in OVERLAPPED]
    frames = [f for f in frames if f is not None and len(f)]
    if not frames or len(geoms) == 0:
        return out
    other = pd.concat([f[["case_id", "geometry"]] for f in frames], ignore_index=True)
    og = other["geometry"].to_numpy()
    li, ri = candidate_pairs(geoms, og)
    if len(li) == 0:
        return out
    area = shapely.area(shapely.intersection(geoms[li], og[ri]))
    keep = area >= small[li]
    joined = join_per(li[keep], other["case_id"].to_numpy(dtype=object)[ri[keep]], len(out))
    has = pd.notna(joined)
    out[has] = joined[has]
    return out


def _outside_note(p: gpd.GeoDataFrame) -> tuple[np.ndarray, tuple[Note, ...]]:
    """Patches outside every village: excluded from the findings, listed in a note."""
    outside = pd.isna(p["village_id"]).to_numpy() if "village_id" in p.columns else np.zeros(len(p), bool)
    if not outside.any():
        return outside, ()
    ids = tuple(p["patch_id"].astype(str).to_numpy(dtype=object)[outside])
    return outside, (Note("monitoring_patches", "outside_villages", ids,
                          "monitoring_patches：{n} 个监测图斑不在任何行政村范围内，未作预判，请核对：{ids}"),)


@implements("FARM-PATCH", inputs=("monitoring_patches",), uses=("patch_approvals", "patch_figures", *OVERLAPPED),
            limits=("min_overlap_m2", "patch_approved_share"))
def farm_patch(ctx: Context) -> RuleResult:
    """执法卫片图斑预判: one finding per monitoring patch with its ``judgement``.

    ``合法`` when approvals valid at the patch's ``after_date`` cover ≥ ``patch_approved_share`` (95 %) of it
    (their ids in ``related_ids``); ``违法`` when its part without approval on farmland (耕地 or PBF) or the eco
    red line is ≥ ``min_overlap_m2``; ``其他`` otherwise; ``待核查`` when the patch has no usable geometry or
    no ``after_date`` while approvals touch it (their validity cannot be decided). The message gives the
    patch area, the areas on 耕地, PBF, the red line and under approvals (m² and 亩) and the case ids of the
    other findings it overlaps (also appended to ``related_ids``). Severity ``high`` when ≥ min area of the
    unapproved part is PBF, ``medium`` for other ``违法``, ``low`` otherwise. Patches outside every village are
    listed in a note.

    Examples
    --------
    >>> # run_rule("FARM-PATCH", district)[["subject_id", "judgement"]]
    """
    p = ctx["monitoring_patches"]
    fig = ctx.used("patch_figures")
    apr = ctx.used("patch_approvals")
    outside, notes = _outside_note(p)
    before = pd.to_datetime(p["before_date"], errors="coerce")
    reversed_ = (before > pd.to_datetime(p["after_date"], errors="coerce")).to_numpy()
    if reversed_.any():
        notes += (Note("monitoring_patches", "dates_reversed",
                       tuple(p["patch_id"].astype(str).to_numpy(dtype=object)[reversed_]),
                       "monitoring_patches：{n} 个监测图斑的后时相 after_date（HSX）早于前时相 before_date（QSX），"
                       "已按后时相预判，请核对：{ids}"),)
    keep = ~outside
    p, fig, apr = p[keep], fig[keep].reset_index(drop=True), apr[keep].reset_index(drop=True)
    vids = p["village_id"].to_numpy(dtype=object)
    small = min_area(ctx, vids)
    share = ctx.limit("patch_approved_share", vids).astype(float)
    area = fig["area"].to_numpy(float)
    geom = p.geometry.to_numpy()
    legal = (area > 0) & (fig["approved"].to_numpy(float) >= share * area - 1e-6)
    illegal = ~legal & ((fig["free_farm"].to_numpy(float) >= small) | (fig["free_red"].to_numpy(float) >= small))
    undated = p["after_date"].isna().to_numpy() & (fig["approved"].to_numpy(float) > 0)
    unknown = (area <= 0) | shapely.is_empty(geom) | (undated & ~legal)
    judgement = np.select([unknown, legal, illegal], ["待核查", "合法", "违法"], "其他").astype(object)
    on_pbf = (judgement == "违法") & (fig["free_pbf"].to_numpy(float) >= small)
    severity = np.where(on_pbf, "high", np.where(judgement == "违法", "medium", "low")).astype(object)
    cases = _overlapping_cases(ctx, geom, small)
    approvals = apr["approval_ids"].to_numpy(dtype=object)
    related = np.array([";".join(x for x in (a, c) if isinstance(x, str)) or None for a, c in zip(approvals, cases)],
                       dtype=object)
    ids = p["patch_id"].astype(str).to_numpy(dtype=object)
    batch = p["batch"].to_numpy(dtype=object)
    ctype = p["change_type"].to_numpy(dtype=object)
    f = {k: fmt_area(fig[k]) for k in ("area", "farm", "pbf", "red", "approved")}
    message = [
        f"{'第' + b + '批' if isinstance(b, str) else ''}执法卫片图斑{i}（{t if isinstance(t, str) else '变化类型未注明'}）"
        f"预判为{j}：图斑面积{fa}，其中耕地{ff}、永久基本农田{fp}、生态保护红线{fr}、有效批准范围内{fo}"
        f"{'（批文：' + a.replace(';', '、') + '）' if isinstance(a, str) else ''}"
        f"{'；涉及案件：' + c.replace(';', '、') if isinstance(c, str) else ''}（{{basis}}）。"
        for b, i, t, j, fa, ff, fp, fr, fo, a, c in zip(batch, ids, ctype, judgement, f["area"], f["farm"], f["pbf"],
                                                         f["red"], f["approved"], approvals, cases)]
    out = partial(ctx.crs, geom, subject_layer="monitoring_patches", subject_id=ids, village_id=vids,
                  severity=severity, judgement=judgement, related_ids=related,
                  measured=fig["free_farm"].to_numpy(float), limit=small, unit="m²", area_m2=area,
                  message=message)
    return RuleResult(out, notes)


@implements("FARM-DIG", uses=("patch_approvals", "farmland_cover", "pbf_cover", "FARM-NONAGRI", "FARM-BUILD"),
            limits=("min_overlap_m2", "rs_min_area_m2"))
def farm_dig(ctx: Context) -> gpd.GeoDataFrame:
    """违规取土、压占耕地: farmland dug or buried.

    * a monitoring patch whose ``change_type`` says so (:data:`DIG_WORDS`): its part on farmland not under
      an approval valid at its ``after_date``, when ≥ ``min_overlap_m2``;
    * land-cover pixels that were cropland in ``landcover_before`` and are ``bare`` in ``landcover_after``
      (``[landcover] bare``), on farmland, patches ≥ ``rs_min_area_m2`` (subject ``RS-<E>-<N>``), where
      no dig patch, ``FARM-NONAGRI`` or ``FARM-BUILD`` finding already covers them.

    Severity ``high`` when ≥ min area of it is PBF, ``medium`` otherwise. Runs with either source; with
    neither it finds nothing.

    Examples
    --------
    >>> # run_rule("FARM-DIG", district)
    """
    frames = []
    dig_geoms = np.empty(0, dtype=object)
    p = ctx.get("monitoring_patches")
    if p is not None and len(p):
        rows = np.flatnonzero(is_dig(p["change_type"]) & p["village_id"].notna().to_numpy())
        apr = ctx.used("patch_approvals").iloc[rows]
        geom = p.geometry.to_numpy()[rows]
        has = apr["approved"].notna().to_numpy()
        if has.any():
            geom = geom.copy()
            geom[has] = shapely.difference(geom[has], apr["approved"].to_numpy(dtype=object)[has])
        idx, part = subdivided_intersection(geom, ctx.used("farmland_cover"))
        part = polygonal(part)
        sub = p.iloc[rows[idx]]
        vids = sub["village_id"].to_numpy(dtype=object)
        area = shapely.area(part)
        keep = area >= min_area(ctx, vids)
        sub, part, vids, area = sub[keep], part[keep], vids[keep], area[keep]
        dig_geoms = part
        ids = sub["patch_id"].astype(str).to_numpy(dtype=object)
        on_pbf = cover_area(part, ctx.used("pbf_cover")) >= min_area(ctx, vids)
        message = [f"执法卫片图斑{i}（{t}）在{'永久基本农田' if b else '耕地'}上取土、堆土压占{a}，违反{{basis}}，应责令恢复耕作条件。"
                   for i, t, b, a in zip(ids, sub["change_type"], on_pbf, fmt_area(area))]
        frames.append(partial(ctx.crs, part, subject_layer="monitoring_patches", subject_id=ids, village_id=vids,
                              severity=np.where(on_pbf, "high", "medium"), measured=area,
                              limit=min_area(ctx, vids), unit="m²", area_m2=area, message=message))
    if "landcover_before" in ctx.rasters and "landcover_after" in ctx.rasters:
        px = change_patches(ctx.rasters["landcover_before"], ctx.rasters["landcover_after"], ctx.raster_classes,
                            crs=ctx.crs, bounds=tuple(ctx.villages.total_bounds))
        px = px[px["change"] == "bare"]
        # land already reported (a dig patch, a conversion to construction such as 采矿用地, a building) is that case
        known = [dig_geoms] + [ctx.used(r).geometry.to_numpy() for r in ("FARM-NONAGRI", "FARM-BUILD")]
        geom = minus_cover(px.geometry.to_numpy(), np.concatenate(known))
        idx, part = subdivided_intersection(geom, ctx.used("farmland_cover"))
        part = polygonal(part)
        vids = assign_villages(part, ctx.villages)
        area = shapely.area(part)
        lim = np.maximum(ctx.limit("rs_min_area_m2", vids).astype(float), 1e-9)
        keep = (area >= lim) & pd.notna(vids)
        part, vids, area, lim = part[keep], vids[keep], area[keep], lim[keep]
        on_pbf = cover_area(part, ctx.used("pbf_cover")) >= min_area(ctx, vids)
        ids = patch_ids(part)
        message = [f"卫片图斑{i}：{'永久基本农田' if b else '耕地'}变为裸土（取土、堆土压占）{a}，违反{{basis}}，需外业核查确认。"
                   for i, b, a in zip(ids, on_pbf, fmt_area(area))]
        frames.append(partial(ctx.crs, part, subject_layer="landcover_after", subject_id=ids, village_id=vids,
                              severity=np.where(on_pbf, "high", "medium"), measured=area, limit=lim, unit="m²",
                              area_m2=area, message=message))
    frames = [f for f in frames if len(f)]
    if not frames:
        return partial(ctx.crs, [], subject_layer=[], subject_id=[])
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=ctx.crs)


def patch_summary_lines(findings: pd.DataFrame, patches: pd.DataFrame | None) -> list[str]:
    """The ``summary.txt`` lines of the monitoring batches: per batch and township, the number of patches and
    the count and area (亩) of each judgement. Empty when the run has no ``FARM-PATCH`` finding.

    Examples
    --------
    >>> f = pd.DataFrame({"rule_id": ["FARM-PATCH"] * 3, "subject_id": ["W1", "W2", "W3"],
    ...                   "township": ["金海湖镇"] * 3, "judgement": ["违法", "合法", "违法"],
    ...                   "area_m2": [666.67, 100.0, 666.67]})
    >>> p = pd.DataFrame({"patch_id": ["W1", "W2", "W3"], "batch": ["2026Q3"] * 3})
    >>> patch_summary_lines(f, p)[2:]
    ['  2026Q3 金海湖镇：图斑 3 个；合法 1 个 0.15亩，违法 2 个 2.00亩，其他 0 个 0.00亩，待核查 0 个 0.00亩']
    """
    if findings is None or findings.empty or "judgement" not in findings.columns:
        return []
    f = findings[findings["rule_id"] == "FARM-PATCH"]
    if f.empty:
        return []
    batch = pd.Series([None] * len(f), index=f.index, dtype=object)
    if patches is not None and len(patches):
        table = pd.Series(patches["batch"].to_numpy(dtype=object), index=patches["patch_id"].astype(str).to_numpy())
        batch = f["subject_id"].astype(str).map(table[~table.index.duplicated()])
    frame = pd.DataFrame({"batch": batch.fillna("未注明批次").astype(str), "town": f["township"].fillna("").astype(str),
                          "j": f["judgement"].fillna("待核查"), "mu": _mu(f["area_m2"].fillna(0.0))})
    lines = ["", "执法卫片图斑（按批次、乡镇）："]
    for (b, t), g in frame.groupby(["batch", "town"], sort=True):
        parts = [f"{j} {int((g['j'] == j).sum())} 个 {g.loc[g['j'] == j, 'mu'].sum():.2f}亩"
                 for j in ("合法", "违法", "其他", "待核查")]
        lines.append(f"  {b} {t}：图斑 {len(g)} 个；" + "，".join(parts))
    return lines
