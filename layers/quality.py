"""The data-quality report: what was read, repaired, dropped and doubted, per layer, before any finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["QualityReport", "label"]

_LABELS = {
    "read": "读取要素", "kept": "保留",
    "z_dropped": "去除Z值", "m_dropped": "去除M值", "repaired": "修复无效几何", "unclosed_rings": "闭合未闭合的环",
    "lines_to_polygons": "闭合线转为面", "unreadable_geometry": "无法解析的几何",
    "dropped_empty": "删除空几何", "dropped_wrong_type": "删除非面几何（点、线）", "dropped_degenerate": "删除面积为零的几何",
    "dropped_bad_coords": "删除坐标无效的要素", "bad_coord_parts": "去除坐标无效的部件（要素保留）", "exact_duplicates": "删除完全重复的要素",
    "duplicated_ids": "重复编号（后出现的加后缀 #2、#3…）", "merged_villages": "同编号行政村合并",
    "far_apart_parts": "多部件相距过远", "crs_replaced": "坐标系与坐标值不符、已更正", "axes_swapped": "坐标轴顺序颠倒、已互换",
    "outside_villages": "不在任何行政村内", "missing_ids": "补编号", "missing_columns": "缺少的可选字段",
    "unknown_codes": "未知地类编码",
    # counted by rules and renderers
    "relocation_undated": "缺少新房竣工日期（未作建新拆旧检查）", "height_unchecked": "无高度属性（未作超高检查）",
    "lines_without_width": "道路线缺少宽度", "villages_not_covered": "未覆盖的行政村",
}

#: Counters per column, ``<prefix><column>``.
_PREFIXED = {
    "bad_dates_": "无法识别的日期（{}）", "dates_converted_": "非标准格式日期已转换（{}）",
    "numbers_as_text_": "数字转为文本（{}）", "digits_lost_": "数字超过15位已失真（{}）",
    "open_ended_dates_": "无期限日期 9999 年（按长期有效）（{}）", "dates_out_of_range_": "超出范围的日期（{}）",
    "units_converted_": "带单位或中文数字的数值已换算（{}）", "bad_numbers_": "无法识别的数值（{}）",
}


def label(key: str) -> str:
    """The Chinese label of a data-quality counter.

    Examples
    --------
    >>> label("repaired"), label("bad_dates_approved_date")
    ('修复无效几何', '无法识别的日期（approved_date）')
    """
    if key in _LABELS:
        return _LABELS[key]
    for prefix, text in _PREFIXED.items():
        if key.startswith(prefix):
            return text.format(key[len(prefix):])
    return key


@dataclass
class QualityReport:
    """Counts per layer plus district-wide notes.

    Examples
    --------
    >>> q = QualityReport()
    >>> q.count("parcels", "repaired", 2)
    >>> q.layers["parcels"]["repaired"]
    2
    """

    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    missing_roles: list[str] = field(default_factory=list)
    invalid_ids: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, layer: str, key: str, n: int = 1) -> None:
        """Add ``n`` to a layer's counter ``key`` (zero counts are not stored)."""
        if n:
            bucket = self.layers.setdefault(layer, {})
            bucket[key] = bucket.get(key, 0) + int(n)

    def note(self, text: str) -> None:
        """Record a one-line observation (Chinese, for the run summary)."""
        self.notes.append(text)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``summary.json``."""
        return {"layers": self.layers, "missing_roles": self.missing_roles,
                "invalid_id_numbers": self.invalid_ids, "notes": self.notes}

    def to_text(self) -> str:
        """The report as Chinese text lines.

        Examples
        --------
        >>> q = QualityReport(); q.count("parcels", "read", 10); q.count("parcels", "repaired", 1)
        >>> print(q.to_text().splitlines()[1])
          parcels: 读取要素 10，修复无效几何 1
        """
        lines = ["数据质量报告："]
        for layer, counts in self.layers.items():
            keys = sorted((k for k in counts if k != "kept"), key=lambda k: k != "read")  # "read" first
            parts = [f"{label(k)} {counts[k]}" for k in keys]
            lines.append(f"  {layer}: " + "，".join(parts))
        if self.missing_roles:
            lines.append("  缺少的可选图层：" + "、".join(self.missing_roles))
        if self.invalid_ids:
            lines.append(f"  证件号码校验失败 {len(self.invalid_ids)} 条（不参与一户多宅匹配）：" +
                         "、".join(str(r.get("parcel_id")) for r in self.invalid_ids[:10]) +
                         ("……" if len(self.invalid_ids) > 10 else ""))
        lines.extend(f"  {n}" for n in self.notes)
        return "\n".join(lines)
