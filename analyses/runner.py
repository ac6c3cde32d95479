"""Running the rules over a district: which run, which are skipped and why, and the findings they give."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

import geopandas as gpd

from layers.district import District

from .findings import FINDING_COLUMNS, concat_findings, finalise
from .registry import CATALOGUE, RULES, Rule

__all__ = ["RuleOutcome", "run_rules"]


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


def _missing_inputs(rule: Rule, district: District) -> list[str]:
    return [r for r in rule.inputs if r not in district and r not in district.rasters]


def run_rules(district: District, rule_ids: Iterable[str] | None = None,
              progress: Callable[[Rule], None] | None = None, *,
              fail_fast: bool = True) -> tuple[gpd.GeoDataFrame, list[RuleOutcome]]:
    """Run every implemented rule (or those named) over the district.

    Parameters
    ----------
    district : District
    rule_ids : iterable of str, optional
        Only these rules.
    progress : callable, optional
        Called with each rule after it ran or was skipped.
    fail_fast : bool
        Raise the first rule's failure (default). With False, a failing rule is recorded in its outcome's
        ``error`` and the other rules still run: the run is then partial, and says so.

    Returns
    -------
    findings : GeoDataFrame
        The contract's columns, sorted by rule then case id.
    outcomes : list of RuleOutcome
        One per catalogue rule: its count, or why it was skipped (never a silent pass).

    Examples
    --------
    >>> # findings, outcomes = run_rules(load_district("district.gpkg"))
    """
    wanted = set(rule_ids) if rule_ids is not None else None
    frames, outcomes = [], []
    for rule_id, spec in CATALOGUE.items():
        if wanted is not None and rule_id not in wanted:
            continue
        outcome = RuleOutcome(rule_id, spec.name, spec.family)
        rule = RULES.get(rule_id)
        if rule is None:
            outcome.skipped = "尚未实现 (not implemented yet)"
        elif missing := _missing_inputs(rule, district):
            outcome.skipped = "缺少输入图层：" + "、".join(missing)
        else:
            started = time.perf_counter()
            try:
                partial = rule.func(district, district.limits)
                found = finalise(rule, partial, district.villages)
            except Exception as exc:
                if fail_fast or isinstance(exc, (KeyboardInterrupt, MemoryError)):
                    raise
                outcome.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            else:
                outcome.count = len(found)
                frames.append(found)
            outcome.seconds = round(time.perf_counter() - started, 3)
        outcomes.append(outcome)
        if progress is not None:
            progress(rule or spec)
    findings = concat_findings(frames, crs=district.crs)
    if not findings.empty:
        order = {r: i for i, r in enumerate(CATALOGUE)}
        findings = findings.assign(_o=findings["rule_id"].map(order)).sort_values(
            ["_o", "village_id", "case_id"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return findings[FINDING_COLUMNS + ["geometry"]], outcomes
