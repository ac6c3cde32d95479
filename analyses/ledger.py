"""The ledger (台账): one XLSX for leadership, and the field verification written back into it.

Sheets: ``汇总`` (a summary by township and village), one sheet per rule family with a row per
finding, and ``未匹配`` once a returned field file holds rows the ledger has no case for. The ledger
is an office document: owners' names stay in full, but no ID number is ever written in clear.

Every cell is written by one function, :func:`_put`: text from the data (ids, names, messages, what
the field team returns) is always stored as a string cell, never as a formula, whatever it starts with
(``=HYPERLINK(...)``, ``+``, ``-``, ``@``), and every ID number inside it is masked
(:func:`layers.privacy.mask_ids_in_text`); only numbers we compute (areas, measures, counts) and dates
are stored as numbers.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from layers.privacy import mask_ids_in_text
from layers.roles import RASTER_ROLES, ROLES
from spatial.atomic import atomic_path
from spatial.errors import LayerError, OutputError
from spatial.units import m2_to_mu

from .compare import CHANGE_GONE, CHANGE_NEW, CHANGE_ONGOING, compare_runs

__all__ = [
    "VERIFICATION_COLUMNS", "VERDICTS", "SEVERITY_LABELS", "STATUS_LABELS", "FAMILY_SHEETS", "UNIT_LABELS",
    "COLUMN_LABELS", "RECTIFICATION_COLUMNS", "ASSESSMENT_SHEET", "RECTIFICATION_SHEET", "VerifyResult",
    "write_ledger", "read_ledger", "apply_verification", "print_setup", "round_mu", "township_assessment",
    "PATCH_SHEET", "PATCH_COLUMNS", "patch_table",
]

#: Columns the field team fills in: verdict, who, when, remark, photo path.
VERIFICATION_COLUMNS: tuple[str, ...] = ("verified", "verified_by", "verified_on", "remark", "photo")

#: Allowed values of ``verified``.
VERDICTS: tuple[str, ...] = ("合法", "违法", "已整改", "无法核实", "误报")  # spec/WORKFLOW.md §2

#: Chinese labels of ``severity`` and ``status`` values.
SEVERITY_LABELS: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}
STATUS_LABELS: dict[str, str] = {"new": "新增问题", "existing": "存量问题", "historic": "历史遗留问题"}

#: Shown for a missing ``status``: a farmland case nothing dates, or a rule that has no status.
STATUS_UNDATED = "时间不明"
STATUS_NONE = "不适用"

#: Chinese of the ``unit`` values the rules write.
UNIT_LABELS: dict[str, str] = {"m": "米", "m²": "平方米", "m2": "平方米", "°": "度", "deg": "度", "D": "度"}

#: Sheet of each rule family, in ledger order.
FAMILY_SHEETS: dict[str, str] = {"farmland": "耕地非农化", "homestead": "宅基地", "setback": "退让", "siting": "公墓选址"}

#: Chinese label of every column a person reads (ledger headers, GeoPackage aliases).
COLUMN_LABELS: dict[str, str] = {
    "case_id": "案件编号", "rule_id": "规则编号", "rule_name": "规则名称", "family": "规则类别",
    "severity": "严重程度", "village_id": "行政村代码", "township": "乡镇", "village": "行政村",
    "subject_layer": "对象图层", "subject_id": "对象编号", "related_ids": "关联编号",
    "measured": "实测值", "limit": "限值", "unit": "单位", "area_m2": "面积(平方米)", "area_mu": "面积(亩)",
    "status": "状态", "dated_by": "时间依据", "judgement": "预判结论",
    "remedy": "处置方式", "lead_unit": "牵头单位", "deadline": "整改期限", "grid_id": "田长网格",
    "basis": "依据", "message": "说明",
    "change": "变化",
    "verified": "核查结论", "verified_by": "核查人", "verified_on": "核查日期", "remark": "备注", "photo": "照片",
}

_SHEET_COLUMNS = ["case_id", "rule_id", "rule_name", "severity", "township", "village", "subject_layer",
                  "subject_id", "related_ids", "measured", "limit", "unit", "area_m2", "area_mu", "status",
                  "basis", "message", "change", *VERIFICATION_COLUMNS]
# Columns that may hold numbers (figures we compute) or dates; every other column is text, whatever its type.
_NOT_TEXT = {"measured", "limit", "area_m2", "area_mu", "verified_on"}
_SHEET_TEXT = frozenset(i for i, c in enumerate(_SHEET_COLUMNS) if c not in _NOT_TEXT)
# Text that a spreadsheet would take for a formula if it were typed in: such cells also get Excel's
# "quote prefix" so editing them keeps them text.
_SHORTEST_ID = 15  # characters of the shortest ID number (the old 15-digit form): shorter text holds none
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_SUMMARY = "汇总"
_OTHER = "其他"
_UNMATCHED = "未匹配"
_UNMATCHED_COLUMNS = ["案件编号", *(COLUMN_LABELS[c] for c in VERIFICATION_COLUMNS), "经度", "纬度", "来源文件"]
_UNKNOWN = "（未知）"
_NO_ID = "(无案件编号)"
_AREA_FORMAT = "0.00"
_MAX_WIDTH = 60
# Narrower caps for the long text columns, so that a sheet fitted to the width of an A4 landscape page keeps a
# legible type size: these columns wrap onto more lines instead.
_PRINT_CAPS = {"说明": 40, "依据": 24, "关联编号": 16, "规则名称": 16, "规则": 16, "对象编号": 16, "对象": 18,
               "牵头单位": 16, "处置方式": 10, "时间依据": 20, "来源文件": 20}
_DATE_FORMAT = "yyyy-mm-dd"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_SUBJECT_LABELS = {**RASTER_ROLES, **{name: role.label for name, role in ROLES.items()}}
_MU_FORMAT_SMALL = "0.000"
_LINE_HEIGHT = 15.0  # points per line of 11-point text
_HEADER_WIDTH = 12    # headers wrap onto two or three lines rather than widen a column of short figures

#: The rectification sheet (整改台账) and its columns (spec/WORKFLOW.md §3).
RECTIFICATION_SHEET = "整改台账"
RECTIFICATION_COLUMNS: list[str] = ["案件编号", "规则", "乡镇", "村", "对象", "面积(平方米)", "面积(亩)", "状态", "首次发现",
                                    "处置方式", "牵头单位", "整改期限", "整改进度", "是否超期", "核查结论", "照片数",
                                    "照片核验", "销号日期"]
#: The township assessment sheet (乡镇考核).
ASSESSMENT_SHEET = "乡镇考核"
#: The monitoring-patch sheet (卫片核查, spec/WORKFLOW.md §3): one row per patch of the batches, as a bureau returns it.
PATCH_SHEET = "卫片核查"
PATCH_COLUMNS: list[str] = ["批次", "监测编号", "乡镇", "村", "变化类型", "前时相", "后时相", "图斑面积(平方米)", "图斑面积(亩)",
                            "耕地面积(亩)", "永久基本农田面积(亩)", "生态保护红线面积(亩)", "批准用地面积(亩)", "预判结论", "依据",
                            "涉及批文", "关联案件", "案件编号", "核查结论", "核查人", "核查日期", "备注"]
_NOT_JUDGED = "未预判（不在行政村范围内）"
_RECENT_DAYS = 31  # a case closed within a month of the run stays in 整改台账
_DONE = ("已整改", "已销号")


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`apply_verification` did.

    Attributes
    ----------
    updated : int
        Ledger rows whose verification columns changed.
    unchanged : int
        Matched rows that already held the returned values (or came back empty).
    unmatched : list of str
        Case ids of returned rows the ledger has no row for (``(无案件编号)`` for rows drawn in the
        field without one); listed in the ledger's ``未匹配`` sheet, never dropped.
    conflicting : list of str
        Case ids returned more than once with different values (the last row was used).
    """

    updated: int
    unchanged: int
    unmatched: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)


