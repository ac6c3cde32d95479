"""Keep going: a failing rule re-run village by village, so one village's bad data fails only that village."""

from __future__ import annotations


import geopandas as gpd

from analyses.findings import concat_findings
from layers.district import District

from .merge import _owner_of_findings
from .partition import HALO_M, _plan, chunk_district
from .pool import _run_chunk

__all__ = ['run_rule_by_village']

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
