"""How every map draws things: one colour per finding family, weight by severity, context layer styles,
and the Chinese labels of layers, columns and values.

Kept in one place so the village maps, the legend and the index agree.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from analyses.registry import FAMILIES
from layers.roles import ROLES

__all__ = [
    "FAMILY_COLOURS",
    "JUDGEMENT_COLOURS",
    "FAMILY_LABELS",
    "HIDDEN_COLUMNS",
    "SEVERITY_WEIGHTS",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "CONTEXT_ORDER",
    "context_style",
    "layer_label",
    "column_label",
    "popup_columns",
    "unit_label",
    "CHANGE_STYLES",
    "CHANGE_CLASSES",
    "RECTIFIED_STYLE",
]

#: One colour per finding family (the legend and the index use the same).
FAMILY_COLOURS: Mapping[str, str] = MappingProxyType({
    "farmland": "#e31a1c",   # red
    "homestead": "#ff7f00",  # orange
    "setback": "#6a3d9a",    # purple
    "siting": "#b15928",     # brown
})

#: Monitoring patches (FARM-PATCH) are drawn by their pre-judgement instead of their family's colour.
JUDGEMENT_COLOURS: Mapping[str, str] = MappingProxyType({
    "违法": "#d7301f",    # dark red
    "待核查": "#fdae61",  # amber
    "其他": "#878787",    # grey
    "合法": "#1a9850",    # green
})

#: Chinese name of each family (from the rule registry).
FAMILY_LABELS: Mapping[str, str] = MappingProxyType(dict(FAMILIES))

#: Outline weight (px) by severity; a finding without severity is drawn as ``medium``.
SEVERITY_WEIGHTS: Mapping[str, float] = MappingProxyType({"high": 4.0, "medium": 2.5, "low": 1.5})

SEVERITY_LABELS: Mapping[str, str] = MappingProxyType({"high": "高", "medium": "中", "low": "低"})

STATUS_LABELS: Mapping[str, str] = MappingProxyType({"new": "新增", "existing": "存量", "historic": "历史遗留"})

#: Style overrides of a finding by its change against the previous run (the register's ``change``).
CHANGE_STYLES: Mapping[str, Mapping] = MappingProxyType({
    "新增": MappingProxyType({"fillOpacity": 0.45}),
    "持续": MappingProxyType({"fillOpacity": 0.25}),
})
#: CSS class suffix of each change's badge (``lg-chg-new`` ...).
CHANGE_CLASSES: Mapping[str, str] = MappingProxyType({"新增": "new", "持续": "kept", "已整改": "done"})
#: A case rectified since the last run, drawn from the register's last geometry: dashed, hardly filled.
RECTIFIED_STYLE: Mapping[str, object] = MappingProxyType({
    "color": "#1a9850", "weight": 2.5, "dashArray": "6 5", "opacity": 0.95, "fill": True,
    "fillColor": "#1a9850", "fillOpacity": 0.06})

#: Context layers from bottom to top; roles not listed here are drawn above them in the order given.
CONTEXT_ORDER: tuple[str, ...] = (
    "villages", "landuse", "landuse_baseline", "pbf", "farmland", "eco_redline", "nature_reserves",
    "protected_zones", "waters", "roads", "approvals", "cemeteries", "parcels", "buildings",
)

_CONTEXT_STYLES: dict[str, dict] = {
    "villages": {"color": "#000000", "weight": 2.5, "dashArray": "8 4", "fill": False},
    "landuse": {"color": "#8c8c8c", "weight": 0.6, "fillColor": "#d9d9d9", "fillOpacity": 0.1},
    "landuse_baseline": {"color": "#8c8c8c", "weight": 0.6, "dashArray": "2 3", "fill": False},
    "pbf": {"color": "#4d9221", "weight": 1.0, "fillColor": "#a6d96a", "fillOpacity": 0.25},
    "farmland": {"color": "#b8860b", "weight": 0.8, "fillColor": "#f6e8a6", "fillOpacity": 0.35},
    "eco_redline": {"color": "#c51b7d", "weight": 2.0, "dashArray": "6 3", "fillColor": "#f1b6da",
                    "fillOpacity": 0.12},
    "nature_reserves": {"color": "#1b7837", "weight": 2.0, "dashArray": "4 4", "fillColor": "#5aae61",
                        "fillOpacity": 0.12},
    "protected_zones": {"color": "#2166ac", "weight": 1.5, "dashArray": "3 3", "fill": False},
    "waters": {"color": "#2171b5", "weight": 1.0, "fillColor": "#6baed6", "fillOpacity": 0.45},
    "roads": {"color": "#636363", "weight": 2.0, "fillColor": "#bdbdbd", "fillOpacity": 0.5},
    "approvals": {"color": "#01665e", "weight": 1.2, "dashArray": "5 2", "fill": False},
    "cemeteries": {"color": "#4d4d4d", "weight": 1.2, "fillColor": "#969696", "fillOpacity": 0.4},
    "parcels": {"color": "#d4a600", "weight": 1.2, "fillColor": "#ffe680", "fillOpacity": 0.12},
    "buildings": {"color": "#525252", "weight": 0.8, "fillColor": "#737373", "fillOpacity": 0.55},
}
_DEFAULT_STYLE = {"color": "#3182bd", "weight": 1.0, "fillColor": "#9ecae1", "fillOpacity": 0.2}

_EXTRA_LABELS = {"farmland": "耕地"}

_COLUMN_LABELS = {
    "village_id": "村代码", "name": "名称", "township": "乡镇",
    "parcel_id": "宗地代码", "owner_name": "权利人", "household_id": "户编号",
    "approved_date": "批准日期", "approved_area_m2": "批准面积 (m²)", "replaced_by": "易地新宅宗地",
    "new_house_completed": "新宅竣工日期",
    "building_id": "房屋编号", "floors": "层数", "basement": "地下室", "roof": "屋顶",
    "eave_height_m": "檐口高度 (m)", "ridge_height_m": "屋脊高度 (m)", "downspout": "雨落管",
    "row_house": "排子房", "approval_id": "批复文号", "built_year": "建成年份", "use": "用途",
    "dlbm": "地类编码", "dlmc": "地类名称", "tbbh": "图斑编号", "survey_year": "调查年份",
    "pbf_id": "永久基本农田编号", "zone": "分区", "road_id": "道路编号", "grade": "道路等级",
    "width_m": "宽度 (m)", "kind": "类型", "valid_until": "有效期至", "cemetery_id": "公墓编号",
}

#: Columns never shown on a map, whatever the layer: personal ID numbers stay out of HTML.
HIDDEN_COLUMNS: frozenset[str] = frozenset({"owner_id", "geometry"})

_UNITS = {"m": "m", "m2": "m²", "m²": "m²", "mu": "亩", "亩": "亩", "floors": "层", "层": "层",
          "%": "%", "percent": "%", "ratio": "", "count": "处", "处": "处", "days": "天", "天": "天"}


def context_style(role: str) -> dict:
    """Leaflet path options for a context layer (a copy; unknown roles get a neutral blue).

    Examples
    --------
    >>> context_style("villages")["dashArray"]
    '8 4'
    """
    return dict(_CONTEXT_STYLES.get(role, _DEFAULT_STYLE))


def layer_label(role: str) -> str:
    """Chinese name of a layer role (the role's own name when unknown).

    Examples
    --------
    >>> layer_label("parcels"), layer_label("farmland"), layer_label("my_layer")
    ('宅基地', '耕地', 'my_layer')
    """
    if role in ROLES:
        return ROLES[role].label
    return _EXTRA_LABELS.get(role, role)


def column_label(column: str) -> str:
    """Chinese label of a canonical column (the column name itself when unknown).

    Examples
    --------
    >>> column_label("owner_name")
    '权利人'
    """
    return _COLUMN_LABELS.get(column, column)


def popup_columns(role: str, columns) -> list[str]:
    """The columns of ``role`` shown in its popups, in the role's canonical order.

    Canonical columns of the role come first, then other canonical columns present; personal ID
    numbers (``owner_id``) are never shown.

    Examples
    --------
    >>> popup_columns("parcels", ["owner_id", "owner_name", "parcel_id", "x"])
    ['parcel_id', 'owner_name']
    """
    present = [c for c in columns if c not in HIDDEN_COLUMNS]
    canon = list(ROLES[role].columns) if role in ROLES else []
    first = [c for c in canon if c in present and c != "village_id"]
    rest = [c for c in present if c not in first and c in _COLUMN_LABELS and c != "village_id"]
    return first + rest


def unit_label(unit) -> str:
    """Display form of a findings ``unit`` (``m2`` -> ``m²``); unknown units are shown as given.

    Examples
    --------
    >>> unit_label("m2"), unit_label(None)
    ('m²', '')
    """
    if unit is None or unit != unit:
        return ""
    return _UNITS.get(str(unit), str(unit))

