"""Family ``homestead`` — the form of a house: roof slope (HOME-ROOF) and roof stairwells (HOME-STAIR).

Both read heights as HOME-HEIGHT does: attributes first, else the ``ndsm`` raster (metres above ground).

* ``HOME-ROOF`` (屋顶坡度, 附件2 五(四) “屋顶坡度为26—30度”): a pitched roof's slope is
  ``atan((ridge − eave) ÷ (depth ÷ 2))``, depth = the short side of the footprint's minimum rotated
  rectangle. From the nDSM (where the attributes lack either height), eave and rise are fitted to the
  roof pixels inside the footprint shrunk by ``ndsm_shrink_m``, each placed by its distance in from the
  long side (:func:`roof_fit`); a difference of two percentiles over ``depth / 2`` would make compliant
  roofs look several degrees too flat (the shrink and the pixel grid cut the extremes off).
* ``HOME-STAIR`` (楼梯间, 附件2 五(五)): a roof stairwell (or lift shaft) larger than
  ``stair_area_max_m2`` (6 m²) or taller than ``stair_height_max_m`` (2.7 m) is 局部三层. From the
  attributes ``stair_area_m2``/``stair_height_m``; where both are missing, in a two-floor building with a
  flat roof, from the nDSM: the largest 8-connected patch of footprint pixels higher than the building's two-floor top
  limit (flat roofs: ``height_2f_flat_m``; pitched or unknown: ``height_2f_ridge_m``) plus its plinth plus
  ``stair_ndsm_margin_m`` (0.3 m). Its storey height is the patch's ``ndsm_percentile`` minus the median
  of the rest of the roof. A patch covering half the roof or more is the whole house being too high
  (HOME-HEIGHT's business), not a stairwell.

Data-quality notes: a ridge lower than its eave (``buildings``/``bad_roof_heights``), negative stairwell
figures (``buildings``/``bad_stair_values``), pitched roofs whose slope could not be measured
(``buildings``/``roof_unchecked``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._common import partial
from .context import Context, Note, RuleResult
from .homestead import _building_status, _empty, height_limits, plinth_heights, roof_kind
from .registry import implements

__all__ = ["footprint_depth", "roof_slope_deg", "roof_fit", "home_roof", "home_stair", "stair_patches"]

#: Slopes are reported to 0.1°: differences below half of that are not breaches.
_DEG_TOL = 0.05
#: Areas to 0.01 m², heights to 0.01 m.
_AREA_TOL = 0.005
_HEIGHT_TOL = 0.005


def footprint_depth(geoms) -> np.ndarray:
    """The short side of each footprint's minimum rotated rectangle (its depth, 进深), in CRS units.

    Examples
    --------
    >>> footprint_depth([shapely.box(0, 0, 12, 8), shapely.Polygon([(0, 0), (6, 6), (2, 10), (-4, 4)])]).round(3).tolist()
    [8.0, 5.657]
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty(0)
    rect = shapely.minimum_rotated_rectangle(geoms)
    xy, where = shapely.get_coordinates(rect, return_index=True)
    first = np.searchsorted(where, np.arange(len(geoms)))
    count = np.bincount(where, minlength=len(geoms))
    ok = count >= 4
    out = np.zeros(len(geoms))
    f = first[ok]
    a = np.hypot(*(xy[f + 1] - xy[f]).T)
    b = np.hypot(*(xy[f + 2] - xy[f + 1]).T)
    out[ok] = np.minimum(a, b)
    return out


def roof_slope_deg(eave, ridge, depth) -> np.ndarray:
    """Slope in degrees of a roof rising from ``eave`` to ``ridge`` over half of ``depth``.

    Examples
    --------
    >>> roof_slope_deg([3.3, 3.3], [5.9, 3.3], [10.0, 10.0]).round(1).tolist()
    [27.5, 0.0]
    """
    eave, ridge, depth = (np.asarray(v, dtype=float) for v in (eave, ridge, depth))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.degrees(np.arctan2(ridge - eave, depth / 2.0))


