"""Verification photos as evidence (举证): EXIF position, direction and time, read with Pillow.

Field apps (QField, Mergin Maps, phone cameras) write the GPS position (WGS84), the direction the camera
faced (``GPSImgDirection``) and the time taken (``DateTimeOriginal``) into each JPEG. :func:`read_photo`
returns them; a file Pillow cannot open as an image is reported as not an image.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PhotoInfo", "read_photo", "GPS_IFD", "EXIF_IFD"]

#: EXIF sub-directories.
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306


@dataclass(frozen=True)
class PhotoInfo:
    """What a photo says about itself."""

    is_image: bool
    lon: float | None = None
    lat: float | None = None
    direction: float | None = None
    taken: dt.datetime | None = None

    @property
    def located(self) -> bool:
        return self.lon is not None and self.lat is not None

    def as_text(self) -> str:
        """``lon,lat,direction,taken`` with empty parts where missing."""
        def f(v, d):
            return "" if v is None else f"{v:.{d}f}"
        return ",".join([f(self.lon, 7), f(self.lat, 7), f(self.direction, 1),
                         self.taken.isoformat(timespec="seconds") if self.taken else ""])


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    out = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    return -out if str(ref).strip().upper() in ("S", "W") else out


def read_photo(path: str | Path) -> PhotoInfo:
    """The EXIF GPS position (lon, lat WGS84), camera direction (degrees from north) and time of a photo.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.jpg"
    >>> _ = p.write_text("not a picture")
    >>> read_photo(p).is_image
    False
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            exif = img.getexif()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return PhotoInfo(is_image=False)
    gps = exif.get_ifd(GPS_IFD) if exif else {}
    lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) is not None else None
    lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) is not None else None
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    direction = None
    if gps.get(17) is not None:
        try:
            direction = float(gps.get(17)) % 360
        except (TypeError, ValueError, ZeroDivisionError):
            direction = None
    raw = (exif.get_ifd(EXIF_IFD).get(_DATETIME_ORIGINAL) if exif else None) or (exif.get(_DATETIME) if exif else None)
    taken = None
    if isinstance(raw, str):
        try:
            taken = dt.datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken = None
    return PhotoInfo(True, lon if lat is not None else None, lat if lon is not None else None, direction, taken)
