"""The base geography of the sample district: clean data that breaks no rule of spec/RULES.md.

Layout (metres from the south-west corner ``ORIGIN``, district 9 km x 6 km around 117.1°E, 40.14°N):

* three townships side by side (峪口镇 west, 大华山镇 middle, 金海湖镇 east), each of four villages in a
  2 x 2 grid of 1.5 km x 3 km rectangles (south row y 0–3000, north row y 3000–6000);
* one settlement (0702 农村宅基地) per village at (750 + 1500 col, 1500 | 3700): 3 x 4 street blocks of
  two back-to-back rows of homestead parcels (10.5–12.8 m x 11.5–13.2 m, < 173.33 m²), one house per
  parcel at its north side (clearances 1.0–1.8 m), some with a small side building; a 12 m strip of 0702
  without parcels around the blocks;
* fields (0101/0102/0103, orchards 0201, a little 0301/0404) on a 250 m x 215 m grid below y = 4300, most
  farmland also permanent basic farmland (PBF polygons are exactly the farmland patches); mountains
  (0301/0305/0307/0404) above, with the eco red line (its south edge a 22,000-vertex wiggle at about
  y = 4900), the 四座楼 nature reserve (core/general, north-west) and the 金海湖 reservoir (north-east);
* roads as centre lines with road land and belts in the land use: railway y = 300, expressway y = 2300,
  national road x = 3000, provincial road y = 3200 (5 m woodland belts), county road x = 6000 (3 m
  belts), township roads x = 1500/4500/7500, village roads from each settlement; 泃河 (y ≈ 2700, 10 m
  woodland belts), 东干渠 canal (y = 900);
* village plans (``village_plan``): each settlement is construction land, the rest of the village
  agricultural space (ecological above the mountain line);
* free farmland *sites* kept for planters: four ``field`` sites (70 m x 60 m, two on PBF) and four ``edge``
  sites (70 m x 50 m against the settlement's south edge, one on PBF) per village.

Nothing here is a violation: no building leaves its parcel, no parcel or building touches farmland or
PBF, every owner holds one parcel, baseline and current land use are identical, PBF stays out of
nature reserves and the eco red line, belts are within the allowed widths and not on farmland,
cemeteries are 50 m or more from roads and outside protected zones, heights/floors/coverage are within
the limits, homestead approvals cover their buildings.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from .model import ORIGIN, SIZE, Sample, Site, frame
from .people import to_15_digits, to_fullwidth, with_wrong_check_digit

__all__ = ["build_base", "DLMC", "TOWNSHIPS"]

#: GB/T 21010-2017 (and 三调 working) names of the codes the sample uses.
DLMC = {
    "0101": "水田", "0102": "水浇地", "0103": "旱地", "0201": "果园", "0301": "乔木林地", "0305": "灌木林地",
    "0307": "其他林地", "0307K": "可调整其他林地", "0404": "其他草地", "0601": "工业用地", "0602": "采矿用地",
    "0702": "农村宅基地", "0905": "殡葬用地", "1001": "铁路用地", "1003": "公路用地", "1004": "城镇村道路用地",
    "1006": "农村道路", "1101": "河流水面", "1103": "水库水面", "1104": "坑塘水面", "1104A": "养殖坑塘",
    "1107": "沟渠", "1202": "设施农用地", "1203": "田坎", "1206": "裸土地",
}

#: (township, 9-digit code, villages in grid order: south west, south east, north west, north east)
TOWNSHIPS = (
    ("峪口镇", "110117106", ("峪口村", "西营村", "胡家营村", "坨头寺村")),
    ("大华山镇", "110117103", ("大华山村", "后北宫村", "苏子峪村", "麻子峪村")),
    ("金海湖镇", "110117104", ("上宅村", "韩庄村", "海子村", "茅山后村")),
)
_SEATS = ("峪口村", "大华山村", "韩庄村")  # township seats: a 1004 street crosses their settlement

_MOUNTAIN_Y = 4300.0
_SETTLEMENT_MARGIN = 12.0
_BLOCK_PITCH_X = 110.0
_STREET = 7.0

X0, Y0 = ORIGIN
W, H = SIZE


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in district coordinates (metres from ORIGIN)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _line(points) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in points])


def _even(v: float, up: bool) -> float:
    """Round an absolute coordinate to the 2 m raster grid."""
    return float(np.ceil(v / 2.0) * 2.0 if up else np.floor(v / 2.0) * 2.0)


# --------------------------------------------------------------------------------------------------
# villages
# --------------------------------------------------------------------------------------------------
def _villages(s: Sample) -> gpd.GeoDataFrame:
    rows = []
    for t, (township, tcode, names) in enumerate(TOWNSHIPS):
        for k, name in enumerate(names):
            col = 2 * t + k % 2
            row = "south" if k < 2 else "north"
            vid = f"{tcode}{201 + k}"
            geom = _box(col * 1500, 0 if row == "south" else 3000, (col + 1) * 1500, 3000 if row == "south" else 6000)
            s.villages[vid] = {"name": name, "township": township, "col": col, "row": row,
                               "cx": X0 + 750 + 1500 * col, "cy": Y0 + (1500 if row == "south" else 3700),
                               "geometry": geom, "seat": name in _SEATS}
            rows.append({"village_id": vid, "name": name, "township": township, "geometry": geom})
    return frame(rows)


# --------------------------------------------------------------------------------------------------
# settlements: parcels, buildings, owners
# --------------------------------------------------------------------------------------------------
def _heights(rng: np.random.Generator, floors: int, roof: str, depth: float) -> tuple[float, float]:
    """True eave and ridge heights (ridge NaN for flat roofs), within HOME-HEIGHT's limits; a pitched roof
    over a footprint ``depth`` m deep rises at 27.3–28.7° (HOME-ROOF: 26–30°)."""
    if floors == 1:
        eave = rng.uniform(2.9, 3.4) if roof == "pitched" else rng.uniform(3.0, 3.45)
    else:
        eave = rng.uniform(6.0, 6.5) if roof == "pitched" else rng.uniform(6.2, 7.1)
    slope = rng.uniform(27.3, 28.7) if roof == "pitched" else np.nan  # one draw, as the ridge's was
    eave = round(float(eave), 1)
    ridge = round(eave + float(np.tan(np.radians(slope))) * depth / 2, 2) if roof == "pitched" else np.nan
    return eave, ridge


def _written_id(s: Sample, person_id: str, style: str) -> str:
    if style == "fullwidth":
        return to_fullwidth(person_id)
    if style == "lower_x":
        return person_id[:17] + "x"
    if style == "old15":
        return to_15_digits(person_id)
    if style == "bad_check":
        bad = with_wrong_check_digit(person_id)
        s.intended_invalid_ids.append(bad)
        return bad
    return person_id


def _settlement(s: Sample, vid: str, parcels: list, buildings: list, meta: list, homestead_approvals: list,
                streets: list) -> None:
    rng, info = s.rng, s.villages[vid]
    cx, cy = info["cx"], info["cy"]
    n_block_rows, n_block_cols = 4, 3
    depths = np.round(rng.uniform(11.5, 13.2, n_block_rows), 2)
    heights = 2 * depths
    total_h = heights.sum() + _STREET * (n_block_rows - 1)
    y_start = _even(cy - total_h / 2, up=False)
    x_start = cx - n_block_cols * _BLOCK_PITCH_X / 2
    in_rasters = vid in s.raster_villages
    number = 0
    y = y_start
    x_min, x_max = np.inf, -np.inf
    for br in range(n_block_rows):
        d = float(depths[br])
        for bc in range(n_block_cols):
            bx = x_start + bc * _BLOCK_PITCH_X
            for prow, (py0, py1) in (("south", (y, y + d)), ("north", (y + d, y + 2 * d))):
                py0, py1 = round(py0, 2), round(py1, 2)
                k = int(rng.integers(6, 9))
                widths = np.round(rng.uniform(10.5, 12.8, k), 2)
                xs = np.round(bx + np.concatenate([[0.0], np.cumsum(widths)]), 2)
                x_min, x_max = min(x_min, xs[0]), max(x_max, xs[-1])
                ids = [f"{vid}JC{number + i + 1:05d}" for i in range(k)]
                number += k
                for i in range(k):
                    px0, px1 = float(xs[i]), float(xs[i + 1])
                    pid = ids[i]
                    person = s.people.new()
                    style = "plain"
                    u = rng.random()
                    if u < 0.015:
                        style = "old15" if person.id18.startswith("110226") else "plain"
                    elif u < 0.025:
                        style = "fullwidth"
                    elif u < 0.028:
                        style = "bad_check"
                    elif person.id18[17] == "X" and rng.random() < 0.12:
                        style = "lower_x"
                    owner_id = None if rng.random() < 0.02 else _written_id(s, person.id18, style)
                    household = f"{vid}{number - k + i + 1:04d}" if rng.random() < 0.4 else None
                    approved = None
                    if rng.random() < 0.55:
                        approved = dt.date(1985, 1, 1) + dt.timedelta(days=int(rng.integers(0, 40 * 365)))
                    geom = shapely.box(px0, py0, px1, py1)
                    area = (px1 - px0) * (py1 - py0)
                    parcels.append({
                        "parcel_id": pid, "village_id": vid, "owner_name": person.name, "owner_id": owner_id,
                        "household_id": household,
                        "approved_date": approved.isoformat() if approved else None,
                        "approved_area_m2": round(area - float(rng.uniform(0, 3)), 1) if approved else np.nan,
                        "replaced_by": None, "new_house_completed": None, "geometry": geom,
                    })
                    approval_id = None
                    if approved is not None and approved >= dt.date(2019, 1, 1):
                        approval_id = f"ZJ{approved.year}-{s.next_number('zj' + str(approved.year)):04d}"
                        homestead_approvals.append({
                            "approval_id": approval_id, "kind": "homestead", "approved_area_m2": round(area, 1),
                            "valid_until": None, "geometry": geom})
                    # main house at the north side of the parcel
                    s_left, s_right = np.round(rng.uniform(1.0, 1.8, 2), 2)
                    rear = round(float(rng.uniform(1.0, 1.6)), 2)
                    depth = round(float(rng.uniform(5.5, 7.5)), 2)
                    side = rng.random() < 0.12
                    if side:
                        depth = round(min(depth, (py1 - py0) - rear - 5.0), 2)
                    bx0, bx1 = round(px0 + s_left, 2), round(px1 - s_right, 2)
                    by1 = round(py1 - rear, 2)
                    by0 = round(by1 - depth, 2)
                    floors = 2 if rng.random() < 0.25 else 1
                    roof = "pitched" if rng.random() < 0.7 else "flat"
                    eave, ridge = _heights(rng, floors, roof, min(depth, bx1 - bx0))
                    if approved is not None:
                        year = min(approved.year + int(rng.integers(0, 3)), 2025)
                    else:
                        year = int(rng.integers(1990, 2019))
                    built = None if rng.random() < 0.03 else max(year, 1990)
                    missing = in_rasters and rng.random() < 0.15
                    main_id = s.new_building_id()
                    buildings.append({
                        "building_id": main_id, "floors": floors, "basement": False, "roof": roof,
                        "eave_height_m": np.nan if missing else eave,
                        "ridge_height_m": np.nan if missing else ridge,
                        "downspout": bool(rng.random() < 0.4), "row_house": bool(rng.random() < 0.05),
                        "owner_id": owner_id, "approval_id": approval_id,
                        "built_year": built, "use": "residential",
                        "_eave_true": eave, "_ridge_true": ridge, "_parcel_id": pid,
                        "geometry": shapely.box(bx0, by0, bx1, by1),
                    })
                    side_id = None
                    if side:
                        sx1 = round(px1 - float(rng.uniform(1.0, 1.5)), 2)
                        sy0 = round(py0 + 1.0, 2)
                        side_id = s.new_building_id()
                        e2 = round(float(rng.uniform(2.8, 3.2)), 1)
                        buildings.append({
                            "building_id": side_id, "floors": 1, "basement": False, "roof": "flat",
                            "eave_height_m": np.nan if missing else e2, "ridge_height_m": np.nan,
                            "downspout": False, "row_house": False, "owner_id": owner_id,
                            "approval_id": approval_id, "built_year": built, "use": "ancillary",
                            "_eave_true": e2, "_ridge_true": np.nan, "_parcel_id": pid,
                            "geometry": shapely.box(round(sx1 - 3.0, 2), sy0, sx1, round(sy0 + 3.0, 2)),
                        })
                    meta.append({
                        "parcel_id": pid, "village_id": vid, "row": prow, "x0": px0, "x1": px1, "y0": py0,
                        "y1": py1, "west": ids[i - 1] if i > 0 else None, "east": ids[i + 1] if i < k - 1 else None,
                        "main_building": main_id, "side_building": side_id,
                        "rear": rear, "depth": depth,
                    })
        if br < n_block_rows - 1:
            street_y0 = round(y + heights[br], 2)
            if info["seat"] and br == 1:
                streets.append((street_y0, round(street_y0 + _STREET, 2)))
            y = street_y0 + _STREET
    y_end = y + heights[-1]
    settlement = shapely.box(_even(x_min - _SETTLEMENT_MARGIN, False), _even(y_start - _SETTLEMENT_MARGIN, False),
                             _even(x_max + _SETTLEMENT_MARGIN, True), _even(y_end + _SETTLEMENT_MARGIN, True))
    info["settlement"] = settlement
    info["seat_streets"] = streets[:] if info["seat"] else []
    streets.clear()


# --------------------------------------------------------------------------------------------------
# roads, waters, zones
# --------------------------------------------------------------------------------------------------
_ROAD_ORDER = ("railway", "expressway", "national", "provincial", "county", "township", "village")
_BELTS = {"provincial": 5.0, "county": 3.0}


def _roads(s: Sample) -> gpd.GeoDataFrame:
    top = _MOUNTAIN_Y - 50
    rows = [
        ("R001", "京平铁路", "railway", 15.0, [(0, 300), (W, 300)]),
        ("S32", "京平高速", "expressway", 30.0, [(0, 2300), (W, 2300)]),
        ("G233", "国道233", "national", 24.0, [(3000, 0), (3000, top)]),
        ("S311", "平蓟路", "provincial", 12.0, [(0, 3200), (W, 3200)]),
        ("X036", "峪华路", "county", 8.0, [(6000, 0), (6000, top)]),
        ("Y011", "峪口乡道", "township", 6.0, [(1500, 0), (1500, top)]),
        ("Y012", "大华山乡道", "township", 6.0, [(4500, 0), (4500, top)]),
        ("Y013", "金海湖乡道", "township", 6.0, [(7500, 0), (7500, top)]),
    ]
    records = [{"road_id": r, "name": n, "grade": g, "width_m": w, "geometry": _line(p)} for r, n, g, w, p in rows]
    for vid in s.village_ids():
        info = s.villages[vid]
        minx, _, maxx, _ = info["settlement"].bounds
        col, cy = info["col"], info["cy"]
        start = maxx if col % 2 == 0 else minx  # even columns go east, odd columns west
        x_road = X0 + (1500, 1500, 4500, 4500, 7500, 7500)[col]
        records.append({"road_id": f"C{vid[-6:]}", "name": f"{info['name']}村道", "grade": "village", "width_m": 4.5,
                        "geometry": shapely.LineString([(start, cy), (x_road, cy)])})
    return frame(records)


def _river_line() -> shapely.LineString:
    x = np.arange(0.0, W + 1.0, 20.0)
    y = 2700 + 60 * np.sin(2 * np.pi * x / 3000) + 25 * np.sin(2 * np.pi * x / 1100 + 0.7)
    return _line(zip(x, y))


def _reservoir() -> shapely.Polygon:
    circle = shapely.Point(X0 + 7600, Y0 + 4750).buffer(1.0, quad_segs=32)
    return affinity.scale(circle, 350, 220)


def _waters() -> gpd.GeoDataFrame:
    river = _river_line().buffer(20, cap_style="flat").intersection(_box(0, 0, W, H))
    canal = _line([(0, 900), (W, 900)]).buffer(4, cap_style="flat")
    return frame([
        {"name": "泃河", "kind": "river", "geometry": river},
        {"name": "东干渠", "kind": "canal", "geometry": canal},
        {"name": "金海湖", "kind": "reservoir", "geometry": _reservoir()},
    ])


def _eco_redline(s: Sample) -> gpd.GeoDataFrame:
    n = 22_500
    x = np.linspace(0.0, W, n)
    phase = s.rng.uniform(0, 2 * np.pi, 4)
    y = (4900 + 80 * np.sin(2 * np.pi * x / 1700 + phase[0]) + 40 * np.sin(2 * np.pi * x / 430 + phase[1])
         + 12 * np.sin(2 * np.pi * x / 97 + phase[2]) + 3 * np.sin(2 * np.pi * x / 23 + phase[3])
         + s.rng.normal(0.0, 0.4, n))
    ring = [(X0 + a, Y0 + b) for a, b in zip(x, y)] + [(X0 + W, Y0 + H), (X0, Y0 + H)]
    return frame([{"name": "平谷区北部山区生态保护红线", "geometry": shapely.Polygon(ring)}])


def _nature_reserves() -> gpd.GeoDataFrame:
    outer = shapely.Polygon([(X0 + x, Y0 + y) for x, y in [
        (300, 4520), (1200, 4450), (2300, 4480), (3300, 4560), (3600, 4900), (3550, 5500), (3300, 5950),
        (1800, 5980), (400, 5900), (250, 5300)]])
    core = shapely.Polygon([(X0 + x, Y0 + y) for x, y in [
        (900, 5150), (1700, 5080), (2600, 5200), (2750, 5500), (2500, 5800), (1500, 5820), (950, 5650)]])
    return frame([
        {"name": "四座楼自然保护区（核心保护区）", "zone": "core", "geometry": core},
        {"name": "四座楼自然保护区（一般控制区）", "zone": "general", "geometry": outer.difference(core)},
    ])


def _protected_zones(s: Sample) -> gpd.GeoDataFrame:
    river = _river_line()
    reservoir = _reservoir()
    dike = river.buffer(22, cap_style="flat").difference(river.buffer(14, cap_style="flat"))
    yk = s.villages["110117106201"]["settlement"]
    dh = s.villages["110117103201"]["settlement"]
    return frame([
        {"name": "上宅文化遗址保护范围", "kind": "relic", "geometry": _box(6450, 1030, 6650, 1180)},
        {"name": "金海湖风景名胜区", "kind": "scenic", "geometry": reservoir.buffer(700)},
        {"name": "金海湖水源保护区", "kind": "water_source", "geometry": reservoir.buffer(250)},
        {"name": "峪口镇城镇规划区", "kind": "town_planning",
         "geometry": shapely.box(yk.bounds[0] - 60, yk.bounds[1] - 220, X0 + 1300, yk.bounds[3] + 80)},
        {"name": "大华山镇城镇规划区", "kind": "town_planning",
         "geometry": shapely.box(dh.bounds[0] - 60, dh.bounds[1] - 200, dh.bounds[2] + 60, dh.bounds[3] + 80)},
        {"name": "泃河河湖蓝线", "kind": "blue_line", "geometry": river.buffer(30, cap_style="flat")},
        {"name": "泃河堤防", "kind": "dike", "geometry": dike},
    ])


def _village_plan(s: Sample) -> gpd.GeoDataFrame:
    """The village plans 村庄规划: each settlement is construction land (so every base parcel is in it), the
    rest of the village agricultural space, and in the north villages the mountains ecological space."""
    rows = []
    mountains = _box(0, _MOUNTAIN_Y, W, H)
    for vid in s.village_ids():
        info = s.villages[vid]
        settlement, village = info["settlement"], info["geometry"]
        rest = village.difference(settlement)
        eco = rest.intersection(mountains)
        rows.append({"name": f"{info['name']}村庄建设用地", "kind": "construction", "geometry": settlement})
        rows.append({"name": f"{info['name']}农业空间", "kind": "farmland", "geometry": rest.difference(mountains)})
        if eco.area > 0:
            rows.append({"name": f"{info['name']}生态空间", "kind": "ecological", "geometry": eco})
    return frame(rows)


# --------------------------------------------------------------------------------------------------
# land use
# --------------------------------------------------------------------------------------------------
def _field_class(rng: np.random.Generator, y: float) -> str:
    u = rng.random()
    if y >= 3950:
        return "0201" if u < 0.7 else ("0103" if u < 0.9 else "0307")
    if abs(y - 2700) < 250:
        for code, p in (("0101", 0.15), ("0102", 0.50), ("0103", 0.80), ("0201", 0.90), ("0404", 0.95)):
            if u < p:
                return code
        return "0301"
    for code, p in (("0103", 0.55), ("0102", 0.75), ("0201", 0.93), ("0404", 0.97)):
        if u < p:
            return code
    return "0301"


def _mountain_class(rng: np.random.Generator) -> str:
    u = rng.random()
    return "0301" if u < 0.55 else "0305" if u < 0.75 else "0307" if u < 0.9 else "0404"


def _sites(s: Sample) -> list[tuple[shapely.Polygon, str, bool, dict]]:
    """Free farmland sites: (geometry, dlbm, on_pbf, site info)."""
    out = []
    for vid in s.village_ids():
        info = s.villages[vid]
        cx = info["cx"]
        y_s = info["settlement"].bounds[1]
        for k in range(4):
            x0 = _even(cx - 160 + 80 * k, False)
            pbf = k in (0, 2)
            code = "0103" if pbf else ("0102" if k == 1 else "0101" if info["row"] == "south" and k == 3 else "0103")
            geom = shapely.box(x0, y_s - 170, x0 + 70, y_s - 110)
            out.append((geom, code, pbf, {"kind": "field", "village_id": vid, "edge_y": None}))
        for k in range(4):
            x0 = _even(cx - 160 + 80 * k, False)
            geom = shapely.box(x0, y_s - 50, x0 + 70, y_s)
            out.append((geom, "0103", k == 3, {"kind": "edge", "village_id": vid, "edge_y": y_s}))
    return out


def _paint(tiers: list[list[tuple[shapely.Geometry, str]]]) -> list[tuple[shapely.Geometry, str, int]]:
    """Paint land-use overlays in priority order: each tier loses what earlier tiers took.

    Returns (polygon, dlbm, tier) per single-part patch.
    """
    taken = shapely.Polygon()
    extent = _box(0, 0, W, H)
    out = []
    for t, tier in enumerate(tiers):
        if not tier:
            continue
        geoms = np.array([g for g, _ in tier], dtype=object)
        codes = [c for _, c in tier]
        left = shapely.intersection(geoms, extent)
        left = shapely.difference(left, taken) if not taken.is_empty else left
        for g, c in zip(left, codes):
            for part in shapely.get_parts(g):
                if isinstance(part, shapely.Polygon) and part.area >= 0.5:
                    out.append((part, c, t))
        taken = shapely.union_all(np.concatenate([[taken], geoms]))
    return out


def _landuse(s: Sample, roads: gpd.GeoDataFrame, industrial: list, facility: shapely.Polygon,
             cemeteries: list) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = s.rng
    tiers: list[list[tuple[shapely.Geometry, str]]] = []
    road_land = {"railway": "1001", "village": "1006"}
    for grade in _ROAD_ORDER:
        sel = roads[roads["grade"] == grade]
        tier = []
        for geom, width in zip(sel.geometry, sel["width_m"]):
            tier.append((geom.buffer(width / 2, cap_style="flat"), road_land.get(grade, "1003")))
        tiers.append(tier)
    belts = []
    for grade, belt in _BELTS.items():
        sel = roads[roads["grade"] == grade]
        for geom, width in zip(sel.geometry, sel["width_m"]):
            ring = geom.buffer(width / 2 + belt, cap_style="flat").difference(geom.buffer(width / 2, cap_style="flat"))
            belts.append((ring, "0301"))
    tiers.extend([belt] for belt in belts)  # belts of crossing roads overlap: one tier each
    river = _river_line()
    tiers.append([(river.buffer(20, cap_style="flat"), "1101"),
                  (_line([(0, 900), (W, 900)]).buffer(4, cap_style="flat"), "1107"),
                  (_reservoir(), "1103")])
    tiers.append([(river.buffer(30, cap_style="flat").difference(river.buffer(20, cap_style="flat")), "0301")])
    streets = []
    for vid in s.village_ids():
        info = s.villages[vid]
        minx, _, maxx, _ = info["settlement"].bounds
        for y0, y1 in info["seat_streets"]:
            streets.append((shapely.box(minx, y0, maxx, y1), "1004"))
    tiers.append(streets)
    tiers.append([(s.villages[v]["settlement"], "0702") for v in s.village_ids()])
    small = [(g, "0601") for g in industrial] + [(facility, "1202")] + [(g, "0905") for g in cemeteries]
    small += [(_box(5000, 2480, 5060, 2530), "1104"), (_box(5100, 2470, 5220, 2540), "1104A"),
              (_box(1100, 2480, 1200, 2550), "1104A"), (_box(5200, 4350, 5400, 4480), "0602"),
              (_box(4600, 4320, 4800, 4420), "0307K"), (_box(8600, 4350, 8700, 4420), "1206")]
    small += [(_box(x - 1, 1700, x + 1, 1900), "1203") for x in (500, 1250, 3500, 5250, 8000)]
    tiers.append(small)
    site_specs = _sites(s)
    tiers.append([(g, c) for g, c, _, _ in site_specs])
    site_tier = len(tiers) - 1
    cells = []
    for y in np.arange(0.0, _MOUNTAIN_Y, 215.0):
        for x in np.arange(0.0, W, 250.0):
            y1 = min(y + 215.0, _MOUNTAIN_Y)
            cells.append((_box(x, y, x + 250, y1), _field_class(rng, y + 107)))
    for y in np.arange(_MOUNTAIN_Y, H, 425.0):
        for x in np.arange(0.0, W, 500.0):
            cells.append((_box(x, y, x + 500, min(y + 425.0, H)), _mountain_class(rng)))
    tiers.append(cells)
    patches = _paint(tiers)

    records, pbf_records, site_no = [], [], 0
    site_iter = iter(site_specs)
    for n, (geom, code, tier) in enumerate(patches, start=1):
        tbbh = f"{n:05d}"
        records.append({"dlbm": code, "dlmc": DLMC[code], "tbbh": tbbh, "geometry": geom})
        if code[:2] != "01":
            continue
        if tier == site_tier:
            g, c, pbf, info = next(site_iter)
            if not g.equals(geom):
                raise AssertionError("a farmland site was cut by another feature")
            site_no += 1
            pbf_id = None
            if pbf:
                pbf_id = f"PBF{len(pbf_records) + 1:05d}"
                pbf_records.append({"pbf_id": pbf_id, "geometry": geom})
            s.sites.append(Site(f"SITE{site_no:03d}", info["kind"], info["village_id"], geom, code, tbbh, pbf_id,
                                info["edge_y"]))
        elif rng.random() < 0.8:
            pbf_records.append({"pbf_id": f"PBF{len(pbf_records) + 1:05d}", "geometry": geom})
    landuse = frame(records)
    return landuse, frame(pbf_records)


# --------------------------------------------------------------------------------------------------
# 田长 grids (field_grids): drawn from nothing random, so the planted truth does not move
# --------------------------------------------------------------------------------------------------
#: Grid leaders (网格长/三级田长), one per grid in village order: west grid, east grid.
_GRID_LEADERS = ("王建国", "李秀英", "张志强", "刘桂兰", "陈德明", "杨淑珍", "赵国庆", "黄玉梅", "周永刚", "吴秀兰",
                 "徐长海", "孙丽华", "胡建军", "朱凤英", "高文明", "林桂芳", "何振华", "郭玉兰", "马宝山", "罗秀梅",
                 "梁志刚", "宋淑英", "郑国华", "谢春花")


def _field_grids(s: Sample) -> gpd.GeoDataFrame:
    """Two 田长 grids per village, its west and east halves (``<village_id>-01``, ``-02``), each with a leader."""
    rows = []
    for i, vid in enumerate(s.village_ids()):
        x0, y0, x1, y1 = s.villages[vid]["geometry"].bounds
        mid = (x0 + x1) / 2
        for k, (a, b) in enumerate(((x0, mid), (mid, x1))):
            rows.append({"grid_id": f"{vid}-{k + 1:02d}", "village_id": vid,
                         "grid_leader": _GRID_LEADERS[(2 * i + k) % len(_GRID_LEADERS)],
                         "geometry": shapely.box(a, y0, b, y1)})
    return frame(rows)


# --------------------------------------------------------------------------------------------------
def build_base(seed: int = 0) -> Sample:
    """Build the clean base district (no planted case) for ``seed``.

    Examples
    --------
    >>> s = build_base(0)
    >>> len(s.villages), 1800 <= len(s.layers["parcels"]) <= 2500
    (12, True)
    """
    s = Sample(seed)
    s.layers["villages"] = _villages(s)
    s.raster_villages = s.village_ids("south")[:2]
    parcels, buildings, meta, homestead_approvals, streets = [], [], [], [], []
    for vid in s.village_ids():
        _settlement(s, vid, parcels, buildings, meta, homestead_approvals, streets)
    s.layers["parcels"] = frame(parcels)
    b = frame(buildings)
    b["built_year"] = pd.array(b["built_year"], dtype="Int64")
    s.layers["buildings"] = b
    s.parcel_meta = pd.DataFrame.from_records(meta).set_index("parcel_id")

    roads = _roads(s)
    s.layers["roads"] = roads
    industrial = [_box(1000, 1050, 1250, 1250), _box(3980, 3350, 4200, 3500), _box(7700, 1050, 7950, 1250)]
    facility = _box(3400, 1000, 3550, 1150)
    cemetery_boxes = [_box(360, 4080, 400, 4110), _box(2000, 4100, 2040, 4130), _box(3650, 4060, 3690, 4090)]
    landuse, pbf = _landuse(s, roads, industrial, facility, cemetery_boxes)
    s.layers["landuse_baseline"] = landuse.assign(survey_year=2019)
    s.layers["landuse"] = landuse.assign(survey_year=2024)
    s.layers["pbf"] = pbf
    s.layers["eco_redline"] = _eco_redline(s)
    s.layers["nature_reserves"] = _nature_reserves()
    s.layers["waters"] = _waters()
    s.layers["protected_zones"] = _protected_zones(s)
    s.layers["village_plan"] = _village_plan(s)
    s.layers["cemeteries"] = frame([
        {"cemetery_id": "GM001", "name": "峪口镇胡家营村公益性公墓", "geometry": cemetery_boxes[0]},
        {"cemetery_id": "GM002", "name": "峪口镇坨头寺村集中埋葬点", "geometry": cemetery_boxes[1]},
        {"cemetery_id": "GM003", "name": "大华山镇苏子峪村公益性公墓", "geometry": cemetery_boxes[2]},
    ])
    approvals = [
        {"approval_id": "JS2012-0031", "kind": "construction", "geometry": industrial[0]},
        {"approval_id": "JS2016-0114", "kind": "construction", "geometry": industrial[1]},
        {"approval_id": "JS2019-0042", "kind": "construction", "geometry": industrial[2]},
        {"approval_id": "SN2022-0007", "kind": "facility_agri", "geometry": facility},
        {"approval_id": "LS2024-0011", "kind": "temporary", "valid_until": "2025-12-31",
         "geometry": _box(6300, 2000, 6380, 2060)},
    ]
    for a in approvals:
        a.setdefault("valid_until", None)
        a["approved_area_m2"] = round(a["geometry"].area, 1)
    s.layers["approvals"] = frame(approvals + homestead_approvals)[
        ["approval_id", "kind", "approved_area_m2", "valid_until", "geometry"]]
    s.layers["field_grids"] = _field_grids(s)
    return s
