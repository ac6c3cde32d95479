import numpy as np
import pytest
import shapely

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.setback import set_redline
from layers.config import ProjectConfig
from tests.builders import CRS, at, district, frame, square

CFG = ProjectConfig.model_validate({"project": {"working_crs": CRS}})


def run(buildings, **layers):
    d = district(buildings=frame(buildings), config=CFG, **layers)
    return run_rule("SET-REDLINE", d), d


def building(bid, x, y, size=10.0):
    return {"building_id": bid, "geometry": square(x, y, size)}


def test_building_partly_inside_the_eco_red_line():
    red = frame([{"name": "平谷区生态保护红线", "geometry": square(0, 100, 300, 300)}])
    f, _ = run([building("B1", 10, 95), building("B2", 10, 50)], eco_redline=red)
    assert f["subject_id"].tolist() == ["B1"]
    row = f.iloc[0]
    assert row["area_m2"] == pytest.approx(50.0) and row["measured"] == pytest.approx(50.0) and row["unit"] == "m²"
    assert row.geometry.symmetric_difference(square(10, 100, 10, 5)).area < 1e-6
    assert row["severity"] == "high" and row["related_ids"] == "平谷区生态保护红线"
    assert "生态保护红线“平谷区生态保护红线”内50.00平方米" in row["message"]
    assert "门政办发〔2019〕45号 二(二)4" in row["message"] and "一(一)" not in row["message"]


def test_blue_line_and_water_source_count_other_zones_do_not():
    zones = frame([{"name": "泃河河湖蓝线", "kind": "blue_line", "geometry": square(0, 0, 50, 50)},
                   {"name": "金海湖水源保护区", "kind": "water_source", "geometry": square(100, 0, 50, 50)},
                   {"name": "上宅遗址", "kind": "relic", "geometry": square(200, 0, 50, 50)},
                   {"name": "城镇规划区", "kind": "town_planning", "geometry": square(300, 0, 50, 50)}])
    b = [building("BL", 10, 10), building("WS", 110, 10), building("RE", 210, 10), building("TP", 310, 10)]
    f, _ = run(b, protected_zones=zones)
    assert sorted(f["subject_id"]) == ["BL", "WS"]
    msg = dict(zip(f["subject_id"], f["message"]))
    assert "河湖蓝线“泃河河湖蓝线”" in msg["BL"] and "水源保护区“金海湖水源保护区”" in msg["WS"]


def test_slivers_under_the_minimum_area_are_noise():
    red = frame([{"name": "红线", "geometry": square(0, 100, 300, 300)}])
    f, _ = run([building("S", 10, 90.05)], eco_redline=red)          # 0.5 m² inside
    assert f.empty
    f, _ = run([building("T", 10, 90.1)], eco_redline=red)           # 1.0 m² inside: counts
    assert f["area_m2"].tolist() == pytest.approx([1.0])


def test_overlapping_red_and_blue_lines_make_one_finding_counted_once():
    red = frame([{"name": "红线", "geometry": square(0, 0, 100, 100)}])
    zones = frame([{"name": "蓝线", "kind": "blue_line", "geometry": square(50, 0, 100, 100)}])
    f, _ = run([building("B", 45, 10)], eco_redline=red, protected_zones=zones)
    assert len(f) == 1
    assert f["area_m2"].iloc[0] == pytest.approx(100.0)
    assert f["related_ids"].iloc[0] == "红线;蓝线"
    assert "生态保护红线“红线”、河湖蓝线“蓝线”" in f["message"].iloc[0]


def test_huge_red_line_is_subdivided_and_gives_exact_areas():
    # a red line whose south edge wiggles with 20,000 vertices; buildings straddle it
    x = np.linspace(0, 1000, 20001)
    y = 100 + 2 * np.sin(x / 7)
    ring = list(zip(x, y)) + [(1000, 600), (0, 600)]
    red = frame([{"name": "红线", "geometry": at(shapely.Polygon(ring))}])
    b = [building(f"B{i}", 50 * i + 5, 95) for i in range(10)]
    f, _ = run(b, eco_redline=red)
    assert len(f) == 10
    red_geom = red.geometry.iloc[0]
    expected = [shapely.intersection(square(50 * i + 5, 95, 10), red_geom).area for i in range(10)]
    got = f.set_index("subject_id").loc[[f"B{i}" for i in range(10)], "area_m2"].to_numpy()
    assert got == pytest.approx(expected, rel=1e-9)


def test_without_red_line_or_zones_nothing_is_checked_and_the_notes_say_so():
    f, d = run([building("B", 10, 10)])
    assert f.empty
    assert any("SET-REDLINE" in n for n in d.quality.notes)
