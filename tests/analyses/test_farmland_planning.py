"""FARM-RESERVE and FARM-REDLINE on hand-made geometries (including a red line of many vertices)."""

import numpy as np
import pytest
import shapely

from analyses.testing import run_rule
from layers.config import ProjectConfig
from analyses import CATALOGUE, RULES, finalise
from tests.builders import at, district, frame, square


def run(rule, d):
    return run_rule(rule, d)


def farmland():
    # x 0..300 farmland in three 100 m x 200 m fields side by side (touching) and one detached 40 m x 40 m
    return frame([{"dlbm": "0702", "tbbh": "B1", "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "F1", "geometry": square(0, 0, 100, 200)},
                  {"dlbm": "0103", "tbbh": "F2", "geometry": square(100, 0, 100, 200)},
                  {"dlbm": "0101", "tbbh": "F3", "geometry": square(200, 0, 100, 200)},
                  {"dlbm": "0103", "tbbh": "F4", "geometry": square(400, 300, 40)}])


def wiggly_box(x0, y0, x1, y1, n=20000, amp=0.5):
    """A rectangle whose south edge is a zig-zag of ``n`` vertices (a red line's shape, drawn in local metres)."""
    xs = np.linspace(x0, x1, n)
    ys = y0 + amp * np.sin(np.arange(n))
    south = list(zip(xs, ys))
    return at(shapely.Polygon(south + [(x1, y1), (x0, y1)]))


def test_pbf_in_core_and_general_zones():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 100, 200)},
                 {"pbf_id": "J2", "geometry": square(200, 0, 100, 200)}])
    nr = frame([{"name": "四座楼", "zone": "core", "geometry": square(50, 100, 200, 200)},
                {"name": "四座楼", "zone": "general", "geometry": square(-100, 50, 600, 400)}])
    d = district(landuse=farmland(), pbf=pbf, nature_reserves=nr)
    f = run("FARM-RESERVE", d)
    got = {(s, sev): round(a, 6) for s, sev, a in zip(f["subject_id"], f["severity"], f["area_m2"])}
    # J1: core 50 x 100 = 5000, general the rest of y 50..200: 100 x 150 - 5000 = 10000
    assert got == {("J1", "high"): 5000.0, ("J1", "medium"): 10000.0,
                   ("J2", "high"): 5000.0, ("J2", "medium"): 10000.0}
    assert f["case_id"].is_unique
    assert all("核心保护区" in m for m in f.loc[f["severity"] == "high", "message"])


def test_red_line_over_pbf_and_over_a_contiguous_block():
    pbf = frame([{"pbf_id": "J1", "geometry": square(0, 0, 100, 200)}])
    # a red line of 20,000 vertices over y >= 150 (its south edge wiggles ±0.5 m)
    eco = frame([{"name": "红线1", "geometry": wiggly_box(-500, 150, 500, 500)}])
    d = district(landuse=farmland(), pbf=pbf, eco_redline=eco)
    f = run("FARM-REDLINE", d).set_index("subject_id")
    # PBF J1: 100 m x ~50 m; the block F1+F2+F3 (90 亩): its non-PBF part 200 m x ~50 m; F4 (2.4 亩) is scattered
    assert sorted(f.index) == ["F1", "J1"]
    assert f.loc["J1", "severity"] == "high" and f.loc["J1", "area_m2"] == pytest.approx(5000.0, rel=2e-3)
    assert f.loc["F1", "severity"] == "medium" and f.loc["F1", "area_m2"] == pytest.approx(10000.0, rel=2e-3)
    assert f.loc["F1", "measured"] == pytest.approx(60000 / 666.6666667) and f.loc["F1", "limit"] == 50.0
    assert f.loc["F1", "unit"] == "亩" and f.loc["F1", "related_ids"] == "红线1"
    # the block figure is configuration (the sources name none), and the message says so
    assert "50亩的配置值" in f.loc["F1", "message"] and "redline_block_mu" in f.loc["F1", "message"]
    cfg = ProjectConfig.model_validate({"limits": {"redline_block_mu": 80.0}})
    f2 = run("FARM-REDLINE", district(landuse=farmland(), pbf=pbf, eco_redline=eco, config=cfg))
    assert "80亩的配置值" in f2.set_index("subject_id").loc["F1", "message"]


def test_a_block_under_the_size_and_the_part_inside_a_reserve_are_not_flagged():
    lu = frame([{"dlbm": "0702", "tbbh": "B1", "geometry": square(-500, -500, 500, 1000)},
                {"dlbm": "0103", "tbbh": "S1", "geometry": square(0, 0, 100, 333)},     # 49.95 亩
                {"dlbm": "0103", "tbbh": "S2", "geometry": square(200, 0, 100, 334)}])  # 50.1 亩
    eco = frame([{"name": "红线1", "geometry": square(-500, -500, 1000)}])
    nr = frame([{"name": "保护区", "zone": "general", "geometry": square(250, -500, 250, 1000)}])
    d = district(landuse=lu, eco_redline=eco, nature_reserves=nr)
    f = run("FARM-REDLINE", d)
    assert f["subject_id"].tolist() == ["S2"]
    assert f["area_m2"].iloc[0] == pytest.approx(50 * 334)     # half of it lies in the reserve
