"""The monthly report 月报.pdf and the patrol lists (spec/WORKFLOW.md §4, §5), checked on the PDFs themselves."""

import shutil
import subprocess

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from analyses.findings import concat_findings, finalise
from analyses.registry import CATALOGUE
from landguard.cli.main import cli
from maps.report import load_report_data, write_patrol_lists, write_report
from tests.builders import CRS, frame, square

ID = "110117199001011234"
TOWNS = {"V1": ("110117104201", "甲村", "金海湖镇"), "V2": ("110117104202", "乙村", "金海湖镇"),
         "V3": ("110117105201", "丙村", "峪口镇")}

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                reason="needs poppler-utils: run `bash tools/ensure-office.sh` (make system-test-deps)")


def _findings(subjects):
    rows = []
    for sid, v, x, grid, deadline, severity in subjects:
        vid, name, town = TOWNS[v]
        rows.append({"subject_layer": "buildings", "subject_id": sid, "village_id": vid, "village": name,
                     "township": town, "status": "new", "geometry": square(x, 0, 20), "grid_id": grid,
                     "deadline": deadline, "severity": severity})
    f = finalise(CATALOGUE["FARM-BUILD"], frame(rows))  # sorted by case_id: set the routing by subject
    by_subject = {r["subject_id"]: r for r in rows}
    for col in ("grid_id", "deadline", "severity"):
        f[col] = [by_subject[s][col] for s in f["subject_id"]]
    return concat_findings([f], crs=CRS)


RUN1 = [("B1", "V1", 0, "G1", "2026-04-30", "high"), ("B2", "V1", 100, "G1", "2026-09-30", "medium"),
        ("B3", "V2", 200, "G2", "2026-09-30", "medium"), ("B4", "V3", 300, "G3", "2026-09-30", "medium")]
# run 2: B2 rectified, B5 new; B1's deadline passed
RUN2 = [s for s in RUN1 if s[0] != "B2"] + [("B5", "V3", 400, "G3", "2026-12-31", "high")]


def _project(tmp_path):
    project = tmp_path / "project"
    for date, subjects in (("2026-03-01", RUN1), ("2026-06-01", RUN2)):
        run = project / "runs" / date
        run.mkdir(parents=True)
        pyogrio.write_dataframe(_findings(subjects), run / "findings.gpkg", layer="findings")
    return project


def _text(pdf, first=None, last=None):
    args = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def _png(pdf, out, page=1):
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out)], check=True)
    import matplotlib.image

    return matplotlib.image.imread(str(out) + ".png")


def test_report_holds_the_headings_and_the_run_figures(tmp_path):
    project = _project(tmp_path)
    data = load_report_data(project=project)
    assert data.run_date == "2026-06-01"
    assert data.trend[["run", "total", "new", "rectified"]].values.tolist() == [
        ["2026-03-01", 4, 4, 0], ["2026-06-01", 4, 1, 1]]
    # open: B1 B3 B4 B5; overdue: B1 (deadline 2026-04-30 before the run of 2026-06-01)
    assert (data.figures["open"], data.figures["overdue"]) == (4, 1)
    pdf = write_report(data, tmp_path / "out" / "月报.pdf")
    assert _pages(pdf) == 3
    text = _text(pdf)
    flat = text.replace(" ", "")
    for heading in ("耕地保护与违法用地整改月报", "主要数据", "按乡镇和类别", "历期变化", "整改进度", "乡镇排名",
                    "超期未整改问题", "未整改问题分布"):
        assert heading in flat, heading
    mu = 4 * 400 / (10000 / 15)
    assert f"{mu:.2f}亩" in flat                                     # farmland occupied by the open cases
    # the headline boxes: labels, then their figures, row by row
    assert "本期新增问题未整改问题超期未整改\n1处4处1处" in flat
    assert "已整改/销号占用耕地其中永久基本农田\n1处" in flat
    assert "2026-03-01" in text and "2026-06-01" in text             # the trend's runs
    assert "金海湖镇" in text and "峪口镇" in text
    b1 = data.cases.loc[data.cases["subject_id"] == "B1", "case_id"].iloc[0]
    assert b1 in text                                                # the overdue list names the case
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSansCJK" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])


def test_report_pages_are_not_blank_and_print_in_grey(tmp_path):
    pdf = write_report(load_report_data(project=_project(tmp_path)), tmp_path / "月报.pdf")
    for page in (1, 2, 3):
        img = _png(pdf, tmp_path / f"p{page}", page)
        assert img.std() > 0.05, page                                # not a blank page
        assert (img < 0.5).mean() > 0.002, page                      # some ink
    rgb = subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                          str(tmp_path / "c")], check=True)
    import matplotlib.image

    colour = matplotlib.image.imread(str(tmp_path / "c.png"))[..., :3]
    assert np.abs(colour - colour.mean(axis=2, keepdims=True)).max() < 0.02  # greys only: no colour carries meaning
    assert rgb.returncode == 0


