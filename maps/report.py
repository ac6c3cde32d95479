"""The monthly report (月报.pdf) and the patrol lists (巡查清单), drawn with matplotlib (spec/WORKFLOW.md §4, §5).

The report is an A4 PDF a leader reads in five minutes: headline figures, the cases by township and
family, the trend over the project's runs, rectification progress, the township ranking, the overdue
list and a small district map of open cases. The patrol lists are one A4 page per 田长 grid (else per
village): the open cases ordered by severity and deadline, with a locator sketch.

Everything is drawn in black, white and greys with hatches and marker shapes, so that it prints
legibly on a black-and-white printer. The Chinese font (Noto Sans CJK, Debian's ``fonts-noto-cjk``) is
embedded (the outlines of the glyphs used, as Type 3 fonts). Text from the data is drawn as plain text: matplotlib's ``$...$`` maths
parsing is switched off, and every ID number is masked.
"""

from __future__ import annotations

import datetime as _dt
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from layers.privacy import mask_ids_in_text
from spatial.atomic import atomic_path
from spatial.errors import LayerError, OutputError

__all__ = ["ReportData", "load_report_data", "write_report", "write_patrol_lists", "find_cjk_font",
           "REPORT_NAME", "PATROL_FOLDER"]

#: File name of the monthly report and folder of the patrol lists.
REPORT_NAME = "月报.pdf"
PATROL_FOLDER = "巡查清单"

_FAMILIES = {"farmland": "耕地非农化", "homestead": "宅基地", "setback": "退让", "siting": "公墓选址"}
_SEVERITY = {"high": "高", "medium": "中", "low": "低"}
_DONE = ("已整改", "已销号")
_CLOSED = ("已销号", "误报")
_GREYS = ["#202020", "#707070", "#b0b0b0", "#e0e0e0"]
_HATCHES = ["", "///", "...", "xx"]
_MARKERS = ["o", "s", "^", "D"]
_A4 = (8.27, 11.69)
_FONT_FACE = "Noto Sans CJK SC"  # simplified-Chinese glyph forms (the collection's first face is Japanese)
_FONT_FILES = {"regular": ("NotoSansCJKsc-Regular.otf", "NotoSansCJK-Regular.ttc"),
               "bold": ("NotoSansCJKsc-Bold.otf", "NotoSansCJK-Bold.ttc")}
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts"))


@dataclass
class ReportData:
    """What the report and the patrol lists show.

    Attributes
    ----------
    run_date : str
        Date of the latest run (``YYYY-MM-DD``), or of ``as_of``.
    cases : DataFrame
        One row per case of the latest run and of the register: the finding columns, ``progress``
        (未整改 / 整改中 / 已整改 / 已销号 / 误报), ``overdue`` (bool), ``change``, geometry.
    trend : DataFrame
        One row per run: ``run``, ``total``, ``new``, ``rectified`` (gone since the run before).
    district : str
        The district's name, for the title (the townships' when unknown).
    """

    run_date: str
    cases: pd.DataFrame
    trend: pd.DataFrame
    district: str = ""
    figures: dict = field(default_factory=dict)

    def summary_line(self) -> str:
        """The headline figures in one line, e.g. ``新增 3、未整改 12、超期 1、已整改 4``."""
        f = self.figures
        return (f"新增 {f['new']}、未整改 {f['open']}、超期 {f['overdue']}、已整改 {f['rectified']}、"
                f"占用耕地 {f['farm_mu']:.2f} 亩")


def _col(frame: pd.DataFrame, name: str, default=None) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=object)
    values = frame[name].astype(object)
    return values.where(values.notna(), default)


def _run_folders(project: Path) -> list[Path]:
    runs = project / "runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and (p / "findings.gpkg").is_file())


def _ids(path: Path) -> set:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer="findings", columns=["case_id"], read_geometry=False)
    return set(frame["case_id"].astype(object).dropna())


def _trend(runs: list[Path]) -> pd.DataFrame:
    rows, before = [], None
    for run in runs:
        ids = _ids(run / "findings.gpkg")
        new = len(ids) if before is None else len(ids - before)
        gone = 0 if before is None else len(before - ids)
        rows.append({"run": run.name, "total": len(ids), "new": new, "rectified": gone})
        before = ids
    return pd.DataFrame(rows, columns=["run", "total", "new", "rectified"])


