"""Side-by-side benchmark: landguard against the plain ways of doing the same overlays.

    python benchmarks/run.py --villages 300            # district-L (generated first when missing)
    python benchmarks/run.py --villages 30 --timeout 900

Every variant runs in its own process on the same generated district (``benchmarks/generate.py``); the
parent times it (wall clock) and samples the resident memory of its whole process tree every second (for
PostGIS: of the server's processes too) for the peak. Variants:

* ``landguard check`` — the full ``check`` (read, normalise, every rule, findings.gpkg), ``--jobs`` processes;
* ``landguard overlays`` — ``check --rule`` for just the five overlays below, so the others compare like with like;
* ``landguard maps+exports`` — ``write_maps`` and ``write_exports`` for every village, after a check;
* ``geopandas (plain)`` — the five overlays written the plain way: ``geopandas.overlay`` / ``sjoin`` on whole
  layers, no subdivision;
* ``geofileops`` — the five overlays with geofileops (file to file, its own parallelism and subdivision);
* ``PostGIS`` — the five overlays as SQL with GiST indexes (loading the layers is timed apart), no
  subdivision: how a newcomer writes them;
* ``PostGIS + ST_Subdivide`` — what a PostGIS expert writes: the same five overlays on tables whose huge
  polygons (eco red line, protected zones, big farmland / PBF blocks) are cut with ``ST_Subdivide(geom, 256)``
  into tables with their own GiST index, ``ANALYZE``d; the subdivision is part of the timed SQL;
* ``floor`` — the least work a check must do, in Python: pyogrio/Arrow read, one bulk ``STRtree.query`` per
  pair of layers, vectorised ``shapely.intersection``/``area`` on the candidate pairs only, areas summed per
  subject with ``numpy.bincount``, the eco red line cut into pieces of ≤ 256 vertices first (a quadtree of
  ``shapely.clip_by_rect``). No unions, differences, attributes, findings or files: a lower bound, not a
  check. Its six overlays: buildings × baseline farmland (01xx), × PBF, × parcels (part outside every
  parcel), × eco red line; parcels × PBF; baseline farmland × current non-farmland;
* ``floor-exact`` — the floor with the two exact pair shortcuts the engine uses (``spatial.overlay``): pairs whose
  envelopes meet only along a line are dropped, and a pair where one polygon covers the other takes the covered
  one's area without an intersection. On this generated district (survey patches on a shared axis-aligned grid,
  most buildings inside their parcel) they remove most of the floor's own work, so the check is compared with both;
* (every variant starts with the district's files in the page cache: they are read once before it, untimed)
* ``PostGIS floor SQL`` — the floor's six overlays as SQL on the subdivided tables (``ST_Intersection`` /
  ``ST_Area`` on an ``ST_Intersects`` join, summed per subject), for comparing like with like.

The five overlays: FARM-BUILD (buildings on farmland = baseline 01xx ∪ PBF, minus valid approvals),
HOME-PBF (parcels on PBF), HOME-COVER (building footprint share of each parcel), SET-OUTSIDE (the part of each
building outside its parcel) and SET-REDLINE (buildings in the eco red line). Counts are reported beside the
times as a check that every variant did the same work (the floor's six overlays have counts of their own).
No timing here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OVERLAYS = ("FARM-BUILD", "HOME-PBF", "HOME-COVER", "SET-OUTSIDE", "SET-REDLINE")
AS_OF = "2026-11-22"
MIN_AREA = 1.0
COVER_MAX = 0.75
VARIANTS = {
    "landguard": "landguard check（全部规则）",
    "landguard-overlays": "landguard check --rule（同样五个叠加）",
    "maps": "landguard 地图+导出（全部行政村）",
    "geopandas": "geopandas.overlay/sjoin（不细分）",
    "geofileops": "geofileops",
    "postgis": "PostGIS SQL + GiST（不细分）",
    "postgis-subdivide": "PostGIS SQL + GiST + ST_Subdivide（专家写法）",
    "floor": "floor（下限：Arrow 读 + STRtree 批量查询 + 向量化求交）",
    "floor-exact": "floor + 精确捷径（外包框仅接边的对跳过、被覆盖的对不求交）",
    "postgis-floor": "PostGIS floor SQL（同样六个叠加，细分表）",
}
# the floor's overlays: (name, subject layer, cover layer)
FLOOR = ("B×FARM", "B×PBF", "B×PARCEL", "B×RED", "P×PBF", "FARM×NONFARM")
POSTGIS_VARIANTS = ("postgis", "postgis-subdivide", "postgis-floor")


# --------------------------------------------------------------------------------------------------
# children: one variant each, results as JSON on the last line of stdout
# --------------------------------------------------------------------------------------------------
def _maxrss_mb() -> dict:
    return {"self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def child_landguard(data: Path, jobs: int | None, rules=None, maps: bool = False) -> dict:
    from landguard.pipeline import check, write_exports, write_maps

    out = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    t0 = time.perf_counter()
    result = check(config=data / "landguard.toml", out=out / "run", rules=rules, jobs=jobs, overwrite=True)
    t1 = time.perf_counter()
    steps = {"check": t1 - t0}
    counts = result.findings["rule_id"].value_counts().to_dict()
    if maps:
        write_maps(result.district, result.findings, out / "maps")
        t2 = time.perf_counter()
        write_exports(result.district, result.findings, out / "exports")
        t3 = time.perf_counter()
        steps.update({"maps": t2 - t1, "exports": t3 - t2, "maps+exports": t3 - t1})
    rules_s = {o.rule_id: o.seconds for o in result.outcomes if o.skipped is None}
    extra = {"median_map_mb": _median_map_mb(out / "maps")} if maps else {}
    shutil.rmtree(out, ignore_errors=True)  # after the clock: a district's outputs are ~0.5 GB a run
    return {"steps": steps, "counts": {k: int(v) for k, v in counts.items()}, "rule_seconds": rules_s,
            "findings": int(len(result.findings)), **extra}


def _median_map_mb(folder: Path) -> float:
    """Median size of the village maps in ``folder`` (MB), ``index.html`` left out."""
    import statistics

    sizes = [p.stat().st_size for p in folder.glob("*.html") if p.name != "index.html"]
    return statistics.median(sizes) / 1e6 if sizes else 0.0


def _read(data: Path, extra: tuple[str, ...] = ()):
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    gpkg = data / "district.gpkg"
    layers = {}
    for name in ("buildings", "parcels", "landuse_baseline", "pbf", "approvals", "eco_redline", "protected_zones",
                 *extra):
        layers[name] = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True)
    zones = layers.pop("protected_zones")
    blue = zones[zones["kind"].isin(["blue_line", "water_source"])]
    # SET-REDLINE's zones: the eco red line and the blue-line / water-source zones
    layers["redline_zones"] = pd.concat([layers["eco_redline"][["geometry"]], blue[["geometry"]]], ignore_index=True)
    assert all(isinstance(v, gpd.GeoDataFrame) for v in layers.values())
    return layers


def _valid_approvals(ap):
    import pandas as pd

    kind = ap["kind"].astype(str)
    until = pd.to_datetime(ap["valid_until"], errors="coerce")
    return ap[kind.isin(["construction", "homestead"]) | ((kind == "temporary") & (until >= pd.Timestamp(AS_OF)))]


def child_geopandas(data: Path) -> dict:
    """The five overlays done the plain way: geopandas.overlay / sjoin on whole layers, no subdivision."""
    import geopandas as gpd
    import pandas as pd

    steps, counts = {}, {}
    t = time.perf_counter()
    L = _read(data)
    steps["read"] = time.perf_counter() - t
    b = L["buildings"][["building_id", "geometry"]]
    p = L["parcels"][["parcel_id", "geometry"]]

    t = time.perf_counter()  # FARM-BUILD
    lub = L["landuse_baseline"]
    farm = pd.concat([lub[lub["dlbm"].astype(str).str[:2] == "01"][["geometry"]], L["pbf"][["geometry"]]],
                     ignore_index=True)
    on = gpd.overlay(b, farm, how="intersection", keep_geom_type=True).dissolve("building_id").reset_index()
    free = gpd.overlay(on, _valid_approvals(L["approvals"])[["geometry"]], how="difference", keep_geom_type=True)
    counts["FARM-BUILD"] = int((free.area >= MIN_AREA).sum())
    steps["FARM-BUILD"] = time.perf_counter() - t

    t = time.perf_counter()  # HOME-PBF
    hp = gpd.overlay(p, L["pbf"][["geometry"]], how="intersection", keep_geom_type=True).dissolve("parcel_id")
    counts["HOME-PBF"] = int((hp.area >= MIN_AREA).sum())
    steps["HOME-PBF"] = time.perf_counter() - t

    t = time.perf_counter()  # HOME-COVER
    bp = gpd.overlay(b, p, how="intersection", keep_geom_type=True)
    bp["a"] = bp.area
    share = bp.groupby("parcel_id")["a"].sum() / p.set_index("parcel_id").area
    counts["HOME-COVER"] = int((share > COVER_MAX).sum())
    steps["HOME-COVER"] = time.perf_counter() - t

    t = time.perf_counter()  # SET-OUTSIDE: building minus its own parcel (largest overlap)
    bp2 = gpd.sjoin(b, p, how="inner", predicate="intersects")
    bp2["a"] = bp2.geometry.intersection(p.geometry.loc[bp2["index_right"]].set_axis(bp2.index)).area
    own = bp2.sort_values("a", ascending=False).drop_duplicates("building_id")
    outside = own.geometry.difference(p.geometry.loc[own["index_right"]].set_axis(own.index))
    counts["SET-OUTSIDE"] = int((outside.area >= MIN_AREA).sum())
    steps["SET-OUTSIDE"] = time.perf_counter() - t

    t = time.perf_counter()  # SET-REDLINE
    red = gpd.overlay(b, L["redline_zones"], how="intersection", keep_geom_type=True).dissolve("building_id")
    counts["SET-REDLINE"] = int((red.area >= MIN_AREA).sum())
    steps["SET-REDLINE"] = time.perf_counter() - t
    return {"steps": steps, "counts": counts}


def child_geofileops(data: Path, jobs: int) -> dict:
    """The five overlays with geofileops, file to file."""
    try:  # geofileops needs sqlite with loadable extensions (mod_spatialite); pyenv's sqlite3 may lack them
        import sqlite3

        sqlite3.connect(":memory:").enable_load_extension(True)
    except AttributeError:
        import pysqlite3
        import pysqlite3.dbapi2

        sys.modules["sqlite3"] = pysqlite3
        sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
    import warnings

    warnings.filterwarnings("ignore")
    import geofileops as gfo
    import pandas as pd
    import pyogrio

    tmp = Path(tempfile.mkdtemp(prefix="gfo-bench-"))
    gpkg = data / "district.gpkg"
    steps, counts = {}, {}
    kw = {"nb_parallel": jobs, "force": True}

    t = time.perf_counter()  # inputs geofileops cannot select itself: farmland, valid approvals
    L = _read(data)
    lub = L["landuse_baseline"]
    farm = pd.concat([lub[lub["dlbm"].astype(str).str[:2] == "01"][["geometry"]], L["pbf"][["geometry"]]],
                     ignore_index=True)
    pyogrio.write_dataframe(farm, tmp / "farm.gpkg", layer="farm")
    pyogrio.write_dataframe(_valid_approvals(L["approvals"])[["approval_id", "geometry"]], tmp / "ap.gpkg", layer="ap")
    pyogrio.write_dataframe(L["redline_zones"], tmp / "zones.gpkg", layer="zones")
    steps["prepare"] = time.perf_counter() - t

    def n_rows(path, where=None):
        f = pyogrio.read_dataframe(path, read_geometry=True)
        return f if where is None else where(f)

    t = time.perf_counter()
    gfo.intersection(gpkg, tmp / "farm.gpkg", tmp / "bf.gpkg", input1_layer="buildings", input2_layer="farm",
                     input1_columns=["building_id"], input2_columns=[], **kw)
    gfo.dissolve(tmp / "bf.gpkg", tmp / "bfd.gpkg", explodecollections=False, groupby_columns=["l1_building_id"],
                 **kw)
    gfo.difference(tmp / "bfd.gpkg", tmp / "ap.gpkg", tmp / "fb.gpkg", **kw)
    fb = n_rows(tmp / "fb.gpkg")
    counts["FARM-BUILD"] = int((fb.area >= MIN_AREA).sum())
    steps["FARM-BUILD"] = time.perf_counter() - t

    t = time.perf_counter()
    gfo.intersection(gpkg, gpkg, tmp / "hp.gpkg", input1_layer="parcels", input2_layer="pbf",
                     input1_columns=["parcel_id"], input2_columns=[], **kw)
    hp = n_rows(tmp / "hp.gpkg")
    hp = hp.assign(a=hp.area).groupby("l1_parcel_id")["a"].sum()
    counts["HOME-PBF"] = int((hp >= MIN_AREA).sum())
    steps["HOME-PBF"] = time.perf_counter() - t

    t = time.perf_counter()
    gfo.intersection(gpkg, gpkg, tmp / "bp.gpkg", input1_layer="buildings", input2_layer="parcels",
                     input1_columns=["building_id"], input2_columns=["parcel_id"], **kw)
    bp = n_rows(tmp / "bp.gpkg")
    bp["a"] = bp.area
    parea = L["parcels"].set_index("parcel_id").area
    share = bp.groupby("l2_parcel_id")["a"].sum() / parea
    counts["HOME-COVER"] = int((share > COVER_MAX).sum())
    steps["HOME-COVER"] = time.perf_counter() - t

    t = time.perf_counter()  # outside every parcel (parcels do not overlap: the same as outside its own)
    gfo.difference(gpkg, gpkg, tmp / "so.gpkg", input1_layer="buildings", input2_layer="parcels",
                   input1_columns=["building_id"], **kw)
    so = n_rows(tmp / "so.gpkg")
    counts["SET-OUTSIDE"] = int(((so.area >= MIN_AREA) & so["building_id"].isin(bp["l1_building_id"])).sum())
    steps["SET-OUTSIDE"] = time.perf_counter() - t

    t = time.perf_counter()
    gfo.intersection(gpkg, tmp / "zones.gpkg", tmp / "sr.gpkg", input1_layer="buildings", input2_layer="zones",
                     input1_columns=["building_id"], input2_columns=[], **kw)
    sr = n_rows(tmp / "sr.gpkg")
    sr = sr.assign(a=sr.area).groupby("l1_building_id")["a"].sum()
    counts["SET-REDLINE"] = int((sr >= MIN_AREA).sum())
    steps["SET-REDLINE"] = time.perf_counter() - t
    return {"steps": steps, "counts": counts}


def overlay_areas(left, right, threads: int = 1, shortcuts: bool = False):
    """Area of ``left[i] ∩ right[j]`` summed per ``left`` and per ``right`` feature: one bulk STRtree query,
    vectorised intersections on the candidate pairs only (split over ``threads``: shapely releases the GIL).

    With ``shortcuts`` the two exact pair shortcuts the engine uses (``spatial.overlay``) are applied first:
    pairs whose envelopes meet only along a line are dropped (no shared area), and a pair where one polygon
    covers the other takes the covered one's area without an intersection.

    Examples
    --------
    >>> import shapely
    >>> a, b = overlay_areas([shapely.box(0, 0, 2, 2)], [shapely.box(1, 1, 3, 3), shapely.box(5, 5, 6, 6)])
    >>> a.tolist(), b.tolist()
    ([1.0], [1.0, 0.0])
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import shapely

    left = np.asarray(left, dtype=object)
    right = np.asarray(right, dtype=object)
    li, ri = shapely.STRtree(right).query(left, predicate="intersects")
    known = None
    if shortcuts:
        from spatial.overlay import area_pairs, covering

        can = area_pairs(left, right, li, ri)
        li, ri = li[can], ri[can]
        l_covers, r_covers = covering(left, right, li, ri)
        known = np.where(l_covers, shapely.area(right[ri]), np.where(r_covers, shapely.area(left[li]), np.nan))
        rest = np.isnan(known)
        full_li, full_ri, li, ri = li, ri, li[rest], ri[rest]
    if threads > 1 and len(li) > 10_000:
        bounds = np.linspace(0, len(li), threads * 4 + 1).astype(int)
        with ThreadPoolExecutor(threads) as pool:
            parts = pool.map(lambda k: shapely.area(shapely.intersection(left[li[bounds[k]:bounds[k + 1]]],
                                                                         right[ri[bounds[k]:bounds[k + 1]]])),
                             range(len(bounds) - 1))
            area = np.concatenate(list(parts))
    else:
        area = shapely.area(shapely.intersection(left[li], right[ri]))
    if known is not None:
        known[np.isnan(known)] = area
        li, ri, area = full_li, full_ri, known
    return (np.bincount(li, weights=area, minlength=len(left)),
            np.bincount(ri, weights=area, minlength=len(right)))


