"""Family ``homestead`` — 宅基地 (京平政发〔2021〕4号 and its attachments).

Every limit is a configuration key (``homestead_area_m2``, ``homestead_area_date``, ``coverage_max``,
``max_floors``, ``basement_allowed``, ``height_*_m``, ``ndsm_percentile``, ``ndsm_shrink_m``,
``relocation_months``, ``min_overlap_m2``) looked up per row with the township's overrides. Areas are
compared at the precision they are reported in (0.01 m²) and heights at 0.01 m, so a parcel of exactly
173.33 m², a coverage of exactly 75 % and a ridge of exactly 8.6 m are compliant.

``status`` of a homestead finding is ``new`` when the parcel was approved on or after
``homestead_area_date`` (2021-07-01, the day PG-4 took effect) or the building was built in a later
year, ``existing`` when earlier, and null when the date is unknown (or a building is of 2021 itself).

Data-quality notes this family adds to the run summary: buildings whose height is known neither from
the attributes nor from the nDSM (``buildings``/``height_unchecked``: never silently passed) and old
parcels of a relocation without ``new_house_completed`` (``parcels``/``relocation_undated``). Owner ID
numbers failing the GB 11643 check are listed by :func:`layers.district.load_district`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.idnumbers import normalise_ids
from layers.values import per_value
from spatial.overlay import intersection_by_left, pairwise_intersection
from spatial.units import m2_to_mu

from ._common import fmt_area, join_per, partial, status_from_year
from spatial.bigoverlay import union_by

from .context import Context, Note, RuleResult
from .farmland_base import min_area
from .registry import implements, intermediate

__all__ = ["household_keys", "home_multi", "home_old", "home_area", "home_cover", "home_floors", "home_height",
           "home_merge", "home_pbf", "roof_kind", "height_limits", "plinth_heights"]

#: Areas are reported to 0.01 m²: differences below half of that are not excesses.
_AREA_TOL = 0.005
#: Heights are reported to 0.01 m: differences below half of that are not excesses.
_HEIGHT_TOL = 0.005
_SOURCE = {"attr": "属性", "ndsm": "nDSM"}
#: Where PG-4 says how inherited homesteads are handled (named in HOME-MULTI messages).
PG4_INHERIT = "京平政发〔2021〕4号 四(一)"


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _empty(ctx: Context) -> gpd.GeoDataFrame:
    return partial(ctx.crs, [], subject_layer=[], subject_id=[])


def _join_ids(index: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    """``;``-joined sorted ids per value of ``index`` in ``0 .. n-1`` (empty string when none)."""
    out = join_per(index, ids, n, unique=False)
    out[pd.isna(out)] = ""
    return out


@intermediate("building_parcel_parts")
def building_parcel_parts(ctx: Context) -> dict:
    """Every building x parcel pair that shares area: ``b`` and ``p`` (row positions, sorted by building),
    ``part`` (the shared part). Shared by HOME-COVER, HOME-MERGE and the own parcel of SET-OUTSIDE/SET-DRIP.

    Examples
    --------
    >>> # ctx.used("building_parcel_parts")["p"]
    """
    li, ri, parts = pairwise_intersection(ctx["buildings"].geometry.to_numpy(), ctx["parcels"].geometry.to_numpy())
    return {"b": li, "p": ri, "part": parts}


def _buildings_on(ctx: Context, parcels: gpd.GeoDataFrame, pairs: dict | None = None, above=None):
    """Per parcel with building parts of at least the minimum overlap: the parcel rows, the union of those
    parts, and the ``;``-joined building ids (None when no parcel has any).

    ``pairs``: the ``building_parcel_parts`` intermediate when ``parcels`` is the whole parcels layer.
    ``above``: per parcel, an area the union must exceed to be wanted; parcels whose parts add up to no
    more are left out without a union (a union is never larger than the sum of its parts).
    """
    b = ctx["buildings"]
    if pairs is None:
        li, ri, parts = pairwise_intersection(parcels.geometry.to_numpy(), b.geometry.to_numpy())
    else:
        order = np.argsort(pairs["p"], kind="stable")
        li, ri, parts = pairs["p"][order], pairs["b"][order], pairs["part"][order]
    keep = shapely.area(parts) >= min_area(ctx, parcels["village_id"].to_numpy(dtype=object)[li])
    li, ri, parts = li[keep], ri[keep], parts[keep]
    if above is not None and len(li):
        total = np.bincount(li, weights=shapely.area(parts), minlength=len(parcels))
        wanted = (total > np.asarray(above, dtype=float))[li]
        li, ri, parts = li[wanted], ri[wanted], parts[wanted]
    if len(li) == 0:
        return None
    rows, geoms = union_by(li, parts)
    bids = _join_ids(li, b["building_id"].to_numpy(dtype=object)[ri], len(parcels))[rows]
    return rows, geoms, bids


def _parcel_status(dates, cutoffs) -> np.ndarray:
    """``new`` for approvals on or after the cut-off, ``existing`` before it, None when undated."""
    d = pd.to_datetime(pd.Series(dates).reset_index(drop=True), errors="coerce")
    cut = pd.to_datetime(pd.Series(np.asarray(cutoffs, dtype=object)))
    return np.where(d.isna(), None, np.where(d >= cut, "new", "existing")).astype(object)


def _building_status(ctx: Context, rows: pd.DataFrame) -> np.ndarray:
    return status_from_year(rows["built_year"], ctx.limit("homestead_area_date", rows["village_id"]))


def _bool(values) -> np.ndarray:
    """True where a bool-ish column is True (None/NaN are False)."""
    return pd.Series(values, dtype=object).eq(True).to_numpy(dtype=bool)


# ------------------------------------------------------------------------------------------------
# HOME-MULTI
# ------------------------------------------------------------------------------------------------
def household_keys(parcels: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Who is a household, per parcel.

    ``household_id`` when present; else the owner's normalised ID number when its GB 11643 check digit is
    right; else the owner's name within one village (lower confidence). Invalid ID numbers never match.
    A parcel without ``household_id`` whose valid ID number appears, on other parcels, with exactly one
    ``household_id`` belongs to that household (a household register filled in for some parcels only).

    Returns
    -------
    key : pandas.Series of str or None
        ``H:<household_id>``, ``I:<id number>`` or ``N:<village_id>:<name>``.
    basis : pandas.Series of str
        ``household``, ``id`` or ``name`` — how the key was made.

    Examples
    --------
    >>> p = pd.DataFrame({"household_id": [None, None, "H9"], "owner_id": ["110105491231002", None, None],
    ...                   "owner_name": ["张三", "李四", "王五"], "village_id": ["V1", "V1", "V2"]})
    >>> household_keys(p)[0].tolist()
    ['I:11010519491231002X', 'N:V1:李四', 'H:H9']
    """
    hh = per_value(parcels["household_id"], lambda v: str(v).strip() if isinstance(v, str) else v)
    hh = hh.where(hh.notna() & (hh != ""), None)
    ids, valid = normalise_ids(parcels["owner_id"])
    name = parcels["owner_name"].astype(object).str.replace(r"\s+", "", regex=True)
    has_hh = hh.notna().to_numpy()
    has_id = valid.to_numpy() & ~has_hh
    has_name = name.notna().to_numpy() & (name != "").to_numpy() & ~has_hh & ~has_id
    key = np.full(len(parcels), None, dtype=object)
    how = np.full(len(parcels), None, dtype=object)
    key[has_hh] = "H:" + hh[has_hh].astype(str)
    how[has_hh] = "household"
    key[has_id] = "I:" + ids[has_id].astype(str)
    how[has_id] = "id"
    # an ID number seen with exactly one household_id elsewhere joins that household
    both = has_hh & valid.to_numpy()
    if both.any() and has_id.any():
        seen = pd.DataFrame({"id": ids[both].to_numpy(dtype=object), "hh": hh[both].to_numpy(dtype=object)})
        per_id = seen.groupby("id")["hh"].agg(["nunique", "first"])
        unique = per_id.loc[per_id["nunique"] == 1, "first"]
        mapped = ids.map(unique).to_numpy(dtype=object)
        bridge = has_id & pd.notna(mapped)
        key[bridge] = "H:" + pd.Series(mapped[bridge], dtype=object).astype(str).to_numpy()
    key[has_name] = "N:" + parcels["village_id"].astype(str).to_numpy()[has_name] + ":" + name[has_name].astype(str)
    how[has_name] = "name"
    return pd.Series(key, index=parcels.index, dtype=object), pd.Series(how, index=parcels.index, dtype=object)