def _derive(cases: pd.DataFrame, as_of: _dt.date) -> pd.DataFrame:
    """``progress`` and ``overdue`` for findings that carry no register columns."""
    out = cases.copy()
    if "progress" not in out.columns:
        gone = (_col(out, "change") == "已整改").to_numpy()
        out["progress"] = np.where(gone, "已整改", "未整改").astype(object)
    out["progress"] = _col(out, "progress", "未整改")
    if "overdue" in out.columns:
        out["overdue"] = pd.to_numeric(out["overdue"], errors="coerce").fillna(0).astype(bool)
    else:
        deadline = pd.to_datetime(_col(out, "deadline"), errors="coerce")
        out["overdue"] = ((deadline < pd.Timestamp(as_of)).fillna(False)
                          & ~out["progress"].isin([*_DONE, "误报"])).to_numpy()
    return out


def load_report_data(*, project: str | Path | None = None, findings: str | Path | None = None,
                     as_of: _dt.date | None = None) -> ReportData:
    """Gather what the report shows: a project folder's latest run, its register and the trend over its runs.

    Parameters
    ----------
    project : path, optional
        A project folder (``runs/<date>/findings.gpkg``, ``cases.gpkg``).
    findings : path, optional
        Instead of a project: one run's ``findings.gpkg`` (or its folder); no trend.
    as_of : datetime.date, optional
        Date for overdue cases without a register (default: the run's date, else today).

    Returns
    -------
    ReportData

    Examples
    --------
    >>> load_report_data(project="no/such/project")
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: no/such/project: 项目文件夹中没有任何运行结果 (no runs/<date>/findings.gpkg); run `landguard check --project no/such/project` first
    """
    from analyses.compare import read_changes, read_findings

    register = None
    if project is not None:
        project = Path(project)
        runs = _run_folders(project)
        if not runs:
            raise LayerError(f"{project}: 项目文件夹中没有任何运行结果 (no runs/<date>/findings.gpkg); "
                             f"run `landguard check --project {project}` first")
        latest = runs[-1]
        trend = _trend(runs)
        run_date = latest.name
        if (project / "cases.gpkg").exists():
            from analyses.register import read_register

            register = read_register(project / "cases.gpkg")
        source = latest / "findings.gpkg"
    else:
        source = Path(findings)
        trend = pd.DataFrame(columns=["run", "total", "new", "rectified"])
        run_date = (as_of or _dt.date.today()).isoformat()
    cases = read_changes(source)
    if cases is None:
        cases = read_findings(source)
        if project is not None and len(runs) > 1:  # the cases gone since the run before count as rectified
            from analyses.compare import compare_runs

            cases = compare_runs(cases, read_findings(runs[-2] / "findings.gpkg"))
    if register is not None and len(register):
        cases = register.to_crs(cases.crs) if cases.crs is not None and register.crs is not None else register
        if "change" not in cases.columns:
            cases["change"] = None
    if as_of is None:
        try:
            as_of = _dt.date.fromisoformat(run_date)
        except ValueError:
            as_of = _dt.date.today()
    cases = _derive(cases, as_of)
    if project is None:
        live = _col(cases, "change") != "已整改"
        trend = pd.DataFrame([{"run": run_date, "total": int(live.sum()),
                               "new": int((_col(cases, "change") == "新增").sum()),
                               "rectified": int((~live).sum())}])
    towns = sorted(set(_col(cases, "township").dropna().astype(str)))
    data = ReportData(run_date=run_date, cases=cases, trend=trend,
                      district=mask_ids_in_text("、".join(towns[:3]) + ("等" if len(towns) > 3 else "")))
    data.figures = _figures(data)
    return data


def _open_mask(cases: pd.DataFrame) -> np.ndarray:
    return (~cases["progress"].isin([*_DONE, *_CLOSED])).to_numpy()


