"""The findings schema of ``spec/LAYERS.md`` and the one place findings frames are completed.

A rule returns a *partial* frame: one row per finding with at least ``subject_layer``,
``subject_id`` and geometry, plus whatever it measured (``measured``, ``limit``, ``unit``,
``severity``, ``status``, ``related_ids``, ``message``, ``village_id``, ``key``). :func:`finalise`
adds the rule's contract columns, the village, areas in m² and 亩, and the stable ``case_id``.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.district import assign_villages
from layers.values import per_value
from spatial.clean import GRID_M, clean_polygons
from spatial.units import m2_to_mu

from .registry import Rule

__all__ = ["FINDING_COLUMNS", "empty_findings", "finalise", "case_ids", "concat_findings", "sort_findings"]

#: Columns of ``findings.gpkg`` layer ``findings``, in order (geometry last).
FINDING_COLUMNS: list[str] = [
    "case_id", "rule_id", "rule_name", "family", "severity",
    "village_id", "village", "township",
    "subject_layer", "subject_id", "related_ids",
    "measured", "limit", "unit", "area_m2", "area_mu",
    "status", "dated_by", "judgement", "remedy", "lead_unit", "deadline", "grid_id", "basis", "message",
]
_FLOAT = {"measured", "limit", "area_m2", "area_mu"}


def empty_findings(crs=None) -> gpd.GeoDataFrame:
    """An empty findings frame with the contract's columns.

    Examples
    --------
    >>> list(empty_findings().columns)[:3]
    ['case_id', 'rule_id', 'rule_name']
    """
    data = {c: pd.Series(dtype=float if c in _FLOAT else object) for c in FINDING_COLUMNS}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def case_ids(rule_id: str, subject_layer, subject_id, key=None) -> np.ndarray:
    """Stable case ids: a hash of the rule and the subject, never a row number.

    Parameters
    ----------
    rule_id : str
    subject_layer, subject_id : array-like of str
    key : array-like of str, optional
        Distinguishes several findings of one rule on one subject (e.g. a building's sides).

    Examples
    --------
    >>> case_ids("HOME-MULTI", ["parcels"], ["P1"])[0]
    'HOME-MULTI-41958e8452'
    """
    layers = np.asarray(subject_layer, dtype=object)
    ids = np.asarray(subject_id, dtype=object)
    keys = np.asarray(key if key is not None else [""] * len(ids), dtype=object)
    out = []
    for lay, sid, k in zip(layers, ids, keys):
        text = f"{rule_id}|{lay}|{sid}|{'' if k is None or k != k else k}"
        out.append(f"{rule_id}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}")
    return np.asarray(out, dtype=object)


def finalise(rule: Rule, partial: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None = None,
             *, area: bool = True, min_part_m2=1.0) -> gpd.GeoDataFrame:
    """Complete a rule's partial findings into the contract's columns.

    Parameters
    ----------
    rule : Rule
        The rule that produced them.
    partial : GeoDataFrame
        One row per finding (see the module docstring).
    villages : GeoDataFrame, optional
        The district's villages (``village_id``, ``name``, ``township``); rows without a
        ``village_id`` get the village holding the largest part of their geometry.
    area : bool
        Whether the rule is about area: then ``area_m2``/``area_mu`` are the geometry's area
        unless the rule set ``area_m2`` itself.
    min_part_m2 : float, array-like or callable
        Parts of a finding's geometry smaller than this are dropped (each finding keeps its largest
        part); default the default ``min_overlap_m2``. A callable is given the findings' ``village_id``
        (after ``villages`` filled the missing ones) and returns one minimum per finding, e.g. the
        township's own ``min_overlap_m2`` (``functools.partial(ctx.limit, "min_overlap_m2")``, as
        :func:`analyses.runner.run_rules` passes it). Geometry is cleaned by
        :func:`spatial.clean.clean_polygons`: 1 mm grid, one MultiPolygon per finding.

    Returns
    -------
    GeoDataFrame
        Columns :data:`FINDING_COLUMNS` plus geometry, sorted by ``case_id``.

    Examples
    --------
    >>> import shapely
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(0, 0, 10, 10)], crs=4548)
    >>> f = finalise(CATALOGUE["FARM-BUILD"], p)
    >>> f.loc[0, "rule_name"], float(f.loc[0, "area_m2"]), round(float(f.loc[0, "area_mu"]), 3)
    ('乱占耕地建房', 100.0, 0.15)
    """
    crs = partial.crs
    if partial.empty:
        return empty_findings(crs)
    out = partial.reset_index(drop=True).copy()
    geographic = crs is not None and getattr(crs, "is_geographic", False)
    if villages is not None and not villages.empty:   # first: the sliver minimum may depend on the village
        if "village_id" not in out.columns:
            out["village_id"] = None
        out = _attach_villages(out, villages)
    if callable(min_part_m2):
        min_part_m2 = np.asarray(min_part_m2(out["village_id"].to_numpy(dtype=object) if "village_id" in out.columns
                                             else np.full(len(out), None, dtype=object)), dtype=float)
    out[out.geometry.name] = gpd.GeoSeries(clean_polygons(out.geometry.values, grid=1e-9 if geographic else GRID_M,
                                                          min_part=0.0 if geographic else min_part_m2),
                                           index=out.index, crs=crs)
    out["rule_id"] = rule.rule_id
    out["rule_name"] = rule.name
    out["family"] = rule.family
    out["basis"] = rule.basis
    for col in FINDING_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan if col in _FLOAT else None
    out["subject_id"] = per_value(out["subject_id"], lambda v: None if v is None or v != v else str(v)).to_numpy(dtype=object)
    if area:
        missing = out["area_m2"].isna()
        out.loc[missing, "area_m2"] = out.geometry[missing].area
    out["area_m2"] = out["area_m2"].astype(float)
    out["area_mu"] = m2_to_mu(out["area_m2"].to_numpy())
    for col in ("measured", "limit"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["severity"] = out["severity"].fillna("medium")
    out["message"] = out["message"].astype(object).map(
        lambda m: m.replace("{basis}", rule.basis) if isinstance(m, str) else f"{rule.name}（{rule.basis}）")
    out["case_id"] = case_ids(rule.rule_id, out["subject_layer"], out["subject_id"],
                              out["key"] if "key" in out.columns else None)
    out = gpd.GeoDataFrame(out[FINDING_COLUMNS], geometry=out.geometry.values, crs=crs)
    return out.sort_values("case_id", kind="stable").reset_index(drop=True)


def _attach_villages(out: gpd.GeoDataFrame, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``village_id`` by largest overlap where missing, then name and township from it.

    Runs before the geometry is cleaned (the sliver minimum is looked up by village), so the geometry
    it assigns by is made valid first.
    """
    need = out["village_id"].isna().to_numpy()
    if need.any():
        out.loc[need, "village_id"] = assign_villages(shapely.make_valid(out.geometry.values[need]), villages)
    lookup = villages.set_index("village_id")
    out["village"] = out["village_id"].map(lookup["name"]).astype(object)
    out["township"] = out["village_id"].map(lookup["township"]).astype(object)
    return out


def concat_findings(frames: list[gpd.GeoDataFrame], crs=None) -> gpd.GeoDataFrame:
    """Concatenate finalised findings frames, keeping the contract's columns and order.

    Examples
    --------
    >>> len(concat_findings([empty_findings(4548)], crs=4548))
    0
    """
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return empty_findings(crs)
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs or frames[0].crs)


def sort_findings(findings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Findings in catalogue order, then by village and case id (the order of every output).

    Examples
    --------
    >>> len(sort_findings(empty_findings(4548)))
    0
    """
    if findings.empty:
        return findings.reset_index(drop=True)
    from .registry import catalogue_order

    order = catalogue_order(findings["rule_id"])
    keys = pd.DataFrame({"o": order, "v": findings["village_id"].astype(str).to_numpy(),
                         "c": findings["case_id"].astype(str).to_numpy()})
    pos = keys.sort_values(["o", "v", "c"], kind="stable").index.to_numpy()
    return findings.iloc[pos].reset_index(drop=True)
