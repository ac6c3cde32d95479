"""Merging the chunks' findings, outcomes and notes into one run's: each finding kept by the chunk owning its subject."""

from __future__ import annotations

from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analyses import RuleOutcome
from analyses.context import Note, apply_notes
from analyses.findings import FINDING_COLUMNS, concat_findings, sort_findings
from analyses.registry import CATALOGUE, RULES
from analyses.runner import resolve
from layers.district import District
from layers.quality import QualityReport
from layers.roles import ROLES

from .jobs import district_rule_ids
from .partition import _Plan

__all__: list[str] = []


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


def _owned(plan: _Plan, i: int, findings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The findings of chunk ``i`` whose subject the chunk owns (a finding whose owner is in no chunk: the
    first chunk's)."""
    if not len(findings):
        return findings
    chunk_of = pd.Series([k for k, vs in enumerate(plan.chunks) for _ in vs],
                         index=[v for vs in plan.chunks for v in vs], dtype=int)
    findings = findings.reset_index(drop=True)
    own = _owner_of_findings(plan, findings)
    return findings[chunk_of.reindex(own).fillna(0).to_numpy(dtype=int) == i]


def _merge(plan: _Plan, parts: list[tuple[int, gpd.GeoDataFrame, list[RuleOutcome], QualityReport]],
           wholes: list[tuple[gpd.GeoDataFrame, list[RuleOutcome], QualityReport | None]], wanted: list[str],
           owned: bool = False):
    """One run from the chunks' and whole-district parts; ``owned``: the chunks kept only their own findings."""
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
            kept.append(findings if owned else _owned(plan, i, findings))
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
        findings = sort_findings(findings)
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


def _merge_groups(district: District,
                  parts: list[tuple[int, gpd.GeoDataFrame, list[RuleOutcome], dict[str, list[Note]]]],
                  wanted: list[str]) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """One run's findings and outcomes from rule groups run over the whole district; their notes written
    into ``district.quality`` in the order a single process writes them (rules in dependency order)."""
    parts = sorted(parts, key=lambda p: p[0])
    outcomes: dict[str, RuleOutcome] = {}
    notes_of: dict[str, list[Note]] = {}
    for _, _, part_outcomes, by_rule in parts:
        for o in part_outcomes:
            outcomes.setdefault(o.rule_id, o)
        for rid, rule_notes in by_rule.items():
            notes_of.setdefault(rid, rule_notes)
    runnable = [r for r in wanted if r in RULES and all(i in district or i in district.rasters
                                                           for i in RULES[r].inputs)]
    notes = [n for name in resolve(runnable) for n in notes_of.get(name, ())]
    apply_notes(notes, district.quality)
    findings = sort_findings(concat_findings([p[1] for p in parts], crs=district.crs))
    out = []
    for rid in wanted:
        o = outcomes.get(rid)
        if o is None:  # not implemented: in no group
            spec = CATALOGUE[rid]
            o = RuleOutcome(rid, spec.name, spec.family, skipped="尚未实现 (not implemented yet)")
        out.append(o)
    return findings[FINDING_COLUMNS + ["geometry"]], out
