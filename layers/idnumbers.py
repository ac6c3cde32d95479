"""Chinese resident ID numbers (居民身份证号, GB 11643-1999): normalisation and check digits."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["check_digit", "normalise_id", "normalise_ids", "is_valid_id"]

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = "10X98765432"
# Dashes, dots and slashes clerks put between the groups (area, birth date, sequence), ASCII or full-width.
_SEPARATORS = re.compile("[-./\uff0d\uff0e\uff0f\u2010-\u2015]")
_SHAPE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"ｘ": "X", "Ｘ": "X", "x": "X", "\u3000": " "})


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits.

    Examples
    --------
    >>> check_digit("11010519491231002")
    'X'
    """
    digits = np.frombuffer(first17.encode("ascii"), dtype=np.uint8) - 48
    return _CHECK[int((digits * _WEIGHTS).sum() % 11)]


def is_valid_id(value: str | None) -> bool:
    """Whether ``value`` is an 18-character ID number with a correct check digit.

    Examples
    --------
    >>> is_valid_id("11010519491231002X"), is_valid_id("110105194912310021")
    (True, False)
    """
    if not isinstance(value, str) or len(value) != 18 or not value[:17].isdigit():
        return False
    return check_digit(value[:17]) == value[17]


def normalise_id(value) -> str | None:
    """Normalise one ID number: full-width to ASCII, spaces removed, ``x`` to ``X``, 15 digits to 18.

    Dashes, dots and slashes between the groups (``110105-19491231-002X``) are removed when what is
    left has the shape of an ID number; other values keep them.

    A 15-digit number (issued before 1999) becomes 18 digits by inserting ``19`` before the year and
    adding the check digit. The result is returned whether or not its check digit is right; use
    :func:`is_valid_id` to decide whether it may be matched.

    Examples
    --------
    >>> normalise_id("１１０１０５４９１２３１００２")
    '11010519491231002X'
    >>> normalise_id(" 11010519491231002x ")
    '11010519491231002X'
    >>> normalise_id("110105-491231-002"), normalise_id("P-12")
    ('11010519491231002X', 'P-12')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = "".join(str(value).translate(_FULLWIDTH).split()).upper()
    if text.endswith(".0") and text[:-2].isdigit():  # read as a number by a spreadsheet
        text = text[:-2]
    bare = _SEPARATORS.sub("", text)
    if bare != text and _SHAPE.fullmatch(bare):
        text = bare
    if len(text) == 15 and text.isdigit():
        first17 = text[:6] + "19" + text[6:]
        text = first17 + check_digit(first17)
    return text or None


_CHECK_BYTES = np.frombuffer(_CHECK.encode("ascii"), dtype=np.uint8)


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII strings all ``width`` long -> an (n, width) uint8 matrix of their bytes."""
    return np.frombuffer("".join(values.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _check_bytes(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (as bytes) of an (n, 17) matrix of ASCII digits.

    Examples
    --------
    >>> _check_bytes(_digit_matrix(np.array(["11010519491231002"], dtype=object), 17)).tobytes()
    b'X'
    """
    return _CHECK_BYTES[((first17.astype(np.int64) - 48) @ _WEIGHTS) % 11]


def _shapes(values: np.ndarray) -> np.ndarray:
    """18 for texts already written as a normalised ID (17 ASCII digits and a digit or X), 15 for 15 ASCII
    digits, 0 for anything else (these take every step of the normalisation); one pass over the column.

    Examples
    --------
    >>> _shapes(np.array(["11010519491231002X", "110105491231002", "110105-491231-002"], dtype=object)).tolist()
    [18, 15, 0]
    """
    out = np.zeros(len(values), dtype=np.int8)
    if len(values) == 0:
        return out
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arrow = pa.array(values, type=pa.string())
        long_ = pc.fill_null(pc.match_substring_regex(arrow, "^[0-9]{17}[0-9X]$"), False)
        short = pc.fill_null(pc.match_substring_regex(arrow, "^[0-9]{15}$"), False)
        out[np.asarray(long_, dtype=bool)] = 18
        out[np.asarray(short, dtype=bool)] = 15
    except Exception:  # no pyarrow, or text Arrow cannot hold (lone surrogates): Python's re
        text = pd.Series(values, dtype=object)
        out[text.str.fullmatch("[0-9]{17}[0-9X]").fillna(False).to_numpy(dtype=bool)] = 18
        out[text.str.fullmatch("[0-9]{15}").fillna(False).to_numpy(dtype=bool)] = 15
    return out


def _with_check_chars(first17: pd.Series) -> pd.Series:
    """The 17 characters and their check character: ASCII digits vectorised, other digits (``str.isdigit``
    is true for them too) one by one through :func:`check_digit`, as :func:`normalise_id` does them."""
    values = first17.to_numpy(dtype=object)
    ascii_ = pd.Series(values, dtype=object).str.fullmatch("[0-9]{17}").fillna(False).to_numpy(dtype=bool)
    checks = np.empty(len(values), dtype=object)
    if ascii_.any():
        checks[ascii_] = _check_bytes(_digit_matrix(values[ascii_], 17)).view("S1").astype(str).astype(object)
    if (~ascii_).any():
        checks[~ascii_] = [check_digit(v) for v in values[~ascii_]]
    return first17 + pd.Series(checks, index=first17.index, dtype=object)


def _from_15(values: np.ndarray) -> np.ndarray:
    """15 ASCII digits -> the 18-character number (``19`` before the year, then the check character).

    Examples
    --------
    >>> _from_15(np.array(["110105491231002"], dtype=object)).tolist()
    ['11010519491231002X']
    """
    m = _digit_matrix(values, 15)
    full = np.empty((len(m), 18), dtype=np.uint8)
    full[:, :6], full[:, 6:8], full[:, 8:17] = m[:, :6], np.frombuffer(b"19", dtype=np.uint8), m[:, 6:]
    full[:, 17] = _check_bytes(full[:, :17])
    return np.ascontiguousarray(full).view("S18").ravel().astype(str).astype(object)


def _valid(normalised: pd.Series) -> pd.Series:
    """:func:`is_valid_id` of every value, vectorised (values are str or missing)."""
    valid = np.zeros(len(normalised), dtype=bool)
    text = normalised.astype(object)
    present = np.flatnonzero(text.notna().to_numpy())
    if len(present) == 0:
        return pd.Series(valid, index=normalised.index, dtype=bool)
    values = text.to_numpy(dtype=object)[present]
    clean = _shapes(values) == 18
    if clean.any():
        m = _digit_matrix(values[clean], 18)
        valid[present[clean]] = _check_bytes(m[:, :17]) == m[:, 17]
    rest = ~clean
    if rest.any():  # other digits than ASCII, or no ID shape at all
        t = pd.Series(values[rest], dtype=object)
        shaped = ((t.str.len() == 18) & t.str[:17].str.isdigit()).fillna(False).to_numpy(dtype=bool)
        if shaped.any():
            first = t[shaped]
            valid[present[rest][shaped]] = (_with_check_chars(first.str[:17]).str[17] == first.str[17]).to_numpy(
                dtype=bool)
    return pd.Series(valid, index=normalised.index, dtype=bool)


def normalise_ids(values) -> tuple[pd.Series, pd.Series]:
    """Normalise a column of ID numbers: :func:`normalise_id` of every value, vectorised over the column.

    Returns
    -------
    normalised : pandas.Series of str (missing values NaN; object of None when no value is given)
    valid : pandas.Series of bool
        True where the normalised value is an 18-character number with a correct check digit.

    Examples
    --------
    >>> ids, ok = normalise_ids(["110105491231002", "11010519491231002X", "110105194912310021", None])
    >>> ids.tolist()[:2], ok.tolist()
    (['11010519491231002X', '11010519491231002X'], [True, True, False, False])
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    if len(s) == 0 or pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        normalised = s.map(normalise_id)  # numbers and other objects: value by value
        return normalised, _valid(normalised)
    arr = s.to_numpy(dtype=object)
    missing = pd.isna(s).to_numpy()
    out = np.full(len(arr), None, dtype=object)
    if missing.any():  # None, NaN, pd.NA...: as normalise_id has them
        out[missing] = [normalise_id(v) for v in arr[missing]]
    given = np.flatnonzero(~missing)
    values = arr[given]
    shape = _shapes(values)  # most IDs are written the normal way already: only the others take every step
    out[given[shape == 18]] = values[shape == 18]
    if (shape == 15).any():
        out[given[shape == 15]] = _from_15(values[shape == 15])
    dirty = given[shape == 0]
    if len(dirty):
        # the Python re module on object strings: \s is str.isspace, as str.split() in normalise_id
        text = (pd.Series(arr[dirty], dtype=object).map(str).astype(object).str.translate(_FULLWIDTH)
                .str.replace(r"\s+", "", regex=True).str.upper())
        spread = (text.str.endswith(".0") & text.str[:-2].str.isdigit()).astype(bool)  # read as a number
        text = text.where(~spread, text.str[:-2])
        bare = text.str.replace(_SEPARATORS.pattern, "", regex=True)
        text = text.where(~((bare != text) & bare.str.fullmatch(_SHAPE.pattern).astype(bool)), bare)
        old = ((text.str.len() == 15) & text.str.isdigit()).astype(bool)
        if old.any():
            t = text[old]
            text[old] = _with_check_chars(t.str[:6] + "19" + t.str[6:])
        out[dirty] = text.where(text != "", None).to_numpy(dtype=object)
    normalised = pd.Series(out, index=s.index)  # the dtype Series.map gives (str when any value is one)
    return normalised, _valid(normalised)
