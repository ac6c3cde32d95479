"""Column type coercion: text codes, dates in the formats bureaus use, booleans, numbers."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["as_text", "as_code", "as_date", "read_dates", "DateReading", "FAR_DATE", "as_bool", "as_int",
           "as_float", "read_numbers", "NumberReading", "UNITS"]

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Excel serial day numbers read as dates: 1950-01-01 .. 2100-12-31 (a bare year such as 2021 is no date).
_EXCEL_FIRST, _EXCEL_LAST = 18264, 73415
#: The latest day a ``datetime64[ns]`` holds: "no expiry" (``9999-12-31``) and other far dates are read as it.
FAR_DATE = pd.Timestamp("2262-04-11")
#: The first whole day a ``datetime64[ns]`` holds.
_FIRST_DATE = pd.Timestamp("1677-09-22")
_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无", "×", ""}


#: Every character Python's ``str.strip()`` removes (``str.isspace``), as an RE2 class for Arrow's regex kernel.
_SPACE_CLASS = "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace())
_EDGE_SPACE = f"^[{_SPACE_CLASS}]|[{_SPACE_CLASS}]$"


def _arrow_text(s: pd.Series) -> pd.Series | None:
    """:func:`as_text` of an Arrow-backed text column without a Python call per value; None for other columns.

    The same values as ``str.strip()`` on each: a column with few distinct values strips each distinct one
    once; otherwise only the values that start or end with a character ``str.isspace`` calls space (found
    by Arrow's regex kernel over exactly that set of characters) or are empty go through Python.

    Examples
    --------
    >>> _arrow_text(pd.Series(["A1 ", "\u3000张三", "", None, "B"], dtype="str")).tolist()
    ['A1', '张三', None, None, 'B']
    >>> _arrow_text(pd.Series(["x"], dtype=object)) is None
    True
    """
    array = s.array
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pandas' Arrow strings need pyarrow
        return None
    values = array._pa_array  # noqa: SLF001 - the Arrow data pandas holds (no copy)
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return None
    # few distinct values (judged on a sample: hashing a column of unique IDs costs ten times the regex)
    sample = values.take(np.linspace(0, len(values) - 1, min(len(values), 2000)).astype(np.int64)) if len(values) else values
    few = pc.count_distinct(sample, mode="all").as_py() * 4 <= len(sample)
    coded = pc.dictionary_encode(values) if few else None
    if coded is not None and len(coded.dictionary) * 4 <= len(values):  # strip each distinct value once
        distinct = np.array([v.strip() or None for v in coded.dictionary.to_pylist()] + [None], dtype=object)
        out = distinct[pc.fill_null(coded.indices, len(coded.dictionary)).to_numpy()]
    else:
        out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        edge = pc.or_(pc.match_substring_regex(values, _EDGE_SPACE), pc.equal(values, ""))
        rows = np.flatnonzero(pc.fill_null(edge, False).to_numpy(zero_copy_only=False))
        out[rows] = np.array([v.strip() or None for v in out[rows]] + [None], dtype=object)[:-1]
    return pd.Series(out, index=s.index, dtype=object)


def as_text(s: pd.Series) -> pd.Series:
    """Text with missing values as None; integral floats lose their ``.0`` (``1101.0`` → ``"1101"``).

    Integer columns (``int64``, ``uint64``, nullable ``Int64``) are written digit for digit, never through
    float64, so that an 18-digit ID number stored as a 64-bit integer stays exact.

    Examples
    --------
    >>> as_text(pd.Series([12.0, "A1 ", None])).tolist()
    ['12', 'A1', None]
    >>> as_text(pd.Series(["  ", " 张三", None])).tolist(), as_text(pd.Series([1101.0, 2.5, None])).tolist()
    ([None, '张三', None], ['1101', '2.5', None])
    >>> as_text(pd.Series([110105194912310021, None], dtype="Int64")).tolist()
    ['110105194912310021', None]
    """
    fast = _arrow_text(s)
    if fast is not None:
        return fast
    kind = pd.api.types.infer_dtype(s, skipna=True)
    missing = pd.isna(s).to_numpy()
    if kind in ("string", "empty"):  # the usual case, done on the whole column
        text = s.astype(object).where(~missing).str.strip()
        return text.where(text.notna() & (text != ""), None).astype(object)
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        # int64 / uint64 / nullable Int64 (ID numbers exported by Access or Excel): exact, never via float64
        out = np.full(len(s), None, dtype=object)
        exact = s.to_numpy(dtype=object, na_value=None) if pd.api.types.is_extension_array_dtype(s.dtype) \
            else s.to_numpy()
        out[~missing] = np.asarray(exact[~missing]).astype(str)
        return pd.Series(out, index=s.index, dtype=object)
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
    values = t.to_numpy(dtype=object)
    given = t.notna().to_numpy()
    codes, distinct = pd.factorize(values[given])  # as_text gives str or None: a few codes, many rows
    padded = np.array([v.zfill(width).upper() if v.isdigit() else v.upper() for v in distinct], dtype=object)
    out = np.full(len(values), None, dtype=object)
    out[given] = padded[codes] if len(distinct) else padded[:0]
    return pd.Series(out, index=t.index).astype(object)  # the dtype Series.map gave (missing as NaN when text)


class DateReading(NamedTuple):
    """What :func:`read_dates` made of a column.

    Attributes
    ----------
    dates : pandas.Series of datetime64[ns]
    bad : numpy.ndarray of int
        Rows holding something that is no date (they become NaT).
    open_ended : numpy.ndarray of int
        Rows holding a year-9999 date (``9999-12-31``, the usual "no expiry"): read as :data:`FAR_DATE`.
    out_of_range : numpy.ndarray of int
        Rows holding another date pandas cannot hold (before 1677-09-22: NaT; after 2262-04-10: FAR_DATE).
    """

    dates: pd.Series
    bad: np.ndarray
    open_ended: np.ndarray
    out_of_range: np.ndarray


def read_dates(s: pd.Series) -> DateReading:
    """Dates from ISO text, ``2021/7/1``, ``20210701``, ``2021年7月1日``, Excel serial numbers or date objects.

    Excel serial numbers are taken for dates from 1950 to 2100 only, so that a bare year (``2021``) or a
    count is reported as unreadable instead of becoming a date in 1905. Dates beyond what a
    ``datetime64[ns]`` holds never overflow: ``9999-12-31`` (no expiry) and other far-future dates become
    :data:`FAR_DATE` (still after any run date), dates before 1677 become NaT; both are reported by row.

    Examples
    --------
    >>> r = read_dates(pd.Series(["9999-12-31", "0001-01-01", "2999-01-01", "2021-07-01", "x"]))
    >>> r.dates.dt.strftime("%Y-%m-%d").tolist(), r.bad.tolist(), r.open_ended.tolist(), r.out_of_range.tolist()
    (['2262-04-11', nan, '2262-04-11', '2021-07-01', nan], [4], [0], [1, 2])
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _read_datetimes(s)
    values = s.to_numpy(dtype=object)
    out = np.full(len(values), pd.NaT, dtype=object)
    kind = np.zeros(len(values), dtype=np.int8)
    if pd.api.types.infer_dtype(s, skipna=True) == "string":  # text: each distinct date read once
        missing = pd.isna(s).to_numpy()
        codes, distinct = pd.factorize(values[~missing])
        read = [_classify_date(v) for v in distinct]
        if read:
            out[~missing] = np.array([r[0] for r in read] + [None], dtype=object)[:-1][codes]
            kind[~missing] = np.array([r[1] for r in read], dtype=np.int8)[codes]
        rows = np.flatnonzero(missing)
    else:
        rows = np.arange(len(values))
    for i in rows:  # numbers, date objects, mixed columns; the missing values of text: one by one
        out[i], kind[i] = _classify_date(values[i])
    out[pd.isna(out)] = pd.NaT
    dates = pd.Series(pd.to_datetime(pd.Series(out, dtype=object)).to_numpy(), index=s.index).astype("datetime64[ns]")
    return DateReading(dates, np.flatnonzero(kind == _BAD), np.flatnonzero(kind == _OPEN),
                       np.flatnonzero(kind == _OUT))


# What :func:`_classify_date` makes of a value: a date (or missing), not a date, 9999, beyond datetime64[ns].
_OK, _BAD, _OPEN, _OUT = 0, 1, 2, 3


def _classify_date(v) -> tuple:
    """(the date read or None, its kind) of one value, as :func:`read_dates` reports it.

    Examples
    --------
    >>> _classify_date("2021/7/1"), _classify_date("soon"), _classify_date("9999-12-31")[1], _classify_date(None)
    ((Timestamp('2021-07-01 00:00:00'), 0), (None, 1), 2, (None, 0))
    """
    value = _one_date(v)
    if value is None:
        missing = v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) or \
            (isinstance(v, str) and not v.strip())
        return None, _OK if missing else _BAD
    if value.year == 9999:
        return FAR_DATE, _OPEN
    if value > FAR_DATE:
        return FAR_DATE, _OUT
    if value < _FIRST_DATE:
        return None, _OUT
    return value, _OK


