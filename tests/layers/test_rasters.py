"""nDSM sampling: percentile per footprint in windows, any raster CRS, nodata and edges."""

import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from layers.rasters import percentile_by_label, sample_ndsm
from spatial.errors import RasterError

X0, Y0 = 508000.0, 4443000.0


def write(path, data, transform, crs="EPSG:4548", nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def box(x, y, w, h=None):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


@pytest.fixture
def ramp(tmp_path):
    """1 m pixels over local (0..100, 0..50); each pixel's value is its column index (x of its centre - 0.5)."""
    data = np.tile(np.arange(100, dtype="float32"), (50, 1))
    return write(tmp_path / "ramp.tif", data, from_origin(X0, Y0 + 50, 1, 1))


@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-50, 50, allow_nan=False)), min_size=1, max_size=60),
       st.floats(0, 100))
@settings(max_examples=60, deadline=None)
def test_percentile_by_label_matches_numpy(pairs, q):
    labels = np.array([p[0] for p in pairs])
    values = np.array([p[1] for p in pairs], dtype=np.float32).astype(float)    # nDSM precision
    got = percentile_by_label(labels, values, q, 6)
    for k in range(6):
        if (labels == k).any():
            assert got[k] == pytest.approx(np.percentile(values[labels == k], q), abs=1e-9)
        else:
            assert np.isnan(got[k])


def test_percentile_per_label(ramp):
    # footprint x 10.2..20.2 shrunk by 0.5 -> 10.7..19.7: pixel centres 11.5 .. 19.5 -> values 11 .. 19
    h = sample_ndsm(ramp, [box(10.2, 10.2, 10), box(10.2, 10.2, 10)], "EPSG:4548", percentile=[0, 100])
    assert h.tolist() == [11.0, 19.0]
    # unshrunk: centres 10.5 .. 19.5
    h = sample_ndsm(ramp, [box(10.2, 10.2, 10)], "EPSG:4548", percentile=0, shrink_m=0)
    assert h.tolist() == [10.0]


def test_small_windows_give_the_same_answer(ramp):
    geoms = [box(x + 0.2, 5.2 + (x % 3) * 10, 6) for x in range(0, 90, 7)]   # shrunk: x+0.7 .. x+5.7
    one = sample_ndsm(ramp, geoms, "EPSG:4548")
    tiled = sample_ndsm(ramp, geoms, "EPSG:4548", tile_px=8, groups=[str(i % 2) for i in range(len(geoms))])
    np.testing.assert_allclose(one, tiled)
    # 5 rows x columns x+1 .. x+5 of pixel centres inside each shrunk footprint
    np.testing.assert_allclose(one, [np.percentile(np.repeat(np.arange(x + 1, x + 6), 5), 95) for x in range(0, 90, 7)])


def test_outside_nodata_and_tiny_footprints(tmp_path):
    data = np.full((50, 100), 5.0, dtype="float32")
    data[:, 50:] = -1.0                                       # nodata east half
    path = write(tmp_path / "n.tif", data, from_origin(X0, Y0 + 50, 1, 1), nodata=-1.0)
    h = sample_ndsm(path, [box(10, 10, 10), box(60, 10, 10), box(500, 10, 10), box(20.2, 20.2, 0.6),
                           shapely.Polygon(), None], "EPSG:4548")
    assert h[0] == 5.0
    assert np.isnan(h[1]) and np.isnan(h[2])                  # nodata only; outside the raster
    assert h[3] == 5.0                                        # shrunk away and no pixel centre: touched pixels
    assert np.isnan(h[4]) and np.isnan(h[5])


def test_overlapping_footprints_each_get_their_own_pixels(ramp):
    h = sample_ndsm(ramp, [box(10, 10, 20), box(20, 10, 20)], "EPSG:4548", percentile=0, shrink_m=0)
    assert h.tolist() == [10.0, 20.0]


def test_raster_in_another_crs(tmp_path):
    # the same ramp written in geographic CGCS2000: footprints are reprojected to it
    from pyproj import Transformer
    tr = Transformer.from_crs(4548, 4490, always_xy=True)
    west, north = tr.transform(X0, Y0 + 50)
    east, south = tr.transform(X0 + 100, Y0)
    nx, ny = 400, 200
    dx, dy = (east - west) / nx, (north - south) / ny
    data = np.zeros((ny, nx), dtype="float32")
    data[50:150, 100:300] = 7.0
    path = write(tmp_path / "geo.tif", data, from_origin(west, north, dx, dy), crs="EPSG:4490")
    h = sample_ndsm(path, [box(30, 15, 30, 20), box(80, 5, 10)], "EPSG:4548")
    assert h[0] == 7.0 and h[1] == 0.0


def test_unreadable_or_unreferenced_raster_is_a_one_line_error(tmp_path):
    with pytest.raises(RasterError, match="missing.tif"):
        sample_ndsm(tmp_path / "missing.tif", [box(0, 0, 5)], "EPSG:4548")
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32") as dst:
        dst.write(np.zeros((1, 4, 4), dtype="float32"))
    with pytest.raises(RasterError, match="no CRS"):
        sample_ndsm(path, [box(0, 0, 5)], "EPSG:4548")
