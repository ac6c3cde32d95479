"""Helpers shared by the rule modules (private to ``analyses``)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.units import m2_to_mu

__all__ = ["partial", "status_from_year", "status_from_dates", "fmt_area", "join_per"]


def partial(crs, geometry, **columns) -> gpd.GeoDataFrame:
    """A partial findings frame (see :func:`analyses.findings.finalise`)."""
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=crs), crs=crs)


def _cutoffs(cutoff, n: int) -> np.ndarray:
    """The cut-off of each row: one date for all, or one per row (``ctx.limit`` with township overrides)."""
    if isinstance(cutoff, (dt.date, pd.Timestamp, str)):
        return np.full(n, pd.Timestamp(cutoff), dtype="datetime64[ns]")
    return pd.to_datetime(pd.Series(np.asarray(cutoff, dtype=object))).to_numpy(dtype="datetime64[ns]")


def status_from_year(years, cutoff) -> np.ndarray:
    """``new`` for years after the cut-off's year, ``existing`` before it, None when unknown or the same year.

    ``cutoff`` is one date or one per row.

    Examples
    --------
    >>> status_from_year(pd.Series([2021, 2019, 2020, None], dtype="Int64"), dt.date(2020, 9, 10)).tolist()
    ['new', 'existing', None, None]
    """
    y = pd.to_numeric(pd.Series(years), errors="coerce").to_numpy(dtype=float)
    cut = pd.DatetimeIndex(_cutoffs(cutoff, len(y))).year.to_numpy(dtype=float)
    return np.where(y > cut, "new", np.where(y < cut, "existing", None)).astype(object)


def status_from_dates(dates, cutoff) -> np.ndarray:
    """``new`` for dates after the cut-off, ``existing`` on or before it, None when unknown.

    ``cutoff`` is one date or one per row.

    Examples
    --------
    >>> status_from_dates(pd.to_datetime(pd.Series(["2021-01-01", "2020-09-10", None])), dt.date(2020, 9, 10)).tolist()
    ['new', 'existing', None]
    """
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    cut = _cutoffs(cutoff, len(d))
    return np.where(d.isna(), None, np.where(d.to_numpy() > cut, "new", "existing")).astype(object)


def fmt_area(area_m2) -> pd.Series:
    """``'12.34平方米（0.019亩）'`` for each area.

    Examples
    --------
    >>> fmt_area([666.67]).tolist()
    ['666.67平方米（1.000亩）']
    """
    a = np.asarray(area_m2, dtype=float)
    mu = m2_to_mu(a)
    return pd.Series([f"{x:.2f}平方米（{m:.3f}亩）" for x, m in zip(a, mu)], dtype=object)


def join_per(index, values, n: int, *, sep: str = ";", unique: bool = True) -> np.ndarray:
    """The values of each group ``0 … n-1`` as text, sorted and joined by ``sep`` (None for an empty group).

    One sort and one ``numpy.add.reduceat`` over the whole column: no Python call per group.

    Parameters
    ----------
    index : array-like of int
        Group of each value, in ``0 … n-1``.
    values : array-like
        Joined as ``str``.
    n : int
        Number of groups.
    unique : bool
        Join each distinct value of a group once (``sep.join(sorted(set(values)))``).

    Examples
    --------
    >>> join_per([1, 1, 0, 1], ["b", "a", "c", "b"], 3).tolist()
    ['c', 'a;b', None]
    """
    out = np.full(n, None, dtype=object)
    index = np.asarray(index, dtype=np.intp)
    if len(index) == 0:
        return out
    frame = pd.DataFrame({"i": index, "v": pd.Series(np.asarray(values, dtype=object)).astype(str).to_numpy(dtype=object)})
    frame = frame.sort_values(["i", "v"], kind="stable")
    if unique:
        frame = frame.drop_duplicates()
    i = frame["i"].to_numpy()
    v = frame["v"].to_numpy(dtype=object)
    first = np.r_[True, i[1:] != i[:-1]]
    last = np.r_[i[1:] != i[:-1], True]
    pieces = v + np.where(last, "", sep).astype(object)
    out[i[first]] = np.add.reduceat(pieces, np.flatnonzero(first))
    return out
