"""The ``road_land`` intermediate: every road's land, as the farmland and siting rules measure from it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spatial.corridor import road_land as _widen

from .context import Context
from .registry import intermediate

__all__ = ["road_land", "road_grades"]


def road_grades(grades) -> np.ndarray:
    """Each grade stripped and in lower case (None when missing).

    Examples
    --------
    >>> road_grades([" County", None, "village"]).tolist()
    ['county', None, 'village']
    """
    s = pd.Series(np.asarray(grades, dtype=object), dtype=object)
    text = s.where(s.map(type) == str)
    return text.str.strip().str.lower().where(text.notna(), None).to_numpy(dtype=object)


@intermediate("road_land")
def road_land(ctx: Context) -> dict:
    """Road land of every road, one row per road in ``roads`` order.

    Returns a dict with ``land`` (polygons as given; lines with a positive ``width_m`` widened by half of
    it on each side with flat ends; lines without a width left as centre lines), ``centre`` (True where no
    width was known: distances are then measured from the centre line), ``ids`` and ``grade`` (lower case).
    Without a ``roads`` layer every array is empty.

    Examples
    --------
    >>> # info = ctx.used("road_land"); info["land"][~info["centre"]]
    """
    roads = ctx.get("roads")
    if roads is None or roads.empty:
        e = np.empty(0, dtype=object)
        return {"land": e, "centre": np.empty(0, dtype=bool), "ids": e, "grade": e}
    geoms = roads.geometry.to_numpy()
    width = (pd.to_numeric(roads["width_m"], errors="coerce").to_numpy(dtype=float)
             if "width_m" in roads.columns else None)
    land = _widen(geoms, width)
    centre = pd.isna(land)
    land = np.where(centre, geoms, land)
    return {"land": land, "centre": centre, "ids": roads["road_id"].to_numpy(dtype=object),
            "grade": road_grades(roads["grade"] if "grade" in roads.columns else [None] * len(roads))}
