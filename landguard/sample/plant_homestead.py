"""Planted cases of the ``homestead`` family (宅基地).

How to add a planter for another rule of this family (e.g. ``HOME-HEIGHT``): write one function
``plant_<rule>(sample) -> Plant`` here that reserves base parcels with ``sample.take_parcel(...)``
(``sample.parcel_meta`` gives each parcel's bounds, block row, neighbours and buildings), returns the
changed/new ``parcels``/``buildings`` rows in ``Plant.features`` (use
:func:`landguard.sample.model.updated_rows` to change a few attributes of existing rows and
:func:`landguard.sample.model.building_rows` for new buildings) and one :class:`TruthRow` per case, then
add it to ``PLANTERS`` in :mod:`landguard.sample.generate`. Buildings of the villages in
``sample.raster_villages`` are drawn in the nDSM: plant height cases there when the table's heights
are missing (set ``eave_height_m``/``ridge_height_m`` to NaN and ``_eave_true``/``_ridge_true`` to
the heights the nDSM should show).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .model import AS_OF, Plant, Sample, TruthRow, frame, updated_rows
from .people import to_15_digits, to_fullwidth, with_wrong_check_digit

__all__ = ["plant_home_multi", "plant_home_rules", "plant_home_multi_mixed", "plant_home_old", "plant_home_area",
           "plant_home_cover", "plant_home_floors", "plant_home_height", "plant_home_merge", "plant_home_pbf",
           "plant_home_approved", "plant_home_plan", "plant_home_relic", "plant_home_stair", "plant_home_second",
           "plant_home_roof", "plant_roof_consequences"]


def plant_home_multi(sample: Sample) -> Plant:
    """``HOME-MULTI`` 一户多宅: households holding more than one parcel, and near misses.

    Violations (subject = the household's smallest parcel_id):

    1. two parcels of one ``household_id`` (father and son, different ID numbers), one village;
    2. one person written with his 15-digit old number in one village and his 18-digit number in another;
    3. one person written in full-width digits (``１…Ｘ``) on one parcel and with a lower-case ``x`` on
       another, one village;
    4. one name, no ID number and no household_id on two parcels of one village (name match);
    5. one person (plain valid ID) on three parcels of one village.

    Near misses: one name without ID in two different villages; a relocation (old parcel with
    ``replaced_by`` and ``new_house_completed`` two months before ``as_of``) and the new parcel; two
    people sharing a name with different valid IDs in one village; a valid ID next to the same person's
    ID typed with a wrong check digit (the invalid one must not be matched).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_home_multi(build_base(0))
    >>> sum(t.expect == "violation" for t in plant.truth), sum(t.expect == "near_miss" for t in plant.truth)
    (5, 4)
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    parcel_changes: dict[str, dict] = {}
    building_changes: dict[str, dict] = {}
    truth: list[TruthRow] = []

    def own(pid: str, name: str, owner_id: str | None, household_id: str | None = None, **extra) -> None:
        parcel_changes[pid] = {"owner_name": name, "owner_id": owner_id, "household_id": household_id, **extra}
        meta = s.parcel_meta.loc[pid]
        for bid in (meta["main_building"], meta["side_building"]):
            if isinstance(bid, str):
                building_changes[bid] = {"owner_id": owner_id}

    def case(pids: list[str], expect: str, note: str, subject: str | None = None) -> None:
        pids = sorted(pids)
        villages = sorted({s.villages[s.parcel_meta.at[p, 'village_id']]['name'] for p in pids})
        truth.append(TruthRow("HOME-MULTI", "parcels", subject or pids[0], expect,
                              f"{note}; parcels {';'.join(pids)} ({'/'.join(villages)})"))

    # 1. household_id ----------------------------------------------------------------------------
    v = south[2]
    p1, p2 = s.take_parcel(v), s.take_parcel(v)
    father, son = s.people.new(born=(1945, 1960)), s.people.new(born=(1972, 1990))
    household = f"{v}9001"
    own(p1, father.name, father.id18, household)
    own(p2, son.name, son.id18, household)
    case([p1, p2], "violation", f"household_id {household} on two parcels (owners {father.name}, {son.name})")

    # 2. 15-digit and 18-digit number of one person, two villages -------------------------------------
    person = s.people.new(born=(1955, 1969), area="110226")
    a, b = s.take_parcel(north[0]), s.take_parcel(south[1])
    own(a, person.name, to_15_digits(person.id18))
    own(b, person.name, person.id18)
    case([a, b], "violation", f"{person.name}: 15-digit {to_15_digits(person.id18)} and 18-digit {person.id18}")

    # 3. full-width digits and lower-case x ----------------------------------------------------------
    person = s.people.new(born=(1950, 1985), check="X")
    v = north[4]
    a, b = s.take_parcel(v), s.take_parcel(v)
    own(a, person.name, to_fullwidth(person.id18))
    own(b, person.name, person.id18[:17] + "x")
    case([a, b], "violation", f"{person.name}: {person.id18} written in full-width digits and with a lower-case x")

    # 4. name only, one village --------------------------------------------------------------------
    person = s.people.new()
    v = north[3]
    a, b = s.take_parcel(v), s.take_parcel(v)
    own(a, person.name, None)
    own(b, person.name, None)
    case([a, b], "violation", f"{person.name} with no ID number on two parcels of one village (name match, "
                              "lower confidence)")

    # 5. three parcels, one valid ID -------------------------------------------------------------------
    person = s.people.new(born=(1940, 1970))
    v = south[5]
    ps = [s.take_parcel(v) for _ in range(3)]
    for p in ps:
        own(p, person.name, person.id18)
    case(ps, "violation", f"{person.name} {person.id18} on three parcels")

    # near misses ------------------------------------------------------------------------------------
    person = s.people.new()
    a, b = s.take_parcel(south[0]), s.take_parcel(north[1])
    own(a, person.name, None)
    own(b, person.name, None)
    case([a, b], "near_miss", f"{person.name} with no ID number in two different villages: not one household")

    person = s.people.new(born=(1955, 1985))
    v = south[3]
    old, new = s.take_parcel(v), s.take_parcel(v)
    completed = AS_OF - dt.timedelta(days=61)
    own(old, person.name, person.id18, replaced_by=new, new_house_completed=completed.isoformat())
    own(new, person.name, person.id18, approved_date="2024-05-10")
    case([old, new], "near_miss", f"relocation: old parcel {old} replaced_by {new}, new house completed "
                                  f"{completed.isoformat()} (2 months before as_of): old parcel not counted")

    first = s.people.new(born=(1950, 1990))
    second = s.people.new(born=(1950, 1990), name=first.name)
    v = north[2]
    a, b = s.take_parcel(v), s.take_parcel(v)
    own(a, first.name, first.id18)
    own(b, second.name, second.id18)
    case([a, b], "near_miss", f"two people named {first.name} with different valid IDs {first.id18}, {second.id18}")

    person = s.people.new(born=(1950, 1990))
    v = south[4]
    good, bad = s.take_parcel(v), s.take_parcel(v)
    typo = with_wrong_check_digit(person.id18)
    s.intended_invalid_ids.append(typo)
    own(good, person.name, person.id18)
    own(bad, person.name, typo)
    case([good, bad], "near_miss", f"{person.name} {person.id18} valid; the same number typed {typo} (wrong "
                                   f"check digit) on {bad} is not matched", subject=good)

    features = {"parcels": updated_rows(s, "parcels", parcel_changes),
                "buildings": updated_rows(s, "buildings", building_changes)}
    return Plant(features=features, truth=truth)


# --------------------------------------------------------------------------------------------------
# the other rules of the family
# --------------------------------------------------------------------------------------------------
def _months_before(day: dt.date, months: int, plus_days: int = 0) -> dt.date:
    """``day`` minus whole calendar months, plus ``plus_days``."""
    return (pd.Timestamp(day) - pd.DateOffset(months=months) + pd.Timedelta(days=plus_days)).date()


def _village_name(s: Sample, pid: str) -> str:
    return s.villages[s.parcel_meta.at[pid, "village_id"]]["name"]


def _house(s: Sample, pid: str) -> tuple[str, shapely.Polygon]:
    """The main building of a base parcel: (building_id, geometry)."""
    bid = s.parcel_meta.at[pid, "main_building"]
    return bid, s.row_of("buildings", bid).geometry


def _parcel_box(s: Sample, pid: str) -> tuple[float, float, float, float]:
    m = s.parcel_meta.loc[pid]
    return float(m["x0"]), float(m["y0"]), float(m["x1"]), float(m["y1"])


def _one_floor(**extra) -> dict:
    """Attributes of a compliant one-floor pitched house (and what the nDSM draws)."""
    return {"floors": 1, "basement": False, "roof": "pitched", "eave_height_m": 3.2, "ridge_height_m": 5.6,
            "_eave_true": 3.2, "_ridge_true": 5.6, **extra}


def plant_home_multi_mixed(sample: Sample) -> Plant:
    """``HOME-MULTI`` with a household register filled in for one parcel only, across villages.

    Violation: one person holds a parcel with a ``household_id`` and his 18-digit number in one village,
    and a parcel with no ``household_id`` and his 15-digit number in another: one household.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> [t.expect for t in plant_home_multi_mixed(build_base(0)).truth]
    ['violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    person = s.people.new(born=(1950, 1968))
    a, b = s.take_parcel(south[4]), s.take_parcel(north[5])
    household = f"{s.parcel_meta.at[a, 'village_id']}9002"
    changes = {a: {"owner_name": person.name, "owner_id": person.id18, "household_id": household},
               b: {"owner_name": person.name, "owner_id": to_15_digits(person.id18), "household_id": None}}
    pids = sorted([a, b])
    truth = [TruthRow("HOME-MULTI", "parcels", pids[0], "violation",
                      f"{person.name}: parcel {a} ({_village_name(s, a)}) with household_id {household} and "
                      f"{person.id18}; parcel {b} ({_village_name(s, b)}) without household_id and "
                      f"{to_15_digits(person.id18)} (15 digits): one household across villages")]
    return Plant(features={"parcels": updated_rows(s, "parcels", changes)}, truth=truth)


def plant_home_old(sample: Sample) -> Plant:
    """``HOME-OLD`` 建新未拆旧: old parcels of approved relocations whose houses still stand.

    Violation: new house completed four calendar months before ``as_of`` (deadline a month ago), the
    old house still on the old parcel. Near misses: completed three months less one day before
    ``as_of`` (still within the 3 months); and ``HOME-MULTI`` must not count the violation's old parcel.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_old(build_base(0)).truth)
    ['near_miss', 'near_miss', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    for vid, completed, expect, what in (
            (north[1], _months_before(AS_OF, 4), "violation", "4 months before as_of: deadline passed"),
            (south[5], _months_before(AS_OF, 3, plus_days=1), "near_miss", "3 months less a day before as_of: "
                                                                           "still within the 3 months")):
        person = s.people.new(born=(1950, 1985))
        old, new = s.take_parcel(vid), s.take_parcel(vid)
        bid, _ = _house(s, old)
        changes[old] = {"owner_name": person.name, "owner_id": person.id18, "household_id": None,
                        "replaced_by": new, "new_house_completed": completed.isoformat()}
        changes[new] = {"owner_name": person.name, "owner_id": person.id18, "household_id": None,
                        "approved_date": "2025-03-18"}
        truth.append(TruthRow("HOME-OLD", "parcels", old, expect,
                              f"relocation {old} -> {new} ({s.villages[vid]['name']}), new house completed "
                              f"{completed.isoformat()} ({what}); old house {bid} still standing"))
        if expect == "violation":
            truth.append(TruthRow("HOME-MULTI", "parcels", min(old, new), "near_miss",
                                  f"old parcel {old} of a relocation is HOME-OLD, not a second homestead"))
    return Plant(features={"parcels": updated_rows(s, "parcels", changes)}, truth=truth)


def plant_home_area(sample: Sample) -> Plant:
    """``HOME-AREA`` 宅基地超标准: parcels stretched over 173.33 m² into the street or settlement margin.

    Violations: 182 m² approved 2023-04-12 (``high``); 180 m² approved 1996-05-20 and 178 m² undated
    (``low``, 历史超占). Near miss: exactly 173.33 m², approved 2022-09-01. Parcels are ``north`` row
    parcels at least 12.3 m wide, stretched north by at most 3 m (the street is 7 m wide).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_area(build_base(0)).truth)
    ['near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    for vid, area, approved, expect, what in (
            (south[2], 182.0, "2023-04-12", "violation", "approved after 2021-07-01: high"),
            (north[2], 180.0, "1996-05-20", "violation", "approved 1996: low, 历史超占 6.67 m²"),
            (north[4], 178.0, None, "violation", "undated: low, 历史超占 4.67 m²"),
            (south[3], 173.33, "2022-09-01", "near_miss", "exactly the standard")):
        pid = s.take_parcel(vid, row="north", min_width=12.3)
        x0, y0, x1, y1 = _parcel_box(s, pid)
        y1_new = y0 + area / (x1 - x0)
        if not 0 < y1_new - y1 <= 3.0:
            raise AssertionError(f"HOME-AREA plant: parcel {pid} would move its north side by {y1_new - y1:.2f} m")
        changes[pid] = {"geometry": shapely.box(x0, y0, x1, y1_new), "approved_date": approved,
                        "approved_area_m2": round(area, 2) if approved else np.nan}
        truth.append(TruthRow("HOME-AREA", "parcels", pid, expect,
                              f"{area:.2f} m² ({what}); {s.villages[vid]['name']}"))
    return Plant(features={"parcels": updated_rows(s, "parcels", changes)}, truth=truth)


def plant_home_cover(sample: Sample) -> Plant:
    """``HOME-COVER`` 礅基占地超比例: houses covering too much of their parcel.

    Violation: a one-floor house 0.5 m from every side of its parcel (about 82–85 %). Near miss: a
    house of exactly 75 % (1.0 m gables, depth to fit).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_cover(build_base(0)).truth)
    ['near_miss', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []

    pid = s.take_parcel(north[0])
    x0, y0, x1, y1 = _parcel_box(s, pid)
    bid, _ = _house(s, pid)
    geom = shapely.box(x0 + 0.5, y0 + 0.5, x1 - 0.5, y1 - 0.5)
    changes[bid] = _one_floor(geometry=geom)
    share = geom.area / ((x1 - x0) * (y1 - y0)) * 100
    truth.append(TruthRow("HOME-COVER", "parcels", pid, "violation",
                          f"house {bid} 0.5 m from every side: {share:.1f} % of the parcel; {_village_name(s, pid)}"))

    pid = s.take_parcel(south[5])
    x0, y0, x1, y1 = _parcel_box(s, pid)
    bid, _ = _house(s, pid)
    width = (x1 - x0) - 2.0
    depth = 0.75 * (x1 - x0) * (y1 - y0) / width
    if depth > (y1 - y0) - 1.0:
        width = (x1 - x0) - 1.0
        depth = 0.75 * (x1 - x0) * (y1 - y0) / width
    bx0 = x0 + ((x1 - x0) - width) / 2
    top = y1 - ((y1 - y0) - depth) / 2
    geom = shapely.box(bx0, top - depth, bx0 + width, top)
    changes[bid] = _one_floor(geometry=geom)
    truth.append(TruthRow("HOME-COVER", "parcels", pid, "near_miss",
                          f"house {bid} of exactly 75 % of the parcel ({geom.area:.2f} of "
                          f"{(x1 - x0) * (y1 - y0):.2f} m²); {_village_name(s, pid)}"))
    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


def plant_home_floors(sample: Sample) -> Plant:
    """``HOME-FLOORS`` 超层数/地下室: a three-floor house and a basement; a two-floor house is fine.

    The three-floor house (flat roof, 9.6 m) is also over the two-floor height limit (``HOME-HEIGHT``).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_floors(build_base(0)).truth)
    ['near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []

    def case(vid: str, attrs: dict, rows: list[tuple[str, str, str]]) -> None:
        pid = s.take_parcel(vid)
        bid, _ = _house(s, pid)
        changes[bid] = attrs
        for rule, expect, note in rows:
            truth.append(TruthRow(rule, "buildings", bid, expect, f"{note}; parcel {pid} ({s.villages[vid]['name']})"))

    case(north[1], {"floors": 3, "basement": False, "roof": "flat", "eave_height_m": 9.6, "ridge_height_m": np.nan,
                    "_eave_true": 9.6, "_ridge_true": np.nan},
         [("HOME-FLOORS", "violation", "3 floors"),
          ("HOME-HEIGHT", "violation", "3 floors, flat roof 9.6 m: over the two-floor limit 7.2 m")])
    case(south[3], {"floors": 2, "basement": True, "roof": "pitched", "eave_height_m": 6.6, "ridge_height_m": 8.2,
                    "_eave_true": 6.6, "_ridge_true": 8.2},
         [("HOME-FLOORS", "violation", "2 floors with a basement")])
    case(north[5], {"floors": 2, "basement": False, "roof": "pitched", "eave_height_m": 6.9, "ridge_height_m": 8.4,
                    "_eave_true": 6.9, "_ridge_true": 8.4},
         [("HOME-FLOORS", "near_miss", "2 floors, no basement"),
          ("HOME-HEIGHT", "near_miss", "2 floors pitched, eave 6.9 m, ridge 8.4 m")])
    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


def plant_home_height(sample: Sample) -> Plant:
    """``HOME-HEIGHT`` 超高: attribute heights, and heights known only from the nDSM.

    Violations: two floors pitched with ridge 8.7 m; one floor flat 3.8 m; two floors pitched whose
    heights are missing from the table and whose roof the nDSM draws with eave 7.0 m and ridge 9.6 m
    (a village in ``sample.raster_villages``). Near misses: ridge exactly 8.6 m; flat exactly 3.5 m; a
    nDSM-only two-floor pitched roof with ridge 8.4 m.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_height(build_base(0)).truth)
    ['near_miss', 'near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    raster = s.raster_villages
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []

    def case(vid: str, attrs: dict, expect: str, note: str) -> None:
        pid = s.take_parcel(vid)
        bid, _ = _house(s, pid)
        changes[bid] = {"basement": False, **attrs}
        truth.append(TruthRow("HOME-HEIGHT", "buildings", bid, expect,
                              f"{note}; parcel {pid} ({s.villages[vid]['name']})"))

    def attr(floors: int, roof: str, eave: float, ridge: float) -> dict:
        return {"floors": floors, "roof": roof, "eave_height_m": eave, "ridge_height_m": ridge,
                "_eave_true": eave, "_ridge_true": ridge}

    def ndsm_only(eave: float, ridge: float) -> dict:
        return {"floors": 2, "roof": "pitched", "eave_height_m": np.nan, "ridge_height_m": np.nan,
                "_eave_true": eave, "_ridge_true": ridge}

    case(south[4], attr(2, "pitched", 7.0, 8.7), "violation", "2 floors pitched, ridge 8.7 m > 8.6 m (attribute)")
    case(north[2], attr(2, "pitched", 7.0, 8.6), "near_miss", "2 floors pitched, ridge exactly 8.6 m (attribute)")
    case(north[3], attr(1, "flat", 3.8, np.nan), "violation", "1 floor flat, 3.8 m > 3.5 m (attribute)")
    case(south[2], attr(1, "flat", 3.5, np.nan), "near_miss", "1 floor flat, exactly 3.5 m (attribute)")
    case(raster[0], ndsm_only(7.0, 9.6), "violation", "2 floors pitched, heights missing from the table; the nDSM "
                                                      "shows a 9.6 m ridge (over 8.6 m)")
    case(raster[1], ndsm_only(6.8, 8.4), "near_miss", "2 floors pitched, heights missing from the table; the nDSM "
                                                      "shows an 8.4 m ridge")
    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


def plant_home_merge(sample: Sample) -> Plant:
    """``HOME-MERGE`` 相邻宅基地合建: a house reaching over the shared side into the next parcel.

    Violation: the house's east wall moved 0.5 m past the parcel's east side (about 3–4 m² on the
    neighbour's parcel). Near miss: moved 0.05 m past it (under 1 m²). Both are ``SET-OUTSIDE`` cases too
    (a violation and a near miss), and ``SET-DRIP`` cases the other way round: the 0.05 m sliver that
    SET-OUTSIDE ignores is a side with a negative drip clearance (a violation), the 0.5 m crossing is left
    to SET-OUTSIDE (a near miss). Neither house is a row house (whose shared sides SET-DRIP exempts).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_merge(build_base(0)).truth)
    ['near_miss', 'near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    for vid, over, expect in ((north[4], 0.5, "violation"), (south[0], 0.05, "near_miss")):
        pid = s.take_parcel(vid, east_neighbour=True)
        x0, y0, x1, y1 = _parcel_box(s, pid)
        east = s.parcel_meta.at[pid, "east"]
        bid, geom = _house(s, pid)
        bx0, by0, _, by1 = geom.bounds
        changes[bid] = {"geometry": shapely.box(bx0, by0, x1 + over, by1), "row_house": False}
        area = over * (by1 - by0)
        note = (f"house {bid} of parcel {pid} reaches {over} m into the next parcel {east} ({area:.2f} m²); "
                f"{s.villages[vid]['name']}")
        truth.append(TruthRow("HOME-MERGE", "buildings", bid, expect, note))
        truth.append(TruthRow("SET-OUTSIDE", "buildings", bid, expect, note))
        if expect == "violation":
            truth.append(TruthRow("SET-DRIP", "buildings", bid, "near_miss",
                                  f"{note}: reported by SET-OUTSIDE, not again as a drip case"))
        else:
            truth.append(TruthRow("SET-DRIP", "buildings", bid, "violation",
                                  f"{note}: east side {over} m over the boundary (a sliver SET-OUTSIDE ignores), "
                                  f"drip clearance -{over} m"))
    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


def plant_home_pbf(sample: Sample) -> Plant:
    """``HOME-PBF`` 宅基地占用永久基本农田: new parcels at the settlement's south edge, on an ``edge`` site.

    Violation: a 12 m x 13 m parcel reaching 5 m over the settlement edge onto PBF (60 m²). Near miss:
    one reaching 0.05 m over it (0.6 m² < 1 m²). Neither has a house yet (no farmland building).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_pbf(build_base(0)).truth)
    ['near_miss', 'violation']
    """
    s = sample
    rows: list[dict] = []
    truth: list[TruthRow] = []
    for over, expect in ((5.0, "violation"), (0.05, "near_miss")):
        site = None
        for vid in s.village_ids("north") + s.village_ids("south"):
            try:
                site = s.take_site("edge", village_id=vid, pbf=True)
                break
            except LookupError:
                continue
        if site is None:
            raise LookupError("HOME-PBF plant: no free edge site on PBF")
        x0 = site.geometry.bounds[0] + 20.0
        y0 = site.edge_y - over
        person = s.people.new(born=(1975, 1998))
        pid = f"{site.village_id}JC{90000 + s.next_number('home_pbf_parcel'):05d}"
        rows.append({"parcel_id": pid, "village_id": site.village_id, "owner_name": person.name,
                     "owner_id": person.id18, "household_id": None, "approved_date": "2024-06-03",
                     "approved_area_m2": 156.0, "replaced_by": None, "new_house_completed": None,
                     "geometry": shapely.box(x0, y0, x0 + 12.0, y0 + 13.0)})
        truth.append(TruthRow("HOME-PBF", "parcels", pid, expect,
                              f"new parcel {over} m over the settlement's south edge onto PBF {site.pbf_id} "
                              f"({12.0 * over:.2f} m²); {s.villages[site.village_id]['name']}"))
    return Plant(features={"parcels": frame(rows)}, truth=truth)


def plant_home_rules(sample: Sample) -> Plant:
    """Every homestead rule but the first ``HOME-MULTI`` cases, as one plant (one entry of ``PLANTERS``).

    Runs :func:`plant_home_multi_mixed`, :func:`plant_home_old`, :func:`plant_home_area`,
    :func:`plant_home_cover`, :func:`plant_home_floors`, :func:`plant_home_height`,
    :func:`plant_home_merge` and :func:`plant_home_pbf` in this order (each takes its own parcels).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted({t.rule_id for t in plant_home_rules(build_base(0)).truth})[:3]
    ['HOME-AREA', 'HOME-COVER', 'HOME-FLOORS']
    """
    plants = [f(sample) for f in (plant_home_multi_mixed, plant_home_old, plant_home_area, plant_home_cover,
                                  plant_home_floors, plant_home_height, plant_home_merge, plant_home_pbf)]
    features: dict[str, gpd.GeoDataFrame] = {}
    for plant in plants:
        for layer, rows in plant.features.items():
            features[layer] = rows if layer not in features else gpd.GeoDataFrame(
                pd.concat([features[layer], rows], ignore_index=True), geometry="geometry", crs=rows.crs)
    return Plant(features=features, truth=[t for p in plants for t in p.truth])


def plant_home_roof(sample: Sample) -> Plant:
    """``HOME-ROOF`` 屋顶坡度不符: one-floor pitched houses whose ridge is raised or lowered to a chosen slope.

    The slope is atan((ridge - eave) / (depth / 2)), depth = the footprint's short side; the eave stays, the
    ridge (rounded to 1 cm) is set from the slope, and the note gives the slope those rounded heights make.
    From the attributes (villages without nDSM coverage): violations 24.0° (too flat) and 32.0° (too steep);
    near misses 26.3° and 29.7° (inside 26–30°, by more than the rounding). From the nDSM only (heights
    missing from the table; a village in ``sample.raster_villages``, the roof drawn from the true heights):
    a 21.0° roof is a violation, a 28.0° one a near miss (the nDSM's percentiles measure a plane roof to
    within about 1°). Every ridge stays under the one-floor limit 6.5 m (HOME-HEIGHT).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_roof(build_base(0)).truth)
    ['near_miss', 'near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    from analyses.homestead_form import footprint_depth, roof_slope_deg

    s = sample
    m = s.parcel_meta
    b = s.layers["buildings"].set_index("building_id")
    main = m["main_building"].astype(str)
    one_pitched = ((b.loc[main, "floors"].to_numpy() == 1) & (b.loc[main, "roof"].to_numpy() == "pitched")
                   & np.isfinite(pd.to_numeric(b.loc[main, "_ridge_true"], errors="coerce").to_numpy(dtype=float)))
    in_raster = m["village_id"].isin(s.raster_villages).to_numpy()
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    for slope, ndsm, expect, what in ((24.0, False, "violation", "under 26°"),
                                      (32.0, False, "violation", "over 30°"),
                                      (26.3, False, "near_miss", "just inside 26–30°"),
                                      (29.7, False, "near_miss", "just inside 26–30°"),
                                      (21.0, True, "violation", "under 26°, heights from the nDSM only"),
                                      (28.0, True, "near_miss", "inside 26–30°, heights from the nDSM only")):
        pid = s.take_parcel(among=m.index[one_pitched & (in_raster == ndsm)], side_building=None)
        bid, geom = _house(s, pid)
        depth = float(footprint_depth([geom])[0])
        eave = float(b.at[bid, "_eave_true"])
        ridge = round(eave + float(np.tan(np.radians(slope))) * depth / 2, 2)
        made = float(roof_slope_deg(np.array([eave]), np.array([ridge]), np.array([depth]))[0])
        changes[bid] = {"eave_height_m": np.nan if ndsm else eave, "ridge_height_m": np.nan if ndsm else ridge,
                        "_eave_true": eave, "_ridge_true": ridge}
        source = "no heights in the table, the nDSM shows" if ndsm else "attributes"
        truth.append(TruthRow("HOME-ROOF", "buildings", bid, expect,
                              f"one floor pitched, {depth:.2f} m deep, eave {eave} m, ridge {ridge} m ({source}): "
                              f"slope {made:.2f}° ({what}); parcel {pid} ({_village_name(s, pid)})"))
    return Plant(features={"buildings": updated_rows(s, "buildings", changes)}, truth=truth)


def plant_roof_consequences(sample: Sample) -> Plant:
    """HOME-ROOF cases that follow from the heights other planters chose (e.g. a house planted for HOME-HEIGHT
    with a 9.6 m ridge is also too steep): every pitched roof whose slope from its true eave and ridge over
    its footprint's depth lies outside 26–30° is listed as a violation, unless a planter (``plant_home_roof``)
    already wrote a HOME-ROOF row for it. Draws nothing from ``sample.rng``.

    Examples
    --------
    >>> # plant_roof_consequences(sample).truth[0].rule_id -> 'HOME-ROOF'
    """
    from analyses.homestead_form import footprint_depth, roof_slope_deg

    b = sample.layers["buildings"]
    eave = pd.to_numeric(b["_eave_true"], errors="coerce").to_numpy(dtype=float)
    ridge = pd.to_numeric(b["_ridge_true"], errors="coerce").to_numpy(dtype=float)
    pitched = (b["roof"] == "pitched").to_numpy() & np.isfinite(eave) & np.isfinite(ridge) & (ridge >= eave)
    slope = roof_slope_deg(eave, ridge, footprint_depth(b.geometry.to_numpy()))
    planted = {t.subject_id for t in sample.truth if t.rule_id == "HOME-ROOF"}
    steep = (pitched & ((slope < 26.0 - 0.05) | (slope > 30.0 + 0.05))
             & ~b["building_id"].astype(str).isin(planted).to_numpy())
    truth = [TruthRow("HOME-ROOF", "buildings", str(i), "violation",
                      f"consequence of planted heights: roof slope {s:.1f}° outside 26–30°")
             for i, s in zip(b["building_id"].to_numpy(dtype=object)[steep], slope[steep])]
    return Plant(truth=truth)


# --------------------------------------------------------------------------------------------------
# second edition: approval, village plan, heritage zones, stairwells
# --------------------------------------------------------------------------------------------------
def _approved_parcels(s: Sample) -> list[str]:
    """Base parcels that carry an approved area (and date)."""
    p = s.layers["parcels"]
    return p.loc[pd.to_numeric(p["approved_area_m2"], errors="coerce").notna(), "parcel_id"].astype(str).tolist()


def plant_home_approved(sample: Sample) -> Plant:
    """``HOME-APPROVED`` 未按批准面积使用宅基地: parcels larger than their ``approved_area_m2``.

    The tolerance is max(5 %, 10 m²): 10 m² for every parcel of the sample (all under 200 m²). Violations:
    parcels 10.1 m² (just over), 16.4 m² and 25.0 m² over their approved area. Near misses: exactly
    10 m² over (the tolerance itself) and 9.9 m² over. Only parcels that already carry an approval are
    taken; their ``approved_date`` stays.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_approved(build_base(0)).truth)
    ['near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    approved = _approved_parcels(s)
    changes: dict[str, dict] = {}
    truth: list[TruthRow] = []
    for vid, excess, digits, expect, what in (
            (south[1], 10.1, 2, "violation", "just over the 10 m² tolerance"),
            (north[0], 16.4, 2, "violation", "over the 10 m² tolerance"),
            (south[5], 25.0, 2, "violation", "well over the 10 m² tolerance"),
            (north[3], 10.0, 4, "near_miss", "exactly the 10 m² tolerance"),
            (south[0], 9.9, 2, "near_miss", "under the 10 m² tolerance")):
        pid = s.take_parcel(vid, among=approved)
        area = float(s.row_of("parcels", pid).geometry.area)
        value = round(area - excess, digits)
        changes[pid] = {"approved_area_m2": value}
        truth.append(TruthRow("HOME-APPROVED", "parcels", pid, expect,
                              f"parcel {area:.2f} m², approved {value} m²: {area - value:.2f} m² over ({what}); "
                              f"{_village_name(s, pid)}"))
    return Plant(features={"parcels": updated_rows(s, "parcels", changes)}, truth=truth)


def plant_home_plan(sample: Sample) -> Plant:
    """``HOME-PLAN`` 不符合村庄规划的宅基地: the village plan's construction land cut back, and reduction areas.

    The base plan makes each settlement construction land. Violations: the construction boundary moved
    3 m into a parcel of the settlement's top row (about 35 m² outside) and 4 m into a parcel of its west
    edge (about 50 m²); a 减量腾退区 covering a whole parcel. Near misses: the boundary 0.05 m into a
    top-row parcel and the reduction area 0.05 m into the next parcel east (both under 1 m²). Parcels other
    planters put (partly) outside the settlements (``HOME-PBF``'s) are listed as consequences: a
    violation from 1 m² outside, a near miss below.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_plan(build_base(0)).truth)
    ['near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    m = s.parcel_meta
    top = m.index[(m["row"] == "north") & (m["y1"] == m.groupby("village_id")["y1"].transform("max"))]
    west = m.index[m["x0"] == m.groupby("village_id")["x0"].transform("min")]
    plan = s.layers["village_plan"]
    construction = {vid: plan.loc[plan["name"] == f"{s.villages[vid]['name']}村庄建设用地"].geometry.iloc[0]
                    for vid in s.village_ids()}
    cut: dict[str, list] = {}
    truth: list[TruthRow] = []
    mine: set[str] = set()

    def case(pid: str, expect: str, note: str) -> None:
        mine.add(pid)
        truth.append(TruthRow("HOME-PLAN", "parcels", pid, expect, f"{note}; {_village_name(s, pid)}"))

    for vid, depth, expect in ((north[1], 3.0, "violation"), (south[3], 0.05, "near_miss")):
        pid = s.take_parcel(vid, among=top)
        x0, _, x1, y1 = _parcel_box(s, pid)
        top_y = s.villages[vid]["settlement"].bounds[3]
        cut.setdefault(vid, []).append(shapely.box(x0, y1 - depth, x1, top_y))
        case(pid, expect, f"construction land ends {depth} m inside the parcel's north side "
                          f"({depth * (x1 - x0):.2f} m² outside)")
    vid = south[2]
    pid = s.take_parcel(vid, among=west)
    x0, y0, _, y1 = _parcel_box(s, pid)
    cut.setdefault(vid, []).append(shapely.box(s.villages[vid]["settlement"].bounds[0], y0, x0 + 4.0, y1))
    case(pid, "violation", f"construction land ends 4 m inside the parcel's west side ({4.0 * (y1 - y0):.2f} m² outside)")

    vid = north[4]
    pid = s.take_parcel(vid, east_neighbour=True)
    east = str(m.at[pid, "east"])
    x0, y0, x1, y1 = _parcel_box(s, pid)
    reduction = shapely.box(x0, y0, x1 + 0.05, y1)
    name = f"{s.villages[vid]['name']}减量腾退区"
    case(pid, "violation", f"inside the planned reduction area {name} ({(x1 - x0) * (y1 - y0):.2f} m²)")
    case(east, "near_miss", f"the reduction area {name} reaches 0.05 m into the parcel "
                            f"({0.05 * (y1 - y0):.2f} m²)")

    rows = []
    for vid, pieces in cut.items():
        geom = construction[vid].difference(shapely.union_all(pieces))
        construction[vid] = geom
        rows.append({"name": f"{s.villages[vid]['name']}村庄建设用地", "kind": "construction", "geometry": geom})
    rows.append({"name": name, "kind": "reduction", "geometry": reduction})

    # consequences: parcels other planters put outside the construction land
    p = s.layers["parcels"]
    others = p[~p["parcel_id"].isin(list(mine))]
    outside = shapely.area(shapely.difference(others.geometry.to_numpy(),
                                              shapely.union_all(list(construction.values()))))
    for pid, area in zip(others["parcel_id"].astype(str), outside):
        if area >= 0.05:
            truth.append(TruthRow("HOME-PLAN", "parcels", pid, "violation" if area >= 1.0 else "near_miss",
                                  f"consequence of another planted case: {area:.2f} m² of the parcel outside the "
                                  f"settlement's construction land"))
    return Plant(features={"village_plan": frame(rows)}, truth=truth)


def plant_home_relic(sample: Sample) -> Plant:
    """``HOME-RELIC`` 宅基地涉及文物保护范围: heritage zones (``protected_zones``, kind ``relic``) over parcels.

    Each zone covers (part of) ``north``-row parcels and 5–6 m of the street or margin north of them.
    Violations: a 关帝庙 zone over two neighbouring parcels; a 古戏台 zone over the north half of a parcel.
    Near misses: a parcel wholly in a 古宅 zone with an approval of kind ``relic`` (文物部门审批) covering
    it; a 古井 zone reaching 0.05 m into a parcel (under 1 m²).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_relic(build_base(0)).truth)
    ['near_miss', 'near_miss', 'violation', 'violation', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    m = s.parcel_meta
    zones: list[dict] = []
    approvals: list[dict] = []
    truth: list[TruthRow] = []

    def zone(vid: str, what: str, geom: shapely.Polygon) -> str:
        name = f"{s.villages[vid]['name']}{what}文物保护范围及建设控制地带"
        zones.append({"name": name, "kind": "relic", "geometry": geom})
        return name

    vid = south[4]
    a = s.take_parcel(vid, row="north", east_neighbour=True)
    b = str(m.at[a, "east"])
    x0, y0, _, y1 = _parcel_box(s, a)
    x1 = _parcel_box(s, b)[2]
    name = zone(vid, "关帝庙", shapely.box(x0, y0, x1, y1 + 5.0))
    for pid in (a, b):
        truth.append(TruthRow("HOME-RELIC", "parcels", pid, "violation",
                              f"wholly inside {name}, no relic approval; {_village_name(s, pid)}"))

    vid = north[2]
    pid = s.take_parcel(vid, row="north")
    x0, y0, x1, y1 = _parcel_box(s, pid)
    name = zone(vid, "古戏台", shapely.box(x0, (y0 + y1) / 2, x1, y1 + 5.0))
    truth.append(TruthRow("HOME-RELIC", "parcels", pid, "violation",
                          f"north half ({(x1 - x0) * (y1 - y0) / 2:.2f} m²) inside {name}, no relic approval; "
                          f"{_village_name(s, pid)}"))

    vid = north[5]
    pid = s.take_parcel(vid, row="north")
    x0, y0, x1, y1 = _parcel_box(s, pid)
    name = zone(vid, "古宅", shapely.box(x0, y0, x1, y1 + 5.0))
    approval_id = f"WW2023-{s.next_number('relic_approval'):04d}"
    approvals.append({"approval_id": approval_id, "kind": "relic", "approved_area_m2": round((x1 - x0) * (y1 - y0), 1),
                      "valid_until": None, "geometry": shapely.box(x0, y0, x1, y1)})
    truth.append(TruthRow("HOME-RELIC", "parcels", pid, "near_miss",
                          f"wholly inside {name}, covered by the heritage department's approval {approval_id} "
                          f"(kind relic); {_village_name(s, pid)}"))

    vid = south[1]
    pid = s.take_parcel(vid, row="north")
    x0, _, x1, y1 = _parcel_box(s, pid)
    name = zone(vid, "古井", shapely.box(x0, y1 - 0.05, x1, y1 + 6.0))
    truth.append(TruthRow("HOME-RELIC", "parcels", pid, "near_miss",
                          f"{name} reaches 0.05 m into the parcel ({0.05 * (x1 - x0):.2f} m² < 1 m²); "
                          f"{_village_name(s, pid)}"))
    return Plant(features={"protected_zones": frame(zones), "approvals": frame(approvals)}, truth=truth)


def plant_home_stair(sample: Sample) -> Plant:
    """``HOME-STAIR`` 楼梯间超标 / 局部三层: roof stairwells of two-floor flat-roofed houses.

    From the attributes: violations 9.5 m² and 2.6 m (too large); 5.6 m² and 3.0 m (too tall); 6.3 m² and
    2.8 m (both just over); near misses exactly 6.0 m² and 2.7 m; 5.2 m² and 2.65 m. These houses are taken
    from villages without nDSM coverage and keep their heights (the attributes decide).

    From the nDSM only (no stair attributes; a village in ``sample.raster_villages``): a 3.5 m × 3.0 m
    (10.5 m²) stairwell 2.6 m above the roof is 局部三层; a 2 m × 2 m (4 m²) one 2.4 m above it is a near
    miss. Both stand above the two-floor flat limit + margin (7.2 + 0.3 m) and are drawn by
    :func:`landguard.sample.rasters.write_rasters` from the private columns ``_stair_w_m``, ``_stair_d_m``
    (the box, centred on the footprint, snapped to the nDSM's 0.5 m grid) and ``_stair_top_m`` (its top
    above ground). The houses keep their roof height in ``eave_height_m``, so HOME-HEIGHT reads the
    attribute and the stairwell does not make the house too high.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted(t.expect for t in plant_home_stair(build_base(0)).truth)
    ['near_miss', 'near_miss', 'near_miss', 'violation', 'violation', 'violation', 'violation']
    """
    s = sample
    m = s.parcel_meta
    b = s.layers["buildings"].set_index("building_id")
    main = m["main_building"].astype(str)
    flat2 = ((b.loc[main, "floors"].to_numpy() == 2) & (b.loc[main, "roof"].to_numpy() == "flat")
             & ~m["village_id"].isin(s.raster_villages).to_numpy())
    candidates = m.index[flat2]
    vids = [v for v in s.village_ids() if v not in s.raster_villages]
    stairs: dict[str, tuple[float, float]] = {}
    truth: list[TruthRow] = []
    for k, (area, height, expect, what) in enumerate((
            (9.5, 2.6, "violation", "area over 6 m²"), (5.6, 3.0, "violation", "storey over 2.7 m"),
            (6.3, 2.8, "violation", "area and storey just over"), (6.0, 2.7, "near_miss", "exactly at both limits"),
            (5.2, 2.65, "near_miss", "under both limits"))):
        vid = vids[(3 * k + 1) % len(vids)]
        pid = s.take_parcel(vid, among=candidates, side_building=None)
        bid, _ = _house(s, pid)
        stairs[bid] = (area, height)
        truth.append(TruthRow("HOME-STAIR", "buildings", bid, expect,
                              f"two floors, flat roof, stairwell {area} m² and {height} m ({what}); parcel {pid} "
                              f"({_village_name(s, pid)})"))
    # from the nDSM only: two-floor flat roofs in the villages the nDSM covers
    in_raster = ((b.loc[main, "floors"].to_numpy() == 2) & (b.loc[main, "roof"].to_numpy() == "flat")
                 & m["village_id"].isin(s.raster_villages).to_numpy())
    changes: dict[str, dict] = {bid: {} for bid in stairs}
    boxes: dict[str, tuple[float, float, float]] = {}
    for w, d, rise, expect, what in ((3.5, 3.0, 2.6, "violation", "10.5 m² over 6 m²: 局部三层"),
                                     (2.0, 2.0, 2.4, "near_miss", "4 m² and 2.4 m: within both limits")):
        pid = s.take_parcel(among=m.index[in_raster], side_building=None)
        bid, _ = _house(s, pid)
        roof = float(b.at[bid, "_eave_true"])
        changes[bid] = {"eave_height_m": roof, "_eave_true": roof}
        boxes[bid] = (w, d, roof + rise)
        truth.append(TruthRow("HOME-STAIR", "buildings", bid, expect,
                              f"two floors, flat roof {roof:.1f} m, no stair attributes; the nDSM shows a "
                              f"{w} m × {d} m stairwell {rise} m above the roof ({what}); parcel {pid} "
                              f"({_village_name(s, pid)})"))
    rows = updated_rows(s, "buildings", changes)
    rows["stair_area_m2"] = rows["building_id"].map({i: a for i, (a, _) in stairs.items()}).astype(float)
    rows["stair_height_m"] = rows["building_id"].map({i: h for i, (_, h) in stairs.items()}).astype(float)
    for k, col in enumerate(("_stair_w_m", "_stair_d_m", "_stair_top_m")):
        rows[col] = rows["building_id"].map({i: v[k] for i, v in boxes.items()}).astype(float)
    return Plant(features={"buildings": rows}, truth=truth)


def plant_home_second(sample: Sample) -> Plant:
    """The second edition's homestead cases as one plant (one entry of ``PLANTERS``, before the roof consequences).

    Runs :func:`plant_home_approved`, :func:`plant_home_plan`, :func:`plant_home_relic` and
    :func:`plant_home_stair` in this order (each takes its own parcels).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> sorted({t.rule_id for t in plant_home_second(build_base(0)).truth})
    ['HOME-APPROVED', 'HOME-PLAN', 'HOME-RELIC', 'HOME-STAIR']
    """
    plants = [f(sample) for f in (plant_home_approved, plant_home_plan, plant_home_relic, plant_home_stair)]
    features: dict[str, gpd.GeoDataFrame] = {}
    for plant in plants:
        for layer, rows in plant.features.items():
            features[layer] = rows if layer not in features else gpd.GeoDataFrame(
                pd.concat([features[layer], rows], ignore_index=True), geometry="geometry", crs=rows.crs)
    return Plant(features=features, truth=[t for p in plants for t in p.truth])
