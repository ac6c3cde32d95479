"""FARM-SPACE on geometry built in code (EPSG:4548)."""

import datetime as dt

import pytest
import shapely

from analyses.testing import run_rule
from layers.config import ProjectConfig
from tests.builders import CRS, district, frame, square

CFG = ProjectConfig.model_validate({"project": {"working_crs": CRS}})


def landuse(*patches):
    rows = [{"dlbm": c, "tbbh": t, "geometry": square(x, y, w, h)} for t, c, x, y, w, h in patches]
    rest = shapely.difference(square(-500, -500, 1000), shapely.union_all([r["geometry"] for r in rows]))
    return frame(rows + [{"dlbm": "0702", "tbbh": "REST", "geometry": rest}])


LU = landuse(("T1", "0103", 0, 0, 100, 100), ("T2", "0201", 100, 0, 100, 100), ("T3", "0301", 200, 0, 100, 100),
             ("T4", "1104A", 300, 0, 100, 100), ("T5", "0101", 0, 100, 100, 100), ("T6", "9999", 100, 100, 100, 100))


def space(sid, x, y, w, h, kind="retention", year=None):
    return {"space_id": sid, "kind": kind, "target_year": year, "geometry": square(x, y, w, h)}


def run(spaces, as_of=dt.date(2026, 11, 22), config=CFG):
    d = district(config=config, landuse=LU, farmland_protection=frame([dict(s) for s in spaces]), as_of=as_of)
    return run_rule("FARM-SPACE", d), d


def test_non_farmland_inside_the_retention_space_past_2022():
    f, _ = run([space("KJ1", 0, 0, 350, 200)])
    f = f.set_index("subject_id")
    # T1 and T5 are 耕地; T6 has an unknown code (not judged); REST (0702) lies inside at x 300..350, y 100..200
    assert sorted(f.index) == ["REST", "T2", "T3", "T4"]
    assert f.loc["T2", "area_m2"] == pytest.approx(10000) and f.loc["T4", "area_m2"] == pytest.approx(5000)
    assert (f["severity"] == "medium").all()
    assert "退园还耕" in f.loc["T2", "message"] and "退林还耕" in f.loc["T3", "message"]
    assert "复耕" in f.loc["T4", "message"] and "养殖坑塘" in f.loc["T4", "message"]
    assert "2022年底" in f.loc["T2", "message"] and "已逾期" in f.loc["T2", "message"]
    assert f.loc["T2", "related_ids"] == "KJ1"
    assert f.loc["T4"].geometry.symmetric_difference(square(300, 0, 50, 100)).area < 1e-6


def test_protection_space_before_2035_is_low_and_target_year_overrides():
    f, _ = run([space("BH1", 100, 0, 100, 100, kind="protection"),
                space("BH2", 200, 0, 100, 100, kind="protection", year=2025)])
    f = f.set_index("subject_id")
    assert f.loc["T2", "severity"] == "low" and "2035年底" in f.loc["T2", "message"] and "尚未到期" in f.loc["T2", "message"]
    assert f.loc["T3", "severity"] == "medium" and "2025年底" in f.loc["T3", "message"]


def test_target_is_the_year_end():
    spaces = [space("KJ1", 100, 0, 100, 100)]
    f, _ = run(spaces, as_of=dt.date(2022, 12, 31))
    assert f["severity"].tolist() == ["low"]
    f, _ = run(spaces, as_of=dt.date(2023, 1, 1))
    assert f["severity"].tolist() == ["medium"]


def test_the_earliest_target_applies_and_slivers_are_noise():
    f, _ = run([space("BH1", 100, 0, 100, 100, kind="protection"), space("KJ1", 150, 0, 50, 100),
                space("KJ2", 299.99, 0, 50, 50)])  # KJ2: 0.5 m² of T3, the rest on T4
    f = f.set_index("subject_id")
    assert f.loc["T2", "severity"] == "medium" and f.loc["T2", "related_ids"] == "BH1;KJ1"
    assert "T3" not in f.index


def test_years_are_configuration_and_unknown_kinds_are_noted():
    cfg = ProjectConfig.model_validate({"project": {"working_crs": CRS},
                                        "limits": {"space_target_year": {"retention": 2030}}})
    f, _ = run([space("KJ1", 100, 0, 100, 100)], config=cfg)
    assert f["severity"].tolist() == ["low"] and "2030年底" in f["message"].iloc[0]
    f, d = run([space("X", 100, 0, 100, 100, kind="other")])
    assert f["severity"].tolist() == ["low"] and "目标年份未定" in f["message"].iloc[0]
    assert d.quality.layers["farmland_protection"]["unknown_kind"] == 1


def test_skipped_without_the_layer():
    with pytest.raises(ValueError, match="skipped"):
        run_rule("FARM-SPACE", district(config=CFG, landuse=LU))
