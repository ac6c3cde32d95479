"""Column coercions done once per distinct value (or vectorised) give what value-by-value reading gave.

The references below are the value-by-value forms these functions had before (``_one_date`` and
``_one_bool`` read one value; the loops around them are written out here).
"""

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from layers.coerce import FAR_DATE, _FIRST_DATE, _one_bool, _one_date, as_bool, as_code, as_text, read_dates


def reference_code(s, width=4):
    t = as_text(s)
    return t.map(lambda v: v.zfill(width).upper() if isinstance(v, str) and v.isdigit() else
                 (v.upper() if isinstance(v, str) else None)).astype(object)


def reference_dates(s):
    values = s.to_numpy(dtype=object)
    out = np.full(len(values), pd.NaT, dtype=object)
    bad, open_ended, out_of_range = [], [], []
    for i, v in enumerate(values):
        value = _one_date(v)
        if value is None:
            if not (v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) or
                    (isinstance(v, str) and not v.strip())):
                bad.append(i)
        elif value.year == 9999:
            open_ended.append(i)
            out[i] = FAR_DATE
        elif value > FAR_DATE:
            out_of_range.append(i)
            out[i] = FAR_DATE
        elif value < _FIRST_DATE:
            out_of_range.append(i)
        else:
            out[i] = value
    dates = pd.Series(pd.to_datetime(pd.Series(out, dtype=object)).to_numpy(), index=s.index).astype("datetime64[ns]")
    return dates, bad, open_ended, out_of_range


def same_reading(s):
    r = read_dates(s)
    dates, bad, open_ended, out_of_range = reference_dates(s)
    pd.testing.assert_series_equal(r.dates, dates)
    assert r.bad.tolist() == bad and r.open_ended.tolist() == open_ended and r.out_of_range.tolist() == out_of_range
    return r


def _date_texts(n=3000):
    rng = random.Random(20210701)
    forms = ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}{m:02d}{d:02d}", "{y}年{m}月{d}日", "{y}.{m}.{d}",
             "{y}年{m}月", " {y}-{m}-{d} 12:00:00", "{y}-{m:02d}-{d:02d}T08:00:00+08:00"]
    out = []
    for _ in range(n):
        y = rng.choice([1, 1500, 1677, 1678, 1950, 2021, 2262, 2263, 2999, 9999])
        m, d = rng.randint(0, 13), rng.randint(0, 32)
        out.append(rng.choice(forms).format(y=y, m=m, d=d))
    return out + ["soon", "", "  ", "44378", "2021", "1.5", "长期", "9999-12-31"]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_text_dates_read_once_per_distinct_value_as_one_by_one(dtype):
    texts = _date_texts()
    s = pd.Series((texts + [None, float("nan")]) * 2, dtype=dtype)
    r = same_reading(s)
    assert len(r.bad) > 100 and len(r.open_ended) > 10 and len(r.out_of_range) > 10


def test_mixed_and_object_dates_as_one_by_one():
    s = pd.Series(["2021/7/1", 44378, 20210701, dt.date(2021, 7, 1), pd.Timestamp("2021-07-01 13:00"), None,
                   float("nan"), pd.NA, pd.NaT, True, "x", np.datetime64("NaT"), dt.datetime(9999, 12, 31)],
                  dtype=object)
    same_reading(s)


@pytest.mark.parametrize("tz", [None, "Asia/Shanghai", "UTC"])
@pytest.mark.parametrize("unit", ["ms", "s", "us", "ns"])
def test_datetime_columns_read_vectorised_as_one_by_one(tz, unit):
    stamps = ["2021-07-01 23:30", None, "1677-09-21", "1677-09-22 00:00:01", "2262-04-11 23:00", "2262-04-12",
              "9999-12-31 10:00", "0001-01-01", "2030-01-01 00:00"]
    if unit == "ns":
        stamps = [v for v in stamps if v is None or "1677-09-22" < v[:10] < "2262-04-11"]
    values = pd.Series([pd.NaT if v is None else pd.Timestamp(v).as_unit("s") for v in stamps],
                       dtype="datetime64[s]").astype(f"datetime64[{unit}]")
    if tz:
        values = values.dt.tz_localize(tz)
    r = same_reading(values)
    assert r.dates.notna().sum() >= 2


def test_land_use_codes_coded_once_per_distinct_value():
    rng = random.Random(101)
    raw = [rng.choice([101.0, 103, "0103", "1104a", " 0702 ", "", None, float("nan"), "١٠١", "²", "ß1", 12.5])
           for _ in range(2000)]
    for s in (pd.Series(raw, dtype=object), pd.Series([101.0, None, 103.0] * 50),
              pd.Series(["0101", None, "1104a"] * 50, dtype="str"), pd.Series([None, None], dtype=object),
              pd.Series([], dtype=object)):
        pd.testing.assert_series_equal(as_code(s), reference_code(s))
    assert as_code(pd.Series([101.0, "1104a"])).tolist() == ["0101", "1104A"]


def test_booleans_read_once_per_distinct_value():
    words = ["是", "否", "1", "0", "true", "FALSE", " yes ", "有", "无", "maybe", "", "1.0", "√", "×"]
    rng = random.Random(5)
    text = [rng.choice(words + [None]) for _ in range(2000)]
    for s in (pd.Series(text, dtype=object), pd.Series(text, dtype="str"),
              pd.Series([True, False, True]), pd.Series([1.0, 0.0, -0.0, float("nan"), 2.0]),
              pd.Series([True, None, "是", 1, 0.0, pd.NA], dtype=object)):
        got = as_bool(s)
        want = pd.Series([_one_bool(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)
        pd.testing.assert_series_equal(got, want)
        assert [type(v) for v in got] == [type(v) for v in want]


def _reference_text(s: pd.Series) -> list:
    """as_text's value-by-value meaning for text: str.strip(), empty and missing as None."""
    return [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else (v.strip() or None)
            for v in s.to_numpy(dtype=object)]


@pytest.mark.parametrize("distinct", [3, 5000])     # few distinct values / nearly all distinct: both fast paths
def test_arrow_text_strips_exactly_as_python(distinct):
    rng = random.Random(7)
    spaces = [chr(c) for c in range(0x3100) if chr(c).isspace()] + ["\u3000", "\ufeff", "\u200b", "x"]
    words = ["张三", "A1", "ZJ-01", "", "110105194912310021", "a b"]
    pool = [rng.choice(spaces) * rng.randint(0, 2) + rng.choice(words) + rng.choice(spaces) * rng.randint(0, 2)
            for _ in range(distinct)]
    values = [rng.choice(pool) if rng.random() > 0.1 else None for _ in range(20000)]
    s = pd.Series(values, dtype="str", index=np.arange(20000) * 3)
    got = as_text(s)
    assert got.tolist() == _reference_text(s)
    assert got.index.equals(s.index) and got.dtype == object
    assert all(v is None or type(v) is str for v in got)   # Python str, as the object path gives
    # \ufeff and \u200b are not spaces to Python: kept; every character str.isspace() calls space is stripped
    assert as_text(pd.Series(["\ufeffA", "\u200bB\u200b", "\x1c\x1dC\x1e\x1f", "\x85D\xa0"], dtype="str")).tolist() \
        == ["\ufeffA", "\u200bB\u200b", "C", "D"]
