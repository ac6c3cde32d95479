"""Planted cases of the ``farmland`` family (耕地“非农化”).

How to add a planter for another rule of this family (e.g. ``FARM-NONAGRI``): write one function
``plant_<rule>(sample) -> Plant`` here that

1. reserves what it builds on with ``sample.take_site("field" | "edge", village_id=..., pbf=...)`` or
   ``sample.take_parcel(...)`` (never hard-coded coordinates: two planters never share a site);
2. returns new or changed rows in ``Plant.features`` (EPSG:4548, canonical columns; a row whose id
   already exists replaces the base row, e.g. a current ``landuse`` row with the site's ``tbbh`` and a
   new ``dlbm`` turns the site into a construction patch in the current survey only);
3. returns one :class:`TruthRow` per planted case (``violation`` or ``near_miss``, subject = the
   feature the rule reports) and any raster change in ``Plant.landcover_changes``;

then add it to ``PLANTERS`` in :mod:`layers.sample.generate`. Keep its cases clean for every other
rule where the case allows (see :mod:`layers.sample.base` for what the base keeps clean).
"""

from __future__ import annotations

import shapely

from .model import AS_OF, LandcoverChange, Plant, Sample, TruthRow, building_rows, frame

__all__ = ["plant_farm_build", "plant_landcover_changes"]


def _offset_box(x0: float, y0: float, dx0: float, dy0: float, dx1: float, dy1: float) -> shapely.Polygon:
    """The box (x0 + dx0, y0 + dy0, x0 + dx1, y0 + dy1), corners rounded to the centimetre."""
    return shapely.box(round(x0 + dx0, 2), round(y0 + dy0, 2), round(x0 + dx1, 2), round(y0 + dy1, 2))


