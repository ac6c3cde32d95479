"""Routing on every finding: remedy, lead unit, deadline (run date + the rule's period) and 田长 grid."""

import datetime as dt

import pytest

from analyses.routing import DEFAULT_ROUTING, routing_for
from analyses.registry import CATALOGUE
from analyses.testing import run_rule
from layers.config import ProjectConfig, load_config
from layers.privacy import mask_frame
from spatial.errors import ConfigError
from tests.builders import district, frame, square

AS_OF = dt.date(2026, 11, 22)


@pytest.fixture
def farmland():
    return frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                  {"dlbm": "0103", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}])


def _buildings():
    # B_NEW built after 2020-09-10 (new), B_OLD between 2010 and 2020-09-10 (existing), both on farmland
    return frame([{"building_id": "B_NEW", "built_year": 2022, "geometry": square(10, 10, 10)},
                  {"building_id": "B_OLD", "built_year": 2015, "geometry": square(100, 10, 10)}])


def test_every_catalogue_rule_has_a_default_routing():
    assert set(DEFAULT_ROUTING) == set(CATALOGUE)


def test_farm_build_defaults_and_deadline_by_status(farmland):
    f = run_rule("FARM-BUILD", district(landuse=farmland, buildings=_buildings(), as_of=AS_OF))
    by = f.set_index("subject_id")
    assert by.loc["B_NEW", "status"] == "new" and by.loc["B_OLD", "status"] == "existing"
    assert set(f["remedy"]) == {"拆除"}
    assert set(f["lead_unit"]) == {"区农村乱占耕地建房专项整治行动工作专班"}
    assert by.loc["B_NEW", "deadline"] == (AS_OF + dt.timedelta(days=30)).isoformat() == "2026-12-22"
    assert by.loc["B_OLD", "deadline"] == (AS_OF + dt.timedelta(days=180)).isoformat()
    assert f["grid_id"].isna().all()  # no field_grids given


def test_homestead_rules_go_to_the_township():
    p = frame([{"parcel_id": "P1", "approved_date": "2022-01-01", "geometry": square(0, 0, 20)}])
    f = run_rule("HOME-AREA", district(parcels=p))
    assert f["lead_unit"].tolist() == ["金海湖镇"]
    assert f["remedy"].tolist() == ["退出"]


def test_cemetery_rules_go_to_the_civil_affairs_bureau():
    assert routing_for("SITE-GRAVE").lead_unit == "区民政局"
    assert routing_for("FARM-GREEN").lead_unit == "区园林绿化局、区规划自然资源分局"


def test_configuration_overrides_remedy_lead_unit_and_periods(farmland):
    cfg = ProjectConfig.model_validate({"routing": {"FARM-BUILD": {
        "remedy": "补办手续", "lead_unit": "{township}人民政府", "days_new": 10, "days_existing": 60}}})
    f = run_rule("FARM-BUILD", district(landuse=farmland, buildings=_buildings(), as_of=AS_OF, config=cfg))
    by = f.set_index("subject_id")
    assert set(f["remedy"]) == {"补办手续"}
    assert set(f["lead_unit"]) == {"金海湖镇人民政府"}
    assert by.loc["B_NEW", "deadline"] == "2026-12-02"
    assert by.loc["B_OLD", "deadline"] == "2027-01-21"


def test_unknown_rule_id_in_routing_is_refused(tmp_path):
    p = tmp_path / "landguard.toml"
    p.write_text('[routing."FARM-BULD"]\nremedy = "拆除"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    text = str(err.value)
    assert "\n" not in text
    assert "[routing]" in text and "FARM-BULD" in text and "landguard rules" in text


def test_unknown_remedy_and_bad_period_are_refused(tmp_path):
    p = tmp_path / "landguard.toml"
    p.write_text('[routing."FARM-BUILD"]\nremedy = "罚款"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"routing\.FARM-BUILD\.remedy"):
        load_config(p)
    p.write_text('[routing."FARM-BUILD"]\ndays_new = -3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"routing\.FARM-BUILD\.days_new"):
        load_config(p)


def test_grid_id_is_the_grid_holding_the_largest_part(farmland):
    # B_NEW (x 10..20) lies 3 m in G1 (x < 13) and 7 m in G2; B_OLD lies in no grid
    grids = frame([{"grid_id": "G1", "village_id": "110117104201", "grid_leader": "王建国",
                    "geometry": square(-500, -500, 513, 600)},
                   {"grid_id": "G2", "village_id": "110117104201", "grid_leader": "李四",
                    "geometry": square(13, -500, 50, 600)}])
    # move B_OLD out of both grids (grids end at y = 100)
    b = frame([{"building_id": "B_NEW", "built_year": 2022, "geometry": square(10, 10, 10)},
               {"building_id": "B_OLD", "built_year": 2015, "geometry": square(100, 200, 10)}])
    f = run_rule("FARM-BUILD", district(landuse=farmland, buildings=b, field_grids=grids, as_of=AS_OF))
    by = f.set_index("subject_id")
    assert by.loc["B_NEW", "grid_id"] == "G2"
    assert by.loc["B_OLD", "grid_id"] is None


def test_grid_leader_is_masked_like_an_owner_name():
    df = frame([{"grid_id": "G1", "grid_leader": "王建国", "geometry": square(0, 0, 1)}])
    assert mask_frame(df)["grid_leader"].tolist() == ["王**"]
    assert mask_frame(df, full_names=True)["grid_leader"].tolist() == ["王建国"]
