"""Planted cases of the ``setback`` family (相邻权益与退让) and of ``SITE-CEMETERY`` (公墓选址).

How to add a planter for another rule of this family (e.g. ``SET-DRIP``): write one function
``plant_<rule>(sample) -> Plant`` here that reserves parcels with ``sample.take_parcel(...)`` and moves
their house (``sample.parcel_meta`` has the parcel's bounds ``x0, x1, y0, y1``, its block ``row`` —
``north`` parcels have the street along their north side —, the house's ``rear`` clearance and
``depth``, and the ``main_building``/``side_building`` ids), returns the changed ``buildings`` rows
(:func:`landguard.sample.model.updated_rows`) and one :class:`TruthRow` per case, then add it to
``PLANTERS`` in :mod:`landguard.sample.generate`. Push houses over the street side, not into a neighbour
parcel, unless the case is about neighbours (a house reaching into the next parcel is also a
``HOME-MERGE`` case).

SET-DRIP cases are planted away from the nDSM villages and more than 45 m from every road (so that the
rear eave is the northern one), except the two cases along the street of a township seat, which is
added to the roads layer here (a village-grade road over the settlement's 1004 street) so that the rear
eave of the houses beside it is decided by the road. ``SITE-CEMETERY`` cases are planted here too (the
family ``siting`` has this one rule).
"""

from __future__ import annotations

import numpy as np
import shapely

from .model import ORIGIN, Plant, Sample, TruthRow, building_rows, frame, updated_rows

__all__ = ["plant_set_outside", "plant_set_drip", "plant_set_redline", "plant_site_cemetery", "plant_site_rules",
           "TOWNSHIP_LIMITS"]

X0, Y0 = ORIGIN

#: Township limits the sample's landguard.toml carries (``[townships."镇名".limits.<key>]``, written by
#: :mod:`landguard.sample.write`): the Pinggu sample has no 潭柘寺镇/斋堂镇, so two of its townships are
#: given 镇级 cemeteries for SITE-LEVEL's count (第九条 各建一处): 大华山镇 one (the default count), 金海湖镇 two.
TOWNSHIP_LIMITS: dict[str, dict[str, dict]] = {
    "大华山镇": {"cemetery_levels": {"town": ["大华山镇"]}},
    "金海湖镇": {"cemetery_levels": {"town": ["金海湖镇"], "town_per_township": 2}},
}


