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

__all__ = ["plant_set_outside", "plant_set_drip", "plant_set_redline", "plant_site_cemetery"]

X0, Y0 = ORIGIN


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
