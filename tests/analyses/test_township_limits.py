"""A township's own limit of every kind — number, date, table, list — is honoured by the rules that read it
(``ctx.limit`` per row), and the district's value applies in every other township."""

from __future__ import annotations

import shapely

from analyses.testing import run_rule
from layers.config import ProjectConfig
from tests.builders import CRS, at, district, frame, square


def two_townships():
    return frame([{"village_id": "V1", "name": "东村", "township": "甲镇", "geometry": square(-500, -500, 500, 1000)},
                  {"village_id": "V2", "name": "西村", "township": "乙镇", "geometry": square(0, -500, 500, 1000)}])


def config(limits: dict, **district_limits) -> ProjectConfig:
    return ProjectConfig.model_validate({"project": {"working_crs": CRS}, "limits": district_limits,
                                         "townships": {"甲镇": {"limits": limits}}})


def test_number_homestead_area_per_township():
    parcels = frame([{"parcel_id": "P1", "village_id": "V1", "geometry": square(-300, 0, 18, 10)},
                     {"parcel_id": "P2", "village_id": "V2", "geometry": square(300, 0, 18, 10)}])   # 180 m² each
    f = run_rule("HOME-AREA", district(villages=two_townships(), parcels=parcels,
                                       config=config({"homestead_area_m2": 200.0})))
    assert f["subject_id"].tolist() == ["P2"] and f["limit"].tolist() == [173.33]


def test_date_cutoffs_per_township_decide_the_status():
    farmland = frame([{"dlbm": "0103", "tbbh": "1", "geometry": square(-500, -500, 1000)}])
    buildings = frame([{"building_id": "B1", "built_year": 2021, "geometry": square(-300, 0, 10)},
                       {"building_id": "B2", "built_year": 2021, "geometry": square(300, 0, 10)}])
    d = district(villages=two_townships(), landuse=farmland, buildings=buildings,
                 config=config({"farmland_cutoff": "2022-06-30"}))
    status = run_rule("FARM-BUILD", d).set_index("subject_id")["status"].to_dict()
    assert status == {"B1": "existing", "B2": "new"}
    # the homestead cut-off too (HOME-AREA: approvals on/after it are new and high)
    parcels = frame([{"parcel_id": "P1", "village_id": "V1", "approved_date": "2022-01-01",
                      "geometry": square(-300, 100, 18, 10)},
                     {"parcel_id": "P2", "village_id": "V2", "approved_date": "2022-01-01",
                      "geometry": square(300, 100, 18, 10)}])
    f = run_rule("HOME-AREA", district(villages=two_townships(), parcels=parcels,
                                       config=config({"homestead_area_date": "2023-01-01"})))
    assert f.set_index("subject_id")["status"].to_dict() == {"P1": "existing", "P2": "new"}


def road(rid, x, grade):
    return {"road_id": rid, "grade": grade, "width_m": 8.0, "village_id": None,
            "geometry": at(shapely.LineString([(x, -400), (x, 400)]))}


def test_list_of_road_grades_per_township():
    # a cemetery 20 m from a village road in each township; 甲镇 counts village roads as 公路, 乙镇 does not
    cems = frame([{"cemetery_id": "GM1", "name": "甲", "village_id": "V1", "geometry": square(-250, 0, 30, 30)},
                  {"cemetery_id": "GM2", "name": "乙", "village_id": "V2", "geometry": square(250, 0, 30, 30)}])
    roads = frame([road("R1", -274, "village"), road("R2", 226, "village")])
    d = district(villages=two_townships(), cemeteries=cems, roads=roads,
                 config=config({"cemetery_road_grades": ["village", "county"]}))
    assert run_rule("SITE-CEMETERY", d)["subject_id"].tolist() == ["GM1"]


def test_table_green_belt_per_township():
    # the same 8 m belt beside a county road: 甲镇 allows 10 m, the district 3 m
    wood = [{"dlbm": "0301", "tbbh": f"W{i}", "geometry": square(x + 4, -100, 8, 200)} for i, x in ((1, -300), (2, 300))]
    landuse = frame(wood + [{"dlbm": "1003", "tbbh": f"R{i}", "geometry": square(x - 4, -100, 8, 200)}
                            for i, x in ((1, -300), (2, 300))])
    baseline = frame([{"dlbm": "0103", "tbbh": "F", "geometry": square(-500, -500, 1000)}])
    roads = frame([{"road_id": f"R{i}", "grade": "county", "width_m": 8.0,
                    "geometry": at(shapely.LineString([(x, -100), (x, 100)]))} for i, x in ((1, -300), (2, 300))])
    d = district(villages=two_townships(), landuse=landuse, landuse_baseline=baseline, roads=roads,
                 config=config({"green_belt_m": {"county": 10.0}}))
    f = run_rule("FARM-CORRIDOR", d)
    assert f["subject_id"].tolist() == ["W2"] and f["limit"].tolist() == [3.0]
