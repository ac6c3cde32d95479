"""Villagers of the sample district: Chinese names and resident ID numbers (GB 11643-1999).

The generator owns its own check-digit code (it must not depend on the reader it is meant to test).
Every person drawn from one :class:`People` registry has a distinct name and a distinct 18-digit
number, so no two base parcels share a household key by accident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

__all__ = ["Person", "People", "id_check_digit", "is_valid_id18", "to_fullwidth", "to_15_digits",
           "with_wrong_check_digit"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# 平谷县 (until 2001) and 平谷区 (since): older villagers carry the county's code.
_AREA_CODES = ("110226", "110226", "110117")

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马胡朱郭何高林郑梁谢宋唐许韩冯邓曹彭田董潘袁蒋于杜叶程魏苏吕丁任"
    "卢姚沈姜崔谭陆范汪石金贾夏付方邹熊白孟秦侯江尹薛闫段雷史陶贺毛郝顾邵万钱戴严孔常汤康乔"
)
_GIVEN = (
    "建国华明秀英玉兰志强军平海燕红霞春梅丽伟芳敏静桂凤珍荣福永德成宝林山文金生立新庆东连学树"
    "广长义占振守富贵淑云秋菊凤琴亮刚杰涛磊鹏飞波辉俊宏伟颖丹雪晶佳欣悦宇浩然子涵博文启瑞祥"
)


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of an ID number.

    Parameters
    ----------
    first17 : str
        Seventeen ASCII digits (area code, birth date ``YYYYMMDD``, sequence number).

    Returns
    -------
    str
        One of ``0``–``9`` or ``X``.

    Examples
    --------
    >>> id_check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def is_valid_id18(value: str) -> bool:
    """Whether ``value`` is an 18-character ASCII ID number whose check character is right.

    Examples
    --------
    >>> is_valid_id18("11010519491231002X"), is_valid_id18("110105194912310021")
    (True, False)
    """
    return (isinstance(value, str) and len(value) == 18 and value[:17].isdigit()
            and id_check_digit(value[:17]) == value[17])


def to_fullwidth(text: str) -> str:
    """Write ASCII digits and ``X`` in their full-width forms (as some data-entry software does).

    Examples
    --------
    >>> to_fullwidth("12X")
    '１２Ｘ'
    """
    return "".join(chr(ord(c) + 0xFEE0) if (c.isdigit() or c == "X") else c for c in text)


def to_15_digits(id18: str) -> str:
    """The pre-1999 15-digit form of an 18-digit number of someone born in the 1900s.

    Examples
    --------
    >>> to_15_digits("11010519491231002X")
    '110105491231002'
    """
    if id18[6:8] != "19":
        raise ValueError(f"{id18!r}: only people born 1900–1999 had 15-digit numbers")
    return id18[:6] + id18[8:17]


def with_wrong_check_digit(id18: str) -> str:
    """The same number with a wrong (but plausible) check character, as a typing error makes.

    Examples
    --------
    >>> with_wrong_check_digit("11010519491231002X")
    '110105194912310020'
    """
    right = id18[17]
    wrong = "0" if right == "X" else str((int(right) + 1) % 10)
    return id18[:17] + wrong


@dataclass(frozen=True)
class Person:
    """A villager: name, sex and the canonical 18-digit ID number.

    Examples
    --------
    >>> Person("王建国", "11010519491231002X", "M").birth_year
    1949
    """

    name: str
    id18: str
    sex: str

    @property
    def birth_year(self) -> int:
        return int(self.id18[6:10])


class People:
    """A registry drawing distinct villagers from a random generator.

    Examples
    --------
    >>> people = People(np.random.default_rng(0))
    >>> p = people.new()
    >>> is_valid_id18(p.id18) and len(p.name) in (2, 3)
    True
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._names: set[str] = set()
        self._bodies: set[str] = set()

    def new(self, *, born: tuple[int, int] = (1938, 1999), check: str | None = None,
            name: str | None = None, area: str | None = None) -> Person:
        """Draw a new person.

        ``check`` forces the check character (e.g. ``"X"``), ``name`` reuses a name, ``area`` fixes the
        6-digit area code (else 110226 平谷县 or 110117 平谷区 for people born before 1985).
        """
        rng = self._rng
        if name is None:
            while True:
                length = 2 if rng.random() < 0.35 else 3
                chars = [_SURNAMES[rng.integers(len(_SURNAMES))]]
                chars += [_GIVEN[rng.integers(len(_GIVEN))] for _ in range(length - 1)]
                candidate = "".join(chars)
                if candidate not in self._names and (length == 2 or chars[1] != chars[2]):
                    name = candidate
                    break
        self._names.add(name)
        while True:
            year = int(rng.integers(born[0], born[1] + 1))
            day = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
            code = area or (_AREA_CODES[rng.integers(len(_AREA_CODES))] if year < 1985 else "110117")
            seq = int(rng.integers(1, 1000))
            body = f"{code}{day:%Y%m%d}{seq:03d}"
            digit = id_check_digit(body)
            if body in self._bodies or (check is not None and digit != check):
                continue
            self._bodies.add(body)
            return Person(name, body + digit, "M" if seq % 2 else "F")

    def reserve_name(self, name: str) -> None:
        """Keep ``name`` from being drawn for anybody else."""
        self._names.add(name)