def _figures(data: ReportData) -> dict:
    c = data.cases
    open_ = _open_mask(c)
    farm = (_col(c, "family") == "farmland").to_numpy()
    mu = pd.to_numeric(_col(c, "area_mu"), errors="coerce").fillna(0.0).to_numpy(dtype=float)
    high = (_col(c, "severity") == "high").to_numpy()
    change = _col(c, "change")
    last = data.trend.iloc[-1] if len(data.trend) else None
    new = int((change == "新增").sum()) if change.notna().any() else int(last["new"]) if last is not None else 0
    return {
        "new": new,
        "open": int(open_.sum()),
        "overdue": int((c["overdue"].to_numpy(dtype=bool) & open_).sum()),
        "rectified": int(c["progress"].isin(_DONE).sum()),
        "farm_mu": float(round(mu[open_ & farm].sum(), 2)),
        "pbf_mu": float(round(mu[open_ & farm & high].sum(), 2)),
    }


# -- drawing --------------------------------------------------------------------------------------------


def _sc_face(collection: Path, weight: str) -> Path:
    """The simplified-Chinese face of a Noto CJK collection as a font file of its own (cached)."""
    from fontTools.ttLib import TTCollection

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "landguard" / "fonts"
    target = cache / f"NotoSansCJKsc-{weight}-{collection.stat().st_size}.otf"
    if target.is_file():
        return target
    faces = TTCollection(str(collection), lazy=True).fonts
    face = next((f for f in faces if f["name"].getDebugName(1) == _FONT_FACE), faces[0])
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        face.save(str(tmp))
    return target


def find_cjk_font(weight: str = "regular") -> Path:
    """The Noto Sans CJK SC font file (Debian's ``fonts-noto-cjk``), ``regular`` or ``bold``.

    From Debian's collection (``.ttc``) the simplified-Chinese face is written once to a font file of
    its own in ``~/.cache/landguard/fonts`` (matplotlib reads the first face of a collection only).

    Raises
    ------
    OutputError
        When no such font is installed (one line saying what to install).

    Examples
    --------
    >>> find_cjk_font().name.startswith("NotoSansCJK")  # doctest: +SKIP
    True
    """
    for name in _FONT_FILES[weight]:
        for folder in _FONT_DIRS:
            hits = sorted(glob.glob(os.path.join(glob.escape(folder), "**", name), recursive=True))
            if hits:
                return _sc_face(Path(hits[0]), weight) if name.endswith(".ttc") else Path(hits[0])
    raise OutputError("月报需要中文字体 Noto Sans CJK (no Chinese font found): install Debian's fonts-noto-cjk "
                      "(apt-get install fonts-noto-cjk, or `bash tools/ensure-office.sh`)")


_ADDED: set[str] = set()


def _style(*, bold: bool = True):
    """matplotlib settings of every page: the CJK font embedded (as Type 3 outlines of the glyphs used: quick, and pdftotext reads them), no maths parsing of data text.

    Without ``bold`` only the regular face is registered (headings drawn in it): one font to embed,
    which halves the time a page takes.
    """
    import matplotlib
    from matplotlib import font_manager

    fonts = [find_cjk_font("regular")]
    if bold:
        try:
            fonts.append(find_cjk_font("bold"))
        except OutputError:
            pass
    for font in fonts:
        if str(font) not in _ADDED:
            font_manager.fontManager.addfont(str(font))
            _ADDED.add(str(font))
    name = font_manager.FontProperties(fname=str(fonts[0])).get_name()
    return matplotlib.rc_context({
        "font.family": [name], "pdf.fonttype": 3, "font.weight": "normal", "text.parse_math": False, "axes.unicode_minus": False,
        "font.size": 9, "axes.titlesize": 11, "axes.edgecolor": "#000000", "hatch.linewidth": 0.6,
        "svg.fonttype": "none",
    })


