"""Builders for tiny hand-made districts in EPSG:4548 (metres, near Pinggu: x≈508000, y≈4443000).

Every geometry is given in local metres and shifted to the origin below, so tests read like drawings:
``square(0, 0, 10)`` is a 10 m square at the origin.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import shapely
from shapely import affinity

from layers.config import ProjectConfig
from layers.district import District, make_district

CRS = "EPSG:4548"
X0, Y0 = 508000.0, 4443000.0


def at(geom):
    """Move a geometry drawn in local metres to the test origin."""
    return affinity.translate(geom, X0, Y0)


def square(x: float, y: float, size: float, height: float | None = None):
    """An axis-aligned rectangle with its lower-left corner at (x, y), in local metres."""
    return at(shapely.box(x, y, x + size, y + (size if height is None else height)))


def frame(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    """A GeoDataFrame from dicts with a ``geometry`` key."""
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def district(*, villages=None, landuse=None, as_of=dt.date(2026, 11, 22), config: ProjectConfig | None = None,
             **frames) -> District:
    """A District with one 1 km village and one rural-homestead land-use patch unless given."""
    big = square(-500, -500, 1000)
    villages = villages if villages is not None else frame(
        [{"village_id": "110117104201", "name": "测试村", "township": "金海湖镇", "geometry": big}])
    landuse = landuse if landuse is not None else frame([{"dlbm": "0702", "tbbh": "1", "geometry": big}])
    frames.setdefault("parcels", frame([{"parcel_id": "P0", "geometry": square(400, 400, 10)}]))
    frames.setdefault("buildings", frame([{"building_id": "B0", "geometry": square(401, 401, 8)}]))
    return make_district({"villages": villages, "landuse": landuse, **frames}, as_of=as_of, config=config)