def _read_datetimes(s: pd.Series) -> DateReading:
    """:func:`read_dates` of a datetime64 column (any unit, naive or with a time zone), vectorised.

    Each value becomes its day (in its own time zone), as :func:`_one_date` makes it.

    Examples
    --------
    >>> r = _read_datetimes(pd.Series(pd.to_datetime(["2021-07-01 12:30", None]).as_unit("ms")))
    >>> r.dates.dt.strftime("%Y-%m-%d").tolist(), r.bad.tolist()
    (['2021-07-01', nan], [])
    """
    wall = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
    day = wall.dt.normalize()
    given = day.notna().to_numpy()
    year = day.dt.year.to_numpy(dtype=float, na_value=np.nan)
    open_ended = given & (year == 9999)
    far = given & ~open_ended & (day > FAR_DATE).to_numpy(dtype=bool)
    early = given & (day < _FIRST_DATE).to_numpy(dtype=bool)
    kept = day.where(~pd.Series(open_ended | far | early, index=s.index))
    dates = pd.Series(kept.astype("datetime64[ns]").to_numpy(), index=s.index)
    dates[open_ended | far] = FAR_DATE
    dates = dates.astype("datetime64[ns]")
    return DateReading(dates, np.empty(0, dtype=int), np.flatnonzero(open_ended), np.flatnonzero(far | early))