# -- writing -------------------------------------------------------------------------------------




def round_mu(mu):
    """Round 亩 to their unit: 0.01 亩, or 0.001 亩 below 0.1 亩 (so that small cases do not read 0.00).

    Examples
    --------
    >>> round_mu(np.array([12.3456, 0.04567])).tolist()
    [12.35, 0.046]
    """
    mu = np.asarray(mu, dtype=float)
    return np.where(np.abs(mu) < 0.1, np.round(mu, 3), np.round(mu, 2))


def print_setup(ws: Worksheet, *, header_rows: int = 1, one_page: bool = False) -> None:
    """Set a sheet up for printing: A4 landscape, fitted to the page width, header rows on every page.

    Parameters
    ----------
    ws : Worksheet
    header_rows : int
        Rows repeated at the top of every printed page.
    one_page : bool
        Fit the whole sheet on one page (the summary of a district), not only its width.

    Examples
    --------
    >>> ws = Workbook().active
    >>> print_setup(ws)
    >>> ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.print_title_rows
    ('landscape', 1, '$1:$1')
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.print_title_rows = f"1:{header_rows}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = f"{ws.title}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _width(value) -> int:
    """Display width of a cell's text: CJK and full-width characters count double."""
    if value is None:
        return 0
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _as_text(value) -> str | None:
    """A data value as the text a person reads: integers whole (``7``, not ``7.0``), dates as ISO."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _put(cell, value, *, text: bool = False) -> None:
    """Write ``value`` into a ledger cell: the one function through which every ledger cell is written.

    Strings (and, with ``text``, any value: ids from the data stay ``"007"``, never ``7``) become
    string cells: never a formula, whatever they start with, control characters removed and every
    ID number masked. Numbers, booleans and dates that are not ``text`` stay numbers and dates.

    Parameters
    ----------
    cell : openpyxl.cell.Cell
    value : object
    text : bool
        The value comes from a text column of the data: store it as text even when it is a number.

    Examples
    --------
    >>> ws = Workbook().active
    >>> _put(ws["A1"], '=HYPERLINK("http://x")'); _put(ws["A2"], 7, text=True); _put(ws["A3"], 2.5)
    >>> [(c.value, c.data_type) for c in (ws["A1"], ws["A2"], ws["A3"])]
    [('=HYPERLINK("http://x")', 's'), ('7', 's'), (2.5, 'n')]
    >>> _put(ws["A4"], "户主110117199001011234"); ws["A4"].value
    '户主110117********1234'
    """
    value = _as_text(value) if text or isinstance(value, str) else _cell(value)
    if not isinstance(value, str):
        cell.value = value
        return
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) >= _SHORTEST_ID:
        value = mask_ids_in_text(value)
    cell.value = value
    cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
    if value.startswith(_FORMULA_LEAD):
        cell.quotePrefix = True


def _cell(value):
    """A value openpyxl can store: None for missing, Python scalars, no control characters."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (_dt.date, int)):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _table(ws: Worksheet, headers: list[str], rows: list[list], *, text: frozenset[int] | set[int] = frozenset(),
           formats: dict[int, str] | None = None, footer: list | None = None) -> None:
    """Write a header row and rows (columns ``text`` always as text); freeze the header, filter, fit widths."""
    all_rows = [headers, *rows, *([footer] if footer is not None else [])]
    for r, row in enumerate(all_rows):
        cells = []
        for c, value in enumerate(row):
            cell = Cell(ws)
            _put(cell, value, text=r == 0 or c in text)
            cells.append(cell)
        ws.append(cells)
    for cell in ws[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    last = len(rows) + 1
    if footer is not None:
        for cell in ws[ws.max_row]:
            cell.font = _HEADER_FONT
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"
    for idx, fmt in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=idx + 1, max_col=idx + 1):
            cell.number_format = fmt
    # Column widths fit the widest value (headers wrap instead); every cell wraps, and each row is as tall
    # as its longest wrapped text, so that neither the screen nor the printed page cuts a message short.
    lines = np.ones(ws.max_row, dtype=int)
    wrap = Alignment(wrap_text=True, vertical="top")
    # openpyxl hashes a style object on every assignment: register it once and set its index per cell
    wrap_id = ws.parent._alignments.add(wrap)
    for idx, column in enumerate(ws.iter_cols(min_row=1, max_row=ws.max_row), start=1):
        widths = np.array([_width(c.value) for c in column], dtype=int)
        body = int(widths[1:].max()) if len(widths) > 1 else 0
        head = int(widths[0]) if len(widths) else 0
        cap = _PRINT_CAPS.get(headers[idx - 1], _MAX_WIDTH) if idx <= len(headers) else _MAX_WIDTH
        width = min(max(body, min(head, _HEADER_WIDTH), 4) + 2, cap)
        ws.column_dimensions[get_column_letter(idx)].width = width
        lines = np.maximum(lines, -(-widths // max(width - 4, 1)))  # words wrap whole: a little slack
        for cell in column[1:]:
            if not cell._style:
                cell._style = StyleArray()
            cell._style.alignmentId = wrap_id
        if len(column):
            column[0].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r in np.flatnonzero(lines > 1):
        ws.row_dimensions[int(r) + 1].height = float(lines[r]) * _LINE_HEIGHT


def _objects(values: pd.Series, func) -> pd.Series:
    """``func`` of each value as an object column (``Series.map`` would turn None into NaN)."""
    return pd.Series([func(v) for v in values], index=values.index, dtype=object)


def _labelled(values: pd.Series, labels: dict[str, str]) -> pd.Series:
    return _objects(values, lambda v: labels.get(v, v) if isinstance(v, str) else (None if _iso(v) is None else v))


def _finding_rows(frame: pd.DataFrame) -> list[list]:
    out = pd.DataFrame(index=frame.index)
    for col in _SHEET_COLUMNS:
        out[col] = frame[col].astype(object) if col in frame.columns else None
    out["severity"] = _labelled(out["severity"], SEVERITY_LABELS)
    out["status"] = _labelled(out["status"], STATUS_LABELS)
    if "family" in frame.columns:
        missing = out["status"].isna().to_numpy()
        farm = (frame["family"].astype(object) == "farmland").to_numpy()
        out.loc[missing & farm, "status"] = STATUS_UNDATED
        out.loc[missing & ~farm, "status"] = STATUS_NONE
    out["subject_layer"] = _labelled(out["subject_layer"], _SUBJECT_LABELS)
    out["unit"] = _labelled(out["unit"], UNIT_LABELS)
    for col in ("measured", "limit", "area_m2"):
        out[col] = _rounded(frame[col] if col in frame.columns else None, 2, out.index)
    out["area_mu"] = _rounded(frame["area_mu"] if "area_mu" in frame.columns else None, None, out.index)
    return out.astype(object).where(out.notna(), None).values.tolist()


def _rounded(values, digits: int | None, index) -> pd.Series:
    """Figures rounded to their unit (``digits``; None: 亩 as :func:`round_mu`), missing as None."""
    if values is None:
        return pd.Series(None, index=index, dtype=object)
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = round_mu(x) if digits is None else np.round(x, digits)
    return pd.Series(x, index=index, dtype=object).where(~np.isnan(x), None)


def _mu_formats(ws: Worksheet, col: int) -> None:
    """Cells of 亩 below 0.1 show three decimals (column ``col``, 1-based)."""
    for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
        if isinstance(cell.value, float) and abs(cell.value) < 0.1 and cell.value != 0:
            cell.number_format = _MU_FORMAT_SMALL


def _summary(frame: pd.DataFrame, with_change: bool) -> tuple[list[str], list[list], list]:
    """Summary rows by township and village: counts and areas per family, status, overdue, changes."""
    keys = ["township", "village_id", "village"]
    f = pd.DataFrame({k: frame[k].astype(object).where(frame[k].notna(), _UNKNOWN).astype(str)
                      if k in frame.columns else _UNKNOWN for k in keys}, index=frame.index)
    f["family"] = frame["family"].astype(object)
    f["area_m2"] = pd.to_numeric(frame["area_m2"], errors="coerce").astype(float)
    f["change"] = frame["change"].astype(object) if with_change else None
    live = f[f["change"] != CHANGE_GONE]
    index = pd.MultiIndex.from_frame(f[keys].drop_duplicates().sort_values(keys))
    families = list(FAMILY_SHEETS)
    by = live.groupby(keys + ["family"])
    counts = by.size().unstack("family") if len(live) else pd.DataFrame()
    areas = by["area_m2"].sum(min_count=1).unstack("family") if len(live) else pd.DataFrame()
    counts = counts.reindex(index=index, columns=families).fillna(0).astype(int)
    areas = areas.reindex(index=index, columns=families).fillna(0.0)
    table = pd.DataFrame(index=index)
    headers = ["乡镇", "行政村代码", "行政村"]
    for fam in families:
        name = FAMILY_SHEETS[fam]
        table[f"{fam}_n"], table[f"{fam}_m2"] = counts[fam], areas[fam]
        table[f"{fam}_mu"] = m2_to_mu(areas[fam].to_numpy())
        headers += [f"{name}(处)", f"{name}面积(平方米)", f"{name}面积(亩)"]
    table["total"] = counts.sum(axis=1)
    headers.append("合计(处)")
    status = frame["status"].astype(object) if "status" in frame.columns else pd.Series(None, index=frame.index)
    by_status = pd.DataFrame({**{k: f[k] for k in keys}, "status": status})[(f["change"] != CHANGE_GONE).to_numpy()]
    st = by_status.groupby(keys + ["status"]).size().unstack("status") if len(by_status) else pd.DataFrame()
    st = st.reindex(index=index, columns=list(STATUS_LABELS)).fillna(0).astype(int)
    for key, label in STATUS_LABELS.items():
        table[f"s_{key}"] = st[key]
        headers.append(f"{label}(处)")
    if "overdue" in frame.columns:
        od = pd.DataFrame({**{k: f[k] for k in keys},
                           "n": pd.to_numeric(frame["overdue"], errors="coerce").fillna(0).astype(int)})
        table["overdue"] = od.groupby(keys)["n"].sum().reindex(index).fillna(0).astype(int)
        headers.append("超期(处)")
    if with_change:
        changes = f.groupby(keys + ["change"]).size().unstack("change").reindex(
            index=index, columns=[CHANGE_NEW, CHANGE_ONGOING, CHANGE_GONE]).fillna(0).astype(int)
        for name in changes.columns:
            table[name] = changes[name]
            headers.append(f"{name}(处)")
    sums = table.sum(axis=0)
    for fam in families:  # areas rounded to their unit, totals from the unrounded figures
        table[f"{fam}_m2"] = np.round(table[f"{fam}_m2"].to_numpy(dtype=float), 2)
        table[f"{fam}_mu"] = round_mu(table[f"{fam}_mu"].to_numpy(dtype=float))
        sums[f"{fam}_m2"] = round(float(sums[f"{fam}_m2"]), 2)
        sums[f"{fam}_mu"] = float(round_mu(float(sums[f"{fam}_mu"])))
    rows = table.reset_index().astype(object).values.tolist()
    footer = ["合计", None, None, *sums.astype(object).tolist()]
    return headers, rows, footer


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as objects, None where missing or absent."""
    if name not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[name].astype(object)
    return values.where(values.notna(), None)


def _progress(frame: pd.DataFrame) -> pd.Series:
    """整改进度 of each case: the register's ``progress``, else 已整改 for a case gone since the previous run."""
    progress = _col(frame, "progress")
    gone = (_col(frame, "change") == CHANGE_GONE).to_numpy()
    derived = pd.Series(np.where(gone, CHANGE_GONE, "未整改"), index=frame.index, dtype=object)
    return progress.where(progress.notna(), derived)


def _overdue(frame: pd.DataFrame, progress: pd.Series, as_of: _dt.date | None) -> pd.Series:
    """Whether each case is past its deadline and not rectified: the register's ``overdue``, else from ``as_of``."""
    if "overdue" in frame.columns:
        return pd.to_numeric(frame["overdue"], errors="coerce").fillna(0).astype(bool)
    if as_of is None or "deadline" not in frame.columns:
        return pd.Series(False, index=frame.index)
    deadline = pd.to_datetime(frame["deadline"], errors="coerce")
    return (deadline < pd.Timestamp(as_of)).fillna(False) & ~progress.isin([*_DONE, "误报"])


def _rectification_rows(frame: pd.DataFrame, as_of: _dt.date | None) -> list[list]:
    """整改台账: one row per open case and per case closed within a month of the run."""
    progress = _progress(frame)
    overdue = _overdue(frame, progress, as_of)
    closed = pd.to_datetime(_col(frame, "closed_on"), errors="coerce")
    ref = pd.Timestamp(as_of) if as_of is not None else closed.max()
    recent = (closed >= ref - pd.Timedelta(days=_RECENT_DAYS)).fillna(False) if ref is not pd.NaT else closed.notna()
    keep = (~progress.isin(["已销号", "误报"]) | recent).to_numpy()
    f, progress, overdue = frame[keep], progress[keep], overdue[keep]
    subject = (_labelled(_col(f, "subject_layer"), _SUBJECT_LABELS).fillna("").astype(str) + " "
               + _col(f, "subject_id").fillna("").astype(str)).str.strip()
    status = _labelled(_col(f, "status"), STATUS_LABELS)
    farm = (_col(f, "family") == "farmland").to_numpy()
    status = status.where(status.notna(), pd.Series(np.where(farm, STATUS_UNDATED, STATUS_NONE), index=f.index))
    flags = _col(f, "photo_flags").fillna("").astype(str).str.split(";").map(
        lambda parts: "、".join(dict.fromkeys(p for p in parts if p)))
    count = pd.to_numeric(_col(f, "photo_count"), errors="coerce")
    flags = flags.where(flags != "", np.where(count.fillna(0) > 0, "正常", None))
    out = pd.DataFrame({
        "案件编号": _col(f, "case_id"), "规则": _col(f, "rule_name"), "乡镇": _col(f, "township"),
        "村": _col(f, "village"), "对象": subject.where(subject != "", None),
        "面积(平方米)": _rounded(_col(f, "area_m2"), 2, f.index), "面积(亩)": _rounded(_col(f, "area_mu"), None, f.index),
        "状态": status, "首次发现": _col(f, "first_seen"), "处置方式": _col(f, "remedy"), "牵头单位": _col(f, "lead_unit"),
        "整改期限": _col(f, "deadline"), "整改进度": progress, "是否超期": np.where(overdue.to_numpy(), "是", "否"),
        "核查结论": _col(f, "verified"), "照片数": count.fillna(0).astype(int).to_numpy(),
        "照片核验": flags, "销号日期": _col(f, "closed_on"),
    }, index=f.index)
    order = np.lexsort((out["案件编号"].fillna("").astype(str), out["村"].fillna("").astype(str),
                        out["乡镇"].fillna("").astype(str), ~overdue.to_numpy()))
    out = out.iloc[order]
    return out.astype(object).where(out.notna(), None).values.tolist()


def _assessment_rows(frame: pd.DataFrame, townships: pd.DataFrame | None) -> tuple[list[str], list[list]]:
    """乡镇考核: per township the farmland and PBF figures, new cases, the rectification rate and the rank.

    The rank orders townships by rectification rate (higher first), then by new cases (fewer first), then by
    farmland lost; the last three (of more than three) are marked for talks (约谈, PG-NF 四(十一)23).
    """
    town = _col(frame, "township").fillna(_UNKNOWN).astype(str)
    progress = _progress(frame)
    live = (_col(frame, "change") != CHANGE_GONE).to_numpy()
    real = ~progress.isin(["误报"]).to_numpy()
    farm = (_col(frame, "family") == "farmland").to_numpy()
    mu = pd.to_numeric(_col(frame, "area_mu"), errors="coerce").fillna(0.0).to_numpy()
    high = (_col(frame, "severity") == "high").to_numpy()
    g = pd.DataFrame({
        "town": town.to_numpy(),
        "new": (((_col(frame, "change") == CHANGE_NEW).to_numpy() | ((_col(frame, "change").isna()).to_numpy()
                                                                    & (_col(frame, "status") == "new").to_numpy()))
                & live).astype(int),
        "open": (live & real & ~progress.isin(_DONE).to_numpy()).astype(int),
        "done": (real & progress.isin(_DONE).to_numpy()).astype(int),
        "farm_mu": np.where(live & real & farm, mu, 0.0),
        "pbf_mu": np.where(live & real & farm & high, mu, 0.0),
    }).groupby("town").sum()
    headers = ["乡镇"]
    cols: dict[str, np.ndarray] = {}
    if townships is not None and len(townships):
        t = townships.set_index(townships["township"].astype(str)).reindex(g.index)
        for key, label in (("farmland_base_mu", "基期耕地(亩)"), ("farmland_now_mu", "现状耕地(亩)"),
                           ("pbf_base_mu", "基期永久基本农田(亩)"), ("pbf_now_mu", "现状永久基本农田(亩)")):
            cols[label] = round_mu(pd.to_numeric(t.get(key), errors="coerce").to_numpy(dtype=float))
        cols["耕地减少(亩)"] = round_mu(cols["基期耕地(亩)"] - cols["现状耕地(亩)"])
        cols["永久基本农田减少(亩)"] = round_mu(cols["基期永久基本农田(亩)"] - cols["现状永久基本农田(亩)"])
    cols["问题占用耕地(亩)"] = round_mu(g["farm_mu"].to_numpy())
    cols["其中永久基本农田(亩)"] = round_mu(g["pbf_mu"].to_numpy())
    cols["新增问题(处)"] = g["new"].to_numpy()
    cols["未整改(处)"] = g["open"].to_numpy()
    cols["已整改(处)"] = g["done"].to_numpy()
    total = g["open"].to_numpy() + g["done"].to_numpy()
    rate = np.divide(g["done"].to_numpy(), total, out=np.ones(len(g)), where=total > 0)
    cols["整改率"] = np.round(rate, 4)
    order = np.lexsort((g["farm_mu"].to_numpy(), g["new"].to_numpy(), -rate))
    rank = np.empty(len(g), dtype=int)
    rank[order] = np.arange(1, len(g) + 1)
    cols["排名"] = rank
    n_last = 3 if len(g) > 3 else 0
    cols["备注"] = np.where(rank > len(g) - n_last, "末位三名（约谈）", None)
    headers += list(cols)
    table = pd.DataFrame(cols, index=g.index).iloc[np.argsort(rank)]
    rows = table.reset_index().astype(object).values.tolist()
    return headers, [[None if (isinstance(v, float) and np.isnan(v)) else v for v in r] for r in rows]


def township_assessment(frame: pd.DataFrame, townships: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 乡镇考核 table as a DataFrame (columns as the sheet's headers), best-ranked township first.

    Examples
    --------
    >>> f = pd.DataFrame({"township": ["甲镇", "乙镇"], "family": "farmland", "area_mu": [1.0, 2.0],
    ...                   "change": ["新增", "已整改"], "case_id": ["a", "b"]})
    >>> township_assessment(f)[["乡镇", "整改率", "排名"]].values.tolist()
    [['乙镇', 1.0, 1], ['甲镇', 0.0, 2]]
    """
    headers, rows = _assessment_rows(frame, townships)
    return pd.DataFrame(rows, columns=headers)


def _date_text(values: pd.Series) -> pd.Series:
    """Dates (any text form the reader accepts, or dates) as ``YYYY-MM-DD``; what cannot be read stays as given."""
    parsed = pd.to_datetime(values.astype(object), errors="coerce", format="mixed")
    text = pd.Series(parsed.dt.strftime("%Y-%m-%d").to_numpy(dtype=object), index=values.index, dtype=object)
    raw = values.astype(object)
    return text.where(parsed.notna().to_numpy(), raw.where(raw.notna(), None))


def patch_table(district) -> pd.DataFrame | None:
    """The district's monitoring batch with each patch's figures, ready for ``write_ledger(patches=...)``.

    The figures are computed as ``FARM-PATCH`` computes them (the intermediates ``patch_approvals`` and
    ``patch_figures``, in the working CRS): ``area``, ``farm``, ``pbf``, ``red``, ``approved``, the parts
    without approval ``free_farm``, ``free_pbf``, ``free_red`` (m²) and ``approval_ids``. None when the district has no ``monitoring_patches``.

    Examples
    --------
    >>> # write_ledger(result.findings, "台账.xlsx", patches=patch_table(result.district))
    """
    from .context import Context
    from .registry import INTERMEDIATES

    p = district.get("monitoring_patches")
    if p is None or len(p) == 0:
        return None
    base = Context.of(district)
    values: dict = {}

    def compute(name: str):
        if name not in values:
            item = INTERMEDIATES[name]
            for dep in item.uses:
                compute(dep)
            values[name] = item.func(base.with_values({d: values[d] for d in item.uses}, name))
        return values[name]

    fig = compute("patch_figures")
    out = pd.DataFrame(p.drop(columns="geometry")).reset_index(drop=True)
    for k in ("area", "farm", "pbf", "red", "approved", "free_farm", "free_pbf", "free_red"):
        out[k] = fig[k].to_numpy(dtype=float)
    out["approval_ids"] = values["patch_approvals"]["approval_ids"].to_numpy(dtype=object)
    return out


def _patch_rows(frame: pd.DataFrame, patches: pd.DataFrame | None) -> list[list]:
    """The rows of the 卫片核查 sheet: one per patch of ``patches`` (else per ``FARM-PATCH`` finding)."""
    f = frame[frame["rule_id"].astype(object) == "FARM-PATCH"] if "rule_id" in frame.columns else frame.iloc[:0]
    f = f.drop_duplicates("subject_id")
    by_id = f.set_index(f["subject_id"].astype(str))
    if patches is not None:
        p = pd.DataFrame(patches.drop(columns="geometry", errors="ignore")).copy()
        ids = p["patch_id"].astype(str)
    else:
        p = pd.DataFrame(index=f.index)
        ids = f["subject_id"].astype(str)
    p.index = ids.to_numpy()
    n = len(p)

    def col(frame_: pd.DataFrame, name: str) -> pd.Series:
        if name in frame_.columns:
            return frame_[name].astype(object).reindex(p.index)
        return pd.Series([None] * n, index=p.index, dtype=object)

    found = col(by_id, "case_id")
    area = pd.to_numeric(col(p, "area") if "area" in p.columns else col(by_id, "area_m2"), errors="coerce")
    mu = {k: round_mu(m2_to_mu(pd.to_numeric(col(p, k), errors="coerce").to_numpy(dtype=float)))
          for k in ("farm", "pbf", "red", "approved")}
    judgement = col(by_id, "judgement").where(found.notna(), _NOT_JUDGED)
    related = col(by_id, "related_ids")
    # related_ids = the approvals that cover the patch, then the case ids of the findings it overlaps
    known = set(frame["case_id"].astype(str)) if "case_id" in frame.columns else set()
    parts = [r.split(";") if isinstance(r, str) else [] for r in related]
    cases = [";".join(x for x in r if x in known) or None for r in parts]
    approvals = col(p, "approval_ids")
    approvals = pd.Series([a if isinstance(a, str) else (";".join(x for x in r if x not in known) or None)
                           for a, r in zip(approvals, parts)], index=p.index, dtype=object)
    share = np.where(area.to_numpy(dtype=float) > 0, pd.to_numeric(col(p, "approved"), errors="coerce").to_numpy(
        dtype=float) / area.to_numpy(dtype=float), np.nan)
    # what lies outside valid approvals (``free_*``; else FARM-PATCH's measured, the unapproved farmland)
    free = {k: round_mu(m2_to_mu(pd.to_numeric(col(p, "free_" + k) if "free_" + k in p.columns else (
        col(by_id, "measured") if k == "farm" else col(p, "free_" + k)), errors="coerce").to_numpy(dtype=float)))
        for k in ("farm", "pbf", "red")}
    reason = []
    for j, s_, fm, pm, rm in zip(judgement, share, free["farm"], free["pbf"], free["red"]):
        if j == "合法":
            reason.append(f"有效批准范围覆盖{s_:.1%}" if not np.isnan(s_) else "有效批准范围覆盖图斑")
        elif j == "违法":
            parts = [f"{k}{v:g}亩" for k, v in (("耕地", fm), ("永久基本农田", pm), ("生态保护红线", rm))
                     if not np.isnan(v) and v > 0]
            reason.append("未经批准占用" + ("、".join(parts) if parts else "耕地或生态保护红线"))
        elif j == "其他":
            reason.append("未占用耕地、生态保护红线（非耕地间变化）")
        else:
            reason.append(None if j == _NOT_JUDGED else "数据不足，待核查")
    columns = [col(p, "batch"), pd.Series(p.index, index=p.index, dtype=object), col(by_id, "township"),
               col(by_id, "village"), col(p, "change_type"), _date_text(col(p, "before_date")),
               _date_text(col(p, "after_date")), _rounded(area, 2, p.index),
               _rounded(pd.Series(m2_to_mu(area.to_numpy(dtype=float)), index=p.index), None, p.index)]
    columns += [pd.Series(mu[k], index=p.index, dtype=object).where(~np.isnan(mu[k]), None)
                for k in ("farm", "pbf", "red", "approved")]
    columns += [judgement, pd.Series(reason, index=p.index, dtype=object), approvals,
                pd.Series(cases, index=p.index, dtype=object), found]
    columns += [col(by_id, c) for c in ("verified", "verified_by", "verified_on", "remark")]
    table = pd.concat([c.reset_index(drop=True) for c in columns], axis=1)
    order = np.lexsort((table[1].astype(str).to_numpy(), table[0].fillna("").astype(str).to_numpy()))
    table = table.iloc[order]
    return table.astype(object).where(table.notna(), None).values.tolist()


def write_ledger(findings: pd.DataFrame, path: str | Path, *, previous: pd.DataFrame | None = None,
                 as_of: _dt.date | None = None, townships: pd.DataFrame | None = None,
                 patches: pd.DataFrame | None = None) -> Path:
    """Write the ledger: a summary sheet and one sheet per rule family.

    Parameters
    ----------
    findings : DataFrame or GeoDataFrame
        Findings (the contract's columns). A ``change`` column (from
        :func:`analyses.compare.compare_runs`) and verification columns are used when present.
    path : str or Path
        The ``.xlsx`` to write (replaced atomically).
    previous : DataFrame or GeoDataFrame, optional
        The previous run's findings: every case gets ``变化`` = 新增/持续/已整改 and the summary
        counts each.
    as_of : datetime.date, optional
        The run date: cases past their ``deadline`` and not rectified are overdue (when the findings
        carry no register column ``overdue``).
    townships : DataFrame, optional
        Per ``township``: ``farmland_base_mu``, ``farmland_now_mu``, ``pbf_base_mu``, ``pbf_now_mu``
        for the 乡镇考核 sheet's baseline and current areas (left out when not given).
    patches : DataFrame, optional
        The monitoring batch (role ``monitoring_patches``: ``patch_id``, ``batch``, ``change_type``,
        ``before_date``, ``after_date``), optionally with each patch's figures in m² as
        :func:`analyses.farmland_patches.patch_figures` computes them (``area``, ``farm``, ``pbf``, ``red``,
        ``approved``) and ``approval_ids``. When given (or when the findings hold ``FARM-PATCH`` rows) the
        ``卫片核查`` sheet lists one row per patch: its figures in 亩, the ``FARM-PATCH`` pre-judgement and why,
        the approvals and the other cases it touches, and the field team's verification columns; a patch
        without a finding (outside every village) is listed as 未预判.

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["110117001001"]},
    ...                      geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    >>> out = write_ledger(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "台账.xlsx")
    >>> read_ledger(out)[["rule_id", "area_m2"]].values.tolist()
    [['FARM-BUILD', 100.0]]
    """
    path = Path(path)
    frame = compare_runs(findings, previous) if previous is not None else findings
    missing = [c for c in ("case_id", "family", "area_m2") if c not in frame.columns]
    if missing:
        raise LayerError(f"findings: no column(s) {', '.join(missing)}; give findings written by `landguard check`")
    with_change = "change" in frame.columns
    wb = Workbook()
    ws = wb.active
    ws.title = _SUMMARY
    headers, rows, footer = _summary(frame, with_change)
    n_fam = len(FAMILY_SHEETS)
    _table(ws, headers, rows, footer=footer, text={0, 1, 2},
           formats={3 + 3 * i + k: _AREA_FORMAT for i in range(n_fam) for k in (1, 2)})
    for i in range(n_fam):
        _mu_formats(ws, 3 + 3 * i + 3)
    print_setup(ws, one_page=len(rows) <= 40)
    ws = wb.create_sheet(RECTIFICATION_SHEET)
    _table(ws, RECTIFICATION_COLUMNS, _rectification_rows(frame, as_of),
           text={i for i, c in enumerate(RECTIFICATION_COLUMNS) if c not in ("面积(平方米)", "面积(亩)", "照片数")},
           formats={5: _AREA_FORMAT, 6: _AREA_FORMAT})
    _mu_formats(ws, 7)
    print_setup(ws)
    order = [c for c in ("township", "village", "rule_id", "case_id") if c in frame.columns]
    frame = frame.sort_values(order, kind="stable", na_position="last")
    families = frame["family"].astype(object)
    sheets = dict(FAMILY_SHEETS)
    if (~families.isin(list(FAMILY_SHEETS))).any():
        sheets[None] = _OTHER
    headers = [COLUMN_LABELS[c] for c in _SHEET_COLUMNS]
    area = {_SHEET_COLUMNS.index(c): _AREA_FORMAT for c in ("measured", "limit", "area_m2", "area_mu")}
    for fam, title in sheets.items():
        chosen = families == fam if fam is not None else ~families.isin(list(FAMILY_SHEETS))
        ws = wb.create_sheet(title)
        _table(ws, headers, _finding_rows(frame[chosen.to_numpy()]), text=_SHEET_TEXT, formats=area)
        _mu_formats(ws, _SHEET_COLUMNS.index("area_mu") + 1)
        print_setup(ws)
    headers, rows = _assessment_rows(frame, townships)
    ws = wb.create_sheet(ASSESSMENT_SHEET)
    _table(ws, headers, rows, text={0, len(headers) - 1},
           formats={i: ("0.00%" if h == "整改率" else _AREA_FORMAT) for i, h in enumerate(headers) if "亩" in h or h == "整改率"})
    print_setup(ws)
    has_patches = patches is not None or ("rule_id" in frame.columns and (frame["rule_id"] == "FARM-PATCH").any())
    if has_patches:
        ws = wb.create_sheet(PATCH_SHEET)
        numeric = {"图斑面积(平方米)", "图斑面积(亩)", "耕地面积(亩)", "永久基本农田面积(亩)", "生态保护红线面积(亩)",
                   "批准用地面积(亩)", "核查日期"}
        _table(ws, PATCH_COLUMNS, _patch_rows(frame, patches),
               text={i for i, c in enumerate(PATCH_COLUMNS) if c not in numeric},
               formats={i: _AREA_FORMAT for i, c in enumerate(PATCH_COLUMNS) if "面积" in c})
        for i, c in enumerate(PATCH_COLUMNS):
            if "亩" in c:
                _mu_formats(ws, i + 1)
        print_setup(ws)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


# -- reading -------------------------------------------------------------------------------------


def _open(path: Path):
    if not path.is_file():
        raise OutputError(f"{path}: no such ledger; write one with `landguard ledger`")
    try:
        return load_workbook(path)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-ledgers
        raise OutputError(f"{path}: not an XLSX ledger openpyxl can read ({type(exc).__name__})") from None


def _iso(value):
    """Normalise a verification value: stripped text, ISO dates, None for empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read_ledger(path: str | Path) -> pd.DataFrame:
    """Read the finding rows of a ledger back, with canonical column names and values.

    Returns
    -------
    DataFrame
        One row per finding of every family sheet: ``family`` plus the ledger's columns under their
        canonical names (``case_id``, ``severity`` as ``high``/``medium``/``low``, ``verified_on`` as
        ``YYYY-MM-DD`` …); columns the user added keep their headers.

    Examples
    --------
    >>> read_ledger("no/such/ledger.xlsx")
    Traceback (most recent call last):
    ...
    spatial.errors.OutputError: no/such/ledger.xlsx: no such ledger; write one with `landguard ledger`
    """
    path = Path(path)
    wb = _open(path)
    names = {label: col for col, label in COLUMN_LABELS.items()}
    frames = []
    for fam, title in [*FAMILY_SHEETS.items(), (None, _OTHER)]:
        if title not in wb.sheetnames:
            continue
        rows = list(wb[title].iter_rows(values_only=True))
        if not rows:
            continue
        header = [names.get(h, h) for h in rows[0]]
        body = [r for r in rows[1:] if any(v is not None for v in r)]
        frame = pd.DataFrame(body, columns=header, dtype=object)
        frame.insert(0, "family", fam)
        frames.append(frame)
    wb.close()
    if not frames:
        return pd.DataFrame(columns=["family", *_SHEET_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    for col, labels in (("severity", SEVERITY_LABELS), ("status", STATUS_LABELS), ("subject_layer", _SUBJECT_LABELS),
                        ("unit", {"m": "米", "m²": "平方米", "°": "度"})):
        if col in out.columns:
            out[col] = _labelled(out[col], {v: k for k, v in labels.items()})
    if "status" in out.columns:
        out["status"] = out["status"].where(~out["status"].isin([STATUS_UNDATED, STATUS_NONE]), None)
    for col in ("measured", "limit", "area_m2", "area_mu"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    if "verified_on" in out.columns:
        out["verified_on"] = _objects(out["verified_on"], _iso)
    return out


# -- the round trip --------------------------------------------------------------------------------


def _returned_text(value) -> str | None:
    """A returned value as the ledger stores it: :func:`_iso`, control characters removed, IDs masked."""
    text = _iso(value)
    return None if text is None else mask_ids_in_text(ILLEGAL_CHARACTERS_RE.sub("", text)).strip() or None


def _read_returned(path: Path) -> pd.DataFrame:
    """case_id, the verification columns and lon/lat of each row of a returned GeoPackage."""
    if not path.is_file():
        raise LayerError(f"{path}: no such file; give the GeoPackage the field team returned")
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError:
        raise LayerError(f"{path}: not a GeoPackage GDAL can open") from None
    if "findings" not in layers:
        raise LayerError(f"{path}: no layer 'findings' (it has {', '.join(layers) or 'none'}); "
                         "give the GeoPackage written by `landguard export`")
    frame = pyogrio.read_dataframe(path, layer="findings")
    if "case_id" not in frame.columns:
        raise LayerError(f"{path}: layer findings has no column case_id; "
                         "give the GeoPackage written by `landguard export`")
    present = [c for c in VERIFICATION_COLUMNS if c in frame.columns]
    if not present:
        raise LayerError(f"{path}: layer findings has none of the columns {', '.join(VERIFICATION_COLUMNS)}")
    # masked as the ledger stores them, so that a second run of the same file finds nothing changed
    out = pd.DataFrame({"case_id": _objects(frame["case_id"], _returned_text)})
    for col in VERIFICATION_COLUMNS:
        out[col] = _objects(frame[col], _returned_text) if col in frame.columns else None
    lon = lat = np.full(len(frame), np.nan)
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and len(frame):
        points = frame.geometry.representative_point().to_crs(4326)
        lon, lat = np.round(points.x.to_numpy(), 7), np.round(points.y.to_numpy(), 7)
    out["lon"], out["lat"] = lon, lat
    return out


def _header_index(ws: Worksheet, path: Path) -> dict[str, int]:
    header = [c.value for c in ws[1]]
    index = {h: i for i, h in enumerate(header) if h is not None}
    need = ["案件编号", *(COLUMN_LABELS[c] for c in VERIFICATION_COLUMNS)]
    missing = [h for h in need if h not in index]
    if missing:
        raise OutputError(f"{path}: sheet {ws.title} has no column {', '.join(missing)}; "
                          "restore the header or write the ledger again with `landguard ledger`")
    return index


def _unmatched_rows(wb, returned: pd.DataFrame, source: str) -> tuple[list[list], bool]:
    """The 未匹配 sheet's rows after merging ``returned``'s rows in, and whether they changed."""
    old: list[list] = []
    if _UNMATCHED in wb.sheetnames:
        rows = list(wb[_UNMATCHED].iter_rows(values_only=True))
        old = [[_iso(v) if i < 6 or i == 8 else v for i, v in enumerate(r)]  # lon/lat stay numbers
               for r in rows[1:] if any(v is not None for v in r)]

    def key(row: list) -> tuple:
        # a case once per returned file; rows drawn in the field (no case id) once per place
        return (row[0], row[8]) if row[0] != _NO_ID else (row[0], row[8], row[6], row[7])

    merged: dict[tuple, list] = {key(r): r for r in old}
    for rec in returned.itertuples(index=False):
        row = [rec.case_id or _NO_ID, *(getattr(rec, c) for c in VERIFICATION_COLUMNS),
               None if np.isnan(rec.lon) else float(rec.lon), None if np.isnan(rec.lat) else float(rec.lat), source]
        merged[key(row)] = row
    rows = list(merged.values())
    return rows, rows != old


def apply_verification(ledger_path: str | Path, returned_gpkg: str | Path) -> VerifyResult:
    """Write the field team's verification results into the ledger, matching rows by ``case_id``.

    Only non-empty returned values are written (an empty field never erases an earlier result).
    Returned rows the ledger has no case for are listed in the result and in the ledger's
    ``未匹配`` sheet, never dropped. The ledger is replaced atomically, and only when something
    changed: running the same file in twice leaves the ledger byte for byte as the first run did.

    Parameters
    ----------
    ledger_path : str or Path
        A ledger written by :func:`write_ledger`.
    returned_gpkg : str or Path
        The GeoPackage exported by ``landguard export`` and filled in the field (layer ``findings``,
        columns ``case_id`` and :data:`VERIFICATION_COLUMNS`).

    Returns
    -------
    VerifyResult

    Examples
    --------
    >>> apply_verification("no/such/ledger.xlsx", "no/such/returned.gpkg")
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: no/such/returned.gpkg: no such file; give the GeoPackage the field team returned
    """
    ledger_path, returned_gpkg = Path(ledger_path), Path(returned_gpkg)
    returned = _read_returned(returned_gpkg)
    wb = _open(ledger_path)
    where: dict[str, tuple[Worksheet, int, dict[str, int]]] = {}
    for title in [*FAMILY_SHEETS.values(), _OTHER]:
        if title not in wb.sheetnames:
            continue
        ws = wb[title]
        index = _header_index(ws, ledger_path)
        for (cell,) in ws.iter_rows(min_row=2, min_col=index["案件编号"] + 1, max_col=index["案件编号"] + 1):
            if cell.value is not None:
                where[str(cell.value).strip()] = (ws, cell.row, index)

    has_id = returned["case_id"].notna()
    matched = returned[has_id & returned["case_id"].isin(list(where))]
    values = matched[["case_id", *VERIFICATION_COLUMNS]]
    distinct = values.astype(str).drop_duplicates()
    conflicting = sorted(distinct.loc[distinct["case_id"].duplicated(), "case_id"].unique().tolist())
    matched = matched.drop_duplicates("case_id", keep="last")

    updated = unchanged = 0
    for rec in matched.itertuples(index=False):
        ws, row, index = where[rec.case_id]
        changed = False
        for col in VERIFICATION_COLUMNS:
            new = getattr(rec, col)
            cell = ws.cell(row=row, column=index[COLUMN_LABELS[col]] + 1)
            if new is None or _iso(cell.value) == new:
                continue
            if col == "verified_on":
                try:
                    _put(cell, _dt.date.fromisoformat(new))
                    cell.number_format = _DATE_FORMAT
                except ValueError:
                    _put(cell, new, text=True)
            else:
                _put(cell, new, text=True)
            changed = True
        updated += changed
        unchanged += not changed

    unmatched = returned[~(has_id & returned["case_id"].isin(list(where)))]
    source = _returned_text(returned_gpkg.name)
    rows, sheet_changed = _unmatched_rows(wb, unmatched, source) if len(unmatched) else ([], False)
    if sheet_changed:
        if _UNMATCHED in wb.sheetnames:
            del wb[_UNMATCHED]
        _table(wb.create_sheet(_UNMATCHED), _UNMATCHED_COLUMNS, rows, text={0, 1, 2, 3, 4, 5, 8})
    if updated or sheet_changed:
        with atomic_path(ledger_path) as tmp:
            wb.save(tmp)
    wb.close()
    ids = [cid if cid is not None else _NO_ID for cid in unmatched["case_id"]]
    return VerifyResult(updated=int(updated), unchanged=int(unchanged), unmatched=ids, conflicting=conflicting)
