"""The in-memory sample district that base geography and planters build together.

Everything is built in EPSG:4548 (CGCS2000 / 3-degree Gauss-Krüger CM 117°E, metres); the writer
reprojects some layers to EPSG:4490 on the way out. Columns whose name starts with ``_`` are private
to the generator (e.g. the true roof heights the nDSM is drawn from) and are never written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .people import People

__all__ = ["WORKING_EPSG", "AS_OF", "ORIGIN", "SIZE", "ID_COLUMNS", "TruthRow", "FieldTruth", "LandcoverChange", "Plant",
           "Site", "Sample", "frame", "building_rows", "updated_rows", "BUILDING_DEFAULTS"]

#: CRS everything is built in.
WORKING_EPSG = 4548
#: The run date the truth is written for (``[project] as_of`` of the generated landguard.toml).
AS_OF = dt.date(2026, 11, 22)
#: South-west corner of the district in EPSG:4548 (about 117.05°E, 40.11°N, Pinggu).
ORIGIN = (504000.0, 4442000.0)
#: Width and height of the district in metres.
SIZE = (9000.0, 6000.0)

#: The column a planted row is matched on when it replaces a base row, per layer.
ID_COLUMNS = {
    "villages": "village_id", "parcels": "parcel_id", "buildings": "building_id", "landuse": "tbbh",
    "landuse_baseline": "tbbh", "pbf": "pbf_id", "eco_redline": "name", "nature_reserves": "name",
    "roads": "road_id", "waters": "name", "approvals": "approval_id", "protected_zones": "name",
    "cemeteries": "cemetery_id", "graves": "grave_id", "farmland_protection": "space_id",
    "monitoring_patches": "patch_id", "landuse_history": "_hid",
    "village_plan": "name", "field_grids": "grid_id",
}


@dataclass(frozen=True)
class TruthRow:
    """One planted case: ``expect`` is ``violation`` (must be found) or ``near_miss`` (must not be)."""

    rule_id: str
    subject_layer: str
    subject_id: str
    expect: str
    note: str

    def __post_init__(self) -> None:
        if self.expect not in ("violation", "near_miss"):
            raise ValueError(f"expect must be 'violation' or 'near_miss', not {self.expect!r}")


@dataclass(frozen=True)
class FieldTruth:
    """The expected value of one column of a planted finding (``truth_fields.csv``): e.g. the ``status``
    and ``dated_by`` the survey series gives it, or a monitoring patch's ``judgement``."""

    rule_id: str
    subject_id: str
    column: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class LandcoverChange:
    """A patch burnt into ``landcover_after`` with class ``after`` (1 cropland … 6 bare)."""

    change_id: str
    geometry: shapely.Geometry
    after: int
    note: str = ""


@dataclass
class Plant:
    """What one planter returns.

    Attributes
    ----------
    features : dict of str -> GeoDataFrame
        Rows per layer (EPSG:4548, canonical columns). A row whose id (``ID_COLUMNS``) already exists
        replaces the base row; any other row is added.
    truth : list of TruthRow
    landcover_changes : list of LandcoverChange
    fields : list of FieldTruth
    """

    features: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    truth: list[TruthRow] = field(default_factory=list)
    landcover_changes: list[LandcoverChange] = field(default_factory=list)
    fields: list[FieldTruth] = field(default_factory=list)


@dataclass(frozen=True)
class Site:
    """A free farmland patch the base geography keeps for planters (nothing stands on it).

    ``kind`` is ``field`` (a patch 70 m x 60 m among fields, 110 m or more from the settlement) or
    ``edge`` (70 m x 50 m whose north side is the settlement's 0702 patch edge at ``edge_y``; the
    12 m strip of 0702 north of it holds no parcel). Coordinates are on the 2 m raster grid.
    """

    site_id: str
    kind: str
    village_id: str
    geometry: shapely.Polygon
    dlbm: str
    tbbh: str
    pbf_id: str | None
    edge_y: float | None = None

    @property
    def on_pbf(self) -> bool:
        return self.pbf_id is not None


