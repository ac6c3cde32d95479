"""How many worker processes, and which rules run once over the whole district."""

from __future__ import annotations

import os


from analyses.registry import CATALOGUE, RULES
from layers.district import District
from spatial.errors import LandguardError

__all__ = ['SMALL_DISTRICT', 'default_jobs', 'resolve_jobs', 'district_rule_ids']

#: With ``jobs=None`` a district with fewer features than this (parcels + buildings + land use) runs in one
#: process: starting workers would cost more than it saves.
SMALL_DISTRICT = 30_000


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
