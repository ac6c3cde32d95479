"""Running the rules village group by village group: in local processes (``--jobs N``) or on a dask cluster.

How a district is split
-----------------------
* Villages are ordered along a Hilbert curve and cut into about ``jobs * 4`` *chunks* of neighbouring
  villages with about the same number of features each (:func:`partition_villages`).
* Every feature belongs to one village (its ``village_id``; a feature outside every village to the nearest
  one). A chunk's *region* is the union of the bounding boxes of its villages and of the features they own
  (roads and waters aside: they are context, never subjects, and often cross the district), each grown by a
  halo (:func:`halo_for`: 100 m, or twice the largest distance limit).
* A chunk's district (:func:`chunk_district`) holds every feature that meets the region (so each owned
  subject has all of its neighbours), the spanning layers (eco red line, nature reserves, protected zones)
  cut to the region, and the whole (small) villages layer. Nothing is copied per village.
* Rules whose ``scope`` is ``"village"`` (:class:`analyses.registry.Rule`) run on every chunk; a chunk keeps
  only the findings whose subject it owns. Rules whose scope is ``"district"`` (households and owners across
  villages, links by id, contiguous blocks) run once each on the whole district: in a worker of their own
  (local processes, which share the parent's district) or in this process (dask), while the chunks run.
* Findings are concatenated and sorted as :func:`analyses.run_rules` sorts them: the case ids, subjects and
  areas are those of a single-process run, however the district is split.
"""

from __future__ import annotations

import gc
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyses import RuleOutcome, run_rules
from analyses.context import Note, apply_notes
from analyses.runner import run_rules_with_notes
from analyses.findings import FINDING_COLUMNS, concat_findings
from analyses.registry import CATALOGUE, RULES
from layers.district import District
from layers.quality import QualityReport
from layers.roles import ROLES
from spatial.errors import LandguardError

__all__ = ["HALO_M", "SMALL_DISTRICT", "default_jobs", "resolve_jobs", "partition_villages", "chunk_district", "halo_for",
           "run_rules_parallel", "run_rules_dask", "district_rule_ids", "map_villages", "run_rule_by_village"]

#: Least metres added around a chunk's region; more when a reach limit (:func:`reach_keys`) says a rule looks
#: farther around its subject (twice the largest such limit).
HALO_M = 100.0
#: With ``jobs=None`` a district with fewer features than this (parcels + buildings + land use) runs in one
#: process: starting workers would cost more than it saves.
SMALL_DISTRICT = 30_000
_SPANNING = ("eco_redline", "nature_reserves", "protected_zones")
# context only, never a rule's subject, and often long (a road or river crosses many villages): they come
# into a chunk where they meet its region but do not stretch the region to their whole length
_CONTEXT = ("roads", "waters")

# the district a forked worker reads its chunks from (set in the parent just before the workers start)
_SHARED: "_Plan | None" = None


