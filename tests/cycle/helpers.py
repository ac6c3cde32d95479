"""Builders for the monthly-cycle tests: a small district by run, returned field folders, JPEGs with EXIF."""

from __future__ import annotations

from pathlib import Path


from landguard.sample.field import fill_returned, lonlat_of, photo_jpeg
from tests.badinput.helpers import base_layers, write_district
from tests.builders import frame, square


def district_with(folder: Path, buildings: dict[str, tuple[float, float]]) -> Path:
    """The base district with these buildings (id -> (x, y) offset, 10 m squares) instead of its own."""
    layers = base_layers()
    layers["buildings"] = frame([{"building_id": b, "geometry": square(x, y, 10)} for b, (x, y) in buildings.items()])
    return write_district(folder, layers)


jpeg = photo_jpeg


__all__ = ["district_with", "jpeg", "lonlat_of", "fill_returned"]
