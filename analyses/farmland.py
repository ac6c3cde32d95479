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

with the shared covers in :mod:`analyses.farmland_base` (registered intermediates). A rule that builds on
others declares them (``uses=``) and receives their findings from the runner.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ._common import fmt_area, partial, status_from_year
from .farmland_base import (
    approved_cover, buildings_on_farmland, cover_area, facility_cover, farmland_cover, land_name,
    min_area, minus_cover, pbf_cover, polygonal,
)
from .context import Context
from .registry import implements

__all__ = ["farmland_cover", "pbf_cover", "approved_cover", "farm_build"]


@implements("FARM-BUILD", uses=("buildings_on_farmland", "facility", "approved_cover", "facility_cover", "pbf_cover"),
            limits=("farmland_cutoff",))
def farm_build(ctx: Context) -> gpd.GeoDataFrame:
    """乱占耕地建房: the part of each building on farmland not covered by a valid approval.

    One finding per building with the overlap as geometry (its parts on several farmland patches
    dissolved); severity ``high`` when part of it is PBF, ``medium`` elsewhere; ``status`` from
    ``built_year`` against the cut-off (``farmland_cutoff``). Valid approvals: ``construction``, ``homestead``,
    unexpired ``temporary``, and ``facility_agri`` (a farm building on approved 设施农用地); a building
    that ``FARM-FACILITY`` reports (residential or commercial use on 设施农用地) is that rule's case only.

    Examples
    --------
    >>> # farm_build(ctx) -> partial findings, one row per building
    """
    b = ctx["buildings"]
    idx, on_farm = ctx.used("buildings_on_farmland")
    # a building reported as 大棚房 (FARM-FACILITY) is that rule's case, not also this one's
    keep = ~np.isin(idx, ctx.used("facility")["rows"])
    idx, on_farm = idx[keep], on_farm[keep]
    covers = [c for c in (ctx.used("approved_cover"), ctx.used("facility_cover")) if len(c)]
    unapproved = polygonal(minus_cover(on_farm, np.concatenate(covers) if covers else covers))
    area = shapely.area(unapproved)
    rows = b.iloc[idx]
    keep = area >= min_area(ctx, rows["village_id"])
    rows, geom, area = rows[keep], unapproved[keep], area[keep]
    on_pbf = cover_area(geom, ctx.used("pbf_cover")) >= min_area(ctx, rows["village_id"])
    ids = rows["building_id"].to_numpy(dtype=object)
    message = [f"房屋{i}未经批准占用{w}{a}，违反{{basis}}，应予制止并整改。"
               for i, w, a in zip(ids, land_name(on_pbf), fmt_area(area))]
    out = partial(
        ctx.crs, geom,
        subject_layer="buildings", subject_id=ids, village_id=rows["village_id"].to_numpy(dtype=object),
        severity=np.where(on_pbf, "high", "medium"), measured=area, limit=0.0, unit="m²",
        area_m2=area, status=status_from_year(rows["built_year"], ctx.limit("farmland_cutoff", rows["village_id"])),
        message=message,
    )
    return out


# register the other rules of the family
from . import farmland_approvals, farmland_cases, farmland_conversion, farmland_patches, farmland_planning  # noqa: E402,F401,I001