def _ndsm(ctx: Context, rows: gpd.GeoDataFrame, percentile) -> np.ndarray:
    from layers.rasters import sample_ndsm

    vid = rows["village_id"].to_numpy(dtype=object)
    return sample_ndsm(ctx.rasters["ndsm"], rows.geometry.to_numpy(), ctx.crs, percentile=percentile,
                       shrink_m=np.asarray(ctx.limit("ndsm_shrink_m", vid), dtype=float), groups=vid)


def roof_fit(path, geoms, crs, shrink_m=0.5, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """Eave height and rise per metre of each pitched roof, fitted to the nDSM pixels of its footprint.

    Each pixel inside the footprint shrunk by ``shrink_m`` is placed by its distance ``d`` in from the
    long side (``depth / 2 − |offset from the ridge line|``, the ridge line being the long axis of the
    minimum rotated rectangle); ``height = eave + rise · d`` is fitted by least squares per footprint.
    Exact for gable and hip roofs at any pixel size, unlike a difference of two percentiles.

    Returns
    -------
    eave, rise : numpy.ndarray
        NaN where the footprint has fewer than three finite pixels or no spread of ``d``.

    Examples
    --------
    >>> # eave, rise = roof_fit("ndsm.tif", footprints, "EPSG:4548"); slope = degrees(arctan(rise))
    """
    import rasterio
    from rasterio.features import rasterize

    from layers.rasters import _pixel_boxes, _to_raster_crs, read_windows

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    eave, rise = np.full(n, np.nan), np.full(n, np.nan)
    if n == 0:
        return eave, rise
    shrink = np.broadcast_to(np.asarray(shrink_m, dtype=float), (n,))
    shrunk = shapely.buffer(geoms, -shrink, join_style="mitre")
    empty = shapely.is_empty(shrunk)
    shrunk[empty] = geoms[empty]
    rect = shapely.minimum_rotated_rectangle(geoms)
    xy, where = shapely.get_coordinates(rect, return_index=True)
    f = np.searchsorted(where, np.arange(n))
    p0, p1, p2 = xy[np.minimum(f, len(xy) - 1)], xy[np.minimum(f + 1, len(xy) - 1)], xy[np.minimum(f + 2, len(xy) - 1)]
    a, b_ = p1 - p0, p2 - p1
    long_a = np.hypot(*a.T) >= np.hypot(*b_.T)
    axis = np.where(long_a[:, None], a, b_)
    axis = axis / np.maximum(np.hypot(*axis.T), 1e-12)[:, None]
    centre = (p0 + p2) / 2.0
    half = np.minimum(np.hypot(*a.T), np.hypot(*b_.T)) / 2.0
    grp = pd.Series(np.asarray(groups, dtype=object) if groups is not None else np.zeros(n, dtype=object)).astype(str)
    sums = np.zeros((n, 5))                 # count, Σd, Σh, Σd², Σdh
    with rasterio.open(path) as src:
        rgeoms = _to_raster_crs(shrunk, crs, src.crs)
        box = _pixel_boxes(_to_raster_crs(geoms, crs, src.crs), src.transform, src.width, src.height)
        inside = np.flatnonzero((box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1]))
        for part, values, wt in read_windows(src, box[inside], grp.to_numpy()[inside]):
            members = inside[part]
            label = rasterize(zip(rgeoms[members], range(1, len(members) + 1)), out_shape=values.shape,
                              transform=wt, fill=0, dtype="int32")
            hit = (label > 0) & np.isfinite(values)
            rows, cols = np.nonzero(hit)
            k = members[label[rows, cols] - 1]
            px, py = rasterio.transform.xy(wt, rows, cols)
            pts = np.column_stack([np.asarray(px, dtype=float), np.asarray(py, dtype=float)])
            if _crs_differs(src.crs, crs):
                pts = shapely.get_coordinates(_to_raster_crs(shapely.points(pts), src.crs, crs))
            rel = pts - centre[k]
            off = np.abs(rel[:, 0] * axis[k, 1] - rel[:, 1] * axis[k, 0])
            d = half[k] - off
            h = values[rows, cols]
            for j, v in enumerate((np.ones_like(d), d, h, d * d, d * h)):
                sums[:, j] += np.bincount(k, weights=v, minlength=n)
    cnt, sd, sh, sdd, sdh = sums.T
    with np.errstate(divide="ignore", invalid="ignore"):
        var = sdd - sd * sd / cnt
        ok = (cnt >= 3) & (var > 1e-9)
        rise = np.where(ok, (sdh - sd * sh / cnt) / var, np.nan)
        eave = np.where(ok, (sh - rise * sd) / cnt, np.nan)
    return eave, rise


