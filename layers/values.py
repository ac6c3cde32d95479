"""Per-value work on text columns: a function applied once per distinct value, not once per row."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

__all__ = ["per_value"]


def per_value(values, func: Callable[[Any], Any]) -> pd.Series:
    """``Series(values).map(func)``, with ``func`` called once per distinct value.

    A layer of 100,000 features carries a few dozen kinds, codes or township names: the values are
    factorised, ``func`` runs on the distinct ones (and once on each kind of missing value, ``None`` and
    NaN, so it sees what ``map`` would), and the results are spread back to the rows. Columns holding
    anything but text and missing values (numbers: ``1`` and ``1.0`` would be one distinct value) are
    mapped row by row, as ``map`` does.

    Parameters
    ----------
    values : array-like or Series
    func : callable
        Applied to a single value.

    Returns
    -------
    pandas.Series
        Object dtype, the index of ``values`` when it is a Series.

    Examples
    --------
    >>> per_value(["a ", None, "a ", "B"], lambda v: v.strip().lower() if isinstance(v, str) else "?").tolist()
    ['a', '?', 'a', 'b']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    obj = s.astype(object)
    if not pd.api.types.is_string_dtype(obj) and obj.notna().any():
        return obj.map(func).astype(object)
    at, uniq = pd.factorize(obj, use_na_sentinel=True)
    out = np.empty(len(obj), dtype=object)
    done = at >= 0
    out[done] = np.asarray([func(u) for u in uniq] + [None], dtype=object)[at[done]]
    if not done.all():
        raw = obj.to_numpy(dtype=object)[~done]
        none = np.fromiter((v is None for v in raw), dtype=bool, count=len(raw))
        missing = np.empty(len(raw), dtype=object)
        missing[none] = func(None)
        missing[~none] = func(np.nan)
        out[~done] = missing
    return pd.Series(out, index=s.index, dtype=object)
