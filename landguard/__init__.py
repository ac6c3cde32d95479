"""landguard — find farmland conversion, one-household-many-homesteads and setback violations.

The Python API in five lines::

    import landguard
    result = landguard.check("district.gpkg", out="out")        # or config="landguard.toml"
    result.findings.groupby("rule_id").size()                  # a GeoDataFrame, one row per finding
    district = landguard.load_district(config="landguard.toml")
    print(result.district.quality.to_text())
"""

import importlib

# Where each public name lives: imported on first use (PEP 562), so that `landguard --help` and
# `import landguard.cli.main` do not load geopandas, rasterio and the rules.
_LAZY = {
    **dict.fromkeys(["CATALOGUE", "FINDING_COLUMNS", "RULES", "run_rules"], "analyses"),
    "load_config": "layers.config",
    **dict.fromkeys(["District", "load_district", "make_district"], "layers.district"),
    **dict.fromkeys(["ConfigError", "CRSError", "LandguardError", "LayerError", "OutputError", "RasterError"],
                    "spatial.errors"),
    **dict.fromkeys(["CheckResult", "check"], "landguard.pipeline"),
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'landguard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

__all__ = ["check", "CheckResult", "load_district", "make_district", "District", "load_config", "run_rules",
           "CATALOGUE", "RULES", "FINDING_COLUMNS", "LandguardError", "ConfigError", "LayerError", "CRSError",
           "RasterError", "OutputError"]
__version__ = "0.1.0"