def plant_set_outside(sample: Sample) -> Plant:
    """``SET-OUTSIDE`` 超出宅基地范围: houses reaching over their parcel's street-side boundary.

    Violations: 0.3 m over along a 10 m side (3.0 m², width 0.3 m), 1.5 m over along 10 m (15 m²),
    an eave overhang 2.5 m long reaching 0.8 m over at the house's north-east corner (2.0 m², width
    0.8 m), 1.0 m over along an 8 m side (8 m²). Near misses: 0.05 m over along 10 m (0.5 m² < 1 m²), a
    house whose north wall lies exactly on the boundary, and a row house (排子房) whose east wall lies
    exactly on the boundary it shares with the next parcel.

    The same houses are also ``SET-DRIP`` truth: the 0.05 m sliver and the wall on the boundary are drip
    violations, the 0.3 m case is a drip near miss (SET-OUTSIDE reports it, not both) and so is the row
    house (exempt on the shared boundary).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> truth = plant_set_outside(build_base(0)).truth
    >>> [(t.rule_id, t.expect) for t in truth].count(("SET-OUTSIDE", "violation"))
    4
    >>> [(t.rule_id, t.expect) for t in truth].count(("SET-DRIP", "violation"))
    2
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []

    def over_street(vid: str, over: float, length: float, expect: str, note: str) -> None:
        pid = s.take_parcel(vid, row="north", min_width=length + 2.2, side_building=False)
        m = s.parcel_meta.loc[pid]
        bx0 = round((m["x0"] + m["x1"]) / 2 - length / 2, 2)
        bx1 = round(bx0 + length, 2)
        by1 = round(m["y1"] + over, 2)
        by0 = round(by1 - m["depth"], 2)
        bid = m["main_building"]
        changes[bid] = {"geometry": shapely.box(bx0, by0, bx1, by1)}
        truth.append(TruthRow("SET-OUTSIDE", "buildings", bid, expect,
                              f"{note}; parcel {pid} ({s.villages[m['village_id']]['name']})"))

    over_street(south[1], 0.3, 10.0, "violation", "0.3 m over the street-side boundary along a 10 m side: "
                                                  "3.0 m² outside, width 0.3 m")
    # the same house is SET-OUTSIDE's case, not also a drip case for the side over the boundary
    truth.append(TruthRow("SET-DRIP", "buildings", truth[-1].subject_id, "near_miss",
                          "0.3 m over the boundary: reported by SET-OUTSIDE, not again as a drip case"))
    over_street(north[0], 1.5, 10.0, "violation", "1.5 m over along a 10 m side: 15 m² outside, width 1.5 m")
    over_street(north[5], 1.0, 8.0, "violation", "1.0 m over along an 8 m side: 8 m² outside, width 1.0 m")

    # eave overhang at the north-east corner
    vid = south[3]
    pid = s.take_parcel(vid, row="north", side_building=False)
    m = s.parcel_meta.loc[pid]
    house = s.row_of("buildings", m["main_building"]).geometry
    hx0, hy0, hx1, hy1 = house.bounds
    eave = shapely.box(round(hx1 - 2.5, 2), round(hy1 - 0.5, 2), hx1, round(m["y1"] + 0.8, 2))
    bid = m["main_building"]
    changes[bid] = {"geometry": shapely.union(house, eave).normalize()}
    truth.append(TruthRow("SET-OUTSIDE", "buildings", bid, "violation",
                          f"eave overhang 2.5 m long at the north-east corner, 0.8 m over the boundary: 2.0 m² "
                          f"outside, width 0.8 m; parcel {pid} ({s.villages[vid]['name']})"))

    over_street(south[5], 0.05, 10.0, "near_miss", "0.05 m over along a 10 m side: 0.5 m² < 1 m²")
    truth.append(TruthRow("SET-DRIP", "buildings", truth[-1].subject_id, "violation",
                          "rear eave 0.05 m over the boundary (a sliver SET-OUTSIDE ignores): clearance -0.05 m < 0.4 m"))
    over_street(north[2], 0.0, 10.0, "near_miss", "north wall exactly on the parcel boundary: 0 m over")
    truth.append(TruthRow("SET-DRIP", "buildings", truth[-1].subject_id, "violation",
                          "rear eave exactly on the boundary: clearance 0 m < 0.4 m"))

    vid = south[0]
    pid = s.take_parcel(vid, east_neighbour=True, side_building=False)
    m = s.parcel_meta.loc[pid]
    house = s.row_of("buildings", m["main_building"]).geometry
    hx0, hy0, hx1, hy1 = house.bounds
    bid = m["main_building"]
    changes[bid] = {"geometry": shapely.box(hx0, hy0, m["x1"], hy1), "row_house": True}
    truth.append(TruthRow("SET-OUTSIDE", "buildings", bid, "near_miss",
                          f"row house with its east wall exactly on the boundary shared with parcel {m['east']}: "
                          f"0 m over; parcel {pid} ({s.villages[vid]['name']})"))
    truth.append(TruthRow("SET-DRIP", "buildings", bid, "near_miss",
                          f"row house (排子房) gable on the boundary shared with parcel {m['east']}: exempt"))

    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


# ------------------------------------------------------------------------------------------------
# SET-DRIP
# ------------------------------------------------------------------------------------------------
def _take(s: Sample, village_id: str, accept, *, tries: int = 60, **kw) -> str:
    """A free parcel of ``village_id`` (``take_parcel`` options in ``kw``) for which ``accept(pid)`` holds.

    Parcels tried and rejected stay reserved (unchanged base parcels), so the draws stay reproducible.
    """
    for _ in range(tries):
        pid = s.take_parcel(village_id, **kw)
        if accept(pid):
            return pid
    raise LookupError(f"no parcel in village {village_id} fits ({kw})")


def _far_from_roads(s: Sample, distance: float = 45.0):
    roads = shapely.union_all(s.layers["roads"].geometry.to_numpy())

    def accept(pid: str) -> bool:
        m = s.parcel_meta.loc[pid]
        return shapely.distance(shapely.box(m["x0"], m["y0"], m["x1"], m["y1"]), roads) > distance
    return accept


def _floors_are(s: Sample, floors: int, also=None):
    def accept(pid: str) -> bool:
        b = s.row_of("buildings", s.parcel_meta.at[pid, "main_building"])
        return int(b["floors"]) == floors and (also is None or also(pid))
    return accept


def plant_set_drip(sample: Sample) -> Plant:
    """``SET-DRIP`` 滴水距离不足: houses moved closer to their parcel's boundary than the drip distance.

    Violations: a one-floor rear eave (north) at 0.39 m (< 0.4); a two-floor rear eave at 0.5 m with no
    downspout (< 0.8); a one-floor gable at 0.19 m (< 0.2); a two-floor gable at 0.29 m (< 0.3); an
    L-shaped house 0.15 m from its north boundary (sides not classifiable: gable limit 0.2); a house
    (not a row house) whose east gable is on the boundary shared with its neighbour (0 m); a house
    beside a seat village's street whose *southern* eave — the rear, facing away from the street — is
    0.3 m from the boundary.

    Near misses (exactly at or just inside the limit, or exempt): rear eave at 0.40 m; two floors at
    0.5 m with a downspout; gables at 0.20 m (one floor) and 0.30 m (two floors); an L-shaped house
    0.30 m from its north boundary (≥ the gable limit that applies to it); a row house (排子房) with its
    east gable on the shared boundary; a house beside the street whose northern eave — the front,
    facing the street — is 0.3 m from the boundary.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_set_drip(build_base(0))
    >>> sum(t.expect == "violation" for t in plant.truth), sum(t.expect == "near_miss" for t in plant.truth)
    (7, 7)
    """
    s = sample
    drawn = set(s.raster_villages)
    villages = [v for v in s.village_ids() if v not in drawn and not s.villages[v]["seat"]]
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    far = _far_from_roads(s)

    def place(pid: str, *, n=None, south=None, e=None, w=None) -> shapely.Polygon:
        m = s.parcel_meta.loc[pid]
        hx0, hy0, hx1, hy1 = s.row_of("buildings", m["main_building"]).geometry.bounds
        width, depth = hx1 - hx0, hy1 - hy0
        if n is not None:
            hy1 = round(m["y1"] - n, 2)
            hy0 = round(hy1 - depth, 2)
        if south is not None:
            hy0 = round(m["y0"] + south, 2)
            hy1 = round(hy0 + depth, 2)
        if e is not None:
            hx1 = round(m["x1"] - e, 2)
            hx0 = round(hx1 - width, 2)
        if w is not None:
            hx0 = round(m["x0"] + w, 2)
            hx1 = round(hx0 + width, 2)
        return shapely.box(hx0, hy0, hx1, hy1)

    def case(k: int, floors: int, expect: str, note: str, attrs: dict | None = None, **gaps) -> None:
        vid = villages[k % len(villages)]
        pid = _take(s, vid, _floors_are(s, floors, far), side_building=False)
        m = s.parcel_meta.loc[pid]
        bid = m["main_building"]
        changes[bid] = {"geometry": place(pid, **gaps), **(attrs or {})}
        truth.append(TruthRow("SET-DRIP", "buildings", bid, expect,
                              f"{note}; parcel {pid} ({s.villages[vid]['name']})"))

    case(0, 1, "violation", "one-floor rear eave (north) 0.39 m from the boundary < 0.4 m", n=0.39)
    case(1, 1, "near_miss", "one-floor rear eave exactly 0.40 m from the boundary", n=0.40)
    case(2, 2, "violation", "two floors, no downspout: rear eave 0.5 m < 0.8 m", {"downspout": False}, n=0.5)
    case(3, 2, "near_miss", "two floors with a downspout: rear eave 0.5 m >= 0.4 m", {"downspout": True}, n=0.5)
    case(4, 1, "violation", "one-floor east gable 0.19 m from the boundary < 0.2 m", e=0.19)
    case(5, 1, "near_miss", "one-floor west gable exactly 0.20 m from the boundary", w=0.20)
    case(6, 2, "violation", "two-floor east gable 0.29 m < 0.3 m", {"downspout": True}, e=0.29)
    case(7, 2, "near_miss", "two-floor west gable exactly 0.30 m", {"downspout": False}, w=0.30)

    # L-shaped houses: a 5 m deep main block along the north side and a wing to the south
    for k, gap, expect, note in ((0, 0.15, "violation", "L-shaped house 0.15 m from its north boundary: sides "
                                  "not classifiable, gable limit 0.2 m applies"),
                                 (1, 0.30, "near_miss", "L-shaped house 0.30 m from its north boundary: "
                                  "irregular, so the gable limit 0.2 m applies, not the rear 0.4 m")):
        vid = villages[(k + 2) % len(villages)]
        pid = _take(s, vid, _floors_are(s, 1, far), side_building=False)
        m = s.parcel_meta.loc[pid]
        hx0, _, hx1, _ = s.row_of("buildings", m["main_building"]).geometry.bounds
        top = round(m["y1"] - gap, 2)
        wing = round((hx1 - hx0) / 3, 2)
        ell = shapely.union(shapely.box(hx0, round(top - 5.0, 2), hx1, top),
                            shapely.box(hx0, round(top - 9.0, 2), round(hx0 + wing, 2), round(top - 5.0, 2)))
        bid = m["main_building"]
        changes[bid] = {"geometry": ell.normalize()}
        truth.append(TruthRow("SET-DRIP", "buildings", bid, expect, f"{note}; parcel {pid} ({s.villages[vid]['name']})"))

    # gables on the boundary shared with the east neighbour: exempt for a row house only
    for k, row_house, expect, note in ((3, True, "near_miss", "row house (排子房) with its east gable on the boundary "
                                        "shared with the next parcel: exempt"),
                                       (4, False, "violation", "house (not a row house) with its east gable on the "
                                        "boundary shared with the next parcel: 0 m < 0.2 m")):
        vid = villages[k % len(villages)]
        pid = _take(s, vid, _floors_are(s, 1, far), east_neighbour=True, side_building=False)
        m = s.parcel_meta.loc[pid]
        hx0, hy0, _, hy1 = s.row_of("buildings", m["main_building"]).geometry.bounds
        bid = m["main_building"]
        changes[bid] = {"geometry": shapely.box(hx0, hy0, m["x1"], hy1), "row_house": row_house}
        truth.append(TruthRow("SET-DRIP", "buildings", bid, expect,
                              f"{note} {m['east']}; parcel {pid} ({s.villages[vid]['name']})"))

    # a seat village's street becomes a road: the houses north of the street have it along their north
    # side, so their rear eave is the southern one
    seat = next(v for v in s.village_ids() if s.villages[v]["seat"] and v not in drawn)
    (street_y0, street_y1), = s.villages[seat]["seat_streets"]
    meta = s.parcel_meta[s.parcel_meta["village_id"] == seat]
    x_min, x_max = float(meta["x0"].min()), float(meta["x1"].max())
    y_mid = round((street_y0 + street_y1) / 2, 2)
    road = frame([{"road_id": f"J{seat[-6:]}", "name": f"{s.villages[seat]['name']}大街", "grade": "village",
                   "width_m": round(street_y1 - street_y0, 2),
                   "geometry": shapely.LineString([(x_min, y_mid), (x_max, y_mid)])}])

    def beside_street(pid: str) -> bool:
        m = s.parcel_meta.loc[pid]
        b = s.row_of("buildings", m["main_building"])
        return abs(m["y1"] - street_y0) < 0.005 and int(b["floors"]) == 1

    for gaps, expect, note in (({"south": 0.3}, "violation", "street along the north side: the southern eave is the "
                                "rear (faces away from the street) and is 0.3 m from the boundary < 0.4 m"),
                               ({"n": 0.3}, "near_miss", "street along the north side: the northern eave faces "
                                "the street (front eave, 0.2 m applies) and is 0.3 m from the boundary")):
        pid = _take(s, seat, beside_street, row="north", side_building=False)
        bid = s.parcel_meta.at[pid, "main_building"]
        changes[bid] = {"geometry": place(pid, **gaps), "downspout": False}
        truth.append(TruthRow("SET-DRIP", "buildings", bid, expect,
                              f"{note}; parcel {pid} ({s.villages[seat]['name']})"))

    return Plant(features={"buildings": updated_rows(s, "buildings", changes), "roads": road}, truth=truth)


# ------------------------------------------------------------------------------------------------
# SET-REDLINE
# ------------------------------------------------------------------------------------------------
def _zone(s: Sample, layer: str, name: str | None = None, kind: str | None = None) -> shapely.Geometry:
    f = s.layers[layer]
    if kind is not None:
        f = f[f["kind"] == kind]
    if name is not None:
        f = f[f["name"] == name]
    return shapely.union_all(f.geometry.to_numpy())


def _edge_box(area: shapely.Geometry, x0: float, width: float, height: float, inside: float) -> shapely.Polygon:
    """A box ``width`` wide at ``x0`` whose overlap with ``area`` (above it) is ``inside`` m² (bisection)."""
    strip = shapely.intersection(area, shapely.box(x0, -1e9, x0 + width, 1e9))
    y_edge = shapely.bounds(strip)[1]
    lo, hi = y_edge - height, y_edge + height
    for _ in range(60):
        mid = (lo + hi) / 2
        if shapely.intersection(area, shapely.box(x0, mid, x0 + width, mid + height)).area > inside:
            hi = mid
        else:
            lo = mid
    y = round(lo, 3)
    return shapely.box(x0, y, x0 + width, y + height)


def _bank_band(s: Sample, x0: float, width: float, near: float, far: float) -> shapely.Polygon:
    """The north bank of 泃河 between ``near`` and ``far`` metres from the river's edge, ``width`` long."""
    river = _zone(s, "waters", name="泃河")
    band = shapely.difference(shapely.buffer(river, far), shapely.buffer(river, near))
    part = shapely.intersection(band, shapely.box(x0, -1e9, x0 + width, 1e9))
    cy = shapely.centroid(shapely.intersection(river, shapely.box(x0, -1e9, x0 + width, 1e9))).y
    pieces = [g for g in shapely.get_parts(part) if g.centroid.y > cy]
    return max(pieces, key=lambda g: g.area)


