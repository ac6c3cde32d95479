"""Running the chunks on a dask.distributed cluster (``--scheduler tcp://host:port`` or ``local:N``)."""

from __future__ import annotations

from typing import Callable, Iterable

import geopandas as gpd

from analyses import RuleOutcome, run_rules
from analyses.runner import run_rules_with_notes
from layers.district import District
from spatial.errors import LandguardError

from .jobs import default_jobs
from .merge import _merge, _split_rules
from .partition import HALO_M, _plan, chunk_district
from .pool import _run_chunk

__all__ = ['run_rules_dask']

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
        if callable(getattr(progress, "add_total", None)):  # the bar shows done/total chunks
            progress.add_total(len(futures))
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
