"""Personal data in what leaves the office: owners' ID numbers and names, masked.

Field exports and maps never carry an ID number in clear: it becomes ``110117********123X`` (the first
6 and last 4 characters kept). Owner names become the family name plus one ``*`` per remaining
character (``张三丰`` -> ``张**``, ``欧阳娜娜`` -> ``欧阳**``) unless the user asks for full names. The
ledger, an office document, keeps both in full and does not use this module.
"""

from __future__ import annotations

import math
import re

import pandas as pd

__all__ = ["mask_id_number", "mask_ids_in_text", "mask_name", "mask_frame", "COMPOUND_SURNAMES"]

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
    text = _text(value)
    if not text:
        return text
    text = text[:-1] + text[-1].upper() if text[-1] in "xｘ" else text
    if len(text) > 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    if len(text) >= 6:
        return "*" * (len(text) - 2) + text[-2:]
    return "*" * len(text)


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


def mask_name(value) -> str | None:
    """Reduce a person's name to the family name plus one ``*`` per other character.

    Two-character family names of :data:`COMPOUND_SURNAMES` are kept whole when the name is longer
    than two characters. Latin-script names keep their first word.

    Examples
    --------
    >>> mask_name("张三丰"), mask_name("李四"), mask_name("欧阳娜娜"), mask_name("诸葛亮")
    ('张**', '李*', '欧阳**', '诸葛*')
    >>> mask_name(None) is None
    True
    """
    if _missing(value):
        return None
    text = _text(value)
    text = text if text.isascii() else "".join(text.split())
    if not text:
        return text
    if text.isascii():
        first, _, rest = text.partition(" ")
        return first + (" " + "*" * len(rest.replace(" ", "")) if rest else "")
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + "*" * (len(text) - keep)


def _mask_text(series: pd.Series) -> pd.Series:
    """Mask every ID-number-looking substring of a text column, vectorised."""
    is_object = series.dtype == object
    if is_object:
        is_str = series.map(lambda v: isinstance(v, str)).astype(bool)
        if not is_str.any():
            return series
        text = series[is_str]
    else:
        text = series
    # Two passes: a match consumes the separator after it, so in "ID;ID" the second is caught next time.
    for _ in range(2):
        text = text.str.replace(_ID18, _MASKED18, regex=True).str.replace(_ID15, _MASKED15, regex=True)
    if not is_object:
        return text
    out = series.copy()
    out[is_str] = text
    return out


def mask_frame(df: pd.DataFrame, *, full_names: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with personal data masked.

    ``owner_id`` is masked with :func:`mask_id_number`, ``owner_name`` with :func:`mask_name` (unless
    ``full_names``), and every 18- or 15-character ID number inside any text column (a message, a
    list of related ids) is masked too. Geometry and other columns are left as they are.

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
    for col in out.columns:
        if col == "owner_id":
            out[col] = pd.Series([mask_id_number(v) for v in out[col]], index=out.index, dtype=object)
        elif col == "owner_name" and not full_names:
            out[col] = pd.Series([mask_name(v) for v in out[col]], index=out.index, dtype=object)
        elif pd.api.types.is_string_dtype(out[col].dtype) and not isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = _mask_text(out[col])
    return out
