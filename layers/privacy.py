"""Personal data in what leaves the office: owners' ID numbers and names, masked.

Field exports and maps never carry an ID number in clear: it becomes ``110117********123X`` (the first
6 and last 4 characters kept). Owner names become the family name plus one ``*`` per remaining
character (``张三丰`` -> ``张**``, ``欧阳娜娜`` -> ``欧阳**``) unless the user asks for full names. The
ledger, an office document, keeps both in full and does not use this module.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pandas as pd

__all__ = ["mask_id_number", "mask_ids_in_text", "mask_ids_in_data", "mask_name", "mask_frame", "COMPOUND_SURNAMES"]

#: Two-character family names (复姓) kept whole by :func:`mask_name`.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 "
    "西门 南宫 独孤 百里 呼延 万俟 闻人 澹台 公冶 申屠 太史 仲孙 濮阳 淳于 单于 赫连 东郭 "
    "拓跋 司空 第五 左丘 宗政 谷梁 羊舌 梁丘 段干 鲜于 闾丘 亓官 公羊 乐正 巫马 漆雕".split()
)

# Digits, letters and the ID check character, ASCII and full-width (IDs typed on phones and in Excel).
_DIGIT = "[0-9\uff10-\uff19]"
_CHECK = "[0-9\uff10-\uff19Xx\uff38\uff58]"
_DIGITS = "0-9\uff10-\uff19"  # only digits bound an ID: "身份证号110117…" and "ID110117…" are still masked
# Separators clerks put between the groups of an ID (area, birth date, sequence): spaces, dashes,
# dots, slashes, ASCII or full-width, at most three in a row. Only allowed at group boundaries, so
# coordinates, dates and phone lists do not join into an ID.
_SEP = "[ \t\u3000./\uff0d\uff0e\uff0f\u2010-\u2015-]{0,3}"
# No look-arounds: pyarrow-backed strings run these with RE2, which has none. The boundary
# characters are captured and put back instead (see _mask_text for the second pass this needs).
# 18 characters: area(6) [sep] year(4) [sep] month(2) [sep] day(2) [sep] sequence(3) check(1).
_ID18 = (rf"(^|[^{_DIGITS}])({_DIGIT}{{6}}){_SEP}{_DIGIT}{{4}}{_SEP}{_DIGIT}{{2}}{_SEP}{_DIGIT}{{2}}{_SEP}"
         rf"({_DIGIT}{{3}}{_CHECK})($|[^{_DIGITS}])")
# 15 digits (before 1999): area(6) [sep] yy(2) [sep] mm(2) [sep] dd(2) [sep] sequence(3).
_ID15 = (rf"(^|[^{_DIGITS}])({_DIGIT}{{6}}){_SEP}{_DIGIT}{{2}}{_SEP}{_DIGIT}{{2}}{_SEP}{_DIGIT}({_DIGIT})"
         rf"{_SEP}({_DIGIT}{{3}})($|[^{_DIGITS}])")
_MASKED18 = r"\1\2********\3\4"
_MASKED15 = r"\1\2*****\3\4\5"
_RE18 = re.compile(_ID18)
_RE15 = re.compile(_ID15)
# Either pattern anywhere, without groups: one search per value picks the few texts the four
# substitutions below can change (a text neither pattern matches is left as it is by them).
_ANY_ID = "(?:%s)|(?:%s)" % (_ID18.replace("(", "(?:"), _ID15.replace("(", "(?:"))
# Integers an ID number becomes when a spreadsheet reads it as a number: 15 or 18 digits.
_NUMBER_RANGES = ((10**14, 10**15), (10**17, 10**18))


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():  # an ID number read as a number by a spreadsheet
        return str(int(value))
    return str(value).strip()


def mask_id_number(value) -> str | None:
    """Mask an ID number, keeping its first 6 and last 4 characters.

    Parameters
    ----------
    value : str, int or None
        An ID number (18 or 15 characters, or any other certificate number).

    Returns
    -------
    str or None
        Stars in place of the middle characters; ``None`` for a missing value. Values of 10
        characters or fewer, which would show whole, keep only their last 2 characters (none when
        shorter than 6).

    Examples
    --------
    >>> mask_id_number("11011719900101123x")
    '110117********123X'
    >>> mask_id_number("110117900101123")
    '110117*****1123'
    >>> mask_id_number(float("nan")) is None
    True
    """
    if _missing(value):
        return None
    return _mask_id_column(pd.Series([value], dtype=object)).iloc[0]


def mask_ids_in_text(value: str) -> str:
    """Mask every ID number inside a text, whatever surrounds it.

    Catches 18-character numbers (GB 11643, with a right or wrong check digit, ``x`` or ``X``),
    the old 15-digit form, full-width digits, and numbers written with spaces, dashes, dots or
    slashes between the area, birth-date and sequence groups. Each becomes its first 6 characters,
    stars, and its last 4 (``110117********123X``; 15 digits: ``110117*****1123``). Longer or
    shorter digit runs (12-digit village codes, 19-digit parcel codes, timestamps) are left alone.

    Parameters
    ----------
    value : str
        Any text: a message, a note, a cell, a whole JSON document. A non-string is returned as it is.

    Returns
    -------
    str

    Examples
    --------
    >>> mask_ids_in_text("权利人110117 1990 0101 123x;110117-900101-123")
    '权利人110117********123x;110117*****1123'
    >>> mask_ids_in_text("村代码110117001001，宗地110117001001JC00001")
    '村代码110117001001，宗地110117001001JC00001'
    """
    if not isinstance(value, str):
        return value
    for _ in range(2):  # a match consumes the character after it: "ID;ID" needs a second pass
        value = _RE15.sub(_MASKED15, _RE18.sub(_MASKED18, value))
    return value


def mask_ids_in_data(data):
    """Mask ID numbers in JSON-like data: every string (dict keys too) and every 15- or 18-digit number.

    A number that is an ID number (a spreadsheet read it as one) becomes its masked string.

    Examples
    --------
    >>> mask_ids_in_data({"bad": ["110117199001011234", 110117199001011234, 3], "110117900101123": 1.5})
    {'bad': ['110117********1234', '110117********1234', 3], '110117*****1123': 1.5}
    """
    if isinstance(data, str):
        return mask_ids_in_text(data)
    if isinstance(data, dict):
        return {mask_ids_in_data(k): mask_ids_in_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple, set, frozenset)):
        return [mask_ids_in_data(v) for v in data]
    if _id_shaped_number(data):
        return mask_ids_in_text(_text(data))
    return data


def _id_shaped_number(value) -> bool:
    """Whether a scalar is an integer (or integral float) of 15 or 18 digits."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return False
    return any(lo <= value < hi for lo, hi in _NUMBER_RANGES)


