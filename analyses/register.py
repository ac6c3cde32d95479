"""The case register (案件库, ``DIR/cases.gpkg`` layer ``cases``): one row per ``case_id`` over all runs.

``landguard check --project DIR`` merges each run's findings into the register and ``landguard verify
--project DIR`` merges the field's verdicts and photos (spec/WORKFLOW.md §1, §2). The register file is
always replaced whole (:func:`spatial.atomic.atomic_path`): a reader sees the old register or the new
one, never half of one.

Columns (:data:`REGISTER_COLUMNS`, geometry last): the latest finding's columns
(:data:`analyses.findings.FINDING_COLUMNS`), then the case's history and its verification.
"""

from __future__ import annotations

__all__ = ["REGISTER_COLUMNS", "CASE_COLUMNS", "PROGRESS", "PROGRESS_OPEN", "PROGRESS_WORKING", "PROGRESS_DONE",
           "PROGRESS_CLOSED", "PROGRESS_FALSE", "FIELD_VERDICTS", "PHOTO_FLAG_FAR", "PHOTO_FLAG_NOGPS",
           "PHOTO_FLAG_EARLY", "PHOTO_FLAG_BAD", "REGISTER_LAYER"]

from .findings import FINDING_COLUMNS

#: Layer name of the register in ``cases.gpkg``.
REGISTER_LAYER = "cases"

#: Columns the register adds to the finding's own, in order.
CASE_COLUMNS: list[str] = [
    "first_seen",      # date (ISO) of the first run that found the case
    "last_seen",       # date (ISO) of the latest run that found it
    "runs_seen",       # int: how many runs found it
    "last_run",        # date (ISO) of the latest run merged into the register (found it or not)
    "change",          # 新增 / 持续 / 已整改 against the previous run (the latest run's comparison)
    "progress",        # 未整改 / 整改中 / 已整改 / 已销号 / 误报 (:data:`PROGRESS`)
    "overdue",         # int 0/1: past its deadline at last_run and not rectified or closed
    "verified",        # latest field verdict (:data:`FIELD_VERDICTS`)
    "verified_on",     # date (ISO) of the latest verification
    "verified_by",     # who verified (masked like every text)
    "note",            # the field's note (核查说明) of the latest verification
    "photos",          # ';'-separated paths relative to the project folder: photos/<case_id>/<file>
    "photo_count",     # int: number of photos in ``photos``
    "photo_flags",     # ';'-separated per photo: '' (fine) / 照片位置存疑 / 无定位 / 拍摄时间早于发现 / 非图片
    "photo_points",    # ';'-separated 'lon,lat,direction,taken' per photo (EXIF; empty parts where missing)
    "closed_on",       # date (ISO) the case was closed out (已销号) or judged 误报/合法
    "history",         # ';'-separated 'date:event' lines: each run's change and each verification
]

#: Columns of ``cases.gpkg`` layer ``cases``, in order (geometry last).
REGISTER_COLUMNS: list[str] = [*FINDING_COLUMNS, *CASE_COLUMNS]

#: ``progress`` values (WORKFLOW.md §1).
PROGRESS_OPEN = "未整改"
PROGRESS_WORKING = "整改中"
PROGRESS_DONE = "已整改"
PROGRESS_CLOSED = "已销号"
PROGRESS_FALSE = "误报"
PROGRESS: tuple[str, ...] = (PROGRESS_OPEN, PROGRESS_WORKING, PROGRESS_DONE, PROGRESS_CLOSED, PROGRESS_FALSE)

#: Verdicts the field writes into 核查结论 (WORKFLOW.md §2).
FIELD_VERDICTS: tuple[str, ...] = ("合法", "违法", "已整改", "无法核实", "误报")

#: ``photo_flags`` values.
PHOTO_FLAG_FAR = "照片位置存疑"
PHOTO_FLAG_NOGPS = "无定位"
PHOTO_FLAG_EARLY = "拍摄时间早于发现"
PHOTO_FLAG_BAD = "非图片"
