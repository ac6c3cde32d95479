"""Hand-made village data for the map tests: EPSG:4548 squares near 117.1°E 40.14°N (x≈508000, y≈4443000)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analyses.findings import FINDING_COLUMNS
from spatial.units import m2_to_mu

CRS = "EPSG:4548"
XSS = "<script>alert(1)</script>"
ID_NUMBER = "110101199001011234"
#: A message that would end the page's script early if it were not made script-safe.
EVIL_MESSAGE = "说明</script><script>alert(2)</script>"


def make_village(village_id: str = "110117001001", name: str = "东村", township: str = "平谷镇", *,
                 n_parcels: int = 30, x0: float = 508000.0, y0: float = 4443000.0, vertices: int = 4,
                 findings: bool = True):
    """(layers, findings, village) for one village of ``n_parcels`` parcels in rows of 25.

    The last parcel belongs to an owner called ``<script>alert(1)</script>`` and has neither a building
    nor a finding on it, so a click on its middle reaches the parcel. ``vertices`` > 4 draws each parcel
    as a many-sided polygon (for size and simplification tests).
    """
    n = n_parcels
    i = np.arange(n)
    xs = x0 + 20.0 + (i % 25) * 24.0
    ys = y0 + 20.0 + (i // 25) * 20.0
    width = 25 * 24.0 + 40.0
    height = max(1, int(np.ceil(n / 25))) * 20.0 + 200.0
    village_geom = shapely.box(x0, y0, x0 + width, y0 + height)
    villages = gpd.GeoDataFrame({"village_id": [village_id], "name": [name], "township": [township]},
                                geometry=[village_geom], crs=CRS)
    if vertices > 4:
        t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
        ring = np.c_[8.0 + 8.0 * np.cos(t) + 0.05 * np.sin(7 * t), 7.0 + 7.0 * np.sin(t)]
        parcel_geoms = [shapely.Polygon(ring + [x, y]) for x, y in zip(xs, ys)]
    else:
        parcel_geoms = list(shapely.box(xs, ys, xs + 16.0, ys + 14.0))
    owners = [f"张{k}*" for k in range(n - 1)] + [XSS]
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [f"{village_id[-3:]}P{k:04d}" for k in range(n)], "village_id": village_id,
         "owner_name": owners, "owner_id": ID_NUMBER, "household_id": [f"H{k // 2:04d}" for k in range(n)],
         "approved_area_m2": 200.0, "approved_date": pd.Timestamp("2015-06-01")},
        geometry=parcel_geoms, crs=CRS)
    b = i[:-1]
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"{village_id[-3:]}B{k:04d}" for k in b], "floors": 2, "basement": False,
         "eave_height_m": 6.1, "owner_id": ID_NUMBER},
        geometry=shapely.box(xs[b] + 3.0, ys[b] + 3.0, xs[b] + 12.0, ys[b] + 10.0), crs=CRS)
    farmland = gpd.GeoDataFrame({"dlbm": ["0103"], "dlmc": ["旱地"]},
                                geometry=[shapely.box(x0 + 300, y0 + height - 180, x0 + 600, y0 + height - 20)],
                                crs=CRS)
    pbf = gpd.GeoDataFrame({"pbf_id": ["PBF-1"]},
                           geometry=[shapely.box(x0 + 320, y0 + height - 170, x0 + 580, y0 + height - 30)], crs=CRS)
    roads = gpd.GeoDataFrame({"road_id": ["R1"], "grade": ["village"], "width_m": [6.0]},
                             geometry=[shapely.LineString([(x0, y0 + 10), (x0 + width, y0 + 10)])], crs=CRS)
    layers = {"villages": villages, "parcels": parcels, "buildings": buildings, "farmland": farmland,
              "pbf": pbf, "roads": roads,
              "eco_redline": gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)}
    village = {"village_id": village_id, "name": name, "township": township}
    return layers, (make_findings(village, x0, y0, height) if findings else empty(village)), village


def _frame(rows: list[dict], geoms: list, village: dict) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    for col in FINDING_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df["village_id"] = village["village_id"]
    df["village"] = village["name"]
    df["township"] = village["township"]
    for col in ("measured", "limit", "area_m2"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["area_mu"] = m2_to_mu(df["area_m2"].to_numpy())
    return gpd.GeoDataFrame(df[FINDING_COLUMNS], geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def empty(village: dict) -> gpd.GeoDataFrame:
    return _frame([], [], village)


def make_findings(village: dict, x0: float, y0: float, height: float) -> gpd.GeoDataFrame:
    """Five findings, one of each family and a point, with Chinese text and one evil message."""
    vid = village["village_id"][-3:]
    farm = shapely.box(x0 + 400, y0 + height - 120, x0 + 430, y0 + height - 90)
    multi = shapely.MultiPolygon([shapely.box(x0 + 20, y0 + 20, x0 + 36, y0 + 34),
                                  shapely.box(x0 + 44, y0 + 20, x0 + 60, y0 + 34)])
    strip = shapely.box(x0 + 71, y0 + 23, x0 + 71.6, y0 + 30)
    area = shapely.box(x0 + 92, y0 + 20, x0 + 108, y0 + 34)
    grave = shapely.Point(x0 + 500, y0 + 60)
    rows = [
        {"case_id": f"FARM-BUILD-{vid}a", "rule_id": "FARM-BUILD", "rule_name": "乱占耕地建房", "family": "farmland",
         "severity": "high", "subject_layer": "buildings", "subject_id": f"{vid}B9001", "measured": 900.0,
         "limit": 0.0, "unit": "m2", "area_m2": 900.0, "status": "new",
         "basis": "京平政办发〔2021〕1号 四(七)14; 京平政发〔2021〕4号 五(三)",
         "message": "房屋占用耕地 900 平方米。"},
        {"case_id": f"HOME-MULTI-{vid}b", "rule_id": "HOME-MULTI", "rule_name": "一户多宅", "family": "homestead",
         "severity": "medium", "subject_layer": "parcels", "subject_id": f"{vid}P0000",
         "related_ids": f"{vid}P0000;{vid}P0001", "measured": 2, "limit": 1, "unit": "处",
         "area_m2": multi.area, "status": "existing", "basis": "京平政发〔2021〕4号 一(二), 附件1 一(二)",
         "message": EVIL_MESSAGE},
        {"case_id": f"SET-DRIP-{vid}c", "rule_id": "SET-DRIP", "rule_name": "滴水距离不足", "family": "setback",
         "severity": "low", "subject_layer": "buildings", "subject_id": f"{vid}B0002", "measured": 0.3,
         "limit": 0.5, "unit": "m", "area_m2": strip.area, "status": None, "basis": "京平政发〔2021〕4号 附件2 五(六)",
         "message": "滴水距离 0.3 米，小于 0.5 米。"},
        {"case_id": f"HOME-AREA-{vid}d", "rule_id": "HOME-AREA", "rule_name": "宅基地超标准", "family": "homestead",
         "severity": "high", "subject_layer": "parcels", "subject_id": f"{vid}P0004", "measured": 224.0,
         "limit": 200.0, "unit": "m2", "area_m2": 24.0, "status": "new", "basis": "京平政发〔2021〕4号 五(一); 七(二)1",
         "message": "宅基地面积超标 24 平方米。"},
        {"case_id": f"SITE-CEMETERY-{vid}e", "rule_id": "SITE-CEMETERY", "rule_name": "公墓选址违规",
         "family": "siting", "severity": "medium", "subject_layer": "cemeteries", "subject_id": f"{vid}C01",
         "measured": None, "limit": None, "unit": None, "area_m2": None, "status": None,
         "basis": "门政发〔2019〕19号 第七条", "message": "公墓位于耕地内。"},
    ]
    return _frame(rows, [farm, multi, strip, area, grave], village)


@pytest.fixture(scope="session")
def village_factory():
    """``make_village`` as a fixture (conftest modules are not imported by tests)."""
    return make_village


@pytest.fixture(scope="session")
def constants():
    return {"XSS": XSS, "ID_NUMBER": ID_NUMBER, "EVIL_MESSAGE": EVIL_MESSAGE, "CRS": CRS}