def _id_shaped(values: pd.Series) -> pd.Series:
    """Which values of a numeric column are 15- or 18-digit integers, vectorised."""
    num = values.astype("float64") if values.dtype.kind == "f" else values
    hit = pd.Series(False, index=values.index)
    for lo, hi in _NUMBER_RANGES:
        hit |= ((num >= lo) & (num < hi)).fillna(False).astype(bool)
    if values.dtype.kind == "f":
        hit &= (num == num.round()).fillna(False).astype(bool)
    return hit


def _id_hits(text: pd.Series) -> np.ndarray:
    """Which values of a column of strings (or missing) hold an ID number (``_ANY_ID``), vectorised.

    One RE2 pass (pyarrow) over the column (in C, without a Python object per value for Arrow-backed text:
    cheaper than finding the distinct values first, which costs as much as the search). The pattern has no look-arounds and
    nothing RE2 reads otherwise than Python's ``re`` (its ``$`` is followed by ``|[^digits]``, so the ``\n``
    Python's ``$`` may stand before is matched either way); without pyarrow, or for values Arrow cannot hold
    (lone surrogates, other objects), pandas' own search runs instead.

    Examples
    --------
    >>> _id_hits(pd.Series(["甲村", "权利人110117199001011234", None, "甲村"], dtype=object)).tolist()
    [False, True, False, False]
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = text.array
        if isinstance(getattr(arr, "dtype", None), pd.StringDtype) and arr.dtype.storage == "pyarrow":
            arrow = pa.array(arr)
        else:
            arrow = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        return np.asarray(pc.fill_null(pc.match_substring_regex(arrow, _ANY_ID), False), dtype=bool)
    except Exception:  # no pyarrow, or values Arrow cannot hold: the same search through pandas
        pass
    return text.str.contains(_ANY_ID, regex=True).fillna(False).astype(bool).to_numpy()


def _replace_ids(text: pd.Series) -> pd.Series:
    """ID numbers masked in a column whose values are all strings (or missing), vectorised."""
    if len(text) == 0:
        return text
    hit = pd.Series(_id_hits(text), index=text.index)
    if not hit.any():
        return text
    part = text[hit]
    for _ in range(2):  # a match consumes the character after it: "ID;ID" needs a second pass
        part = part.str.replace(_ID18, _MASKED18, regex=True).str.replace(_ID15, _MASKED15, regex=True)
    out = text.copy()
    out[hit] = part
    return out


def _mask_object(series: pd.Series) -> pd.Series:
    """An object column: strings masked, ID-shaped numbers become masked strings, other objects
    (lists, dicts...) masked through their text when it holds an ID number."""
    import numbers

    types = series.map(type)
    distinct = pd.unique(types)
    is_str = types.isin([t for t in distinct if issubclass(t, str)])
    is_num = types.isin([t for t in distinct if issubclass(t, numbers.Real) and not issubclass(t, bool)])
    is_missing = series.isna()
    other = ~(is_str | is_num | is_missing | types.isin([t for t in distinct if issubclass(t, (bytes, bool))]))
    out = series.copy()
    if is_str.any():
        out[is_str] = _replace_ids(series[is_str].astype(object))
    if is_num.any():
        nums = series[is_num]
        shaped = nums.map(_id_shaped_number).astype(bool)  # mixed columns only: number by number
        if shaped.any():
            out[shaped[shaped].index] = _replace_ids(nums[shaped].map(_text).astype(object))
    if other.any():
        kept = series[other]
        text = _replace_ids(kept.map(str).astype(object))
        changed = text != kept.map(str)
        if changed.any():
            out[changed[changed].index] = text[changed]
    return out


def _mask_text(series: pd.Series) -> pd.Series:
    """Mask every ID number in a column of any dtype (text, categorical, mixed objects, numbers), vectorised.

    Text keeps its dtype; a numeric column holding ID-shaped numbers becomes text (the numbers as
    digits, the ID numbers masked); other columns are returned as they are.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        masked = _mask_text(pd.Series(cats, dtype=cats.dtype))
        if masked.equals(pd.Series(cats, dtype=cats.dtype)):
            return series
        if masked.is_unique:
            return series.cat.rename_categories(list(masked))
        return _mask_text(series.astype(object)).astype("category")
    if dtype == object:
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind in ("string", "empty"):
            return _replace_ids(series)
        return _mask_object(series)
    if pd.api.types.is_string_dtype(dtype):
        return _replace_ids(series)
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype) or dtype.kind not in "iuf":
        return series
    shaped = _id_shaped(series)
    if not shaped.any():
        return series
    # the whole column becomes text (a GeoPackage column has one type); integers keep every digit
    whole = series.astype("Int64") if dtype.kind in "iu" or not (series.dropna() % 1).any() else series
    text = whole.astype(object).map(_text, na_action="ignore").astype(object)
    text[series.isna().to_numpy()] = None
    return _replace_ids(text)


