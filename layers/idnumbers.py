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


def normalise_ids(values) -> tuple[pd.Series, pd.Series]:
    """Normalise a column of ID numbers.

    Returns
    -------
    normalised : pandas.Series of str or None
    valid : pandas.Series of bool
        True where the normalised value is an 18-character number with a correct check digit.

    Examples
    --------
    >>> ids, ok = normalise_ids(["110105491231002", "11010519491231002X", "110105194912310021", None])
    >>> ids.tolist()[:2], ok.tolist()
    (['11010519491231002X', '11010519491231002X'], [True, True, False, False])
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    normalised = s.map(normalise_id)
    valid = normalised.map(is_valid_id).astype(bool)
    return normalised, valid
