"""A simulated field return for the demo and the tests: verdicts typed into a field GeoPackage as QField or
Mergin Maps would, and photos with the EXIF position, direction and time a phone writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

__all__ = ["photo_jpeg", "lonlat_of", "fill_returned"]


def photo_jpeg(path: Path, *, lonlat: tuple[float, float] | None, taken: dt.datetime | None,
               direction: float | None = None) -> Path:
    """A small JPEG whose EXIF carries a GPS position (WGS84), a direction and the time taken.

    Examples
    --------
    >>> import tempfile, datetime as dt
    >>> p = photo_jpeg(Path(tempfile.mkdtemp()) / "a.jpg", lonlat=(117.1, 40.1), taken=dt.datetime(2026, 1, 2))
    >>> p.stat().st_size > 0
    True
    """
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    def dms(v: float):
        d = int(abs(v))
        m = int((abs(v) - d) * 60)
        s = (abs(v) - d - m / 60) * 3600
        return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(round(s * 10000), 10000))

    img = Image.new("RGB", (16, 16), (120, 160, 90))
    exif = Image.Exif()
    if lonlat is not None:
        gps = exif.get_ifd(0x8825)
        lon, lat = lonlat
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
        if direction is not None:
            gps[16], gps[17] = "T", IFDRational(round(direction * 10), 10)
    if taken is not None:
        exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="JPEG", exif=exif)
    return path


def lonlat_of(geom, crs, dx: float = 0.0) -> tuple[float, float]:
    """WGS84 lon/lat of a geometry's centroid shifted ``dx`` metres east (in ``crs``).

    Examples
    --------
    >>> lon, lat = lonlat_of(shapely.Point(508000, 4443000), "EPSG:4548")
    >>> round(lon, 2), round(lat, 2)
    (117.09, 40.13)
    """
    c = geom.centroid
    p = gpd.GeoSeries([shapely.Point(c.x + dx, c.y)], crs=crs).to_crs(4326).iloc[0]
    return p.x, p.y


def fill_returned(gpkg: Path, answers: dict[str, dict]) -> None:
    """Fill the verification columns of a field GeoPackage's rows (by case id), as a field app would.

    Examples
    --------
    >>> # fill_returned(Path("110117104201_东店村.gpkg"), {"FARM-BUILD-…": {"verified": "违法"}})
    """
    f = pyogrio.read_dataframe(gpkg, layer="findings")
    for cid, values in answers.items():
        rows = (f["case_id"] == cid).to_numpy()
        for k, v in values.items():
            f[k] = f[k].astype(object)
            f.loc[rows, k] = v
    pyogrio.write_dataframe(f, gpkg, layer="findings", driver="GPKG")
