"""FARM-BUILD and FARM-GREEN areas of the sample district, recomputed independently with plain
``geopandas.overlay`` on the written files (no code of ``analyses``), match the findings within 0.01 m²."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

pytestmark = pytest.mark.e2e

CRS = 4548
TOLERANCE_M2 = 0.01


@pytest.fixture(scope="module")
def data(sample_dir):
    gpkg = sample_dir / "district.gpkg"
    layers = {name: pyogrio.read_dataframe(gpkg, layer=name).to_crs(CRS)
              for name in ("buildings", "landuse", "landuse_baseline", "pbf", "approvals", "roads", "waters")}
    cfg = tomllib.loads((sample_dir / "landguard.toml").read_text(encoding="utf-8"))
    layers["as_of"] = pd.Timestamp(cfg["project"]["as_of"])
    return layers


def _one(geoms) -> gpd.GeoDataFrame:
    """A frame of one dissolved geometry (an overlay operand without self-overlaps)."""
    return gpd.GeoDataFrame(geometry=[geoms.union_all()], crs=CRS)


def _farmland(data) -> gpd.GeoDataFrame:
    lub = data["landuse_baseline"]
    farm = lub[lub["dlbm"].str[:4].isin(["0101", "0102", "0103"])]
    return _one(pd.concat([farm.geometry, data["pbf"].geometry]))


def _approved(data) -> gpd.GeoDataFrame:
    ap = data["approvals"]
    until = pd.to_datetime(ap["valid_until"], errors="coerce")
    valid = ap["kind"].isin(["construction", "homestead", "facility_agri"]) | (
        (ap["kind"] == "temporary") & (until >= data["as_of"]))
    return _one(ap.geometry[valid.to_numpy()])


def _areas(parts: gpd.GeoDataFrame, key: str) -> pd.Series:
    area = parts.assign(a=parts.geometry.area).groupby(key)["a"].sum()
    return area[area >= 1.0]


def _compare(findings, rule: str, expected: pd.Series) -> None:
    got = findings[findings["rule_id"] == rule].set_index("subject_id")["area_m2"]
    assert len(got) >= 3
    assert set(got.index) == set(expected.index)
    diff = (got - expected.reindex(got.index)).abs()
    assert diff.max() < TOLERANCE_M2, diff.sort_values().tail()


def test_farm_build_areas(sample_check, data):
    b = data["buildings"][["building_id", "geometry"]]
    on_farm = gpd.overlay(b, _farmland(data), how="intersection")
    unapproved = gpd.overlay(on_farm, _approved(data), how="difference")
    _compare(sample_check.findings, "FARM-BUILD", _areas(unapproved, "building_id"))


def test_farm_green_areas(sample_check, data):
    lu = data["landuse"][["tbbh", "dlbm", "geometry"]]
    wood = lu[lu["dlbm"].str[:2] == "03"]
    turf = lu[lu["dlbm"].str[:4] == "0403"]
    farm, pbf = _farmland(data), _one(data["pbf"].geometry)
    conv = pd.concat([gpd.overlay(wood, farm, how="intersection"), gpd.overlay(turf, pbf, how="intersection")])
    conv = gpd.overlay(gpd.GeoDataFrame(conv, crs=CRS), _approved(data), how="difference")
    # approved 退耕还林 plots are exempt
    ap = data["approvals"]
    reforest = ap[(ap["kind"] == "reforestation").to_numpy()]
    if len(reforest):
        conv = gpd.overlay(conv, _one(reforest.geometry), how="difference")
    # road land from centre lines (flat caps), the allowed belt zone beyond it: 5 m on railways, expressways,
    # national and provincial roads, 3 m on county/township roads, none beside village roads or unknown grades
    roads = data["roads"]
    land = roads.geometry.buffer(roads["width_m"] / 2, cap_style="flat", join_style="mitre")
    allowed = roads["grade"].map({"county": 3.0, "township": 3.0, "railway": 5.0, "expressway": 5.0,
                                  "national": 5.0, "provincial": 5.0}).fillna(0.0)
    zone = _one(land.buffer(allowed.to_numpy()))
    green = gpd.overlay(conv, zone, how="difference")
    # belts (woodland patches within 1 m of road land or water) are FARM-CORRIDOR's: beside roads wholly,
    # along waters on PBF
    near_road = gpd.sjoin(lu, gpd.GeoDataFrame(geometry=land, crs=CRS), predicate="dwithin", distance=1.0)["tbbh"]
    near_water = gpd.sjoin(lu, data["waters"][["geometry"]], predicate="dwithin", distance=1.0)["tbbh"]
    green = green[~green["tbbh"].isin(near_road)]
    by_water = green[green["tbbh"].isin(near_water)]
    green = pd.concat([green[~green["tbbh"].isin(near_water)], gpd.overlay(by_water, pbf, how="difference")])
    _compare(sample_check.findings, "FARM-GREEN", _areas(gpd.GeoDataFrame(green, crs=CRS), "tbbh"))
