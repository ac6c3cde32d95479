"""Local worker processes (forked: the workers read the district the parent loaded)."""

from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable

import geopandas as gpd

from analyses import RuleOutcome, run_rules
from analyses.runner import run_rules_with_notes
from layers.district import District
from layers.quality import QualityReport

from .groups import RULE_SPLIT_MAX_JOBS, rule_groups
from .jobs import default_jobs
from .merge import _merge, _merge_groups, _owned, _split_rules
from .partition import HALO_M, _Plan, _plan, chunk_district

__all__ = ['run_rules_parallel', 'map_villages']

# the district a forked worker reads its chunks from (set in the parent just before the workers start)
_SHARED: "_Plan | None" = None


def _run_chunk(sub: District, rule_ids: list[str], fail_fast: bool = True):
    """Findings, outcomes and notes of the rules over one chunk (notes are merged by feature later)."""
    return run_rules_with_notes(sub, rule_ids, fail_fast=fail_fast)


def _run_forked(i: int):
    """Chunk ``i`` in a forked worker, keeping only the findings whose subject the chunk owns (worked out here,
    in parallel, rather than in the parent; the owner lookups are built once per worker)."""
    plan = _SHARED
    assert plan is not None, "worker started without a district"
    findings, outcomes, notes = _run_chunk(chunk_district(plan.district, plan.regions[i]), plan.rule_ids,
                                           plan.fail_fast)
    return i, _owned(plan, i, findings), outcomes, notes


def _run_forked_group(rule_ids: list[str]):
    """A group of rules over the whole (inherited) district: findings, outcomes and each rule's notes."""
    plan = _SHARED_GROUPS
    assert plan is not None, "worker started without a district"
    d, fail_fast = plan
    whole = District(layers=d.layers, crs=d.crs, config=d.config, quality=QualityReport(), as_of=d.as_of,
                     limits=d.limits, rasters=d.rasters)
    by_rule: dict = {}
    findings, outcomes, _ = run_rules_with_notes(whole, rule_ids, fail_fast=fail_fast, notes_by_rule=by_rule)
    return findings, outcomes, by_rule


# the district and fail_fast a forked worker runs its rule groups with
_SHARED_GROUPS: "tuple[District, bool] | None" = None


def _run_by_rule(district: District, groups: list[list[str]], wanted: list[str], jobs: int,
                 progress: Callable[[str], None] | None, fail_fast: bool):
    """The rule groups in ``jobs`` forked workers, largest group first; merged as one process would."""
    import multiprocessing as mp

    global _SHARED_GROUPS
    _SHARED_GROUPS = (district, fail_fast)
    parts = []
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_run_forked_group, g): k for k, g in enumerate(groups)}
            if callable(getattr(progress, "add_total", None)):  # the bar shows done/total groups
                progress.add_total(len(futures))
            for n, fut in enumerate(as_completed(futures), start=1):
                k = futures[fut]
                parts.append((k, *fut.result()))
                if progress is not None:
                    g = groups[k]
                    progress(f"规则 {g[0]}" + (f" 等 {len(g)} 条" if len(g) > 1 else "") + f"（{n}/{len(futures)}）")
    finally:
        _SHARED_GROUPS = None
        gc.unfreeze()
    return _merge_groups(district, parts, wanted)


def _run_forked_whole(rule_id: str):
    """One district-scope rule over the whole (inherited) district, with a quality report of its own."""
    plan = _SHARED
    assert plan is not None, "worker started without a district"
    d = plan.district
    whole = District(layers=d.layers, crs=d.crs, config=d.config, quality=QualityReport(), as_of=d.as_of,
                     limits=d.limits, rasters=d.rasters)
    return _run_chunk(whole, [rule_id], plan.fail_fast)


# --------------------------------------------------------------------------------------------------
# local processes
# --------------------------------------------------------------------------------------------------
def run_rules_parallel(district: District, rule_ids: Iterable[str] | None = None, *, jobs: int | None = None,
                       halo: float = HALO_M, chunks_per_job: int = 4,
                       progress: Callable[[str], None] | None = None,
                       fail_fast: bool = True, split: str | None = None
                       ) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """:func:`analyses.run_rules` in ``jobs`` worker processes, split by rule or by village chunk.

    Split by rule (``split="rules"``, the default for up to :data:`RULE_SPLIT_MAX_JOBS` workers): groups of
    rules sharing their intermediates (:func:`landguard.run.groups.rule_groups`) each run over the whole
    district in a worker, largest first. Split by village (``"villages"``, the default for more workers):
    village-scope rules run per chunk and district-scope rules each once over the whole district. The
    workers are forked, so they read the district the parent loaded; no copy is sent. Either way the
    findings, outcomes and notes equal ``run_rules``'s.

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
    split : {"rules", "villages"}, optional
        How the work is shared out (default: by rule up to :data:`RULE_SPLIT_MAX_JOBS` workers).

    Examples
    --------
    >>> # findings, outcomes = run_rules_parallel(load_district("district.gpkg"), jobs=2)
    """
    import multiprocessing as mp

    jobs = default_jobs() if jobs is None else int(jobs)
    if split not in (None, "rules", "villages"):
        raise ValueError(f"split={split!r}: give 'rules' or 'villages'")
    wanted, local, whole = _split_rules(rule_ids)
    fork = "fork" in mp.get_all_start_methods()
    if split == "rules" or (split is None and jobs <= RULE_SPLIT_MAX_JOBS and fork):
        groups = rule_groups(wanted)
        if jobs <= 1 or len(groups) < 2 or not fork:
            return run_rules(district, wanted, fail_fast=fail_fast)
        return _run_by_rule(district, groups, wanted, jobs, progress, fail_fast)
    if jobs <= 1 or not local:
        return run_rules(district, wanted, fail_fast=fail_fast)

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
            if callable(getattr(progress, "add_total", None)):  # the bar shows done/total
                progress.add_total(len(futures))
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
    return _merge(plan, parts, wholes, wanted, owned=True)


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
            # the total is announced by the caller (landguard.pipeline._village_steps: one step per group)
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
        if callable(getattr(progress, "add_total", None)):
            progress.add_total(len(futures))
        done_whole = run_rules_with_notes(plan.district, whole, fail_fast=plan.fail_fast) if whole else None
        for n, fut in enumerate(as_completed(futures), start=1):
            parts.append((futures[fut], *fut.result()))
            if progress is not None:
                progress(f"行政村组 {n}/{len(plan.chunks)}")
    return _merge(plan, parts, [done_whole] if done_whole else [], wanted)
