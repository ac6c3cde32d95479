"""A tiny clean district written to files, and helpers to run ``landguard check`` on a spoilt copy of it.

The district (EPSG:4548, local metres from ``tests.builders``): two villages side by side, land use with
rural homesteads in the west half and dry farmland (0103) in the east half, two parcels with a house each in
the west, and building ``B2`` (10 m × 10 m) on the farmland — the one FARM-BUILD finding of the clean data.
Each test spoils one thing and checks the documented answer: a counted repair that still finds ``B2``, or
one error line.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from click.testing import CliRunner

from landguard.cli.main import cli
from tests.builders import frame, square

AS_OF = "2026-11-22"
VILLAGE_A, VILLAGE_B = "110117104201", "110117104202"


def base_layers() -> dict[str, gpd.GeoDataFrame]:
    """The clean district, one frame per role, EPSG:4548."""
    return {
        "villages": frame([
            {"village_id": VILLAGE_A, "name": "东店村", "township": "金海湖镇", "geometry": square(-500, -500, 500, 1000)},
            {"village_id": VILLAGE_B, "name": "西店村", "township": "金海湖镇", "geometry": square(0, -500, 500, 1000)}]),
        "landuse": frame([
            {"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
            {"dlbm": "0103", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}]),
        "parcels": frame([
            {"parcel_id": "P1", "owner_name": "张三", "owner_id": "11010519491231002X", "geometry": square(-100, 0, 20)},
            {"parcel_id": "P2", "owner_name": "李四", "owner_id": "110105195001010039", "geometry": square(-60, 0, 20)}]),
        "buildings": frame([
            {"building_id": "B1", "geometry": square(-98, 2, 10)},
            {"building_id": "B2", "geometry": square(100, 100, 10)},
            {"building_id": "B3", "geometry": square(-58, 2, 10)}]),
    }


def write_district(folder: Path, layers: dict[str, gpd.GeoDataFrame] | None = None, *,
                   toml: str | None = None, **files) -> Path:
    """Write each role to ``folder/<role>.gpkg`` (or the file given as ``role=path-name``), plus a toml.

    Returns the folder (``--data``), whose ``landguard.toml`` (when ``toml`` is given) maps the files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    layers = layers if layers is not None else base_layers()
    for role, f in layers.items():
        name = files.get(role, f"{role}.gpkg")
        if name is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f.to_file(folder / name, **({"layer": role} if name.endswith(".gpkg") else {}))
    if toml is not None:
        (folder / "landguard.toml").write_text(toml, encoding="utf-8")
    return folder


def run_check(data: Path, out: Path, *extra: str, rules=("FARM-BUILD",)):
    """``landguard check --data DATA --out OUT -q`` (only the given rules), in-process with click's runner."""
    args = ["check", "--data", str(data), "--out", str(out), "-q", "--as-of", AS_OF, "--jobs", "1", *extra]
    for r in rules:
        args += ["--rule", r]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = CliRunner().invoke(cli, args)
    res.gdal_warnings = [w for w in caught if "pyogrio" in str(w.filename) or "fiona" in str(w.filename)]
    return res


def ok(res) -> None:
    """The run succeeded, printed no traceback and let no GDAL warning through to the console."""
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert not res.gdal_warnings, [(str(w.message), w.filename, w.lineno) for w in res.gdal_warnings]


def one_error(res, *needles: str) -> str:
    """The run stopped with exit code 2 and exactly one line, containing every needle; returns that line."""
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert "Traceback" not in res.output
    line = lines[0]
    assert line.startswith("错误"), line
    for n in needles:
        assert n in line, f"{n!r} not in {line!r}"
    return line


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def quality(out: Path) -> dict:
    """``summary.json``'s data-quality report: ``layers`` (counts per layer) and ``notes``."""
    return summary(out)["quality"]


def summary_text(out: Path) -> str:
    return (out / "summary.txt").read_text(encoding="utf-8")


def findings(out: Path) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(out / "findings.gpkg", layer="findings")


def farm_build(out: Path) -> dict[str, float]:
    """FARM-BUILD findings: subject id -> area in m² (rounded to 0.01)."""
    f = findings(out)
    f = f[f["rule_id"] == "FARM-BUILD"]
    return {s: round(float(a), 2) for s, a in zip(f["subject_id"], f["area_m2"])}


def swap_xy(geoms):
    """The same geometries with x and y swapped."""
    return shapely.transform(np.asarray(geoms, dtype=object), lambda c: c[:, ::-1])


def polygon_wkb(coords, *, close: bool = True) -> bytes:
    """ISO WKB of a one-ring polygon, the ring closed or not as asked (shapely always closes rings)."""
    pts = list(coords) + ([coords[0]] if close else [])
    body = struct.pack("<BI", 1, 3) + struct.pack("<I", 1) + struct.pack("<I", len(pts))
    return body + b"".join(struct.pack("<dd", x, y) for x, y in pts)


def replace_gpkg_geometries(path: Path, layer: str, wkbs: dict[int, bytes], *, m: bool = False) -> None:
    """Put raw WKB into a GeoPackage layer's rows (by fid), as another program might have written it."""
    con = sqlite3.connect(path)
    try:
        geom_col, = con.execute("select column_name from gpkg_geometry_columns where table_name=?", (layer,)).fetchone()
        for (name,) in con.execute("select name from sqlite_master where type='trigger'").fetchall():
            con.execute(f'drop trigger "{name}"')
        srs, = con.execute("select srs_id from gpkg_geometry_columns where table_name=?", (layer,)).fetchone()
        header = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs)   # little endian, no envelope
        for fid, wkb in wkbs.items():
            con.execute(f'update "{layer}" set "{geom_col}"=? where fid=?', (header + wkb, fid))
        if m:
            con.execute("update gpkg_geometry_columns set m=1 where table_name=?", (layer,))
        con.commit()
    finally:
        con.close()