def _t(value) -> str:
    """Data text as drawn: masked, never None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return mask_ids_in_text(str(value))


def _fit(text: str, room: int) -> str:
    """``text`` cut to ``room`` half-width characters (Chinese counting two), with … when cut."""
    import unicodedata

    units = np.cumsum([2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text]) if text else []
    if not len(units) or units[-1] <= room:
        return text
    return text[: int(np.searchsorted(units, room - 1, side="right"))] + "…"


def _page():
    from matplotlib.figure import Figure

    return Figure(figsize=_A4)


def _headline(fig, data: ReportData) -> None:
    f = data.figures
    fig.text(0.5, 0.965, f"耕地保护与违法用地整改月报（{data.run_date}）", ha="center", va="top", fontsize=16,
             weight="bold")
    fig.text(0.5, 0.938, f"{data.district}　数据截至 {data.run_date}，共 {len(data.trend)} 期监测", ha="center",
             va="top", fontsize=9)
    items = [("本期新增问题", f"{f['new']} 处"), ("未整改问题", f"{f['open']} 处"), ("超期未整改", f"{f['overdue']} 处"),
             ("已整改/销号", f"{f['rectified']} 处"), ("占用耕地", f"{f['farm_mu']:.2f} 亩"),
             ("其中永久基本农田", f"{f['pbf_mu']:.2f} 亩")]
    fig.text(0.06, 0.905, "一、主要数据", fontsize=12, weight="bold", va="top")
    for i, (label, value) in enumerate(items):
        x = 0.06 + (i % 3) * 0.30
        y = 0.865 - (i // 3) * 0.055
        fig.patches.append(_box(fig, x - 0.01, y - 0.03, 0.28, 0.048))
        fig.text(x, y + 0.005, label, fontsize=9, va="center")
        fig.text(x + 0.26, y - 0.005, value, fontsize=13, weight="bold", va="center", ha="right")


def _box(fig, x, y, w, h):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, transform=fig.transFigure, fill=False, linewidth=0.8, edgecolor="#000000")


def _whole(axis) -> None:
    """Counts on an axis: whole-number ticks only."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _by_township(ax, data: ReportData) -> None:
    c = data.cases[_open_mask(data.cases)]
    town = _col(c, "township", "（未知）").astype(str).map(_t)
    fam = _col(c, "family", "other").astype(str)
    table = pd.crosstab(town, fam).reindex(columns=[k for k in _FAMILIES if k in set(fam)], fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=True).index]
    left = np.zeros(len(table))
    for i, key in enumerate(table.columns):
        values = table[key].to_numpy()
        ax.barh(table.index, values, left=left, color=_GREYS[i % 4], hatch=_HATCHES[i % 4], edgecolor="#000000",
                linewidth=0.5, label=_FAMILIES.get(key, key))
        left += values
    for y, total in enumerate(left):
        ax.text(total, y, f" {int(total)}", va="center", fontsize=8)
    ax.set_title("二、未整改问题：按乡镇和类别（处）", loc="left", weight="bold")
    ax.set_xlabel("处")
    _whole(ax.xaxis)
    if len(table.columns):
        ax.legend(loc="lower right", fontsize=8, frameon=True)
    ax.spines[["top", "right"]].set_visible(False)


def _trend_chart(ax, data: ReportData) -> None:
    t = data.trend.tail(12)  # the last twelve runs
    x = np.arange(len(t))
    for i, (key, label) in enumerate((("total", "问题总数"), ("new", "新增"), ("rectified", "已整改"))):
        ax.plot(x, t[key].to_numpy(dtype=float), marker=_MARKERS[i], color="#000000",
                linestyle=["-", "--", ":"][i], label=label)
        for xi, v in zip(x, t[key]):
            ax.annotate(f"{int(v)}", (xi, v), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
    ax.set_xticks(x, [_t(r) for r in t["run"]], rotation=0 if len(t) <= 4 else 30, fontsize=7)
    ax.set_title("三、历期变化（处）", loc="left", weight="bold")
    _whole(ax.yaxis)
    ax.legend(fontsize=8)
    ax.set_xlim(-0.5, max(len(t) - 0.5, 0.5))
    ax.spines[["top", "right"]].set_visible(False)


def _progress_chart(ax, data: ReportData) -> None:
    from analyses.register import PROGRESS

    counts = data.cases["progress"].value_counts().reindex(list(PROGRESS), fill_value=0)
    y = np.arange(len(counts))
    ax.barh(y, counts.to_numpy(), color=[_GREYS[i % 4] for i in range(len(counts))],
            hatch=None, edgecolor="#000000", linewidth=0.5)
    for bar, hatch in zip(ax.patches, ["", "///", "...", "xx", "\\\\"]):
        bar.set_hatch(hatch)
    for yi, v in zip(y, counts.to_numpy()):
        ax.text(v, yi, f" {int(v)}", va="center", fontsize=8)
    ax.set_yticks(y, list(counts.index))
    ax.invert_yaxis()
    ax.set_title("四、整改进度（处）", loc="left", weight="bold")
    _whole(ax.xaxis)
    ax.spines[["top", "right"]].set_visible(False)


def _table(ax, headers: list[str], rows: list[list], *, title: str, fontsize: float = 7.5, widths=None,
           whole: tuple[int, ...] = ()) -> None:
    """A table of ``rows`` under ``title``; cell text cut to its column with … (except columns ``whole``: ids)."""
    ax.axis("off")
    ax.set_title(title, loc="left", weight="bold")
    if not rows:
        ax.text(0.0, 0.9, "（无）", transform=ax.transAxes, fontsize=9)
        return
    fig_w, fig_h = ax.figure.get_size_inches()
    fig_h *= ax.get_position().height
    height = min(1.0, (len(rows) + 1) * fontsize * 2.1 / 72 / fig_h)  # rows about twice the font size tall
    widths = widths or [1 / len(headers)] * len(headers)
    # what fits in a cell, in half-width characters (a Chinese character is about the font size wide)
    room = [max(int(w * fig_w * ax.get_position().width * 72 / (fontsize / 2)) - 2, 4) for w in widths]
    cells = [[_t(v) if i in whole else _fit(_t(v), room[i]) for i, v in enumerate(r)] for r in rows]
    table = ax.table(cellText=cells, colLabels=headers, bbox=[0, 1 - height, 1, height],
                     cellLoc="left", colLoc="left", colWidths=widths)
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, _), cell in table.get_celld().items():
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor("#d9d9d9")
            cell.get_text().set_weight("bold")