class Sample:
    """The district under construction: layers (EPSG:4548), metadata, and who has taken what."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.people = People(self.rng)
        self.layers: dict[str, gpd.GeoDataFrame] = {}
        #: one row per parcel (index parcel_id): village_id, row (north/south half of its block; north
        #: parcels have the street or the settlement margin along their north side), x0, x1, y0, y1,
        #: west/east neighbour parcel_id, main_building/side_building ids, the house's rear clearance
        #: and depth
        self.parcel_meta = pd.DataFrame()
        #: village_id -> dict(name, township, col, row, cx, cy, settlement polygon, ...)
        self.villages: dict[str, dict] = {}
        self.sites: list[Site] = []
        self.truth: list[TruthRow] = []
        #: expected column values of planted findings (truth_fields.csv)
        self.fields: list[FieldTruth] = []
        self.landcover_changes: list[LandcoverChange] = []
        #: IDs written with a deliberately wrong check digit (for tests)
        self.intended_invalid_ids: list[str] = []
        #: villages drawn in the nDSM and orthophoto
        self.raster_villages: list[str] = []
        self._taken: set[str] = set()
        self._counters: dict[str, int] = {}

    # ---- ids -------------------------------------------------------------------------------
    def next_number(self, key: str, start: int = 1) -> int:
        """Next number of the sequence ``key`` (1, 2, … unless ``start`` says otherwise)."""
        n = self._counters.get(key, start - 1) + 1
        self._counters[key] = n
        return n

    def new_building_id(self) -> str:
        """A fresh building id ``B000123`` following the base buildings."""
        return f"B{self.next_number('building'):06d}"

    # ---- taking base features for planting ----------------------------------------------------
    def take_parcel(self, village_id: str | None = None, *, row: str | None = None, min_width: float = 0.0,
                    east_neighbour: bool = False, side_building: bool | None = False,
                    among=None) -> str:
        """Reserve a base parcel no planter has used yet and return its parcel_id.

        Parameters
        ----------
        village_id : str, optional
            Only parcels of this village.
        row : {"north", "south"}, optional
            ``north`` parcels have the street along their north side (their house's rear faces it).
        min_width : float
            Minimum east-west width in metres.
        east_neighbour : bool
            Only parcels with a parcel sharing their east side (same block row).
        side_building : bool or None
            True: only parcels with a second (side) building; False (default): only parcels without
            one; None: either.
        among : collection of str, optional
            Only these parcel_ids (e.g. the parcels along the settlement's edge).
        """
        m = self.parcel_meta
        ok = ~m.index.isin(list(self._taken)) & ((m["x1"] - m["x0"]) >= min_width)
        if village_id is not None:
            ok &= m["village_id"] == village_id
        if row is not None:
            ok &= m["row"] == row
        if east_neighbour:
            ok &= m["east"].notna()
        if side_building is not None:
            ok &= m["side_building"].notna() == side_building
        if among is not None:
            ok &= m.index.isin(list(among))
        candidates = m.index[ok]
        if len(candidates) == 0:
            raise LookupError(f"no free parcel with village={village_id} row={row} min_width={min_width}")
        pid = str(candidates[self.rng.integers(len(candidates))])
        self._taken.add(pid)
        if east_neighbour:
            self._taken.add(str(m.at[pid, "east"]))  # keep the neighbour as it is
        return pid

    def take_site(self, kind: str, *, village_id: str | None = None, pbf: bool | None = None) -> Site:
        """Reserve a free farmland :class:`Site` (``kind`` ``field`` or ``edge``)."""
        for site in self.sites:
            if site.site_id in self._taken or site.kind != kind:
                continue
            if village_id is not None and site.village_id != village_id:
                continue
            if pbf is not None and site.on_pbf != pbf:
                continue
            self._taken.add(site.site_id)
            return site
        raise LookupError(f"no free {kind} site in village={village_id} pbf={pbf}")

    def village_ids(self, row: str | None = None) -> list[str]:
        """Village ids in grid order (south row first, west to east)."""
        out = [v for v, info in self.villages.items() if row is None or info["row"] == row]
        return sorted(out, key=lambda v: (self.villages[v]["row"] != "south", self.villages[v]["col"]))

    def row_of(self, layer: str, ident: str) -> pd.Series:
        """The row of ``layer`` whose id column equals ``ident``."""
        frame = self.layers[layer]
        hit = frame.index[frame[ID_COLUMNS[layer]] == ident]
        if len(hit) != 1:
            raise KeyError(f"{layer}: {ident!r} found {len(hit)} times")
        return frame.loc[hit[0]]

    # ---- applying plants ---------------------------------------------------------------------------
    def apply(self, plant: Plant) -> None:
        """Upsert the plant's features (by id column), record its truth rows and raster changes."""
        for layer, rows in plant.features.items():
            if rows is None or len(rows) == 0:
                continue
            if rows.crs is None or rows.crs.to_epsg() != WORKING_EPSG:
                raise ValueError(f"plant for {layer}: features must be in EPSG:{WORKING_EPSG}")
            key = ID_COLUMNS[layer]
            if layer not in self.layers:  # a layer only planters fill (graves, farmland_protection)
                self.layers[layer] = gpd.GeoDataFrame(rows.reset_index(drop=True), geometry="geometry", crs=WORKING_EPSG)
                continue
            base = self.layers[layer]
            rows = rows.reset_index(drop=True)
            if rows[key].duplicated().any():
                raise ValueError(f"plant for {layer}: duplicate {key} values")
            position = {k: i for i, k in enumerate(base[key])}
            order = list(base.columns) + [c for c in rows.columns if c not in base.columns]
            merged = pd.concat([base.reindex(columns=order), rows.reindex(columns=order)], ignore_index=True)
            merged = merged.drop_duplicates(subset=key, keep="last")
            rank = merged[key].map(lambda k: position.get(k, len(position))).to_numpy()
            merged = merged.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
            self.layers[layer] = gpd.GeoDataFrame(merged, geometry="geometry", crs=WORKING_EPSG)
        self.truth.extend(plant.truth)
        self.landcover_changes.extend(plant.landcover_changes)
        self.fields.extend(plant.fields)


def frame(records: list[dict], crs: int = WORKING_EPSG) -> gpd.GeoDataFrame:
    """A GeoDataFrame from dict records that each hold a ``geometry``.

    Examples
    --------
    >>> frame([{"name": "金海湖", "geometry": shapely.Point(508000, 4446000)}]).crs.to_epsg()
    4548
    """
    if not records:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=crs)
    return gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry="geometry", crs=crs)


