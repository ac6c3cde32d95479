"""Dating farmland conversions by the annual survey series (role ``landuse_history``).

A conversion happened between the last vintage that shows farmland under the finding and the first later
vintage that shows another use; its ``status`` is the campaign class of that later vintage (``historic``
before ``farmland_history_start`` 2010-01-01, ``existing`` up to ``farmland_cutoff`` 2020-09-10, ``new``
after; a vintage stands for the land at the end of its year), so an interval straddling a boundary gets the
later class, and ``dated_by`` names both vintages in Chinese. Without a history (or where it does not cover
the finding) the rule's own dating stays and ``dated_by`` names it: ``房屋建成年份2022``, ``现状调查年份2023``,
``卫片后时相2026-07-15``.

The overlay is one bulk STRtree query of all the findings of a rule against the whole series (built once per
run as the intermediate-like value ``survey_series``), never vintage by vintage; the runner applies
:func:`date_findings` to the findings of the rules in :data:`DATED_RULES` after they are finalised, so the
rules stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landuse import is_farmland, stem

from .context import Context
from .registry import intermediate

__all__ = ["DATED_RULES", "SurveySeries", "survey_series", "date_findings", "year_class", "use_name"]

#: Farmland conversion rules whose findings are dated by the survey series.
DATED_RULES = ("FARM-BUILD", "FARM-NONAGRI", "FARM-GREEN", "FARM-CORRIDOR", "FARM-LAKE", "FARM-NONGRAIN",
               "FARM-DIG", "FARM-PATCH")

#: A vintage shows a use when that use covers at least this share of the finding.
_SHOWS = 0.5


@dataclass(frozen=True)
class SurveySeries:
    """The survey vintages, ready for one bulk query.

    Attributes
    ----------
    geoms : numpy.ndarray of geometries
    years : numpy.ndarray of int
    farm : numpy.ndarray of bool
        Whether each patch is 耕地.
    use : numpy.ndarray of str
        The Chinese name of each patch's use (see :func:`use_name`).
    tree : shapely.STRtree
    """

    geoms: np.ndarray
    years: np.ndarray
    farm: np.ndarray
    use: np.ndarray
    tree: shapely.STRtree


def use_name(codes) -> np.ndarray:
    """Chinese name of the use of each GB/T 21010 code, as a dating line says it.

    Examples
    --------
    >>> use_name(["0702", "1104A", "0301", "1202", "0103", None]).tolist()
    ['建设用地', '坑塘水面', '林地', '设施农用地', '耕地', '其他用地']
    """
    s = stem(pd.Series(np.asarray(codes, dtype=object), dtype=object)).fillna("").astype(str)
    two = s.str[:2]
    names = np.select(
        [s.isin(["0101", "0102", "0103"]), s == "1202", s == "1104", two == "02", two == "03", two == "04",
         two.isin(["05", "06", "07", "08", "09", "10"]), two == "11", two == "12"],
        ["耕地", "设施农用地", "坑塘水面", "园地", "林地", "草地", "建设用地", "水域", "其他土地"], "其他用地")
    return names.astype(object)


@intermediate("survey_series")
def survey_series(ctx: Context) -> SurveySeries | None:
    """The ``landuse_history`` vintages with their years, farmland flags and use names (None without).

    Patches without a ``survey_year`` or a code are left out (the reader already refused a vintage
    without years).

    Examples
    --------
    >>> # series = survey_series(ctx); series.years.min()
    """
    h = ctx.get("landuse_history")
    if h is None or h.empty:
        return None
    years = pd.to_numeric(h["survey_year"], errors="coerce")
    ok = (years.notna() & h["dlbm"].notna()).to_numpy() & ~shapely.is_empty(h.geometry.to_numpy())
    if not ok.any():
        return None
    geoms = h.geometry.to_numpy()[ok]
    codes = h["dlbm"].astype(object)[ok]
    return SurveySeries(geoms, years[ok].to_numpy(dtype=int), is_farmland(codes), use_name(codes),
                        shapely.STRtree(geoms))


def year_class(years, start, cutoff) -> np.ndarray:
    """Campaign class of a vintage year (the land at the end of that year).

    ``historic`` when Dec 31 is before ``start``, ``existing`` when on or before ``cutoff``, ``new``
    after; None for unknown years. ``start`` and ``cutoff`` are one date each or one per row.

    Examples
    --------
    >>> import datetime as dt
    >>> year_class([2009, 2010, 2019, 2020, None], dt.date(2010, 1, 1), dt.date(2020, 9, 10)).tolist()
    ['historic', 'existing', 'existing', 'new', None]
    """
    y = pd.to_numeric(pd.Series(np.asarray(years, dtype=object)), errors="coerce").to_numpy(dtype=float)
    n = len(y)
    s = pd.to_datetime(pd.Series(np.broadcast_to(np.asarray(start, dtype=object), n))).to_numpy("datetime64[D]")
    c = pd.to_datetime(pd.Series(np.broadcast_to(np.asarray(cutoff, dtype=object), n))).to_numpy("datetime64[D]")
    known = ~np.isnan(y)
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    end[known] = (y[known].astype(int) - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]") - 1
    out = np.where(end < s, "historic", np.where(end <= c, "existing", "new")).astype(object)
    out[~known] = None
    return out


def _date_class(dates, start, cutoff) -> np.ndarray:
    d = pd.to_datetime(pd.Series(np.asarray(dates, dtype=object)), errors="coerce")
    n = len(d)
    s = pd.to_datetime(pd.Series(np.broadcast_to(np.asarray(start, dtype=object), n))).to_numpy("datetime64[ns]")
    c = pd.to_datetime(pd.Series(np.broadcast_to(np.asarray(cutoff, dtype=object), n))).to_numpy("datetime64[ns]")
    v = d.to_numpy("datetime64[ns]")
    out = np.where(v < s, "historic", np.where(v <= c, "existing", "new")).astype(object)
    out[d.isna().to_numpy()] = None
    return out


def _lookup(ctx: Context, layer: str, column: str, ids: pd.Series) -> pd.Series:
    frame = ctx.get(layer)
    from layers.roles import ROLES

    col = ROLES[layer].id_column if layer in ROLES else None
    if frame is None or col is None or column not in frame.columns:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    rows = ctx.rows_of(layer, col, ids)
    values = np.append(frame[column].to_numpy(dtype=object), None)
    return pd.Series(values[np.where(rows >= 0, rows, len(frame))], index=ids.index, dtype=object)


def _fallback(ctx: Context, f: gpd.GeoDataFrame, start, cutoff) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fallback ``dated_by``, the class it gives (None when it cannot) and its year (for open intervals)."""
    n = len(f)
    dated = np.full(n, None, dtype=object)
    cls = np.full(n, None, dtype=object)
    year = np.full(n, np.nan)
    layer = f["subject_layer"].astype(object).to_numpy()
    sid = f["subject_id"].astype(object)
    for name, column, label in (("buildings", "built_year", "房屋建成年份"), ("landuse", "survey_year", "现状调查年份")):
        rows = layer == name
        if not rows.any():
            continue
        y = pd.to_numeric(_lookup(ctx, name, column, sid[rows]), errors="coerce").to_numpy(dtype=float)
        has = ~np.isnan(y)
        idx = np.flatnonzero(rows)[has]
        dated[idx] = [f"{label}{int(v)}" for v in y[has]]
        year[idx] = y[has]
        yc = year_class(y[has], start[idx], cutoff[idx])
        # a year says the class only when it is not the cut-off's own year
        same = np.isin(y[has], pd.to_datetime(pd.Series(cutoff[idx])).dt.year.to_numpy())
        yc[same] = None
        cls[idx] = yc
    rows = layer == "monitoring_patches"
    if rows.any():
        d = pd.to_datetime(_lookup(ctx, "monitoring_patches", "after_date", sid[rows]), errors="coerce")
        has = d.notna().to_numpy()
        idx = np.flatnonzero(rows)[has]
        dated[idx] = ["卫片后时相" + v.strftime("%Y-%m-%d") for v in d[has]]
        year[idx] = d[has].dt.year.to_numpy(dtype=float)
        cls[idx] = _date_class(d[has], start[idx], cutoff[idx])
    return dated, cls, year