def child_floor(data: Path, threads: int, shortcuts: bool = False) -> dict:
    """The floor: read with Arrow, then the six core overlays of a check as bulk STRtree queries and
    vectorised intersection areas on candidate pairs, the eco red line cut into pieces first (``shortcuts``:
    with the engine's exact pair shortcuts, see :func:`overlay_areas`)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyogrio
    import shapely

    gpkg = data / "district.gpkg"
    names = ("buildings", "parcels", "landuse_baseline", "landuse", "pbf", "eco_redline")
    steps, counts = {}, {}
    t = time.perf_counter()
    with ThreadPoolExecutor(max(threads, 1)) as pool:
        frames = dict(zip(names, pool.map(lambda n: pyogrio.read_dataframe(
            gpkg, layer=n, use_arrow=True, columns=["dlbm"] if n.startswith("landuse") else []), names)))
    geoms = {n: f.geometry.to_numpy() for n, f in frames.items()}
    base_farm = frames["landuse_baseline"]["dlbm"].astype(str).str[:2].to_numpy() == "01"
    now_farm = frames["landuse"]["dlbm"].astype(str).str[:2].to_numpy() == "01"
    steps["read"] = time.perf_counter() - t

    t = time.perf_counter()
    from spatial.subdivide import subdivide   # the same quadtree of rectangle clips the engine uses

    red, _ = subdivide(geoms["eco_redline"], 256)
    steps["red line grid"] = time.perf_counter() - t
    b, p, pbf = geoms["buildings"], geoms["parcels"], geoms["pbf"]
    farm = geoms["landuse_baseline"][base_farm]

    def run(name, left, right, count):
        t0 = time.perf_counter()
        per_left, per_right = overlay_areas(left, right, threads, shortcuts)
        counts[name] = int(count(per_left, per_right))
        steps[name] = time.perf_counter() - t0

    run("B×FARM", b, farm, lambda a, _: (a >= MIN_AREA).sum())
    run("B×PBF", b, pbf, lambda a, _: (a >= MIN_AREA).sum())
    b_area = shapely.area(b)
    run("B×PARCEL", b, p, lambda a, _: (b_area - a >= MIN_AREA).sum())  # part outside every parcel
    run("B×RED", b, red, lambda a, _: (a >= MIN_AREA).sum())
    run("P×PBF", p, pbf, lambda a, _: (a >= MIN_AREA).sum())
    run("FARM×NONFARM", farm, geoms["landuse"][~now_farm], lambda a, _: (a >= MIN_AREA).sum())
    return {"steps": steps, "counts": counts, "red_pieces": int(len(red)),
            "red_valid": bool(shapely.is_valid(red).all()),
            "red_area_ratio": float(shapely.area(red).sum() / shapely.area(geoms["eco_redline"]).sum())}


_SQL = {
    "FARM-BUILD": """
        WITH onfarm AS (
          SELECT b.building_id, b.geom AS bgeom, ST_Union(ST_Intersection(b.geom, f.geom)) AS g
          FROM buildings b JOIN farm f ON ST_Intersects(b.geom, f.geom)
          GROUP BY b.building_id, b.geom),
        free AS (
          SELECT o.building_id, COALESCE(ST_Difference(o.g, (
              SELECT ST_Union(a.geom) FROM approvals a WHERE a.valid AND ST_Intersects(a.geom, o.bgeom))), o.g) AS g
          FROM onfarm o)
        SELECT count(*) FROM free WHERE ST_Area(g) >= {min_area}""",
    "HOME-PBF": """
        SELECT count(*) FROM (
          SELECT p.parcel_id, ST_Area(ST_Union(ST_Intersection(p.geom, f.geom))) AS a
          FROM parcels p JOIN pbf f ON ST_Intersects(p.geom, f.geom) GROUP BY p.parcel_id) x
        WHERE a >= {min_area}""",
    "HOME-COVER": """
        SELECT count(*) FROM (
          SELECT p.parcel_id, sum(ST_Area(ST_Intersection(b.geom, p.geom))) / ST_Area(p.geom) AS share
          FROM parcels p JOIN buildings b ON ST_Intersects(b.geom, p.geom) GROUP BY p.parcel_id, p.geom) x
        WHERE share > {cover_max}""",
    "SET-OUTSIDE": """
        WITH own AS (
          SELECT DISTINCT ON (b.building_id) b.building_id, b.geom AS bgeom, p.geom AS pgeom
          FROM buildings b JOIN parcels p ON ST_Intersects(b.geom, p.geom)
          ORDER BY b.building_id, ST_Area(ST_Intersection(b.geom, p.geom)) DESC)
        SELECT count(*) FROM own WHERE ST_Area(ST_Difference(bgeom, pgeom)) >= {min_area}""",
    "SET-REDLINE": """
        SELECT count(*) FROM (
          SELECT b.building_id, ST_Area(ST_Union(ST_Intersection(b.geom, r.geom))) AS a
          FROM buildings b JOIN redline_zones r ON ST_Intersects(b.geom, r.geom) GROUP BY b.building_id) x
        WHERE a >= {min_area}""",
}


# what a PostGIS expert writes: the same overlays against subdivided tables of the huge polygons
_SQL_SUBDIVIDE = {
    rule: query.replace("JOIN farm f", "JOIN farm_sub f").replace("JOIN pbf f", "JOIN pbf_sub f")
    .replace("JOIN redline_zones r", "JOIN zones_sub r")
    for rule, query in _SQL.items()}

# the floor's six overlays as SQL (areas summed per subject; cover tables subdivided where they are huge)
_SQL_FLOOR = {
    "B×FARM": """
        SELECT count(*) FROM (
          SELECT b.building_id, sum(ST_Area(ST_Intersection(b.geom, f.geom))) AS a
          FROM buildings b JOIN farm_base f ON ST_Intersects(b.geom, f.geom) GROUP BY b.building_id) x
        WHERE a >= {min_area}""",
    "B×PBF": """
        SELECT count(*) FROM (
          SELECT b.building_id, sum(ST_Area(ST_Intersection(b.geom, f.geom))) AS a
          FROM buildings b JOIN pbf_sub f ON ST_Intersects(b.geom, f.geom) GROUP BY b.building_id) x
        WHERE a >= {min_area}""",
    "B×PARCEL": """
        SELECT count(*) FROM (
          SELECT b.building_id,
                 ST_Area(b.geom) - COALESCE(sum(ST_Area(ST_Intersection(b.geom, p.geom))), 0) AS outside
          FROM buildings b LEFT JOIN parcels p ON ST_Intersects(b.geom, p.geom) GROUP BY b.building_id, b.geom) x
        WHERE outside >= {min_area}""",
    "B×RED": """
        SELECT count(*) FROM (
          SELECT b.building_id, sum(ST_Area(ST_Intersection(b.geom, r.geom))) AS a
          FROM buildings b JOIN eco_sub r ON ST_Intersects(b.geom, r.geom) GROUP BY b.building_id) x
        WHERE a >= {min_area}""",
    "P×PBF": """
        SELECT count(*) FROM (
          SELECT p.parcel_id, sum(ST_Area(ST_Intersection(p.geom, f.geom))) AS a
          FROM parcels p JOIN pbf_sub f ON ST_Intersects(p.geom, f.geom) GROUP BY p.parcel_id) x
        WHERE a >= {min_area}""",
    "FARM×NONFARM": """
        SELECT count(*) FROM (
          SELECT f.fid, sum(ST_Area(ST_Intersection(f.geom, n.geom))) AS a
          FROM farm_base f JOIN nonfarm_now n ON ST_Intersects(f.geom, n.geom) GROUP BY f.fid) x
        WHERE a >= {min_area}""",
}

# run by the expert variants after loading, timed: huge polygons cut to ≤ 256 vertices (the eco red line once,
# reused for the red-line zones), each piece table with its GiST index, analysed
_SUBDIVIDE = {
    "eco_sub": "SELECT ST_Subdivide(geom, 256) AS geom FROM eco_redline",
    "zones_sub": "SELECT geom FROM eco_sub UNION ALL SELECT ST_Subdivide(geom, 256) AS geom FROM blue_zones",
    "farm_sub": "SELECT ST_Subdivide(geom, 256) AS geom FROM farm",
    "pbf_sub": "SELECT pbf_id, ST_Subdivide(geom, 256) AS geom FROM pbf",
}
_SUBDIVIDE_FOR = {"postgis-subdivide": ("eco_sub", "zones_sub", "farm_sub", "pbf_sub"),
                  "postgis-floor": ("eco_sub", "pbf_sub")}


def _load_postgis(data: Path, url: str, floor_tables: bool = False) -> None:
    """Every layer the PostGIS variants use, by COPY, each with a GiST index and ANALYZE."""
    import psycopg

    from tests.postgis_server import load_frame

    L = _read(data, extra=("landuse",) if floor_tables else ())
    ap = L["approvals"]
    ap = ap.assign(valid=ap.index.isin(_valid_approvals(ap).index))
    blue = L["redline_zones"].iloc[len(L["eco_redline"]):]  # the red-line zones besides the eco red line
    for name, frame in {**L, "approvals": ap, "blue_zones": blue}.items():
        load_frame(url, frame, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS farm")
        conn.execute("CREATE TABLE farm AS SELECT geom FROM landuse_baseline WHERE left(dlbm, 2) = '01' "
                     "UNION ALL SELECT geom FROM pbf")
        conn.execute("CREATE INDEX ON farm USING gist (geom)")
        conn.execute("ANALYZE farm")
        if floor_tables:
            conn.execute("DROP TABLE IF EXISTS farm_base, nonfarm_now")
            conn.execute("CREATE TABLE farm_base AS SELECT row_number() OVER () AS fid, geom "
                         "FROM landuse_baseline WHERE left(dlbm, 2) = '01'")
            conn.execute("CREATE TABLE nonfarm_now AS SELECT geom FROM landuse WHERE left(dlbm, 2) <> '01'")
            for t in ("farm_base", "nonfarm_now"):
                conn.execute(f"CREATE INDEX ON {t} USING gist (geom)")
                conn.execute(f"ANALYZE {t}")


def child_postgis(data: Path, url: str, variant: str = "postgis") -> dict:
    """Load the layers into PostGIS (timed apart), then the overlays as SQL with GiST indexes: ``postgis`` the
    five overlays on the tables as loaded; ``postgis-subdivide`` the five overlays after ``ST_Subdivide``;
    ``postgis-floor`` the floor's six overlays after ``ST_Subdivide``."""
    import psycopg

    steps, counts = {}, {}
    t = time.perf_counter()
    _load_postgis(data, url, floor_tables=variant == "postgis-floor")
    steps["load"] = time.perf_counter() - t
    queries = {"postgis": _SQL, "postgis-subdivide": _SQL_SUBDIVIDE, "postgis-floor": _SQL_FLOOR}[variant]
    with psycopg.connect(url, autocommit=True) as conn:
        if variant != "postgis":
            t = time.perf_counter()
            per_table = {}
            for table in _SUBDIVIDE_FOR[variant]:
                t1 = time.perf_counter()
                conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute(f"CREATE TABLE {table} AS {_SUBDIVIDE[table]}")
                conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
                conn.execute(f"ANALYZE {table}")
                per_table[table] = time.perf_counter() - t1
            steps["ST_Subdivide + GiST + ANALYZE"] = time.perf_counter() - t
            counts["eco_sub pieces"] = int(conn.execute("SELECT count(*) FROM eco_sub").fetchone()[0])
        for rule, query in queries.items():
            t = time.perf_counter()
            counts[rule] = int(conn.execute(query.format(min_area=MIN_AREA, cover_max=COVER_MAX)).fetchone()[0])
            steps[rule] = time.perf_counter() - t
    res = {"steps": steps, "counts": counts, "excluded_from_time": ["load"]}
    if variant != "postgis":
        res["subdivide_seconds"] = per_table
    return res


