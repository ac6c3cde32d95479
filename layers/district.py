"""The loaded district: every layer normalised into one working CRS and assigned to its village."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.crs import choose_working_crs, to_crs
from spatial.errors import LayerError
from spatial.overlay import candidate_pairs
from spatial.repair import repair_geometries
from spatial.subdivide import subdivide

from .config import LayerSource, ProjectConfig, config_for_data
from .idnumbers import normalise_ids
from .landuse import is_known
from .limits import LimitSet
from .quality import QualityReport
from .readers import canonical_frame, read_layer
from .roles import REQUIRED_ROLES, ROLES

__all__ = ["District", "load_district", "make_district", "assign_villages"]

# layers whose few, huge polygons span many villages: not assigned a single village
_SPANNING = ("eco_redline", "nature_reserves", "protected_zones")


def assign_villages(geoms, villages: gpd.GeoDataFrame, *, max_vertices: int = 1024) -> np.ndarray:
    """The ``village_id`` holding the largest part of each geometry (None outside every village).

    Polygons go by area of overlap, lines by length, points by containment. Geometries with many
    vertices are subdivided first so that a huge polygon costs no more than its pieces.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": ["A", "B"]},
    ...                      geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4548)
    >>> assign_villages([shapely.box(8, 1, 15, 2), shapely.box(50, 50, 51, 51)], v).tolist()
    ['B', None]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0 or villages is None or villages.empty:
        return out
    vg = villages.geometry.to_numpy()
    vid = villages["village_id"].to_numpy(dtype=object)
    big = shapely.get_num_coordinates(geoms) > max_vertices
    pieces, source = subdivide(geoms[big], max_vertices=max_vertices) if big.any() else (np.empty(0, object), np.empty(0, int))
    work = np.concatenate([geoms[~big], pieces])
    owner = np.concatenate([np.flatnonzero(~big), np.flatnonzero(big)[source]]) if len(pieces) else np.flatnonzero(~big)
    li, ri = candidate_pairs(work, vg)
    if len(li) == 0:
        return out
    n_cand = np.bincount(owner[li], minlength=len(geoms))
    single = n_cand[owner[li]] == 1
    weight = np.ones(len(li))
    multi = ~single
    if multi.any():
        inter = shapely.intersection(work[li[multi]], vg[ri[multi]])
        dim = shapely.get_dimensions(work[li[multi]])
        weight[multi] = np.where(dim == 2, shapely.area(inter), np.where(dim == 1, shapely.length(inter), 1.0))
    frame = pd.DataFrame({"owner": owner[li], "village": ri, "w": weight})
    frame = frame.groupby(["owner", "village"], sort=False, as_index=False)["w"].sum()
    frame = frame[frame["w"] > 0].sort_values(["owner", "w", "village"], ascending=[True, False, True])
    best = frame.drop_duplicates("owner")
    out[best["owner"].to_numpy()] = vid[best["village"].to_numpy()]
    return out


