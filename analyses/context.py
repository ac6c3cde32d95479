"""What a rule receives, and what it gives back besides findings.

A rule is a pure function of a :class:`Context`: the district's layers (read-only), its limits looked up per
row with township overrides (:meth:`Context.limit`), the run date, the rasters, and the intermediate results
and other rules' findings it declared in its registry entry (:meth:`Context.used`). It returns a partial
findings frame, or ``(findings, notes)`` where each :class:`Note` is a data-quality observation keyed by the
features it concerns. A rule never writes a cache, the configuration or the quality report: the runner merges
the notes of every rule (and of every worker, de-duplicated by feature) into the report once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel

from layers.limits import LimitSet
from spatial.errors import LandguardError

__all__ = ["Context", "Note", "RuleResult", "merge_notes", "apply_notes"]


@dataclass(frozen=True)
class Note:
    """A data-quality observation a rule makes about some features.

    Attributes
    ----------
    layer : str
        The layer the features belong to (``""`` for a run-wide note).
    key : str
        The data-quality counter (see :mod:`layers.quality`), e.g. ``height_unchecked``; ``""`` for text only.
    ids : tuple of str
        The features concerned (their ids in ``layer``). Notes with the same layer, key and text are merged
        by id, so a feature seen by two workers is counted once.
    text : str
        The Chinese line for the summary; ``{n}`` becomes the number of features and ``{ids}`` the first ten
        ids (``……`` when there are more).

    Examples
    --------
    >>> n = Note("buildings", "height_unchecked", ("B1", "B2"), "{n} 栋房屋未作超高检查：{ids}")
    >>> n.render()
    '2 栋房屋未作超高检查：B1、B2'
    """

    layer: str
    key: str
    ids: tuple[str, ...] = ()
    text: str = ""

    def render(self) -> str:
        """The note's text with ``{n}`` and ``{ids}`` filled in."""
        shown = "、".join(self.ids[:10]) + ("……" if len(self.ids) > 10 else "")
        return self.text.replace("{n}", str(len(self.ids))).replace("{ids}", shown)


@dataclass(frozen=True)
class RuleResult:
    """Findings and notes, as a rule may return them (a bare frame means no notes)."""

    findings: gpd.GeoDataFrame
    notes: tuple[Note, ...] = ()


def merge_notes(notes: Iterable[Note]) -> list[Note]:
    """One note per (layer, key, text), its ids the sorted union of theirs.

    Examples
    --------
    >>> a = Note("roads", "lines_without_width", ("R2", "R1"), "{n}")
    >>> b = Note("roads", "lines_without_width", ("R1", "R3"), "{n}")
    >>> merge_notes([a, b])[0].ids
    ('R1', 'R2', 'R3')
    """
    merged: dict[tuple[str, str, str], set[str]] = {}
    for n in notes:
        merged.setdefault((n.layer, n.key, n.text), set()).update(n.ids)
    return [Note(layer, key, tuple(sorted(ids)), text) for (layer, key, text), ids in merged.items()]


def apply_notes(notes: Iterable[Note], quality) -> None:
    """Write merged notes into a :class:`layers.quality.QualityReport` (counts and text lines).

    Examples
    --------
    >>> from layers.quality import QualityReport
    >>> q = QualityReport()
    >>> apply_notes([Note("roads", "lines_without_width", ("R1",), "")], q)
    >>> q.layers
    {'roads': {'lines_without_width': 1}}
    """
    for n in merge_notes(notes):
        if n.key and n.layer:
            quality.count(n.layer, n.key, len(n.ids))
        if n.text:
            text = n.render()
            if text not in quality.notes:
                quality.note(text)


