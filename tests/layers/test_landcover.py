"""Change patches from two land-cover rasters, read window by window."""

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from layers.config import LandcoverClasses
from layers.landcover import change_patches, patch_ids
from spatial.errors import RasterError

X0, Y0 = 508000.0, 4443000.0   # north-west corner of the test rasters (EPSG:4548)
CLASSES = LandcoverClasses()    # cropland 1, forest 2, water 4, built-up 5


def write(path, data, res=2.0, crs="EPSG:4548", nodata=0):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype="uint8", crs=crs, transform=from_origin(X0, Y0, res, res), nodata=nodata) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture
def pair(tmp_path):
    before = np.ones((100, 120), dtype=np.uint8)
    before[:, 100:] = 3                          # grassland before in the east: never a change
    after = before.copy()
    after[10:40, 10:50] = 5                      # one built-up patch across several 16-pixel windows
    after[60:70, 60:64] = 2                      # forest
    after[80:82, 20:22] = 4                      # water, 2 x 2 pixels
    after[50:60, 105:115] = 5                    # built on former grassland: not cropland before
    return write(tmp_path / "b.tif", before), write(tmp_path / "a.tif", after)


def test_patches_joined_across_windows_with_their_kind_and_area(pair):
    whole = change_patches(*pair, CLASSES, tile=4096)
    tiled = change_patches(*pair, CLASSES, tile=16)
    for f in (whole, tiled):
        assert sorted(zip(f["change"], f.geometry.area.round(6))) == [
            ("built_up", 4800.0), ("forest", 160.0), ("water", 16.0)]
    built = tiled[tiled["change"] == "built_up"].geometry.iloc[0]
    assert built.geom_type == "Polygon"
    assert built.symmetric_difference(shapely.box(X0 + 20, Y0 - 80, X0 + 100, Y0 - 20)).area < 1e-6


def test_class_codes_come_from_the_configuration(pair):
    only_forest = LandcoverClasses(built_up=[], water=[])
    assert change_patches(*pair, only_forest)["change"].tolist() == ["forest"]


def test_bounds_limit_the_windows_read(pair):
    f = change_patches(*pair, CLASSES, crs="EPSG:4548", bounds=(X0, Y0 - 200, X0 + 60, Y0 - 100))
    # only the water patch (x 40..44, y -164..-160) lies in the extent
    assert f["change"].tolist() == ["water"]


def test_a_before_raster_on_another_grid_is_resampled(tmp_path, pair):
    before = np.ones((200, 240), dtype=np.uint8)      # 1 m pixels, same extent
    before[:, 200:] = 3
    b1 = write(tmp_path / "b1.tif", before, res=1.0)
    f = change_patches(b1, pair[1], CLASSES)
    assert sorted(f.geometry.area.round(6)) == [16.0, 160.0, 4800.0]


def test_output_in_another_crs(pair):
    f = change_patches(*pair, CLASSES, crs="EPSG:4490")
    assert f.crs.to_epsg() == 4490 and len(f) == 3


def test_errors_name_the_raster(tmp_path, pair):
    with pytest.raises(RasterError, match="landcover_before"):
        change_patches(tmp_path / "missing.tif", pair[1], CLASSES)
    data = np.ones((4, 4), dtype=np.uint8)
    with rasterio.open(tmp_path / "nocrs.tif", "w", driver="GTiff", height=4, width=4, count=1, dtype="uint8") as dst:
        dst.write(data, 1)
    with pytest.raises(RasterError, match="no CRS"):
        change_patches(pair[0], tmp_path / "nocrs.tif", CLASSES)


def test_patch_ids_are_stable_and_unique():
    a = shapely.box(0, 0, 10, 10)
    assert patch_ids([a, a]).tolist() == ["RS-5-5", "RS-5-5-2"]
