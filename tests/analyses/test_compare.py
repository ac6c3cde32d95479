import geopandas as gpd
import pyogrio
import pytest
import shapely

from analyses import run_rules
from analyses.compare import CHANGE_GONE, CHANGE_NEW, CHANGE_ONGOING, compare_runs, read_changes, read_findings
from analyses.findings import FINDING_COLUMNS
from spatial.errors import LayerError
from tests.builders import CRS, district, frame, square

OWNER = "110117199001011234"


def _district(buildings):
    farmland = frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                      {"dlbm": "0103", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}])
    # one household with two homesteads (一户多宅) west of the farmland, and buildings on the farmland
    parcels = frame([{"parcel_id": "P1", "owner_id": OWNER, "owner_name": "张三丰", "geometry": square(-100, 0, 14)},
                     {"parcel_id": "P2", "owner_id": OWNER, "owner_name": "张三丰", "geometry": square(-200, 0, 14)}])
    return district(landuse=farmland, parcels=parcels, buildings=buildings)


def _buildings(names):
    return frame([{"building_id": n, "built_year": 2022, "geometry": square(20 * i, 0, 10)}
                  for i, n in enumerate(names, start=1)]
                 + [{"building_id": "H1", "geometry": square(-98, 2, 8)}, {"building_id": "H2", "geometry": square(-198, 2, 8)}])


#: Rules run by these checks: a farmland rule on the buildings and a homestead rule beside it.
RULES = ["FARM-BUILD", "HOME-MULTI"]


def _check(names, tmp_path, run):
    """A `check` run written to and read back from findings.gpkg, as month to month does."""
    findings, _ = run_rules(_district(_buildings(names)), RULES)
    path = tmp_path / run / "findings.gpkg"
    path.parent.mkdir()
    pyogrio.write_dataframe(findings, path, layer="findings")
    return read_findings(path.parent)


def test_a_building_removed_from_the_data_marks_exactly_its_case_gone(tmp_path):
    before = _check(["B1", "B2", "B3"], tmp_path, "2026-10")
    after = _check(["B1", "B3"], tmp_path, "2026-11")
    assert set(before["rule_id"]) == set(RULES)                      # more than one rule in play
    out = compare_runs(after, before)
    gone = out[out["change"] == CHANGE_GONE]
    assert gone["subject_id"].tolist() == ["B2"] and gone["rule_id"].tolist() == ["FARM-BUILD"]
    assert sorted(gone["case_id"]) == sorted(before.loc[before["subject_id"] == "B2", "case_id"])
    rest = out[out["change"] != CHANGE_GONE]
    assert (rest["change"] == CHANGE_ONGOING).all() and len(rest) == len(after)
    assert len(out) == len(before)


def test_a_new_case_is_new_and_the_rest_still_there(tmp_path):
    before = _check(["B1", "B2"], tmp_path, "a")
    after = _check(["B1", "B2", "B3"], tmp_path, "b")
    out = compare_runs(after, before).set_index("subject_id")
    assert out.loc["B3", "change"] == CHANGE_NEW
    assert (out.drop(index="B3")["change"] == CHANGE_ONGOING).all()


def test_gone_rows_keep_the_previous_values_and_come_into_the_current_crs():
    cur = gpd.GeoDataFrame({"case_id": ["A"], "rule_id": ["FARM-BUILD"], "extra": [1]},
                           geometry=[square(0, 0, 10)], crs=CRS)
    old = gpd.GeoDataFrame({"case_id": ["A", "G", "G"], "rule_id": ["FARM-BUILD", "HOME-MULTI", "HOME-MULTI"],
                            "only_old": ["x", "y", "y"]},
                           geometry=[square(0, 0, 10), square(100, 0, 10), square(100, 0, 10)], crs=CRS).to_crs(4326)
    out = compare_runs(cur, old)
    assert out["case_id"].tolist() == ["A", "G"]                     # a duplicated old case once
    assert out["change"].tolist() == [CHANGE_ONGOING, CHANGE_GONE]
    assert list(out.columns) == ["case_id", "rule_id", "extra", "change", "geometry"]
    assert out.crs == cur.crs
    assert out.geometry.iloc[1].equals_exact(square(100, 0, 10), tolerance=1e-3)
    assert out["rule_id"].iloc[1] == "HOME-MULTI" and out["extra"].isna().iloc[1]


def test_compare_needs_case_ids():
    cur = gpd.GeoDataFrame({"case_id": ["A"]}, geometry=[shapely.Point(0, 0)], crs=CRS)
    with pytest.raises(LayerError, match="previous findings: no column case_id"):
        compare_runs(cur, cur.drop(columns="case_id"))


def test_read_findings_names_what_is_wrong(tmp_path):
    with pytest.raises(LayerError, match="no such file"):
        read_findings(tmp_path / "findings.gpkg")
    other = gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(0, 0)], crs=CRS)
    pyogrio.write_dataframe(other, tmp_path / "a.gpkg", layer="other")
    with pytest.raises(LayerError, match=r"no layer 'findings' \(it has other\)"):
        read_findings(tmp_path / "a.gpkg")
    pyogrio.write_dataframe(other, tmp_path / "b.gpkg", layer="findings")
    with pytest.raises(LayerError, match="lacks column"):
        read_findings(tmp_path / "b.gpkg")
    (tmp_path / "c.gpkg").write_text("not a geopackage")
    with pytest.raises(LayerError, match="not a GeoPackage"):
        read_findings(tmp_path / "c.gpkg")


def test_read_findings_reads_the_contract(tmp_path):
    findings, _ = run_rules(_district(_buildings(["B1"])), RULES)
    pyogrio.write_dataframe(findings, tmp_path / "findings.gpkg", layer="findings")
    back = read_findings(tmp_path / "findings.gpkg")
    assert list(back.columns) == [*FINDING_COLUMNS, "geometry"]
    assert back["case_id"].tolist() == findings["case_id"].tolist()


def test_a_compared_run_serves_as_next_months_previous(tmp_path):
    october = _check(["B1", "B2", "B3"], tmp_path, "10")
    november = compare_runs(_check(["B1", "B3"], tmp_path, "11"), october)   # B2 gone, carried as 已整改
    december = compare_runs(_check(["B1", "B2", "B3"], tmp_path, "12"), november)  # B2 built again
    changes = december.set_index("subject_id")["change"]
    assert changes["B2"] == CHANGE_NEW                                   # new again, not 持续
    assert (changes.drop(index="B2") == CHANGE_ONGOING).all()
    assert CHANGE_GONE not in set(compare_runs(_check(["B1", "B3"], tmp_path, "13"), november)["change"])


def test_read_changes_reads_the_layer_check_wrote(tmp_path):
    before = _check(["B1", "B2"], tmp_path, "a")
    path = tmp_path / "b" / "findings.gpkg"
    after = _check(["B1"], tmp_path, "b")
    assert read_changes(path) is None
    pyogrio.write_dataframe(compare_runs(after, before), path, layer="changes")
    changes = read_changes(path.parent)
    assert changes.set_index("subject_id")["change"].to_dict() == {"B1": CHANGE_ONGOING, "B2": CHANGE_GONE,
                                                                   **{s: CHANGE_ONGOING for s in after["subject_id"] if s != "B1"}}
