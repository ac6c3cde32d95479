import geopandas as gpd
import pytest
import shapely
from pyproj import CRS, Transformer

from spatial.crs import choose_working_crs, gk3_zone_crs, to_crs
from spatial.errors import CRSError


@pytest.mark.parametrize("lon, epsg", [(117.1, 4548), (116.4, 4548), (118.6, 4549), (115.4, 4547), (75.0, 4534),
                                       (135.0, 4554), (121.47, 4549), (121.6, 4550)])
def test_gk3_zone_from_longitude(lon, epsg):
    crs = gk3_zone_crs(lon)
    assert crs.to_epsg() == epsg
    # the zone's central meridian is the nearest multiple of 3
    cm = [p.value for p in crs.coordinate_operation.params if p.name == "Longitude of natural origin"][0]
    assert abs(cm - lon) <= 1.5


def test_outside_china_is_an_error():
    with pytest.raises(CRSError, match="working_crs"):
        gk3_zone_crs(10.0)


def test_choice_from_layers_in_mixed_crs():
    ll = gpd.GeoDataFrame(geometry=[shapely.Point(117.10, 40.14)], crs=4490)
    gk = to_crs(ll, CRS.from_epsg(4527))   # zone-prefixed zone 39, northing-first in EPSG
    assert choose_working_crs([ll, gk]).to_epsg() == 4548
    assert choose_working_crs([ll], "EPSG:4527").to_epsg() == 4527
    with pytest.raises(CRSError, match="not projected"):
        choose_working_crs([ll], "EPSG:4490")


def test_axis_order_is_easting_northing():
    # EPSG:4548 is defined northing first; we always work with x = easting
    f = gpd.GeoDataFrame(geometry=[shapely.Point(117.0, 40.0)], crs=4490)
    p = to_crs(f, CRS.from_epsg(4548)).geometry.iloc[0]
    assert p.x == pytest.approx(500000.0, abs=0.01)
    assert 4_400_000 < p.y < 4_450_000


def test_round_trip_stays_within_a_millimetre():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(508123.456, 4443210.987)], crs=4548)
    back = pts.to_crs(4490).to_crs(4548).geometry.iloc[0]
    assert back.distance(pts.geometry.iloc[0]) < 0.001


def test_zone_prefixed_and_plain_zones_agree():
    # zone 39 with prefix (EPSG:4527) = CM 117E without prefix (EPSG:4548) plus 39,000,000 m false easting
    t1 = Transformer.from_crs(4490, 4527, always_xy=True)
    t2 = Transformer.from_crs(4490, 4548, always_xy=True)
    x1, y1 = t1.transform(117.1, 40.14)
    x2, y2 = t2.transform(117.1, 40.14)
    assert x1 - x2 == pytest.approx(39_000_000, abs=1e-3) and y1 == pytest.approx(y2, abs=1e-3)


def test_layer_without_crs_names_the_layer():
    f = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(CRSError, match="parcels: no CRS"):
        to_crs(f, CRS.from_epsg(4548), name="parcels")
