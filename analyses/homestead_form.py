"""Family ``homestead`` — the form of a house: roof slope (HOME-ROOF) and roof stairwells (HOME-STAIR).

Both read heights as HOME-HEIGHT does: attributes first, else the ``ndsm`` raster (metres above ground).

* ``HOME-ROOF`` (屋顶坡度, 附件2 五(四) “屋顶坡度为26—30度”): a pitched roof's slope is
  ``atan((ridge − eave) ÷ (depth ÷ 2))``, depth = the short side of the footprint's minimum rotated
  rectangle. From the nDSM (where the attributes lack either height), as RULES.md says: ridge side = the
  ``roof_ridge_percentile`` (95th), eave side = the ``roof_eave_percentile`` (5th) of the roof pixels
  inside the footprint shrunk by ``ndsm_shrink_m``; their difference covers (p_hi − p_lo)/100 of the rise
  over the run sampled (depth/2 − shrink), so the slope is that difference over the same percentiles'
  spread of the pixels' distances in from the eave line (:func:`roof_heights`, derivation there).
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

__all__ = ["footprint_depth", "roof_slope_deg", "roof_heights", "home_roof", "home_stair", "stair_patches"]

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


def roof_heights(path, geoms, crs, shrink_m=0.5, ridge_percentile=95.0, eave_percentile=5.0,
                 groups=None) -> tuple[np.ndarray, np.ndarray]:
    """Eave and ridge height of each pitched roof from two percentiles of its nDSM pixels.

    The roof pixels are those whose centre is inside the footprint shrunk by ``shrink_m`` (nodata
    ignored). Their ``ridge_percentile``-th height ``h_hi`` and ``eave_percentile``-th height ``h_lo``
    alone are not the ridge and the eave: the shrink keeps the lowest strip of the roof out, and a
    percentile other than 0/100 stops short of the extremes. The slope follows from the run those two
    percentiles span.

    Derivation, for a gable roof: a pixel ``d`` metres in from the long side (the eave line) is
    ``h = eave + t·d`` high, ``t = tan(slope)``. Because ``h`` grows with ``d``, sorting the pixels by
    height sorts them by ``d``: the p-th percentile of the heights is ``eave + t·d_p``, ``d_p`` the p-th
    percentile of the pixels' distances in from the eave line. Hence

        t = (h_hi − h_lo) / (d_hi − d_lo),   eave = h_lo − t·d_lo,   ridge = eave + t·depth/2.

    The roof pixels of the shrunk footprint are spread uniformly over ``d`` from ``shrink_m`` to
    ``depth/2``, so ``d_hi − d_lo ≈ (p_hi − p_lo)/100 · (depth/2 − shrink_m)``: the percentile difference
    covers that share of the rise over the run sampled (0.9 × (5 − 0.5) m = 4.05 m on a 10 m deep house,
    not 5 m — dividing by ``depth/2`` would read a 28° roof as 23.3°). ``d_lo``/``d_hi`` are taken from the
    pixels actually sampled (the same percentiles of their ``d``), which is that figure without the
    pixel grid's error (up to one pixel over a run of a few metres, ±2°). ``d`` is measured from the
    long axis of the footprint's minimum rotated rectangle (the ridge line).

    Parameters
    ----------
    path : path-like
        The nDSM GeoTIFF (metres above ground).
    geoms : array-like of shapely geometries
        Footprints in ``crs`` (metric).
    crs : pyproj.CRS or str
    shrink_m : float or array-like of float
        Inward buffer before sampling (a footprint it empties is sampled unshrunk).
    ridge_percentile, eave_percentile : float or array-like of float
        The high and the low percentile (0–100), one for all or one per footprint.
    groups : array-like, optional
        A group per footprint (e.g. its village): one window is read per group.

    Returns
    -------
    eave, ridge : numpy.ndarray
        NaN where the footprint has fewer than three finite pixels or the two percentiles span no run.

    Examples
    --------
    >>> import rasterio, tempfile
    >>> from pathlib import Path
    >>> from rasterio.transform import from_origin
    >>> p = Path(tempfile.mkdtemp()) / "ndsm.tif"
    >>> y = 4443020 - (np.arange(40) + 0.5) * 0.25                     # a 28° gable, eave 3.3 m, 10 m deep
    >>> h = 3.3 + np.tan(np.radians(28)) * (5 - np.abs(y - 4443015))
    >>> with rasterio.open(p, "w", driver="GTiff", width=48, height=40, count=1, dtype="float32",
    ...                    crs="EPSG:4548", transform=from_origin(508000, 4443020, 0.25, 0.25)) as dst:
    ...     dst.write(np.repeat(h[:, None], 48, axis=1)[None].astype("float32"))
    >>> eave, ridge = roof_heights(p, [shapely.box(508000, 4443010, 508012, 4443020)], "EPSG:4548")
    >>> round(float(roof_slope_deg(eave, ridge, 10.0)[0]), 1), round(float(eave[0]), 2)
    (28.0, 3.3)
    """
    import rasterio

    from layers.rasters import _burn, _pixel_boxes, _to_raster_crs, read_windows

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    eave, ridge = np.full(n, np.nan), np.full(n, np.nan)
    if n == 0:
        return eave, ridge
    shrink = np.broadcast_to(np.asarray(shrink_m, dtype=float), (n,))
    q = np.stack([np.broadcast_to(np.asarray(eave_percentile, dtype=float), (n,)),
                  np.broadcast_to(np.asarray(ridge_percentile, dtype=float), (n,))])
    shrunk = shapely.buffer(geoms, -shrink, join_style="mitre")
    empty = shapely.is_empty(shrunk) | shapely.is_missing(shrunk)
    shrunk[empty] = geoms[empty]
    axis, centre, half = _ridge_lines(geoms)
    h_q, d_q = np.full((2, n), np.nan), np.full((2, n), np.nan)
    grp = pd.Series(np.asarray(groups, dtype=object) if groups is not None else np.zeros(n, dtype=object)).astype(str)
    with rasterio.open(path) as src:
        rgeoms = _to_raster_crs(shrunk, crs, src.crs)
        box = _pixel_boxes(_to_raster_crs(geoms, crs, src.crs), src.transform, src.width, src.height)
        inside = np.flatnonzero((box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1]))
        reproject = _crs_differs(src.crs, crs)
        for part, values, wt in read_windows(src, box[inside], grp.to_numpy()[inside]):
            members = inside[part]
            local, hs, ds = [], [], []
            for img in _burn(rgeoms[members], np.arange(1, len(members) + 1), values.shape, wt, all_touched=False):
                rows, cols = np.nonzero((img > 0) & np.isfinite(values))
                k = img[rows, cols] - 1
                cc, rr = cols + 0.5, rows + 0.5                       # pixel centres
                pts = np.column_stack([wt.c + wt.a * cc + wt.b * rr, wt.f + wt.d * cc + wt.e * rr])
                if reproject:
                    pts = shapely.get_coordinates(_to_raster_crs(shapely.points(pts), src.crs, crs))
                g = members[k]
                rel = pts - centre[g]
                local.append(k)
                hs.append(values[rows, cols])
                ds.append(half[g] - np.abs(rel[:, 0] * axis[g, 1] - rel[:, 1] * axis[g, 0]))
            k = np.concatenate(local)
            if len(k) == 0:
                continue
            count = np.bincount(k, minlength=len(members))
            ok = count >= 3
            h_q[:, members[ok]] = _percentiles_by_label(k, np.concatenate(hs), q[:, members], len(members))[:, ok]
            d_q[:, members[ok]] = _percentiles_by_label(k, np.concatenate(ds), q[:, members], len(members))[:, ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        run = d_q[1] - d_q[0]
        t = np.where(run > 1e-6, (h_q[1] - h_q[0]) / run, np.nan)
        eave = h_q[0] - t * d_q[0]
        ridge = eave + t * half
    return eave, ridge


def _ridge_lines(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vector of the long axis, centre and half of the depth of each footprint's minimum rotated rectangle."""
    n = len(geoms)
    rect = shapely.minimum_rotated_rectangle(geoms)
    xy, where = shapely.get_coordinates(rect, return_index=True)
    f = np.minimum(np.searchsorted(where, np.arange(n)), max(len(xy) - 1, 0))
    if len(xy) == 0:
        return np.zeros((n, 2)), np.zeros((n, 2)), np.zeros(n)
    p0, p1, p2 = xy[f], xy[np.minimum(f + 1, len(xy) - 1)], xy[np.minimum(f + 2, len(xy) - 1)]
    a, b = p1 - p0, p2 - p1
    la, lb = np.hypot(*a.T), np.hypot(*b.T)
    axis = np.where((la >= lb)[:, None], a, b)
    axis = axis / np.maximum(np.hypot(*axis.T), 1e-12)[:, None]
    return axis, (p0 + p2) / 2.0, np.minimum(la, lb) / 2.0