def _ranking(ax, data: ReportData) -> None:
    from analyses.ledger import township_assessment

    table = township_assessment(data.cases)
    rows = [[r["排名"], r["乡镇"], r["新增问题(处)"], r["未整改(处)"], r["已整改(处)"], f"{r['整改率'] * 100:.1f}%",
             f"{r['问题占用耕地(亩)']:.2f}", r["备注"] or ""] for _, r in table.iterrows()]
    _table(ax, ["排名", "乡镇", "新增", "未整改", "已整改", "整改率", "占用耕地(亩)", "备注"], rows,
           title="五、乡镇排名（按整改率；末位三名约谈）", widths=[0.07, 0.2, 0.08, 0.09, 0.09, 0.1, 0.14, 0.23])


def _overdue_rows(data: ReportData, limit: int) -> tuple[list[list], int]:
    c = data.cases
    od = c[c["overdue"].to_numpy(dtype=bool) & _open_mask(c)]
    od = od.sort_values([x for x in ("deadline", "township", "village", "case_id") if x in od.columns])
    rows = [[r.get("case_id"), r.get("township"), r.get("village"), r.get("rule_name"), r.get("deadline"),
             r.get("lead_unit"), r.get("progress")] for r in od.head(limit).to_dict("records")]
    return rows, max(len(od) - limit, 0)


def _district_map(ax, data: ReportData) -> None:
    c = data.cases[_open_mask(data.cases)]
    ax.set_title("七、未整改问题分布", loc="left", weight="bold")
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if "geometry" not in c.columns or not len(c) or c.geometry.isna().all():
        ax.text(0.5, 0.5, "（无）", transform=ax.transAxes, ha="center")
        return
    import geopandas as gpd

    g = gpd.GeoDataFrame(c, geometry="geometry")
    if g.crs is not None and g.crs.is_geographic:
        g = g.to_crs(g.estimate_utm_crs())
    pts = g.geometry.representative_point()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    fam = _col(g, "family", "other").astype(str).to_numpy()
    for i, key in enumerate(_FAMILIES):
        sel = fam == key
        if sel.any():
            ax.scatter(x[sel], y[sel], marker=_MARKERS[i], s=18, facecolor=_GREYS[i], edgecolor="#000000",
                       linewidth=0.5, label=_FAMILIES[key])
    od = g["overdue"].to_numpy(dtype=bool)
    if od.any():
        ax.scatter(x[od], y[od], marker="o", s=70, facecolor="none", edgecolor="#000000", linewidth=1.2,
                   label="超期")
    town = _col(g, "township").astype(object).to_numpy()
    for name in pd.unique(town[pd.notna(town)]):  # each township's name at the middle of its cases
        sel = town == name
        ax.text(float(np.median(x[sel])), float(np.median(y[sel])), _t(name), fontsize=9, ha="center", va="center",
                weight="bold", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#000000", "lw": 0.5,
                                     "alpha": 0.85})
    ax.legend(fontsize=7, loc="best")
    span = max(np.nanmax(x) - np.nanmin(x), 1.0)
    bar = 10 ** np.floor(np.log10(span / 4))
    x0, y0 = np.nanmin(x), np.nanmin(y) - 0.05 * span
    ax.plot([x0, x0 + bar], [y0, y0], color="#000000", linewidth=2)
    ax.text(x0 + bar / 2, y0, f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m", ha="center", va="bottom",
            fontsize=7)
    ax.annotate("北", xy=(0.95, 0.95), xytext=(0.95, 0.83), xycoords="axes fraction", ha="center",
                arrowprops={"arrowstyle": "-|>", "color": "#000000"}, fontsize=8)


