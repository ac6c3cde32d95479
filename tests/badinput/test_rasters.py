"""Rasters that cannot be used: no CRS (an error naming the [rasters] key), not over the district (ignored)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import rasterio
from rasterio.transform import from_origin

from landguard.pipeline import check
from tests.badinput.helpers import AS_OF, ok, one_error, quality, run_check, summary_text, write_district
from tests.builders import X0, Y0


def write_raster(path, *, left: float, top: float, crs: str | None = "EPSG:4548", width: int = 50,
                 height: int = 50, res: float = 2.0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                           crs=crs, transform=from_origin(left, top, res, res)) as dst:
            dst.write(np.full((1, height, width), 3.0, dtype="float32"))
    return path


def test_raster_outside_the_district_is_noted_and_ignored(tmp_path):
    data = write_district(tmp_path / "d")
    write_raster(data / "ndsm.tif", left=X0 + 50_000, top=Y0 + 50_000)          # 50 km away
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    assert "ndsm" not in result.district.rasters
    note = "栅格 ndsm（ndsm.tif）与行政村范围没有重叠，已忽略；用到它的检查将跳过"
    assert note in quality(tmp_path / "out")["notes"]
    res = run_check(data, tmp_path / "out2")
    ok(res)
    assert note in summary_text(tmp_path / "out2")


def test_raster_over_part_of_the_district_is_kept_and_noted(tmp_path):
    data = write_district(tmp_path / "d")
    write_raster(data / "ndsm.tif", left=X0 - 500, top=Y0 + 500, width=250, height=500)   # the west half
    result = check(data, out=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF), rules=["FARM-BUILD"])
    assert result.district.rasters["ndsm"].name == "ndsm.tif"
    assert "栅格 ndsm（ndsm.tif）只覆盖行政村范围的约 50%，范围外不作判断" in quality(tmp_path / "out")["notes"]


def test_raster_without_crs_is_one_error_naming_file_and_key(tmp_path):
    data = write_district(tmp_path / "d")
    write_raster(data / "ndsm.tif", left=X0 - 500, top=Y0 + 500, crs=None)
    res = run_check(data, tmp_path / "out")
    one_error(res, "ndsm (ndsm.tif)", "栅格没有坐标系", "[rasters] ndsm")


def test_raster_that_is_no_raster_is_one_error(tmp_path):
    data = write_district(tmp_path / "d")
    (data / "ndsm.tif").write_bytes(b"II*\x00 this is not a whole GeoTIFF")
    res = run_check(data, tmp_path / "out")
    one_error(res, "ndsm (ndsm.tif)", "无法打开栅格", "[rasters] ndsm")
