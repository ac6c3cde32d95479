"""The input roles of ``spec/LAYERS.md``: canonical layer names, geometry types and columns.

These names are a contract with users' data and with every analysis: keep them exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Role", "ROLES", "RASTER_ROLES", "REQUIRED_ROLES", "role"]

ColumnKind = Literal["str", "int", "float", "date", "bool"]


@dataclass(frozen=True)
class Role:
    """One input role.

    Attributes
    ----------
    name : str
        Canonical layer name, e.g. ``"parcels"``.
    label : str
        Chinese name shown to users.
    geometry : {"polygon", "polygon_or_line", "polygon_or_point"}
        What geometries the role holds.
    columns : dict
        Canonical column name -> kind (``str``, ``int``, ``float``, ``date``, ``bool``).
    id_column : str or None
        Column that identifies a feature, when the role has one.
    required : bool
        Whether ``check`` refuses to run without it.
    """

    name: str
    label: str
    geometry: Literal["polygon", "polygon_or_line", "polygon_or_point"]
    columns: dict[str, ColumnKind] = field(default_factory=dict)
    id_column: str | None = None
    required: bool = False


_ROLES = [
    Role("villages", "行政村", "polygon",
         {"village_id": "str", "name": "str", "township": "str"}, "village_id", True),
    Role("parcels", "宅基地", "polygon",
         {"parcel_id": "str", "village_id": "str", "owner_name": "str", "owner_id": "str",
          "household_id": "str", "approved_date": "date", "approved_area_m2": "float",
          "replaced_by": "str", "new_house_completed": "date", "inherited": "bool"}, "parcel_id", True),
    Role("buildings", "房屋", "polygon",
         {"building_id": "str", "floors": "int", "basement": "bool", "roof": "str",
          "eave_height_m": "float", "ridge_height_m": "float", "downspout": "bool",
          "row_house": "bool", "owner_id": "str", "approval_id": "str", "built_year": "int",
          "use": "str", "plinth_m": "float", "stair_area_m2": "float", "stair_height_m": "float"},
         "building_id", True),
    Role("landuse", "国土调查图斑", "polygon",
         {"dlbm": "str", "dlmc": "str", "tbbh": "str", "survey_year": "int"}, "tbbh", True),
    Role("landuse_baseline", "基期国土调查图斑", "polygon",
         {"dlbm": "str", "dlmc": "str", "tbbh": "str", "survey_year": "int"}, "tbbh"),
    Role("pbf", "永久基本农田", "polygon", {"pbf_id": "str"}, "pbf_id"),
    Role("eco_redline", "生态保护红线", "polygon", {"name": "str"}, "name"),
    Role("nature_reserves", "自然保护地", "polygon", {"name": "str", "zone": "str"}, "name"),
    Role("roads", "道路", "polygon_or_line",
         {"road_id": "str", "grade": "str", "width_m": "float"}, "road_id"),
    Role("waters", "河流水库", "polygon", {"name": "str", "kind": "str"}, "name"),
    Role("approvals", "用地批复", "polygon",
         {"approval_id": "str", "kind": "str", "approved_area_m2": "float", "valid_until": "date"},
         "approval_id"),
    Role("protected_zones", "管控区", "polygon", {"name": "str", "kind": "str"}, "name"),
    Role("cemeteries", "公墓", "polygon",
         {"cemetery_id": "str", "name": "str", "level": "str", "approval_id": "str", "green_ratio": "float"},
         "cemetery_id"),
    Role("graves", "散坟", "polygon_or_point", {"grave_id": "str", "count": "int"}, "grave_id"),
    Role("farmland_protection", "耕地保护空间", "polygon", {"space_id": "str", "kind": "str", "target_year": "int"},
         "space_id"),
    Role("monitoring_patches", "执法卫片图斑", "polygon",
         {"patch_id": "str", "change_type": "str", "before_date": "date", "after_date": "date", "batch": "str",
          "patch_area_m2": "float"}, "patch_id"),
    Role("landuse_history", "历年国土调查图斑", "polygon",
         {"dlbm": "str", "dlmc": "str", "tbbh": "str", "survey_year": "int"}),
    Role("village_plan", "村庄规划", "polygon", {"kind": "str", "name": "str"}, "name"),
    Role("field_grids", "田长网格", "polygon", {"grid_id": "str", "village_id": "str", "grid_leader": "str"},
         "grid_id"),
]

#: Every vector role by canonical name, in the order of ``spec/LAYERS.md``.
ROLES: dict[str, Role] = {r.name: r for r in _ROLES}

#: Names of the roles ``check`` cannot run without.
REQUIRED_ROLES: tuple[str, ...] = tuple(r.name for r in _ROLES if r.required)

#: Raster roles and their Chinese labels.
RASTER_ROLES: dict[str, str] = {
    "ndsm": "归一化地表模型",
    "ortho": "正射影像",
    "landcover_before": "前时相土地覆盖",
    "landcover_after": "后时相土地覆盖",
}


def role(name: str) -> Role:
    """Return the role called ``name``.

    Examples
    --------
    >>> role("parcels").id_column
    'parcel_id'
    """
    from spatial.errors import LayerError

    try:
        return ROLES[name]
    except KeyError:
        raise LayerError(f"unknown layer role {name!r}; known roles: {', '.join(ROLES)}") from None