def write_report(data: ReportData, path: str | Path) -> Path:
    """Write the monthly report 月报.pdf (A4, three pages), replacing ``path`` atomically.

    Parameters
    ----------
    data : ReportData
        From :func:`load_report_data`.
    path : str or Path
        The PDF to write; its folder is created.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> cases = gpd.GeoDataFrame({"case_id": ["c1"], "township": ["甲镇"], "family": ["farmland"],
    ...     "area_mu": [1.5], "change": ["新增"], "progress": ["未整改"], "overdue": [False]},
    ...     geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    >>> data = ReportData("2026-06-01", cases, pd.DataFrame({"run": ["2026-06-01"], "total": [1], "new": [1],
    ...                   "rectified": [0]}))
    >>> data.figures = _figures(data)
    >>> write_report(data, Path(tempfile.mkdtemp()) / "月报.pdf").stat().st_size > 10000  # doctest: +SKIP
    True
    """
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path.parent}: 无法创建文件夹（{exc.strerror or exc}）(cannot create the folder)") from None
    with _style(), atomic_path(path) as tmp, PdfPages(tmp, metadata={"Title": f"月报 {data.run_date}",
                                                                      "Creator": "landguard"}) as pdf:
        fig = _page()
        _headline(fig, data)
        _by_township(fig.add_axes([0.16, 0.42, 0.78, 0.33]), data)
        _trend_chart(fig.add_axes([0.08, 0.07, 0.40, 0.27]), data)
        _progress_chart(fig.add_axes([0.62, 0.07, 0.32, 0.27]), data)
        fig.text(0.5, 0.015, "第 1 页", ha="center", fontsize=8)
        pdf.savefig(fig)

        fig = _page()
        _ranking(fig.add_axes([0.06, 0.52, 0.88, 0.42]), data)
        rows, more = _overdue_rows(data, 25)
        _table(fig.add_axes([0.06, 0.05, 0.88, 0.42]), ["案件编号", "乡镇", "村", "规则", "整改期限", "牵头单位", "进度"],
               rows, title=f"六、超期未整改问题（{data.figures['overdue']} 处）" + (f"，另有 {more} 处见台账" if more else ""),
               widths=[0.22, 0.11, 0.11, 0.2, 0.11, 0.16, 0.09], whole=(0,))
        fig.text(0.5, 0.015, "第 2 页", ha="center", fontsize=8)
        pdf.savefig(fig)

        fig = _page()
        _district_map(fig.add_axes([0.08, 0.30, 0.84, 0.64]), data)
        fig.text(0.08, 0.27, "说明：图中每个符号为一处未整改问题（代表点），形状区分类别，粗圆圈为超期问题。", fontsize=8)
        fig.text(0.5, 0.015, "第 3 页", ha="center", fontsize=8)
        pdf.savefig(fig)
    return path


# -- patrol lists -----------------------------------------------------------------------------------------


def _patrol_groups(cases: pd.DataFrame) -> tuple[str, pd.Series]:
    """Group key of each open case: its 田长 grid when the findings carry grids, else its village."""
    grid = _col(cases, "grid_id")
    if grid.notna().any():
        village = _col(cases, "village_id", "未分村")
        return "grid", grid.where(grid.notna(), "无网格_" + village.astype(str))
    return "village", _col(cases, "village_id", "未分村").astype(str)