def child_main(args) -> int:
    data = Path(args.data)
    if args.child == "landguard":
        res = child_landguard(data, args.jobs)
    elif args.child == "landguard-overlays":
        res = child_landguard(data, args.jobs, rules=list(OVERLAYS))
    elif args.child == "maps":
        res = child_landguard(data, args.jobs, maps=True)
        res["excluded_from_time"] = ["check"]
    elif args.child == "geopandas":
        res = child_geopandas(data)
    elif args.child == "geofileops":
        res = child_geofileops(data, args.jobs or os.cpu_count() or 1)
    elif args.child in POSTGIS_VARIANTS:
        res = child_postgis(data, args.url, args.child)
    elif args.child in ("floor", "floor-exact"):
        res = child_floor(data, args.jobs or os.cpu_count() or 1, shortcuts=args.child == "floor-exact")
    else:
        raise SystemExit(f"unknown variant {args.child}")
    res["maxrss"] = _maxrss_mb()
    print("RESULT " + json.dumps(res, ensure_ascii=False, default=float))
    return 0


# --------------------------------------------------------------------------------------------------
# parent: run, measure, tabulate
# --------------------------------------------------------------------------------------------------
def _tree_rss(pids: list[int]) -> float:
    import psutil

    total = 0
    seen = set()
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:  # proportional set size: pages shared by forked workers (or a server's buffers) count once
                total += p.memory_full_info().pss
            except (psutil.Error, AttributeError):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
    return total / 2**20


