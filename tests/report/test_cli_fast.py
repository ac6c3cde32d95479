"""`landguard --help` answers at once: the command line does not load the GIS stack until a command runs."""

import subprocess
import sys
import time

from click.testing import CliRunner

from landguard.cli.main import cli


def _imported(code: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    return {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}


def test_importing_the_cli_loads_no_gis_library():
    mods = _imported("import landguard.cli.main")
    assert "click" in mods                                       # the probe does see imports
    for heavy in ("geopandas", "pandas", "shapely", "pyogrio", "rasterio", "matplotlib", "openpyxl", "folium"):
        assert heavy not in mods, heavy


def test_importing_landguard_is_lazy_but_the_api_is_there():
    assert "geopandas" not in _imported("import landguard")
    assert "geopandas" in _imported("import landguard; landguard.check")
    proc = subprocess.run([sys.executable, "-c", "import landguard; print(landguard.LayerError.__name__)"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "LayerError"


def test_help_lists_every_command_quickly():
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "landguard", "--help"], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    for name in ("check", "maps", "export", "ledger", "verify", "report", "demo", "rules", "sample"):
        assert f"  {name} " in proc.stdout, name
    assert elapsed < 2.5, elapsed                                 # was 3.6 s; about 0.2 s on a quiet machine
    assert CliRunner().invoke(cli, ["report", "--help"]).exit_code == 0