def test_patrol_lists_one_page_per_grid_open_cases_only(tmp_path):
    data = load_report_data(project=_project(tmp_path))
    pages = write_patrol_lists(data, tmp_path / "巡查清单")
    assert sorted(pages) == ["G1", "G2", "G3"]
    ids = dict(zip(data.cases["subject_id"], data.cases["case_id"]))
    for gid, pdf in pages.items():
        assert pdf.parent == tmp_path / "巡查清单" and _pages(pdf) == 1
        assert _png(pdf, tmp_path / gid).std() > 0.05
    g1, g3 = _text(pages["G1"]), _text(pages["G3"])
    assert "巡查清单" in g1 and "G1" in g1 and ids["B1"] in g1
    assert ids["B2"] not in g1                                       # rectified: not patrolled
    assert ids["B3"] not in g1 and ids["B4"] in g3 and ids["B5"] in g3
    assert g3.index(ids["B5"]) < g3.index(ids["B4"])                 # severity high first
    assert "超期" in g1


def test_patrol_lists_per_village_without_grids_and_hostile_ids(tmp_path):
    f = _findings(RUN1)
    f["grid_id"] = None
    f.loc[f["subject_id"] == "B4", "village_id"] = "../../escape"
    f.loc[f["subject_id"] == "B3", "village"] = "$\\frac{1}{0}$乙村"
    f.loc[f["subject_id"] == "B3", "township"] = f"户主{ID}镇"
    run = tmp_path / "run"
    run.mkdir()
    pyogrio.write_dataframe(f, run / "findings.gpkg", layer="findings")
    data = load_report_data(findings=run, as_of=__import__("datetime").date(2026, 6, 1))
    out = tmp_path / "lists"
    pages = write_patrol_lists(data, out)
    assert set(pages) == {"110117104201", "110117104202", "../../escape"}
    assert all(p.parent == out for p in pages.values()) and not (tmp_path / "escape.pdf").exists()
    text = _text(pages["110117104202"])
    assert "$\\frac{1}{0}$乙村" in text                              # drawn as text, never as maths
    assert ID not in text and "110117********1234" in text
    report = write_report(data, tmp_path / "月报.pdf")
    assert ID not in _text(report)


def test_report_command_writes_into_the_project(tmp_path):
    project = _project(tmp_path)
    result = CliRunner().invoke(cli, ["report", "--project", str(project)])
    assert result.exit_code == 0, result.output
    out = project / "reports" / "2026-06-01"
    assert (out / "月报.pdf").is_file() and len(list((out / "巡查清单").glob("*.pdf"))) == 3
    assert "新增 1" in result.output and "超期 1" in result.output
    bad = CliRunner().invoke(cli, ["report", "--project", str(tmp_path)])
    assert bad.exit_code == 2 and "runs/<date>/findings.gpkg" in bad.output
    both = CliRunner().invoke(cli, ["report"])
    assert both.exit_code == 2 and "--project" in both.output


def test_report_reads_the_case_register(tmp_path):
    import datetime as dt

    from analyses.register import merge_run, write_register

    project = _project(tmp_path)
    reg = merge_run(None, _findings(RUN1), dt.date(2026, 3, 1))
    reg = merge_run(reg, _findings(RUN2), dt.date(2026, 6, 1), previous_run="2026-03-01")
    write_register(reg, project / "cases.gpkg")
    data = load_report_data(project=project)
    by = dict(zip(data.cases["subject_id"], data.cases["progress"]))
    assert len(data.cases) == 5 and by["B2"] not in ("未整改", "整改中")   # the register's gone case
    assert data.figures["open"] == 4 and data.figures["new"] == 1
    assert data.figures["overdue"] == int(reg["overdue"].astype(int).sum()) == 1
    text = _text(write_report(data, tmp_path / "月报.pdf")).replace(" ", "")
    assert f"未整改问题超期未整改\n1处4处{data.figures['overdue']}处" in text


def test_long_cell_text_is_cut_to_its_column_but_case_ids_stay_whole(tmp_path):
    from maps.report import _fit

    assert _fit("区农村乱占耕地建房专项整治行动工作专班", 12) == "区农村乱占…"
    assert _fit("短", 12) == "短" and _fit("", 3) == ""
    project = _project(tmp_path)
    run = project / "runs" / "2026-06-01" / "findings.gpkg"
    f = pyogrio.read_dataframe(run, layer="findings")
    f["lead_unit"] = "区农村乱占耕地建房专项整治行动工作专班（区规划自然资源分局牵头）"
    f["case_id"] = f["case_id"].str.replace("FARM-BUILD-", "FARM-MISPLACED-CEMETERY-")
    pyogrio.write_dataframe(f, run, layer="findings")
    data = load_report_data(project=project)
    text = _text(write_report(data, tmp_path / "月报.pdf"), 2, 2)
    od = data.cases.loc[data.cases["overdue"].astype(bool), "case_id"].iloc[0]
    assert od.startswith("FARM-MISPLACED-CEMETERY-") and od in text
    assert "…" in text and "（区规划自然资源分局牵头）" not in text