@dataclass
class District:
    """A district's layers, normalised and ready for the rules.

    Attributes
    ----------
    layers : dict of str -> GeoDataFrame
        Role name -> features in the working CRS with the role's canonical columns; every layer but the
        spanning ones (eco red line, nature reserves, protected zones) has a ``village_id``.
    crs : pyproj.CRS
        The working CRS (metres).
    config : ProjectConfig
    quality : QualityReport
    as_of : datetime.date
        The run date for deadlines.
    limits : LimitSet
        Rule limits with per-township overrides.
    rasters : dict of str -> Path
    cache : dict
        Derived data analyses may keep for the length of a run (e.g. the farmland cover).

    Examples
    --------
    >>> from layers.sample import generate_sample          # doctest: +SKIP
    >>> d = load_district(config=generate_sample("sample")) # doctest: +SKIP
    >>> d["parcels"].crs.to_epsg()                         # doctest: +SKIP
    4548
    """

    layers: dict[str, gpd.GeoDataFrame]
    crs: CRS
    config: ProjectConfig
    quality: QualityReport
    as_of: dt.date
    limits: LimitSet
    rasters: dict[str, Path] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)

    def __contains__(self, role: str) -> bool:
        frame = self.layers.get(role)
        return frame is not None

    def __getitem__(self, role: str) -> gpd.GeoDataFrame:
        try:
            return self.layers[role]
        except KeyError:
            raise LayerError(f"layer {role!r} was not given; add [layers.{role}] to the configuration") from None

    def get(self, role: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the role was not given."""
        return self.layers.get(role)

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The villages layer."""
        return self.layers["villages"]

    def townships_of(self, village_ids) -> pd.Series:
        """Township name of each village id (None when unknown).

        Examples
        --------
        >>> # district.townships_of(findings["village_id"])
        """
        lookup = self.villages.set_index("village_id")["township"]
        return pd.Series(village_ids, dtype=object).map(lookup).astype(object)

    def limit(self, key: str, village_ids) -> np.ndarray:
        """Per-row value of limit ``key`` for rows in the given villages (township overrides applied)."""
        return self.limits.per_row(key, self.townships_of(village_ids))

    def village_layers(self, village_id: str) -> dict[str, gpd.GeoDataFrame]:
        """Every layer's features that intersect one village's polygon (for maps and exports)."""
        v = self.villages[self.villages["village_id"] == village_id]
        if v.empty:
            raise LayerError(f"village {village_id!r} is not in the villages layer")
        shape = v.geometry.iloc[0]
        out = {}
        for role, frame in self.layers.items():
            if frame is None or frame.empty:
                out[role] = frame
                continue
            idx = frame.sindex.query(shape, predicate="intersects")
            out[role] = frame.iloc[np.sort(idx)]
        return out


def _report_progress(progress, text):
    if progress is not None:
        progress(text)


def load_district(data: str | os.PathLike | None = None, config: str | os.PathLike | ProjectConfig | None = None,
                  *, as_of: dt.date | None = None,
                  progress: Callable[[str], None] | None = None) -> District:
    """Read, repair, reproject and village-assign every layer of a project.

    Parameters
    ----------
    data : path-like, optional
        A GeoPackage with canonical layer names, or a folder (see :func:`layers.config.config_for_data`).
    config : path-like or ProjectConfig, optional
        A ``landguard.toml`` (or an already loaded configuration).
    as_of : datetime.date, optional
        Run date for deadlines; default the configuration's ``as_of``, else today.
    progress : callable, optional
        Called with a short text as each layer is read.

    Raises
    ------
    LayerError
        A required layer is missing or unreadable (one line naming it).

    Examples
    --------
    >>> d = load_district("district.gpkg")   # doctest: +SKIP
    >>> sorted(d.layers)[:3]                 # doctest: +SKIP
    ['approvals', 'buildings', 'cemeteries']
    """
    cfg = config if isinstance(config, ProjectConfig) else config_for_data(data, config)
    missing = [r for r in REQUIRED_ROLES if r not in cfg.layers]
    if missing:
        where = cfg.source or data
        raise LayerError(f"{where}: required layer {missing[0]!r} ({ROLES[missing[0]].label}) is missing; "
                         f"add [layers.{missing[0]}] with its path, or a layer named {missing[0]!r}")
    quality = QualityReport()
    raw: dict[str, gpd.GeoDataFrame] = {}
    for role, src in cfg.layers.items():
        _report_progress(progress, f"读取 {role}")
        frame, notes = read_layer(role, src)
        for k, v in notes.items():
            quality.count(role, k, v)
        raw[role] = frame
    return _build(raw, cfg, as_of, quality, progress)


def make_district(frames: dict[str, gpd.GeoDataFrame], *, as_of: dt.date | None = None,
                  config: ProjectConfig | None = None) -> District:
    """A District from frames in memory (Jupyter, tests): same normalisation as :func:`load_district`.

    Parameters
    ----------
    frames : dict of role -> GeoDataFrame
        Canonical (or well-known) column names, any CRS; the required roles must be present.
    as_of : datetime.date, optional
    config : ProjectConfig, optional
        Limits, township overrides, working CRS.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": ["V1"], "name": ["甲村"], "township": ["甲镇"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508100, 4443100)], crs=4548)
    >>> p = gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[shapely.box(508010, 4443010, 508020, 4443020)], crs=4548)
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(508011, 4443011, 508019, 4443019)], crs=4548)
    >>> lu = gpd.GeoDataFrame({"dlbm": ["0702"]}, geometry=[v.geometry.iloc[0]], crs=4548)
    >>> d = make_district({"villages": v, "parcels": p, "buildings": b, "landuse": lu})
    >>> d["buildings"]["village_id"].tolist(), d.crs.to_epsg()
    (['V1'], 4548)
    """
    cfg = config or ProjectConfig()
    missing = [r for r in REQUIRED_ROLES if r not in frames]
    if missing:
        raise LayerError(f"required layer {missing[0]!r} ({ROLES[missing[0]].label}) is missing")
    quality = QualityReport()
    raw = {}
    for role, frame in frames.items():
        raw[role], notes = canonical_frame(role, frame)
        for k, v in notes.items():
            quality.count(role, k, v)
    cfg = cfg.model_copy(update={"layers": {r: LayerSource(path="<memory>") for r in frames}})
    return _build(raw, cfg, as_of, quality, None)


def _build(raw: dict[str, gpd.GeoDataFrame], cfg: ProjectConfig, as_of, quality: QualityReport,
           progress) -> District:
    for role in list(raw):
        frame = raw[role]
        quality.count(role, "read", len(frame))
        geoms, keep, counts = repair_geometries(frame.geometry.to_numpy(), ROLES[role].geometry)
        for k, v in counts.as_dict().items():
            quality.count(role, k, v)
        frame = frame[keep].copy()
        frame = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=frame.crs)
        raw[role] = frame.reset_index(drop=True)
    quality.missing_roles = [r for r in ROLES if r not in cfg.layers]
    crs = choose_working_crs([f for f in raw.values() if not f.empty], cfg.project.working_crs)
    layers = {role: to_crs(frame, crs, name=role) for role, frame in raw.items()}
    _fill_ids(layers, quality)
    villages = layers["villages"]
    if villages.empty:
        raise LayerError("villages: the layer has no features; every finding needs a village")
    for role, frame in layers.items():
        if role == "villages" or role in _SPANNING:
            continue
        _report_progress(progress, f"分配行政村 {role}")
        assigned = assign_villages(frame.geometry.to_numpy(), villages)
        if "village_id" in frame.columns:
            given = frame["village_id"].to_numpy(dtype=object)
            known = pd.Series(given).isin(villages["village_id"]).to_numpy()
            assigned = np.where(known, given, assigned)
        frame["village_id"] = pd.Series(assigned, index=frame.index, dtype=object)
        quality.count(role, "outside_villages", int(pd.isna(frame["village_id"]).sum()))
    for role in ("landuse", "landuse_baseline"):
        if role in layers:
            quality.count(role, "unknown_codes", int((~is_known(layers[role]["dlbm"])).sum()))
    _check_owner_ids(layers["parcels"], quality)
    for role, frame in layers.items():
        quality.count(role, "kept", len(frame))
    rasters = {name: cfg.raster_path(name) for name in cfg.rasters}
    return District(layers=layers, crs=crs, config=cfg, quality=quality,
                    as_of=as_of or cfg.project.as_of or dt.date.today(), limits=cfg.limit_set(),
                    rasters=rasters)