def plant_farm_build(sample: Sample) -> Plant:
    """``FARM-BUILD`` 乱占耕地建房: houses on farmland without a valid approval, and near misses.

    Violations: two houses on PBF (severity high), two on farmland outside PBF (medium), two houses
    straddling the settlement's edge with 4 m (non-PBF) and 6 m (PBF) of their depth on farmland.
    Near misses: a workshop on farmland inside a construction approval, a site office inside an
    unexpired temporary approval (valid until 2027-06-30, after ``as_of``), and a house with a 0.05 m x
    10 m (0.5 m²) sliver on farmland. None of these buildings has a parcel.

    Examples
    --------
    >>> from layers.sample.base import build_base
    >>> plant = plant_farm_build(build_base(0))
    >>> sorted({t.expect for t in plant.truth})
    ['near_miss', 'violation']
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    people = s.people
    items, truth, approvals = [], [], []

    def house(site_village: str, kind: str, pbf: bool, place, note: str, expect: str = "violation", **attrs):
        site = s.take_site(kind, village_id=site_village, pbf=pbf)
        x0, y0 = site.geometry.bounds[:2]
        geom = place(site, x0, y0)
        owner = people.new(born=(1950, 1990))
        attrs.setdefault("owner_id", owner.id18)
        bid = s.new_building_id()
        items.append((geom, dict(attrs, building_id=bid)))
        truth.append(TruthRow("FARM-BUILD", "buildings", bid, expect,
                              f"{note} ({s.villages[site_village]['name']}, {site.dlbm}, "
                              f"{'PBF' if site.on_pbf else 'not PBF'})"))
        return bid, geom

    def field_house(site, x0, y0):
        return _offset_box(x0, y0, 29, 26, 41, 35)  # 12 m x 9 m in the middle of the site

    house(south[0], "field", True, field_house, "108 m² house on PBF, no approval: severity high", built_year=2021)
    house(north[3], "field", True, field_house, "108 m² house on PBF, no approval: severity high",
          floors=2, eave_height_m=6.4, ridge_height_m=8.1, built_year=2023)
    house(south[4], "field", False, field_house, "108 m² house on farmland, no approval: severity medium",
          roof="flat", eave_height_m=3.3, ridge_height_m=None, built_year=2022)
    house(north[5], "field", False, field_house, "108 m² house on farmland, no approval: severity medium",
          built_year=2024)
    house(south[1], "edge", False, lambda site, x0, y0: _offset_box(x0, site.edge_y, 30, -4, 40, 6),
          "10 m x 10 m house across the settlement edge, 40 m² of it on farmland: overlap 40 m², medium",
          built_year=2021)
    house(north[2], "edge", True, lambda site, x0, y0: _offset_box(x0, site.edge_y, 30, -6, 40, 4),
          "10 m x 10 m house across the settlement edge, 60 m² of it on PBF: overlap 60 m², high",
          built_year=2022)

    # near misses -----------------------------------------------------------------------------------
    def approved(site_village: str, place, pad: tuple[float, float, float, float], kind: str, approval_id: str,
                 note: str, valid_until: str | None = None, **attrs):
        site = s.take_site("field", village_id=site_village, pbf=False)
        x0, y0 = site.geometry.bounds[:2]
        geom = place(site, x0, y0)
        bx0, by0, bx1, by1 = geom.bounds
        approval = _offset_box(bx0, by0, -pad[0], -pad[1], (bx1 - bx0) + pad[2], (by1 - by0) + pad[3])
        approvals.append({"approval_id": approval_id, "kind": kind, "approved_area_m2": round(approval.area, 1),
                          "valid_until": valid_until, "geometry": approval})
        bid = s.new_building_id()
        items.append((geom, dict(attrs, building_id=bid, approval_id=approval_id)))
        truth.append(TruthRow("FARM-BUILD", "buildings", bid, "near_miss",
                              f"{note} ({s.villages[site_village]['name']}, {site.dlbm}, not PBF)"))

    approved(south[2], lambda site, x0, y0: _offset_box(x0, y0, 25, 20, 45, 35), (3, 3, 3, 3), "construction",
             "JS2023-0105", "300 m² workshop on farmland, wholly inside construction approval JS2023-0105",
             roof="flat", eave_height_m=3.4, ridge_height_m=None, use="industrial", built_year=2023)
    approved(north[1], lambda site, x0, y0: _offset_box(x0, y0, 20, 20, 35, 26), (10, 10, 15, 14), "temporary",
             "LS2026-0032",
             f"site office on farmland inside temporary approval LS2026-0032 valid until 2027-06-30 (as_of {AS_OF})",
             valid_until="2027-06-30", roof="flat", eave_height_m=2.9, ridge_height_m=None, use="temporary",
             built_year=2026)
    house(south[5], "edge", False, lambda site, x0, y0: _offset_box(x0, site.edge_y, 30, -0.05, 40, 7.95),
          "house with a 0.05 m x 10 m sliver (0.5 m² < 1 m²) on farmland", expect="near_miss", built_year=2020)

    return Plant(features={"buildings": building_rows(s, items), "approvals": frame(approvals)}, truth=truth)


def plant_landcover_changes(sample: Sample) -> Plant:
    """Remote-sensing change patches burnt into ``landcover_after`` only (for ``FARM-RS``; no truth rows).

    Cropland in 2019 turned forest (on PBF and off it), water (on PBF) and hardened built-up ground, and
    one 6 m x 6 m (36 m² < 50 m²) built-up patch as a near miss. The land-use survey still says farmland
    there. Houses planted on farmland by :func:`plant_farm_build` show as built-up changes as well
    (every building is burnt into the rasters by its ``built_year``).

    Examples
    --------
    >>> from layers.sample.base import build_base
    >>> [c.after for c in plant_landcover_changes(build_base(0)).landcover_changes]
    [2, 4, 5, 2, 5]
    """
    s = sample
    south, north = s.village_ids("south"), s.village_ids("north")
    specs = [
        (south[3], True, (10, 10, 50, 40), 2, "cropland -> forest 40 m x 30 m (1,200 m²) on PBF"),
        (north[0], True, (20, 20, 50, 40), 4, "cropland -> water 30 m x 20 m (600 m²) on PBF"),
        (south[5], False, (24, 20, 44, 40), 5, "cropland -> built-up (hardened) 20 m x 20 m (400 m²), not PBF"),
        (north[4], False, (10, 10, 40, 40), 2, "cropland -> forest 30 m x 30 m (900 m²), not PBF"),
        (south[1], False, (30, 30, 36, 36), 5, "cropland -> built-up 6 m x 6 m (36 m² < 50 m²): near miss"),
    ]
    changes = []
    for n, (vid, pbf, (a, b, c, d), cls, note) in enumerate(specs, start=1):
        site = s.take_site("field", village_id=vid, pbf=pbf)
        x0, y0 = site.geometry.bounds[:2]
        changes.append(LandcoverChange(f"RS{n:02d}", _offset_box(x0, y0, a, b, c, d), cls,
                                       f"{note}; {s.villages[vid]['name']} site {site.site_id} tbbh {site.tbbh}"))
    return Plant(landcover_changes=changes)
