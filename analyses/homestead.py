"""Family ``homestead`` — 宅基地 (京平政发〔2021〕4号)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.district import District
from layers.idnumbers import normalise_ids

from ._common import partial
from .registry import implements

__all__ = ["household_keys", "home_multi"]


def household_keys(parcels: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Who is a household, per parcel.

    ``household_id`` when present; else the owner's normalised ID number when its GB 11643 check digit is
    right; else the owner's name within one village (lower confidence). Invalid ID numbers never match.

    Returns
    -------
    key : pandas.Series of str or None
        ``H:<household_id>``, ``I:<id number>`` or ``N:<village_id>:<name>``.
    basis : pandas.Series of str
        ``household``, ``id`` or ``name`` — how the key was made.

    Examples
    --------
    >>> p = pd.DataFrame({"household_id": [None, None, "H9"], "owner_id": ["110105491231002", None, None],
    ...                   "owner_name": ["张三", "李四", "王五"], "village_id": ["V1", "V1", "V2"]})
    >>> household_keys(p)[0].tolist()
    ['I:11010519491231002X', 'N:V1:李四', 'H:H9']
    """
    hh = parcels["household_id"].astype(object)
    ids, valid = normalise_ids(parcels["owner_id"])
    name = parcels["owner_name"].astype(object).str.replace(r"\s+", "", regex=True)
    has_hh = hh.notna().to_numpy()
    has_id = valid.to_numpy() & ~has_hh
    has_name = name.notna().to_numpy() & (name != "").to_numpy() & ~has_hh & ~has_id
    key = np.full(len(parcels), None, dtype=object)
    how = np.full(len(parcels), None, dtype=object)
    key[has_hh] = "H:" + hh[has_hh].astype(str)
    how[has_hh] = "household"
    key[has_id] = "I:" + ids[has_id].astype(str)
    how[has_id] = "id"
    key[has_name] = "N:" + parcels["village_id"].astype(str).to_numpy()[has_name] + ":" + name[has_name].astype(str)
    how[has_name] = "name"
    return pd.Series(key, index=parcels.index, dtype=object), pd.Series(how, index=parcels.index, dtype=object)


@implements("HOME-MULTI")
def home_multi(district: District, limits) -> gpd.GeoDataFrame:
    """一户多宅: one finding per household holding more than one homestead parcel, district-wide.

    Parcels being replaced (``replaced_by`` set: the old site of an approved relocation) are not counted;
    once their deadline passes they are ``HOME-OLD``'s business. Subject = the household's smallest
    ``parcel_id``; ``related_ids`` = all its parcels; geometry = their union.

    Examples
    --------
    >>> # home_multi(district, district.limits)
    """
    p = district["parcels"]
    p = p[p["replaced_by"].isna().to_numpy()]
    key, how = household_keys(p)
    p = p.assign(_key=key.to_numpy(), _how=how.to_numpy())
    p = p[p["_key"].notna().to_numpy()]
    counts = p.groupby("_key")["parcel_id"].transform("size")
    multi = p[(counts > 1).to_numpy()]
    if multi.empty:
        return partial(district.crs, [], subject_layer=[], subject_id=[])
    multi = multi.sort_values(["_key", "parcel_id"])
    grouped = multi.dissolve(by="_key", aggfunc={"parcel_id": list, "village_id": "first", "_how": "first"})
    ids = grouped["parcel_id"].map(lambda xs: sorted(str(x) for x in xs))
    n = ids.map(len).to_numpy()
    how = grouped["_how"].to_numpy(dtype=object)
    subject = ids.map(lambda xs: xs[0]).to_numpy(dtype=object)
    first_village = multi.set_index("parcel_id")["village_id"]
    first_village = first_village[~first_village.index.duplicated()]
    label = {"household": "同一户编号", "id": "同一证件号码", "name": "同一行政村内同名权利人"}
    message = [
        f"{label[h]}名下有{k}处宅基地（{'、'.join(xs)}），违反“一户只能拥有一处宅基地”规定（{{basis}}）"
        + ("；按姓名匹配，置信度较低，请核实。" if h == "name" else "。")
        for h, k, xs in zip(how, n, ids)
    ]
    return partial(
        district.crs, grouped.geometry.to_numpy(),
        subject_layer="parcels", subject_id=subject, related_ids=ids.map(";".join).to_numpy(dtype=object),
        village_id=first_village.reindex(subject).to_numpy(dtype=object),
        severity=np.where(how == "name", "low", "medium"), measured=n.astype(float), limit=1.0, unit="宅",
        area_m2=grouped.geometry.area.to_numpy(), message=message,
    )