def plant_set_redline(sample: Sample) -> Plant:
    """``SET-REDLINE`` 生态红线/蓝线内建设: new buildings (no parcel) inside red and blue lines.

    Violations: a house well inside the eco red line; a house straddling the red line's wiggly edge with
    40 m² inside; a pump house in 泃河's blue line (on its woodland belt, 3–7 m from the water); a house
    in the 金海湖 water-source zone. Near misses: a house touching the red line with 0.5 m² inside (a
    sliver under 1 m²); a house in the 金海湖 scenic area but outside the water-source zone (scenic
    areas are not red or blue lines). None stands on farmland.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_set_redline(build_base(0))
    >>> sum(t.expect == "violation" for t in plant.truth), sum(t.expect == "near_miss" for t in plant.truth)
    (4, 2)
    """
    s = sample
    red = _zone(s, "eco_redline")
    items, truth = [], []

    def add(geom, expect, note, **attrs):
        rows = building_rows(s, [(geom, {"built_year": 2022, "use": "residential", **attrs})])
        items.append(rows)
        truth.append(TruthRow("SET-REDLINE", "buildings", rows["building_id"].iloc[0], expect, note))

    add(shapely.box(X0 + 4000, Y0 + 5300, X0 + 4010, Y0 + 5308), "violation", "house 400 m inside the eco red line")
    add(_edge_box(red, X0 + 2500, 10.0, 8.0, 40.0), "violation",
        "house straddling the red line's south edge (22,000-vertex wiggle): 40 m² inside")
    add(_edge_box(red, X0 + 5500, 10.0, 8.0, 0.5), "near_miss",
        "house touching the red line's south edge with 0.5 m² inside (< 1 m²)")
    pump = _bank_band(s, X0 + 2000, 4.0, 3.0, 7.0)
    add(pump, "violation", "pump house on 泃河's north bank, 3–7 m from the water: inside the blue line",
        use="ancillary", eave_height_m=2.8, ridge_height_m=np.nan, roof="flat")
    add(shapely.box(X0 + 7595, Y0 + 4420, X0 + 7605, Y0 + 4428), "violation",
        "house about 100 m south of 金海湖 reservoir: inside the water-source zone")
    add(shapely.box(X0 + 8350, Y0 + 4745, X0 + 8360, Y0 + 4753), "near_miss",
        "house 400 m east of 金海湖 reservoir: scenic area only (not a red or blue line)")
    rows = items[0]
    for extra in items[1:]:
        rows = frame(rows.to_dict("records") + extra.to_dict("records"))
    rows["built_year"] = rows["built_year"].astype("Int64")
    return Plant(features={"buildings": rows}, truth=truth)


