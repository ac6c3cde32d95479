"""Splitting a district into chunks of neighbouring villages: Hilbert order, regions with halos, chunk districts."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import District
from layers.quality import QualityReport
from layers.roles import ROLES

__all__ = ['HALO_M', 'partition_villages', 'chunk_district', 'halo_for', 'reach_keys']

#: Least metres added around a chunk's region; more when a reach limit (:func:`reach_keys`) says a rule looks
#: farther around its subject (twice the largest such limit).
HALO_M = 100.0
_SPANNING = ("eco_redline", "nature_reserves", "protected_zones")
# context only, never a rule's subject, and often long (a road or river crosses many villages): they come
# into a chunk where they meet its region but do not stretch the region to their whole length
_CONTEXT = ("roads", "waters")


# --------------------------------------------------------------------------------------------------
# partition
# --------------------------------------------------------------------------------------------------
def partition_villages(villages: gpd.GeoDataFrame, n_chunks: int, weights=None) -> list[list[str]]:
    """Cut the villages into ``n_chunks`` groups of neighbours along a Hilbert curve, balanced by ``weights``.

    Parameters
    ----------
    villages : GeoDataFrame
        With ``village_id``.
    n_chunks : int
        Number of groups (at most one per village).
    weights : array-like, optional
        Work per village (e.g. its feature count); default 1 each.

    Returns
    -------
    list of list of str
        Village ids per group; every village in exactly one group.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": list("ABCD")},
    ...                      geometry=[shapely.box(x, 0, x + 1, 1) for x in (0, 3, 1, 2)], crs=4548)
    >>> partition_villages(v, 2)
    [['C', 'A'], ['B', 'D']]
    """
    ids = villages["village_id"].astype(str).to_numpy(dtype=object)
    if len(ids) == 0:
        return []
    n_chunks = max(1, min(int(n_chunks), len(ids)))
    geoms = villages.geometry
    bounds = tuple(geoms.total_bounds)
    if bounds[2] - bounds[0] <= 0 or bounds[3] - bounds[1] <= 0:
        order = np.argsort(ids, kind="stable")
    else:
        h = gpd.GeoSeries(shapely.centroid(geoms.to_numpy()), crs=villages.crs).hilbert_distance(
            total_bounds=bounds, level=16).to_numpy()
        order = np.lexsort((ids, h))
    w = np.ones(len(ids)) if weights is None else np.asarray(weights, dtype=float)[order] + 1.0
    cum = np.cumsum(w)
    # the group of each village: which of n equal slices of the total work its middle falls in
    group = np.minimum((((cum - w / 2) / cum[-1]) * n_chunks).astype(int), n_chunks - 1)
    out = [ids[order][group == g].tolist() for g in range(n_chunks)]
    return [g for g in out if g]


@dataclass
class _Plan:
    """What the parent works out once: who owns what, and each chunk's region."""

    district: District
    chunks: list[list[str]]
    regions: list[shapely.Geometry]
    owners: dict[str, np.ndarray]  # role -> owning village of each row
    rule_ids: list[str]
    lookups: dict[str, pd.Series] = field(default_factory=dict)  # role -> owner by (unique) id
    fail_fast: bool = True

    def owner_by_id(self, layer: str) -> pd.Series:
        """Owning village by subject id for the rows of ``layer`` whose id is unique."""
        if layer not in self.lookups:
            col = ROLES[layer].id_column
            raw = self.district.layers[layer][col].to_numpy(dtype=object)
            missing = pd.isna(raw)
            ids = pd.Series(np.where(missing, None, raw.astype(str)).astype(object))  # ids as text, as in findings
            unique = ~ids.duplicated(keep=False).to_numpy()
            self.lookups[layer] = pd.Series(self.owners[layer][unique], index=ids.to_numpy(dtype=object)[unique])
        return self.lookups[layer]


def _owners(district: District) -> dict[str, np.ndarray]:
    """The owning village of every row of every non-spanning layer (nearest village when outside all)."""
    villages = district.villages
    vid = villages["village_id"].astype(str).to_numpy(dtype=object)
    out = {}
    for role, frame in district.layers.items():
        if frame is None or role in _SPANNING:
            continue
        if role == "villages":
            out[role] = vid
            continue
        own = frame["village_id"].to_numpy(dtype=object).copy() if "village_id" in frame.columns else \
            np.full(len(frame), None, dtype=object)
        missing = pd.isna(own)
        if missing.any():
            pts = shapely.point_on_surface(frame.geometry.to_numpy()[missing])
            _, nearest = villages.sindex.nearest(pts, return_all=False)
            own[missing] = vid[nearest]
        out[role] = own.astype(str).astype(object)
    return out


