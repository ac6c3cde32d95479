"""Dating farmland conversions by the survey series (analyses.dating), on geometry built in code."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analyses.dating import use_name, year_class
from analyses.testing import run_rule
from tests.builders import district, frame, square

S, C = dt.date(2010, 1, 1), dt.date(2020, 9, 10)


def test_year_class_edges():
    assert year_class([2008, 2009, 2010, 2019, 2020, 2021], S, C).tolist() == [
        "historic", "historic", "existing", "existing", "new", "new"]


def test_use_names():
    assert use_name(["0702", "0601", "1104", "0201"]).tolist() == ["建设用地", "建设用地", "坑塘水面", "园地"]


def _history(per_building: dict[str, list[tuple[int, str]]], where: dict[str, tuple]):
    rows = []
    for bid, seq in per_building.items():
        x, y = where[bid]
        for year, code in seq:
            rows.append({"dlbm": code, "survey_year": year, "geometry": square(x - 5, y - 5, 30)})
    return frame(rows)


@pytest.fixture
def case():
    land = frame([{"dlbm": "0103", "tbbh": "1", "survey_year": 2025, "geometry": square(-500, -500, 1000)}])
    where = {"OLD": (-400, 0), "EDGE09": (-300, 0), "EDGE10": (-200, 0), "MID": (-100, 0), "STRAD": (0, 0),
             "NEW": (100, 0), "STILL": (200, 0), "NOHIST": (300, 0)}
    b = frame([{"building_id": k, "built_year": 2022, "geometry": square(x, y, 10)} for k, (x, y) in where.items()])
    hist = _history({
        "OLD": [(2005, "0702"), (2009, "0702"), (2012, "0702"), (2018, "0702"), (2021, "0702")],
        "EDGE09": [(2005, "0103"), (2009, "0702"), (2012, "0702"), (2018, "0702"), (2021, "0702")],
        "EDGE10": [(2005, "0103"), (2009, "0103"), (2010, "0702"), (2018, "0702"), (2021, "0702")],
        "MID": [(2005, "0103"), (2009, "0103"), (2012, "0103"), (2018, "0601"), (2021, "0702")],
        "STRAD": [(2005, "0103"), (2009, "0103"), (2012, "0103"), (2019, "0103"), (2021, "0702")],
        # restored then built again: the last farmland vintage counts
        "NEW": [(2005, "0103"), (2009, "0702"), (2012, "0103"), (2018, "0103"), (2021, "0702")],
        "STILL": [(2005, "0103"), (2009, "0103"), (2012, "0103"), (2018, "0103"), (2021, "0103")],
    }, where)
    return land, b, hist


def test_conversions_dated_by_the_series(case):
    land, b, hist = case
    f = run_rule("FARM-BUILD", district(landuse=land, buildings=b, landuse_history=hist)).set_index("subject_id")
    assert f["status"].to_dict() == {
        "OLD": "historic", "EDGE09": "historic", "EDGE10": "existing", "MID": "existing", "STRAD": "new",
        "NEW": "new", "STILL": "new", "NOHIST": "new"}
    assert f.loc["MID", "dated_by"] == "2012年度变更调查为耕地，2018年度变更调查为建设用地"
    assert f.loc["EDGE10", "dated_by"].startswith("2009年度变更调查为耕地，2010年度变更调查为建设用地")
    assert "跨越时间节点" in f.loc["STRAD", "dated_by"] and "2019年度变更调查为耕地" in f.loc["STRAD", "dated_by"]
    assert f.loc["OLD", "dated_by"].startswith("2005年度变更调查已为建设用地")
    assert f.loc["NEW", "dated_by"].startswith("2018年度变更调查为耕地，2021年度")
    assert f.loc["STILL", "dated_by"] == "2021年度变更调查仍为耕地，房屋建成年份2022"
    assert f.loc["NOHIST", "dated_by"] == "房屋建成年份2022"  # not covered by the series: the fallback


def test_without_history_the_fallback_says_what_dated_it():
    land = frame([{"dlbm": "0103", "tbbh": "1", "survey_year": 2025, "geometry": square(-500, -500, 1000)}])
    b = frame([{"building_id": "B1", "built_year": 2005, "geometry": square(0, 0, 10)},
               {"building_id": "B2", "built_year": 2022, "geometry": square(50, 0, 10)},
               {"building_id": "B3", "built_year": None, "geometry": square(100, 0, 10)}])
    f = run_rule("FARM-BUILD", district(landuse=land, buildings=b)).set_index("subject_id")
    assert f.loc["B1", "status"] == "historic" and f.loc["B1", "dated_by"] == "房屋建成年份2005"
    assert f.loc["B2", "status"] == "new" and f.loc["B2", "dated_by"] == "房屋建成年份2022"
    assert pd.isna(f.loc["B3", "status"]) and pd.isna(f.loc["B3", "dated_by"])


def test_nonagri_fallback_is_the_current_survey_year():
    base = frame([{"dlbm": "0103", "tbbh": "0", "geometry": square(-500, -500, 1000)}])
    land = frame([{"dlbm": "0702", "tbbh": "9", "survey_year": 2023, "geometry": square(0, 0, 50)},
                  {"dlbm": "0103", "tbbh": "1", "survey_year": 2023, "geometry": square(100, 100, 50)}])
    f = run_rule("FARM-NONAGRI", district(landuse=land, landuse_baseline=base))
    assert f["dated_by"].tolist() == ["现状调查年份2023"] and f["status"].tolist() == ["new"]


def test_patch_dated_by_after_date():
    land = frame([{"dlbm": "0103", "tbbh": "1", "geometry": square(-500, -500, 1000)}])
    p = frame([{"patch_id": "W1", "change_type": "硬化", "after_date": pd.Timestamp("2026-07-15"),
                "geometry": square(0, 0, 20)}])
    f = run_rule("FARM-PATCH", district(landuse=land, monitoring_patches=p))
    assert f.loc[0, "status"] == "new" and f.loc[0, "dated_by"] == "卫片后时相2026-07-15"


def test_a_patch_that_is_no_conversion_is_dated_by_its_images_not_the_series():
    # current and baseline land: construction; the series shows farmland until 2009. A 其他 patch (construction to
    # construction) is dated by its after date; an illegal one on farmland would be dated by the series.
    built = frame([{"dlbm": "0702", "tbbh": "1", "geometry": square(-500, -500, 1000)}])
    hist = frame([{"dlbm": "0103", "survey_year": 2009, "geometry": square(-10, -10, 40)},
                  {"dlbm": "0702", "survey_year": 2018, "geometry": square(-10, -10, 40)}])
    p = frame([{"patch_id": "Q1", "change_type": "硬化", "after_date": pd.Timestamp("2026-07-15"),
                "geometry": square(0, 0, 20)}])
    f = run_rule("FARM-PATCH", district(landuse=built, monitoring_patches=p, landuse_history=hist))
    assert f.loc[0, "judgement"] == "其他"
    assert f.loc[0, "status"] == "new" and f.loc[0, "dated_by"] == "卫片后时相2026-07-15"