# ------------------------------------------------------------------------------------------------
# SITE-CEMETERY
# ------------------------------------------------------------------------------------------------
def plant_site_cemetery(sample: Sample) -> Plant:
    """``SITE-CEMETERY`` 公墓选址违规: burial points inside forbidden zones or beside highways.

    Violations: inside the 上宅 relic zone, the 峪口镇 town-planning area, the 金海湖 scenic area, the
    金海湖 water-source zone, on 泃河's dike, and 30 m from county road X036's road land. Near misses:
    exactly 50 m from provincial road S311's road land (the configured distance), 20 m from a village
    road (村道 is not 公路), and inside 泃河's blue line but off the dike (blue lines are not a zone
    of 第七条).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_site_cemetery(build_base(0))
    >>> sum(t.expect == "violation" for t in plant.truth), sum(t.expect == "near_miss" for t in plant.truth)
    (6, 3)
    """
    s = sample
    records, truth = [], []

    def add(geom, name, expect, note):
        cid = f"GM{100 + len(records) + 1:03d}"
        records.append({"cemetery_id": cid, "name": name, "geometry": geom})
        truth.append(TruthRow("SITE-CEMETERY", "cemeteries", cid, expect, note))

    def box(x, y, w=30.0, h=20.0):
        return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)

    add(box(6500, 1080), "上宅村集中埋葬点", "violation", "inside the 上宅 relic protection zone")
    add(box(1000, 1300, 40, 30), "峪口村东坟地", "violation", "inside the 峪口镇 town-planning area")
    add(box(6850, 4740), "海子村北坟地", "violation", "inside the 金海湖 scenic area")
    add(box(7700, 4400), "茅山后村南坟地", "violation", "inside the 金海湖 water-source zone (and scenic area)")
    strip = shapely.box(X0 + 3200, -1e9, X0 + 3220, 1e9)
    on_dike = shapely.intersection(_zone(s, "protected_zones", kind="dike"), strip)
    river_y = shapely.centroid(shapely.intersection(_zone(s, "waters", name="泃河"), strip)).y
    on_dike = max((g for g in shapely.get_parts(on_dike) if g.centroid.y > river_y), key=lambda g: g.area)
    add(on_dike, "泃河北岸坟地", "violation", "on 泃河's dike (north bank)")
    add(box(6034, 2000), "峪华路旁坟地", "violation", "30 m from county road X036's road land (< 50 m)")
    add(box(5200, 3256, 40, 20), "平蓟路北坟地", "near_miss",
        "exactly 50 m from provincial road S311's road land (12 m wide): not within 50 m")
    add(box(7700, 3722, 40, 20), "茅山后村道旁坟地", "near_miss", "20 m from a village road (村道 is not 公路)")
    add(_bank_band(s, X0 + 3300, 20.0, 2.5, 9.5), "泃河蓝线内坟地", "near_miss",
        "inside 泃河's blue line but off the dike: blue lines are not a zone of 第七条")
    return Plant(features={"cemeteries": frame(records)}, truth=truth)


