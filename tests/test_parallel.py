"""Village chunks in worker processes and on a dask LocalCluster give exactly the single-process findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from analyses import run_rules
from analyses.registry import RULES
from analyses.runner import resolve
from landguard.run import (chunk_district, district_rule_ids, partition_villages, resolve_jobs, rule_groups,
                           run_rules_dask, run_rules_parallel)
from spatial.errors import LandguardError
from tests.builders import district, frame, square


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same cases in the same order, same subjects, villages and areas."""
    assert list(a["case_id"]) == list(b["case_id"])
    for col in ("rule_id", "subject_id", "village_id", "related_ids", "status", "severity", "message"):
        assert a[col].astype(object).where(a[col].notna(), None).tolist() == \
            b[col].astype(object).where(b[col].notna(), None).tolist(), col
    np.testing.assert_allclose(a["area_m2"].to_numpy(dtype=float), b["area_m2"].to_numpy(dtype=float),
                               rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(shapely.area(a.geometry.to_numpy()), shapely.area(b.geometry.to_numpy()),
                               rtol=1e-9, atol=1e-6)


def _villages(n_cols: int = 4, n_rows: int = 2, size: float = 500.0):
    rows = []
    for r in range(n_rows):
        for c in range(n_cols):
            rows.append({"village_id": f"1101171042{r}{c}", "name": f"村{r}{c}", "township": "金海湖镇",
                         "geometry": square(c * size, r * size, size)})
    return frame(rows)


@pytest.fixture(scope="module")
def crafted():
    """Eight villages with cases that a naive per-village split gets wrong."""
    v = _villages()
    landuse = frame([
        {"dlbm": "0702", "tbbh": "1", "geometry": square(0, 0, 2000, 1000)},
        # a field mostly in village (0,1) that reaches 30 m into village (0,0)
        {"dlbm": "0103", "tbbh": "2", "geometry": square(470, 100, 300, 100)},
        # a field outside every village
        {"dlbm": "0101", "tbbh": "3", "geometry": square(2100, 100, 200, 200)},
    ])
    parcels = frame([
        # one household in the first and in the last village: district-wide
        {"parcel_id": "P1", "household_id": "H1", "geometry": square(50, 50, 15)},
        {"parcel_id": "P2", "household_id": "H1", "geometry": square(1800, 800, 15)},
        {"parcel_id": "P3", "household_id": "H2", "geometry": square(300, 300, 15)},
    ] + [{"parcel_id": f"Q{i}", "household_id": f"Q{i}", "geometry": square(100 + 250 * (i % 8), 600, 15)}
         for i in range(8)])
    buildings = frame([
        # in village (0,0), on the field owned by village (0,1): needs the neighbour's land use
        {"building_id": "B1", "geometry": square(475, 120, 12)},
        # outside every village, on the outside field
        {"building_id": "B2", "geometry": square(2150, 150, 10)},
        # over its parcel's edge
        {"building_id": "B3", "geometry": square(302, 302, 14.5)},
    ] + [{"building_id": f"C{i}", "geometry": square(101 + 250 * (i % 8), 601, 13)} for i in range(8)])
    return district(villages=v, landuse=landuse, parcels=parcels, buildings=buildings)


def test_partition_covers_every_village_once_with_neighbours_together():
    v = _villages(4, 4)
    chunks = partition_villages(v, 4)
    flat = [x for c in chunks for x in c]
    assert sorted(flat) == sorted(v["village_id"]) and len(flat) == len(set(flat))
    assert len(chunks) == 4
    # Hilbert order: each group of four is a 2 x 2 block of neighbours (its box is 1000 m square)
    geoms = v.set_index("village_id").geometry
    for c in chunks:
        minx, miny, maxx, maxy = shapely.total_bounds(geoms.loc[c].to_numpy())
        assert (maxx - minx, maxy - miny) == (1000.0, 1000.0)
    assert partition_villages(v, 100) == [[x] for x in flat] or len(partition_villages(v, 100)) == 16


def test_chunk_district_takes_neighbours_and_cuts_spanning_layers(crafted):
    red = frame([{"name": "红线", "geometry": square(-100, -100, 2200, 1200)}])
    d = district(villages=crafted.villages, landuse=crafted["landuse"], parcels=crafted["parcels"],
                 buildings=crafted["buildings"], eco_redline=red)
    sub = chunk_district(d, tuple(shapely.bounds(square(0, 0, 400)) + np.array([-100, -100, 100, 100])))
    assert set(sub["landuse"]["tbbh"]) == {"1", "2"}                   # the neighbour's field comes along
    assert "P2" not in set(sub["parcels"]["parcel_id"])                # far parcels do not
    assert len(sub.villages) == len(d.villages)                        # villages whole
    assert sub["eco_redline"].geometry.iloc[0].area < red.geometry.iloc[0].area   # spanning layer cut


@pytest.mark.parametrize("split", ["rules", "villages"])
def test_jobs_2_equals_jobs_1_on_crafted_cases(crafted, split):
    one, out1 = run_rules(crafted)
    two, out2 = run_rules_parallel(crafted, jobs=2, chunks_per_job=4, split=split)
    _same(one, two)
    found = set(zip(two["rule_id"], two["subject_id"]))
    assert ("HOME-MULTI", "P1") in found                       # a household across the district
    assert ("FARM-BUILD", "B1") in found                       # on the neighbour village's field
    assert ("FARM-BUILD", "B2") in found                       # outside every village: kept once
    assert ("SET-OUTSIDE", "B3") in found
    assert [(o.rule_id, o.count, o.skipped) for o in out1] == [(o.rule_id, o.count, o.skipped) for o in out2]


def test_rule_groups_keep_shared_intermediates_in_one_group():
    groups = rule_groups()
    flat = [r for g in groups for r in g]
    assert sorted(flat) == sorted(RULES) and len(flat) == len(set(flat))      # every rule once
    group_of = {r: i for i, g in enumerate(groups) for r in g}
    # a rule and the rules it builds on run in one worker (FARM-CRIMINAL reads FARM-BUILD's findings)
    for r in RULES:
        assert all(group_of[d] == group_of[r] for d in resolve([r]) if d in RULES), r
    # two rules sharing a costly intermediate share a group: it is computed once
    assert group_of["SET-OUTSIDE"] == group_of["SET-DRIP"]                   # setback_outside
    assert group_of["FARM-OVERUSE"] == group_of["FARM-NONAGRI"]              # conversions
    # a layer's cover pieces do not chain groups together
    assert group_of["HOME-PBF"] != group_of["FARM-BUILD"]                    # both use pbf_cover only
    assert rule_groups(["HOME-AREA", "SET-DRIP", "NOT-A-RULE"]) == [["SET-DRIP"], ["HOME-AREA"]]  # longest first


def test_unknown_split_is_refused(crafted):
    with pytest.raises(ValueError, match="split='chunks'"):
        run_rules_parallel(crafted, jobs=2, split="chunks")


def test_district_scope_rules_are_marked():
    whole = set(district_rule_ids())
    assert {"HOME-MULTI", "FARM-CRIMINAL"} <= whole
    assert "SET-OUTSIDE" not in whole and "FARM-BUILD" not in whole


@pytest.fixture(scope="module")
def sample_single(sample_dir):
    """The sample district and its single-process findings."""
    from layers.district import load_district

    d = load_district(config=sample_dir / "landguard.toml")
    one, outcomes = run_rules(d)
    return d, one, outcomes


def test_jobs_2_equals_jobs_1_on_the_sample(sample_single):
    d, one, out1 = sample_single
    two, out2 = run_rules_parallel(d, jobs=2)
    assert len(one) > 0
    _same(one, two)
    assert [(o.rule_id, o.count, o.skipped) for o in out1] == [(o.rule_id, o.count, o.skipped) for o in out2]


def test_local_cluster_equals_single_process(sample_single):
    d, one, _ = sample_single
    many, outcomes = run_rules_dask(d, "local:2", chunks_per_worker=2)
    assert sorted(many["case_id"]) == sorted(one["case_id"])
    _same(one, many)
    assert sum(o.count for o in outcomes) == len(one)


def test_summary_is_identical_for_jobs_1_jobs_2_and_a_cluster(sample_dir):
    """The whole summary (counts per rule, the data-quality report with the rules' notes), not only the
    findings, is the same however the district is split."""
    import copy

    from layers.district import load_district

    d = load_district(config=sample_dir / "landguard.toml")
    loaded = copy.deepcopy(d.quality)

    def summary(run):
        d.quality = copy.deepcopy(loaded)
        findings, outcomes = run()
        return ([(o.rule_id, o.count, o.skipped, o.error) for o in outcomes], d.quality.as_dict(),
                sorted(findings["case_id"]))

    one = summary(lambda: run_rules(d))
    by_rule = summary(lambda: run_rules_parallel(d, jobs=2, split="rules"))
    two = summary(lambda: run_rules_parallel(d, jobs=2, chunks_per_job=3, split="villages"))
    cluster = summary(lambda: run_rules_dask(d, "local:2", chunks_per_worker=2))
    assert one[1]["layers"] != loaded.as_dict()["layers"] or one[1]["notes"], "the rules added no note to compare"
    assert by_rule == one
    assert two == one
    assert cluster == one


def test_split_by_rule_writes_the_notes_in_single_process_order(crafted):
    """HOME-HEIGHT's note comes before SITE-CEMETERY's in one process (catalogue order), although the group
    holding SITE-CEMETERY (the farmland group, via road_land) starts first."""
    import copy

    cem = frame([{"cemetery_id": "GM1", "name": "GM1公墓", "geometry": square(1200, 200, 40, 30)}])
    d = district(villages=crafted.villages, landuse=crafted["landuse"], parcels=crafted["parcels"],
                 buildings=crafted["buildings"], cemeteries=cem)
    loaded = copy.deepcopy(d.quality)
    one, _ = run_rules(d)
    single = d.quality.as_dict()
    d.quality = copy.deepcopy(loaded)
    two, _ = run_rules_parallel(d, jobs=2, split="rules")
    texts = single["notes"]
    home = [i for i, t in enumerate(texts) if t.startswith("HOME-HEIGHT")]
    site = [i for i, t in enumerate(texts) if t.startswith("SITE-CEMETERY")]
    assert home and site and home[0] < site[0]
    group_of = {r: i for i, g in enumerate(rule_groups()) for r in g}
    assert group_of["SITE-CEMETERY"] < group_of["HOME-HEIGHT"]        # so the group order alone is wrong
    assert d.quality.as_dict() == single
    _same(one, two)


def test_resolve_jobs():
    assert resolve_jobs(3, None) == 3
    with pytest.raises(LandguardError, match="--jobs 0"):
        resolve_jobs(0, None)


def test_check_cli_jobs_and_scheduler_options(tmp_path):
    import pyogrio

    from landguard.cli.main import cli
    from tests.cli.test_check_cli import small_gpkg

    data = small_gpkg(tmp_path / "district.gpkg")
    runner = CliRunner()
    res1 = runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "o1"), "-q", "--jobs", "1"])
    res2 = runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "o2"), "-q", "--jobs", "2"])
    assert res1.exit_code == 0 and res2.exit_code == 0, res1.output + res2.output
    a = pyogrio.read_dataframe(tmp_path / "o1" / "findings.gpkg")
    b = pyogrio.read_dataframe(tmp_path / "o2" / "findings.gpkg")
    assert list(a["case_id"]) == list(b["case_id"]) and len(a) >= 4
    bad = runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "o3"), "--jobs", "0"])
    assert bad.exit_code == 2 and "--jobs" in bad.output
    bad = runner.invoke(cli, ["check", "--data", str(data), "--out", str(tmp_path / "o4"), "--scheduler", "yarn"])
    assert bad.exit_code == 2 and "--scheduler" in bad.output and "tcp://" in bad.output


def _boom(ctx):
    raise ValueError("坏规则")


@pytest.mark.parametrize("split", ["rules", "villages"])
def test_a_failing_rule_is_recorded_or_raised_as_in_one_process(crafted, monkeypatch, split):
    from dataclasses import replace

    monkeypatch.setitem(RULES, "SET-OUTSIDE", replace(RULES["SET-OUTSIDE"], func=_boom))
    one, out1 = run_rules(crafted, fail_fast=False)
    two, out2 = run_rules_parallel(crafted, jobs=2, fail_fast=False, split=split)
    _same(one, two)
    assert "SET-OUTSIDE" not in set(two["rule_id"]) and "FARM-BUILD" in set(two["rule_id"])
    failed = {o.rule_id: o.error for o in out2 if o.error}
    assert list(failed) == ["SET-OUTSIDE"] and "坏规则" in failed["SET-OUTSIDE"]
    with pytest.raises(ValueError, match="坏规则"):
        run_rules_parallel(crafted, jobs=2, split=split)
