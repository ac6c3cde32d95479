import pytest
import shapely

from analyses.testing import run_rule
from analyses import CATALOGUE, finalise
from analyses.siting import site_cemetery
from layers.config import ProjectConfig
from tests.builders import CRS, at, district, frame, square

CFG = ProjectConfig.model_validate({"project": {"working_crs": CRS}})


def run(cemeteries, config=CFG, **layers):
    d = district(cemeteries=frame([dict(c) for c in cemeteries]), config=config, **layers)
    return run_rule("SITE-CEMETERY", d), d


def cemetery(cid, x, y, w=40.0, h=30.0):
    return {"cemetery_id": cid, "name": f"{cid}公墓", "geometry": square(x, y, w, h)}


def road(rid, y, grade="county", width=8.0):
    return {"road_id": rid, "grade": grade, "width_m": width,
            "geometry": at(shapely.LineString([(-400, y), (400, y)]))}


@pytest.mark.parametrize("kind,label", [("town_planning", "城镇规划区"), ("relic", "文物保护区"),
                                        ("scenic", "风景名胜区"), ("water_source", "水源保护区"), ("dike", "河流堤坝")])
def test_cemetery_inside_a_forbidden_zone(kind, label):
    zones = frame([{"name": "某区", "kind": kind, "geometry": square(0, 0, 100, 100)}])
    f, _ = run([cemetery("GM1", 80, 10), cemetery("GM2", 200, 10)], protected_zones=zones)
    assert f["subject_id"].tolist() == ["GM1"]
    row = f.iloc[0]
    assert row["area_m2"] == pytest.approx(20 * 30) and row["severity"] == "high"
    assert row.geometry.symmetric_difference(square(80, 10, 20, 30)).area < 1e-6
    assert f"位于{label}“某区”内" in row["message"] and "门政发〔2019〕19号 第七条" in row["message"]


def test_blue_line_is_not_a_cemetery_zone_and_slivers_are_noise():
    zones = frame([{"name": "蓝线", "kind": "blue_line", "geometry": square(0, 0, 100, 100)},
                   {"name": "遗址", "kind": "relic", "geometry": square(200, 0, 100, 100)}])
    f, _ = run([cemetery("GM1", 10, 10), cemetery("GM2", 299.98, 10)], protected_zones=zones)  # 0.6 m² in relic
    assert f.empty


def test_one_finding_per_zone_kind():
    zones = frame([{"name": "风景区", "kind": "scenic", "geometry": square(0, 0, 100, 100)},
                   {"name": "水源区", "kind": "water_source", "geometry": square(0, 0, 100, 100)}])
    f, _ = run([cemetery("GM1", 10, 10)], protected_zones=zones)
    assert len(f) == 2 and f["case_id"].nunique() == 2


def test_road_distance_from_the_road_land_edge():
    # county road 8 m wide along y = 0: its land edge is at y = 4; cemetery 45 m from the edge
    roads = frame([road("X036", 0)])
    f, _ = run([cemetery("GM1", 0, 49)], roads=roads)
    assert len(f) == 1
    row = f.iloc[0]
    assert row["measured"] == pytest.approx(45.0) and row["limit"] == pytest.approx(50.0) and row["unit"] == "m"
    assert row["related_ids"] == "X036" and row["severity"] == "medium"
    assert "县道X036" in row["message"] and "自道路用地边缘起算" in row["message"]
    assert "配置值" in row["message"] and "未规定具体距离" in row["message"]
    # the geometry is the part of the cemetery within 50 m of the road land: y 49..54
    assert row.geometry.symmetric_difference(square(0, 49, 40, 5)).area < 1e-3


def test_exactly_at_the_distance_is_compliant():
    f, _ = run([cemetery("GM1", 0, 54)], roads=frame([road("X036", 0)]))
    assert f.empty
    f, _ = run([cemetery("GM1", 0, 53.99)], roads=frame([road("X036", 0)]))
    assert f["measured"].tolist() == pytest.approx([49.99])


def test_centre_line_without_width_and_road_polygons():
    f, _ = run([cemetery("GM1", 0, 45)], roads=frame([road("Y1", 0, grade="township", width=None)]))
    assert f["measured"].tolist() == pytest.approx([45.0]) and "自道路中心线起算" in f["message"].iloc[0]
    poly = frame([{"road_id": "G1", "grade": "national", "geometry": square(-400, -12, 800, 24)}])
    f, _ = run([cemetery("GM1", 0, 52)], roads=poly)
    assert f["measured"].tolist() == pytest.approx([40.0]) and "国道G1" in f["message"].iloc[0]


def test_village_roads_and_railways_are_not_highways_unless_configured():
    roads = frame([road("C1", 0, grade="village", width=4.5), road("T1", 200, grade="railway", width=15)])
    cems = [cemetery("GM1", 0, 20), cemetery("GM2", 0, 230)]
    f, _ = run(cems, roads=roads)
    assert f.empty
    cfg = ProjectConfig.model_validate({"project": {"working_crs": CRS},
                                        "limits": {"cemetery_road_grades": ["village"]}})
    f, _ = run(cems, config=cfg, roads=roads)
    assert f["subject_id"].tolist() == ["GM1"]
    # roads of unknown grade count
    f, _ = run(cems, roads=frame([road("U", 0, grade=None)]))
    assert f["subject_id"].tolist() == ["GM1"]


def test_distance_is_configurable_per_township_and_nearest_road_is_reported():
    cfg = ProjectConfig.model_validate({"project": {"working_crs": CRS},
                                        "townships": {"金海湖镇": {"limits": {"cemetery_road_distance_m": 100}}}})
    roads = frame([road("X1", 0), road("X2", 150)])
    f, _ = run([cemetery("GM1", 0, 70)], config=cfg, roads=roads)
    assert len(f) == 1
    assert f["limit"].iloc[0] == pytest.approx(100.0) and f["measured"].iloc[0] == pytest.approx(46.0)
    assert f["related_ids"].iloc[0] == "X2;X1" and "X2" in f["message"].iloc[0]


def test_zone_and_road_cases_of_one_cemetery_are_separate_findings():
    zones = frame([{"name": "遗址", "kind": "relic", "geometry": square(0, 0, 100, 100)}])
    f, _ = run([cemetery("GM1", 10, 10)], protected_zones=zones, roads=frame([road("X1", 0)]))
    assert sorted(f["unit"]) == ["m", "m²"] and f["case_id"].nunique() == 2


def test_without_zones_or_roads_the_notes_say_nothing_was_checked():
    f, d = run([cemetery("GM1", 10, 10)])
    assert f.empty and any("SITE-CEMETERY" in n for n in d.quality.notes)
