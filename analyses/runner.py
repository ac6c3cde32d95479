"""Running the rules over a district: which run, which are skipped and why, and the findings they give.

The runner resolves what each rule declared (:class:`analyses.registry.Rule` ``uses``): the shared
intermediates are computed once, in dependency order, and the rules a rule builds on run before it; each
rule gets a :class:`analyses.context.Context` holding exactly what it declared. The notes rules return are
merged by feature and written into the district's quality report once.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import geopandas as gpd

from layers.district import District

from .context import Context, Note, RuleResult, apply_notes
from .dating import DATED_RULES, date_findings, survey_series
from .findings import FINDING_COLUMNS, concat_findings, empty_findings, finalise, sort_findings
from .registry import CATALOGUE, INTERMEDIATES, RULES, Rule
from .routing import route

__all__ = ["RuleOutcome", "run_rules", "run_rules_with_notes", "resolve"]


@dataclass
class RuleOutcome:
    """What happened to one rule in a run."""

    rule_id: str
    name: str
    family: str
    count: int = 0
    skipped: str | None = None
    seconds: float = 0.0
    #: Why the rule failed (its findings are missing from this run), or None.
    error: str | None = None

    def as_dict(self) -> dict:
        """Plain data for ``summary.json``."""
        return dict(self.__dict__)


class _Failed:
    """An intermediate or rule that raised: whoever uses it fails with the same reason."""

    def __init__(self, reason: str):
        self.reason = reason


def _missing_inputs(rule: Rule, district) -> list[str]:
    return [r for r in rule.inputs if r not in district and r not in district.rasters]


def resolve(rule_ids: Iterable[str]) -> list[str]:
    """Every rule and intermediate the given rules need, dependencies first.

    Names are rule ids or intermediate names; an unknown name in a ``uses`` is an error naming both.

    Examples
    --------
    >>> import analyses
    >>> order = resolve(["FARM-CRIMINAL"])
    >>> order.index("FARM-BUILD") < order.index("FARM-CRIMINAL")
    True
    """
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, via: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise RuntimeError(f"dependency cycle through {name!r} (via {via})")
        state[name] = 1
        if name in RULES:
            deps = RULES[name].uses
        elif name in INTERMEDIATES:
            deps = INTERMEDIATES[name].uses
        else:
            raise KeyError(f"{via} uses {name!r}, which is neither a rule nor an intermediate")
        for dep in deps:
            visit(dep, name)
        state[name] = 2
        order.append(name)

    for rid in rule_ids:
        if rid in RULES:
            visit(rid, rid)
    return order


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def run_rules_with_notes(district: District, rule_ids: Iterable[str] | None = None,
                         progress: Callable[[Rule], None] | None = None, *,
                         fail_fast: bool = True, notes_by_rule: dict[str, list[Note]] | None = None
                         ) -> tuple[gpd.GeoDataFrame, list[RuleOutcome], list[Note]]:
    """As :func:`run_rules`, but the rules' notes are returned instead of written into ``district.quality``.

    Parallel runs merge the notes of every worker (by feature) before writing them once. ``notes_by_rule``,
    when given, is filled with each rule's own notes (rule id -> notes), so that a run split by rule can
    put them back in the order of a single-process run.
    """
    wanted = [r for r in CATALOGUE if rule_ids is None or r in set(rule_ids)]
    outcomes: dict[str, RuleOutcome] = {}
    runnable = []
    for rule_id in wanted:
        spec = CATALOGUE[rule_id]
        outcome = outcomes[rule_id] = RuleOutcome(rule_id, spec.name, spec.family)
        rule = RULES.get(rule_id)
        if rule is None:
            outcome.skipped = "尚未实现 (not implemented yet)"
        elif missing := _missing_inputs(rule, district):
            outcome.skipped = "缺少输入图层：" + "、".join(missing)
        else:
            runnable.append(rule_id)
    base = Context.of(district)
    values: dict[str, Any] = {}
    notes: list[Note] = []
    frames = []
    for name in resolve(runnable):
        item = RULES.get(name) or INTERMEDIATES[name]
        failed = [values[d] for d in item.uses if isinstance(values.get(d), _Failed)]
        started = time.perf_counter()
        if isinstance(item, Rule) and _missing_inputs(item, district):
            values[name] = empty_findings(district.crs)  # a dependency whose inputs are missing finds nothing
            continue
        if failed:
            result: Any = failed[0]
        else:
            ctx = base.with_values({d: values[d] for d in item.uses}, name)
            try:
                result = item.func(ctx)
                if isinstance(item, Rule):
                    if isinstance(result, RuleResult):
                        notes.extend(result.notes)
                        if notes_by_rule is not None:
                            notes_by_rule[name] = list(result.notes)
                        result = result.findings
                    result = finalise(item, result, district.villages,  # slivers: the township's min_overlap_m2
                                      min_part_m2=functools.partial(base.limit, "min_overlap_m2"))
                    if name in DATED_RULES:  # farmland conversions: dated by the survey series (analyses.dating)
                        if "survey_series" not in values:
                            values["survey_series"] = survey_series(base)
                        result = date_findings(base, result, values["survey_series"])
                    result = route(result, name, as_of=district.as_of, config=getattr(district, "config", None),
                                   grids=district.layers.get("field_grids"))  # remedy, lead unit, deadline, grid
            except Exception as exc:
                if fail_fast or isinstance(exc, (KeyboardInterrupt, MemoryError)):
                    raise
                result = _Failed(_reason(exc))
        values[name] = result
        outcome = outcomes.get(name)
        if outcome is None:
            continue
        outcome.seconds = round(time.perf_counter() - started, 3)
        if isinstance(result, _Failed):
            outcome.error = result.reason
        else:
            outcome.count = len(result)
            frames.append(result)
        if progress is not None:
            progress(item)
    if progress is not None:
        for rule_id in wanted:
            if rule_id not in runnable:
                progress(RULES.get(rule_id) or CATALOGUE[rule_id])
    findings = sort_findings(concat_findings(frames, crs=district.crs))
    return findings[FINDING_COLUMNS + ["geometry"]], list(outcomes.values()), notes


def run_rules(district: District, rule_ids: Iterable[str] | None = None,
              progress: Callable[[Rule], None] | None = None, *,
              fail_fast: bool = True) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """Run every implemented rule (or those named) over the district.

    Parameters
    ----------
    district : District
    rule_ids : iterable of str, optional
        Only these rules (the rules and intermediates they declare are computed too, but only these are
        reported).
    progress : callable, optional
        Called with each rule after the run.
    fail_fast : bool
        Raise the first rule's failure (default). With False, a failing rule is recorded in its outcome's
        ``error`` and the other rules still run: the run is then partial, and says so.

    Returns
    -------
    findings : GeoDataFrame
        The contract's columns, sorted by rule then village and case id.
    outcomes : list of RuleOutcome
        One per catalogue rule: its count, or why it was skipped (never a silent pass).

    Examples
    --------
    >>> # findings, outcomes = run_rules(load_district("district.gpkg"))
    """
    findings, outcomes, notes = run_rules_with_notes(district, rule_ids, progress, fail_fast=fail_fast)
    apply_notes(notes, district.quality)
    return findings, outcomes
