import numpy as np
import pytest

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.farmland import farm_build
from tests.builders import district, frame, square


def run(d):
    return run_rule("FARM-BUILD", d)


@pytest.fixture
def farmland():
    # baseline: a 100 m farmland field east of the village homesteads
    return frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}])


def test_building_on_farmland_is_found_with_its_overlap(farmland):
    # a 10 x 10 building straddling the farmland edge at x = 0: 4 m inside farmland
    b = frame([{"building_id": "B1", "built_year": 2022, "geometry": square(-6, 0, 10)}])
    f = run(district(landuse=farmland, buildings=b))
    assert f["subject_id"].tolist() == ["B1"]
    assert f["area_m2"].iloc[0] == pytest.approx(40.0, abs=1e-6)
    assert f["area_mu"].iloc[0] == pytest.approx(40.0 / 666.6666667, rel=1e-6)
    assert f.geometry.iloc[0].equals(square(0, 0, 4, 10))
    assert f["severity"].iloc[0] == "medium" and f["status"].iloc[0] == "new"
    assert f["village"].iloc[0] == "测试村" and f["township"].iloc[0] == "金海湖镇"


def test_baseline_decides_what_is_farmland(farmland):
    current = frame([{"dlbm": "0702", "geometry": square(-500, -500, 1000)}])
    b = frame([{"building_id": "B1", "geometry": square(10, 10, 10)}])
    assert len(run(district(landuse=current, landuse_baseline=farmland, buildings=b))) == 1
    # without a baseline the current survey says homestead land: nothing to flag
    assert len(run(district(landuse=current, buildings=b))) == 0


def test_pbf_makes_it_high_and_counts_as_farmland():
    pbf = frame([{"pbf_id": "J1", "geometry": square(100, 100, 50)}])
    b = frame([{"building_id": "B2", "built_year": 2015, "geometry": square(110, 110, 10)}])
    f = run(district(pbf=pbf, buildings=b))
    assert f["severity"].tolist() == ["high"]
    assert f["status"].tolist() == ["existing"]
    assert "永久基本农田" in f["message"].iloc[0]


def test_valid_approvals_cover_and_expired_ones_do_not(farmland):
    b = frame([{"building_id": "C", "geometry": square(10, 10, 10)},
               {"building_id": "T", "geometry": square(50, 10, 10)},
               {"building_id": "X", "geometry": square(90, 10, 10)}])
    ap = frame([{"approval_id": "A1", "kind": "construction", "geometry": square(5, 5, 20)},
                {"approval_id": "A2", "kind": "temporary", "valid_until": "2026-11-22", "geometry": square(45, 5, 20)},
                {"approval_id": "A3", "kind": "temporary", "valid_until": "2026-11-21", "geometry": square(85, 5, 20)}])
    f = run(district(landuse=farmland, buildings=b, approvals=ap))
    # the temporary approval that expired yesterday no longer covers building X
    assert f["subject_id"].tolist() == ["X"]


def test_slivers_below_min_area_are_noise(farmland):
    b = frame([{"building_id": "S", "geometry": square(-9.95, 0, 10)}])   # 0.05 m x 10 m = 0.5 m² on farmland
    b2 = frame([{"building_id": "S2", "geometry": square(-9.85, 0, 10)}])  # 1.5 m²
    assert len(run(district(landuse=farmland, buildings=b))) == 0
    assert run(district(landuse=farmland, buildings=b2))["area_m2"].iloc[0] == pytest.approx(1.5, abs=1e-6)


def test_overlapping_farmland_and_pbf_are_counted_once(farmland):
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 50)}])
    b = frame([{"building_id": "B", "geometry": square(10, 10, 10)}])
    f = run(district(landuse=farmland, pbf=pbf, buildings=b))
    assert f["area_m2"].tolist() == pytest.approx([100.0])
    assert np.isclose(f.geometry.area.sum(), 100.0)
