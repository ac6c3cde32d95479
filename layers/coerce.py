"""Column type coercion: text codes, dates in the formats bureaus use, booleans, numbers."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

__all__ = ["as_text", "as_code", "as_date", "as_bool", "as_int", "as_float"]

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Excel serial day numbers read as dates: 1950-01-01 .. 2100-12-31 (a bare year such as 2021 is no date).
_EXCEL_FIRST, _EXCEL_LAST = 18264, 73415
_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无", "×", ""}


def as_text(s: pd.Series) -> pd.Series:
    """Text with missing values as None; integral floats lose their ``.0`` (``1101.0`` → ``"1101"``).

    Examples
    --------
    >>> as_text(pd.Series([12.0, "A1 ", None])).tolist()
    ['12', 'A1', None]
    >>> as_text(pd.Series(["  ", " 张三", None])).tolist(), as_text(pd.Series([1101.0, 2.5, None])).tolist()
    ([None, '张三', None], ['1101', '2.5', None])
    """
    kind = pd.api.types.infer_dtype(s, skipna=True)
    missing = pd.isna(s).to_numpy()
    if kind in ("string", "empty"):  # the usual case, done on the whole column
        text = s.astype(object).where(~missing).str.strip()
        return text.where(text.notna() & (text != ""), None).astype(object)
    if kind in ("floating", "integer", "mixed-integer-float") and pd.api.types.is_numeric_dtype(s.dtype):
        f = s.to_numpy(dtype=float)
        whole = ~missing & np.isfinite(f) & (f == np.floor(f)) & (np.abs(f) < 2 ** 63)
        out = np.full(len(s), None, dtype=object)
        out[whole] = f[whole].astype(np.int64).astype(str)
        rest = ~missing & ~whole
        out[rest] = f[rest].astype(str)
        return pd.Series(out, index=s.index, dtype=object)

    def one(v):  # mixed columns: value by value
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return pd.Series([one(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)


def as_code(s: pd.Series, width: int = 4) -> pd.Series:
    """Land-use codes as text, zero-padded when they came as numbers (``101.0`` → ``"0101"``).

    Examples
    --------
    >>> as_code(pd.Series([101.0, "0103", "1104a", 702])).tolist()
    ['0101', '0103', '1104A', '0702']
    """
    t = as_text(s)
    return t.map(lambda v: v.zfill(width).upper() if isinstance(v, str) and v.isdigit() else
                 (v.upper() if isinstance(v, str) else None)).astype(object)


def as_date(s: pd.Series) -> tuple[pd.Series, int]:
    """Dates from ISO text, ``2021/7/1``, ``20210701``, ``2021年7月1日``, Excel serial numbers or date objects.

    Excel serial numbers are taken for dates from 1950 to 2100 only, so that a bare year (``2021``) or a
    count is reported as unreadable instead of becoming a date in 1905.

    Returns
    -------
    dates : pandas.Series of datetime64
    bad : int
        How many non-empty values could not be read (they become NaT).

    Examples
    --------
    >>> d, bad = as_date(pd.Series(["2021-07-01", "2021/7/1", "20210701", 44378, "2021年7月1日", "soon", 2021, None]))
    >>> d.dt.strftime("%Y-%m-%d").tolist()[:5], bad
    (['2021-07-01', '2021-07-01', '2021-07-01', '2021-07-01', '2021-07-01'], 2)
    """
    out = []
    bad = 0
    for v in s.to_numpy(dtype=object):
        value = _one_date(v)
        if value is None:
            if not (v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) or
                    (isinstance(v, str) and not v.strip())):
                bad += 1
            out.append(pd.NaT)
        else:
            out.append(value)
    return pd.Series(pd.to_datetime(pd.Series(out, dtype=object)).to_numpy(), index=s.index).astype("datetime64[ns]"), bad


def _one_date(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(v).normalize().tz_localize(None) if pd.Timestamp(v).tz else pd.Timestamp(v).normalize()
    if isinstance(v, dt.date):
        return pd.Timestamp(v)
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).normalize()
    if isinstance(v, (int, float, np.integer, np.floating)):
        if isinstance(v, float) and np.isnan(v):
            return None
        n = float(v)
        if 19000101 <= n <= 21001231 and n.is_integer():
            return _one_date(str(int(n)))
        if _EXCEL_FIRST <= n <= _EXCEL_LAST:  # an Excel serial day number (a fraction is the time of day)
            return _EXCEL_EPOCH + pd.Timedelta(days=int(n))
        return None
    text = str(v).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    if m:
        y, mo, d = map(int, m.groups())
    elif re.fullmatch(r"\d{8}", text):
        y, mo, d = int(text[:4]), int(text[4:6]), int(text[6:])
    elif re.fullmatch(r"\d+(\.\d+)?", text):
        return _one_date(float(text))
    else:
        return None
    try:
        return pd.Timestamp(year=y, month=mo, day=d)
    except ValueError:
        return None


def as_bool(s: pd.Series) -> pd.Series:
    """Booleans from bool, 0/1, ``true``/``false``, ``是``/``否``; unknown values become None.

    Examples
    --------
    >>> as_bool(pd.Series([1, "是", "false", None, "maybe"])).tolist()
    [True, True, False, None, None]
    """
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        return True if text in _TRUE else False if text in _FALSE else None

    return pd.Series([one(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)


def as_float(s: pd.Series) -> pd.Series:
    """Numbers as float (text that is no number becomes NaN).

    Examples
    --------
    >>> as_float(pd.Series(["3.5", 7, None, "x"])).tolist()[:2]
    [3.5, 7.0]
    """
    return pd.to_numeric(s, errors="coerce").astype(float)


def as_int(s: pd.Series) -> pd.Series:
    """Whole numbers as a nullable integer column.

    Examples
    --------
    >>> as_int(pd.Series(["2", 1.0, None])).tolist()
    [2, 1, <NA>]
    """
    f = as_float(s)
    return f.where(np.isfinite(f)).round().astype("Int64")