# ------------------------------------------------------------------------------------------------
# SITE-LAND, SITE-LEVEL, SITE-APPROVAL, SITE-GREEN, SITE-GRAVE and FARM-SPACE (second edition)
# ------------------------------------------------------------------------------------------------
def _union(geoms) -> shapely.Geometry:
    geoms = [g for g in geoms if g is not None]
    return shapely.union_all(np.asarray(geoms, dtype=object)) if geoms else shapely.Polygon()


def _sensitive_land(s: Sample) -> dict[str, shapely.Geometry]:
    """Farmland (baseline 01xx ∪ PBF), PBF, current woodland (03xx) and the eco red line, as SITE-LAND reads them."""
    base, lu = s.layers["landuse_baseline"], s.layers["landuse"]
    pbf = _union(s.layers["pbf"].geometry)
    return {"farm": _union(list(base.geometry[base["dlbm"].str[:2] == "01"]) + [pbf]), "pbf": pbf,
            "wood": _union(lu.geometry[lu["dlbm"].str[:2] == "03"]), "red": _union(s.layers["eco_redline"].geometry)}


def plant_site_rules(sample: Sample) -> Plant:
    """The second edition's siting cases and ``FARM-SPACE``.

    Every cemetery planted before (base and ``SITE-CEMETERY`` cases) gets a ``cemetery`` approval of its own
    shape, ``level = burial_point`` and ``green_ratio = 0.6``; those that stand on farmland, woodland or the
    red line are ``SITE-LAND`` cases too (truth rows say so). New burial points inside the 0905 cemetery land
    of 胡家营 (峪口镇) and 苏子峪 (大华山镇): a 镇级 cemetery in 峪口镇 (SITE-LEVEL; a burial point there is
    the near miss; two in 苏子峪, where ``TOWNSHIP_LIMITS`` allows 大华山镇 one, both flagged for the count;
    two in 茅山后 (金海湖镇, allowed two) the near misses), one naming an approval that does not exist, one half outside its approval, one 100 m²
    on an approval of 80 m² (92 m² is the near miss: within 10 m²), green cover 45 % (50 % near miss); one
    on baseline farmland beside 坨头寺's cemetery (SITE-LAND; one wholly on 0201 garden is the near miss).
    Graves: a point on farmland, a 4 × 4 m 坟地 on garden land; near misses inside approved cemeteries.
    ``FARM-SPACE``: a 耕地保有量空间 over the 1206 bare-land patch (past 2022: medium), a 耕地保护空间 over
    the 0307K patch (before 2035: low); a 保有量空间 over a farmland patch is the near miss.

    Examples
    --------
    >>> from landguard.sample.generate import build_sample
    >>> s = build_sample(0)
    >>> sorted({t.rule_id for t in s.truth if t.rule_id.startswith("SITE-") and t.rule_id != "SITE-CEMETERY"})
    ['SITE-APPROVAL', 'SITE-GRAVE', 'SITE-GREEN', 'SITE-LAND', 'SITE-LEVEL']
    """
    s = sample
    land = _sensitive_land(s)
    truth: list[TruthRow] = []
    approvals: list[dict] = []
    cems = s.layers["cemeteries"].copy()
    # 1. every earlier cemetery: approved, a burial point, green
    for cid, geom in zip(cems["cemetery_id"], cems.geometry):
        approvals.append({"approval_id": f"MZ-{cid}", "kind": "cemetery", "approved_area_m2": round(geom.area, 2),
                          "valid_until": None, "geometry": geom})
        on = {k: shapely.intersection(geom, g).area for k, g in land.items()}
        hit = [k for k, a in on.items() if a >= 1.0]
        if hit:
            truth.append(TruthRow("SITE-LAND", "cemeteries", cid, "violation",
                                  "earlier cemetery case also on " + ", ".join(f"{k} {on[k]:.0f} m²" for k in hit)))
    cems["level"] = "burial_point"
    cems["approval_id"] = [f"MZ-{c}" for c in cems["cemetery_id"]]
    cems["green_ratio"] = 0.6
    records = cems.to_dict("records")

    def slot(box: tuple[float, float], k: int) -> shapely.Polygon:
        x, y = box[0] + 10 * (k % 4), box[1] + 10 * (k // 4)
        return shapely.box(X0 + x, Y0 + y, X0 + x + 10, Y0 + y + 10)

    hujiaying, suziyu = (360, 4080), (3650, 4060)

    def add(geom, name, rule, expect, note, *, level="burial_point", green=0.6, approval="own", area=None,
            approved_geom=None):
        cid = f"GM{200 + len([r for r in records if r['cemetery_id'].startswith('GM2')]) + 1:03d}"
        aid = None
        if approval == "own":
            aid = f"MZ-{cid}"
            ag = approved_geom if approved_geom is not None else geom
            approvals.append({"approval_id": aid, "kind": "cemetery", "valid_until": None, "geometry": ag,
                              "approved_area_m2": area if area is not None else round(ag.area, 2)})
        elif approval is not None:
            aid = approval
        records.append({"cemetery_id": cid, "name": name, "level": level, "approval_id": aid, "green_ratio": green,
                        "geometry": geom})
        truth.append(TruthRow(rule, "cemeteries", cid, expect, note))
        return cid

    add(slot(hujiaying, 0), "胡家营村镇级公墓", "SITE-LEVEL", "violation", "镇级 cemetery in 峪口镇 (Mentougou table: 潭柘寺镇、斋堂镇 only)",
        level="town")
    add(slot(hujiaying, 1), "胡家营村集中埋葬点二", "SITE-LEVEL", "near_miss", "集中埋葬点 in 峪口镇: allowed everywhere")
    add(slot(hujiaying, 2), "胡家营村未批埋葬点", "SITE-APPROVAL", "violation", "names approval MZ2019-0999, which does not exist",
        approval="MZ2019-0999")
    g = slot(hujiaying, 3)
    add(g, "胡家营村扩建埋葬点", "SITE-APPROVAL", "violation", "half of it (50 m²) outside its approval",
        approved_geom=shapely.box(*g.bounds[:3], g.bounds[1] + 5))
    add(slot(hujiaying, 4), "胡家营村超面积埋葬点", "SITE-APPROVAL", "violation", "100 m² on an approval of 80 m² (> 10 m²)",
        area=80.0)
    add(slot(hujiaying, 5), "胡家营村埋葬点三", "SITE-APPROVAL", "near_miss", "100 m² on an approval of 92 m² (within 10 m²)",
        area=92.0)
    add(slot(suziyu, 0), "苏子峪村少绿埋葬点", "SITE-GREEN", "violation", "green_ratio 0.45 < 0.5", green=0.45)
    add(slot(suziyu, 1), "苏子峪村埋葬点二", "SITE-GREEN", "near_miss", "green_ratio exactly 0.5", green=0.5)
    # SITE-LEVEL's count: 大华山镇 may hold one 镇级 cemetery (TOWNSHIP_LIMITS), it holds two (金海湖镇: below)
    for k, suffix in ((2, ""), (3, "二")):
        add(slot(suziyu, k), f"苏子峪村镇级公墓{suffix}", "SITE-LEVEL", "violation",
            "one of two 镇级 cemeteries in 大华山镇, allowed one (town_per_township = 1, the default; 第九条 各建一处)",
            level="town")
    # SITE-LAND: beside 坨头寺's cemetery land (2000..2040, 4100..4130): farmland and garden around it
    roads = s.layers["roads"]
    road_land = _union(shapely.buffer(roads.geometry.to_numpy(), roads["width_m"].fillna(0).to_numpy() / 2 + 62))
    zones = _union(s.layers["protected_zones"].geometry)
    lu = s.layers["landuse"]
    garden = _union(lu.geometry[lu["dlbm"] == "0201"])
    found = {"farm": None, "garden": None}
    for dy in range(-150, 151, 5):
        for dx in range(-150, 151, 5):
            g = shapely.box(X0 + 2010 + dx, Y0 + 4110 + dy, X0 + 2020 + dx, Y0 + 4120 + dy)
            if g.intersects(road_land) or g.intersects(zones) or g.intersects(_union(cems.geometry)):
                continue
            on = {k: shapely.intersection(g, v).area for k, v in land.items()}
            if found["farm"] is None and on["farm"] >= 99.9 and on["red"] < 1:
                found["farm"] = g
            if found["garden"] is None and max(on.values()) == 0 and shapely.intersection(g, garden).area >= 99.9:
                found["garden"] = g
    add(found["farm"], "坨头寺村耕地上埋葬点", "SITE-LAND", "violation", "10 × 10 m burial point on baseline farmland")
    add(found["garden"], "坨头寺村园地上埋葬点", "SITE-LAND", "near_miss", "burial point wholly on 0201 garden: not 耕地/林地")
    # SITE-LEVEL's near miss: two 镇级 cemeteries in 金海湖镇, allowed two (TOWNSHIP_LIMITS), in 茅山后 clear of
    # road land (+ 62 m), protected zones, cemeteries, settlements, parcels, buildings and SITE-LAND's land
    villages = s.layers["villages"]
    maoshanhou = villages.geometry[villages["name"] == "茅山后村"].iloc[0]
    blocked = _union([road_land, zones, _union(cems.geometry), _union(lu.geometry[lu["dlbm"] == "0702"]),
                      _union(s.layers["parcels"].geometry), _union(s.layers["buildings"].geometry), *land.values()])
    shapely.prepare(blocked)
    xs, ys = (a.ravel() for a in np.meshgrid(np.arange(7520.0, 8960.0, 20.0), np.arange(3020.0, 4300.0, 20.0)))
    boxes = shapely.box(X0 + xs, Y0 + ys, X0 + xs + 30, Y0 + ys + 10)
    free = np.flatnonzero(shapely.contains(maoshanhou, boxes) & ~shapely.intersects(boxes, blocked))
    corner = (xs[free[0]], ys[free[0]])
    for k, suffix in ((0, ""), (2, "二")):
        add(slot(corner, k), f"茅山后村镇级公墓{suffix}", "SITE-LEVEL", "near_miss",
            "one of two 镇级 cemeteries in 金海湖镇, allowed two (township override town_per_township = 2)",
            level="town")
    # graves
    base = s.layers["landuse_baseline"]
    farm_patch = lu[(lu["dlbm"] == "0103") & lu["tbbh"].isin(base.loc[base["dlbm"] == "0103", "tbbh"])].geometry.iloc[0]
    garden_patch = shapely.difference(lu[lu["dlbm"] == "0201"].geometry.iloc[0], shapely.buffer(_union(land.values()), 5))
    gp = shapely.point_on_surface(garden_patch)
    graves = [
        {"grave_id": "FM001", "count": 3, "geometry": shapely.point_on_surface(farm_patch)},
        {"grave_id": "FM002", "count": 1, "geometry": shapely.box(gp.x - 2, gp.y - 2, gp.x + 2, gp.y + 2)},
        {"grave_id": "FM003", "count": 1, "geometry": shapely.centroid(cems.geometry.iloc[0])},
        {"grave_id": "FM004", "count": 2, "geometry": shapely.centroid(slot(suziyu, 1))},
    ]
    truth += [TruthRow("SITE-GRAVE", "graves", "FM001", "violation", "3 graves on farmland, outside every cemetery"),
              TruthRow("SITE-GRAVE", "graves", "FM002", "violation", "4 × 4 m 坟地 on garden land"),
              TruthRow("SITE-GRAVE", "graves", "FM003", "near_miss", "inside approved cemetery GM001"),
              TruthRow("SITE-GRAVE", "graves", "FM004", "near_miss", "inside an approved burial point")]
    # FARM-SPACE
    def inner(tbbh):
        return shapely.buffer(lu.loc[lu["tbbh"] == tbbh].geometry.iloc[0], -0.5)

    farm_tbbh = lu.loc[lu.geometry.apply(lambda g: g.equals(farm_patch)), "tbbh"].iloc[0]
    spaces = [{"space_id": "KJ001", "kind": "retention", "target_year": None, "geometry": inner("00111")},
              {"space_id": "BH001", "kind": "protection", "target_year": None, "geometry": inner("00110")},
              {"space_id": "KJ002", "kind": "retention", "target_year": None, "geometry": inner(farm_tbbh)}]
    truth += [TruthRow("FARM-SPACE", "landuse", "00111", "violation", "1206 bare land in a 耕地保有量空间, past 2022"),
              TruthRow("FARM-SPACE", "landuse", "00110", "violation", "0307K in a 耕地保护空间 (before 2035: low)"),
              TruthRow("FARM-SPACE", "landuse", farm_tbbh, "near_miss", "0103 farmland in a 耕地保有量空间")]
    ap = frame(approvals)
    return Plant(features={"cemeteries": frame(records), "approvals": ap, "graves": frame(graves),
                           "farmland_protection": frame(spaces)}, truth=truth)