def _village_boxes(district: District, owners: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per village: the bounding box (a, b, c, d) of the village and of everything it owns, and its row count n."""
    vid = district.villages["village_id"].astype(str).to_numpy(dtype=object)
    boxes = [pd.DataFrame(shapely.bounds(district.villages.geometry.to_numpy()), columns=list("abcd")).assign(v=vid)]
    for role, own in owners.items():
        if role != "villages" and role not in _CONTEXT and len(own):
            b = pd.DataFrame(shapely.bounds(district.layers[role].geometry.to_numpy()), columns=list("abcd"))
            boxes.append(b.assign(v=own))
    allb = pd.concat(boxes, ignore_index=True).dropna(subset=["a"])
    return allb.groupby("v").agg(a=("a", "min"), b=("b", "min"), c=("c", "max"), d=("d", "max"), n=("a", "size"))


def _regions(per: pd.DataFrame, chunks: list[list[str]], halo: float) -> list[shapely.Geometry]:
    """Each chunk's region: the union of its villages' boxes, each grown by ``halo``."""
    out = []
    for chunk in chunks:
        p = per.reindex(chunk).dropna()
        boxes = shapely.box(p["a"] - halo, p["b"] - halo, p["c"] + halo, p["d"] + halo)
        out.append(shapely.union_all(boxes))
    return out


def reach_keys() -> list[str]:
    """Limit keys declared as a reach (``json_schema_extra={"reach": True}``): how far a rule looks around
    its subject. A chunk's halo is computed from them.

    Examples
    --------
    >>> "cemetery_road_distance_m" in reach_keys()
    True
    """
    from layers.limits import Limits

    return [k for k, f in Limits.model_fields.items() if (f.json_schema_extra or {}).get("reach")]


def _numbers(value) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if hasattr(value, "model_dump"):
        return _numbers(value.model_dump())
    return []


def halo_for(district: District, halo: float = HALO_M) -> float:
    """Metres around a chunk: ``halo``, or twice the largest reach limit (district or township) when more.

    Examples
    --------
    >>> # halo_for(district) -> 100.0 with the default limits (cemetery road distance 50 m)
    """
    values = [halo]
    for lim in [district.limits.default, *district.limits.townships.values()]:
        for key in reach_keys():
            values.extend(2.0 * v for v in _numbers(getattr(lim, key)))
    return max(values)


def _plan(district: District, n_chunks: int, rule_ids: list[str], halo: float,
          chunks: list[list[str]] | None = None) -> _Plan:
    owners = _owners(district)
    per = _village_boxes(district, owners)
    if chunks is None:
        vid = district.villages["village_id"].astype(str).to_numpy(dtype=object)
        chunks = partition_villages(district.villages, n_chunks, per["n"].reindex(vid).fillna(0).to_numpy())
    for frame in district.layers.values():  # build every spatial index once, before any worker starts
        if frame is not None and len(frame):
            frame.sindex
    return _Plan(district, chunks, _regions(per, chunks, halo_for(district, halo)), owners, rule_ids)


def chunk_district(district: District, region) -> District:
    """The part of a district a chunk works on: every feature that meets ``region``.

    The spanning layers (eco red line, nature reserves, protected zones) are cut to the region; the villages
    layer is kept whole. The result shares the district's configuration, limits, rasters and run date, and
    has its own quality report.

    Parameters
    ----------
    district : District
    region : shapely geometry or tuple
        A polygon (e.g. the union of the chunk's village boxes) or ``(minx, miny, maxx, maxy)``.

    Examples
    --------
    >>> # sub = chunk_district(district, (508000, 4443000, 510000, 4445000))
    """
    box = shapely.box(*region) if isinstance(region, tuple) else region
    shapely.prepare(box)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for role, frame in district.layers.items():
        if frame is None or role == "villages" or frame.empty:
            layers[role] = frame
            continue
        idx = np.sort(frame.sindex.query(box, predicate="intersects"))
        sub = frame.iloc[idx]
        if role in _SPANNING and len(sub):
            geoms = sub.geometry.to_numpy()
            inside = shapely.contains_properly(box, geoms)
            cut = geoms.copy()
            if (~inside).any():
                cut[~inside] = shapely.intersection(geoms[~inside], box)
            keep = ~shapely.is_empty(cut)
            sub = gpd.GeoDataFrame(sub.drop(columns=sub.geometry.name)[keep], geometry=cut[keep], crs=frame.crs)
        layers[role] = sub.reset_index(drop=True)
    return District(layers=layers, crs=district.crs, config=district.config, quality=QualityReport(),
                    as_of=district.as_of, limits=district.limits, rasters=dict(district.rasters))