def _sqlite_shim() -> str:
    """A folder with a sitecustomize.py that, where Python's sqlite3 cannot load extensions (pyenv builds),
    swaps in pysqlite3 in every process, including the workers geofileops starts."""
    folder = Path(tempfile.mkdtemp(prefix="sqlite-shim-"))
    (folder / "sitecustomize.py").write_text(
        "import sqlite3, sys\n"
        "if not hasattr(sqlite3.Connection, 'enable_load_extension'):\n"
        "    try:\n"
        "        import pysqlite3, pysqlite3.dbapi2\n"
        "        sys.modules['sqlite3'] = pysqlite3\n"
        "        sys.modules['sqlite3.dbapi2'] = pysqlite3.dbapi2\n"
        "    except ImportError:\n"
        "        pass\n", encoding="utf-8")
    return str(folder)


def warm_cache(data: Path) -> float:
    """Read every file of the generated district once, untimed, so that each variant starts with it in the page
    cache: on a machine that reclaims the page cache between runs (e.g. a VM with DAMON reclaim) the first
    variant would otherwise also time the disk. Returns the bytes read.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.gpkg").write_bytes(b"x" * 10)
    >>> warm_cache(d)
    10
    """
    total = 0
    for f in sorted(Path(data).rglob("*")):
        if f.is_file():
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 23):
                    total += len(chunk)
    return total


