"""Routing on every finding: its remedy (处置方式), lead unit (牵头单位), deadline (整改期限) and 田长 grid.

The defaults are the sources' own task tables (spec/RULES.md "Routing and remedy"): the PG-NF 四 table
(Pinggu) for the farmland rules, the township (乡镇街道, PG-4 八(四)) for homestead and setback rules, and
区民政局 for the cemetery rules (MTG-19). A district writes its own in the configuration
(``[routing."FARM-GREEN"] lead_unit = "…"``, see :class:`layers.config.RoutingConfig`). The runner applies
:func:`route` once to each rule's finalised findings, so the result is the same however the run is split.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.district import assign_villages

__all__ = ["Routing", "DEFAULT_ROUTING", "routing_for", "route", "grid_of", "TOWNSHIP", "UNKNOWN_TOWNSHIP"]

#: In a lead unit, replaced by the finding's township.
TOWNSHIP = "{township}"
#: What ``{township}`` becomes when the finding's township is not known.
UNKNOWN_TOWNSHIP = "乡镇街道"


@dataclass(frozen=True)
class Routing:
    """One rule's routing.

    Attributes
    ----------
    remedy : str
        处置方式, one of :data:`layers.config.REMEDIES`.
    lead_unit : str
        牵头单位; ``{township}`` becomes the finding's township.
    days_new, days_existing, days_historic : int
        Rectification period in days from the run date by ``status``; undated findings take ``days_existing``.
    """

    remedy: str
    lead_unit: str
    days_new: int = 30
    days_existing: int = 180
    days_historic: int = 180


_ZHUANBAN = "区农村乱占耕地建房专项整治行动工作专班"
_GUIZI = "区规划自然资源分局"
_MINZHENG = "区民政局"

#: Defaults by rule id (PG-NF 四 task table; PG-4 八(四); MTG-19).
DEFAULT_ROUTING: dict[str, Routing] = {
    # farmland: PG-NF 四, the 牵头单位 column of its task table
    "FARM-BUILD": Routing("拆除", _ZHUANBAN),                                   # 四(七)14
    "FARM-NONAGRI": Routing("复耕", _ZHUANBAN),                                 # 四(七)14
    "FARM-FACILITY": Routing("拆除", "区农业园区和设施农业用地规范管理工作研究协调工作小组"),  # 四(七)15
    "FARM-GREEN": Routing("退林还耕", "区园林绿化局、区规划自然资源分局"),               # 四(三)6
    "FARM-CORRIDOR": Routing("退林还耕", "区园林绿化局、区公路分局、区水务局、区规划自然资源分局"),  # 四(四)8
    "FARM-LAKE": Routing("复耕", "区水务局、区园林绿化局、区规划自然资源分局"),            # 四(五)10
    "FARM-NONGRAIN": Routing("退园还耕", "区农业农村局"),                          # 四(九)18
    "FARM-RESERVE": Routing("退出", "区园林绿化局"),                               # 四(六)12
    "FARM-REDLINE": Routing("核实", _GUIZI),                                    # 四(六)13
    "FARM-UNAPPROVED": Routing("补办手续", _GUIZI),                               # 四(八)16
    "FARM-OVERUSE": Routing("拆除", _GUIZI),                                    # 四(八)16
    "FARM-MISPLACED": Routing("补办手续", _GUIZI),                                # 四(八)16
    "FARM-TEMPEXPIRED": Routing("复耕", _GUIZI),                                # 四(八)17 恢复原种植条件
    "FARM-CRIMINAL": Routing("移交公安机关", _GUIZI),                              # 四(十一)24
    "FARM-RS": Routing("核实", _GUIZI),                                         # 三(四)
    "FARM-PATCH": Routing("核实", _GUIZI),                                      # 三(四)
    "FARM-DIG": Routing("复耕", _GUIZI),                                        # 四(一)2
    "FARM-SPACE": Routing("复耕", "区农业农村局、区规划自然资源分局、各乡镇(街道)"),         # 四(九)19
    # homestead and setback: the township (PG-4 八(四))
    "HOME-MULTI": Routing("退出", TOWNSHIP),
    "HOME-OLD": Routing("拆除", TOWNSHIP),
    "HOME-AREA": Routing("退出", TOWNSHIP),
    "HOME-COVER": Routing("拆除", TOWNSHIP),
    "HOME-FLOORS": Routing("拆除", TOWNSHIP),
    "HOME-HEIGHT": Routing("拆除", TOWNSHIP),
    "HOME-ROOF": Routing("核实", TOWNSHIP),
    "HOME-STAIR": Routing("拆除", TOWNSHIP),
    "HOME-APPROVED": Routing("退出", TOWNSHIP),
    "HOME-PLAN": Routing("腾退", TOWNSHIP),
    "HOME-RELIC": Routing("补办手续", TOWNSHIP),
    "HOME-MERGE": Routing("核实", TOWNSHIP),
    "HOME-PBF": Routing("拆除", TOWNSHIP),
    "SET-OUTSIDE": Routing("拆除", TOWNSHIP),
    "SET-DRIP": Routing("核实", TOWNSHIP),
    "SET-REDLINE": Routing("腾退", TOWNSHIP),
    # siting: 区民政局 (MTG-19)
    "SITE-CEMETERY": Routing("核实", _MINZHENG),
    "SITE-LAND": Routing("退出", _MINZHENG),
    "SITE-LEVEL": Routing("核实", _MINZHENG),
    "SITE-APPROVAL": Routing("补办手续", _MINZHENG),
    "SITE-GREEN": Routing("核实", _MINZHENG),
    "SITE-GRAVE": Routing("腾退", _MINZHENG),
}
_FALLBACK = Routing("核实", TOWNSHIP)


def routing_for(rule_id: str, config=None) -> Routing:
    """The routing of one rule: its default with the configuration's ``[routing."RULE-ID"]`` keys on top.

    Parameters
    ----------
    rule_id : str
    config : layers.config.ProjectConfig, optional

    Examples
    --------
    >>> from layers.config import ProjectConfig
    >>> cfg = ProjectConfig.model_validate({"routing": {"FARM-GREEN": {"remedy": "核实", "days_new": 15}}})
    >>> r = routing_for("FARM-GREEN", cfg)
    >>> r.remedy, r.lead_unit, r.days_new, r.days_existing
    ('核实', '区园林绿化局、区规划自然资源分局', 15, 180)
    """
    base = DEFAULT_ROUTING.get(rule_id, _FALLBACK)
    override = (getattr(config, "routing", None) or {}).get(rule_id)
    if override is None:
        return base
    return replace(base, **override.model_dump(exclude_none=True))


def grid_of(geoms, grids: gpd.GeoDataFrame | None) -> np.ndarray:
    """The ``grid_id`` of the 田长 grid holding the largest part of each geometry (None outside every grid).

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"]},
    ...                      geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4548)
    >>> grid_of([shapely.box(8, 1, 15, 2)], g).tolist()
    ['G2']
    """
    geoms = np.asarray(geoms, dtype=object)
    if grids is None or grids.empty or "grid_id" not in grids.columns:
        return np.full(len(geoms), None, dtype=object)
    ids = grids["grid_id"].astype(object).where(grids["grid_id"].notna(), None)
    keyed = gpd.GeoDataFrame({"village_id": ids.to_numpy(dtype=object)},
                             geometry=grids.geometry.to_numpy(), crs=grids.crs)
    return assign_villages(geoms, keyed)  # the same largest-overlap rule as a finding's village


def route(findings: gpd.GeoDataFrame, rule_id: str, *, as_of: dt.date, config=None,
          grids: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Fill ``remedy``, ``lead_unit``, ``deadline`` (ISO date) and ``grid_id`` of one rule's findings.

    Parameters
    ----------
    findings : GeoDataFrame
        Finalised findings of ``rule_id`` (after dating: the period depends on ``status``).
    rule_id : str
    as_of : datetime.date
        The run date; the deadline is ``as_of`` + the rule's period for the finding's status.
    config : layers.config.ProjectConfig, optional
        Its ``[routing]`` table overrides the defaults.
    grids : GeoDataFrame, optional
        The ``field_grids`` layer; without it ``grid_id`` stays empty.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"status": ["new", "existing"], "township": ["金海湖镇", None]},
    ...                      geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4548)
    >>> out = route(f, "FARM-BUILD", as_of=dt.date(2026, 1, 1))
    >>> out["remedy"].tolist(), out["deadline"].tolist()
    (['拆除', '拆除'], ['2026-01-31', '2026-06-30'])
    >>> route(f, "HOME-AREA", as_of=dt.date(2026, 1, 1))["lead_unit"].tolist()
    ['金海湖镇', '乡镇街道']
    """
    out = findings.copy()
    r = routing_for(rule_id, config)
    n = len(out)
    out["remedy"] = pd.Series([r.remedy] * n, index=out.index, dtype=object)
    if TOWNSHIP in r.lead_unit:
        town = (out["township"] if "township" in out.columns else pd.Series([None] * n, index=out.index))
        town = town.astype(object).where(town.notna() & (town.astype(str).str.strip() != ""), UNKNOWN_TOWNSHIP)
        out["lead_unit"] = _fill_township(r.lead_unit, town)
    else:
        out["lead_unit"] = pd.Series([r.lead_unit] * n, index=out.index, dtype=object)
    status = out["status"] if "status" in out.columns else pd.Series([None] * n, index=out.index, dtype=object)
    days = np.select([status.eq("new").to_numpy(), status.eq("historic").to_numpy()],
                     [r.days_new, r.days_historic], default=r.days_existing).astype("int64")
    when = pd.Timestamp(as_of) + pd.to_timedelta(days, unit="D")
    out["deadline"] = pd.Series(pd.DatetimeIndex(when).strftime("%Y-%m-%d"), index=out.index, dtype=object)
    out["grid_id"] = pd.Series(grid_of(out.geometry.to_numpy(), grids), index=out.index, dtype=object)
    return out


def _fill_township(template: str, town: pd.Series) -> pd.Series:
    """``template`` with every ``{township}`` replaced by each row's township (one pass per placeholder)."""
    parts = template.split(TOWNSHIP)
    text = town.astype(str)
    out = pd.Series(parts[0], index=town.index, dtype=object)
    for part in parts[1:]:
        out = out + text + part
    return out.astype(object)