def _percentiles_by_label(labels: np.ndarray, values: np.ndarray, q: np.ndarray, n_labels: int) -> np.ndarray:
    """Percentiles ``q`` (shape ``(m, n_labels)``, 0–100) of ``values`` per label, by one sort (linear interpolation).

    As :func:`layers.rasters.percentile_by_label` (values at float32 precision), several percentiles at once.

    Examples
    --------
    >>> _percentiles_by_label(np.array([0, 0, 0, 1]), np.array([3.0, 1.0, 2.0, 7.0]),
    ...                       np.array([[0.0, 50.0], [50.0, 100.0]]), 2).tolist()
    [[1.0, 7.0], [2.0, 7.0]]
    """
    from layers.rasters import _sortable, _unsortable

    out = np.full(q.shape, np.nan)
    if len(labels) == 0:
        return out
    keys = (labels.astype(np.uint64) << np.uint64(32)) | _sortable(values)   # (label, float32 value) in one key
    keys.sort()
    v = _unsortable(keys)
    counts = np.bincount(labels, minlength=n_labels)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    pos = np.clip(q[:, has], 0.0, 100.0) / 100.0 * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    base = starts[has]
    out[:, has] = v[base + lo] + (v[base + hi] - v[base + lo]) * (pos - lo)
    return out


def _crs_differs(a, b) -> bool:
    """Whether two CRS definitions differ."""
    from pyproj import CRS

    return CRS.from_user_input(a) != CRS.from_user_input(b)


# ------------------------------------------------------------------------------------------------
# HOME-ROOF
# ------------------------------------------------------------------------------------------------
@implements("HOME-ROOF", limits=("roof_slope_min_deg", "roof_slope_max_deg", "roof_ridge_percentile",
                                   "roof_eave_percentile", "ndsm_shrink_m", "homestead_area_date"))
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
        e_nd, r_nd = roof_heights(ctx.rasters["ndsm"], sub.geometry.to_numpy(), ctx.crs,
                                  np.asarray(ctx.limit("ndsm_shrink_m", svid), dtype=float),
                                  ridge_percentile=np.asarray(ctx.limit("roof_ridge_percentile", svid), dtype=float),
                                  eave_percentile=np.asarray(ctx.limit("roof_eave_percentile", svid), dtype=float),
                                  groups=svid)
        got = np.isfinite(r_nd)
        idx = np.flatnonzero(need)
        eave[idx], ridge[idx] = e_nd, r_nd
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