#: Seconds between memory samples. Reading a process's PSS walks its page tables (~32 ms of kernel time for a
#: 500 MB worker): every 0.2 s, with a parent and two workers, that took half a core of this 2-core machine
#: from the variant being timed, and more from the variants with more processes.
_SAMPLE_S = 1.0


def run_variant(name: str, data: Path, jobs: int | None, timeout: float, url: str | None = None,
                extra_pids: list[int] | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--data", str(data)]
    pythonpath = str(ROOT)
    if name == "geofileops":
        pythonpath = f"{_sqlite_shim()}{os.pathsep}{pythonpath}"
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if url:
        cmd += ["--url", url]
    peak = [0.0]
    warm_cache(data)
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": pythonpath})
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss([proc.pid] + list(extra_pids or [])))
            stop.wait(_SAMPLE_S)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    stop.set()
    thread.join()
    row = {"variant": name, "wall": wall, "peak_mb": peak[0], "timed_out": timed_out, "ok": False,
           "load": [load_start, os.getloadavg()[0]]}
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    if line and not timed_out:
        row.update(json.loads(line[-1][7:]))
        row["ok"] = proc.returncode == 0
        excluded = sum(row["steps"].get(k, 0.0) for k in row.get("excluded_from_time", []))
        row["time"] = (sum(row["steps"].values()) - excluded if name in POSTGIS_VARIANTS + ("floor", "floor-exact") else wall)
        if name == "maps":
            row["time"] = row["steps"]["maps+exports"]
    else:
        row["error"] = (err or out).strip().splitlines()[-1:] if (err or out).strip() else ["no output"]
    return row


