"""landguard — find farmland conversion, one-household-many-homesteads and setback violations.

The Python API in five lines::

    import landguard
    result = landguard.check("district.gpkg", out="out")        # or config="landguard.toml"
    result.findings.groupby("rule_id").size()                  # a GeoDataFrame, one row per finding
    district = landguard.load_district(config="landguard.toml")
    print(result.district.quality.to_text())
"""

from analyses import CATALOGUE, FINDING_COLUMNS, RULES, run_rules
from layers.config import load_config
from layers.district import District, load_district, make_district
from spatial.errors import ConfigError, CRSError, LandguardError, LayerError, OutputError, RasterError

from .pipeline import CheckResult, check

__all__ = ["check", "CheckResult", "load_district", "make_district", "District", "load_config", "run_rules",
           "CATALOGUE", "RULES", "FINDING_COLUMNS", "LandguardError", "ConfigError", "LayerError", "CRSError",
           "RasterError", "OutputError"]
__version__ = "0.1.0"
