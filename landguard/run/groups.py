"""Splitting a run by rule: groups of rules that share intermediate results, each run over the whole district.

On a few cores this beats cutting the district into village chunks: nothing is computed twice for a halo, no
rule's fixed cost (finalising, routing, dating its findings) is paid once per chunk, the district-scope rules
need no special case and the findings need no owner. A group holds the rules whose dependency closures
(:func:`analyses.runner.resolve`) share an intermediate or a rule other than a *cover* (the subdivided pieces
of one layer, cheap to cut again), so each costly intermediate is computed in one worker only.
"""

from __future__ import annotations

from typing import Iterable

from analyses.registry import CATALOGUE, RULES
from analyses.runner import resolve

__all__ = ["rule_groups", "RULE_SPLIT_MAX_JOBS"]

#: Up to this many worker processes ``run_rules_parallel`` splits the run by rule (:func:`rule_groups`);
#: beyond it the largest group would leave workers idle, so the district is cut into village chunks instead.
RULE_SPLIT_MAX_JOBS = 4


#: Seconds of one core each rule or intermediate took on ``benchmarks/data/district-300`` (2026-12-02; those above ~0.3 s;
#: anything else counts :data:`_DEFAULT_COST`). Only the order in which groups start depends on it (longest
#: first, so that no long group is left for the end); the findings never do.
_COST_HINT: dict[str, float] = {
    "FARM-REDLINE": 2.7, "conversions": 0.8, "other_agri_construction": 0.7, "building_parcel_parts": 0.7,
    "HOME-ROOF": 0.6, "HOME-MULTI": 0.6, "SITE-LAND": 0.5, "SET-REDLINE": 0.5, "setback_outside": 0.4,
    "SET-DRIP": 0.4, "facility": 0.4, "FARM-CRIMINAL": 0.4, "HOME-MERGE": 0.35, "buildings_on_farmland": 0.35,
    "FARM-MISPLACED": 0.3, "HOME-HEIGHT": 0.3, "HOME-AREA": 0.3,
}
_DEFAULT_COST = 0.15


def _recomputed(name: str) -> bool:
    """Intermediates every group cuts again rather than chaining groups together: one layer's pieces."""
    return name.startswith("pieces:") or name.endswith("_cover")


def rule_groups(rule_ids: Iterable[str] | None = None) -> list[list[str]]:
    """The implemented rules (of ``rule_ids``) in groups sharing their costly intermediates, largest first.

    Two rules are in one group when their dependency closures share a rule or an intermediate other than a
    layer's cover pieces (``pieces:*``, ``*_cover``). Groups come longest first (by the measured cost of
    what they compute, :data:`_COST_HINT`: longest processing time first, so the workers end together),
    rules in catalogue order within a group. Unimplemented rules are in no group.

    Parameters
    ----------
    rule_ids : iterable of str, optional
        Only these rules (default: all).

    Returns
    -------
    list of list of str

    Examples
    --------
    >>> import analyses
    >>> groups = rule_groups()
    >>> [g for g in groups if "FARM-CRIMINAL" in g][0] == [g for g in groups if "FARM-BUILD" in g][0]
    True
    >>> sorted(r for g in groups for r in g) == sorted(RULES)
    True
    """
    wanted = set(rule_ids) if rule_ids is not None else None
    rules = [r for r in CATALOGUE if r in RULES and (wanted is None or r in wanted)]
    parent = {r: r for r in rules}

    def root(r: str) -> str:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    first_user: dict[str, str] = {}
    closure: dict[str, list[str]] = {}
    for r in rules:
        closure[r] = resolve([r])
        for item in closure[r]:
            if _recomputed(item):
                continue
            if item in first_user:
                parent[root(r)] = root(first_user[item])
            else:
                first_user[item] = r
    groups: dict[str, list[str]] = {}
    for r in rules:
        groups.setdefault(root(r), []).append(r)
    order = {r: i for i, r in enumerate(CATALOGUE)}
    cost = {g: sum(_COST_HINT.get(item, _DEFAULT_COST) for item in {i for r in members for i in closure[r]})
            for g, members in groups.items()}
    return [groups[g] for g in sorted(groups, key=lambda g: (-cost[g], order[groups[g][0]]))]