def default_jobs() -> int:
    """The number of cores this process may use.

    Examples
    --------
    >>> default_jobs() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None, district: District) -> int:
    """How many processes ``check`` uses: ``jobs`` when given, else the core count for a large district and 1
    for a small one.

    Examples
    --------
    >>> resolve_jobs(3, None)
    3
    """
    if jobs is not None:
        if jobs < 1:
            raise LandguardError(f"--jobs {jobs}: give 1 or more processes")
        return int(jobs)
    size = sum(len(district.layers[r]) for r in ("parcels", "buildings", "landuse") if r in district.layers)
    return default_jobs() if size >= SMALL_DISTRICT else 1


def district_rule_ids() -> list[str]:
    """Ids of the rules that need the whole district (``scope == "district"``), in catalogue order.

    Examples
    --------
    >>> "HOME-MULTI" in district_rule_ids()
    True
    """
    return [rid for rid, spec in CATALOGUE.items() if RULES.get(rid, spec).scope == "district"]


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
            ids = self.district.layers[layer][col].astype(object).map(
                lambda v: None if v is None or v != v else str(v))
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
    has its own cache and quality report.

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


def _run_chunk(sub: District, rule_ids: list[str], fail_fast: bool = True):
    """Findings, outcomes and notes of the rules over one chunk (notes are merged by feature later)."""
    return run_rules_with_notes(sub, rule_ids, fail_fast=fail_fast)


def _run_forked(i: int):
    plan = _SHARED
    assert plan is not None, "worker started without a district"
    return (i, *_run_chunk(chunk_district(plan.district, plan.regions[i]), plan.rule_ids, plan.fail_fast))


def _run_forked_whole(rule_id: str):
    """One district-scope rule over the whole (inherited) district, with a cache and quality report of its own."""
    plan = _SHARED
    assert plan is not None, "worker started without a district"
    d = plan.district
    whole = District(layers=d.layers, crs=d.crs, config=d.config, quality=QualityReport(), as_of=d.as_of,
                     limits=d.limits, rasters=d.rasters)
    return _run_chunk(whole, [rule_id], plan.fail_fast)


# --------------------------------------------------------------------------------------------------
# merging
# --------------------------------------------------------------------------------------------------
def _owner_of_findings(plan: _Plan, findings: pd.DataFrame) -> np.ndarray:
    """The village owning each finding: its subject's owner when the subject id is unique in its layer,
    else the finding's village, else the village nearest to the finding."""
    owner = np.full(len(findings), None, dtype=object)
    for layer, rows in findings.groupby("subject_layer", sort=False).groups.items():
        if layer not in plan.owners or layer not in ROLES or ROLES[layer].id_column is None:
            continue
        lookup = plan.owner_by_id(layer)
        pos = findings.index.get_indexer(rows)
        owner[pos] = pd.Series(findings["subject_id"].to_numpy(dtype=object)[pos]).map(lookup).to_numpy(dtype=object)
    missing = pd.isna(owner)
    owner[missing] = findings["village_id"].to_numpy(dtype=object)[missing]
    missing = pd.isna(owner)
    if missing.any():
        pts = shapely.point_on_surface(findings.geometry.to_numpy()[missing])
        ok = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
        vid = plan.district.villages["village_id"].astype(str).to_numpy(dtype=object)
        near = np.full(len(pts), vid[0], dtype=object)
        if ok.any():
            _, j = plan.district.villages.sindex.nearest(pts[ok], return_all=False)
            near[ok] = vid[j]
        owner[missing] = near
    return owner.astype(str).astype(object)


def _merge(plan: _Plan, parts: list[tuple[int, gpd.GeoDataFrame, list[RuleOutcome], QualityReport]],
           wholes: list[tuple[gpd.GeoDataFrame, list[RuleOutcome], QualityReport | None]], wanted: list[str]):
    chunk_of = {v: i for i, vs in enumerate(plan.chunks) for v in vs}
    kept = []
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    skipped: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    notes: list[Note] = []
    for i, findings, outcomes, part_notes in sorted(parts, key=lambda p: p[0]):
        for o in outcomes:
            seconds[o.rule_id] = seconds.get(o.rule_id, 0.0) + o.seconds
            skipped.setdefault(o.rule_id, o.skipped)
            if getattr(o, "error", None):
                errors.setdefault(o.rule_id, o.error)
        if len(findings):
            own = _owner_of_findings(plan, findings.reset_index(drop=True))
            mine = np.array([chunk_of.get(v, 0) == i for v in own], dtype=bool)
            kept.append(findings.reset_index(drop=True)[mine])
        notes.extend(part_notes)
    for findings, outcomes, part_notes in wholes:
        kept.append(findings)
        for o in outcomes:
            seconds[o.rule_id] = o.seconds
            skipped[o.rule_id] = o.skipped
            if getattr(o, "error", None):
                errors.setdefault(o.rule_id, o.error)
        notes.extend(part_notes or ())
    apply_notes(notes, plan.district.quality)  # each feature counted once, however many chunks saw it
    findings = concat_findings(kept, crs=plan.district.crs)
    if errors and not findings.empty:
        findings = findings[~findings["rule_id"].isin(list(errors)).to_numpy()]
    if not findings.empty:
        order = {r: i for i, r in enumerate(CATALOGUE)}
        findings = findings.assign(_o=findings["rule_id"].map(order)).sort_values(
            ["_o", "village_id", "case_id"], kind="stable").drop(columns="_o").reset_index(drop=True)
        counts = findings["rule_id"].value_counts().to_dict()
    outcomes = []
    for rid in wanted:
        spec = CATALOGUE[rid]
        o = RuleOutcome(rid, spec.name, spec.family)
        o.skipped = skipped.get(rid, "尚未实现 (not implemented yet)")
        o.count = 0 if o.skipped else int(counts.get(rid, 0))
        o.seconds = round(seconds.get(rid, 0.0), 3)
        if rid in errors:  # a failed rule's findings are dropped everywhere, as in a single-process run
            o.error = errors[rid]
            o.count = 0
        outcomes.append(o)
    return findings[FINDING_COLUMNS + ["geometry"]], outcomes


