"""FARM-PATCH 执法卫片图斑预判 and FARM-DIG 取土/压占 on geometry built in code (EPSG:4548)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analyses.testing import run_rule
from tests.builders import district, frame, square
from spatial.units import m2_to_mu


def _patches(*rows):
    return frame([dict(r) for r in rows])


@pytest.fixture
def town():
    # west half farmland (0103), east half construction; PBF in the south-west; red line in the north-west
    landuse = frame([{"dlbm": "0103", "tbbh": "1", "geometry": square(-500, -500, 500, 1000)},
                     {"dlbm": "0702", "tbbh": "2", "geometry": square(0, -500, 500, 1000)}])
    pbf = frame([{"pbf_id": "J1", "geometry": square(-500, -500, 500, 200)}])
    red = frame([{"name": "红线", "geometry": square(-500, 300, 500, 200)}])
    approvals = frame([
        {"approval_id": "A-OK", "kind": "construction", "geometry": square(-400, 0, 40)},
        {"approval_id": "A-TMP", "kind": "temporary", "valid_until": dt.date(2026, 3, 1),
         "geometry": square(-300, 0, 40)},
    ])
    return dict(landuse=landuse, pbf=pbf, eco_redline=red, approvals=approvals)


def _run(town, patches, rule="FARM-PATCH"):
    f = run_rule(rule, district(monitoring_patches=patches, **town))
    return f.set_index("subject_id")


def test_judgements_severity_and_figures(town):
    patches = _patches(
        {"JCBH": "LEGAL", "TBLX": "建/构筑物", "HSX": "2026年7月", "QSX": "20260101", "geometry": square(-398, 2, 30)},
        # temporary approval expired 2026-03-01, image of 2026-07-15: not valid -> illegal on farmland
        {"JCBH": "EXPIRED", "TBLX": "硬化", "HSX": "20260715", "geometry": square(-298, 2, 30)},
        {"JCBH": "PBF", "TBLX": "建/构筑物", "HSX": "2026-07-15", "geometry": square(-200, -400, 20)},
        {"JCBH": "OTHER", "TBLX": "硬化", "HSX": "2026-07-15", "geometry": square(100, 0, 20)},
        {"JCBH": "RED", "TBLX": "建/构筑物", "HSX": "2026-07-15", "geometry": square(-100, 350, 10)},
    )
    from layers.readers import canonical_frame

    canon, _ = canonical_frame("monitoring_patches", patches)
    f = _run(town, canon)
    assert f["judgement"].to_dict() == {"LEGAL": "合法", "EXPIRED": "违法", "PBF": "违法", "OTHER": "其他",
                                        "RED": "违法"}
    assert f.loc["PBF", "severity"] == "high" and f.loc["EXPIRED", "severity"] == "medium"
    assert f.loc["OTHER", "severity"] == "low" and f.loc["LEGAL", "severity"] == "low"
    assert f.loc["LEGAL", "related_ids"] == "A-OK"
    assert pd.isna(f.loc["EXPIRED", "related_ids"])
    assert f.loc["PBF", "area_m2"] == pytest.approx(400.0)
    msg = f.loc["PBF", "message"]
    assert "永久基本农田400.00平方米" in msg and f"{m2_to_mu(400.0):.3f}亩" in msg
    assert "有效批准范围内900.00平方米" in f.loc["LEGAL", "message"]


def test_temporary_valid_at_after_date_counts(town):
    patches = _patches({"patch_id": "T", "change_type": "硬化", "after_date": "2026-02-01",
                        "geometry": square(-298, 2, 30)})
    f = _run(town, patches)
    assert f.loc["T", "judgement"] == "合法" and f.loc["T", "related_ids"] == "A-TMP"


def test_below_95_percent_is_not_legal(town):
    # 40 x 40 approval, patch 40 x 42.5: 94.1 % covered -> the rest (80 m²) on farmland is illegal
    patches = _patches({"patch_id": "P", "change_type": "硬化", "after_date": "2026-07-01",
                        "geometry": square(-400, 0, 40, 42.5)})
    f = _run(town, patches)
    assert f.loc["P", "judgement"] == "违法"
    assert f.loc["P", "measured"] == pytest.approx(100.0)


def test_overlapping_case_ids(town):
    buildings = frame([{"building_id": "B9", "geometry": square(-150, 50, 10)}])
    patches = _patches({"patch_id": "X", "change_type": "建/构筑物", "after_date": "2026-07-01",
                        "geometry": square(-155, 45, 20)})
    d = district(monitoring_patches=patches, buildings=buildings, **town)
    build = run_rule("FARM-BUILD", d)
    f = run_rule("FARM-PATCH", district(monitoring_patches=patches, buildings=buildings, **town)).set_index("subject_id")
    assert build.loc[0, "case_id"] in f.loc["X", "related_ids"].split(";")


def test_patch_outside_every_village_is_listed(town):
    patches = _patches({"patch_id": "IN", "after_date": "2026-07-01", "geometry": square(100, 0, 20)},
                       {"patch_id": "FAR", "after_date": "2026-07-01", "geometry": square(5000, 5000, 20)})
    d = district(monitoring_patches=patches, **town)
    f = run_rule("FARM-PATCH", d)
    assert f["subject_id"].tolist() == ["IN"]
    assert any("FAR" in n and "不在任何行政村" in n for n in d.quality.notes)


def test_patch_straddling_two_villages_is_one_finding(town):
    villages = frame([{"village_id": "110117104201", "name": "甲村", "township": "金海湖镇",
                       "geometry": square(-500, -500, 500, 1000)},
                      {"village_id": "110117104202", "name": "乙村", "township": "金海湖镇",
                       "geometry": square(0, -500, 500, 1000)}])
    patches = _patches({"patch_id": "S", "change_type": "硬化", "after_date": "2026-07-01",
                        "geometry": square(-30, 0, 40, 10)})
    f = run_rule("FARM-PATCH", district(villages=villages, monitoring_patches=patches, **town))
    assert len(f) == 1 and f.loc[0, "village_id"] == "110117104201" and f.loc[0, "judgement"] == "违法"


def test_farm_dig_from_change_type(town):
    patches = _patches(
        {"patch_id": "D1", "change_type": "推堆土", "after_date": "2026-07-01", "geometry": square(-200, -400, 20)},
        {"patch_id": "D2", "change_type": "取土", "after_date": "2026-07-01", "geometry": square(-200, 100, 20)},
        {"patch_id": "B1", "change_type": "建/构筑物", "after_date": "2026-07-01", "geometry": square(-250, 100, 20)},
        {"patch_id": "D3", "change_type": "压占", "after_date": "2026-07-01", "geometry": square(100, 100, 20)},
    )
    f = _run(town, patches, "FARM-DIG")
    assert sorted(f.index) == ["D1", "D2"]          # B1 is not a dig, D3 is not on farmland
    assert f.loc["D1", "severity"] == "high" and f.loc["D2", "severity"] == "medium"