def machine() -> str:
    import psutil

    cpu = "unknown CPU"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import geopandas
    import shapely

    load = os.getloadavg()
    return (f"{cpu}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, geopandas "
            f"{geopandas.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}); "
            f"load average at start {load[0]:.1f}")


def _fmt_s(row) -> str:
    if row.get("timed_out"):
        return f"> {row['wall']:.0f}（超时）"
    if not row.get("ok"):
        return "失败"
    return f"{row['time']:.1f}"


def table(rows: list[dict], meta: dict, jobs, header: str) -> str:
    for r in rows:  # maps+exports: the maps and exports alone, not the check before them
        if r["variant"] == "maps" and r.get("ok") and "maps+exports" in r.get("steps", {}):
            r["time"] = r["steps"]["maps+exports"]
    ref = {r["variant"]: r for r in rows if r.get("ok")}
    base = ref.get("landguard-overlays")
    full = ref.get("landguard")
    floor = ref.get("floor")

    def ratio(r, to, digits=1):
        if not to:
            return "–"
        if r.get("ok"):
            return f"{r['time'] / to['time']:.{digits}f}"
        return f"> {r['wall'] / to['time']:.0f}" if r.get("timed_out") else "–"

    def load(r):
        la = r.get("load")
        return f"{la[0]:.1f}–{la[1]:.1f}" if la else "–"

    lines = [header, "",
             "| variant | s | peak memory MB | load avg | × floor | × landguard overlays | × landguard check | "
             + " | ".join(OVERLAYS) + " |",
             "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(OVERLAYS)]
    for r in rows:
        counts = r.get("counts", {})
        label = VARIANTS[r["variant"]] + (" †" if r.get("merged") else "")
        lines.append(f"| {label} | {_fmt_s(r)} | {r['peak_mb']:.0f} | {load(r)} | {ratio(r, floor)} | "
                     f"{ratio(r, base)} | {ratio(r, full, 2)} | "
                     + " | ".join(str(counts.get(o, "–")) for o in OVERLAYS) + " |")
    if any(r.get("merged") for r in rows):
        lines.append("")
        lines.append("† measured in an earlier run on the same data and machine (`--merge`).")
    with_floor = [r for r in rows if r.get("ok") and any(o in r.get("counts", {}) for o in FLOOR)]
    if with_floor:
        lines += ["", "The floor's six overlays (seconds / subjects with an overlap ≥ 1 m²; B×PARCEL: buildings "
                  "with ≥ 1 m² outside every parcel):", "",
                  "| variant | read / load | cut huge polygons | " + " | ".join(FLOOR) + " | total |",
                  "|---|---:|---:|" + "---:|" * len(FLOOR) + "---:|"]
        for r in with_floor:
            st, c = r["steps"], r["counts"]
            cut = st.get("red line grid", st.get("ST_Subdivide + GiST + ANALYZE"))
            read = st.get("read", st.get("load"))
            read_s = f"{read:.1f}" + (" (not in total)" if "load" in r.get("excluded_from_time", []) else "")
            lines.append(f"| {VARIANTS[r['variant']]} | {read_s} | {cut:.1f} | "
                         + " | ".join(f"{st[o]:.2f} / {c[o]}" for o in FLOOR) + f" | {r['time']:.1f} |")
    targets = []
    if full and floor:
        targets.append(f"- full check ÷ floor: {full['time']:.1f} s ÷ {floor['time']:.1f} s = "
                       f"**{full['time'] / floor['time']:.1f}×** (target ≤ 3×)")
    exact = ref.get("floor-exact")
    if full and exact:
        targets.append(f"- full check ÷ the floor with the engine's exact pair shortcuts: {full['time']:.1f} s ÷ "
                       f"{exact['time']:.1f} s = **{full['time'] / exact['time']:.1f}×**")
    if base and floor:
        targets.append(f"- landguard's five overlays ÷ floor: {base['time']:.1f} s ÷ {floor['time']:.1f} s = "
                       f"{base['time'] / floor['time']:.1f}×")
    sub = ref.get("postgis-subdivide")
    if base and sub:
        targets.append(f"- landguard's five overlays (`check --rule`, read included) against PostGIS + ST_Subdivide "
                       f"(SQL only): {base['time']:.1f} s against {sub['time']:.1f} s = "
                       f"**{sub['time'] / base['time']:.2f}×** in landguard's favour" if sub["time"] >= base["time"]
                       else f"- landguard's five overlays (`check --rule`, read included) against PostGIS + "
                       f"ST_Subdivide (SQL only): {base['time']:.1f} s against {sub['time']:.1f} s: **PostGIS "
                       f"{base['time'] / sub['time']:.2f}× faster** (target: landguard faster)")
    pf = ref.get("postgis-floor")
    if floor and pf:
        targets.append(f"- floor in Python against the same six overlays in PostGIS + ST_Subdivide: "
                       f"{floor['time']:.1f} s against {pf['time']:.1f} s")
    if full:
        targets.append(f"- full check peak memory: {full['peak_mb']:.0f} MB (target ≤ 2048 MB)")
    if targets:
        lines += ["", "Targets (issue 13):", ""] + targets
    mp = ref.get("maps")
    if mp and mp.get("ok") and "maps+exports" in mp.get("steps", {}):
        lines += ["", "Targets (issue 16):", ""]
        if floor:
            took = mp["steps"]["maps+exports"]
            lines.append(f"- maps + field files ÷ floor: {took:.1f} s ÷ {floor['time']:.1f} s = "
                         f"**{took / floor['time']:.1f}×** (target ≤ 10×)")
        if mp.get("median_map_mb"):
            lines.append(f"- median village map: {mp['median_map_mb']:.2f} MB (target ≤ 0.8 MB)")
    lines.append("")
    lines.append("Per step (seconds):")
    lines.append("")
    for r in rows:
        if r.get("steps"):
            steps = ", ".join(f"{k} {v:.1f}" for k, v in r["steps"].items())
            lines.append(f"- {VARIANTS[r['variant']]}: {steps}")
            if r.get("subdivide_seconds"):
                lines.append("  - ST_Subdivide + GiST + ANALYZE per table: "
                             + ", ".join(f"{k} {v:.1f}" for k, v in r["subdivide_seconds"].items()))
            if r.get("rule_seconds"):
                top = sorted(r["rule_seconds"].items(), key=lambda kv: -kv[1])[:6]
                lines.append("  - slowest rules (seconds summed over workers): "
                             + ", ".join(f"{k} {v:.1f}" for k, v in top))
        elif r.get("error"):
            lines.append(f"- {VARIANTS[r['variant']]}: failed: {' '.join(r['error'])[:300]}")
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="landguard benchmark: landguard vs geopandas, geofileops, PostGIS")
    ap.add_argument("--villages", type=int, default=300)
    ap.add_argument("--data", type=Path, default=None, help="a generated district (default benchmarks/data/district-N)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ",".join(VARIANTS))
    ap.add_argument("--jobs", type=int, default=None, help="processes for landguard and geofileops (default: cores)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a variant is stopped")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results.md")
    ap.add_argument("--append", action="store_true", help="add this run's table to --out instead of replacing it")
    ap.add_argument("--merge", type=Path, default=None,
                    help="a previous run's rows (the .json written beside --out): variants not run now are taken from it")
    ap.add_argument("--render", type=Path, default=None, help="only write --out again from a run's .json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)

    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        return _write(saved["rows"], saved["meta"], saved["machine"], args, saved.get("end_load"))

    from benchmarks.generate import generate

    data = args.data or Path(__file__).resolve().parent / "data" / f"district-{args.villages}"
    if not (data / "landguard.toml").exists():
        print(f"generating {data} ...", flush=True)
        generate(data, args.villages)
    meta = json.loads((data / "meta.json").read_text(encoding="utf-8"))
    desc = machine()
    print(desc, flush=True)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    rows = []
    server = None
    try:
        for name in variants:
            url, extra = None, None
            if name in POSTGIS_VARIANTS:
                from tests.postgis_server import PostgisServer, missing_binaries_message

                if missing_binaries_message():
                    print(f"postgis: {missing_binaries_message()}", flush=True)
                    continue
                server = PostgisServer(database="bench", settings={"max_parallel_workers_per_gather": "2"}).start()
                url, extra = server.url, [server.postmaster_pid()]
            print(f"{name} ...", flush=True)
            row = run_variant(name, data, args.jobs, args.timeout, url, extra)
            rows.append(row)
            print(f"  {_fmt_s(row)} s, peak {row['peak_mb']:.0f} MB, counts {row.get('counts')}"
                  + (f", error {row.get('error')}" if row.get("error") else ""), flush=True)
            if server is not None:
                server.stop()
                server = None
    finally:
        if server is not None:
            server.stop()
    if args.merge and args.merge.exists():
        done = {r["variant"] for r in rows}
        old = [r for r in json.loads(args.merge.read_text(encoding="utf-8"))["rows"] if r["variant"] not in done]
        for r in old:
            r["merged"] = True
        rows = sorted(rows + old, key=lambda r: list(VARIANTS).index(r["variant"]))
    end_load = os.getloadavg()[0]
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "machine": desc, "rows": rows,
                                                         "end_load": end_load, "jobs": args.jobs},
                                                        ensure_ascii=False, indent=1, default=float), encoding="utf-8")
    return _write(rows, meta, desc, args, end_load)


