"""Planted cases of the ``homestead`` family (宅基地).

How to add a planter for another rule of this family (e.g. ``HOME-HEIGHT``): write one function
``plant_<rule>(sample) -> Plant`` here that reserves base parcels with ``sample.take_parcel(...)``
(``sample.parcel_meta`` gives each parcel's bounds, block row, neighbours and buildings), returns the
changed/new ``parcels``/``buildings`` rows in ``Plant.features`` (use
:func:`layers.sample.model.updated_rows` to change a few attributes of existing rows and
:func:`layers.sample.model.building_rows` for new buildings) and one :class:`TruthRow` per case, then
add it to ``PLANTERS`` in :mod:`layers.sample.generate`. Buildings of the villages in
``sample.raster_villages`` are drawn in the nDSM: plant height cases there when the table's heights
are missing (set ``eave_height_m``/``ridge_height_m`` to NaN and ``_eave_true``/``_ridge_true`` to
the heights the nDSM should show).
"""

from __future__ import annotations

import datetime as dt

from .model import AS_OF, Plant, Sample, TruthRow, updated_rows
from .people import to_15_digits, to_fullwidth, with_wrong_check_digit

__all__ = ["plant_home_multi"]


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
    >>> from layers.sample.base import build_base
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