@implements("HOME-MULTI")
def home_multi(ctx: Context) -> gpd.GeoDataFrame:
    """一户多宅: one finding per household holding more than one homestead parcel, ctx-wide.

    Households are keyed by :func:`household_keys` and span villages (except name matches, which stay
    within one village and are ``low`` severity, lower confidence). Parcels being replaced
    (``replaced_by`` set: the old site of an approved relocation) are not counted; once their deadline
    passes they are ``HOME-OLD``'s business. Subject = the household's smallest ``parcel_id``;
    ``related_ids`` = all its parcels; geometry = their union. A household with an ``inherited`` parcel
    (继承取得, PG-4 四(一): to be exited voluntarily, not demolished) stays a finding, severity ``low``, and
    the message names the inherited parcels.

    Examples
    --------
    >>> # parcels P1, P2 of household H1 -> one finding: subject P1, related_ids 'P1;P2'
    >>> # home_multi(ctx)
    """
    p = ctx["parcels"]
    p = p[p["replaced_by"].isna().to_numpy()]
    key, how = household_keys(p)
    inherited = _bool(p["inherited"]) if "inherited" in p.columns else np.zeros(len(p), dtype=bool)
    p = p.assign(_key=key.to_numpy(), _how=how.to_numpy(),
                 _inh=np.where(inherited, p["parcel_id"].astype(str).to_numpy(dtype=object), None))
    p = p[p["_key"].notna().to_numpy()]
    counts = p.groupby("_key")["parcel_id"].transform("size")
    multi = p[(counts > 1).to_numpy()]
    if multi.empty:
        return _empty(ctx)
    multi = multi.sort_values(["_key", "parcel_id"])
    # one group per household, in key order; within it the parcels in id order (vectorised, no call per group)
    group, keys = pd.factorize(multi["_key"].to_numpy(dtype=object), sort=True)
    ng = len(keys)
    n = np.bincount(group, minlength=ng)
    first = np.r_[0, np.cumsum(n)[:-1]]
    pid = multi["parcel_id"].astype(str).to_numpy(dtype=object)
    _, geoms = union_by(group, multi.geometry.to_numpy())
    how_of = multi["_how"].to_numpy(dtype=object)
    share = {h: np.bincount(group, weights=(how_of == h), minlength=ng) for h in ("name", "household", "id")}
    how = np.select([share["name"] > 0, share["household"] == n, share["id"] == n], ["name", "household", "id"],
                    "mixed").astype(object)
    subject = pid[first]
    listed = join_per(group, pid, ng, sep="、", unique=False)
    related = join_per(group, pid, ng, sep=";", unique=False)
    first_village = multi.set_index("parcel_id")["village_id"]
    first_village = first_village[~first_village.index.duplicated()]
    names = ctx.villages.set_index("village_id")["name"]
    vid = multi["village_id"].to_numpy(dtype=object)
    known = pd.notna(vid)
    named = per_value(vid, lambda v: str(names.get(v, v))).to_numpy(dtype=object)  # once per village
    spans = join_per(group[known], named[known], ng, sep="、")
    n_spans = (pd.DataFrame({"g": group[known], "v": named[known]}).drop_duplicates()
               .groupby("g").size().reindex(range(ng), fill_value=0).to_numpy())
    inh_of = multi["_inh"].to_numpy(dtype=object)
    has_inh = pd.notna(inh_of)
    inh = join_per(group[has_inh], inh_of[has_inh], ng, sep="、", unique=False)
    label = {"household": "同一户编号", "id": "同一证件号码", "mixed": "同一户（户编号及证件号码）",
             "name": "同一行政村内同名权利人"}
    message = [
        f"{label[h]}名下有{k}处宅基地（{xs}"
        + (f"，分属{vs}" if nv > 1 else "")
        + "），违反“一户只能拥有一处宅基地”规定（{basis}）"
        + (f"；其中{ih}为继承取得，按{PG4_INHERIT}引导自愿有偿退出，不作拆除" if ih else "")
        + ("；按姓名匹配，置信度较低，请核实。" if h == "name" else "。")
        for h, k, xs, vs, nv, ih in zip(how, n, listed, spans, n_spans, inh)
    ]
    inherits = pd.notna(inh)
    return partial(
        ctx.crs, geoms,
        subject_layer="parcels", subject_id=subject, related_ids=related,
        village_id=first_village.reindex(subject).to_numpy(dtype=object),
        severity=np.where((how == "name") | inherits, "low", "medium"), measured=n.astype(float), limit=1.0,
        unit="宅",
        area_m2=shapely.area(geoms), message=message,
    )