def _split_rules(rule_ids: Iterable[str] | None) -> tuple[list[str], list[str], list[str]]:
    wanted = [r for r in CATALOGUE if rule_ids is None or r in set(rule_ids)]
    whole = set(district_rule_ids())
    return wanted, [r for r in wanted if r not in whole], [r for r in wanted if r in whole]


# --------------------------------------------------------------------------------------------------
# local processes
# --------------------------------------------------------------------------------------------------
def run_rules_parallel(district: District, rule_ids: Iterable[str] | None = None, *, jobs: int | None = None,
                       halo: float = HALO_M, chunks_per_job: int = 4,
                       progress: Callable[[str], None] | None = None,
                       fail_fast: bool = True) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """:func:`analyses.run_rules` over village chunks in ``jobs`` worker processes.

    Village-scope rules run per chunk in the workers and district-scope rules each once over the whole
    district in a worker too (forked: the workers read the district the parent loaded, no copy is sent). The
    result equals ``run_rules``'s.

    Parameters
    ----------
    district : District
    rule_ids : iterable of str, optional
        Only these rules.
    jobs : int, optional
        Worker processes (default: the core count). ``1`` runs :func:`analyses.run_rules` directly.
    halo : float
        Least metres around each chunk's region (see :func:`halo_for`).
    chunks_per_job : int
        Chunks per worker (more chunks balance better, fewer repeat less halo).
    progress : callable, optional
        Called with a short Chinese text as each chunk finishes.
    fail_fast : bool
        As for :func:`analyses.run_rules`: raise a rule's failure (default), or record it in its outcome's
        ``error`` and drop that rule's findings from every chunk.

    Examples
    --------
    >>> # findings, outcomes = run_rules_parallel(load_district("district.gpkg"), jobs=2)
    """
    jobs = default_jobs() if jobs is None else int(jobs)
    wanted, local, whole = _split_rules(rule_ids)
    if jobs <= 1 or not local:
        return run_rules(district, wanted, fail_fast=fail_fast)
    import multiprocessing as mp

    global _SHARED
    plan = _plan(district, jobs * chunks_per_job, local, halo)
    plan.fail_fast = fail_fast
    if "fork" not in mp.get_all_start_methods():  # pragma: no cover - Windows/macOS spawn: send each chunk
        return _run_spawned(plan, whole, wanted, jobs, progress)
    _SHARED = plan
    parts = []
    # Objects the workers inherit stay out of the garbage collector's way: without this, every collection in
    # a worker walks (and so copies, page by page) the parent's whole heap.
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork")) as pool:
            # district-scope rules first (often the longest), each in a worker of its own; then the chunks
            futures = {pool.submit(_run_forked_whole, r): ("whole", r) for r in whole}
            futures.update({pool.submit(_run_forked, i): ("chunk", i) for i in range(len(plan.chunks))})
            wholes = []
            for n, fut in enumerate(as_completed(futures), start=1):
                kind, what = futures[fut]
                if kind == "whole":
                    wholes.append(fut.result())
                else:
                    parts.append(fut.result())
                if progress is not None:
                    progress(f"规则 {what}" if kind == "whole" else f"行政村组 {n}/{len(futures)}")
    finally:
        _SHARED = None
        gc.unfreeze()
    return _merge(plan, parts, wholes, wanted)


