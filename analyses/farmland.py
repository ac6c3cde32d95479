"""Family ``farmland`` — 耕地“非农化” (PG-NF 四, MY-6 三).

Farmland (耕地) is the baseline survey's ``0101``/``0102``/``0103`` patches when a baseline is given, else the
current survey's, together with every permanent basic farmland (PBF) polygon. Huge polygons (PBF blocks,
the eco red line) are subdivided before any overlay.

The rules live in this module (``FARM-BUILD``) and in:

* :mod:`analyses.farmland_conversion` — land-use conversion: ``FARM-NONAGRI``, ``FARM-GREEN``,
  ``FARM-CORRIDOR``, ``FARM-LAKE``, ``FARM-NONGRAIN``;
* :mod:`analyses.farmland_approvals` — approvals: ``FARM-FACILITY``, ``FARM-UNAPPROVED``, ``FARM-OVERUSE``,
  ``FARM-MISPLACED``, ``FARM-TEMPEXPIRED``;
* :mod:`analyses.farmland_planning` — protected areas: ``FARM-RESERVE``, ``FARM-REDLINE``;
* :mod:`analyses.farmland_cases` — ``FARM-CRIMINAL`` and ``FARM-RS`` (satellite change patches);

with the shared covers in :mod:`analyses.farmland_base`. Every rule's result is computed once per run
and cached in ``district.cache``, so rules that build on others never depend on the run order.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from layers.district import District

from ._common import fmt_area, partial, status_from_year
from .farmland_approvals import facility_rows
from .farmland_base import (
    approved_cover, buildings_on_farmland, cached, cover_area, facility_cover, farmland_cover, land_name,
    min_area, minus_cover, pbf_cover, polygonal,
)
from .registry import implements

__all__ = ["farmland_cover", "pbf_cover", "approved_cover", "farm_build"]


def _minus_cover(geoms: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Each geometry minus the union of ``cover`` (kept for callers of the first version)."""
    return minus_cover(geoms, cover)


def _farm_build(district: District, limits) -> gpd.GeoDataFrame:
    b = district["buildings"]
    idx, on_farm = buildings_on_farmland(district)
    # a building reported as 大棚房 (FARM-FACILITY) is that rule's case, not also this one's
    keep = ~np.isin(idx, facility_rows(district))
    idx, on_farm = idx[keep], on_farm[keep]
    covers = [c for c in (approved_cover(district), facility_cover(district)) if len(c)]
    unapproved = polygonal(minus_cover(on_farm, np.concatenate(covers) if covers else covers))
    area = shapely.area(unapproved)
    rows = b.iloc[idx]
    keep = area >= min_area(district, rows["village_id"])
    rows, geom, area = rows[keep], unapproved[keep], area[keep]
    on_pbf = cover_area(geom, pbf_cover(district)) >= min_area(district, rows["village_id"])
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}未经批准占用{w}{a}，违反{{basis}}，应予制止并整改。"
               for i, w, a in zip(ids, land_name(on_pbf), fmt_area(area))]
    out = partial(
        district.crs, geom,
        subject_layer="buildings", subject_id=ids, village_id=rows["village_id"].to_numpy(dtype=object),
        severity=np.where(on_pbf, "high", "medium"), measured=area, limit=0.0, unit="m²",
        area_m2=area, status=status_from_year(rows["built_year"], limits.farmland_cutoff), message=message,
    )
    out["_owner"] = rows["owner_id"].to_numpy(dtype=object)
    return out


@implements("FARM-BUILD")
def farm_build(district: District, limits) -> gpd.GeoDataFrame:
    """乱占耕地建房: the part of each building on farmland not covered by a valid approval.

    One finding per building with the overlap as geometry (its parts on several farmland patches
    dissolved); severity ``high`` when part of it is PBF, ``medium`` elsewhere; ``status`` from
    ``built_year`` against the 2020-09-10 cut-off. Valid approvals: ``construction``, ``homestead``,
    unexpired ``temporary``, and ``facility_agri`` (a farm building on approved 设施农用地); a building
    that ``FARM-FACILITY`` reports (residential or commercial use on 设施农用地) is that rule's case only.

    Examples
    --------
    >>> # farm_build(district, district.limits) -> partial findings, one row per building
    """
    return cached(district, ("FARM-BUILD", id(limits)), lambda: _farm_build(district, limits)).copy()


# register the other rules of the family
from . import farmland_approvals, farmland_cases, farmland_conversion, farmland_planning  # noqa: E402,F401
