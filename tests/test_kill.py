"""Nothing lost: ``kill -9`` in the middle of ``landguard check`` writing its outputs leaves whole files only.

A first run writes its outputs into ``--out``; a second run over a district with tens of thousands of
findings is started in a subprocess and killed (SIGKILL, no chance to clean up) while its temporary
``.findings.*`` file is being filled. Every output file must then open, and ``findings.gpkg`` must be either the
first run's, byte for byte, or the second run's complete file — never half of one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from landguard.pipeline import check
from tests.badinput.helpers import base_layers
from tests.builders import X0, Y0

ROOT = Path(__file__).resolve().parents[1]
N_BIG = 60_000


def write_district(folder: Path, n_buildings: int) -> Path:
    """The test district with ``n_buildings`` small houses on its farmland (one FARM-BUILD finding each)."""
    folder.mkdir(parents=True)
    layers = base_layers()
    side = int(np.ceil(np.sqrt(n_buildings)))
    i = np.arange(n_buildings)
    x = X0 + 5 + (i % side) * (490 / side)
    y = Y0 - 495 + (i // side) * (990 / side)
    s = min(490, 990) / side * 0.6
    layers["buildings"] = gpd.GeoDataFrame({"building_id": [f"B{k}" for k in i]},
                                           geometry=shapely.box(x, y, x + s, y + s), crs=4548)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for role, f in layers.items():
            f.to_file(folder / f"{role}.gpkg", layer=role)
    return folder


def is_temporary(p: Path) -> bool:
    return p.name.startswith(".") and ".tmp" in p.name


def test_kill_during_output_leaves_previous_or_new_files_never_half(tmp_path):
    out = tmp_path / "out"
    small = write_district(tmp_path / "small", 50)
    big = write_district(tmp_path / "big", N_BIG)
    check(small, out=out, rules=["FARM-BUILD"])
    previous = (out / "findings.gpkg").read_bytes()
    assert len(pyogrio.read_dataframe(out / "findings.gpkg", layer="findings")) == 50

    cmd = [sys.executable, "-m", "landguard", "check", "--data", str(big), "--out", str(out), "-q",
           "--rule", "FARM-BUILD", "--jobs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = None
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            temps = [p for p in out.iterdir() if p.name.startswith(".findings.") and p.suffix == ".gpkg"]
            try:
                grown = bool(temps) and temps[0].stat().st_size >= 64 * 1024      # rows are being written
            except FileNotFoundError:                                              # just renamed into place
                grown = True
            if temps:
                seen = temps[0].name
            if grown or (seen and not temps):   # mid-write, or findings done and the summaries under way
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert seen is not None, f"the run ended before writing findings: {proc.stderr.read().decode(errors='replace')}"
    assert proc.returncode == -signal.SIGKILL

    leftovers = [p for p in out.iterdir() if is_temporary(p)]
    outputs = [p for p in out.iterdir() if not is_temporary(p)]
    assert {p.name for p in outputs} >= {"findings.gpkg", "summary.json", "summary.txt"}
    # every output opens
    found = pyogrio.read_dataframe(out / "findings.gpkg", layer="findings")
    json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (out / "summary.txt").read_text(encoding="utf-8")
    if any(p.name.startswith(".findings.") for p in leftovers):
        # killed before the rename: the previous findings are intact, byte for byte
        assert (out / "findings.gpkg").read_bytes() == previous
        assert len(found) == 50
    else:
        # killed after it: the new file is whole
        assert len(found) == N_BIG

    # and the next run succeeds over what the killed one left
    result = check(small, out=out, rules=["FARM-BUILD"])
    assert len(pyogrio.read_dataframe(result.paths["findings"], layer="findings")) == 50