def _write(rows: list[dict], meta: dict, desc: str, args, end_load: float | None) -> int:
    c = meta["counts"]
    header = (f"## district-{meta['villages']} — {dt.date.today().isoformat()}\n\n"
              f"Data: {meta['villages']} villages, {c['parcels']:,} parcels, {c['buildings']:,} buildings, "
              f"{c['landuse']:,} land-use patches (and as many baseline), {c['pbf']:,} PBF polygons, "
              f"{c['approvals']:,} approvals, eco red line of {meta['eco_redline_vertices']:,} vertices "
              f"(`benchmarks/generate.py --villages {meta['villages']}`).\n\n"
              f"Machine: {desc}; load average at end {end_load if end_load is not None else float('nan'):.1f}. "
              f"landguard and geofileops with {args.jobs or os.cpu_count()} processes.\n\n"
              "Times are wall seconds including reading the GeoPackage, except PostGIS (SQL only, ST_Subdivide "
              "included; loading is listed per step), the floor (its read and overlays, measured inside the "
              "process: no interpreter start or imports) and maps+exports (maps and exports only; the check before them is listed per "
              "step). Peak memory is the largest total proportional set size (PSS: a page shared by n processes "
              "counts 1/n in each) of the variant's process tree (and of the PostgreSQL server's processes for "
              "PostGIS), sampled every second. Load avg: the 1-minute load average when the variant started and "
              "ended (2 cores; other engineers' work included).")
    text = table(rows, meta, args.jobs, header)
    print(text)
    if args.append and args.out.exists():
        previous = args.out.read_text(encoding="utf-8")
        args.out.write_text(previous.rstrip() + "\n\n" + text, encoding="utf-8")
    else:
        args.out.write_text("# Benchmarks\n\nWritten by `benchmarks/run.py`; see its docstring for what each "
                            "variant does.\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