# ------------------------------------------------------------------------------------------------
# HOME-OLD
# ------------------------------------------------------------------------------------------------
def _add_months(dates: pd.Series, months) -> pd.Series:
    """``dates`` plus a whole number of calendar months each (end of month clipped: 11-30 + 3 = 02-28)."""
    dates = pd.to_datetime(pd.Series(dates).reset_index(drop=True), errors="coerce")
    months = np.asarray(months, dtype=float)
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    for m in np.unique(months[~np.isnan(months)]):
        sel = months == m
        out[sel] = (dates[sel] + pd.DateOffset(months=int(m))).to_numpy()
    return out


@implements("HOME-OLD", limits=("relocation_months",))
def home_old(ctx: Context) -> gpd.GeoDataFrame:
    """建新未拆旧: the old parcel of an approved relocation still has buildings after its deadline.

    A parcel with ``replaced_by`` set is due to be cleared ``relocation_months`` calendar months (default
    3) after ``new_house_completed``; when that deadline is before the run date (``ctx.as_of``) and
    buildings still overlap it by ``min_overlap_m2`` or more, it is one finding with the buildings' parts
    on it as geometry. Old parcels with no completion date cannot be judged and are listed in the
    data-quality report.

    Examples
    --------
    >>> # home_old(ctx): old parcels still built on after completion + 3 months
    """
    p = ctx["parcels"]
    old = p[p["replaced_by"].notna().to_numpy()]
    if old.empty:
        return _empty(ctx)
    done = pd.to_datetime(old["new_house_completed"], errors="coerce").reset_index(drop=True)
    undated = done.isna().to_numpy()
    notes = (Note("parcels", "relocation_undated", tuple(old["parcel_id"].astype(str).to_numpy()[undated]),
                  "HOME-OLD：{n} 宗旧宅基地有 replaced_by 但缺少新房竣工日期，未作建新拆旧检查：{ids}"),
             ) if undated.any() else ()
    months = np.asarray(ctx.limit("relocation_months", old["village_id"]), dtype=float)
    deadline = _add_months(done, months)
    as_of = pd.Timestamp(ctx.as_of)
    overdue = (deadline < as_of).fillna(False).to_numpy(dtype=bool)
    old, done, deadline, months = old[overdue], done[overdue], deadline[overdue], months[overdue]
    if old.empty:
        return RuleResult(_empty(ctx), notes)
    standing = _buildings_on(ctx, old)
    if standing is None:
        return RuleResult(_empty(ctx), notes)
    rows, geoms, bids = standing
    old = old.iloc[rows]
    done, deadline, months = done.iloc[rows], deadline.iloc[rows], months[rows]
    elapsed = ((as_of - done).dt.days / (365.25 / 12)).round(1).to_numpy()
    pids = old["parcel_id"].to_numpy(dtype=object)
    new = old["replaced_by"].astype(str).to_numpy(dtype=object)
    message = [
        f"宅基地{q}为易地建房的旧宅基地（新宅基地{nw}），新房于{d:%Y-%m-%d}竣工，应于{dl:%Y-%m-%d}前拆除旧房，"
        f"至{as_of:%Y-%m-%d}仍有房屋{bs.replace(';', '、')}未拆除，属“建新未拆旧”（变相一户多宅），违反{{basis}}。"
        for q, nw, d, dl, bs in zip(pids, new, done, deadline, bids)
    ]
    return RuleResult(partial(
        ctx.crs, geoms,
        subject_layer="parcels", subject_id=pids, related_ids=[f"{nw};{bs}" for nw, bs in zip(new, bids)],
        village_id=old["village_id"].to_numpy(dtype=object), severity="medium",
        measured=elapsed, limit=months, unit="月", message=message,
    ), notes)


