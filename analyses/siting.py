"""Family ``siting`` — 公墓选址 (门政发〔2019〕19号 第七条).

第七条: 禁止在城镇规划区、文物保护区、风景名胜区、水源保护区、河流堤坝和公路两侧建立墓地.

``SITE-CEMETERY`` (公墓选址违规) flags a cemetery

* inside a ``protected_zones`` polygon of kind ``town_planning``, ``relic``, ``scenic``, ``water_source``
  or ``dike`` (overlap ≥ ``min_overlap_m2``): one finding per cemetery and zone kind (``key`` = the kind),
  severity ``high``, geometry = the overlap, ``related_ids`` = the zones' names;
* within ``cemetery_road_distance_m`` (default 50 m) of a road (公路) whose grade is one of
  ``cemetery_road_grades`` (default expressway, national, provincial, county, township — 村道 and
  railways are not 公路; roads of unknown grade count): one finding per cemetery (``key`` = ``road``),
  severity ``medium``, ``measured`` = the distance to the nearest such road, geometry = the part of the
  cemetery within the distance, ``related_ids`` = every road that close. The source names no distance:
  the message says the figure comes from the configuration.

Distances are measured from the road land's edge: road polygons as given, centre lines with a
``width_m`` widened by half of it on each side; a centre line without a width is measured from the
centre line, and the message says which. Distances are compared at 0.01 m: a cemetery exactly 50 m away
is compliant. Overlaps are compared with the minimum area at 0.01 m².
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.overlay import pairwise_intersection

from ._common import fmt_area, partial
from .context import Context, Note, RuleResult
from .registry import implements

__all__ = ["site_cemetery", "ZONE_KINDS"]

#: Protected-zone kinds where 第七条 forbids cemeteries, with their Chinese names.
ZONE_KINDS: dict[str, str] = {
    "town_planning": "城镇规划区", "relic": "文物保护区", "scenic": "风景名胜区",
    "water_source": "水源保护区", "dike": "河流堤坝",
}
_GRADE = {"railway": "铁路", "expressway": "高速公路", "national": "国道", "provincial": "省道",
          "county": "县道", "township": "乡道", "village": "村道"}
_DIST_TOL = 0.005
_AREA_TOL = 0.005
_CLAUSE = "“禁止在城镇规划区、文物保护区、风景名胜区、水源保护区、河流堤坝和公路两侧建立墓地”"


def _empty(ctx: Context) -> gpd.GeoDataFrame:
    return partial(ctx.crs, [], subject_layer=[], subject_id=[])


def _zone_findings(ctx: Context, c: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    zones = ctx.get("protected_zones")
    if zones is None or zones.empty:
        return None
    kind = zones["kind"].astype(object).str.strip().str.lower()
    sel = kind.isin(list(ZONE_KINDS)).to_numpy()
    if not sel.any():
        return None
    zk = kind.to_numpy(dtype=object)
    zn = zones["name"].to_numpy(dtype=object)
    pieces, source = ctx.used("pieces:protected_zones")
    mine = sel[source]
    pieces, source = pieces[mine], source[mine]
    li, ri, parts = pairwise_intersection(c.geometry.to_numpy(), pieces)
    if len(li) == 0:
        return None
    zone = source[ri]
    frame = pd.DataFrame({"c": li, "kind": zk[zone], "zone": zone, "part": parts})
    grouped = frame.groupby(["c", "kind"], sort=True)
    geom = grouped["part"].agg(lambda s: s.iloc[0] if len(s) == 1 else shapely.union_all(s.to_numpy()))
    names = grouped["zone"].agg(lambda s: sorted(set(s)))
    ci = geom.index.get_level_values("c").to_numpy()
    kinds = geom.index.get_level_values("kind").to_numpy(dtype=object)
    geom = geom.to_numpy()
    area = shapely.area(geom)
    rows = c.iloc[ci]
    keep = (area > 0) & (area >= ctx.limit("min_overlap_m2", rows["village_id"]) - _AREA_TOL)
    if not keep.any():
        return None
    ci, kinds, geom, area, rows = ci[keep], kinds[keep], geom[keep], area[keep], rows[keep]
    zone_lists = names.to_numpy()[keep]
    related = [";".join(str(zn[z]) for z in zs) for zs in zone_lists]
    where = ["、".join(f"“{zn[z]}”" for z in zs) for zs in zone_lists]
    ids = rows["cemetery_id"].to_numpy(dtype=object)
    label = [_cemetery_label(n, i) for n, i in zip(rows["name"], ids)]
    message = [f"{lab}位于{ZONE_KINDS[k]}{w}内{a}，违反{{basis}}{_CLAUSE}。"
               for lab, k, w, a in zip(label, kinds, where, fmt_area(area))]
    return partial(
        ctx.crs, geom,
        subject_layer="cemeteries", subject_id=ids, related_ids=related,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="high",
        measured=np.round(area, 2), limit=0.0, unit="m²", area_m2=area, key=kinds, message=message,
    )


def _cemetery_label(name, cid) -> str:
    return f"公墓{name}（{cid}）" if isinstance(name, str) and name else f"公墓{cid}"


def _road_findings(ctx: Context, c: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    roads = ctx.get("roads")
    if roads is None or roads.empty or c.empty:
        return None
    info = ctx.used("road_land")
    land, centre = info["land"], info["centre"]
    distance = ctx.limit("cemetery_road_distance_m", c["village_id"]).astype(float)
    cg = c.geometry.to_numpy()
    tree = shapely.STRtree(land)
    li, ri = tree.query(cg, predicate="dwithin", distance=distance + 1.0)
    if len(li) == 0:
        return None
    # which grades are 公路 in each cemetery's township
    grades = roads["grade"].astype(object).to_numpy()
    grade = info["grade"][ri]
    allowed = ctx.limit("cemetery_road_grades", c["village_id"])  # a list per cemetery (its township's)
    pairs = pd.DataFrame({"i": np.arange(len(li)), "c": li, "g": grade})
    listed = pd.DataFrame([(ci, str(g).strip().lower()) for ci in np.unique(li) for g in allowed[ci]],
                          columns=["c", "g"]).drop_duplicates()
    hit = pairs.merge(listed, on=["c", "g"], how="inner")["i"].to_numpy()
    grade_ok = pd.isna(grade).copy()
    grade_ok[hit] = True
    d = shapely.distance(cg[li], land[ri])
    close = grade_ok & (d < distance[li] - _DIST_TOL)
    li, ri, d = li[close], ri[close], d[close]
    if len(li) == 0:
        return None
    zone = shapely.intersection(cg[li], shapely.buffer(land[ri], distance[li]))
    frame = pd.DataFrame({"c": li, "r": ri, "d": d, "part": zone}).sort_values(["c", "d", "r"])
    grouped = frame.groupby("c", sort=True)
    geom = grouped["part"].agg(lambda s: s.iloc[0] if len(s) == 1 else shapely.union_all(s.to_numpy()))
    nearest = grouped.first()
    ci = geom.index.to_numpy()
    rows = c.iloc[ci]
    road_ids = roads["road_id"].to_numpy(dtype=object)
    related = grouped["r"].agg(lambda s: ";".join(str(road_ids[r]) for r in sorted(set(s), key=list(s).index)))
    nr = nearest["r"].to_numpy()
    nd = nearest["d"].to_numpy(dtype=float)
    lim = distance[ci]
    ids = rows["cemetery_id"].to_numpy(dtype=object)
    label = [_cemetery_label(n, i) for n, i in zip(rows["name"], ids)]
    road_label = [f"{_GRADE.get(str(g).strip().lower(), '道路') if isinstance(g, str) else '道路'}{road_ids[r]}"
                  for g, r in zip(grades[nr], nr)]
    how = np.where(centre[nr], "自道路中心线起算，未给道路宽度", "自道路用地边缘起算")
    message = [f"{lab}与{rl}相距{x:.2f}米（{h}），在公路两侧{m:g}米范围内，违反{{basis}}{_CLAUSE}；"
               f"{m:g}米为配置值（cemetery_road_distance_m），该办法未规定具体距离。"
               for lab, rl, x, h, m in zip(label, road_label, nd, how, lim)]
    return partial(
        ctx.crs, geom.to_numpy(),
        subject_layer="cemeteries", subject_id=ids, related_ids=related.to_numpy(dtype=object),
        village_id=rows["village_id"].to_numpy(dtype=object), severity="medium",
        measured=np.round(nd, 3), limit=lim, unit="m", key="road", message=message,
    )


@implements("SITE-CEMETERY", inputs=("cemeteries",), uses=("road_land", "pieces:protected_zones"),
            limits=("cemetery_road_distance_m", "cemetery_road_grades"))
def site_cemetery(ctx: Context) -> gpd.GeoDataFrame:
    """公墓选址违规: cemeteries inside forbidden zones or beside roads (see the module docstring).

    Examples
    --------
    >>> # site_cemetery(ctx) -> one row per cemetery and zone kind, one per road case
    """
    c = ctx["cemeteries"]
    notes = ()
    if "protected_zones" not in ctx and "roads" not in ctx:
        notes = (Note("", "", (), "SITE-CEMETERY：未提供管控区（protected_zones）和道路（roads）图层，"
                                  "只能检查公墓图层本身，未检查选址。"),)
    parts = [f for f in (_zone_findings(ctx, c), _road_findings(ctx, c)) if f is not None and not f.empty]
    if not parts:
        return RuleResult(_empty(ctx), notes)
    return RuleResult(gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=ctx.crs), notes)