def as_date(s: pd.Series) -> tuple[pd.Series, int]:
    """Dates of a column (see :func:`read_dates`) and how many non-empty values could not be read.

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
    r = read_dates(s)
    return r.dates, len(r.bad)


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
    elif m := re.fullmatch(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月|[-/.]\s*(\d{1,2}))", text):  # 2026年7月: the 1st
        y, mo, d = int(m.group(1)), int(m.group(2) or m.group(3)), 1
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
    if s.dtype == np.bool_:  # a boolean field: the values as they are
        return pd.Series(s.to_numpy().astype(object), index=s.index, dtype=object)
    values = s.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(s, skipna=True) == "string":  # text: each distinct word read once
        missing = pd.isna(s).to_numpy()
        out = np.full(len(values), None, dtype=object)
        codes, distinct = pd.factorize(values[~missing])
        read = np.array([_one_bool(v) for v in distinct] + [None], dtype=object)[:-1]
        out[~missing] = read[codes] if len(distinct) else read
        out[missing] = [_one_bool(v) for v in values[missing]]
        return pd.Series(out, index=s.index, dtype=object)
    return pd.Series([_one_bool(v) for v in values], index=s.index, dtype=object)


def _one_bool(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    text = str(v).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    return True if text in _TRUE else False if text in _FALSE else None


#: Units accepted after a number, per kind of column, and the factor to the column's unit.
UNITS: dict[str | None, dict[str, float]] = {
    "floors": {"": 1.0, "层": 1.0, "f": 1.0, "楼": 1.0},
    "m": {"": 1.0, "m": 1.0, "米": 1.0, "公尺": 1.0, "cm": 0.01, "厘米": 0.01},
    "m2": {"": 1.0, "m2": 1.0, "平方米": 1.0, "平米": 1.0, "平方": 1.0, "亩": 10000.0 / 15.0,
           "公顷": 10000.0, "ha": 10000.0, "hm2": 10000.0},
    "year": {"": 1.0, "年": 1.0},
    None: {"": 1.0},
}
_NUMBER_UNIT = r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(.*?)$"
_CHINESE_UNIT = r"^([零〇一二两三四五六七八九十]+)\s*(.*?)$"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _chinese_numerals() -> dict[str, int]:
    """``一`` .. ``九十九`` (and ``两``, ``〇``) -> their value."""
    out = dict(_DIGITS)
    ones = [k for k in _DIGITS if _DIGITS[k]]
    out["十"] = 10
    for d in ones:
        out["十" + d] = 10 + _DIGITS[d]
        if _DIGITS[d] > 1:
            out[d + "十"] = 10 * _DIGITS[d]
            for e in ones:
                out[d + "十" + e] = 10 * _DIGITS[d] + _DIGITS[e]
    return out


_CHINESE = _chinese_numerals()


class NumberReading(NamedTuple):
    """What :func:`read_numbers` made of a column.

    Attributes
    ----------
    values : pandas.Series of float
    converted : numpy.ndarray of int
        Rows whose text carried a unit or Chinese numerals (``3层``, ``二层``, ``0.3亩``) and was read.
    bad : numpy.ndarray of int
        Rows holding something that is no number in this column's unit (they become NaN).
    """

    values: pd.Series
    converted: np.ndarray
    bad: np.ndarray


def read_numbers(s: pd.Series, unit: str | None = None) -> NumberReading:
    """Numbers, also from text with a unit or Chinese numerals, converted into the column's unit.

    Parameters
    ----------
    s : pandas.Series
    unit : {"floors", "m", "m2", "year", None}
        The column's kind: ``floors`` reads ``3层``, ``3F``, ``二层``; ``m`` reads ``3.2米``, ``9.2m``,
        ``320cm``; ``m2`` reads ``575平方米``, ``575㎡``, ``0.3亩`` (→ 200 m²), ``0.05公顷``; ``year`` reads
        ``2015年``. Full-width digits and thousands separators are read too. inf and NaN count as bad.

    Examples
    --------
    >>> r = read_numbers(pd.Series(["3层", "二层", "3", 4.0, None, "三层半", "十二层"]), "floors")
    >>> r.values.tolist()[:4], r.converted.tolist(), r.bad.tolist()
    ([3.0, 2.0, 3.0, 4.0], [0, 1, 6], [5])
    >>> read_numbers(pd.Series(["575平方米", "0.3 亩", "12 m²", "3.2米"]), "m2").values.round(2).tolist()
    [575.0, 200.0, 12.0, nan]
    >>> read_numbers(pd.Series(["9.2m", "3.2米", "inf"]), "m").values.tolist()
    [9.2, 3.2, nan]
    """
    factors = UNITS.get(unit, UNITS[None])
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        f = s.astype(float)
        bad = np.flatnonzero(f.notna().to_numpy() & ~np.isfinite(f.to_numpy(dtype=float, na_value=np.nan)))
        return NumberReading(f.where(np.isfinite(f)), np.empty(0, dtype=int), bad)
    obj = s.astype(object)
    missing = pd.isna(obj).to_numpy()
    stripped = obj.astype(str).where(~missing).str.strip()
    given = ~missing & (stripped != "").to_numpy()
    values = pd.to_numeric(stripped.where(given), errors="coerce").astype(float)
    rest = given & values.isna().to_numpy()
    converted = np.zeros(len(s), dtype=bool)
    if rest.any():
        text = (stripped[rest].str.normalize("NFKC").str.strip().str.lower()
                .str.replace(r"(?<=\d),(?=\d{3})", "", regex=True))
        parts = text.str.extract(_NUMBER_UNIT)
        number = pd.to_numeric(parts[0], errors="coerce")
        factor = parts[1].str.strip().map(factors)
        if unit == "floors":
            chinese = text.str.extract(_CHINESE_UNIT)
            cn_value = chinese[0].map(_CHINESE)
            cn_factor = chinese[1].str.strip().map(factors)
            use = number.isna() & cn_value.notna() & cn_factor.notna()
            number = number.where(~use, cn_value)
            factor = factor.where(~use, cn_factor)
        read = (number * factor).to_numpy(dtype=float)
        values.iloc[np.flatnonzero(rest)] = read
        converted[np.flatnonzero(rest)] = ~np.isnan(read)
    finite = np.isfinite(values.to_numpy(dtype=float))
    values = values.where(finite)
    bad = np.flatnonzero(given & ~finite)
    return NumberReading(values, np.flatnonzero(converted & finite), bad)


def as_float(s: pd.Series, unit: str | None = None) -> pd.Series:
    """Numbers as float (see :func:`read_numbers`; text that is no number becomes NaN).

    Examples
    --------
    >>> as_float(pd.Series(["3.5", 7, None, "x"])).tolist()[:2]
    [3.5, 7.0]
    """
    return read_numbers(s, unit).values


def as_int(s: pd.Series, unit: str | None = None) -> pd.Series:
    """Whole numbers as a nullable integer column.

    Examples
    --------
    >>> as_int(pd.Series(["2", 1.0, None, "二层"]), "floors").tolist()
    [2, 1, <NA>, 2]
    """
    f = as_float(s, unit)
    return f.where(np.isfinite(f)).round().astype("Int64")