_SHARED_CALL: "Callable[[list[str]], dict] | None" = None


def _call_shared(ids: list[str]) -> dict:
    assert _SHARED_CALL is not None, "worker started without a task"
    return _SHARED_CALL(ids)


def map_villages(func: Callable[[list[str]], dict], village_ids: list[str], jobs: int | None = None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """``func(ids)`` over groups of villages in ``jobs`` forked processes, the returned dicts merged.

    For per-village work that writes files (maps, field exports): each worker inherits what ``func`` closes
    over (the district, the findings) instead of receiving a copy. One process runs ``func`` directly.

    Examples
    --------
    >>> sorted(map_villages(lambda ids: {v: len(v) for v in ids}, ["A", "BB"], jobs=1).items())
    [('A', 1), ('BB', 2)]
    """
    import multiprocessing as mp

    global _SHARED_CALL
    jobs = default_jobs() if jobs is None else int(jobs)
    ids = list(village_ids)
    if jobs <= 1 or len(ids) < 2 or "fork" not in mp.get_all_start_methods():
        return func(ids)
    n = min(len(ids), jobs * 4)
    groups = [ids[i::n] for i in range(n)]
    out: dict = {}
    _SHARED_CALL = func
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork")) as pool:
            futures = [pool.submit(_call_shared, g) for g in groups]
            for k, fut in enumerate(as_completed(futures), start=1):
                out.update(fut.result())
                if progress is not None:
                    progress(f"行政村 {min(len(ids), k * len(groups[0]))}/{len(ids)}")
    finally:
        _SHARED_CALL = None
        gc.unfreeze()
    return {v: out[v] for v in ids if v in out}


def _run_spawned(plan: _Plan, whole, wanted, jobs, progress):  # pragma: no cover - platforms without fork
    parts = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_run_chunk, chunk_district(plan.district, r), plan.rule_ids, plan.fail_fast): i
                   for i, r in enumerate(plan.regions)}
        done_whole = run_rules_with_notes(plan.district, whole, fail_fast=plan.fail_fast) if whole else None
        for n, fut in enumerate(as_completed(futures), start=1):
            parts.append((futures[fut], *fut.result()))
            if progress is not None:
                progress(f"行政村组 {n}/{len(plan.chunks)}")
    return _merge(plan, parts, [done_whole] if done_whole else [], wanted)