def _as_text(series: pd.Series) -> pd.Series:
    """Values as stripped text (numbers as their digits), missing as None, object dtype."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        whole = series.astype("Int64") if series.dtype.kind in "iu" or not (series.dropna() % 1).any() else series
        text = whole.astype(object).map(_text, na_action="ignore")
    elif (pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty") if series.dtype == object
          else pd.api.types.is_string_dtype(series.dtype)):
        text = series.astype(object).str.strip()
    else:
        text = series.astype(object).map(_text, na_action="ignore")
    text = text.astype(object)
    text[series.isna().to_numpy()] = None
    return text


def _stars(n: pd.Series) -> pd.Series:
    return pd.Series("*", index=n.index, dtype=object).str.repeat(n.clip(lower=0).astype(int).tolist())


def _mask_id_column(series: pd.Series) -> pd.Series:
    """:func:`mask_id_number` on a whole column, vectorised."""
    text = _as_text(series)
    present = text.notna()
    if not present.any():
        return text
    t = text[present]
    t = t.str.replace("x$", "X", regex=True).str.replace("\uff58$", "\uff38", regex=True)
    n = t.str.len()
    long_ = t.str[:6] + _stars(n - 10) + t.str[-4:]
    mid = _stars(n - 2) + t.str[-2:]
    short = _stars(n)
    masked = long_.where(n > 10, mid.where(n >= 6, short)).where(n > 0, "")
    out = text.copy()
    out[present] = masked
    return out


def _mask_name_column(series: pd.Series) -> pd.Series:
    """:func:`mask_name` on a whole column, vectorised. ID numbers typed as names are masked first."""
    text = _as_text(series)
    present = text.notna()
    if not present.any():
        return text
    t = _replace_ids(text[present])
    ascii_ = ~t.str.contains("[^\x00-\x7f]", regex=True).astype(bool)
    t = t.where(ascii_, t.str.replace(r"\s+", "", regex=True))
    n = t.str.len()
    # Chinese (and other scripts): the family name (two characters for a 复姓) and one * per character
    keep = pd.Series(1, index=t.index).where(~((n > 2) & t.str[:2].isin(COMPOUND_SURNAMES)), 2)
    chinese = (t.str[:1] + _stars(n - 1)).where(keep == 1, t.str[:2] + _stars(n - 2))
    # Latin script: the first word and one * per other letter; a certificate number masked as one
    first = t.str.partition(" ")[0]
    rest = t.str.partition(" ")[2].str.replace(" ", "")
    latin = first + (" " + _stars(rest.str.len())).where(rest.str.len() > 0, "")
    number = first.str.contains("[0-9]", regex=True).astype(bool) & (first.str.len() >= 6) \
        & ~first.str.contains(r"\*", regex=True).astype(bool)
    latin = latin.where(~number, _mask_id_column(first) + (" " + _stars(rest.str.len())).where(rest.str.len() > 0, ""))
    masked = latin.where(ascii_, chinese).where(n > 0, "")
    # a "name" that is only a masked ID number (full-width digits too) shows as the masked number
    only_id = t.str.fullmatch("[0-9\uff10-\uff19Xx\uff38\uff58*]+").fillna(False).astype(bool) \
        & t.str.contains(r"\*", regex=True).astype(bool)
    masked = masked.where(~only_id, t)
    out = text.copy()
    out[present] = masked
    return out


def mask_name(value) -> str | None:
    """Reduce a person's name to the family name plus one ``*`` per other character.

    Two-character family names of :data:`COMPOUND_SURNAMES` are kept whole when the name is longer
    than two characters. Latin-script names keep their first word. An ID number typed into the name
    is masked (:func:`mask_ids_in_text`), and so is a Latin "name" that is a certificate number.

    Examples
    --------
    >>> mask_name("张三丰"), mask_name("李四"), mask_name("欧阳娜娜"), mask_name("诸葛亮")
    ('张**', '李*', '欧阳**', '诸葛*')
    >>> mask_name("110117 1990 0101 123X")
    '110117********123X'
    >>> mask_name(None) is None
    True
    """
    if _missing(value):
        return None
    return _mask_name_column(pd.Series([value], dtype=object)).iloc[0]


#: Frames from this many rows on are masked a few columns at a time, in threads.
_THREADED_ROWS = 10_000

#: Columns holding a person's name: the owner, and the 田长 grid leader of ``field_grids``.
_NAME_COLUMNS = ("owner_name", "grid_leader")


def mask_frame(df: pd.DataFrame, *, full_names: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with personal data masked.

    ``owner_id`` is masked with :func:`mask_id_number`, ``owner_name`` and ``grid_leader`` (a person's
    name) with :func:`mask_name` (unless ``full_names``: names are kept, ID numbers in them are not), and
    every ID number in any other column is masked by pattern (:func:`mask_ids_in_text`): text, categorical and mixed object
    columns, and numeric columns holding 15- or 18-digit numbers (those become text). Column names
    are masked too. Geometry, dates and other columns are left as they are.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).

    Returns
    -------
    DataFrame or GeoDataFrame
        Same type, index and columns as ``df``.

    Examples
    --------
    >>> df = pd.DataFrame({"owner_name": ["张三丰"], "owner_id": ["110117199001011234"],
    ...                    "message": ["权利人110117199001011234有两处宅基地"]})
    >>> mask_frame(df).iloc[0].tolist()
    ['张**', '110117********1234', '权利人110117********1234有两处宅基地']
    """
    out = df.copy()
    geometry = getattr(df, "_geometry_column_name", None)
    columns = [c for c in out.columns if c != geometry]

    def masked(col) -> pd.Series:
        if col == "owner_id":
            return _mask_id_column(out[col])
        if col in _NAME_COLUMNS and not full_names:
            return _mask_name_column(out[col])
        return _mask_text(out[col])

    if out.columns.is_unique and len(out) >= _THREADED_ROWS and len(columns) > 1:
        # each column on its own: the searches (RE2, without the GIL) of several columns at once
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 4), thread_name_prefix="mask") as pool:
            done = list(pool.map(masked, columns))
        for col, values in zip(columns, done):
            out[col] = values
    else:
        for col in columns:
            out[col] = masked(col)
    renamed = {c: mask_ids_in_text(c) for c in out.columns if isinstance(c, str) and c != geometry}
    renamed = {k: v for k, v in renamed.items() if k != v}
    return out.rename(columns=renamed) if renamed else out