# ------------------------------------------------------------------------------------------------
# HOME-AREA
# ------------------------------------------------------------------------------------------------
@implements("HOME-AREA", limits=("homestead_area_m2", "homestead_area_date"))
def home_area(ctx: Context) -> gpd.GeoDataFrame:
    """宅基地超标准: parcel area over ``homestead_area_m2`` (0.26 亩 = 173.33 m²).

    ``measured`` = the parcel's area, ``limit`` = the standard, ``area_m2`` = the excess; geometry = the
    parcel. Parcels approved on or after ``homestead_area_date`` (2021-07-01) are ``high``; older or
    undated ones ``low`` (历史超占, PG-4 七(二)1: kept in use, adjusted over time).

    Examples
    --------
    >>> # a 10 m x 17.333 m parcel (173.33 m²) is compliant; 10 m x 18 m approved 2022 -> high, area_m2 6.67
    >>> # home_area(ctx)
    """
    p = ctx["parcels"]
    area = p.geometry.area.to_numpy()
    vid = p["village_id"].to_numpy(dtype=object)
    standard = np.asarray(ctx.limit("homestead_area_m2", vid), dtype=float)
    over = area - standard > _AREA_TOL
    if not over.any():
        return _empty(ctx)
    rows, area, standard = p[over], area[over], standard[over]
    cut = ctx.limit("homestead_area_date", rows["village_id"])
    status = _parcel_status(rows["approved_date"], cut)
    recent = status == "new"
    excess = area - standard
    approved = pd.to_datetime(rows["approved_date"], errors="coerce")
    ids = rows["parcel_id"].to_numpy(dtype=object)
    when = ["批准日期不详" if pd.isna(d) else f"{d:%Y-%m-%d}批准" for d in approved]
    std = [f"{s:.2f}平方米（{m2_to_mu(s):.2f}亩）" for s in standard]
    message = [
        f"宅基地{q}（{w}，面积{a:.2f}平方米）超过{st}的标准" + (
            f"{e}，违反{{basis}}。" if r else f"，历史超占{e}，按{{basis}}分类处置。")
        for q, w, a, st, e, r in zip(ids, when, area, std, fmt_area(excess), recent)
    ]
    return partial(
        ctx.crs, rows.geometry.to_numpy(),
        subject_layer="parcels", subject_id=ids, village_id=rows["village_id"].to_numpy(dtype=object),
        severity=np.where(recent, "high", "low"), measured=area, limit=standard, unit="m²", area_m2=excess,
        status=status, message=message,
    )


