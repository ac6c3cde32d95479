"""Helpers for testing rules, as the project's own tests use them: run one rule on a district in memory.

Examples
--------
>>> # from analyses.testing import run_rule
>>> # findings = run_rule("FARM-BUILD", make_district({...}))
"""

from __future__ import annotations

import geopandas as gpd

from .runner import run_rules

__all__ = ["run_rule"]


def run_rule(rule_id: str, district) -> gpd.GeoDataFrame:
    """The finalised findings of one rule over ``district`` (its declared inputs computed as in a run).

    The rule's data-quality notes go into ``district.quality``, as in a run. A failure is raised.

    Parameters
    ----------
    rule_id : str
        A rule id of the catalogue (``landguard rules``).
    district : layers.district.District

    Examples
    --------
    >>> # run_rule("HOME-MULTI", district)["related_ids"].tolist()
    """
    findings, outcomes = run_rules(district, [rule_id], fail_fast=True)
    skipped = [o.skipped for o in outcomes if o.rule_id == rule_id and o.skipped]
    if skipped:
        raise ValueError(f"{rule_id} was skipped: {skipped[0]}")
    return findings.reset_index(drop=True)
