"""The sample-district generator: files, layers, CRSs, encodings, rasters, determinism and its truth.

What the generator itself guarantees is checked here, with the planted cases (the subjects of truth.csv
and whatever the planters changed) set apart where they break the base's regularities on purpose. Whether
every rule finds exactly the planted violations is the end-to-end tests' job (tests/test_e2e_sample.py);
the reference check at the end re-derives FARM-BUILD from the written files with plain shapely.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.features import rasterize

from layers.roles import ROLES
from landguard.sample import generate_sample
from landguard.sample.base import build_base
from landguard.sample.generate import build_sample
from landguard.sample.rasters import landcover_class
from landguard.sample.people import id_check_digit

AS_OF = "2026-11-22"
METRIC = {"parcels", "buildings", "landuse", "landuse_baseline", "roads", "eco_redline", "cemeteries",
          "farmland_protection", "village_plan", "landuse_history", "field_grids"}
LONLAT = {"villages", "pbf", "nature_reserves", "approvals", "waters", "graves"}
GPKG_ROLES = METRIC | LONLAT

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check(first17: str) -> str:
    """GB 11643 check character, written again here so the test does not trust the generator."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def _normalise(value) -> str | None:
    """Full-width to ASCII, spaces out, x to X, 15 digits to 18; None unless the result is valid."""
    if not isinstance(value, str):
        return None
    text = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(text) == 15 and text.isdigit():
        text = text[:6] + "19" + text[6:]
        text += _check(text)
    if len(text) == 18 and text[:17].isdigit() and _check(text[:17]) == text[17]:
        return text
    return None


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    toml = generate_sample(tmp_path_factory.mktemp("sample"), seed=0)
    assert toml.name == "landguard.toml"
    return toml.parent


@pytest.fixture(scope="module")
def layers(out) -> dict[str, gpd.GeoDataFrame]:
    """Every gpkg layer as written, plus the shapefile (read as GBK)."""
    frames = {name: pyogrio.read_dataframe(out / "district.gpkg", layer=name) for name in sorted(GPKG_ROLES)}
    frames["protected_zones"] = pyogrio.read_dataframe(out / "shp" / "protected_zones.shp", encoding="gbk")
    patches = pyogrio.read_dataframe(out / "shp" / "monitoring_patches.shp", encoding="gbk")
    frames["monitoring_patches"] = patches.rename(columns={"JCBH": "patch_id", "TBLX": "change_type"})
    return frames


@pytest.fixture(scope="module")
def metric(layers) -> dict[str, gpd.GeoDataFrame]:
    return {k: (v.to_crs(4548) if v.crs.to_epsg() != 4548 else v) for k, v in layers.items()}


@pytest.fixture(scope="module")
def truth(out) -> pd.DataFrame:
    return pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def base():
    """The base geography alone (seed 0), before any planter ran."""
    return build_base(0)


@pytest.fixture(scope="module")
def sample():
    """The sample in memory (seed 0), base and planted cases."""
    return build_sample(0)


def _subjects(truth: pd.DataFrame, *layers: str) -> set[str]:
    return set(truth.loc[truth["subject_layer"].isin(layers), "subject_id"])


def _changed(base, sample, layer: str) -> set[str]:
    """Ids of the rows of ``layer`` that planters added or changed (attributes or geometry)."""
    key = ROLES[layer].id_column
    old, new = base.layers[layer], sample.layers[layer]
    cols = [c for c in old.columns if c != "geometry"]
    merged = new.merge(old, on=key, how="left", suffixes=("", "_base"), indicator=True)
    changed = merged["_merge"] == "left_only"
    for c in cols:
        if c != key:
            a, b = merged[c].astype(object), merged[c + "_base"].astype(object)
            changed |= ~((a == b) | (pd.isna(a) & pd.isna(b))).to_numpy(dtype=bool)
    same = shapely.equals_exact(merged["geometry"].values, merged["geometry_base"].values, tolerance=0)
    changed |= ~np.asarray(same, dtype=bool)
    return set(merged.loc[changed, key].astype(str))


