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

then add it to ``PLANTERS`` in :mod:`landguard.sample.generate`. Keep its cases clean for every other
rule where the case allows (see :mod:`landguard.sample.base` for what the base keeps clean).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.landcover import patch_ids
from layers.landuse import class_name, is_farmland
from layers.limits import Limits
from .base import DLMC
from .model import AS_OF, ORIGIN, FieldTruth, LandcoverChange, Plant, Sample, TruthRow, building_rows, frame
from .rasters import AFTER_YEAR, BEFORE_YEAR, burn_landcover, landcover_class

__all__ = ["plant_farm_build", "plant_landcover_changes", "plant_farm_rules", "rs_cases", "plant_survey_history",
           "plant_monitoring_patches", "HISTORY_YEARS"]

#: Change kinds of FARM-RS by the ``landcover_after`` class (the generated landguard.toml's [landcover]).
_RS_KINDS = {5: "built-up", 2: "forest", 4: "water"}
#: The smallest patch FARM-RS reports (``rs_min_area_m2``).
_RS_MIN_AREA = Limits().rs_min_area_m2


def _offset_box(x0: float, y0: float, dx0: float, dy0: float, dx1: float, dy1: float) -> shapely.Polygon:
    """The box (x0 + dx0, y0 + dy0, x0 + dx1, y0 + dy1), corners rounded to the centimetre."""
    return shapely.box(round(x0 + dx0, 2), round(y0 + dy0, 2), round(x0 + dx1, 2), round(y0 + dy1, 2))


