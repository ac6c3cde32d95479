"""WGS84 <-> GCJ-02 against published conversions, round trips and the out-of-China rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from spatial.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

_GEOD = Geod(ellps="WGS84")

# Published pairs (WGS84 lon, lat) -> (GCJ-02 lon, lat):
#  - wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
#  - googollee/eviltransform, python tests: Beijing, Shanghai and Shenzhen points
PUBLISHED = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
]


def _metres(lon1, lat1, lon2, lat2):
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_wgs84_to_gcj02_matches_published_values(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert (lon, lat) == pytest.approx(gcj, abs=1e-9)


def test_offset_near_pinggu_is_a_few_hundred_metres():
    lon, lat = wgs84_to_gcj02(117.1, 40.14)
    d = _metres(117.1, 40.14, lon, lat)
    assert 300 < d < 800


def test_arrays_convert_elementwise_and_keep_shape():
    lons = np.array([[116.404, 117.1], [121.5272106, 2.35]])
    lats = np.array([[39.915, 40.14], [31.1774276, 48.85]])
    glon, glat = wgs84_to_gcj02(lons, lats)
    assert glon.shape == lons.shape and glat.shape == lats.shape
    assert glon[0, 0] == pytest.approx(116.41024449916938, abs=1e-9)
    assert (glon[1, 1], glat[1, 1]) == (2.35, 48.85)  # Paris: outside China, unchanged


def test_outside_china_no_shift_both_ways():
    for lon, lat in [(2.35, 48.85), (-74.0, 40.7), (139.69, 35.69), (100.0, 60.0)]:
        assert bool(out_of_china(lon, lat))
        assert wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert not bool(out_of_china(117.1, 40.14))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.5))
def test_round_trip_within_half_a_metre(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    back = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, *back) < 0.5
    # and in fact far better than the required 0.5 m
    assert _metres(lon, lat, *back) < 1e-3


def test_round_trip_arrays():
    rng = np.random.default_rng(7)
    lon = rng.uniform(100, 125, 1000)
    lat = rng.uniform(20, 45, 1000)
    blon, blat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    d = _GEOD.inv(lon, lat, blon, blat)[2]
    assert np.max(d) < 1e-3


def test_inverse_of_a_published_gcj_point():
    # the published GCJ-02 point maps back onto its WGS84 source
    (wlon, wlat), (glon, glat) = PUBLISHED[0]
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, wlon, wlat) < 0.01