# --- files and configuration ------------------------------------------------------------------------
def test_all_files_exist(out):
    for rel in ("district.gpkg", "landguard.toml", "truth.csv", "shp/protected_zones.shp", "shp/protected_zones.shx",
                "shp/protected_zones.dbf", "shp/protected_zones.prj", "rasters/ndsm.tif", "rasters/ortho.tif",
                "rasters/landcover_before.tif", "rasters/landcover_after.tif", "truth_fields.csv",
                "shp/monitoring_patches.shp", "shp/monitoring_patches.dbf", "shp/monitoring_patches.prj"):
        assert (out / rel).is_file(), rel
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024


def test_toml_points_at_every_layer_and_raster(out):
    cfg = tomllib.loads((out / "landguard.toml").read_text(encoding="utf-8"))
    assert cfg["project"] == {"name": "平谷区 样例区县", "as_of": AS_OF, "working_crs": "auto"}
    gpkg_layers = set(pyogrio.list_layers(out / "district.gpkg")[:, 0])
    # every role the sample has data for, and only those
    assert set(cfg["layers"]) == (gpkg_layers | {"protected_zones", "monitoring_patches"}) & set(ROLES)
    assert "village_plan" in cfg["layers"]
    assert {"landuse_history", "monitoring_patches"} <= set(cfg["layers"])
    assert set(ROLES) == set(cfg["layers"])  # the field grids too
    for role, table in cfg["layers"].items():
        assert (out / table["path"]).is_file(), role
        if role == "protected_zones":
            assert table == {"path": "shp/protected_zones.shp", "encoding": "gbk"}
        elif role == "monitoring_patches":
            assert table == {"path": "shp/monitoring_patches.shp", "encoding": "gbk"}
        else:
            assert table["layer"] == role and role in gpkg_layers
    assert set(cfg["rasters"]) == {"ndsm", "ortho", "landcover_before", "landcover_after"}
    assert all((out / p).is_file() for p in cfg["rasters"].values())
    assert {k: cfg["landcover"][k] for k in ("cropland", "forest", "water", "built_up")} == \
        {"cropland": [1], "forest": [2], "water": [4], "built_up": [5]}


def test_truth_csv_columns_and_rules(truth, out):
    assert list(truth.columns) == ["rule_id", "subject_layer", "subject_id", "expect", "note"]
    assert (out / "truth.csv").read_bytes().decode("utf-8")
    assert set(truth["expect"]) == {"violation", "near_miss"}
    counts = truth.groupby(["rule_id", "expect"]).size()
    for rule in ("FARM-BUILD", "HOME-MULTI", "SET-OUTSIDE", "HOME-APPROVED", "HOME-PLAN", "HOME-RELIC", "HOME-STAIR"):
        assert counts[(rule, "violation")] >= 3 and counts[(rule, "near_miss")] >= 2
    assert not truth.duplicated(["rule_id", "subject_id"]).any()


# --- layers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", sorted(GPKG_ROLES))
def test_gpkg_layer_has_canonical_columns_and_crs(out, role):
    info = pyogrio.read_info(out / "district.gpkg", layer=role)
    assert info["features"] > 0
    missing = set(ROLES[role].columns) - set(info["fields"])
    assert not missing, f"{role} lacks {missing}"
    assert info["crs"] == ("EPSG:4548" if role in METRIC else "EPSG:4490")


