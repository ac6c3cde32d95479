"""Planted cases of the ``setback`` family (相邻权益与退让).

How to add a planter for another rule of this family (e.g. ``SET-DRIP``): write one function
``plant_<rule>(sample) -> Plant`` here that reserves parcels with ``sample.take_parcel(...)`` and moves
their house (``sample.parcel_meta`` has the parcel's bounds ``x0, x1, y0, y1``, its block ``row`` —
``north`` parcels have the street along their north side —, the house's ``rear`` clearance and
``depth``, and the ``main_building``/``side_building`` ids), returns the changed ``buildings`` rows
(:func:`layers.sample.model.updated_rows`) and one :class:`TruthRow` per case, then add it to
``PLANTERS`` in :mod:`layers.sample.generate`. Push houses over the street side, not into a neighbour
parcel, unless the case is about neighbours (a house reaching into the next parcel is also a
``HOME-MERGE`` case).
"""

from __future__ import annotations

import shapely

from .model import Plant, Sample, TruthRow, updated_rows

__all__ = ["plant_set_outside"]


def plant_set_outside(sample: Sample) -> Plant:
    """``SET-OUTSIDE`` 超出宅基地范围: houses reaching over their parcel's street-side boundary.

    Violations: 0.3 m over along a 10 m side (3.0 m², width 0.3 m), 1.5 m over along 10 m (15 m²),
    an eave overhang 2.5 m long reaching 0.8 m over at the house's north-east corner (2.0 m², width
    0.8 m), 1.0 m over along an 8 m side (8 m²). Near misses: 0.05 m over along 10 m (0.5 m² < 1 m²), a
    house whose north wall lies exactly on the boundary, and a row house (排子房) whose east wall lies
    exactly on the boundary it shares with the next parcel.

    Examples
    --------
    >>> from layers.sample.base import build_base
    >>> [t.expect for t in plant_set_outside(build_base(0)).truth].count("violation")
    4
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
    over_street(north[2], 0.0, 10.0, "near_miss", "north wall exactly on the parcel boundary: 0 m over")

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

    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)