def _crs_differs(a, b) -> bool:
    """Whether two CRS definitions differ."""
    from pyproj import CRS

    return CRS.from_user_input(a) != CRS.from_user_input(b)


# ------------------------------------------------------------------------------------------------
# HOME-ROOF
# ------------------------------------------------------------------------------------------------
@implements("HOME-ROOF", limits=("roof_slope_min_deg", "roof_slope_max_deg", "ndsm_shrink_m", "homestead_area_date"))
def home_roof(ctx: Context) -> RuleResult:
    """屋顶坡度不符: a pitched roof whose slope is outside ``roof_slope_min_deg``–``roof_slope_max_deg`` (26–30°).

    Only roofs known to be pitched (``roof``) are judged; severity ``low``; geometry = the footprint;
    ``measured`` = the slope (°), ``limit`` = the bound it breaks. The source of the heights (属性/nDSM)
    and the depth are in the message.

    Examples
    --------
    >>> # 10 m deep, eave 3.3 m, ridge 5.9 m -> 27.5°: compliant; ridge 6.5 m -> 32.6°: finding, limit 30
    >>> # home_roof(ctx)
    """
    b = ctx["buildings"]
    b = b[roof_kind(b["roof"]) == "pitched"]
    if b.empty:
        return RuleResult(_empty(ctx))
    vid = b["village_id"].to_numpy(dtype=object)
    ids = b["building_id"].astype(str).to_numpy(dtype=object)
    depth = footprint_depth(b.geometry.to_numpy())
    eave = pd.to_numeric(b["eave_height_m"], errors="coerce").to_numpy(dtype=float).copy()
    ridge = pd.to_numeric(b["ridge_height_m"], errors="coerce").to_numpy(dtype=float).copy()
    attr = np.isfinite(eave) & np.isfinite(ridge)
    bad = attr & (ridge < eave)
    notes: list[Note] = []
    if bad.any():
        notes.append(Note("buildings", "bad_roof_heights", tuple(ids[bad]),
                          "buildings：{n} 栋坡屋顶房屋的屋脊高度 ridge_height_m 低于檐口高度 eave_height_m（{ids}），"
                          "未作屋顶坡度检查；请核对这两个字段"))
    attr &= ~bad
    src = np.where(attr, "属性", None).astype(object)
    need = ~attr & ~bad & (depth > 0)
    if need.any() and "ndsm" in ctx.rasters:
        sub = b[need]
        svid = vid[need]
        e_fit, t_fit = roof_fit(ctx.rasters["ndsm"], sub.geometry.to_numpy(), ctx.crs,
                                np.asarray(ctx.limit("ndsm_shrink_m", svid), dtype=float), groups=svid)
        got = np.isfinite(t_fit)
        idx = np.flatnonzero(need)
        eave[idx] = e_fit
        ridge[idx] = e_fit + t_fit * depth[need] / 2.0
        src[idx[got]] = "nDSM"
    unchecked = pd.isna(src) & ~bad
    if unchecked.any():
        notes.append(Note("buildings", "roof_unchecked", tuple(ids[unchecked]),
                          "HOME-ROOF：{n} 栋坡屋顶房屋无檐口、屋脊高度" + ("且nDSM无有效像元" if "ndsm" in ctx.rasters
                                                                       else "且未配置nDSM")
                          + "，未作屋顶坡度检查：{ids}"))
    slope = np.where(pd.notna(src), roof_slope_deg(eave, ridge, depth), np.nan)
    lo_deg = np.asarray(ctx.limit("roof_slope_min_deg", vid), dtype=float)
    hi_deg = np.asarray(ctx.limit("roof_slope_max_deg", vid), dtype=float)
    with np.errstate(invalid="ignore"):
        low, high = slope < lo_deg - _DEG_TOL, slope > hi_deg + _DEG_TOL
    over = low | high
    if not over.any():
        return RuleResult(_empty(ctx), tuple(notes))
    rows = b[over]
    limit = np.where(low, lo_deg, hi_deg)[over]
    message = [f"房屋{i}为坡屋顶，进深{d:.2f}米，檐口高度{e:.2f}米、屋脊高度{r:.2f}米（来源：{s}），屋顶坡度{a:.1f}度，"
               f"{'小于' if a < lim else '大于'}{lim:g}度（应为{lo:g}—{hi:g}度），不符合{{basis}}的规定。"
               for i, d, e, r, s, a, lim, lo, hi in zip(ids[over], depth[over], eave[over], ridge[over], src[over],
                                                        slope[over], limit, lo_deg[over], hi_deg[over])]
    return RuleResult(partial(
        ctx.crs, rows.geometry.to_numpy(), subject_layer="buildings", subject_id=rows["building_id"].to_numpy(dtype=object),
        village_id=rows["village_id"].to_numpy(dtype=object), severity="low", measured=np.round(slope[over], 2),
        limit=limit, unit="°", area_m2=np.full(len(rows), np.nan), status=_building_status(ctx, rows),
        message=message), tuple(notes))


