"""Build the sample district (base geography + planted cases) and write it.

``PLANTERS`` lists, in order, the functions that plant rule cases; each takes the :class:`Sample`
and returns a :class:`Plant`. To plant cases of another rule, add ``plant_<rule>`` to the module of its
family (``plant_farmland``, ``plant_homestead``, ``plant_setback``, or a new ``plant_siting``) as the
module docstrings describe, and append it here. Appending keeps every earlier case (and its ids)
unchanged only if the new planter draws from ``sample.rng`` after the others, so append, don't insert
(but keep ``plant_roof_consequences`` last: it reads the final heights and draws nothing).
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import build_base
from .model import Plant, Sample
from .plant_farmland import (plant_farm_build, plant_farm_rules, plant_landcover_changes, plant_monitoring_patches,
                             plant_survey_history)
from .plant_homestead import (plant_home_multi, plant_home_roof, plant_home_rules, plant_home_second,
                              plant_roof_consequences)
from .plant_setback import plant_set_drip, plant_set_outside, plant_set_redline, plant_site_cemetery, plant_site_rules
from .write import write_sample

__all__ = ["PLANTERS", "build_sample", "generate_sample"]

#: Planters run in this order after the base geography.
PLANTERS = (plant_farm_build, plant_home_multi, plant_set_outside, plant_landcover_changes, plant_home_rules,
            plant_farm_rules, plant_set_drip, plant_set_redline, plant_site_cemetery, plant_site_rules,
            plant_home_second, plant_survey_history, plant_monitoring_patches, plant_home_roof,
            plant_roof_consequences)


def build_sample(seed: int = 0) -> Sample:
    """The sample district in memory (EPSG:4548), base plus every planter's cases.

    Examples
    --------
    >>> s = build_sample(0)
    >>> rules = sorted({t.rule_id for t in s.truth})
    >>> len(rules), rules[:3], rules[-3:]
    (40, ['FARM-BUILD', 'FARM-CORRIDOR', 'FARM-CRIMINAL'], ['SITE-GREEN', 'SITE-LAND', 'SITE-LEVEL'])
    >>> sorted({t.expect for t in s.truth})
    ['near_miss', 'violation']
    """
    sample = build_base(seed)
    for planter in PLANTERS:
        plant = planter(sample)
        if not isinstance(plant, Plant):
            raise TypeError(f"{planter.__name__} returned {type(plant).__name__}, not a Plant")
        sample.apply(plant)
    return sample


def generate_sample(out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Generate the sample district into ``out_dir`` and return the path of its ``landguard.toml``.

    Writes ``district.gpkg`` (every vector role but ``protected_zones`` and ``monitoring_patches``, some
    layers in EPSG:4548 and some in EPSG:4490; the survey series ``landuse_history`` as one layer of five
    vintages), ``shp/protected_zones.shp`` (GBK, no ``.cpg``), ``shp/monitoring_patches.shp`` (the
    monitoring batch: GBK, EPSG:4490, bureau field names JCBH/TBLX/QSX/HSX/PC/TBMJ), ``rasters/`` (nDSM,
    orthophoto, land cover before/after), ``truth.csv`` (the planted cases), ``truth_fields.csv`` (expected
    ``status``/``dated_by``/``judgement``/... of some planted findings) and ``landguard.toml``
    (paths relative to it). The same ``seed`` gives the same features and the same truth.csv.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder to write into (created if needed; existing sample files are overwritten).
    seed : int
        Random seed.

    Returns
    -------
    pathlib.Path
        ``out_dir / "landguard.toml"``.

    Examples
    --------
    >>> import tempfile
    >>> toml = generate_sample(tempfile.mkdtemp(), seed=0)
    >>> sorted(p.name for p in toml.parent.iterdir())
    ['district.gpkg', 'landguard.toml', 'rasters', 'shp', 'truth.csv', 'truth_fields.csv']
    """
    return write_sample(build_sample(seed), out_dir)