def write_patrol_lists(data: ReportData, folder: str | Path, *, limit: int = 28) -> dict[str, Path]:
    """One A4 PDF page per 田长 grid (else per village): the open cases to patrol, with a locator sketch.

    Cases are ordered by severity (high first), then deadline. A page lists at most ``limit`` cases and
    says how many more the field file holds. File names are safe stems of the grid or village id, inside
    ``folder``.

    Returns
    -------
    dict
        Grid (or village) id → the PDF written.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> cases = gpd.GeoDataFrame({"case_id": ["c1"], "village_id": ["../v1"], "severity": ["high"],
    ...     "progress": ["未整改"], "overdue": [False]}, geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    >>> data = ReportData("2026-06-01", cases, pd.DataFrame())
    >>> [p.name for p in write_patrol_lists(data, tempfile.mkdtemp()).values()]  # doctest: +SKIP
    ['_v1.pdf']
    """
    from matplotlib.backends.backend_pdf import PdfPages

    from .filenames import file_stem, path_in

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    c = data.cases[_open_mask(data.cases)].copy()
    kind, key = _patrol_groups(c)
    c["_key"] = key.to_numpy()
    c["_sev"] = _col(c, "severity").map({"high": 0, "medium": 1, "low": 2}).fillna(3).to_numpy()
    c["_deadline"] = _col(c, "deadline", "9999-12-31").astype(str).to_numpy()
    c = c.sort_values(["_key", "_sev", "_deadline", "case_id"], kind="stable")
    out: dict[str, Path] = {}
    with _style():
        for gid, group in c.groupby("_key", sort=True):
            path = path_in(folder, file_stem(gid), ".pdf")
            fig = _page()
            first = group.iloc[0]
            where = f"{_t(first.get('township'))} {_t(first.get('village'))}".strip()
            label = "田长网格" if kind == "grid" else "行政村"
            fig.text(0.5, 0.965, f"巡查清单 — {label} {_t(gid)}", ha="center", va="top", fontsize=15, weight="bold")
            fig.text(0.5, 0.935, f"{where}　{data.run_date}　待巡查 {len(group)} 处（按严重程度、整改期限排序）",
                     ha="center", va="top", fontsize=9)
            rows = [[i + 1, r.get("case_id"), r.get("rule_name"), _SEVERITY.get(r.get("severity"), r.get("severity")),
                     f"{r.get('subject_id') or ''}", r.get("deadline"), "超期" if r.get("overdue") else "",
                     r.get("remedy"), "□"] for i, r in enumerate(group.head(limit).to_dict("records"))]
            more = len(group) - limit
            _table(fig.add_axes([0.05, 0.36, 0.90, 0.53]),
                   ["序号", "案件编号", "问题", "严重", "对象", "整改期限", "超期", "处置", "已巡查"], rows,
                   title="待巡查问题" + (f"（另有 {more} 处见外业文件）" if more > 0 else ""), fontsize=7,
                   widths=[0.05, 0.2, 0.18, 0.05, 0.16, 0.1, 0.05, 0.14, 0.07], whole=(1,))
            ax = fig.add_axes([0.2, 0.06, 0.6, 0.26])
            _locator(ax, group.head(limit))
            fig.text(0.05, 0.02, "巡查人：__________　日期：__________　（数字为序号，位置示意，非比例尺精确图）", fontsize=8)
            with atomic_path(path) as tmp, PdfPages(tmp, metadata={"Title": f"巡查清单 {gid}",
                                                                    "Creator": "landguard"}) as pdf:
                pdf.savefig(fig)
            out[str(gid)] = path
    return out


def _locator(ax, group: pd.DataFrame) -> None:
    ax.set_title("位置示意", loc="left", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    if "geometry" not in group.columns or group.geometry.isna().all():
        return
    import geopandas as gpd

    g = gpd.GeoDataFrame(group, geometry="geometry")
    if g.crs is not None and g.crs.is_geographic:
        g = g.to_crs(g.estimate_utm_crs())
    g.boundary.plot(ax=ax, color="#000000", linewidth=0.6)
    ax.set_xlabel("")
    ax.set_ylabel("")
    pts = g.geometry.representative_point()
    for i, (x, y) in enumerate(zip(pts.x, pts.y)):
        ax.annotate(str(i + 1), (x, y), fontsize=7, ha="center", va="center",
                    bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": "#000000", "lw": 0.5})
    ax.margins(0.15)