# ------------------------------------------------------------------------------------------------
# HOME-COVER
# ------------------------------------------------------------------------------------------------
@implements("HOME-COVER", uses=("building_parcel_parts",), limits=("coverage_max", "homestead_area_date"))
def home_cover(ctx: Context) -> gpd.GeoDataFrame:
    """礅基占地超比例: building footprints inside a parcel over ``coverage_max`` (75 %) of its area.

    The footprint inside a parcel is the union of the parts of the buildings inside it (overlaps
    ``< min_overlap_m2`` are a neighbour's slivers and ignored); ``measured`` is that share in per cent,
    ``area_m2`` the footprint beyond the allowed share; geometry = the footprint inside the parcel.

    Examples
    --------
    >>> # a 16 m x 10 m house on a 20 m x 10 m parcel -> measured 80.0 (%), limit 75.0, area_m2 10.0
    >>> # home_cover(ctx)
    """
    p = ctx["parcels"]
    all_cmax = np.asarray(ctx.limit("coverage_max", p["village_id"]), dtype=float)
    # only parcels whose building parts add up to more than the allowed share are unioned
    built = _buildings_on(ctx, p, ctx.used("building_parcel_parts"),
                          above=all_cmax * shapely.area(p.geometry.to_numpy()) + _AREA_TOL - 1e-6)
    if built is None:
        return _empty(ctx)
    rows, covered, bids = built
    sub = p.iloc[rows]
    parea = sub.geometry.area.to_numpy()
    foot = shapely.area(covered)
    cmax = all_cmax[rows]
    excess = foot - cmax * parea
    over = excess > _AREA_TOL
    if not over.any():
        return _empty(ctx)
    sub, parea, foot, cmax, excess, covered, bids = (sub[over], parea[over], foot[over], cmax[over], excess[over],
                                                    covered[over], bids[over])
    share = foot / parea * 100.0
    ids = sub["parcel_id"].to_numpy(dtype=object)
    message = [f"宅基地{q}（{pa:.2f}平方米）上房屋{bs.replace(';', '、')}礅基面积{fa:.2f}平方米，占{s:.1f}%，"
               f"超过{c * 100:g}%的比例，违反{{basis}}。"
               for q, pa, bs, fa, s, c in zip(ids, parea, bids, foot, share, cmax)]
    return partial(
        ctx.crs, covered,
        subject_layer="parcels", subject_id=ids, related_ids=bids, village_id=sub["village_id"].to_numpy(dtype=object),
        severity="medium", measured=share, limit=cmax * 100.0, unit="%", area_m2=excess,
        status=_parcel_status(sub["approved_date"], ctx.limit("homestead_area_date", sub["village_id"])),
        message=message,
    )


# ------------------------------------------------------------------------------------------------
# HOME-FLOORS
# ------------------------------------------------------------------------------------------------
@implements("HOME-FLOORS", limits=("max_floors", "basement_allowed", "homestead_area_date"))
def home_floors(ctx: Context) -> gpd.GeoDataFrame:
    """超层数/地下室: buildings with more than ``max_floors`` (2) floors, or a basement.

    One finding per building and breach (``key`` ``floors`` or ``basement``), geometry = the footprint.
    Basements are allowed only where ``basement_allowed`` is true.

    Examples
    --------
    >>> # B1 with 3 floors -> key 'floors' (measured 3, limit 2); B2 with a basement -> key 'basement'
    >>> # home_floors(ctx)
    """
    b = ctx["buildings"]
    vid = b["village_id"].to_numpy(dtype=object)
    floors = pd.to_numeric(b["floors"], errors="coerce").to_numpy(dtype=float)
    max_floors = np.asarray(ctx.limit("max_floors", vid), dtype=float)
    allowed = np.asarray(ctx.limit("basement_allowed", vid), dtype=object).astype(bool)
    too_high = np.nan_to_num(floors, nan=0.0) > max_floors
    basement = _bool(b["basement"]) & ~allowed
    ib, kb = np.flatnonzero(too_high), np.flatnonzero(basement)
    if len(ib) + len(kb) == 0:
        return _empty(ctx)
    idx = np.concatenate([ib, kb])
    key = np.array(["floors"] * len(ib) + ["basement"] * len(kb), dtype=object)
    rows = b.iloc[idx]
    ids = rows["building_id"].to_numpy(dtype=object)
    measured = np.concatenate([floors[ib], np.ones(len(kb))])
    limit = np.concatenate([max_floors[ib], np.zeros(len(kb))])
    message = [(f"房屋{i}为{int(m)}层，超过{int(lim)}层的限制（严禁建设三层及以上建筑），违反{{basis}}。" if k == "floors"
                else f"房屋{i}建有地下室，违反{{basis}}“不得建设地下室”的规定。")
               for i, k, m, lim in zip(ids, key, measured, limit)]
    return partial(
        ctx.crs, rows.geometry.to_numpy(),
        subject_layer="buildings", subject_id=ids, key=key, village_id=rows["village_id"].to_numpy(dtype=object),
        severity="medium", measured=measured, limit=limit, unit=np.where(key == "floors", "层", "处"),
        area_m2=np.full(len(idx), np.nan), status=_building_status(ctx, rows), message=message,
    )


# ------------------------------------------------------------------------------------------------
# HOME-HEIGHT
# ------------------------------------------------------------------------------------------------
def roof_kind(values) -> np.ndarray:
    """``flat``, ``pitched`` or None from the ``roof`` column (English or Chinese: 平顶/平屋顶, 坡顶/坡屋顶).

    Examples
    --------
    >>> roof_kind(["flat", "坡屋顶", "Pitched", None, "平顶", "?"]).tolist()
    ['flat', 'pitched', 'pitched', None, 'flat', None]
    """
    s = per_value(values, lambda v: v.strip().lower() if isinstance(v, str) else None)
    flat = s.str.contains("flat|平", regex=True, na=False).to_numpy()
    pitched = s.str.contains("pitch|slop|gable|hip|坡|尖", regex=True, na=False).to_numpy()
    return np.where(pitched, "pitched", np.where(flat, "flat", None)).astype(object)


