"""Month to month: compare a run's findings with a previous run's, by ``case_id``.

Case ids are hashes of the rule and the subject, so the same violation on unchanged data keeps its
id from run to run. A case of this run is ``新增`` (new since the previous run) or ``持续`` (still
there); a case only the previous run had is ``已整改`` (gone: rectified, demolished, or its subject
removed from the data). Rectification progress is what the bureau reports upward.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from spatial.errors import LayerError

from .findings import FINDING_COLUMNS

__all__ = ["CHANGE_NEW", "CHANGE_ONGOING", "CHANGE_GONE", "CHANGES", "compare_runs", "read_findings", "read_changes"]

#: The ``change`` values.
CHANGE_NEW = "新增"
CHANGE_ONGOING = "持续"
CHANGE_GONE = "已整改"
CHANGES: tuple[str, str, str] = (CHANGE_NEW, CHANGE_ONGOING, CHANGE_GONE)


def _case_ids(frame: pd.DataFrame, name: str) -> pd.Series:
    if "case_id" not in frame.columns:
        raise LayerError(f"{name} findings: no column case_id; give findings written by `landguard check`")
    return frame["case_id"].astype(object)


def _live(frame: pd.DataFrame) -> pd.DataFrame:
    """A run's own findings: rows an earlier comparison appended as gone are not findings of it."""
    if "change" not in frame.columns:
        return frame
    return frame[(frame["change"] != CHANGE_GONE).to_numpy()]


def compare_runs(current: gpd.GeoDataFrame, previous: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mark every case as new, still there, or gone since the previous run.

    Parameters
    ----------
    current : GeoDataFrame
        This run's findings.
    previous : GeoDataFrame
        The previous run's findings (e.g. read with :func:`read_findings`), any CRS.

    Returns
    -------
    GeoDataFrame
        ``current``'s rows and columns plus ``change`` (``新增`` or ``持续``), followed by the
        previous run's cases that are gone, with ``change`` = ``已整改`` and the previous run's
        values and geometry (reprojected to ``current``'s CRS). Rows either input marks
        ``已整改`` from an earlier comparison are not findings of that run and are left out, so a
        compared ``findings.gpkg`` can serve as next month's ``previous``.

    Examples
    --------
    >>> import shapely
    >>> cur = gpd.GeoDataFrame({"case_id": ["A", "B"]}, geometry=[shapely.Point(0, 0)] * 2, crs=4548)
    >>> old = gpd.GeoDataFrame({"case_id": ["B", "C"]}, geometry=[shapely.Point(0, 0)] * 2, crs=4548)
    >>> compare_runs(cur, old)[["case_id", "change"]].values.tolist()
    [['A', '新增'], ['B', '持续'], ['C', '已整改']]
    """
    current, previous = _live(current), _live(previous)
    cur_ids = _case_ids(current, "current")
    old_ids = _case_ids(previous, "previous")
    geom = current.geometry.name
    out = current.copy()
    out["change"] = np.where(cur_ids.isin(old_ids).to_numpy(), CHANGE_ONGOING, CHANGE_NEW).astype(object)
    gone = previous[~old_ids.isin(cur_ids).to_numpy()]
    gone = gone[~gone["case_id"].duplicated()]
    if len(gone):
        if isinstance(gone, gpd.GeoDataFrame) and gone.crs is not None and current.crs is not None:
            gone = gone.to_crs(current.crs)
        shared = [c for c in out.columns if c in gone.columns and c not in (geom, "change")]
        n = len(gone)
        geoms = gpd.GeoSeries(gone.geometry.values if isinstance(gone, gpd.GeoDataFrame) else [None] * n,
                              index=range(n)).set_crs(current.crs, allow_override=True)
        extra = pd.DataFrame({c: gone[c].to_numpy() for c in shared}, index=range(n))
        extra["change"] = CHANGE_GONE
        extra[geom] = geoms.values
        extra = gpd.GeoDataFrame(extra, geometry=geom, crs=current.crs)
        out = pd.concat([out.reset_index(drop=True), extra], ignore_index=True)
    columns = [c for c in out.columns if c not in (geom, "change")] + ["change", geom]
    return gpd.GeoDataFrame(out[columns], geometry=geom, crs=current.crs)


def _gpkg(path: str | Path) -> tuple[Path, list[str]]:
    """The findings.gpkg that ``path`` names and its layers."""
    path = Path(path)
    if path.is_dir():
        path = path / "findings.gpkg"
    if not path.is_file():
        raise LayerError(f"{path}: no such file; give the findings.gpkg written by `landguard check` or its folder")
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError:
        raise LayerError(f"{path}: not a GeoPackage GDAL can open; "
                         "give the findings.gpkg written by `landguard check`") from None
    return path, layers


def read_findings(path: str | Path) -> gpd.GeoDataFrame:
    """Read the findings a run wrote (``findings.gpkg``, layer ``findings``).

    Parameters
    ----------
    path : str or Path
        ``findings.gpkg``, or the output folder of ``landguard check`` that holds it.

    Raises
    ------
    LayerError
        When the file, the layer or a contract column is missing.

    Examples
    --------
    >>> read_findings("no/such/findings.gpkg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: no/such/findings.gpkg: no such file; give the findings.gpkg ...
    """
    path, layers = _gpkg(path)
    if "findings" not in layers:
        raise LayerError(f"{path}: no layer 'findings' (it has {', '.join(layers) or 'none'}); "
                         "give the findings.gpkg written by `landguard check`")
    frame = pyogrio.read_dataframe(path, layer="findings")
    # columns added in the second edition: older runs lack them
    for col in ("dated_by", "judgement", "remedy", "lead_unit", "deadline", "grid_id"):
        if col not in frame.columns:
            frame[col] = None
    missing = [c for c in FINDING_COLUMNS if c not in frame.columns]
    if missing:
        raise LayerError(f"{path}: layer findings lacks column(s) {', '.join(missing)} of the findings contract")
    return frame


def read_changes(path: str | Path) -> gpd.GeoDataFrame | None:
    """The comparison ``landguard check --previous`` wrote beside the findings, if it did.

    Parameters
    ----------
    path : str or Path
        ``findings.gpkg``, or the output folder of ``landguard check`` that holds it.

    Returns
    -------
    GeoDataFrame or None
        Layer ``changes``: the findings with ``change`` plus the gone cases (see :func:`compare_runs`);
        None when the run was not compared with a previous one.

    Examples
    --------
    >>> import shapely, tempfile
    >>> f = gpd.GeoDataFrame({c: ["x"] for c in FINDING_COLUMNS}, geometry=[shapely.Point(0, 0)], crs=4548)
    >>> path = Path(tempfile.mkdtemp()) / "findings.gpkg"
    >>> pyogrio.write_dataframe(f, path, layer="findings")
    >>> read_changes(path) is None
    True
    """
    path, layers = _gpkg(path)
    if "changes" not in layers:
        return None
    frame = pyogrio.read_dataframe(path, layer="changes")
    missing = [c for c in ("case_id", "change") if c not in frame.columns]
    if missing:
        raise LayerError(f"{path}: layer changes lacks column(s) {', '.join(missing)}; "
                         "run `landguard check --previous` again")
    return frame
