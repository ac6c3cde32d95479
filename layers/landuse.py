"""GB/T 21010-2017 land-use classes (with the 三调 working suffixes) as data, and the questions rules ask.

Codes are text (``"0101"``, never the number 101). The 三调 working classification adds suffixes:
``A`` (``1104A`` 养殖坑塘), ``K`` (``0307K`` 可调整其他林地: farmland turned to another use with its plough
layer intact) and ``H`` classes (``05H1`` 商业服务业设施用地, ``08H2A`` 高教用地). A code is matched on its *stem*:
the code without a trailing ``A``/``K``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["LANDUSE_CLASSES", "stem", "first_level", "is_farmland", "is_woodland", "is_garden", "is_grassland",
           "is_water", "is_construction", "is_recoverable", "is_known", "class_name"]

#: Second-level classes of GB/T 21010-2017 plus the 三调 working codes, code -> Chinese name.
LANDUSE_CLASSES: dict[str, str] = {
    "0101": "水田", "0102": "水浇地", "0103": "旱地",
    "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
    "0301": "乔木林地", "0302": "竹林地", "0303": "红树林地", "0304": "森林沼泽", "0305": "灌木林地",
    "0306": "灌丛沼泽", "0307": "其他林地",
    "0401": "天然牧草地", "0402": "沼泽草地", "0403": "人工牧草地", "0404": "其他草地",
    "0501": "零售商业用地", "0502": "批发市场用地", "0503": "餐饮用地", "0504": "旅馆用地",
    "0505": "商务金融用地", "0506": "娱乐用地", "0507": "其他商服用地", "05H1": "商业服务业设施用地",
    "0601": "工业用地", "0602": "采矿用地", "0603": "盐田", "0604": "仓储用地",
    "0701": "城镇住宅用地", "0702": "农村宅基地",
    "0801": "机关团体用地", "0802": "新闻出版用地", "0803": "教育用地", "0804": "科研用地",
    "0805": "医疗卫生用地", "0806": "社会福利用地", "0807": "文化设施用地", "0808": "体育用地",
    "0809": "公用设施用地", "0810": "公园与绿地", "08H1": "机关团体新闻出版用地", "08H2": "科教文卫用地",
    "0901": "军事设施用地", "0902": "使领馆用地", "0903": "监教场所用地", "0904": "宗教用地",
    "0905": "殡葬用地", "0906": "风景名胜设施用地",
    "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地", "1004": "城镇村道路用地",
    "1005": "交通服务场站用地", "1006": "农村道路", "1007": "机场用地", "1008": "港口码头用地",
    "1009": "管道运输用地",
    "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面", "1104": "坑塘水面", "1105": "沿海滩涂",
    "1106": "内陆滩涂", "1107": "沟渠", "1108": "沼泽地", "1109": "水工建筑用地", "1110": "冰川及永久积雪",
    "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地", "1205": "沙地",
    "1206": "裸土地", "1207": "裸岩石砾地",
    "1104A": "养殖坑塘", "0307K": "可调整其他林地", "0201K": "可调整果园", "0204K": "可调整其他园地",
    "0301K": "可调整乔木林地", "0404A": "其他草地(人工)", "1104K": "可调整养殖坑塘", "08H2A": "高教用地",
}

_SUFFIX = re.compile(r"[AK]$")
_FARMLAND = {"0101", "0102", "0103"}
# construction: first levels 05–10 except 1006 农村道路, plus 1201 空闲地 (idle construction land inside
# settlements); 1202 设施农用地 is agricultural, 1203–1207 are natural land.
_CONSTRUCTION_LEVELS = {"05", "06", "07", "08", "09", "10"}


def _normalised(s: pd.Series) -> pd.Series:
    s = s.astype(object)
    return s.where(s.notna()).astype(object).map(
        lambda v: v if isinstance(v, str) else (None if v != v or v is None else str(v))).str.strip().str.upper()


def _by_distinct(codes, func) -> pd.Series:
    """``func`` (a Series → Series of the same length) applied to the distinct codes only, then spread back
    to every row: a district has 170,000 patches but a few dozen codes."""
    s = pd.Series(codes, dtype=object) if not isinstance(codes, pd.Series) else codes
    if not pd.api.types.is_string_dtype(s):   # numbers among the codes: 101 and 101.0 must stay apart
        return func(s)
    at, uniq = pd.factorize(s.astype(object), use_na_sentinel=True)
    u = pd.Series(np.append(np.asarray(uniq, dtype=object), None), dtype=object)   # -1 (missing) -> the None
    r = func(u)
    return pd.Series(np.asarray(r, dtype=object)[at], index=s.index, dtype=r.dtype)


def _codes(codes) -> pd.Series:
    return _by_distinct(codes, _normalised)


def stem(codes) -> pd.Series:
    """The GB/T 21010 stem of each code: the code without the 三调 ``A``/``K`` suffix.

    Examples
    --------
    >>> stem(["1104A", "0307K", "08H2A", "0103"]).tolist()
    ['1104', '0307', '08H2', '0103']
    """
    return _by_distinct(codes, lambda u: _normalised(u).str.replace(_SUFFIX, "", regex=True))


def first_level(codes) -> pd.Series:
    """First-level class (two digits) of each code.

    Examples
    --------
    >>> first_level(["0702", "1104A"]).tolist()
    ['07', '11']
    """
    return _by_distinct(codes, lambda u: _normalised(u).str[:2])


def _isin(codes, values) -> np.ndarray:
    return stem(codes).isin(values).to_numpy()


def is_farmland(codes) -> np.ndarray:
    """耕地: stems ``0101`` 水田, ``0102`` 水浇地, ``0103`` 旱地.

    Examples
    --------
    >>> is_farmland(["0101", "0103", "0201", None]).tolist()
    [True, True, False, False]
    """
    return _isin(codes, _FARMLAND)


def is_woodland(codes) -> np.ndarray:
    """林地: first level ``03`` (including ``0307K``).

    Examples
    --------
    >>> is_woodland(["0301", "0307K", "0201"]).tolist()
    [True, True, False]
    """
    return (first_level(codes) == "03").to_numpy()


def is_garden(codes) -> np.ndarray:
    """园地: first level ``02``.

    Examples
    --------
    >>> is_garden(["0201", "0301"]).tolist()
    [True, False]
    """
    return (first_level(codes) == "02").to_numpy()


def is_grassland(codes) -> np.ndarray:
    """草地: first level ``04``.

    Examples
    --------
    >>> is_grassland(["0403", "0103"]).tolist()
    [True, False]
    """
    return (first_level(codes) == "04").to_numpy()


def is_water(codes) -> np.ndarray:
    """水域及水利设施用地: first level ``11``.

    Examples
    --------
    >>> is_water(["1101", "1104A", "1006"]).tolist()
    [True, True, False]
    """
    return (first_level(codes) == "11").to_numpy()


def is_construction(codes) -> np.ndarray:
    """Construction land: first levels 05–10 except ``1006`` 农村道路, plus ``1201`` 空闲地.

    Examples
    --------
    >>> is_construction(["0702", "1006", "1003", "1202", "1201", "0103"]).tolist()
    [True, False, True, False, True, False]
    """
    s = stem(codes)
    lvl = s.str[:2]
    return ((lvl.isin(_CONSTRUCTION_LEVELS) & (s != "1006")) | (s == "1201")).to_numpy()


def is_recoverable(codes) -> np.ndarray:
    """Codes with the ``K`` suffix: converted farmland whose plough layer is intact (可恢复).

    Examples
    --------
    >>> is_recoverable(["0307K", "0307"]).tolist()
    [True, False]
    """
    return _codes(codes).str.endswith("K").fillna(False).to_numpy(dtype=bool)


def is_known(codes) -> np.ndarray:
    """Whether each code (or its stem) is a GB/T 21010 / 三调 class.

    Examples
    --------
    >>> is_known(["0103", "1104A", "9999", "0307K"]).tolist()
    [True, True, False, True]
    """
    c = _codes(codes)
    return (c.isin(LANDUSE_CLASSES.keys()) | stem(c).isin(LANDUSE_CLASSES.keys())).to_numpy()


def class_name(codes) -> pd.Series:
    """Chinese name of each code (of its stem when the code itself is not listed).

    Examples
    --------
    >>> class_name(["1104A", "0103"]).tolist()
    ['养殖坑塘', '旱地']
    """
    c = _codes(codes)
    return c.map(LANDUSE_CLASSES).fillna(stem(c).map(LANDUSE_CLASSES))
