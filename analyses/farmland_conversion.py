"""Farmland rules about land-use conversion (current survey against baseline farmland):
``FARM-NONAGRI`` 非农建设, ``FARM-GREEN`` 绿化造林, ``FARM-CORRIDOR`` 超标准绿色通道, ``FARM-LAKE`` 挖湖造景,
``FARM-NONGRAIN`` 非粮化.

Each finding is one current land-use patch (``subject_layer = "landuse"``, ``subject_id`` its ``tbbh``)
with the part of it on farmland (dissolved over every farmland patch and PBF block under it) minus
valid approvals. ``status`` comes from the current patch's ``survey_year``. A ``K`` code (``0307K``
可调整其他林地, ``0201K``…) is a conversion like its stem, reported as recoverable (可恢复).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landuse import class_name, is_construction, is_garden, is_recoverable, is_woodland
from layers.values import per_value
from spatial.corridor import length_along
from spatial.overlay import prepare_cover

from ._common import fmt_area, partial, status_from_year
from .farmland_base import (
    cover_area, land_name, min_area, minus_cover, polygonal,
)
from .context import Context, Note, RuleResult
from .registry import implements, intermediate

__all__ = ["GRADE_NAMES", "road_zones", "farm_nonagri", "farm_green", "farm_corridor", "farm_lake", "farm_nongrain"]

#: Chinese names of road grades.
GRADE_NAMES = {"railway": "铁路", "expressway": "高速公路", "national": "国道", "provincial": "省道",
               "county": "县道", "township": "乡道", "village": "村道"}
_AQUACULTURE = ("1104A", "1104K")
_WATER_KINDS = {"river": "河流", "canal": "沟渠", "reservoir": "水库"}


def _patch_partial(ctx: Context, conv: pd.DataFrame, geom, text, *, severity=None, **columns):
    """Partial findings for current land-use patches ``conv`` (rows of :func:`conversions`) with ``geom``.

    ``text(k, tbbh, label, land, area_text, recoverable_text) -> str`` writes the message of the k-th row.
    """
    lu = ctx["landuse"]
    rows = lu.iloc[conv["row"].to_numpy()]
    geom = np.asarray(geom, dtype=object)
    area = shapely.area(geom)
    vids = rows["village_id"].to_numpy(dtype=object)
    on_pbf = cover_area(geom, ctx.used("pbf_cover")) >= min_area(ctx, vids)
    code = conv["code"].to_numpy(dtype=object)
    label = [f"{c} {n}" if isinstance(n, str) else c for c, n in zip(code, class_name(code))]
    recover = np.where(is_recoverable(code), "（该地类耕作层未破坏，可恢复耕种）", "")
    tbbh = rows["tbbh"].to_numpy(dtype=object)
    message = [text(k, t, lab, w, a, r) for k, (t, lab, w, a, r) in
               enumerate(zip(tbbh, label, land_name(on_pbf), fmt_area(area), recover))]
    return partial(ctx.crs, geom, subject_layer="landuse", subject_id=tbbh, key=vids, village_id=vids,
                   severity=severity if severity is not None else np.where(on_pbf, "high", "medium"),
                   measured=area, limit=0.0, unit="m²", area_m2=area,
                   status=status_from_year(rows["survey_year"], ctx.limit("farmland_cutoff", vids)), message=message,
                   **columns)


def _keep(ctx: Context, conv: pd.DataFrame, geom) -> np.ndarray:
    lu = ctx["landuse"]
    vids = lu["village_id"].to_numpy(dtype=object)[conv["row"].to_numpy()]
    return shapely.area(np.asarray(geom, dtype=object)) >= min_area(ctx, vids)


@intermediate("lake_rows", uses=("conversions",))
def lake_rows(ctx: Context) -> np.ndarray:
    """Positions in the ``conversions`` intermediate of the patches ``FARM-LAKE`` reports.

    Examples
    --------
    >>> # ctx.used("lake_rows") -> array([3, 17])
    """
    conv = ctx.used("conversions")
    code = conv["code"]
    water = conv["stem"].isin(["1103", "1104"]).to_numpy() & ~code.isin(_AQUACULTURE).to_numpy()
    park = np.flatnonzero((conv["stem"] == "0810").to_numpy())
    waters = ctx.get("waters")
    if len(park) and waters is not None and len(waters):
        lu = ctx["landuse"]
        patches = lu.geometry.to_numpy()[conv["row"].to_numpy()[park]]
        wet = cover_area(patches, prepare_cover(waters.geometry.to_numpy()))
        vids = lu["village_id"].to_numpy(dtype=object)[conv["row"].to_numpy()[park]]
        water[park[wet >= min_area(ctx, vids)]] = True
    return np.flatnonzero(water)


@intermediate("buildings_cover")
def buildings_cover(ctx: Context) -> np.ndarray:
    """Subdivided pieces whose union is every building footprint.

    Examples
    --------
    >>> # ctx.used("buildings_cover")
    """
    return prepare_cover(ctx["buildings"].geometry.to_numpy())


@implements("FARM-NONAGRI", uses=("conversions", "lake_rows", "buildings_cover", "pbf_cover"),
            limits=("farmland_cutoff",))
def farm_nonagri(ctx: Context) -> gpd.GeoDataFrame:
    """违规占用耕地从事非农建设: baseline farmland whose current land use is construction (``05``–``10`` except
    ``1006`` 农村道路, ``1201``; not ``1202`` 设施农用地), without a valid approval.

    Building footprints are left out (a building on farmland is ``FARM-BUILD``): a patch is reported only
    for its construction outside the buildings. A ``0810`` park with water is ``FARM-LAKE``'s.

    Examples
    --------
    >>> # farm_nonagri(ctx)
    """
    conv = ctx.used("conversions")
    sel = is_construction(conv["code"]).copy()
    sel[ctx.used("lake_rows")] = False
    conv = conv[sel]
    # land under a building is FARM-BUILD's case: only construction outside the footprints is reported here
    geom = polygonal(minus_cover(conv["geom"].to_numpy(), ctx.used("buildings_cover")))
    keep = _keep(ctx, conv, geom)
    return _patch_partial(
        ctx, conv[keep], geom[keep],
        lambda k, t, lab, w, a, r: f"图斑{t}（{lab}）未经批准占用{w}从事非农建设{a}{r}，违反{{basis}}，应予制止并整改。")


@intermediate("road_zones", uses=("road_land",))
def road_zones(ctx: Context) -> dict:
    """Road land and the allowed green-belt zone of every road with a known width.

    Returns a dict with ``land`` (road land polygons: polygons as given, centre lines widened by
    ``width_m / 2`` with flat caps), ``zone`` (road land grown by its allowed belt width:
    ``green_belt_m`` for its grade, with the township's override; 0 m beside village roads and roads of
    unknown grade), ``allowed`` (m), ``ids``, ``grade``, and ``no_width`` (ids of lines without ``width_m``,
    left out: the caller notes them).

    Examples
    --------
    >>> # ctx.used("road_zones")["zone"]
    """
    roads = ctx.get("roads")
    e = np.empty(0, dtype=object)
    if roads is None or roads.empty:
        return {"land": e, "zone": e, "allowed": np.empty(0), "ids": e, "grade": e, "no_width": ()}
    land_info = ctx.used("road_land")
    missing = land_info["centre"]
    keep = ~missing
    roads, land = roads[keep], land_info["land"][keep]
    grade = land_info["grade"][keep]
    belts = ctx.limit("green_belt_m", roads["village_id"])
    allowed = np.fromiter((b.width_for(g) for b, g in zip(belts, grade)), dtype=float, count=len(grade))
    return {"land": land, "zone": shapely.buffer(land, allowed), "allowed": allowed,
            "ids": roads["road_id"].to_numpy(dtype=object), "grade": grade,
            "no_width": tuple(land_info["ids"][missing].astype(str))}


def _near(ctx: Context, patches: np.ndarray, targets: np.ndarray, vids) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (patch, target) no farther apart than ``belt_gap_m`` (the patch's township's)."""
    if len(patches) == 0 or len(targets) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    gap = ctx.limit("belt_gap_m", vids).astype(float)
    tree = shapely.STRtree(targets)
    li, ri = tree.query(patches, predicate="dwithin", distance=float(gap.max()) + 1e-9)
    ok = shapely.distance(patches[li], targets[ri]) <= gap[li] + 1e-9
    return li[ok], ri[ok]