def test_field_grids_tile_each_village_with_a_named_leader(metric):
    grids, villages = metric["field_grids"], metric["villages"]
    assert grids["grid_id"].is_unique and grids["village_id"].isin(villages["village_id"]).all()
    assert grids.groupby("village_id").size().min() >= 2  # a few grids per village
    for vid, geom in zip(villages["village_id"], villages.geometry):
        own = shapely.union_all(grids.geometry[grids["village_id"] == vid].to_numpy())
        assert own.symmetric_difference(geom).area < 1.0, vid  # the grids tile the village
    assert grids.geometry.area.sum() == pytest.approx(villages.geometry.area.sum(), rel=1e-6)  # no overlap
    assert grids["grid_leader"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()  # a person's name in full


def test_field_grids_draw_nothing_random():
    a, b = build_base(0), build_base(1)
    assert a.layers["field_grids"].drop(columns="geometry").equals(b.layers["field_grids"].drop(columns="geometry"))
    assert a.layers["field_grids"].geometry.geom_equals(b.layers["field_grids"].geometry).all()


def test_text_ids_are_strings_with_leading_zeros(layers, truth):
    villages, parcels, landuse = layers["villages"], layers["parcels"], layers["landuse"]
    assert villages["village_id"].str.fullmatch(r"\d{12}").all()
    assert parcels["parcel_id"].str.len().eq(19).all() and parcels["parcel_id"].is_unique
    assert parcels["village_id"].isin(villages["village_id"]).all()
    assert {"0101", "0102", "0103", "0201", "0301", "0307", "0307K", "0404", "0601", "0702", "1003", "1006",
            "1101", "1103", "1104", "1104A", "1202", "1203"} <= set(landuse["dlbm"])
    assert landuse["dlmc"].str.contains(r"[\u4e00-\u9fff]").all()
    assert layers["buildings"]["building_id"].is_unique and layers["landuse"]["tbbh"].is_unique
    b = layers["buildings"]
    assert set(b["roof"]) == {"flat", "pitched"} and (b["floors"] >= 1).all()
    assert b["downspout"].dtype == bool and b["row_house"].dtype == bool
    # one or two floors, but for a planted case (HOME-FLOORS: three floors)
    unplanted = b[~b["building_id"].isin(_subjects(truth, "buildings"))]
    assert unplanted["floors"].between(1, 2).all() and set(b["floors"]) - {1, 2}


def test_district_shape(layers, metric):
    villages = layers["villages"]
    assert villages["township"].nunique() >= 3 and len(villages) >= 12
    assert {"金海湖镇", "峪口镇", "大华山镇"} <= set(villages["township"])
    assert 1800 <= len(layers["parcels"]) <= 2500
    lon, lat = shapely.centroid(shapely.union_all(villages.geometry.values)).coords[0]
    assert abs(lon - 117.1) < 0.1 and abs(lat - 40.14) < 0.1
    assert shapely.get_num_coordinates(layers["eco_redline"].geometry.values).max() >= 20_000
    assert set(layers["nature_reserves"]["zone"]) == {"core", "general"}
    assert set(layers["roads"]["grade"]) == {"railway", "expressway", "national", "provincial", "county",
                                             "township", "village"}
    assert set(layers["roads"].geom_type) == {"LineString"} and (layers["roads"]["width_m"] > 0).all()
    assert set(layers["waters"]["kind"]) == {"river", "canal", "reservoir"}
    approvals = layers["approvals"]
    assert set(approvals["kind"]) == {"construction", "homestead", "temporary", "facility_agri", "reforestation",
                                      "cemetery", "relic"}
    temp = approvals[approvals["kind"] == "temporary"]
    assert temp["valid_until"].notna().all()
    assert (temp["valid_until"] < AS_OF).any() and (temp["valid_until"] >= AS_OF).any()
    assert len(layers["cemeteries"]) >= 2
    assert set(layers["protected_zones"]["kind"]) == {"relic", "scenic", "water_source", "town_planning",
                                                      "blue_line", "dike"}
    # both surveys cover the whole district with the same patches
    district = shapely.union_all(metric["villages"].geometry.values).area
    for name in ("landuse", "landuse_baseline"):
        assert metric[name].area.sum() == pytest.approx(district, rel=1e-6)
    base, now = layers["landuse_baseline"], layers["landuse"]
    assert set(base["survey_year"]) == {2019} and set(now["survey_year"]) == {2024}


def test_base_village_plan_makes_every_settlement_construction_land(base):
    # the base breaks no HOME-PLAN: every base parcel lies in its village's construction land, no reduction area
    plan = base.layers["village_plan"]
    assert set(plan["kind"]) == {"construction", "farmland", "ecological"}
    land = shapely.union_all(plan.geometry[plan["kind"] == "construction"].values)
    parcels = base.layers["parcels"].geometry.values
    assert shapely.area(shapely.difference(parcels, land)).max() < 1e-6
    assert (plan["kind"] == "construction").sum() == len(base.villages)
    # and the plan's spaces tile the villages
    villages = shapely.union_all(base.layers["villages"].geometry.values)
    assert plan.area.sum() == pytest.approx(villages.area, rel=1e-9)


def test_planted_plan_and_relic_cases_are_where_the_truth_says(sample, truth):
    plan = sample.layers["village_plan"]
    land = shapely.union_all(plan.geometry[plan["kind"] == "construction"].values)
    reduction = shapely.union_all(plan.geometry[plan["kind"] == "reduction"].values)
    p = sample.layers["parcels"].set_index("parcel_id")
    t = truth[truth["rule_id"] == "HOME-PLAN"]
    geoms = p.loc[t["subject_id"]].geometry.values
    off = shapely.area(shapely.difference(geoms, land)) + shapely.area(shapely.intersection(geoms, reduction))
    assert ((off >= 1.0) == (t["expect"] == "violation").to_numpy()).all() and (off > 0.1).all()
    zones = sample.layers["protected_zones"]
    relic = shapely.union_all(zones.geometry[zones["kind"] == "relic"].values)
    t = truth[truth["rule_id"] == "HOME-RELIC"]
    inside = shapely.area(shapely.intersection(p.loc[t["subject_id"]].geometry.values, relic))
    assert (inside > 0.1).all()
    approvals = sample.layers["approvals"]
    assert (approvals["kind"] == "relic").sum() >= 1


def test_surveys_differ_only_where_planted(base, sample, layers, truth):
    # the base geography has one survey for both years
    b0, n0 = base.layers["landuse_baseline"], base.layers["landuse"]
    assert (b0["tbbh"].tolist(), b0["dlbm"].tolist()) == (n0["tbbh"].tolist(), n0["dlbm"].tolist())
    assert shapely.equals_exact(b0.geometry.values, n0.geometry.values, tolerance=0).all()
    # as written, they differ only on patches a truth row names or a planter changed
    then, now = layers["landuse_baseline"].set_index("tbbh"), layers["landuse"].set_index("tbbh")
    both = then.index.intersection(now.index)
    same = (then.loc[both, "dlbm"] == now.loc[both, "dlbm"]).to_numpy() & shapely.equals_exact(
        then.loc[both].geometry.values, now.loc[both].geometry.values, tolerance=0)
    differ = set(both[~same]) | set(then.index.symmetric_difference(now.index))
    planted = (_subjects(truth, "landuse", "landuse_baseline") | _changed(base, sample, "landuse")
               | _changed(base, sample, "landuse_baseline"))
    assert differ and differ <= planted
    # and on little of the district
    district = shapely.union_all(layers["villages"].to_crs(4548).geometry.values).area
    assert now.loc[now.index.isin(list(differ))].area.sum() < 0.01 * district


def test_road_belts_are_within_the_allowed_widths(metric):
    lu, roads = metric["landuse"], metric["roads"]
    wood = shapely.union_all(lu.geometry[lu["dlbm"].str.startswith("03")].values)
    for grade, belt in (("provincial", 5.0), ("county", 3.0)):
        road = roads[roads["grade"] == grade].iloc[0]
        half = road["width_m"] / 2
        line = road.geometry
        strip = line.buffer(half + belt, cap_style="flat").difference(line.buffer(half, cap_style="flat"))
        assert wood.intersection(strip).area > 0.9 * strip.area
        assert not lu.geometry[lu["dlbm"].str[:2] == "01"].intersects(strip.buffer(-0.01)).any()


# --- GBK shapefile -----------------------------------------------------------------------------------
def _dbf_text_fields(path: Path) -> dict[str, list[bytes]]:
    data = path.read_bytes()
    n_records = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    fields, pos = [], 32
    while data[pos] != 0x0D:
        desc = data[pos:pos + 32]
        fields.append((desc[:11].split(b"\x00")[0].decode("ascii"), chr(desc[11]), desc[16]))
        pos += 32
    out: dict[str, list[bytes]] = {name: [] for name, kind, _ in fields if kind == "C"}
    for r in range(n_records):
        rec = data[header_len + r * record_len: header_len + (r + 1) * record_len]
        offset = 1
        for name, kind, length in fields:
            if kind == "C":
                out[name].append(rec[offset:offset + length].rstrip(b" \x00"))
            offset += length
    return out


def test_protected_zones_are_gbk_without_cpg(out, layers):
    shp = out / "shp" / "protected_zones.shp"
    assert not shp.with_suffix(".cpg").exists()
    assert "117" in shp.with_suffix(".prj").read_text()  # Gauss-Krüger CM 117°E
    names = _dbf_text_fields(shp.with_suffix(".dbf"))["name"]
    decoded = [raw.decode("gbk") for raw in names]
    assert "金海湖水源保护区" in decoded
    for raw in names:
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert layers["protected_zones"].crs.to_epsg() == 4548
    assert "金海湖水源保护区" in set(layers["protected_zones"]["name"])


def test_monitoring_patches_are_a_bureau_batch(out):
    # GBK without .cpg, CGCS2000 lon/lat, the ministry's field names; read back through the reader's aliases
    shp = out / "shp" / "monitoring_patches.shp"
    assert not shp.with_suffix(".cpg").exists()
    info = pyogrio.read_info(shp, encoding="gbk")
    assert info["crs"] == "EPSG:4490"
    assert {"JCBH", "TBLX", "QSX", "HSX", "PC", "TBMJ"} <= set(info["fields"])
    types = [raw.decode("gbk") for raw in _dbf_text_fields(shp.with_suffix(".dbf"))["TBLX"]]
    assert {"建/构筑物", "推堆土", "取土", "硬化"} <= set(types)
    from layers.config import load_config
    from layers.readers import read_layer

    frame, _ = read_layer("monitoring_patches", load_config(out / "landguard.toml").layers["monitoring_patches"])
    assert frame["patch_id"].is_unique and frame["batch"].eq("2026Q3").all()
    assert str(pd.to_datetime(frame["after_date"]).iloc[0].date()) == "2026-07-15"


def test_survey_series_has_five_vintages_each_covering_the_district(metric, base, sample):
    h = metric["landuse_history"]
    assert sorted(set(h["survey_year"])) == [2009, 2010, 2018, 2020, 2022]
    district = shapely.union_all(metric["villages"].geometry.values).area
    for year, g in h.groupby("survey_year"):
        assert g.area.sum() == pytest.approx(district, rel=1e-6), year
    # the vintages differ from the baseline only under the houses the series dates (0702 from their year on)
    built = h[h["tbbh"].str.startswith("H")]
    assert set(built["dlbm"]) == {"0702"} and sorted(set(built.groupby("tbbh")["survey_year"].min())) == \
        [2009, 2010, 2018, 2020, 2022]


# --- rasters ---------------------------------------------------------------------------------------------
def test_rasters_open_with_crs_tiles_and_nodata(out):
    expected = {"ndsm": ("float32", 1, 0.5), "ortho": ("uint8", 3, 1.0), "landcover_before": ("uint8", 1, 2.0),
                "landcover_after": ("uint8", 1, 2.0)}
    for name, (dtype, count, res) in expected.items():
        with rasterio.open(out / "rasters" / f"{name}.tif") as src:
            assert src.crs.to_epsg() == 4548, name
            assert src.dtypes[0] == dtype and src.count == count and src.res == (res, res)
            assert src.nodata is not None and src.block_shapes[0] == (256, 256)


def test_ndsm_shows_the_buildings_whose_heights_are_missing(out, metric, truth):
    b = metric["buildings"]
    missing = b[b["eave_height_m"].isna()]
    assert len(missing) >= 10
    with rasterio.open(out / "rasters" / "ndsm.tif") as src:
        box = shapely.box(*src.bounds)
        assert missing.within(box).all()
        cx, cy = shapely.get_coordinates(missing.geometry.centroid).T
        heights = np.array([v[0] for v in src.sample(zip(cx, cy))])
        ground = np.array([v[0] for v in src.sample([(src.bounds.left + 1, src.bounds.bottom + 1)])])
    assert (heights > 2.5).all()
    # within the height limits, but for a planted case (a roof only the nDSM shows too high)
    planted = missing["building_id"].isin(_subjects(truth, "buildings")).to_numpy()
    assert (heights[~planted] < 8.6).all() and planted.any()
    assert abs(ground[0]) < 0.1


def test_landcover_after_has_the_planted_changes(out, base, sample):
    with rasterio.open(out / "rasters" / "landcover_before.tif") as a, \
            rasterio.open(out / "rasters" / "landcover_after.tif") as b:
        before, after = a.read(1), b.read(1)
        transform = b.transform
    assert before.shape == after.shape == (3000, 4500)
    assert set(np.unique(before)) <= set(range(7)) and {1, 2, 3, 4, 5} <= set(np.unique(after))
    changed = (before == 1) & (after != 1)
    assert {2, 4, 5} <= set(np.unique(after[changed])) <= {2, 3, 4, 5, 6}
    # cropland -> built-up under every planted house on a field (108 m² = 27 pixels of 4 m²)
    assert changed.sum() * 4 > 3000
    # and nowhere else: every changed pixel touches a planted change patch, a planted building or a
    # planted land-use patch whose class the baseline does not have there
    planted = [c.geometry for c in sample.landcover_changes]
    b = sample.layers["buildings"]
    planted += list(b.geometry[b["building_id"].isin(_changed(base, sample, "buildings"))])
    now, then = sample.layers["landuse"], sample.layers["landuse_baseline"]
    then_class = np.array([landcover_class(c) for c in then["dlbm"]])
    for g, code in zip(now.geometry[now["tbbh"].isin(_changed(base, sample, "landuse"))], now["dlbm"]):
        same = then.geometry[(then_class == landcover_class(code)) & then.intersects(g).to_numpy()]
        if g.difference(shapely.union_all(same.values)).area > 0.01:
            planted.append(g)
    mask = rasterize([(g, 1) for g in planted], out_shape=after.shape, transform=transform, all_touched=True)
    assert changed.any() and not (changed & (mask == 0)).any()


def test_ortho_has_plausible_colours(out):
    with rasterio.open(out / "rasters" / "ortho.tif") as src:
        rgb = src.read().reshape(3, -1).astype(int)
    r, g, b = rgb
    assert ((g > r + 20) & (g > b + 20)).mean() > 0.3  # green fields and woods
    assert ((abs(r - g) < 8) & (abs(g - b) < 8) & (r > 90)).sum() > 10_000  # grey roofs and roads


# --- truth ----------------------------------------------------------------------------------------------
def test_every_truth_subject_exists(truth, layers, out):
    assert set(truth["subject_layer"]) - set(layers) == {"landcover_after"}
    for layer, rows in truth[truth["subject_layer"].isin(list(layers))].groupby("subject_layer"):
        ids = set(layers[layer][ROLES[layer].id_column].astype(str))
        assert set(rows["subject_id"]) <= ids, layer
    # change patches are named by their centroid, which lies on cropland -> other pixels
    rs = truth.loc[truth["subject_layer"] == "landcover_after", "subject_id"]
    assert rs.str.fullmatch(r"RS-\d{6}-\d{7}").all() and len(rs) >= 5
    with rasterio.open(out / "rasters" / "landcover_before.tif") as a, \
            rasterio.open(out / "rasters" / "landcover_after.tif") as b:
        before, after = a.read(1), b.read(1)
        for sid in rs:
            _, e, n = sid.split("-")
            row, col = b.index(float(e), float(n))
            near = (slice(row - 1, row + 2), slice(col - 1, col + 2))
            assert ((before[near] == 1) & (after[near] != 1)).any(), sid


def test_generator_check_digit_matches_the_standard():
    assert id_check_digit("11010519491231002") == "X" == _check("11010519491231002")
    assert id_check_digit("44052418800101001") == _check("44052418800101001")


def test_owner_ids_meant_valid_are_valid(layers, sample):
    ids = layers["parcels"]["owner_id"].dropna()
    invalid = sorted(v for v in ids if _normalise(v) is None)
    assert invalid == sorted(sample.intended_invalid_ids)
    assert 2 <= len(invalid) <= 12
    assert any(len(v) == 15 for v in ids) and any(v.endswith("x") for v in ids)
    assert any(not v.isascii() for v in ids)
    assert layers["parcels"]["household_id"].notna().any() and layers["parcels"]["household_id"].isna().any()


def test_same_seed_same_sample_other_seed_other_sample(out, layers, tmp_path):
    again = generate_sample(tmp_path / "again", seed=0).parent
    assert (again / "truth.csv").read_bytes() == (out / "truth.csv").read_bytes()
    p2 = pyogrio.read_dataframe(again / "district.gpkg", layer="parcels")
    assert p2["parcel_id"].tolist() == layers["parcels"]["parcel_id"].tolist()
    assert shapely.equals_exact(p2.geometry.values, layers["parcels"].geometry.values, tolerance=0).all()
    other = generate_sample(tmp_path / "other", seed=1).parent
    p3 = pyogrio.read_dataframe(other / "district.gpkg", layer="parcels")
    assert len(p3) != len(p2) or not shapely.equals_exact(p3.geometry.values, p2.geometry.values, 0).all()
    assert (other / "truth.csv").read_bytes() != (out / "truth.csv").read_bytes()


# --- reference check of FARM-BUILD ------------------------------------------------------------
def _expected(truth: pd.DataFrame, rule: str) -> tuple[set[str], set[str]]:
    t = truth[truth["rule_id"] == rule]
    return set(t.loc[t["expect"] == "violation", "subject_id"]), set(t.loc[t["expect"] == "near_miss", "subject_id"])


def test_farm_build_reference(metric, truth):
    b, lub, pbf, appr = metric["buildings"], metric["landuse_baseline"], metric["pbf"], metric["approvals"]
    baseline_farmland = lub.geometry[lub["dlbm"].str[:4].isin(["0101", "0102", "0103"])].values
    farmland = shapely.union_all(np.concatenate([baseline_farmland, pbf.geometry.values]))
    valid = appr["kind"].isin(["construction", "homestead"]) | (
        (appr["kind"] == "temporary") & (appr["valid_until"].fillna("") >= AS_OF))
    approved = shapely.union_all(appr.geometry[valid].values)
    overlap = shapely.area(shapely.difference(shapely.intersection(b.geometry.values, farmland), approved))
    found = set(b.loc[overlap >= 1.0, "building_id"])
    violations, near = _expected(truth, "FARM-BUILD")
    assert found == violations
    on_farmland = set(b.loc[shapely.area(shapely.intersection(b.geometry.values, farmland)) > 0.1, "building_id"])
    assert near <= on_farmland  # every near miss does stand (at least a sliver) on farmland
    on_pbf = shapely.intersects(b.geometry.values, shapely.union_all(pbf.geometry.values))
    assert 0 < len(violations & set(b.loc[on_pbf, "building_id"])) < len(violations)