def height_limits(ctx: Context, village_ids, floors) -> dict[str, np.ndarray]:
    """Per-row height limits (``flat``, ``eave``, ``ridge``) for each building's floors.

    One floor (or fewer) takes the one-floor limits; two floors, more than two (already ``HOME-FLOORS``)
    or an unknown number take the two-floor limits, the highest any house may reach.

    Examples
    --------
    >>> # height_limits(ctx, village_ids, [1, 2, None])['ridge'] -> [6.5, 8.6, 8.6]
    """
    f = pd.to_numeric(pd.Series(floors, dtype=object), errors="coerce").to_numpy(dtype=float)
    one = f <= 1
    out = {}
    for part in ("flat", "eave", "ridge"):
        lo = np.asarray(ctx.limit(f"height_1f_{part}_m", village_ids), dtype=float)
        hi = np.asarray(ctx.limit(f"height_2f_{part}_m", village_ids), dtype=float)
        out[part] = np.where(one, lo, hi)
    return out


def _ndsm_heights(ctx: Context, rows: gpd.GeoDataFrame) -> np.ndarray:
    """nDSM roof height of each building (NaN without a raster or outside it)."""
    path = ctx.rasters.get("ndsm")
    if path is None or rows.empty:
        return np.full(len(rows), np.nan)
    from layers.rasters import sample_ndsm

    vid = rows["village_id"].to_numpy(dtype=object)
    return sample_ndsm(path, rows.geometry.to_numpy(), ctx.crs,
                       percentile=np.asarray(ctx.limit("ndsm_percentile", vid), dtype=float),
                       shrink_m=np.asarray(ctx.limit("ndsm_shrink_m", vid), dtype=float), groups=vid)


def plinth_heights(ctx: Context, b: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, tuple[Note, ...]]:
    """Each building's plinth (礅基) height above ground: ``plinth_m``, else ``plinth_default_m``.

    Negative or non-finite ``plinth_m`` values are not used (the plinth counts as unknown) and are
    reported as a data-quality note naming the layer, the buildings and the column.

    Returns
    -------
    plinth : numpy.ndarray of float
    known : numpy.ndarray of bool
        Whether the building's own ``plinth_m`` was used.
    notes : tuple of Note

    Examples
    --------
    >>> # plinth_heights(ctx, buildings) -> (array([0.45, 0.0]), array([True, False]), ())
    """
    raw = (pd.to_numeric(b["plinth_m"], errors="coerce").to_numpy(dtype=float) if "plinth_m" in b.columns
           else np.full(len(b), np.nan))
    bad = np.isfinite(raw) & (raw < 0)
    known = np.isfinite(raw) & ~bad
    default = np.asarray(ctx.limit("plinth_default_m", b["village_id"].to_numpy(dtype=object)), dtype=float)
    plinth = np.where(known, raw, default)
    notes: tuple[Note, ...] = ()
    if bad.any():
        notes = (Note("buildings", "bad_plinth_m", tuple(b["building_id"].astype(str).to_numpy()[bad]),
                      "buildings：{n} 栋房屋的礅基高度 plinth_m 为负值（{ids}），已按礅基高度不详处理；"
                      "请核对 plinth_m 字段（应为礅基上平面高出室外地面的米数，≥ 0）"),)
    return plinth, known, notes


@implements("HOME-HEIGHT", limits=("height_1f_flat_m", "height_1f_eave_m", "height_1f_ridge_m", "height_2f_flat_m",
                                     "height_2f_eave_m", "height_2f_ridge_m", "ndsm_percentile", "ndsm_shrink_m",
                                     "homestead_area_date", "plinth_default_m", "plinth_uncertain_m"))