@dataclass(frozen=True)
class Context:
    """What one rule (or intermediate) sees of a district.

    Attributes
    ----------
    layers : mapping of str -> GeoDataFrame
        Role name -> features in the working CRS (read-only by convention: rules never modify them).
    crs : pyproj.CRS
        The working CRS.
    as_of : datetime.date
        The run date.
    limits : LimitSet
        District limits and township overrides; read them with :meth:`limit`.
    rasters : mapping of str -> Path
        Configured rasters that overlap the villages.
    raster_classes : object
        The land-cover class codes of the configuration (``[landcover]``), for rules that read rasters.
    values : mapping of str -> object
        The intermediate results and rule findings this rule declared (see :meth:`used`).
    owner : str
        The rule or intermediate this context was made for (named in errors).

    Examples
    --------
    >>> import shapely
    >>> v = gpd.GeoDataFrame({"village_id": ["V1"], "name": ["甲村"], "township": ["金海湖镇"]},
    ...                      geometry=[shapely.box(0, 0, 100, 100)], crs=4548)
    >>> from layers.limits import Limits
    >>> ctx = Context({"villages": v}, v.crs, dt.date(2026, 1, 1),
    ...               LimitSet(Limits(), {"金海湖镇": Limits(coverage_max=0.7)}))
    >>> ctx.limit("coverage_max", ["V1", "V9"]).tolist()
    [0.7, 0.75]
    """

    layers: Mapping[str, gpd.GeoDataFrame]
    crs: Any
    as_of: dt.date
    limits: LimitSet
    rasters: Mapping[str, Path] = field(default_factory=dict)
    raster_classes: Any = None
    values: Mapping[str, Any] = field(default_factory=dict)
    owner: str = ""
    #: Lookups computed once per district and shared by every rule's context (village -> township, and
    #: which limits a township overrides); never results of a rule.
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- layers, as on a District -------------------------------------------------------------------
    def __contains__(self, role: str) -> bool:
        return self.layers.get(role) is not None

    def __getitem__(self, role: str) -> gpd.GeoDataFrame:
        frame = self.layers.get(role)
        if frame is None:
            raise LandguardError(f"{self.owner or 'rule'}: layer {role!r} was not given; "
                                 f"add [layers.{role}] to the configuration")
        return frame

    def get(self, role: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the role was not given."""
        return self.layers.get(role)

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The villages layer."""
        return self.layers["villages"]

    def townships_of(self, village_ids) -> pd.Series:
        """Township name of each village id (None when unknown)."""
        if "towns" not in self._cache:
            v = self.villages
            ids = pd.Index(v["village_id"].astype(object).to_numpy(dtype=object))
            first = ~ids.duplicated()
            towns = v["township"].astype(object).to_numpy(dtype=object)[first]
            towns = np.where(pd.isna(towns), None, towns).astype(object)
            self._cache["towns"] = (ids[first], np.append(towns, None).astype(object))
        index, towns = self._cache["towns"]
        codes = index.get_indexer(pd.Index(np.asarray(village_ids, dtype=object)))
        return pd.Series(towns[codes], dtype=object)

    def rows_of(self, role: str, column: str, ids) -> np.ndarray:
        """Row position in layer ``role`` of each id in ``ids`` by its ``column`` (compared as text; the first
        row of a duplicated id; -1 when absent). The index is built once per district and layer.

        Examples
        --------
        >>> # ctx.rows_of("buildings", "building_id", findings["subject_id"]) -> array([12, -1, 3])
        """
        key = ("rows", role, column)
        if key not in self._cache:
            index = pd.Index(self[role][column].astype(str).to_numpy(dtype=object))
            first = ~index.duplicated()
            self._cache[key] = (index[first], np.flatnonzero(first))
        index, rows = self._cache[key]
        at = index.get_indexer(pd.Index(pd.Series(np.asarray(ids, dtype=object)).astype(str).to_numpy(dtype=object)))
        return np.where(at >= 0, rows[np.maximum(at, 0)], -1)

    # -- limits --------------------------------------------------------------------------------------
    def limit(self, key: str, village_ids) -> np.ndarray:
        """The value of limit ``key`` for each row, by the row's village and its township's override.

        Numbers come back as a float array; dates, booleans, tables (e.g. ``green_belt_m``, as their model
        object) and lists as an object array. This is the one way rules read limits.

        Parameters
        ----------
        key : str
            A key of :class:`layers.limits.Limits`.
        village_ids : array-like
            Each row's ``village_id``.

        Examples
        --------
        >>> # ctx.limit("farmland_cutoff", rows["village_id"]) -> array([date(2020, 9, 10), ...], dtype=object)
        """
        if key not in type(self.limits.default).model_fields:
            raise KeyError(f"{self.owner or 'rule'}: {key!r} is not a limit (see docs/rules.md)")
        base = getattr(self.limits.default, key)
        uniform = self._cache.setdefault("uniform", {})
        if key not in uniform:   # no township overrides this key: every row has the district's value
            uniform[key] = all(getattr(lim, key) == base for lim in self.limits.townships.values())
        if uniform[key]:
            n = len(village_ids)
            if isinstance(base, (int, float)) and not isinstance(base, bool):
                return np.full(n, float(base))
            out = np.empty(n, dtype=object)
            out[:] = [base] * n
            return out
        values = self.limits.per_row(key, self.townships_of(village_ids))
        if isinstance(base, BaseModel):  # a table: every row gets a model, whatever form the override came in
            cls = type(base)
            values = np.array([v if isinstance(v, cls) else cls.model_validate(v) for v in values] or [],
                              dtype=object)
        return values

    # -- declared intermediates and rule findings ----------------------------------------------------
    def used(self, name: str) -> Any:
        """An intermediate result or another rule's findings that this rule declared in ``uses``.

        Raises
        ------
        KeyError
            When ``name`` was not declared (declare it in the rule's ``@implements(..., uses=...)``).
        """
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{self.owner or 'rule'} uses {name!r} without declaring it "
                           f"(add it to uses=... in its registry entry)") from None

    def with_values(self, values: Mapping[str, Any], owner: str) -> "Context":
        """The same district with another set of declared values (for the runner)."""
        return Context(self.layers, self.crs, self.as_of, self.limits, self.rasters, self.raster_classes,
                       dict(values), owner, self._cache)

    @classmethod
    def of(cls, district) -> "Context":
        """A context over a :class:`layers.district.District` (no declared values yet)."""
        classes = getattr(getattr(district, "config", None), "landcover", None)
        return cls(district.layers, district.crs, district.as_of, district.limits, dict(district.rasters), classes)
