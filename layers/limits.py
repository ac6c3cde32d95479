"""Every rule limit of ``spec/RULES.md`` as a configuration key with the spec's default."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Limits", "LimitSet", "CemeteryLevels", "SpaceTargets"]


class GreenBelt(BaseModel):
    """Allowed green-belt width outside road land, per road grade (FARM-CORRIDOR; MY-6 三(二)4).

    The sources name only 铁路、国道省道（含高速公路） (5 m) and 县乡道路 (3 m): beside ``village`` roads and
    roads of unknown grade no belt is allowed (``default`` = 0 m).

    Examples
    --------
    >>> b = GreenBelt()
    >>> b.width_for("national"), b.width_for("county"), b.width_for("village"), b.width_for(None)
    (5.0, 3.0, 0.0, 0.0)
    >>> GreenBelt(village=2.0).width_for("village")
    2.0
    """

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    #: other grades (``village = 2.0``): validated like the named ones when the configuration is loaded
    __pydantic_extra__: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(init=False)
    default: float = Field(0.0, ge=0, description="village roads and grades not listed: no belt allowed")
    railway: float = Field(5.0, ge=0)
    expressway: float = Field(5.0, ge=0)
    national: float = Field(5.0, ge=0)
    provincial: float = Field(5.0, ge=0)
    county: float = Field(3.0, ge=0)
    township: float = Field(3.0, ge=0)

    def width_for(self, grade: str | None) -> float:
        """Allowed width for a road grade (``default``, 0 m unless configured, for grades not listed)."""
        value = getattr(self, grade, None) if isinstance(grade, str) else None
        return float(value) if value is not None else float(self.default)


def _town_stem(name: str) -> str:
    """A township name without its 镇/乡/街道/地区 suffix (``永定镇`` -> ``永定``, ``大峪街道`` -> ``大峪``)."""
    text = name.strip()
    for suffix in ("地区办事处", "街道办事处", "街道", "地区", "镇", "乡"):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


class CemeteryLevels(BaseModel):
    """Townships where each cemetery ``level`` may be sited (SITE-LEVEL; MTG-19 第九条, Mentougou's table).

    Each level lists its townships; ``"*"`` means every township. Names match with or without their
    镇/乡/街道 suffix (``城子`` matches ``城子街道``). ``town_per_township`` is how many 镇级 cemeteries one
    township may hold (第九条: 潭柘寺镇、斋堂镇"各建一处"). District cemeteries have no count: 第九条 names
    the 门城新城 area (six townships together) and no number.

    Examples
    --------
    >>> t = CemeteryLevels()
    >>> t.allows("district", "永定镇"), t.allows("district", "斋堂镇"), t.allows("burial_point", "清水镇")
    (True, False, True)
    >>> t.allows("town", "潭柘寺"), t.allows("district", "东辛房街道")
    (True, True)
    >>> t.town_per_township, CemeteryLevels(town_per_township=2).town_per_township
    (1, 2)
    """

    model_config = ConfigDict(extra="forbid")
    district: list[str] = Field(default_factory=lambda: ["永定镇", "龙泉镇", "军庄镇", "东辛房", "大峪", "城子"],
                                description="区级公墓: 门城新城 only")
    town: list[str] = Field(default_factory=lambda: ["潭柘寺镇", "斋堂镇"], description="镇级公墓")
    burial_point: list[str] = Field(default_factory=lambda: ["*"], description="集中埋葬点: every township")
    town_per_township: int = Field(1, ge=0, strict=True, description="镇级公墓: how many per township (MTG-19 第九条 各建一处)")

    def allows(self, level: str, township: str | None) -> bool:
        """Whether a cemetery of ``level`` may be in ``township`` (False for an unknown township)."""
        towns = getattr(self, level)
        if "*" in towns:
            return True
        if not isinstance(township, str) or not township.strip():
            return False
        return _town_stem(township) in {_town_stem(t) for t in towns}


class SpaceTargets(BaseModel):
    """Target year per farmland protection space ``kind`` (FARM-SPACE; PG-NF 附件2 二(二)2)."""

    model_config = ConfigDict(extra="forbid")
    retention: int = Field(2022, ge=1900, le=9999, description="耕地保有量空间: 全部为现状耕地 by year end")
    protection: int = Field(2035, ge=1900, le=9999, description="耕地保护空间")


class Limits(BaseModel):
    """Rule limits; every key can be set in ``[limits]`` and per township in ``[townships."镇名".limits]``.

    Examples
    --------
    >>> Limits().homestead_area_m2
    173.33
    >>> Limits(coverage_max=0.7).coverage_max
    0.7
    """

    # every number must be finite: TOML allows inf and nan, which would silence the rules they bound
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    # every rule
    min_overlap_m2: float = Field(1.0, ge=0, description="slivers below this are digitising noise (m²)")
    # farmland
    farmland_cutoff: dt.date = Field(dt.date(2020, 9, 10), description="status new/existing cut-off (PG-NF 附件3)")
    green_belt_m: GreenBelt = Field(default_factory=GreenBelt, description="allowed belt width per road grade (m)",
                                    json_schema_extra={"reach": True})
    redline_block_mu: float = Field(50.0, ge=0, description="contiguous farmland block under a red line (亩)")
    criminal_pbf_mu: float = Field(5.0, ge=0, description="FARM-CRIMINAL threshold on PBF (亩)")
    criminal_other_mu: float = Field(10.0, ge=0, description="FARM-CRIMINAL threshold on other farmland (亩)")
    criminal_woodland_mu: float = Field(10.0, ge=0, description="FARM-CRIMINAL threshold on woodland 03xx (亩; "
                                                                "default from 法释〔2005〕15号)")
    criminal_grassland_mu: float = Field(20.0, ge=0, description="FARM-CRIMINAL threshold on grassland 04xx (亩; "
                                                                  "default from 法释〔2012〕15号)")
    overuse_ratio: float = Field(0.05, ge=0, description="FARM-OVERUSE tolerated excess share")
    overuse_min_m2: float = Field(10.0, ge=0, description="FARM-OVERUSE tolerated excess area (m²)")
    misplaced_share: float = Field(0.5, ge=0, le=1, description="FARM-MISPLACED outside share")
    rs_min_area_m2: float = Field(50.0, ge=0, description="smallest satellite change patch (m²)")
    farmland_history_start: dt.date = Field(dt.date(2010, 1, 1),
                                            description="before this date a conversion is historic 历史遗留 (PG-NF 附件)")
    patch_approved_share: float = Field(0.95, ge=0, le=1,
                                        description="FARM-PATCH: share under valid approvals for 合法")
    belt_gap_m: float = Field(1.0, ge=0, description="woodland this close to road land or water is a belt (m)",
                              json_schema_extra={"reach": True})
    # homestead
    homestead_area_m2: float = Field(173.33, gt=0, description="homestead standard, 0.26 亩 (m²)")
    homestead_area_date: dt.date = Field(dt.date(2021, 7, 1), description="approvals from this date: HOME-AREA high")
    coverage_max: float = Field(0.75, gt=0, le=1, description="building footprint share of the parcel")
    max_floors: int = Field(2, ge=1, description="floors allowed")
    basement_allowed: bool = Field(False, description="whether basements are allowed")
    height_1f_flat_m: float = Field(3.5, gt=0)
    height_1f_eave_m: float = Field(3.5, gt=0)
    height_1f_ridge_m: float = Field(6.5, gt=0)
    height_2f_flat_m: float = Field(7.2, gt=0)
    height_2f_eave_m: float = Field(7.2, gt=0)
    height_2f_ridge_m: float = Field(8.6, gt=0)
    ndsm_percentile: float = Field(95.0, gt=0, le=100, description="percentile of nDSM pixels in a footprint")
    ndsm_shrink_m: float = Field(0.5, ge=0, description="footprint shrink before sampling the nDSM (m)")
    relocation_months: int = Field(3, ge=0, description="months to demolish the old house after relocation")
    plinth_default_m: float = Field(0.0, ge=0, description="HOME-HEIGHT: plinth height where plinth_m is missing (m)")
    plinth_uncertain_m: float = Field(0.6, ge=0, description="HOME-HEIGHT: excess within this with an unknown "
                                                               "plinth is low severity (m)")
    roof_slope_min_deg: float = Field(26.0, ge=0, le=90, description="HOME-ROOF: least pitched-roof slope (°)")
    roof_slope_max_deg: float = Field(30.0, ge=0, le=90, description="HOME-ROOF: greatest pitched-roof slope (°)")
    roof_ridge_percentile: float = Field(95.0, gt=0, le=100, description="HOME-ROOF: high percentile of a roof's nDSM "
                                                                         "pixels (ridge side)")
    roof_eave_percentile: float = Field(5.0, ge=0, lt=100, description="HOME-ROOF: low percentile of a roof's nDSM "
                                                                       "pixels (eave side), below the ridge one")
    stair_area_max_m2: float = Field(6.0, ge=0, description="HOME-STAIR: roof stairwell area allowed (m²)")
    stair_height_max_m: float = Field(2.7, ge=0, description="HOME-STAIR: roof stairwell storey height allowed (m)")
    stair_ndsm_margin_m: float = Field(0.3, ge=0, description="HOME-STAIR: nDSM pixels this far above the two-floor "
                                                               "limit are a roof structure (m)")
    approved_excess_ratio: float = Field(0.05, ge=0, description="HOME-APPROVED tolerated excess share")
    approved_excess_min_m2: float = Field(10.0, ge=0, description="HOME-APPROVED tolerated excess area (m²)")
    # setback
    drip_rear_1f_m: float = Field(0.4, ge=0)
    drip_rear_2f_m: float = Field(0.8, ge=0)
    drip_rear_2f_downspout_m: float = Field(0.4, ge=0)
    drip_gable_1f_m: float = Field(0.2, ge=0)
    drip_gable_2f_m: float = Field(0.3, ge=0)
    drip_road_search_m: float = Field(30.0, ge=0, description="SET-DRIP: nearest road this close sets the rear eave (m)",
                                      json_schema_extra={"reach": True})
    # siting
    cemetery_road_distance_m: float = Field(50.0, ge=0, description="from the configuration: the source names no number",
                                            json_schema_extra={"reach": True})
    cemetery_road_grades: list[str] = Field(
        default_factory=lambda: ["expressway", "national", "provincial", "county", "township"],
        description="road grades that are 公路 for SITE-CEMETERY (roads of unknown grade always count)")
    cemetery_levels: CemeteryLevels = Field(default_factory=CemeteryLevels,
                                            description="SITE-LEVEL: townships allowed per cemetery level")
    cemetery_green_min: float = Field(0.5, ge=0, le=1, description="SITE-GREEN: least green cover share")
    # farmland protection space
    space_target_year: SpaceTargets = Field(default_factory=SpaceTargets,
                                            description="FARM-SPACE: target year per protection space kind")

    @model_validator(mode="after")
    def _roof_percentiles_in_order(self):
        if self.roof_eave_percentile >= self.roof_ridge_percentile:
            raise ValueError(f"roof_eave_percentile（{self.roof_eave_percentile:g}）应小于 roof_ridge_percentile"
                             f"（{self.roof_ridge_percentile:g}）(the eave percentile must be below the ridge one)")
        return self


class LimitSet:
    """District limits plus per-township overrides, looked up per row.

    Examples
    --------
    >>> ls = LimitSet(Limits(), {"金海湖镇": Limits(coverage_max=0.7)})
    >>> ls.per_row("coverage_max", ["金海湖镇", "峪口镇", None]).tolist()
    [0.7, 0.75, 0.75]
    """

    def __init__(self, default: Limits | None = None, townships: dict[str, Limits] | None = None):
        self.default = default or Limits()
        self.townships = dict(townships or {})

    def for_township(self, township: str | None) -> Limits:
        """The limits that apply in ``township`` (the district's when it has none of its own)."""
        return self.townships.get(township, self.default) if township else self.default

    def per_row(self, key: str, townships) -> np.ndarray:
        """The value of ``key`` for each row's township, as an array."""
        base = getattr(self.default, key)
        towns = pd.Series(townships, dtype=object) if not isinstance(townships, pd.Series) else townships
        numeric = isinstance(base, (int, float)) and not isinstance(base, bool)
        if numeric:
            if not self.townships:
                return np.full(len(towns), float(base))
            values = towns.map({t: float(getattr(lim, key)) for t, lim in self.townships.items()})
            return values.fillna(float(base)).to_numpy(dtype=float)
        # dates, booleans, tables and lists: one object per row
        own = {t: getattr(lim, key) for t, lim in self.townships.items()}
        out = np.empty(len(towns), dtype=object)
        out[:] = [own.get(t, base) if isinstance(t, str) else base for t in towns]
        return out