def home_height(ctx: Context) -> gpd.GeoDataFrame:
    """超高: a building's heights over the limits for its floors and roof.

    Attribute heights come first (``eave_height_m``, ``ridge_height_m``); where the top height is missing
    it comes from the ``ndsm`` raster (``ndsm_percentile`` of the pixels inside the footprint shrunk by
    ``ndsm_shrink_m``). Flat roofs: the top (the larger attribute, or the nDSM) against the flat limit
    (incl. parapet); pitched roofs: eave against the eave limit and the top (ridge) against the ridge
    limit; unknown roofs: eave against the eave limit and top against the ridge limit. Each check names
    its source (属性/nDSM). Buildings with no height at all are listed as unchecked in the data-quality
    report, never silently passed. One finding per building: ``measured``/``limit`` of its largest excess.

    Heights count from the top of the plinth (“以礅基的上平面起计算”): attribute heights are taken as
    measured from it; an nDSM height (above ground) has the plinth subtracted (``plinth_m``, else
    ``plinth_default_m``, see :func:`plinth_heights`). When every excess of a building rests on an nDSM
    height with an unknown plinth and is no more than ``plinth_uncertain_m``, the finding is ``low`` and
    says the plinth height was not known.

    Examples
    --------
    >>> # 2 floors, pitched, ridge_height_m 8.7 -> measured 8.7, limit 8.6 (8.6 itself is compliant)
    >>> # home_height(ctx)
    """
    b = ctx["buildings"]
    if b.empty:
        return _empty(ctx)
    vid = b["village_id"].to_numpy(dtype=object)
    roof = roof_kind(b["roof"])
    eave_attr = pd.to_numeric(b["eave_height_m"], errors="coerce").to_numpy(dtype=float)
    ridge_attr = pd.to_numeric(b["ridge_height_m"], errors="coerce").to_numpy(dtype=float)
    flat = roof == "flat"
    with np.errstate(invalid="ignore"):
        top = np.where(flat, np.fmax(eave_attr, ridge_attr), ridge_attr)
    eave = np.where(flat, np.nan, eave_attr)
    top_src = np.where(np.isnan(top), None, "attr").astype(object)
    need = np.isnan(top)
    ndsm = np.full(len(b), np.nan)
    if need.any():
        ndsm[need] = _ndsm_heights(ctx, b[need])
        top = np.where(need, ndsm, top)
        top_src = np.where(need & ~np.isnan(ndsm), "ndsm", top_src).astype(object)
    plinth, plinth_known, notes = plinth_heights(ctx, b)
    ground = top.copy()          # nDSM figures above ground, for the message
    top = np.where(top_src == "ndsm", top - plinth, top)
    unchecked = np.isnan(top) & np.isnan(eave)
    if unchecked.any():
        why = "未配置nDSM" if "ndsm" not in ctx.rasters else "且不在nDSM范围内或无有效像元"
        notes += (Note("buildings", "height_unchecked", tuple(b["building_id"].astype(str).to_numpy()[unchecked]),
                       f"HOME-HEIGHT：{{n}} 栋房屋无高度属性{why}，未作超高检查：{{ids}}"),)
    lim = height_limits(ctx, vid, b["floors"])
    top_limit = np.where(flat, lim["flat"], lim["ridge"])
    with np.errstate(invalid="ignore"):
        top_excess = np.where(top - top_limit > _HEIGHT_TOL, top - top_limit, np.nan)
        eave_excess = np.where(eave - lim["eave"] > _HEIGHT_TOL, eave - lim["eave"], np.nan)
    over = ~np.isnan(top_excess) | ~np.isnan(eave_excess)
    if not over.any():
        return RuleResult(_empty(ctx), notes)
    idx = np.flatnonzero(over)
    # the nDSM as evidence beside attribute heights, for the findings only
    evidence = ndsm.copy()
    attr_found = idx[~need[idx]]
    if len(attr_found):
        evidence[attr_found] = _ndsm_heights(ctx, b.iloc[attr_found])
    use_top = np.nan_to_num(top_excess[idx], nan=-np.inf) >= np.nan_to_num(eave_excess[idx], nan=-np.inf)
    uncertain_m = np.asarray(ctx.limit("plinth_uncertain_m", vid), dtype=float)
    # low when every excess rests on an nDSM height whose plinth is not known and is within its uncertainty
    uncertain = (np.isnan(eave_excess) & (top_src == "ndsm") & ~plinth_known
                 & (np.nan_to_num(top_excess, nan=np.inf) <= uncertain_m + _HEIGHT_TOL))
    measured = np.where(use_top, top[idx], eave[idx])
    limit = np.where(use_top, top_limit[idx], lim["eave"][idx])
    rows = b.iloc[idx]
    floors = pd.to_numeric(rows["floors"], errors="coerce").to_numpy(dtype=float)
    roof_cn = {"flat": "平屋顶", "pitched": "坡屋顶", None: "屋顶形式不详"}
    top_cn = {"flat": "建筑高度（含女儿墙）", "pitched": "屋脊高度", None: "屋顶最高点高度"}
    message = []
    for j, i in enumerate(idx):
        fl = ("层数不详，按两层限高" if np.isnan(floors[j]) else
              f"{int(floors[j])}层，按两层限高" if floors[j] > 2 else f"{int(floors[j])}层")
        parts = []
        if not np.isnan(eave_excess[i]):
            parts.append(f"檐口高度{eave[i]:.2f}米（来源：属性）超过{lim['eave'][i]:g}米")
        if not np.isnan(top_excess[i]):
            if top_src[i] == "ndsm":
                datum = (f"nDSM高度{ground[i]:.2f}米减礅基{plinth[i]:.2f}米" if plinth_known[i] else
                         f"nDSM高度{ground[i]:.2f}米，礅基高度不详，按{plinth[i]:.2f}米扣除")
                parts.append(f"{top_cn[roof[i]]}{top[i]:.2f}米（来源：nDSM，{datum}）超过{top_limit[i]:g}米")
            else:
                parts.append(f"{top_cn[roof[i]]}{top[i]:.2f}米（来源：属性）超过{top_limit[i]:g}米（自礅基上平面起算）")
        extra = (f"，nDSM参考高度{evidence[i]:.2f}米" if top_src[i] != "ndsm" and not np.isnan(evidence[i]) else "")
        doubt = (f"；礅基高度不详，超出部分未超过{uncertain_m[i]:g}米的礅基不确定范围，请现场核实礅基高度"
                 if uncertain[i] else "")
        message.append(f"房屋{b['building_id'].iloc[i]}（{fl}，{roof_cn[roof[i]]}）" + "，".join(parts) + extra
                       + "，违反{basis}" + doubt + "。")
    return RuleResult(partial(
        ctx.crs, rows.geometry.to_numpy(),
        subject_layer="buildings", subject_id=rows["building_id"].to_numpy(dtype=object),
        village_id=rows["village_id"].to_numpy(dtype=object), severity=np.where(uncertain[idx], "low", "medium"),
        measured=np.round(measured, 3), limit=limit, unit="m", area_m2=np.full(len(idx), np.nan),
        status=_building_status(ctx, rows), message=message,
    ), notes)