# --------------------------------------------------------------------------------------------------
# dask.distributed
# --------------------------------------------------------------------------------------------------
def _client(scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise LandguardError("--scheduler needs dask.distributed and dask-geopandas: "
                             "pip install 'landguard[cluster]'") from None
    if scheduler.startswith("local:") or scheduler == "local":
        n = scheduler.partition(":")[2] or str(default_jobs())
        if not n.isdigit() or int(n) < 1:
            raise LandguardError(f"--scheduler {scheduler}: write local:N with N workers, e.g. local:4")
        cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    if not scheduler.startswith("tcp://"):
        raise LandguardError(f"--scheduler {scheduler}: give a dask scheduler address tcp://host:port or local:N")
    try:
        return Client(scheduler, timeout="20s"), None
    except Exception as exc:
        raise LandguardError(f"--scheduler {scheduler}: cannot connect to the dask scheduler "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def _spatial_chunks(district: District, n: int) -> list[list[str]]:
    """Village groups from dask-geopandas' Hilbert spatial shuffle of the villages layer (computed here:
    it is one small layer)."""
    import dask
    import dask_geopandas

    v = district.villages[["village_id", "geometry"]].assign(village_id=lambda f: f["village_id"].astype(str))
    ddf = dask_geopandas.from_geopandas(v, npartitions=1).spatial_shuffle(
        by="hilbert", npartitions=max(1, min(n, len(v))), shuffle_method="tasks")
    parts = dask.compute(*ddf.to_delayed(), scheduler="sync")
    return [p.sort_index()["village_id"].tolist() for p in parts if len(p)]


def run_rules_dask(district: District, scheduler: str, rule_ids: Iterable[str] | None = None, *,
                   halo: float = HALO_M, chunks_per_worker: int = 4,
                   progress: Callable[[str], None] | None = None,
                   fail_fast: bool = True) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """:func:`analyses.run_rules` with the village chunks run on a dask.distributed cluster.

    The villages are partitioned spatially with dask-geopandas (Hilbert curve); each partition's part of the
    district (:func:`chunk_district`) is sent to the cluster on its own, so a worker holds only its chunks.
    District-scope rules run in this process meanwhile. The result equals ``run_rules``'s.

    Parameters
    ----------
    district : District
    scheduler : str
        ``tcp://host:port`` of a running scheduler (its workers must have landguard installed and see the
        rasters' paths), or ``local:N`` for a local cluster of N worker processes.
    rule_ids : iterable of str, optional
    halo, chunks_per_worker, progress, fail_fast
        As for :func:`run_rules_parallel`.

    Examples
    --------
    >>> # findings, outcomes = run_rules_dask(district, "local:2")
    """
    from dask.distributed import as_completed as dask_completed

    wanted, local, whole = _split_rules(rule_ids)
    client, cluster = _client(scheduler)
    try:
        if not local:
            return run_rules(district, wanted, fail_fast=fail_fast)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
        plan = _plan(district, 0, local, halo, chunks=_spatial_chunks(district, n_workers * chunks_per_worker))
        futures = {}
        for i, region in enumerate(plan.regions):
            payload = client.scatter(chunk_district(district, region), direct=False)
            futures[client.submit(_run_chunk, payload, local, fail_fast, pure=False)] = i
        done_whole = run_rules_with_notes(district, whole, fail_fast=fail_fast) if whole else None
        parts = []
        for n, fut in enumerate(dask_completed(list(futures)), start=1):
            parts.append((futures[fut], *fut.result()))
            if progress is not None:
                progress(f"行政村组 {n}/{len(plan.chunks)}（集群）")
        return _merge(plan, parts, [done_whole] if done_whole else [], wanted)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_rule_by_village(district: District, rule_id: str, *, halo: float = HALO_M
                        ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Run one village-scope rule village by village, to keep what works when it fails somewhere.

    Used after a rule failed on the whole district (or on a chunk of villages): each village runs on its own
    region, so one village's bad data costs only that village's findings.

    Returns
    -------
    findings : GeoDataFrame
        The rule's findings of the villages where it ran.
    failed : dict
        ``village_id`` -> the reason, for the villages where it failed.

    Examples
    --------
    >>> # findings, failed = run_rule_by_village(district, "SET-DRIP")
    """
    vids = district.villages["village_id"].astype(str).tolist()
    plan = _plan(district, len(vids), [rule_id], halo, chunks=[[v] for v in vids])
    kept, failed = [], {}
    for i, vid in enumerate(vids):
        findings, outcomes, _ = _run_chunk(chunk_district(district, plan.regions[i]), [rule_id], False)
        error = outcomes[0].error if outcomes else None
        if error:
            failed[vid] = error
            continue
        if len(findings):
            findings = findings.reset_index(drop=True)
            kept.append(findings[_owner_of_findings(plan, findings) == vid])
    return concat_findings(kept, crs=district.crs), failed