def _faced(ctx: Context, patches, vids, lands) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (patch, land) within ``belt_gap_m`` and the length of the land's edge each patch faces."""
    li, ri = _near(ctx, patches, lands, vids)
    return li, ri, length_along(patches[li], lands[ri]) if len(li) else np.zeros(0)


@intermediate("green_corridor", uses=("conversions", "road_zones", "pbf_cover", "reforestation_cover"))
def green_corridor(ctx: Context) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The partial findings of ``FARM-GREEN`` and ``FARM-CORRIDOR``, computed together (one case, one rule).

    Examples
    --------
    >>> # green, corridor = ctx.used("green_corridor")
    """
    lu = ctx["landuse"]
    conv = ctx.used("conversions")
    wood = is_woodland(conv["code"])
    turf = (conv["stem"] == "0403").to_numpy() & pd.notna(conv["pbf_geom"]).to_numpy() & ~wood
    conv, wood, turf = conv[wood | turf], wood[wood | turf], turf[wood | turf]
    geom = np.where(wood, conv["geom"].to_numpy(), conv["pbf_geom"].to_numpy())   # turf counts on PBF only
    pbf_part = conv["pbf_geom"].to_numpy().copy()
    # woodland on an approved 退耕还林 plot (approvals.kind = reforestation) is no finding of either rule
    refo = ctx.used("reforestation_cover")
    if len(refo) and wood.any():
        geom[wood] = polygonal(minus_cover(geom[wood], refo))
        w_pbf = np.flatnonzero(wood & pd.notna(pbf_part))
        pbf_part[w_pbf] = polygonal(minus_cover(pbf_part[w_pbf], refo))
        empty = np.zeros(len(pbf_part), dtype=bool)
        empty[w_pbf] = shapely.is_empty(pbf_part[w_pbf])
        pbf_part[empty] = None
    rows = conv["row"].to_numpy()
    patches = lu.geometry.to_numpy()[rows]
    vids = lu["village_id"].to_numpy(dtype=object)[rows]
    n = len(conv)
    roads = ctx.used("road_zones")
    zones = prepare_cover(roads["zone"]) if len(roads["zone"]) else roads["zone"]
    outside = polygonal(minus_cover(geom, zones))

    # belts beside road land: everything beyond the allowed zone is the corridor's
    r_li, r_ri, r_len = _faced(ctx, patches, vids, roads["land"])
    road_belt = np.bincount(r_li, minlength=n) > 0
    corridor = np.full(n, None, dtype=object)
    corridor[road_belt] = outside[road_belt]
    # belts along rivers, canals and reservoirs: any part on PBF
    waters = ctx.get("waters")
    w_geoms = waters.geometry.to_numpy() if waters is not None else np.empty(0, dtype=object)
    w_li, w_ri, w_len = _faced(ctx, patches, vids, w_geoms)
    water_belt = (np.bincount(w_li, minlength=n) > 0) & pd.notna(pbf_part)
    both = water_belt & road_belt
    corridor[both] = shapely.union(corridor[both], pbf_part[both])
    only_water = water_belt & ~road_belt
    corridor[only_water] = pbf_part[only_water]
    corridor = polygonal(corridor)
    is_corr = (road_belt | water_belt) & (np.nan_to_num(shapely.area(corridor)) >= min_area(ctx, vids))

    # measured width = the belt patch's area / its length along the edges it faces;
    # the limit is the allowed width of the road it faces longest
    area = shapely.area(patches)
    with np.errstate(divide="ignore", invalid="ignore"):
        road_w = area / np.bincount(r_li, weights=r_len, minlength=n)
        water_w = area / np.bincount(w_li, weights=w_len, minlength=n)
    road_pairs = pd.DataFrame({"i": r_li, "len": r_len, "j": r_ri}).sort_values(
        ["i", "len", "j"], ascending=[True, False, True]).drop_duplicates("i")
    best_road = np.full(n, -1)
    best_road[road_pairs["i"].to_numpy()] = road_pairs["j"].to_numpy()
    water_pairs = pd.DataFrame({"i": w_li, "len": w_len, "j": w_ri}).sort_values(
        ["i", "len", "j"], ascending=[True, False, True]).drop_duplicates("i")
    best_water = np.full(n, -1)
    best_water[water_pairs["i"].to_numpy()] = water_pairs["j"].to_numpy()

    ci = np.flatnonzero(is_corr)
    on_road = road_belt[ci]
    measured = np.where(on_road, road_w[ci], water_w[ci])
    lim = np.where(on_road, roads["allowed"][np.maximum(best_road[ci], 0)] if len(roads["allowed"]) else 0.0, 0.0)
    w_name = w_kind = np.empty(0, dtype=object)
    if waters is not None:
        w_name = waters["name"].astype(object).to_numpy(dtype=object)
        w_kind = per_value(waters["kind"], lambda k: _WATER_KINDS.get(k.strip().lower(), "水域")
                           if isinstance(k, str) else "水域").to_numpy(dtype=object)
    related = np.array([roads["ids"][best_road[i]] if road_belt[i] else w_name[best_water[i]] for i in ci],
                       dtype=object)

    def corridor_text(k, t, lab, w, a, r):
        i = ci[k]
        if road_belt[i]:
            grade = roads["grade"][best_road[i]]
            head = (f"道路{roads['ids'][best_road[i]]}（{GRADE_NAMES.get(grade, grade or '等级不明')}）旁绿化带（图斑{t}）"
                    f"实测宽约{measured[k]:.2f}米，")
            if lim[k] > 0:
                return head + f"超过道路用地范围外{lim[k]:g}米的标准，超标部分占用{w}{a}，违反{{basis}}。"
            return (head + f"该道路两侧不允许占用耕地建设绿化带（标准{lim[k]:g}米：依据只规定铁路、国道省道（含高速公路）"
                    f"和县乡道路的绿化带宽度），占用{w}{a}，违反{{basis}}。")
        j = best_water[i]
        return (f"{w_kind[j]}{w_name[j]}旁绿化带（图斑{t}，宽约{measured[k]:.2f}米）占用永久基本农田{a}，"
                f"河渠两侧、水库周边不得占用永久基本农田建设绿色通道，违反{{basis}}。")

    corr = _patch_partial(ctx, conv.iloc[ci], corridor[ci], corridor_text, related_ids=related)
    corr["measured"] = measured
    corr["limit"] = lim
    corr["unit"] = "m"

    # FARM-GREEN: the rest, outside every road's allowed zone and not reported as a corridor;
    # a road belt within the standard is allowed as a whole
    green = outside.copy()
    green[is_corr] = polygonal(shapely.difference(outside[is_corr], corridor[is_corr]))
    green[road_belt & ~is_corr] = shapely.Polygon()
    keep = np.flatnonzero(_keep(ctx, conv, green))

    def green_text(k, t, lab, w, a, r):
        if turf[keep[k]]:
            return f"图斑{t}（{lab}）占用永久基本农田种植苗木草皮{a}{r}，违反{{basis}}，应停止并纠正。"
        return f"图斑{t}（{lab}）占用{w}绿化造林{a}{r}，违反{{basis}}，应停止并纠正。"

    return _patch_partial(ctx, conv.iloc[keep], green[keep], green_text), corr


@implements("FARM-GREEN", uses=("green_corridor",), limits=("green_belt_m", "belt_gap_m", "farmland_cutoff"))
def farm_green(ctx: Context) -> gpd.GeoDataFrame:
    """违规占用耕地绿化造林: baseline farmland now woodland (``03xx``, incl. ``0307K``), or PBF now
    nursery/turf (``0403``).

    Left out: the allowed belt zone beside road land (``green_belt_m`` from the road land's edge), belts
    within the standard, the parts ``FARM-CORRIDOR`` reports (one finding per case), and woodland on an
    approved 退耕还林 plot (``approvals.kind`` = ``reforestation``, PG-NF 四(三)7).
    Severity ``high`` on PBF, ``medium`` elsewhere.

    Examples
    --------
    >>> # farm_green(ctx)
    """
    return ctx.used("green_corridor")[0].copy()


@implements("FARM-CORRIDOR", inputs=("roads",), uses=("green_corridor", "road_zones"),
            limits=("green_belt_m", "belt_gap_m", "farmland_cutoff"))
def farm_corridor(ctx: Context) -> gpd.GeoDataFrame:
    """超标准建设绿色通道: a woodland patch on farmland beside road land (within ``belt_gap_m``) reaching
    beyond the allowed belt width (``green_belt_m``: 5 m beside railways, expressways, national and
    provincial roads, 3 m for county and township roads, 0 m beside village roads and roads of unknown
    grade), measured from the road land's edge; and any woodland on PBF along rivers, canals and
    reservoirs. Woodland on an approved 退耕还林 plot (``reforestation``) is left out.

    Geometry = only the part beyond the allowed zone (along waters: the part on PBF); ``measured`` = the
    belt's width (patch area ÷ its length along the road's edge), ``limit`` = the allowed width.

    Examples
    --------
    >>> # farm_corridor(ctx)
    """
    no_width = ctx.used("road_zones")["no_width"]
    notes = (Note("roads", "lines_without_width", no_width,
                  "FARM-CORRIDOR：{n} 条道路中心线缺少 width_m，未作绿色通道检查：{ids}"),) if no_width else ()
    return RuleResult(ctx.used("green_corridor")[1].copy(), notes)


@implements("FARM-LAKE", uses=("conversions", "lake_rows", "pbf_cover"), limits=("farmland_cutoff",))
def farm_lake(ctx: Context) -> gpd.GeoDataFrame:
    """违规占用耕地挖湖造景: baseline farmland now ``1103`` 水库水面 or ``1104`` 坑塘水面 (not ``1104A``/``1104K``
    养殖坑塘), or a ``0810`` 公园与绿地 patch holding water (overlapping a ``waters`` polygon).

    Examples
    --------
    >>> # farm_lake(ctx)
    """
    conv = ctx.used("conversions").iloc[ctx.used("lake_rows")]
    geom = conv["geom"].to_numpy()
    keep = _keep(ctx, conv, geom)
    return _patch_partial(
        ctx, conv[keep], geom[keep],
        lambda k, t, lab, w, a, r: f"图斑{t}（{lab}）占用{w}挖湖造景{a}{r}，违反{{basis}}，应立即停止并纠正。")


@implements("FARM-NONGRAIN", uses=("conversions", "pbf_cover"), limits=("farmland_cutoff",))
def farm_nongrain(ctx: Context) -> gpd.GeoDataFrame:
    """耕地“非粮化”: baseline farmland now garden (``02xx``) or aquaculture pond (``1104A``, ``1104K``).
    Severity ``low``: a warning, not a prohibition.

    Examples
    --------
    >>> # farm_nongrain(ctx)
    """
    conv = ctx.used("conversions")
    conv = conv[is_garden(conv["code"]) | conv["code"].isin(_AQUACULTURE).to_numpy()]
    geom = conv["geom"].to_numpy()
    keep = _keep(ctx, conv, geom)
    return _patch_partial(
        ctx, conv[keep], geom[keep],
        lambda k, t, lab, w, a, r: f"图斑{t}（{lab}）由{w}转为园地或养殖坑塘{a}{r}，属耕地“非粮化”，请依据{{basis}}引导恢复粮食生产。",
        severity="low")