def _fill_ids(layers: dict[str, gpd.GeoDataFrame], quality: QualityReport) -> None:
    """Give features without an id one from their row, and count duplicated ids."""
    for role, frame in layers.items():
        col = ROLES[role].id_column
        if col is None or col not in frame.columns:
            continue
        missing = frame[col].isna().to_numpy()
        if missing.any():
            filled = frame[col].to_numpy(dtype=object).copy()
            filled[missing] = [f"{role}#{i + 1}" for i in np.flatnonzero(missing)]
            frame[col] = pd.Series(filled, index=frame.index, dtype=object)
            if role not in ("eco_redline", "nature_reserves", "protected_zones", "waters"):
                quality.count(role, "missing_ids", int(missing.sum()))
        dup = frame[col].duplicated(keep=False) & frame[col].notna()
        if dup.any() and role not in ("eco_redline", "nature_reserves", "protected_zones", "waters"):
            quality.count(role, "duplicated_ids", int(dup.sum()))


def _check_owner_ids(parcels: gpd.GeoDataFrame, quality: QualityReport) -> None:
    """List parcels whose owner ID number fails the GB 11643 check (they are never matched on it)."""
    given = parcels["owner_id"].notna()
    _, valid = normalise_ids(parcels["owner_id"])
    bad = parcels.loc[given.to_numpy() & ~valid.to_numpy(), ["parcel_id", "owner_id"]]
    from .privacy import mask_id_number

    quality.invalid_ids = [{"parcel_id": p, "owner_id": mask_id_number(o)}
                           for p, o in zip(bad["parcel_id"], bad["owner_id"])]