def plant_farm_build(sample: Sample) -> Plant:
    """``FARM-BUILD`` 乱占耕地建房: houses on farmland without a valid approval, and near misses.

    Violations: two houses on PBF (severity high), two on farmland outside PBF (medium), two houses
    straddling the settlement's edge with 4 m (non-PBF) and 6 m (PBF) of their depth on farmland.
    Near misses: a workshop on farmland inside a construction approval, a site office inside an
    unexpired temporary approval (valid until 2027-06-30, after ``as_of``), and a house with a 0.05 m x
    10 m (0.5 m²) sliver on farmland. None of these buildings has a parcel. The ``FARM-RS`` patches the
    houses built by 2025 leave in the imagery are cases too (:func:`rs_cases`; the approved workshop's
    patch as well: FARM-RS reports every change for field checks, approved or not).

    Examples
    --------
    >>> from landguard.sample.base import build_base
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

    buildings = building_rows(s, items)
    # the imagery shows the houses built by 2025 as cropland -> built-up patches (FARM-RS)
    truth += rs_cases(s, [(g, f"building {a['building_id']}") for g, a in items],
                      buildings=pd.concat([s.layers["buildings"], buildings], ignore_index=True))
    return Plant(features={"buildings": buildings, "approvals": frame(approvals)}, truth=truth)


def rs_cases(sample: Sample, footprints: list[tuple[shapely.Geometry, str]], *, landuse: gpd.GeoDataFrame | None = None,
             baseline: gpd.GeoDataFrame | None = None, buildings: gpd.GeoDataFrame | None = None,
             pbf: gpd.GeoDataFrame | None = None) -> list[TruthRow]:
    """``FARM-RS`` truth rows for the change patches that planted features show in the land-cover rasters.

    A house or a conversion planted on farmland is burnt into ``landcover_after`` (buildings by
    ``built_year``, the current survey by class), so the imagery shows it as a 卫片图斑 as well. This
    rasterises both land-cover classifications around each group of ``footprints`` exactly as the writer
    does (:func:`~.rasters.burn_landcover`), takes the cropland → built-up / forest / water pixels,
    joins 4-connected pixels of one kind into patches, clips them to the farmland (baseline 耕地 ∪ PBF)
    and names each patch that touches a footprint ``RS-<E>-<N>`` from its centroid: a ``violation`` from
    ``rs_min_area_m2`` (50 m²) up, a ``near_miss`` below it.

    Parameters
    ----------
    sample : Sample
    footprints : list of (geometry, label)
        What the planter burns into ``landcover_after`` (buildings, converted land-use patches) and how
        the truth note names it.
    landuse, baseline, buildings, pbf : GeoDataFrame, optional
        The layers with the planter's edits (default: ``sample.layers``).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> s = build_base(0)
    >>> site = s.take_site("field", pbf=False)
    >>> x0, y0 = site.geometry.bounds[:2]
    >>> house = building_rows(s, [(shapely.box(x0 + 29, y0 + 26, x0 + 41, y0 + 35), {"built_year": 2021})])
    >>> both = pd.concat([s.layers["buildings"], house], ignore_index=True)
    >>> [(t.expect, t.subject_id == str(patch_ids([shapely.box(x0 + 30, y0 + 26, x0 + 42, y0 + 36)])[0]))
    ...  for t in rs_cases(s, [(house.geometry[0], "house")], buildings=both)]
    [('violation', True)]
    """
    lu_after = sample.layers["landuse"] if landuse is None else landuse
    lu_before = sample.layers["landuse_baseline"] if baseline is None else baseline
    b = sample.layers["buildings"] if buildings is None else buildings
    p = sample.layers["pbf"] if pbf is None else pbf
    geoms = np.asarray([g for g, _ in footprints], dtype=object)
    labels = [label for _, label in footprints]
    if len(geoms) == 0:
        return []
    clusters = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, 8.0, join_style="mitre")))
    patches: list[tuple[shapely.Geometry, str, list[str]]] = []
    for cluster in clusters:
        bounds = shapely.buffer(cluster, 6.0, join_style="mitre").bounds
        before, transform = burn_landcover(lu_before, b, BEFORE_YEAR, (), bounds)
        after, _ = burn_landcover(lu_after, b, AFTER_YEAR, sample.landcover_changes, bounds)
        height, width = before.shape
        window = shapely.box(transform.c, transform.f - 2.0 * height, transform.c + 2.0 * width, transform.f)
        farm = lu_before[lu_before.intersects(window).to_numpy() & is_farmland(lu_before["dlbm"])].geometry
        farmland = shapely.union_all(np.concatenate([farm.to_numpy(), p.geometry[p.intersects(window)].to_numpy()]))
        inside = np.flatnonzero(shapely.intersects(geoms, cluster))
        for code, kind in _RS_KINDS.items():
            rows, cols = np.nonzero((before == 1) & (after == code))
            if len(rows) == 0:
                continue
            x, y = transform.c + 2.0 * cols, transform.f - 2.0 * rows
            for pixels in shapely.get_parts(shapely.union_all(shapely.box(x, y - 2.0, x + 2.0, y))):
                hit = [labels[i] for i in inside if shapely.intersection(pixels, geoms[i]).area > 0]
                if not hit:
                    continue
                if pixels.intersects(window.boundary):
                    raise AssertionError(f"change patch over {hit} reaches the edge of its window")
                patches.append((pixels.intersection(farmland), kind, hit))
    rows_out = []
    ids = patch_ids([g for g, _, _ in patches])
    for (part, kind, hit), pid in zip(patches, ids):
        area = part.area
        if area <= 0:
            continue
        expect = "violation" if area >= _RS_MIN_AREA else "near_miss"
        note = (f"cropland -> {kind} {area:,.0f} m² in the imagery over {', '.join(hit)}"
                + ("" if expect == "violation" else f" (< {_RS_MIN_AREA:g} m²): near miss"))
        rows_out.append(TruthRow("FARM-RS", "landcover_after", str(pid), expect, note))
    return rows_out


def plant_landcover_changes(sample: Sample) -> Plant:
    """Remote-sensing change patches burnt into ``landcover_after`` only (``FARM-RS``).

    Cropland in 2019 turned forest (on PBF and off it), water (on PBF) and hardened built-up ground, and
    one 6 m x 6 m (36 m² < 50 m²) built-up patch as a near miss. The land-use survey still says farmland
    there. Houses planted on farmland by :func:`plant_farm_build` show as built-up changes as well
    (every building is burnt into the rasters by its ``built_year``), and so do the conversions planted by
    :func:`plant_farm_rules`; those planters add the ``FARM-RS`` truth rows of their patches
    (:func:`rs_cases`), this one those of its five (subject ``RS-<E>-<N>``, the patch's centroid).

    Examples
    --------
    >>> from landguard.sample.base import build_base
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
    changes, truth = [], []
    for n, (vid, pbf, (a, b, c, d), cls, note) in enumerate(specs, start=1):
        site = s.take_site("field", village_id=vid, pbf=pbf)
        x0, y0 = site.geometry.bounds[:2]
        geom = _offset_box(x0, y0, a, b, c, d)
        full_note = f"{note}; {s.villages[vid]['name']} site {site.site_id} tbbh {site.tbbh}"
        changes.append(LandcoverChange(f"RS{n:02d}", geom, cls, full_note))
        # the patch id FARM-RS gives a change patch: from its centroid (the patch lies wholly on farmland)
        truth.append(TruthRow("FARM-RS", "landcover_after", str(patch_ids([geom])[0]),
                              "near_miss" if "near miss" in note else "violation", full_note))
    return Plant(landcover_changes=changes, truth=truth)


# --------------------------------------------------------------------------------------------------
# every other rule of the family
# --------------------------------------------------------------------------------------------------
class _Land:
    """Edits of the current and baseline surveys shared by the planters of :func:`plant_farm_rules`.

    :meth:`carve` cuts a polygon out of the patches under it (they keep their ``tbbh``; a patch cut in
    two gets a new ``tbbh`` for its second part) and adds it as a new patch with its own code.
    """

    def __init__(self, sample: Sample) -> None:
        self.s = sample
        self.frames = {k: sample.layers[k].copy() for k in ("landuse", "landuse_baseline")}
        self.changed: dict[str, set[str]] = {k: set() for k in self.frames}
        #: (geometry, label) of every patch carved into the current survey with a non-cropland class
        self.footprints: list[tuple[shapely.Geometry, str]] = []

    def new_tbbh(self) -> str:
        return f"{90000 + self.s.next_number('farm_tbbh'):05d}"

    def _add(self, layer: str, geom, code: str, tbbh: str) -> None:
        f = self.frames[layer]
        row = {"dlbm": code, "dlmc": DLMC.get(code) or class_name([code]).iloc[0], "tbbh": tbbh,
               "survey_year": int(f["survey_year"].iloc[0]), "geometry": geom}
        self.frames[layer] = gpd.GeoDataFrame(pd.concat([f, frame([row])], ignore_index=True),
                                              geometry="geometry", crs=f.crs)
        self.changed[layer].add(tbbh)

    def carve(self, geom, code: str, layers=("landuse",)) -> str:
        """Make ``geom`` a patch of ``code`` in ``layers``; returns its (new) ``tbbh``."""
        tbbh = self.new_tbbh()
        for layer in layers:
            f = self.frames[layer]
            for i in f.index[f.intersects(geom)]:
                old = f.at[i, "geometry"]
                if old.intersection(geom).area <= 0:
                    continue
                parts = [p for p in shapely.get_parts(old.difference(geom))
                         if isinstance(p, shapely.Polygon) and p.area >= 0.5]
                if not parts:
                    raise ValueError(f"carving {code} would swallow patch {f.at[i, 'tbbh']} of {layer}")
                f.at[i, "geometry"] = parts[0]
                self.changed[layer].add(f.at[i, "tbbh"])
                for p in parts[1:]:
                    self._add(layer, p, f.at[i, "dlbm"], self.new_tbbh())
                    f = self.frames[layer]
            self._add(layer, geom, code, tbbh)
        if "landuse" in layers and landcover_class(code) != 1:
            self.footprints.append((geom, f"landuse {tbbh} ({code})"))
        return tbbh

    def patch(self, layer: str, geom) -> pd.Series | None:
        """The patch of ``layer`` that contains ``geom`` (None when no single patch does)."""
        f = self.frames[layer]
        hit = f[f.contains(geom)]
        return hit.iloc[0] if len(hit) == 1 else None

    def rows(self, layer: str) -> gpd.GeoDataFrame:
        f = self.frames[layer]
        return f[f["tbbh"].isin(list(self.changed[layer]))].reset_index(drop=True)


class _Cases:
    """What the planters of :func:`plant_farm_rules` add besides land use: rows per layer and truth."""

    def __init__(self, sample: Sample) -> None:
        self.s = sample
        self.buildings: list[tuple[shapely.Geometry, dict]] = []
        self.approvals: list[dict] = []
        self.pbf: list[dict] = []
        self.waters: list[dict] = []
        self.truth: list[TruthRow] = []

    def case(self, rule_id: str, layer: str, subject: str, expect: str, note: str) -> None:
        self.truth.append(TruthRow(rule_id, layer, subject, expect, note))

    def building(self, geom, **attrs) -> str:
        attrs.setdefault("use", "warehouse")
        attrs.setdefault("roof", "flat")
        attrs.setdefault("ridge_height_m", None)
        attrs.setdefault("owner_id", self.s.people.new(born=(1950, 1990)).id18)
        bid = self.s.new_building_id()
        self.buildings.append((geom, dict(attrs, building_id=bid)))
        return bid

    def approval(self, approval_id: str, kind: str, geom, approved_area_m2: float | None = None,
                 valid_until: str | None = None) -> str:
        self.approvals.append({"approval_id": approval_id, "kind": kind, "valid_until": valid_until,
                               "approved_area_m2": round(geom.area, 1) if approved_area_m2 is None else approved_area_m2,
                               "geometry": geom})
        return approval_id

    def new_pbf(self, geom) -> str:
        pbf_id = f"PBF9{self.s.next_number('farm_pbf'):04d}"
        self.pbf.append({"pbf_id": pbf_id, "geometry": geom})
        return pbf_id


def _site(s: Sample, kind: str, pbf: bool):
    """The next free site of a kind, its lower-left corner, and a box maker relative to that corner."""
    site = s.take_site(kind, pbf=pbf)
    x0, y0 = site.geometry.bounds[:2]
    where = f"{s.villages[site.village_id]['name']} site {site.site_id} ({site.dlbm}, {'PBF' if pbf else 'not PBF'})"
    return site, (lambda a, b, c, d: _offset_box(x0, y0, a, b, c, d)), where


def _plant_nonagri(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-NONAGRI: construction patches on farmland; rural road, approved land and a house's own patch."""
    _, box, where = _site(s, "field", False)
    t = land.carve(box(5, 5, 35, 35), "0601")
    c.case("FARM-NONAGRI", "landuse", t, "violation", f"0601 workshop yard 30 m x 30 m on farmland, no approval; {where}")
    c.case("FARM-CRIMINAL", "landuse", t, "near_miss", f"900 m² = 1.35 亩 of farmland, far under 10 亩; {where}")
    c.approval("JS2020-0077", "construction", box(38, 3, 68, 33))
    t = land.carve(box(40, 5, 65, 30), "0601")
    c.case("FARM-NONAGRI", "landuse", t, "near_miss", f"0601 patch inside construction approval JS2020-0077; {where}")
    t = land.carve(box(5, 40, 65, 46), "1006")
    c.case("FARM-NONAGRI", "landuse", t, "near_miss", f"1006 农村道路 across farmland (agricultural use); {where}")

    _, box, where = _site(s, "edge", True)
    t = land.carve(box(20, 25, 50, 50), "0702")
    b = c.building(box(29, 30, 41, 39), use="residential", roof="pitched", ridge_height_m=5.6, built_year=2023)
    c.case("FARM-NONAGRI", "landuse", t, "violation",
           f"0702 yard 30 m x 25 m on PBF around house {b}: 642 m² outside the building, high; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"house in a new 0702 yard on PBF; {where}")

    _, box, where = _site(s, "edge", False)
    b = c.building(box(30, 38, 42, 47), use="residential", roof="pitched", ridge_height_m=5.6, built_year=2022)
    t = land.carve(box(30, 38, 42, 47), "0702")
    c.case("FARM-NONAGRI", "landuse", t, "near_miss",
           f"0702 patch that is exactly house {b}'s footprint: one FARM-BUILD, not also FARM-NONAGRI; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"house whose 0702 patch is its footprint; {where}")


def _plant_facility(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-FACILITY: a 民宿 on the base's approved facility land (1202, SN2022-0007); a keeper's shed beside it."""
    ap = s.layers["approvals"]
    ap = ap[ap["kind"] == "facility_agri"].iloc[0]
    x0, y0 = ap.geometry.bounds[:2]
    where = f"facility land {ap['approval_id']} (1202 in both surveys)"
    b = c.building(_offset_box(x0, y0, 10, 10, 25, 20), use="民宿", approval_id=ap["approval_id"], roof="pitched",
                   ridge_height_m=5.4, built_year=2022)
    c.case("FARM-FACILITY", "buildings", b, "violation", f"民宿 (guesthouse) on {where}")
    b = c.building(_offset_box(x0, y0, 30, 10, 50, 18), use="温室管理用房", approval_id=ap["approval_id"], built_year=2021)
    c.case("FARM-FACILITY", "buildings", b, "near_miss", f"greenhouse keeper's shed on {where}")


def _plant_green(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-GREEN: woodland on farmland and on PBF (0307K), turf on PBF; turf off PBF as a near miss."""
    _, box, where = _site(s, "field", False)
    t = land.carve(box(5, 5, 35, 55), "0301")
    c.case("FARM-GREEN", "landuse", t, "violation", f"0301 planted on farmland, 30 m x 50 m, medium; {where}")
    t = land.carve(box(40, 5, 65, 55), "0403")
    c.case("FARM-GREEN", "landuse", t, "near_miss", f"0403 turf on farmland that is not PBF; {where}")
    c.approval("TG2019-0001", "reforestation", box(66, 5, 69, 55))
    t = land.carve(box(66, 5, 69, 55), "0301")
    c.case("FARM-GREEN", "landuse", t, "near_miss",
           f"0301 on farmland under approved 退耕还林 plot TG2019-0001 (reforestation); {where}")
    _, box, where = _site(s, "field", True)
    t = land.carve(box(5, 5, 35, 55), "0307K")
    c.case("FARM-GREEN", "landuse", t, "violation", f"0307K on PBF: high, reported as recoverable; {where}")
    t = land.carve(box(40, 5, 65, 55), "0403")
    c.case("FARM-GREEN", "landuse", t, "violation", f"0403 turf (nursery) on PBF; {where}")


def _plant_lake_nongrain(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-LAKE and FARM-NONGRAIN: a pond, a park lake, aquaculture, an orchard, a farmland recode."""
    site, box, where = _site(s, "field", False)
    t = land.carve(box(2, 2, 32, 28), "1104")
    c.case("FARM-LAKE", "landuse", t, "violation", f"1104 pond dug in farmland, 30 m x 26 m; {where}")
    t = land.carve(box(36, 2, 66, 28), "1104A")
    c.case("FARM-LAKE", "landuse", t, "near_miss", f"1104A aquaculture pond is not a lake; {where}")
    c.case("FARM-NONGRAIN", "landuse", t, "violation", f"1104A aquaculture pond on farmland, low; {where}")
    t = land.carve(box(2, 32, 32, 58), "0201")
    c.case("FARM-NONGRAIN", "landuse", t, "violation", f"0201 orchard on farmland, low; {where}")
    t = land.carve(box(36, 32, 66, 58), "0101" if site.dlbm != "0101" else "0103")
    c.case("FARM-NONGRAIN", "landuse", t, "near_miss", f"farmland recoded to another farmland class; {where}")
    _, box, where = _site(s, "field", True)
    t = land.carve(box(5, 5, 65, 55), "0810")
    c.waters.append({"name": "湿地公园人工湖", "kind": "reservoir", "geometry": box(20, 15, 50, 40)})
    c.case("FARM-LAKE", "landuse", t, "violation", f"0810 park with an artificial lake on PBF; {where}")
    c.case("FARM-NONAGRI", "landuse", t, "near_miss", f"a park with water is FARM-LAKE's case only; {where}")


def _strip(land: _Land, belt_box, farm_box) -> bool:
    """Whether ``belt_box`` lies in one 0301 belt patch and ``farm_box`` in one farmland patch, in both surveys."""
    for layer in ("landuse", "landuse_baseline"):
        belt = land.patch(layer, belt_box) if belt_box is not None else None
        farm = land.patch(layer, farm_box) if farm_box is not None else None
        if belt_box is not None and (belt is None or belt["dlbm"] != "0301"):
            return False
        if farm_box is not None and (farm is None or not bool(is_farmland([farm["dlbm"]])[0])):
            return False
    return True


def _plant_corridor(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-CORRIDOR: belts along 平蓟路 (provincial, 5 m), 峪华路 (county, 3 m) and 东干渠 (canal)."""
    X0, Y0 = ORIGIN
    pbf = shapely.union_all(s.layers["pbf"].geometry.to_numpy())

    def box(x0, y0, x1, y1):
        return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)

    cells = [x for x in range(250, 8750, 250)]
    # 平蓟路 S311: road land y 3194..3206, 5 m belts; farmland strips north of the belt at y 3211..3225
    found = [x + 50 for x in cells if _strip(land, box(x + 50, 3206, x + 150, 3211), box(x + 50, 3211, x + 150, 3211.5))]
    xa, xb = found[0], found[1]
    t = land.carve(box(xa, 3206, xa + 100, 3211.5), "0301")
    note = "woodland belt along S311 平蓟路 (provincial) 5.5 m wide, 100 m long, its outer 0.5 m on farmland"
    c.case("FARM-CORRIDOR", "landuse", t, "violation", note)
    c.case("FARM-GREEN", "landuse", t, "near_miss", note + ": FARM-CORRIDOR's case only")
    land.carve(box(xb, 3206, xb + 100, 3211), "0103", layers=("landuse_baseline",))
    t = land.carve(box(xb, 3206, xb + 100, 3211), "0301")
    note = "belt along S311 exactly 5.0 m wide on farmland (baseline 0103): within the standard"
    c.case("FARM-CORRIDOR", "landuse", t, "near_miss", note)
    c.case("FARM-GREEN", "landuse", t, "near_miss", note)
    # 峪华路 X036: road land x 5996..6004, 3 m belts; a 4 m belt on its east side
    ys = [y for y in range(1000, 4100, 50) if _strip(land, box(6004, y, 6007, y + 100), box(6007, y, 6008, y + 100))]
    t = land.carve(box(6004, ys[0], 6008, ys[0] + 100), "0301")
    c.case("FARM-CORRIDOR", "landuse", t, "violation",
           "woodland belt along X036 峪华路 (county) 4 m wide: 1 m beyond the 3 m standard on farmland")
    # a village road (村道): no belt is allowed (0 m); a 4 m x 50 m woodland strip on farmland north of its land
    roads = s.layers["roads"]
    spots = [(rid, x, line.bounds[1] + w / 2) for rid, line, w in
             zip(roads["road_id"], roads.geometry, roads["width_m"]) if rid.startswith("C")
             for x in np.arange(line.bounds[0] + 20, line.bounds[2] - 70, 25.0)
             if _strip(land, None, shapely.box(x - 2, line.bounds[1] + w / 2, x + 52, line.bounds[1] + w / 2 + 6))]
    rid, x, y = spots[0]
    t = land.carve(shapely.box(x, y, x + 50, y + 4), "0301")
    note = f"woodland belt 4 m wide along village road {rid} (村道): no belt is allowed beside village roads"
    c.case("FARM-CORRIDOR", "landuse", t, "violation", note)
    c.case("FARM-GREEN", "landuse", t, "near_miss", note + ": FARM-CORRIDOR's case only")
    # 东干渠 canal y 896..904, fields directly north of it: an 8 m belt on PBF (flagged) and off PBF (GREEN)
    on, off = [], []
    for x in cells:
        g = box(x + 50, 904, x + 150, 912)
        if _strip(land, None, g):
            (on if pbf.contains(g) else off if not pbf.intersects(g) else []).append(g)
    t = land.carve(on[0], "0301")
    c.case("FARM-CORRIDOR", "landuse", t, "violation", "8 m woodland belt on PBF along the 东干渠 canal")
    c.case("FARM-GREEN", "landuse", t, "near_miss", "belt on PBF along the canal: FARM-CORRIDOR's case only")
    t = land.carve(off[0], "0301")
    c.case("FARM-CORRIDOR", "landuse", t, "near_miss", "8 m woodland belt along the canal on farmland that is not PBF")
    c.case("FARM-GREEN", "landuse", t, "violation", "8 m woodland belt along the canal on farmland (not PBF)")


def _plant_protected(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-RESERVE and FARM-REDLINE: farmland (both surveys) and PBF in the mountains."""
    X0, Y0 = ORIGIN
    red = s.layers["eco_redline"].geometry.iloc[0]
    nr = s.layers["nature_reserves"]
    core = nr.geometry[nr["zone"] == "core"].iloc[0]
    general = nr.geometry[nr["zone"] == "general"].iloc[0]

    def field(x0, y0, x1, y1, with_pbf=True):
        g = shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)
        t = land.carve(g, "0103", layers=("landuse", "landuse_baseline"))
        return g, t, (c.new_pbf(g) if with_pbf else None)

    g, _, p = field(1600, 5300, 1700, 5380)
    assert core.contains(g) and red.contains(g)
    c.case("FARM-RESERVE", "pbf", p, "violation", "PBF 100 m x 80 m in the 四座楼 core zone: high (must exit)")
    c.case("FARM-REDLINE", "pbf", p, "near_miss", "PBF under the red line but inside a nature reserve")
    g, _, p = field(1800, 4560, 1900, 4640)
    assert general.contains(g) and not red.intersects(g)
    c.case("FARM-RESERVE", "pbf", p, "violation", "PBF 100 m x 80 m in the 四座楼 general zone: medium")
    g, _, p = field(3800, 4560, 3900, 4640)
    assert not nr.intersects(g).any() and not red.intersects(g)
    c.case("FARM-RESERVE", "pbf", p, "near_miss", "PBF outside the nature reserve")
    c.case("FARM-REDLINE", "pbf", p, "near_miss", "PBF below the eco red line")
    g, _, p = field(5500, 5300, 5600, 5380)
    assert red.contains(g) and not nr.intersects(g).any()
    c.case("FARM-REDLINE", "pbf", p, "violation", "PBF 100 m x 80 m under the eco red line, outside reserves")
    g1, t1, _ = field(4200, 5300, 4300, 5480, with_pbf=False)
    g2, t2, _ = field(4300, 5300, 4400, 5480, with_pbf=False)
    assert red.contains(g1) and red.contains(g2)
    c.case("FARM-REDLINE", "landuse_baseline", min(t1, t2), "violation",
           f"contiguous farmland block {t1}+{t2} of 200 m x 180 m (54 亩 ≥ 50 亩) under the eco red line")
    g, t, _ = field(6200, 5300, 6360, 5460, with_pbf=False)
    assert red.contains(g)
    c.case("FARM-REDLINE", "landuse_baseline", t, "near_miss",
           "scattered farmland patch of 160 m x 160 m (38.4 亩 < 50 亩) under the eco red line: allowed")


def _plant_approvals(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-UNAPPROVED, FARM-MISPLACED, FARM-OVERUSE, FARM-TEMPEXPIRED."""
    _, box, where = _site(s, "field", False)
    b = c.building(box(10, 10, 22, 19), approval_id="JS2025-9999", built_year=2025)
    c.case("FARM-UNAPPROVED", "buildings", b, "violation", f"building naming approval JS2025-9999 that does not exist; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"building on farmland with a non-existent approval; {where}")
    ap = c.approval("JS2025-0210", "construction", box(37, 7, 55, 22))
    b = c.building(box(40, 10, 52, 19), approval_id=ap, built_year=2025)
    c.case("FARM-UNAPPROVED", "buildings", b, "near_miss", f"building inside the approval it names (JS2025-0210); {where}")
    c.case("FARM-BUILD", "buildings", b, "near_miss", f"building inside construction approval JS2025-0210; {where}")

    _, box, where = _site(s, "field", False)
    ap = c.approval("JS2024-0301", "construction", box(5, 5, 35, 35))
    b = c.building(box(27, 10, 47, 20), approval_id=ap, built_year=2024)
    c.case("FARM-MISPLACED", "buildings", b, "violation", f"building 60 % outside the approval it names; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"120 m² of the building outside its approval, on farmland; {where}")
    b = c.building(box(5, 28, 25, 38), approval_id=ap, built_year=2024)
    c.case("FARM-MISPLACED", "buildings", b, "near_miss", f"building 30 % outside the approval it names; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"60 m² of the building outside its approval, on farmland; {where}")

    _, box, where = _site(s, "field", False)
    ap = c.approval("JS2024-0402", "construction", box(5, 5, 35, 35), approved_area_m2=900.0)
    t = land.carve(box(5, 5, 45, 35), "0601")
    c.case("FARM-OVERUSE", "approvals", ap, "violation",
           f"0601 patch of 1,200 m² on approval JS2024-0402 of 900 m² (300 m² over); {where}")
    c.case("FARM-NONAGRI", "landuse", t, "violation", f"the 300 m² of patch {t} outside its approval; {where}")
    ap = c.approval("JS2024-0403", "construction", box(5, 38, 45, 58), approved_area_m2=600.0)
    b = c.building(box(5, 39, 45, 54.625), approval_id=ap, built_year=2024)
    c.case("FARM-OVERUSE", "approvals", ap, "near_miss",
           f"building {b} of 625 m² on approval JS2024-0403 of 600 m²: 25 m² over, within 5 % (30 m²); {where}")

    _, box, where = _site(s, "field", False)
    yesterday = (AS_OF - dt.timedelta(days=1)).isoformat()
    ap = c.approval("LS2025-0108", "temporary", box(5, 5, 30, 30), valid_until=yesterday)
    b = c.building(box(10, 10, 20, 16), approval_id=ap, use="temporary", built_year=2025)
    c.case("FARM-TEMPEXPIRED", "approvals", ap, "violation",
           f"temporary approval expired yesterday ({yesterday}), site office still there; {where}")
    c.case("FARM-BUILD", "buildings", b, "violation", f"site office under a temporary approval that expired yesterday; {where}")
    ap = c.approval("LS2025-0109", "temporary", box(40, 5, 65, 30), valid_until=AS_OF.isoformat())
    b = c.building(box(45, 10, 55, 16), approval_id=ap, use="temporary", built_year=2025)
    c.case("FARM-TEMPEXPIRED", "approvals", ap, "near_miss", f"temporary approval valid until today ({AS_OF}); {where}")
    c.case("FARM-BUILD", "buildings", b, "near_miss", f"site office under a temporary approval valid until today; {where}")
    c.case("FARM-TEMPEXPIRED", "approvals", "LS2024-0011", "near_miss",
           "base temporary approval expired 2025-12-31 with nothing left on it")


def _plant_criminal(s: Sample, land: _Land, c: _Cases) -> None:
    """FARM-CRIMINAL: owners over and just under 5 亩 of PBF, one over 10 亩 of farmland, one contiguous patch."""
    for size, expect, text in (((4, 2, 66, 29.5), "violation", "2 x 1,705 m² = 5.12 亩 ≥ 5 亩"),
                               ((5, 2, 65, 29.5), "near_miss", "2 x 1,650 m² = 4.95 亩 < 5 亩")):
        _, box, where = _site(s, "field", True)
        owner = s.people.new(born=(1955, 1985)).id18
        a, b0, cc, d = size
        ids = [c.building(box(a, b0, cc, d), owner_id=owner, built_year=2021),
               c.building(box(a, b0 + 29, cc, d + 29), owner_id=owner, built_year=2022)]
        c.case("FARM-CRIMINAL", "buildings", min(ids), expect, f"one owner's warehouses on PBF: {text}; {where}")
        for i in ids:
            c.case("FARM-BUILD", "buildings", i, "violation", f"warehouse on PBF; {where}")
    owner = s.people.new(born=(1955, 1985)).id18
    ids, wheres = [], []
    for _ in range(2):
        _, box, where = _site(s, "field", False)
        ids.append(c.building(box(1, 5, 69, 55), owner_id=owner, built_year=2023))
        wheres.append(where)
        c.case("FARM-BUILD", "buildings", ids[-1], "violation", f"3,400 m² warehouse on farmland; {where}")
    c.case("FARM-CRIMINAL", "buildings", min(ids), "violation",
           f"one owner's two warehouses of 3,400 m² on farmland: 10.2 亩 ≥ 10 亩; {'; '.join(wheres)}")
    _, box, where = _site(s, "field", True)
    t = land.carve(box(5, 0, 65, 60), "0601")
    c.case("FARM-CRIMINAL", "landuse", t, "violation", f"one contiguous 0601 patch of 3,600 m² (5.4 亩) on PBF; {where}")
    c.case("FARM-NONAGRI", "landuse", t, "violation", f"0601 patch of 3,600 m² on PBF, high; {where}")


def plant_farm_rules(sample: Sample) -> Plant:
    """Every ``farmland`` rule but ``FARM-BUILD`` and ``FARM-RS`` (planted above), as one plant.

    Runs the planters for ``FARM-NONAGRI``, ``FARM-FACILITY``, ``FARM-GREEN``, ``FARM-LAKE``/``FARM-NONGRAIN``,
    ``FARM-CORRIDOR``, ``FARM-RESERVE``/``FARM-REDLINE``, the approval rules and ``FARM-CRIMINAL`` in this
    order, with the boundary cases of the issue: a 5.0 m belt along a provincial road (compliant) and a
    5.5 m one (not), a temporary approval that expired yesterday, a ``0307K`` patch. Conversions change
    the current survey only (the baseline keeps the farmland), except where a case needs both. The
    ``FARM-RS`` patches the conversions and buildings make in the imagery get their truth rows here too
    (:func:`rs_cases`).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> rules = {t.rule_id for t in plant_farm_rules(build_base(0)).truth}
    >>> sorted(r for r in rules if r != "FARM-BUILD")[:3]
    ['FARM-CORRIDOR', 'FARM-CRIMINAL', 'FARM-FACILITY']
    """
    s = sample
    land, cases = _Land(s), _Cases(s)
    for planter in (_plant_nonagri, _plant_facility, _plant_green, _plant_lake_nongrain, _plant_corridor,
                    _plant_protected, _plant_approvals, _plant_criminal):
        planter(s, land, cases)
    buildings = building_rows(s, cases.buildings) if cases.buildings else None
    # the imagery shows the conversions and the buildings built by 2025 as change patches (FARM-RS)
    footprints = land.footprints + [(g, f"building {a['building_id']}") for g, a in cases.buildings]
    truth = cases.truth + rs_cases(s, footprints, landuse=land.frames["landuse"],
                                   baseline=land.frames["landuse_baseline"],
                                   buildings=pd.concat([s.layers["buildings"], buildings], ignore_index=True),
                                   pbf=pd.concat([s.layers["pbf"], frame(cases.pbf)], ignore_index=True))
    features = {"landuse": land.rows("landuse"), "landuse_baseline": land.rows("landuse_baseline"),
                "buildings": buildings, "approvals": frame(cases.approvals), "pbf": frame(cases.pbf),
                "waters": frame(cases.waters)}
    return Plant(features={k: v for k, v in features.items() if v is not None and len(v)}, truth=truth)


# --------------------------------------------------------------------------------------------------
# the survey series (landuse_history) and the monitoring batch (monitoring_patches): issue 15
# --------------------------------------------------------------------------------------------------
#: The vintages of the sample's survey series (二调 2009, 变更调查 2010/2018/2020, 2022).
HISTORY_YEARS = (2009, 2010, 2018, 2020, 2022)
#: The batch, image dates and id prefix of the sample's monitoring patches (as the bureau's shapefile has them).
PATCH_BATCH, PATCH_BEFORE, PATCH_AFTER = "2026Q3", "2026-03-18", "20260715"
_PATCH_AFTER_ISO = "2026-07-15"


def _vintage(base: gpd.GeoDataFrame, year: int, carves: list[tuple[shapely.Geometry, str, int]]) -> gpd.GeoDataFrame:
    """One vintage: the baseline survey as it was in ``year`` (``carves`` = (geometry, code, from year))."""
    f = base[["dlbm", "dlmc", "tbbh", "geometry"]].copy()
    for geom, code, since in carves:
        if year < since:
            continue
        hit = f.intersects(geom).to_numpy()
        f.loc[hit, "geometry"] = shapely.difference(f.geometry.to_numpy()[hit], geom)
        f = pd.concat([f, frame([{"dlbm": code, "dlmc": DLMC.get(code) or class_name([code]).iloc[0],
                                  "tbbh": f"H{since}{len(f):05d}", "geometry": geom}])], ignore_index=True)
    f = f[shapely.area(f.geometry.to_numpy()) > 0.01].copy()
    f["survey_year"] = year
    return gpd.GeoDataFrame(f, geometry="geometry", crs=base.crs)


def plant_survey_history(sample: Sample) -> Plant:
    """The survey series ``landuse_history`` (five vintages) and houses it dates in every campaign class.

    Every vintage is the baseline survey, except under six houses built on PBF without approval (each a
    ``FARM-BUILD`` case, ``built_year`` unknown so that only the series can date it): the land under each
    (the house plus 3 m) turns ``0702`` from one vintage on — already in 2009 (``historic``), in 2010
    (``existing``: the near miss of the window's start, one vintage later than the 2009 house), 2018
    (``existing``), 2020 (``new``: the interval 2018-2020 straddles 2020-09-10, the later class applies),
    2022 (``new``), and never (farmland in 2022: ``new``). The expected ``status`` and ``dated_by`` of each
    finding go to ``truth_fields.csv``.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_survey_history(build_base(0))
    >>> sorted(set(plant.features["landuse_history"]["survey_year"]))
    [2009, 2010, 2018, 2020, 2022]
    >>> sorted({f.value for f in plant.fields if f.column == "status"})
    ['existing', 'historic', 'new']
    """
    s = sample
    cases = ((2009, "historic", "2009年度变更调查已为建设用地（此前的调查中未见耕地）",
              "built by the 2009 vintage (二调): historic"),
             (2010, "existing", "2009年度变更调查为耕地，2010年度变更调查为建设用地（跨越时间节点，按较晚的类别认定）",
              "farmland in 2009, built in the 2010 vintage: existing (near miss of the 2009 house)"),
             (2018, "existing", "2010年度变更调查为耕地，2018年度变更调查为建设用地",
              "farmland in 2010, built by 2018: existing"),
             (2020, "new", "2018年度变更调查为耕地，2020年度变更调查为建设用地（跨越时间节点，按较晚的类别认定）",
              "farmland in 2018, built by 2020: straddles 2020-09-10, new"),
             (2022, "new", "2020年度变更调查为耕地，2022年度变更调查为建设用地", "farmland in 2020, built by 2022: new"),
             (None, "new", "2022年度变更调查仍为耕地", "still farmland in the last vintage (2022): new"))
    items, truth, fields, carves = [], [], [], []
    for since, status, dated_by, note in cases:
        site = s.take_site("field", pbf=True)
        x0, y0 = site.geometry.bounds[:2]
        geom = _offset_box(x0, y0, 29, 26, 41, 35)
        bid = s.new_building_id()
        items.append((geom, {"building_id": bid, "built_year": None, "owner_id": s.people.new(born=(1950, 1990)).id18}))
        where = f"{s.villages[site.village_id]['name']} site {site.site_id} ({site.dlbm}, PBF)"
        truth.append(TruthRow("FARM-BUILD", "buildings", bid, "violation",
                              f"108 m² house on PBF, built year unknown, dated by the survey series: {note}; {where}"))
        fields += [FieldTruth("FARM-BUILD", bid, "status", status, note),
                   FieldTruth("FARM-BUILD", bid, "dated_by", dated_by, note)]
        if since is not None:
            carves.append((_offset_box(x0, y0, 26, 23, 44, 38), "0702", since))
    base = s.layers["landuse_baseline"]
    history = pd.concat([_vintage(base, y, carves) for y in HISTORY_YEARS], ignore_index=True)
    history["_hid"] = np.arange(len(history))
    history = gpd.GeoDataFrame(history, geometry="geometry", crs=base.crs)
    return Plant(features={"buildings": building_rows(s, items), "landuse_history": history}, truth=truth,
                 fields=fields)


def _straddle_box(s: Sample, size: tuple[float, float] = (30.0, 20.0)) -> tuple[shapely.Polygon, str, str]:
    """A box on farmland across the boundary of two villages, clear of every site, feature and road.

    Returns the box and the ids of the villages holding its larger and its smaller part.
    """
    v = s.layers["villages"]
    lu, lub = s.layers["landuse"], s.layers["landuse_baseline"]
    farm_now = lu.geometry[is_farmland(lu["dlbm"])].to_numpy()
    farm_then = lub.geometry[is_farmland(lub["dlbm"])].to_numpy()
    blockers = np.concatenate([s.layers[k].geometry.to_numpy() for k in ("buildings", "approvals", "parcels", "waters")
                               if k in s.layers]
                              + [shapely.buffer(s.layers["roads"].geometry.to_numpy(), 15.0),
                                 shapely.buffer(np.asarray([x.geometry for x in s.sites], dtype=object), 5.0)])
    tree, now_tree, then_tree = shapely.STRtree(blockers), shapely.STRtree(farm_now), shapely.STRtree(farm_then)
    geoms, ids = v.geometry.to_numpy(), v["village_id"].to_numpy(dtype=object)
    w, h = size
    for i in range(len(v)):
        for j in range(i + 1, len(v)):
            line = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
            if line.length < 100:
                continue
            for d in np.arange(20.0, line.length - 20.0, 10.0):
                p = shapely.line_interpolate_point(line, d)
                # offset 3 m so that one village holds the larger part
                box = shapely.box(round(p.x - w / 2 + 3, 2), round(p.y - h / 2 + 3, 2), round(p.x + w / 2 + 3, 2),
                                  round(p.y + h / 2 + 3, 2))
                if len(tree.query(box, predicate="intersects")):
                    continue
                ok = all(shapely.area(shapely.intersection(box, shapely.union_all(g[t.query(box)]))) >= box.area - 0.01
                         for g, t in ((farm_now, now_tree), (farm_then, then_tree)))
                if not ok:
                    continue
                share = shapely.area(shapely.intersection(box, geoms[[i, j]]))
                if share.min() < 0.2 * box.area or abs(share[0] - share[1]) < 0.1 * box.area:
                    continue
                order = np.argsort(-share)
                return box, str(ids[[i, j]][order[0]]), str(ids[[i, j]][order[1]])
    raise LookupError("no farmland across a village boundary clear of every feature")


def plant_monitoring_patches(sample: Sample) -> Plant:
    """A batch of official monitoring patches (执法卫片 ``2026Q3``) for ``FARM-PATCH`` and ``FARM-DIG``.

    Every patch gets a ``FARM-PATCH`` finding (its truth row) and an expected ``judgement`` in
    ``truth_fields.csv``:

    * ``合法``: a patch wholly inside construction approval ``JS2025-0311``; one 96 % inside ``JS2025-0312``
      (≥ 95 %: legal, the near miss of the next); a 堆放 patch inside temporary approval ``LS2026-0105``
      valid until 2027-03-31 (a ``FARM-DIG`` near miss: approved);
    * ``违法``: one 94 % inside ``JS2025-0313`` (12.8 m² of farmland outside); a 750 m² 建/构筑物 patch on
      farmland (severity medium); a 900 m² one on PBF (high); a 推堆土 patch on farmland and a 取土 one on
      PBF (``FARM-DIG`` cases, medium and high); one straddling two villages (in the village holding its
      larger part);
    * ``其他``: a 硬化 patch and a 推堆土 one on the settlement's 0702 strip (non-farmland to non-farmland; the
      latter a ``FARM-DIG`` near miss).

    Nothing else in the sample changes (the batch is later than the surveys and the imagery).

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> plant = plant_monitoring_patches(build_base(0))
    >>> sorted({f.value for f in plant.fields if f.column == "judgement"})
    ['其他', '合法', '违法']
    """
    s = sample
    rows, truth, fields, approvals = [], [], [], []

    def patch(geom, change_type: str, judgement: str, village_id: str, note: str, **expected) -> str:
        pid = f"110117{PATCH_BATCH}{len(rows) + 1:04d}"
        rows.append({"patch_id": pid, "change_type": change_type, "before_date": PATCH_BEFORE,
                     "after_date": PATCH_AFTER, "batch": PATCH_BATCH, "patch_area_m2": round(geom.area, 2),
                     "geometry": geom})
        truth.append(TruthRow("FARM-PATCH", "monitoring_patches", pid, "violation",
                              f"{change_type} patch, pre-judged {judgement}: {note}"))
        fields.append(FieldTruth("FARM-PATCH", pid, "judgement", judgement, note))
        fields.append(FieldTruth("FARM-PATCH", pid, "village_id", village_id, note))
        for column, value in expected.items():
            fields.append(FieldTruth("FARM-PATCH", pid, column, value, note))
        return pid

    def approval(approval_id, kind, geom, valid_until=None):
        approvals.append({"approval_id": approval_id, "kind": kind, "valid_until": valid_until,
                          "approved_area_m2": round(geom.area, 1), "geometry": geom})

    # an edge site: three construction approvals (no building yet) and the 0702 strip north of the farmland
    site = s.take_site("edge", pbf=False)
    x0, y0 = site.geometry.bounds[:2]
    box = lambda a, b, c, d: _offset_box(x0, y0, a, b, c, d)  # noqa: E731
    vid, where = site.village_id, f"{s.villages[site.village_id]['name']} site {site.site_id} ({site.dlbm}, not PBF)"
    approval("JS2025-0311", "construction", box(5, 5, 25, 25))
    approval("JS2025-0312", "construction", box(30, 5, 50, 25))
    approval("JS2025-0313", "construction", box(55, 5, 65, 25))
    patch(box(6, 6, 24, 24), "建/构筑物", "合法", vid, f"wholly inside construction approval JS2025-0311; {where}",
          related_ids="JS2025-0311", severity="low")
    patch(box(30, 5, 50.83, 25), "建/构筑物", "合法", vid,
          f"400 of 416.6 m² (96.0 %) inside JS2025-0312, ≥ 95 %: legal; {where}", related_ids="JS2025-0312")
    patch(box(55, 5, 65.64, 25), "硬化", "违法", vid,
          f"200 of 212.8 m² (94.0 %) inside JS2025-0313, < 95 %: 12.8 m² of farmland without approval; {where}",
          severity="medium")
    strip = site.edge_y - y0
    patch(box(10, strip + 2, 30, strip + 10), "硬化", "其他", vid, f"160 m² on the settlement's 0702 strip; {where}",
          severity="low")
    pid = patch(box(40, strip + 2, 60, strip + 10), "推堆土", "其他", vid,
                f"spoil heaped on the settlement's 0702 strip (not farmland); {where}")
    truth.append(TruthRow("FARM-DIG", "monitoring_patches", pid, "near_miss",
                          f"推堆土 patch on 0702 (not farmland): no FARM-DIG; {where}"))

    # an edge site: building and dumping on farmland, dumping under a temporary approval
    site = s.take_site("edge", pbf=False)
    x0, y0 = site.geometry.bounds[:2]
    vid, where = site.village_id, f"{s.villages[site.village_id]['name']} site {site.site_id} ({site.dlbm}, not PBF)"
    patch(box(5, 5, 35, 30), "建/构筑物", "违法", vid, f"750 m² on farmland, no approval; {where}", severity="medium")
    pid = patch(box(40, 5, 65, 30), "推堆土", "违法", vid, f"625 m² of spoil on farmland; {where}",
                status="new", dated_by=f"2022年度变更调查仍为耕地，卫片后时相{_PATCH_AFTER_ISO}")
    truth.append(TruthRow("FARM-DIG", "monitoring_patches", pid, "violation",
                          f"推堆土 patch, 625 m² on farmland (not PBF): medium; {where}"))
    fields += [FieldTruth("FARM-DIG", pid, "severity", "medium", "not PBF"),
               FieldTruth("FARM-DIG", pid, "status", "new", "farmland in every vintage, image of 2026-07-15"),
               FieldTruth("FARM-DIG", pid, "dated_by", f"2022年度变更调查仍为耕地，卫片后时相{_PATCH_AFTER_ISO}",
                          "farmland in every vintage, image of 2026-07-15")]
    approval("LS2026-0105", "temporary", box(40, 33, 66, 48), valid_until="2027-03-31")
    pid = patch(box(42, 35, 64, 46), "临时堆放压占", "合法", vid,
                f"materials stored inside temporary approval LS2026-0105 valid until 2027-03-31; {where}",
                related_ids="LS2026-0105")
    truth.append(TruthRow("FARM-DIG", "monitoring_patches", pid, "near_miss",
                          f"堆放 patch inside a temporary approval valid at the image date: no FARM-DIG; {where}"))

    # a PBF field site: a building and a pit
    site = s.take_site("field", pbf=True)
    x0, y0 = site.geometry.bounds[:2]
    vid, where = site.village_id, f"{s.villages[site.village_id]['name']} site {site.site_id} ({site.dlbm}, PBF)"
    patch(box(5, 10, 35, 40), "建/构筑物", "违法", vid, f"900 m² on PBF, no approval: high; {where}", severity="high",
          status="new", dated_by=f"2022年度变更调查仍为耕地，卫片后时相{_PATCH_AFTER_ISO}")
    pid = patch(box(40, 10, 65, 40), "取土", "违法", vid, f"750 m² pit dug in PBF; {where}", severity="high")
    truth.append(TruthRow("FARM-DIG", "monitoring_patches", pid, "violation", f"取土 patch, 750 m² on PBF: high; {where}"))
    fields.append(FieldTruth("FARM-DIG", pid, "severity", "high", "on PBF"))

    # across two villages
    geom, big, small = _straddle_box(s)
    patch(geom, "硬化", "违法", big, f"600 m² on farmland across the boundary of villages {big} (larger part) and {small}")
    return Plant(features={"monitoring_patches": frame(rows), "approvals": frame(approvals)}, truth=truth, fields=fields)