def date_findings(ctx: Context, findings: gpd.GeoDataFrame, series: SurveySeries | None) -> gpd.GeoDataFrame:
    """``status`` and ``dated_by`` of finalised farmland conversion findings, from the survey series.

    Parameters
    ----------
    ctx : Context
        The district (limits ``farmland_history_start`` and ``farmland_cutoff`` per village; the subject
        layers for the fallbacks).
    findings : GeoDataFrame
        Finalised findings of one rule (:func:`analyses.findings.finalise`).
    series : SurveySeries or None
        :func:`survey_series` of the district.

    Returns
    -------
    GeoDataFrame
        The same rows with ``status`` and ``dated_by`` set. Where the series decides, its class replaces
        the rule's status; elsewhere the rule's status stays (``existing`` becomes ``historic`` when its
        date is before 2010) and ``dated_by`` names what dated it.

    Examples
    --------
    >>> # dated = date_findings(ctx, run_rule_findings, survey_series(ctx))
    """
    if findings is None or findings.empty:
        return findings
    out = findings.copy()
    n = len(out)
    vids = out["village_id"].to_numpy(dtype=object)
    start = ctx.limit("farmland_history_start", vids)
    cutoff = ctx.limit("farmland_cutoff", vids)
    dated, fb_cls, fb_year = _fallback(ctx, out, start, cutoff)
    status = out["status"].to_numpy(dtype=object).copy()
    upgrade = (fb_cls == "historic") & (status == "existing")
    status[upgrade] = "historic"
    patch = (out["subject_layer"] == "monitoring_patches").to_numpy() & pd.notna(fb_cls)
    status[patch] = fb_cls[patch]
    if series is not None:
        geoms = out.geometry.to_numpy()
        # a monitoring patch that is no farmland conversion (合法 / 其他 / 待核查) is dated by its own image dates,
        # not by when its land last was farmland
        judged = out["judgement"].to_numpy(dtype=object) if "judgement" in out.columns else np.full(n, None)
        dated_by_series = ~((out["rule_id"] == "FARM-PATCH").to_numpy() & (judged != "违法"))
        cand = np.flatnonzero(dated_by_series)
        li, ri = series.tree.query(geoms[cand], predicate="intersects")
        li = cand[li]
        if len(li):
            area = shapely.area(shapely.intersection(geoms[li], series.geoms[ri]))
            pairs = pd.DataFrame({"f": li, "y": series.years[ri], "farm": series.farm[ri], "use": series.use[ri],
                                  "a": area})
            pairs = pairs[pairs["a"] > 0]
            whole = shapely.area(geoms)
            per = pairs.groupby(["f", "y", "farm"], sort=True)["a"].sum().unstack("farm", fill_value=0.0)
            per = per.reindex(columns=[False, True], fill_value=0.0)
            fy = per.index.to_frame(index=False)
            need = _SHOWS * whole[fy["f"].to_numpy()]
            fy["farm"] = per[True].to_numpy() >= need - 1e-9
            fy["other"] = per[False].to_numpy() >= need - 1e-9
            last_farm = fy[fy["farm"]].groupby("f")["y"].max()
            fy["L"] = fy["f"].map(last_farm)
            later = fy[fy["other"] & (fy["L"].isna() | (fy["y"] > fy["L"]))]
            first_new = later.groupby("f")["y"].min()
            dec = pd.DataFrame({"L": last_farm, "F": first_new})
            if len(dec):
                # the use shown at F: the largest non-farmland use there
                at_f = pairs.merge(dec["F"].dropna().rename("y").reset_index().rename(columns={"index": "f"}),
                                   on=["f", "y"])
                at_f = at_f[~at_f["farm"]].groupby(["f", "use"])["a"].sum().reset_index()
                use = at_f.sort_values(["f", "a"], ascending=[True, False]).drop_duplicates("f").set_index("f")["use"]
                rows = dec.index.to_numpy()
                L, F = dec["L"].to_numpy(float), dec["F"].to_numpy(float)
                u = pd.Series(rows).map(use).fillna("其他用地").to_numpy(dtype=object)
                cl = year_class(np.where(np.isnan(L), np.nan, L), start[rows], cutoff[rows])
                cf = year_class(np.where(np.isnan(F), np.nan, F), start[rows], cutoff[rows])
                both = ~np.isnan(L) & ~np.isnan(F)
                only_f = np.isnan(L) & ~np.isnan(F)
                only_l = ~np.isnan(L) & np.isnan(F)
                text = np.full(len(rows), None, dtype=object)
                text[both] = [f"{int(a)}年度变更调查为耕地，{int(b)}年度变更调查为{w}" for a, b, w in
                              zip(L[both], F[both], u[both])]
                text[both & (cl != cf)] = [t + "（跨越时间节点，按较晚的类别认定）" for t in text[both & (cl != cf)]]
                text[only_f] = [f"{int(b)}年度变更调查已为{w}（此前的调查中未见耕地）" for b, w in zip(F[only_f], u[only_f])]
                cls = cf.copy()
                # farmland in the last vintage: converted since, dated by the rule's own date when later
                later_own = only_l & ~np.isnan(fb_year[rows]) & (fb_year[rows] > np.nan_to_num(L, nan=-1))
                cls[only_l] = "new"
                cls[later_own] = fb_cls[rows][later_own]
                text[only_l] = [f"{int(a)}年度变更调查仍为耕地" for a in L[only_l]]
                text[later_own] = [t + "，" + d for t, d in zip(text[later_own], dated[rows][later_own])]
                decided = np.isin(np.arange(len(rows)), np.flatnonzero(both | only_f | only_l))
                status[rows[decided]] = cls[decided]
                dated[rows[decided]] = text[decided]
    out["status"] = pd.Series(status, index=out.index, dtype=object)
    out["dated_by"] = pd.Series(dated, index=out.index, dtype=object)
    return out
