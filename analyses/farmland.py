"""Family ``farmland`` — 耕地“非农化” (PG-NF 四, MY-6 三).

Farmland (耕地) is the baseline survey's ``0101``/``0102``/``0103`` patches when a baseline is given, else the
current survey's, together with every permanent basic farmland (PBF) polygon. Huge polygons (PBF blocks)
are subdivided before any overlay.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import District
from layers.landuse import is_farmland
from spatial.overlay import intersection_by_left, prepare_cover

from ._common import fmt_area, partial, status_from_year
from .registry import implements

__all__ = ["farmland_cover", "pbf_cover", "approved_cover", "farm_build"]


def _survey(district: District):
    return district.get("landuse_baseline") if "landuse_baseline" in district else district["landuse"]


def farmland_cover(district: District) -> np.ndarray:
    """Subdivided pieces whose union is the district's farmland (baseline 耕地 ∪ PBF).

    Examples
    --------
    >>> # pieces = farmland_cover(district); the union of pieces is all farmland
    """
    if "farmland_cover" not in district.cache:
        lu = _survey(district)
        geoms = [lu.geometry.to_numpy()[is_farmland(lu["dlbm"])]]
        if "pbf" in district:
            geoms.append(district["pbf"].geometry.to_numpy())
        district.cache["farmland_cover"] = prepare_cover(np.concatenate(geoms))
    return district.cache["farmland_cover"]


def pbf_cover(district: District) -> np.ndarray:
    """Subdivided pieces whose union is the permanent basic farmland (empty without a ``pbf`` layer)."""
    if "pbf_cover" not in district.cache:
        pbf = district.get("pbf")
        district.cache["pbf_cover"] = (prepare_cover(pbf.geometry.to_numpy()) if pbf is not None
                                       else np.empty(0, dtype=object))
    return district.cache["pbf_cover"]


def approved_cover(district: District) -> np.ndarray:
    """Pieces whose union is land under a valid approval: ``construction``, ``homestead``, or a
    ``temporary`` approval whose ``valid_until`` is on or after the run date."""
    if "approved_cover" not in district.cache:
        ap = district.get("approvals")
        if ap is None or ap.empty:
            district.cache["approved_cover"] = np.empty(0, dtype=object)
        else:
            kind = ap["kind"].astype(object).str.lower()
            until = pd.to_datetime(ap["valid_until"], errors="coerce")
            valid = kind.isin(["construction", "homestead"]) | (
                (kind == "temporary") & (until >= pd.Timestamp(district.as_of)))
            district.cache["approved_cover"] = prepare_cover(ap.geometry.to_numpy()[valid.to_numpy()])
    return district.cache["approved_cover"]


def _minus_cover(geoms: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Each geometry minus the union of ``cover`` (vectorised on the pairs that meet)."""
    out = np.asarray(geoms, dtype=object).copy()
    if len(cover) == 0 or len(out) == 0:
        return out
    idx, covered = intersection_by_left(out, cover)
    if len(idx):
        out[idx] = shapely.difference(out[idx], covered)
    return out


@implements("FARM-BUILD")
def farm_build(district: District, limits) -> gpd.GeoDataFrame:
    """乱占耕地建房: the part of each building on farmland not covered by a valid approval.

    One finding per building with the overlap as geometry; severity ``high`` when part of it is PBF,
    ``medium`` elsewhere; ``status`` from ``built_year`` against the 2020-09-10 cut-off.

    Examples
    --------
    >>> # farm_build(district, district.limits) -> partial findings, one row per building
    """
    b = district["buildings"]
    idx, on_farm = intersection_by_left(b.geometry.to_numpy(), farmland_cover(district))
    unapproved = _minus_cover(on_farm, approved_cover(district))
    area = shapely.area(unapproved)
    rows = b.iloc[idx]
    keep = area >= np.maximum(district.limit("min_overlap_m2", rows["village_id"]), 1e-9)
    rows, geom, area = rows[keep], unapproved[keep], area[keep]
    pidx, on_pbf = intersection_by_left(geom, pbf_cover(district))
    pbf_area = np.zeros(len(geom))
    pbf_area[pidx] = shapely.area(on_pbf)
    on_pbf_flag = pbf_area >= np.maximum(district.limit("min_overlap_m2", rows["village_id"]), 1e-9)
    what = np.where(on_pbf_flag, "永久基本农田", "耕地")
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}未经批准占用{w}{a}，违反{{basis}}，应予制止并整改。"
               for i, w, a in zip(ids, what, fmt_area(area))]
    return partial(
        district.crs, geom,
        subject_layer="buildings", subject_id=ids, village_id=rows["village_id"].to_numpy(dtype=object),
        severity=np.where(on_pbf_flag, "high", "medium"), measured=area, limit=0.0, unit="m²",
        area_m2=area, status=status_from_year(rows["built_year"], limits.farmland_cutoff), message=message,
    )