#: Default attributes of a planted building (override what the case needs).
BUILDING_DEFAULTS = {
    "floors": 1, "basement": False, "roof": "pitched", "eave_height_m": 3.2, "ridge_height_m": 5.6,
    "downspout": False, "row_house": False, "owner_id": None, "approval_id": None, "built_year": 2022,
    "use": "residential",
}


def building_rows(sample: Sample, items: list[tuple[shapely.Geometry, dict]]) -> gpd.GeoDataFrame:
    """New buildings (fresh ids) from (geometry, attribute overrides) pairs.

    The private ``_eave_true``/``_ridge_true`` columns (what the nDSM draws) follow the attributes
    unless the overrides give them (e.g. a building whose heights are missing from the table).

    Examples
    --------
    >>> s = Sample(0)
    >>> rows = building_rows(s, [(shapely.box(0, 0, 10, 8), {"floors": 2, "eave_height_m": 6.5})])
    >>> rows.loc[0, "building_id"], int(rows.loc[0, "floors"]), float(rows.loc[0, "_eave_true"])
    ('B000001', 2, 6.5)
    """
    records = []
    for geom, attrs in items:
        row = dict(BUILDING_DEFAULTS)
        row.update(attrs)
        row.setdefault("building_id", sample.new_building_id())
        row.setdefault("_eave_true", row["eave_height_m"])
        row.setdefault("_ridge_true", row["ridge_height_m"])
        row["geometry"] = geom
        records.append(row)
    out = frame(records)
    out["built_year"] = pd.array(out["built_year"], dtype="Int64")
    return out


def updated_rows(sample: Sample, layer: str, changes: dict[str, dict]) -> gpd.GeoDataFrame:
    """Copies of existing rows of ``layer`` (by id) with ``changes[id]`` applied, ready for a Plant.

    Examples
    --------
    >>> from landguard.sample.base import build_base
    >>> s = build_base(0)
    >>> pid = s.layers["parcels"]["parcel_id"].iloc[0]
    >>> updated_rows(s, "parcels", {pid: {"owner_id": None}})["owner_id"].isna().tolist()
    [True]
    """
    base = sample.layers[layer]
    key = ID_COLUMNS[layer]
    rows = base.loc[base[key].isin(list(changes))].copy()
    missing = set(changes) - set(rows[key])
    if missing:
        raise KeyError(f"{layer}: no rows with {key} in {sorted(missing)}")
    rows = rows.set_index(key, drop=False)
    for ident, attrs in changes.items():
        for col, value in attrs.items():
            if col == "geometry":
                rows.loc[ident, "geometry"] = value
            else:
                rows[col] = rows[col].astype(object) if value is None or isinstance(value, str) else rows[col]
                rows.loc[ident, col] = value
    return gpd.GeoDataFrame(rows.reset_index(drop=True), geometry="geometry", crs=base.crs)