# ------------------------------------------------------------------------------------------------
# HOME-MERGE
# ------------------------------------------------------------------------------------------------
@implements("HOME-MERGE", uses=("building_parcel_parts",), limits=("homestead_area_date",))
def home_merge(ctx: Context) -> gpd.GeoDataFrame:
    """相邻宅基地合建: one building overlapping two or more parcels, each by ``min_overlap_m2`` or more.

    Subject = the building; ``related_ids`` = the parcels; ``measured`` = how many; geometry = the
    building's parts on those parcels.

    Examples
    --------
    >>> # one house across parcels P1 and P2 -> subject the house, related_ids 'P1;P2', measured 2
    >>> # home_merge(ctx)
    """
    p, b = ctx["parcels"], ctx["buildings"]
    pairs = ctx.used("building_parcel_parts")
    li, ri, parts = pairs["b"], pairs["p"], pairs["part"]
    keep = shapely.area(parts) >= min_area(ctx, b["village_id"].to_numpy(dtype=object)[li])
    li, ri, parts = li[keep], ri[keep], parts[keep]
    n = np.bincount(li, minlength=len(b))
    sel = n[li] >= 2
    li, ri, parts = li[sel], ri[sel], parts[sel]
    if len(li) == 0:
        return _empty(ctx)
    rows, geoms = union_by(li, parts)
    pids = _join_ids(li, p["parcel_id"].to_numpy(dtype=object)[ri], len(b))[rows]
    sub = b.iloc[rows]
    count = n[rows].astype(float)
    ids = sub["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}跨{int(k)}宗宅基地（{q.replace(';', '、')}）建设，每处宅基地应独立存在，相邻宅基地不得合建，违反{{basis}}。"
               for i, k, q in zip(ids, count, pids)]
    return partial(
        ctx.crs, geoms,
        subject_layer="buildings", subject_id=ids, related_ids=pids,
        village_id=sub["village_id"].to_numpy(dtype=object), severity="medium", measured=count, limit=1.0,
        unit="宗", status=_building_status(ctx, sub),
        message=message,
    )


# ------------------------------------------------------------------------------------------------
# HOME-PBF
# ------------------------------------------------------------------------------------------------
@implements("HOME-PBF", inputs=("pbf",), uses=("pbf_cover",))
def home_pbf(ctx: Context) -> gpd.GeoDataFrame:
    """宅基地占用永久基本农田: the part of a homestead parcel on permanent basic farmland.

    Overlaps under ``min_overlap_m2`` are digitising noise; every finding is ``high``; geometry = the
    overlap, ``measured`` = its area.

    Examples
    --------
    >>> # a 10 m parcel whose east 4 m lie on PBF -> area_m2 40.0, severity high
    >>> # home_pbf(ctx)
    """
    p = ctx["parcels"]
    idx, geoms = intersection_by_left(p.geometry.to_numpy(), ctx.used("pbf_cover"))
    area = shapely.area(geoms)
    keep = area >= min_area(ctx, p["village_id"].to_numpy(dtype=object)[idx])
    idx, geoms, area = idx[keep], geoms[keep], area[keep]
    if len(idx) == 0:
        return _empty(ctx)
    rows = p.iloc[idx]
    ids = rows["parcel_id"].to_numpy(dtype=object)
    message = [f"宅基地{q}占用永久基本农田{a}，违反{{basis}}“严禁占用永久基本农田”的规定。" for q, a in zip(ids, fmt_area(area))]
    return partial(
        ctx.crs, geoms,
        subject_layer="parcels", subject_id=ids, village_id=rows["village_id"].to_numpy(dtype=object),
        severity="high", measured=area, limit=0.0, unit="m²", area_m2=area,
        status=_parcel_status(rows["approved_date"], ctx.limit("homestead_area_date", rows["village_id"])),
        message=message,
    )
