"""The data-quality report: what was read, repaired, dropped and doubted, per layer, before any finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["QualityReport"]

_LABELS = {
    "read": "读取要素", "kept": "保留", "z_dropped": "去除Z值", "repaired": "修复无效几何",
    "dropped_empty": "删除空几何", "dropped_wrong_type": "删除非面几何", "duplicated_ids": "重复编号",
    "outside_villages": "不在任何行政村内", "missing_ids": "补编号", "missing_columns": "缺少的可选字段",
    "unknown_codes": "未知地类编码",
}


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
            parts = [f"{_LABELS.get(k, k)} {v}" for k, v in counts.items() if k != "kept"]
            lines.append(f"  {layer}: " + "，".join(parts))
        if self.missing_roles:
            lines.append("  缺少的可选图层：" + "、".join(self.missing_roles))
        if self.invalid_ids:
            lines.append(f"  证件号码校验失败 {len(self.invalid_ids)} 条（不参与一户多宅匹配）：" +
                         "、".join(str(r.get("parcel_id")) for r in self.invalid_ids[:10]) +
                         ("……" if len(self.invalid_ids) > 10 else ""))
        lines.extend(f"  {n}" for n in self.notes)
        return "\n".join(lines)