# ------------------------------------------------------------------------------------------------
# HOME-STAIR
# ------------------------------------------------------------------------------------------------
def stair_patches(path, geoms, crs, thresholds, percentile=95.0, groups=None) -> tuple[np.ndarray, ...]:
    """The largest patch of nDSM pixels above each footprint's threshold: its area, height and roof share.

    Pixels whose centre is inside a footprint and whose value is above the footprint's threshold are
    grouped into 8-connected patches (:func:`rasterio.features.shapes`); the largest patch of each
    footprint is kept. Windows are read per group (e.g. village), never the whole raster.

    Parameters
    ----------
    path : path-like
        The nDSM GeoTIFF.
    geoms : array-like of shapely geometries
        Footprints in ``crs`` (metric).
    crs : pyproj.CRS or str
    thresholds : array-like of float
        Height above ground per footprint.
    percentile : float or array-like of float
        Percentile of the patch's pixels taken as its top.
    groups : array-like, optional
        A group per footprint: one window is read per group.

    Returns
    -------
    area : numpy.ndarray
        Area of the largest patch in ``crs`` units² (0 where none).
    rise : numpy.ndarray
        The patch's top minus the median of the footprint's other pixels (NaN where none).
    share : numpy.ndarray
        The patch's share of the footprint's pixels (0 where none).

    Examples
    --------
    >>> # area, rise, share = stair_patches("ndsm.tif", footprints, "EPSG:4548", [7.8, 7.8])
    """
    import rasterio
    from rasterio.features import rasterize, shapes

    from layers.rasters import _pixel_boxes, _to_raster_crs, read_windows, percentile_by_label

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    area, rise, share = np.zeros(n), np.full(n, np.nan), np.zeros(n)
    if n == 0:
        return area, rise, share
    thr = np.asarray(thresholds, dtype=float)
    q = np.broadcast_to(np.asarray(percentile, dtype=float), (n,))
    grp = pd.Series(np.asarray(groups, dtype=object) if groups is not None else np.zeros(n, dtype=object)).astype(str)
    with rasterio.open(path) as src:
        rgeoms = _to_raster_crs(geoms, crs, src.crs)
        box = _pixel_boxes(rgeoms, src.transform, src.width, src.height)
        inside = np.flatnonzero((box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1]))
        for part, values, wt in read_windows(src, box[inside], grp.to_numpy()[inside]):
            members = inside[part]
            label = rasterize(zip(rgeoms[members], range(1, len(members) + 1)), out_shape=values.shape,
                              transform=wt, fill=0, dtype="int32")
            finite = np.isfinite(values) & (label > 0)
            lab_thr = np.concatenate([[np.inf], thr[members]])[label]
            above = finite & (values > lab_thr)
            if not above.any():
                continue
            src_img = np.where(above, label, 0).astype("int32")
            polys, owners = [], []
            for geom, value in shapes(src_img, mask=above, connectivity=8, transform=wt):
                polys.append(shapely.geometry.shape(geom))
                owners.append(int(value) - 1)
            polys = np.asarray(polys, dtype=object)
            owners = np.asarray(owners, dtype=np.int64)
            # pixel counts of each patch: rasterize the patches back (each pixel belongs to one)
            patch = rasterize(zip(polys, range(1, len(polys) + 1)), out_shape=values.shape, transform=wt,
                              fill=0, dtype="int32")
            counts = np.bincount(patch[above], minlength=len(polys) + 1)[1:]
            order = np.lexsort((-counts, owners))
            first = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]   # largest patch per footprint
            best = np.zeros(len(polys) + 1, dtype=bool)
            best[first + 1] = True
            total = np.bincount(label[finite] - 1, minlength=len(members))
            metric = _to_raster_crs(polys[first], src.crs, crs)
            who = owners[first]
            area[members[who]] = shapely.area(metric)
            share[members[who]] = counts[first] / np.maximum(total[who], 1)
            in_best = above & best[patch]
            top = percentile_by_label(label[in_best] - 1, values[in_best], q[members], len(members))
            rest = finite & ~above
            base = percentile_by_label(label[rest] - 1, values[rest], 50.0, len(members))
            rise[members[who]] = (top - base)[who]
    return area, rise, share


