"""A broken configuration file: limits that are not finite, bad values inside table limits, encodings, pipes."""

from __future__ import annotations

import os
import threading

import pytest

from tests.badinput.helpers import farm_build, ok, one_error, run_check, write_district

LAYER_TOML = "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse", "buildings"))


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "+inf"])
def test_a_limit_that_is_not_finite_is_a_configuration_error(tmp_path, value):
    data = write_district(tmp_path / "d", toml=LAYER_TOML + f"[limits]\nmin_overlap_m2 = {value}\n")
    res = run_check(data, tmp_path / "out")
    one_error(res, "landguard.toml", "[limits.min_overlap_m2]", "应为有限数值", "(got")
    assert not (tmp_path / "out" / "findings.gpkg").exists()


def test_a_township_limit_that_is_not_finite_is_a_configuration_error(tmp_path):
    data = write_district(tmp_path / "d", toml=LAYER_TOML + '[townships."金海湖镇".limits]\ncoverage_max = nan\n')
    res = run_check(data, tmp_path / "out")
    one_error(res, "landguard.toml", "[townships.金海湖镇.limits.coverage_max]", "应为有限数值")


@pytest.mark.parametrize("value, needle", [('"wide"', "valid number"), ("inf", "应为有限数值"),
                                           ("-2.0", "greater than or equal to 0")])
def test_a_bad_value_inside_a_table_limit_is_a_configuration_error(tmp_path, value, needle):
    data = write_district(tmp_path / "d", toml=LAYER_TOML + f"[limits]\ngreen_belt_m = {{ village = {value} }}\n")
    res = run_check(data, tmp_path / "out", rules=("FARM-BUILD", "FARM-CORRIDOR"))
    one_error(res, "landguard.toml", "[limits.green_belt_m.village]", needle)


@pytest.mark.parametrize("value, needle", [("-1", "greater than or equal to 0"), ("1.5", "valid integer"),
                                           ("true", "valid integer")])
def test_a_bad_town_cemetery_count_is_a_configuration_error(tmp_path, value, needle):
    toml = LAYER_TOML + f'[townships."金海湖镇".limits.cemetery_levels]\ntown_per_township = {value}\n'
    res = run_check(write_district(tmp_path / "d", toml=toml), tmp_path / "out")
    one_error(res, "landguard.toml", "[townships.金海湖镇.limits.cemetery_levels.town_per_township]", needle)
    assert not (tmp_path / "out" / "findings.gpkg").exists()


def test_a_good_extra_grade_in_a_table_limit_is_accepted(tmp_path):
    data = write_district(tmp_path / "d", toml=LAYER_TOML + "[limits]\ngreen_belt_m = { village = 2 }\n")
    res = run_check(data, tmp_path / "out")
    ok(res)


def test_a_configuration_with_a_utf8_byte_order_mark_is_read(tmp_path):
    data = write_district(tmp_path / "d")
    text = LAYER_TOML + '[project]\nname = "平谷区"\n[limits]\nmin_overlap_m2 = 200.0\n'
    (data / "landguard.toml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))    # Notepad's UTF-8
    res = run_check(data, tmp_path / "out")
    ok(res)
    assert farm_build(tmp_path / "out") == {}          # the file was read: B2 (100 m²) is below 200 m²


def test_a_gbk_configuration_is_one_line_saying_it_must_be_utf8(tmp_path):
    data = write_district(tmp_path / "d")
    text = LAYER_TOML + '[project]\nname = "平谷区农村宅基地"\n'
    (data / "landguard.toml").write_bytes(text.encode("gbk"))
    res = run_check(data, tmp_path / "out")
    one_error(res, "landguard.toml", "不是 UTF-8 编码", "GBK", "UTF-8")


def _run_with_timeout(data, out, seconds=60):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", run_check(data, out)), daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():       # unblock the reader (end of file on the pipe) so the test process can end, then fail
        for fifo in [p for p in data.rglob("*") if p.is_fifo()]:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        pytest.fail(f"landguard check still blocked after {seconds} s")
    return box["res"]


def test_a_named_pipe_as_the_configuration_is_refused(tmp_path):
    data = write_district(tmp_path / "d")
    os.mkfifo(data / "landguard.toml")
    res = _run_with_timeout(data, tmp_path / "out")
    one_error(res, "landguard.toml 不是普通文件（是命名管道 FIFO）")


def test_a_named_pipe_as_a_layer_file_named_in_the_configuration_is_refused(tmp_path):
    data = write_district(tmp_path / "d", buildings=None, toml=LAYER_TOML)
    os.mkfifo(data / "buildings.gpkg")
    res = _run_with_timeout(data, tmp_path / "out")
    one_error(res, "buildings (buildings.gpkg)", "buildings.gpkg 不是普通文件（是命名管道 FIFO）", "[layers.buildings] path")


def test_a_named_pipe_in_a_data_folder_is_refused(tmp_path):
    data = write_district(tmp_path / "d", buildings=None)
    os.mkfifo(data / "buildings.gpkg")
    res = _run_with_timeout(data, tmp_path / "out")
    one_error(res, "--data buildings.gpkg", "不是普通文件（是命名管道 FIFO）")


def test_a_named_pipe_beside_a_shapefile_is_refused(tmp_path):
    data = write_district(tmp_path / "d", buildings="buildings.shp")
    (data / "buildings.prj").unlink()
    os.mkfifo(data / "buildings.prj")
    res = _run_with_timeout(data, tmp_path / "out")
    one_error(res, "buildings (", "buildings.prj 不是普通文件（是命名管道 FIFO）")
