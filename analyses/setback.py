"""Family ``setback`` — 相邻权益与退让 (京平政发〔2021〕4号 附件2 二、五)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import District
from spatial.overlay import candidate_pairs

from ._common import fmt_area, partial
from .registry import implements

__all__ = ["own_parcels", "set_outside"]


def own_parcels(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> np.ndarray:
    """Row of ``parcels`` that is each building's own parcel (largest overlap), -1 when none overlaps.

    Examples
    --------
    >>> b = gpd.GeoDataFrame(geometry=[shapely.box(1, 1, 9, 5)], crs=4548)
    >>> p = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 4), shapely.box(0, 4, 10, 10)], crs=4548)
    >>> own_parcels(b, p).tolist()
    [0]
    """
    bg, pg = buildings.geometry.to_numpy(), parcels.geometry.to_numpy()
    li, ri = candidate_pairs(bg, pg)
    out = np.full(len(bg), -1, dtype=np.intp)
    if len(li) == 0:
        return out
    area = shapely.area(shapely.intersection(bg[li], pg[ri]))
    frame = pd.DataFrame({"b": li, "p": ri, "a": area})
    frame = frame[frame["a"] > 0].sort_values(["b", "a", "p"], ascending=[True, False, True]).drop_duplicates("b")
    out[frame["b"].to_numpy()] = frame["p"].to_numpy()
    return out


def _max_distance(parts: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Largest distance from any vertex of each part to its target geometry."""
    coords, index = shapely.get_coordinates(parts, return_index=True)
    d = shapely.distance(shapely.points(coords), targets[index])
    out = np.zeros(len(parts))
    np.maximum.at(out, index, d)
    return out


@implements("SET-OUTSIDE")
def set_outside(district: District, limits) -> gpd.GeoDataFrame:
    """超出宅基地范围: the part of each building footprint outside its own parcel.

    The own parcel is the one with the largest overlap; buildings touching no parcel are not subjects of
    this rule. Parts under the minimum area are digitising noise. ``measured`` is the strip's largest
    width (the farthest point of the outside part from the parcel).

    Examples
    --------
    >>> # set_outside(district, district.limits)
    """
    b, p = district["buildings"], district["parcels"]
    own = own_parcels(b, p)
    has = own >= 0
    bg = b.geometry.to_numpy()[has]
    pg = p.geometry.to_numpy()[own[has]]
    outside = shapely.difference(bg, pg)
    area = shapely.area(outside)
    rows = b[has]
    keep = (area > 0) & (area >= district.limit("min_overlap_m2", rows["village_id"]))
    rows, outside, area, pg = rows[keep], outside[keep], area[keep], pg[keep]
    parcel_ids = p["parcel_id"].to_numpy(dtype=object)[own[has][keep]]
    width = _max_distance(outside, pg)
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}超出宅基地{q}范围{a}，最宽处{w:.2f}米，违反{{basis}}“房屋四至不得超出宅基地使用权属范围”。"
               for i, q, a, w in zip(ids, parcel_ids, fmt_area(area), width)]
    return partial(
        district.crs, outside,
        subject_layer="buildings", subject_id=ids, related_ids=parcel_ids,
        village_id=rows["village_id"].to_numpy(dtype=object), severity="medium",
        measured=np.round(width, 3), limit=0.0, unit="m", area_m2=area, message=message,
    )