@implements("HOME-STAIR", limits=("stair_area_max_m2", "stair_height_max_m", "stair_ndsm_margin_m", "height_2f_flat_m",
                                    "height_2f_ridge_m", "height_1f_flat_m", "height_1f_eave_m", "height_1f_ridge_m",
                                    "height_2f_eave_m", "ndsm_percentile", "plinth_default_m", "homestead_area_date"))
def home_stair(ctx: Context) -> RuleResult:
    """楼梯间超标 / 局部三层: a roof stairwell over ``stair_area_max_m2`` (6 m²) or ``stair_height_max_m`` (2.7 m).

    From the attributes ``stair_area_m2``/``stair_height_m`` (negative values are data-quality notes and
    not used); where both are missing, in a two-floor building, from the nDSM (:func:`stair_patches`).
    Severity ``medium``; geometry = the footprint; ``measured``/``limit`` = the area (m²) when it is over,
    else the storey height (m).

    Examples
    --------
    >>> # stair_area_m2 6.0 and stair_height_m 2.7 are compliant; 9.0 m² -> 局部三层, measured 9.0, limit 6.0
    >>> # home_stair(ctx)
    """
    b = ctx["buildings"]
    if b.empty:
        return RuleResult(_empty(ctx))
    vid = b["village_id"].to_numpy(dtype=object)
    ids = b["building_id"].astype(str).to_numpy(dtype=object)
    area = (pd.to_numeric(b["stair_area_m2"], errors="coerce").to_numpy(dtype=float).copy()
            if "stair_area_m2" in b.columns else np.full(len(b), np.nan))
    height = (pd.to_numeric(b["stair_height_m"], errors="coerce").to_numpy(dtype=float).copy()
              if "stair_height_m" in b.columns else np.full(len(b), np.nan))
    notes: list[Note] = []
    bad = (area < 0) | (height < 0)
    if bad.any():
        notes.append(Note("buildings", "bad_stair_values", tuple(ids[bad]),
                          "buildings：{n} 栋房屋的楼梯间面积 stair_area_m2 或层高 stair_height_m 为负值（{ids}），"
                          "未按属性作楼梯间检查；请核对这两个字段"))
        area[bad], height[bad] = np.nan, np.nan
    src = np.where(np.isfinite(area) | np.isfinite(height), "属性", None).astype(object)
    floors = pd.to_numeric(b["floors"], errors="coerce").to_numpy(dtype=float)
    # from the nDSM on flat roofs only: above a pitched roof the strip along a too-high ridge would look
    # like a stairwell (that is HOME-HEIGHT's)
    need = pd.isna(src) & ~bad & (floors == 2) & (roof_kind(b["roof"]) == "flat")
    if need.any() and "ndsm" in ctx.rasters:
        sub = b[need]
        svid = vid[need]
        plinth, _, pnotes = plinth_heights(ctx, sub)
        notes.extend(pnotes)
        lim = height_limits(ctx, svid, sub["floors"])
        top = np.where(roof_kind(sub["roof"]) == "flat", lim["flat"], lim["ridge"])
        thr = top + plinth + np.asarray(ctx.limit("stair_ndsm_margin_m", svid), dtype=float)
        a, r, share = stair_patches(ctx.rasters["ndsm"], sub.geometry.to_numpy(), ctx.crs, thr,
                                    np.asarray(ctx.limit("ndsm_percentile", svid), dtype=float), groups=svid)
        # half the roof or more above the limit is the house being too high (HOME-HEIGHT), not a stairwell
        found = (a > 0) & (share < 0.5)
        idx = np.flatnonzero(need)[found]
        area[idx], height[idx] = a[found], r[found]
        src[idx] = "nDSM"
    amax = np.asarray(ctx.limit("stair_area_max_m2", vid), dtype=float)
    hmax = np.asarray(ctx.limit("stair_height_max_m", vid), dtype=float)
    with np.errstate(invalid="ignore"):
        big = area - amax > _AREA_TOL
        tall = height - hmax > _HEIGHT_TOL
    over = big | tall
    if not over.any():
        return RuleResult(_empty(ctx), tuple(notes))
    rows = b[over]
    measured = np.where(big, area, height)[over]
    limit = np.where(big, amax, hmax)[over]
    unit = np.where(big, "m²", "m")[over]

    def part(value, cap, what, u, fmt):
        if np.isnan(value):
            return f"{what}不详"
        return f"{what}{value:{fmt}}{u}" + (f"（超过{cap:g}{u}）" if value - cap > _AREA_TOL else "")

    message = [f"房屋{i}屋顶楼梯间（电梯间）" + part(a, am, "面积", "平方米", ".2f") + "，" + part(h, hm, "层高", "米", ".2f")
               + f"（来源：{s}），超出“建筑面积控制在{am:g}平方米以内、层高控制在{hm:g}米以内”的要求，属以楼梯间为由建设局部三层，"
               "违反{basis}。"
               for i, a, h, am, hm, s in zip(ids[over], area[over], height[over], amax[over], hmax[over], src[over])]
    return RuleResult(partial(
        ctx.crs, rows.geometry.to_numpy(), subject_layer="buildings", subject_id=rows["building_id"].to_numpy(dtype=object),
        village_id=rows["village_id"].to_numpy(dtype=object), severity="medium", measured=np.round(measured, 2),
        limit=limit, unit=unit, area_m2=np.full(len(rows), np.nan), status=_building_status(ctx, rows),
        message=message), tuple(notes))
