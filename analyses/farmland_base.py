"""Shared pieces of the ``farmland`` family: what is farmland, what is approved, what was converted.

The shared layers here are registered intermediates (:func:`analyses.registry.intermediate`): the runner
computes each once per run and passes it to the rules that declare it in ``uses``.

* *Farmland* is the baseline survey's 耕地 (``0101``/``0102``/``0103`` on their stem) when a
  ``landuse_baseline`` is given, else the current survey's, together with every PBF polygon.
* A *conversion* is the part of a current land-use patch that is not farmland now but lies on
  farmland, minus land under a valid approval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from layers.landuse import is_farmland, stem
from layers.values import per_value
from spatial.bigoverlay import subdivided_intersection
from spatial.overlay import intersection_by_left, prepare_cover
from spatial.subdivide import subdivide

from .context import Context
from .registry import intermediate

__all__ = ["baseline_survey", "cover_pieces", "farmland_cover", "pbf_cover", "approved_cover", "facility_cover",
           "reforestation_cover", "minus_cover",
           "cover_area", "min_area", "conversions", "PIECES", "buildings_on_farmland", "polygonal",
           "approval_kinds", "land_name"]

_EMPTY = np.empty(0, dtype=object)


def baseline_survey(ctx):
    """The survey that says what was farmland: ``landuse_baseline`` when given, else ``landuse``.

    Examples
    --------
    >>> # baseline_survey(ctx)["dlbm"]
    """
    return ctx["landuse_baseline"] if "landuse_baseline" in ctx else ctx["landuse"]


#: Roles whose subdivided pieces are an intermediate named ``pieces:<role>``.
PIECES = ("eco_redline", "nature_reserves", "protected_zones")


def cover_pieces(ctx: Context, role: str, max_vertices: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """A coverage layer (``eco_redline``, ``nature_reserves``, ``protected_zones``, ``pbf``…) subdivided once per run.

    The pieces are those of :func:`spatial.subdivide.subdivide` over the layer's geometries; as the
    intermediate ``pieces:<role>`` they are cut once per run, so that every rule overlaying the same huge
    polygons (a red line of 200,000 vertices) shares them. Subdivision works per geometry, so the pieces of a subset of the
    layer's rows are ``pieces[np.isin(source, rows)]``, in the same order as subdividing that subset.

    Returns
    -------
    pieces : numpy.ndarray of geometries
        Empty when the layer is missing or empty.
    source : numpy.ndarray of int
        Row (position) in the layer of each piece's original.

    Examples
    --------
    >>> # pieces, source = ctx.used("pieces:eco_redline")
    """
    layer = ctx.get(role)
    if layer is None or len(layer) == 0:
        return _EMPTY, np.empty(0, dtype=np.intp)
    return subdivide(layer.geometry.to_numpy(), max_vertices=max_vertices)


for _role in PIECES:
    intermediate(f"pieces:{_role}")(lambda ctx, _r=_role: cover_pieces(ctx, _r))


@intermediate("farmland_cover")
def farmland_cover(ctx: Context) -> np.ndarray:
    """Subdivided pieces whose union is the ctx's farmland (baseline 耕地 ∪ PBF).

    Examples
    --------
    >>> # pieces = ctx.used("farmland_cover"); the union of pieces is all farmland
    """
    lu = baseline_survey(ctx)
    geoms = [lu.geometry.to_numpy()[is_farmland(lu["dlbm"])]]
    if "pbf" in ctx:
        geoms.append(ctx["pbf"].geometry.to_numpy())
    return prepare_cover(np.concatenate(geoms))


@intermediate("pbf_cover")
def pbf_cover(ctx: Context) -> np.ndarray:
    """Subdivided pieces whose union is the permanent basic farmland (empty without a ``pbf`` layer).

    Examples
    --------
    >>> # ctx.used("pbf_cover")
    """
    pbf = ctx.get("pbf")
    return prepare_cover(pbf.geometry.to_numpy()) if pbf is not None and len(pbf) else _EMPTY


def approval_kinds(ctx) -> pd.Series:
    """Each approval's ``kind`` in lower case (empty Series without an ``approvals`` layer).

    Examples
    --------
    >>> # approval_kinds(ctx).tolist() -> ['construction', 'temporary', ...]
    """
    ap = ctx.get("approvals")
    if ap is None:
        return pd.Series([], dtype=object)
    return per_value(ap["kind"], lambda k: k.strip().lower() if isinstance(k, str) else None)


@intermediate("approved_cover")
def approved_cover(ctx: Context) -> np.ndarray:
    """Pieces whose union is land under a valid approval: ``construction``, ``homestead``, or a
    ``temporary`` approval whose ``valid_until`` is on or after the run date.

    Examples
    --------
    >>> # ctx.used("approved_cover")
    """
    ap = ctx.get("approvals")
    if ap is None or ap.empty:
        return _EMPTY
    kind = approval_kinds(ctx)
    until = pd.to_datetime(ap["valid_until"], errors="coerce")
    valid = kind.isin(["construction", "homestead"]) | (
        (kind == "temporary") & (until >= pd.Timestamp(ctx.as_of)))
    return prepare_cover(ap.geometry.to_numpy()[valid.to_numpy()])


@intermediate("facility_cover")
def facility_cover(ctx: Context) -> np.ndarray:
    """Pieces whose union is land approved as 设施农用地 (``facility_agri`` approvals).

    Examples
    --------
    >>> # facility_cover(ctx)
    """
    ap = ctx.get("approvals")
    if ap is None or ap.empty:
        return _EMPTY
    return prepare_cover(ap.geometry.to_numpy()[(approval_kinds(ctx) == "facility_agri").to_numpy()])


@intermediate("reforestation_cover")
def reforestation_cover(ctx: Context) -> np.ndarray:
    """Pieces whose union is land of approved 退耕还林 plots (``approvals.kind`` = ``reforestation``).

    Woodland there is planted under the programme (PG-NF 四(三)7 “涉及地块全部实现上图入库管理”), not a
    conversion ``FARM-GREEN`` or ``FARM-CORRIDOR`` reports. Empty without such approvals.

    Examples
    --------
    >>> # ctx.used("reforestation_cover")
    """
    ap = ctx.get("approvals")
    if ap is None or ap.empty:
        return _EMPTY
    return prepare_cover(ap.geometry.to_numpy()[(approval_kinds(ctx) == "reforestation").to_numpy()])


def minus_cover(geoms, cover) -> np.ndarray:
    """Each geometry minus the union of ``cover`` (vectorised on the pairs that meet).

    Examples
    --------
    >>> g = minus_cover([shapely.box(0, 0, 10, 10)], [shapely.box(5, 0, 20, 10), shapely.box(0, 0, 2, 2)])
    >>> round(g[0].area, 6)
    46.0
    """
    out = np.asarray(geoms, dtype=object).copy()
    if len(cover) == 0 or len(out) == 0:
        return out
    idx, covered = intersection_by_left(out, cover)
    if len(idx):
        out[idx] = shapely.difference(out[idx], covered)
    return out


def cover_area(geoms, cover) -> np.ndarray:
    """Area of each geometry inside the union of ``cover`` (0 where none).

    Examples
    --------
    >>> cover_area([shapely.box(0, 0, 10, 10), shapely.box(50, 50, 51, 51)], [shapely.box(5, 0, 20, 10)]).tolist()
    [50.0, 0.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    if len(geoms) and len(cover):
        idx, part = intersection_by_left(geoms, cover)
        out[idx] = shapely.area(part)
    return out


def min_area(ctx, village_ids) -> np.ndarray:
    """Per-row minimum overlap (``min_overlap_m2`` with township overrides; never 0).

    Examples
    --------
    >>> # min_area(ctx, rows["village_id"]) -> array([1., 1., ...])
    """
    return np.maximum(ctx.limit("min_overlap_m2", village_ids).astype(float), 1e-9)


def polygonal(geoms) -> np.ndarray:
    """Only the polygonal parts of each geometry (slivers of lines and points dropped).

    Examples
    --------
    >>> gc = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(5, 5), (6, 6)])])
    >>> polygonal([gc])[0].wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(types == shapely.GeometryType.GEOMETRYCOLLECTION)
    if len(mixed) == 0:
        return out
    parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
    sub, sidx = shapely.get_parts(parts, return_index=True)
    owner = idx[sidx]
    poly = shapely.get_type_id(sub) == shapely.GeometryType.POLYGON
    counts = np.bincount(owner[poly], minlength=len(mixed))
    result = np.full(len(mixed), None, dtype=object)
    result[:] = shapely.Polygon()
    multi = shapely.multipolygons(sub[poly], indices=owner[poly])
    has = np.flatnonzero(counts > 0)
    result[has] = multi
    one = counts == 1
    if one.any():
        first = np.full(len(mixed), -1)
        first[owner[poly][::-1]] = np.flatnonzero(poly)[::-1]
        result[one] = sub[first[one]]
    out[mixed] = result
    return out


@intermediate("buildings_on_farmland", uses=("farmland_cover",))
def buildings_on_farmland(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``buildings`` touching farmland and each one's part on farmland (unfiltered by area).

    Examples
    --------
    >>> # rows, parts = buildings_on_farmland(ctx)
    """
    b = ctx["buildings"]
    return subdivided_intersection(b.geometry.to_numpy(), ctx.used("farmland_cover"))


@intermediate("conversions", uses=("farmland_cover", "approved_cover", "pbf_cover"))
def conversions(ctx: Context) -> pd.DataFrame:
    """Current land-use patches that are not farmland, on farmland: one row per patch.

    Columns: ``row`` (position in ``landuse``), ``code`` (upper-case text), ``stem``, ``on_farm`` (the
    patch's part on farmland), ``geom`` (that part minus valid approvals), ``area`` (of ``geom``),
    ``pbf_geom`` (the part of ``geom`` on PBF, or None) and ``pbf_area``.

    Examples
    --------
    >>> # conversions(ctx).query("stem == '0702'")
    """
    lu = ctx["landuse"]
    codes = lu["dlbm"].astype(object)
    cand = np.flatnonzero(~is_farmland(codes) & codes.notna().to_numpy())
    idx, on_farm = subdivided_intersection(lu.geometry.to_numpy()[cand], ctx.used("farmland_cover"))
    rows = cand[idx]
    geom = polygonal(minus_cover(on_farm, ctx.used("approved_cover")))
    pbf_geom = np.full(len(geom), None, dtype=object)
    if len(ctx.used("pbf_cover")) and len(geom):
        pidx, part = intersection_by_left(geom, ctx.used("pbf_cover"))
        pbf_geom[pidx] = polygonal(part)
    code = per_value(codes.iloc[rows], lambda c: c.strip().upper()).to_numpy(dtype=object)
    return pd.DataFrame({
        "row": rows, "code": code, "stem": stem(pd.Series(code, dtype=object)).to_numpy(dtype=object),
        "on_farm": polygonal(on_farm), "geom": geom, "area": shapely.area(geom),
        "pbf_geom": pbf_geom, "pbf_area": np.nan_to_num(shapely.area(pbf_geom)),
    })


def land_name(on_pbf) -> np.ndarray:
    """``永久基本农田`` or ``耕地`` per row.

    Examples
    --------
    >>> land_name([True, False]).tolist()
    ['永久基本农田', '耕地']
    """
    return np.where(np.asarray(on_pbf, dtype=bool), "永久基本农田", "耕地").astype(object)
