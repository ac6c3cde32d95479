"""Field exports, one set per village: RFC 7946 GeoJSON, a GeoPackage for QField / Mergin Maps, KML.

Everything that leaves here is masked (:func:`layers.privacy.mask_frame`): no owner ID number in
clear, owner names reduced to the family name unless asked otherwise. Every file is written under a
temporary name in its folder and renamed into place once complete, so a crash never leaves half a
file where the field team would pick it up.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio  # noqa: F401 - the docstring examples read the files back with it
import shapely

from analyses.ledger import COLUMN_LABELS, SEVERITY_LABELS, STATUS_LABELS, VERIFICATION_COLUMNS
from layers.privacy import mask_frame, mask_ids_in_text
from spatial.atomic import atomic_path
from spatial.clean import GRID_M, MARKER_M, clean_polygons
from spatial.errors import CRSError, LayerError, OutputError

from .filenames import file_stem, path_in
from .gpkg_fill import _fill_gpkg, _gdal_gpkg, _gpkg_plans, _gpkg_template, _LayerSource
from .style import FAMILY_COLOURS, FAMILY_LABELS, SEVERITY_WEIGHTS

__all__ = ["GEOJSON_PROPERTIES", "FAMILY_COLOURS", "GRIDS_FOLDER", "export_geojson", "export_gpkg", "export_kml",
           "export_village", "export_grids", "grid_stems", "chosen_grids", "grids_of", "FieldBatch"]

#: The properties a field app shows, in order (GeoJSON properties, KML description).
GEOJSON_PROPERTIES: list[str] = ["case_id", "rule_name", "severity", "measured", "limit", "unit",
                                 "area_m2", "area_mu", "subject_id", "basis", "status", "message",
                                 "remedy", "lead_unit", "deadline", "grid_id"]


_DECIMALS = 7  # RFC 7946 §11.2: about 1 cm
_ROUND = {"area_m2": 2, "area_mu": 4, "measured": 3, "limit": 3}
_KML_NS = "http://www.opengis.net/kml/2.2"
_KML_FIELDS = [c for c in GEOJSON_PROPERTIES if c != "message"]  # the message is the description


# -- shared helpers --------------------------------------------------------------------------------


def _checked(findings: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    if not isinstance(findings, gpd.GeoDataFrame) or findings.crs is None:
        raise CRSError("findings: no CRS; give findings as written by `landguard check` (working CRS)")
    missing = [c for c in columns if c not in findings.columns]
    if missing:
        raise LayerError(f"findings: no column(s) {', '.join(missing)}; give findings written by `landguard check`")
    return findings


def _wgs84(geoms: gpd.GeoSeries) -> np.ndarray:
    """Lon/lat MultiPolygons on the 7-decimal grid, valid after that rounding (no duplicate nodes, no
    zero-area part: :func:`spatial.clean.clean_polygons`), exteriors counter-clockwise, holes clockwise."""
    lonlat = np.asarray(geoms.to_crs(4326).values) if len(geoms) else np.array([], dtype=object)
    snapped = clean_polygons(lonlat, grid=10.0 ** -_DECIMALS, marker=None)
    rounded = shapely.transform(snapped, lambda xy: np.round(xy, _DECIMALS))  # exact decimals, same grid points
    oriented = shapely.orient_polygons(rounded, exterior_cw=False)
    return np.where(shapely.is_empty(oriented) | shapely.is_missing(oriented), None, oriented)


def _display(findings: pd.DataFrame) -> pd.DataFrame:
    """The field app's properties: Chinese severity/status, rounded figures, None for missing."""
    out = pd.DataFrame({c: findings[c].astype(object) for c in GEOJSON_PROPERTIES}, index=findings.index)
    for col, labels in (("severity", SEVERITY_LABELS), ("status", STATUS_LABELS)):
        out[col] = pd.Series([labels.get(v, v) if isinstance(v, str) else None for v in out[col]],
                             index=out.index, dtype=object)
    for col, digits in _ROUND.items():
        out[col] = pd.to_numeric(findings[col], errors="coerce").astype(float).round(digits).astype(object)
    return out.where(out.notna(), None)


# -- GeoJSON ---------------------------------------------------------------------------------------


def export_geojson(findings: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write findings as an RFC 7946 GeoJSON FeatureCollection.

    WGS84 longitude/latitude with 7 decimals, right-hand-rule rings (exteriors counter-clockwise),
    no ``crs`` member, UTF-8 with Chinese text as is. Properties are :data:`GEOJSON_PROPERTIES`
    only (severity and status in Chinese), masked; each feature's ``id`` is its case id.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.geojson`` to write (replaced atomically).

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_geojson(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.geojson")
    >>> doc = json.loads(out.read_text(encoding="utf-8"))
    >>> doc["features"][0]["properties"]["rule_name"], "crs" in doc
    ('乱占耕地建房', False)
    """
    path = Path(path)
    findings = _checked(findings, GEOJSON_PROPERTIES)
    return _write_geojson(path, _display(mask_frame(findings[GEOJSON_PROPERTIES])), _wgs84(findings.geometry))


def _write_geojson(path: Path, props: pd.DataFrame, geoms: np.ndarray) -> Path:
    """The GeoJSON of already masked, displayed properties (:func:`_display`) and WGS84 geometries."""
    return _write_geojson_features(path, _geojson_features(props, geoms))


_JSON_SCALARS = {str, type(None), float, int, bool}


def _json_column(values: np.ndarray) -> list[str] | None:
    """Each value as ``json.dumps(v, ensure_ascii=False, allow_nan=False)`` writes it, or None when the column
    holds something else than text, numbers, booleans and None (or a float JSON refuses)."""
    kinds = set(map(type, values))
    if kinds - _JSON_SCALARS:
        return None
    out = np.full(len(values), "null", dtype=object)
    for kind, text in ((str, json.encoder.encode_basestring), (float, float.__repr__), (int, int.__repr__)):
        if kind in kinds:
            at = np.flatnonzero(np.fromiter(map(type, values), dtype=object, count=len(values)) == kind)
            if kind is float and not np.isfinite(values[at].astype(np.float64)).all():
                return None  # json refuses it (allow_nan=False): the rows are written one by one, and fail so
            out[at] = _objects(list(map(text, values[at])))
    if bool in kinds:
        at = np.flatnonzero(np.fromiter(map(type, values), dtype=object, count=len(values)) == bool)
        out[at] = np.where(values[at].astype(bool), "true", "false")
    return out.tolist()


def _geojson_features(props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Each row's GeoJSON Feature (text), from masked, displayed properties and WGS84 geometries: column by
    column, the same text as :func:`_geojson_features_rows` (json.dumps of each row's properties).

    Examples
    --------
    >>> p = pd.DataFrame({c: pd.Series(["x<y", None], dtype=object) for c in GEOJSON_PROPERTIES})
    >>> g = np.array([shapely.box(0, 0, 1, 1), None], dtype=object)
    >>> _geojson_features(p, g) == _geojson_features_rows(p, g)
    True
    """
    geojson = shapely.to_geojson(geoms).tolist() if len(geoms) else []
    columns = []
    for c in props.columns:
        values = _json_column(props[c].to_numpy(dtype=object))
        if values is None or not isinstance(c, str):
            return _geojson_features_rows(props, geoms)
        columns += [itertools.repeat(("{" if not columns else ",") + json.encoder.encode_basestring(c) + ":"), values]
    if "case_id" not in props.columns:
        return _geojson_features_rows(props, geoms)
    ids = _json_column(props["case_id"].to_numpy(dtype=object))
    parts = (itertools.repeat('{"type":"Feature","id":'), ids, itertools.repeat(',"geometry":'),
             ["null" if g is None else g for g in geojson] if None in geojson else geojson,
             itertools.repeat(',"properties":'), *(columns or [itertools.repeat("{")]), itertools.repeat("}}"))
    return list(map("".join, zip(*parts)))


def _geojson_features_rows(props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Each row's GeoJSON Feature (text), row by row; see :func:`_geojson_features`."""
    geojson = shapely.to_geojson(geoms) if len(geoms) else []
    return [
        '{"type":"Feature","id":%s,"geometry":%s,"properties":%s}' % (
            json.dumps(p["case_id"], ensure_ascii=False), g if g is not None else "null",
            json.dumps(p, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
        for p, g in zip(props.to_dict("records"), geojson)
    ]


def _write_geojson_features(path: Path, features: list[str]) -> Path:
    """The FeatureCollection of ``features`` (:func:`_geojson_features`), replaced atomically."""
    body = "[\n" + ",\n".join(features) + "\n]" if features else "[]"
    text = '{"type":"FeatureCollection","features":' + body + "}\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# -- GeoPackage ------------------------------------------------------------------------------------


def _target_crs(findings: gpd.GeoDataFrame, crs: str):
    if crs == "wgs84":
        return "EPSG:4326"
    if crs == "working":
        return findings.crs
    raise CRSError(f"export crs {crs!r}: use 'wgs84' (phones, QField) or 'working' (the working CRS of the run)")


def export_gpkg(findings: gpd.GeoDataFrame, path: str | Path, *, parcels: gpd.GeoDataFrame | None = None,
                buildings: gpd.GeoDataFrame | None = None, crs: Literal["wgs84", "working"] = "wgs84",
                full_names: bool = False, grid: gpd.GeoDataFrame | None = None) -> Path:
    """Write a GeoPackage for QField / Mergin Maps: findings to verify, with parcels and buildings.

    Layer ``findings`` holds the findings' columns plus empty verification columns for the field
    team: ``verified`` (``违法`` / ``合法`` / ``无法核实``, offered as a value list), ``verified_by``,
    ``verified_on``, ``remark``, ``photo`` (a path). Layers ``parcels`` and ``buildings`` are
    written when given. Personal data is masked.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.gpkg`` to write (replaced atomically).
    parcels, buildings : GeoDataFrame, optional
        The village's parcels and buildings, any CRS.
    crs : {"wgs84", "working"}
        WGS84 lon/lat, or the findings' own (working) CRS.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    grid : GeoDataFrame, optional
        The 田长 grid the file is for (``field_grids`` rows), written as layer ``field_grid`` with the
        grid leader's name masked.

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_gpkg(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.gpkg")
    >>> list(pyogrio.read_dataframe(out, layer="findings").columns[-6:])
    ['verified', 'verified_by', 'verified_on', 'remark', 'photo', 'geometry']
    """
    path = Path(path)
    findings = _checked(findings, ["case_id"])
    target = _target_crs(findings, crs)
    out = mask_frame(findings, full_names=full_names).to_crs(target)
    out[out.geometry.name] = gpd.GeoSeries(_gpkg_geoms(out.geometry.values, crs), index=out.index, crs=out.crs)
    others = {}
    for name, frame in (("parcels", parcels), ("buildings", buildings), ("field_grid", grid)):
        if frame is not None:
            if frame.crs is None:
                raise CRSError(f"{name}: no CRS; give the district's {name} in its working CRS")
            # the grid leader is masked even with full_names (that keeps the owners' names only)
            others[name] = mask_frame(frame, full_names=full_names and name != "field_grid").to_crs(target)
    return _write_gpkg(path, out, others)




def _gpkg_geoms(geoms, crs: str) -> np.ndarray:
    """The findings' geometries (already in the GeoPackage's CRS) cleaned for it: on the 1 mm grid in the
    working CRS, on a 1e-9° grid in lon/lat."""
    geoms = gpd.GeoSeries(geoms) if not isinstance(geoms, gpd.GeoSeries) else geoms
    working = crs == "working" and not getattr(geoms.crs, "is_geographic", False)
    return clean_polygons(np.asarray(geoms.values), grid=GRID_M if working else 1e-9,
                          marker=MARKER_M if working else None)


def _write_gpkg(path: Path, out, others, *, fast: bool = True, plans: dict[str, dict] | None = None) -> Path:
    """The GeoPackage of masked, reprojected, cleaned findings ``out`` and masked, reprojected ``others``
    (``parcels``, ``buildings``, ``field_grid``; a dict), with the verification columns, aliases and QGIS
    styles. ``out`` and ``others`` may be functions returning them, called only when needed.

    The file is a copy of a template made once per schema by GDAL (:func:`_gpkg_template`) with the rows
    inserted by SQLite (:func:`_fill_gpkg`), from ``plans`` (:func:`_gpkg_plans`, made here when not given);
    layers GDAL would write differently from that fast path (other column types, odd values, other
    geometries) are written by GDAL, as before (:func:`_gdal_gpkg`), and so is everything with ``fast=False``.

    Examples
    --------
    >>> import tempfile
    >>> f = gpd.GeoDataFrame({"case_id": ["C1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    >>> out = _write_gpkg(Path(tempfile.mkdtemp()) / "x.gpkg", f, {})
    >>> pyogrio.read_dataframe(out, layer="findings")["case_id"].tolist()
    ['C1']
    """
    layers: dict[str, gpd.GeoDataFrame] | None = None

    def frames() -> dict[str, gpd.GeoDataFrame]:
        nonlocal layers
        if layers is None:
            layers = _gpkg_layers(out() if callable(out) else out, others() if callable(others) else others)
        return layers

    with atomic_path(path) as tmp:
        if fast and plans is None:
            plans = _gpkg_plans(frames())
        template = _gpkg_template(path, frames, plans) if fast and plans is not None else None
        if template is not None:
            _fill_gpkg(tmp, path, template, plans)
        else:
            _gdal_gpkg(tmp, path, frames())
    return path


def _gpkg_layers(out: gpd.GeoDataFrame, others: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage's layers: findings with the (empty) verification columns last, then ``others``."""
    out = out.copy()
    geom = out.geometry.name
    columns = [c for c in out.columns if c != geom and c not in VERIFICATION_COLUMNS]
    for col in VERIFICATION_COLUMNS:
        out[col] = out[col].astype(object) if col in out.columns else pd.Series(None, index=out.index, dtype=object)
    return {"findings": out[[*columns, *VERIFICATION_COLUMNS, geom]], **others}


# -- KML -------------------------------------------------------------------------------------------


def _kml_colour(hex_rgb: str, alpha: int) -> str:
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{b}{g}{r}"  # KML is aabbggrr


def _text(text: str) -> str:
    """XML character data escaped as xml.etree.ElementTree escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    """An XML attribute value escaped as xml.etree.ElementTree escapes it (between double quotes)."""
    text = _text(text).replace('"', "&quot;")
    return text.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _leaf(tag: str, text: str, attrs: str = "", *, raw: bool = False) -> str:
    """``<tag attrs>text</tag>``, or ``<tag attrs />`` without text (ElementTree's short empty elements);
    ``raw`` text is markup already (child elements)."""
    if not text:
        return f"<{tag}{attrs} />"
    return f"<{tag}{attrs}>{text if raw else _text(text)}</{tag}>"


def _kml_coords(geom) -> str:
    """``x,y x,y ...`` with the shortest text of each rounded coordinate (``repr``, as json writes floats)."""
    xy = np.round(shapely.get_coordinates(geom), _DECIMALS)
    if not len(xy):
        return ""
    if not np.isfinite(xy).all():
        return " ".join(f"{x!r},{y!r}" for x, y in xy.tolist())
    return json.dumps(xy.tolist(), separators=(",", ","))[2:-2].replace("],[", " ")


def _kml_geometry(geom) -> str:
    """``geom`` (already lon/lat, rounded and oriented) as KML."""
    kind = shapely.get_type_id(geom)
    if kind == 0:
        return f'<Point>{_leaf("coordinates", _kml_coords(geom))}</Point>'
    if kind in (1, 2):
        return f'<LineString>{_leaf("coordinates", _kml_coords(geom))}</LineString>'
    if kind == 3:
        rings = [("outerBoundaryIs", shapely.get_exterior_ring(geom))]
        holes = range(shapely.get_num_interior_rings(geom))
        rings += [("innerBoundaryIs", shapely.get_interior_ring(geom, i)) for i in holes]
        return "<Polygon>" + "".join(f'<{tag}><LinearRing>{_leaf("coordinates", _kml_coords(ring))}</LinearRing></{tag}>'
                                     for tag, ring in rings) + "</Polygon>"
    # multi-part and collections (every finding is a MultiPolygon: one geometry type in the layer)
    parts = "".join(_kml_geometry(part) for part in shapely.get_parts(geom))
    return f"<MultiGeometry>{parts}</MultiGeometry>" if parts else "<MultiGeometry />"


def _kml_geometries(geoms: np.ndarray) -> list[str]:
    """:func:`_kml_geometry` of every geometry ("" for None), Polygons and MultiPolygons all at once.

    Examples
    --------
    >>> _kml_geometries(np.array([shapely.box(0, 0, 1, 1), None], dtype=object))[1]
    ''
    """
    out = [""] * len(geoms)
    present = np.flatnonzero(~shapely.is_missing(geoms)) if len(geoms) else np.zeros(0, dtype=np.intp)
    g = geoms[present]
    types = shapely.get_type_id(g)
    polygonal = (types == 3) | (types == 6)
    if polygonal.any():
        parts, part_of = shapely.get_parts(g[polygonal], return_index=True)
        bad = np.zeros(int(polygonal.sum()), dtype=bool)
        bad[part_of[shapely.is_empty(parts)]] = True  # an empty part: one by one, as ever
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        xy, coord_of = shapely.get_coordinates(rings, return_index=True)
        xy = np.round(xy, _DECIMALS)
        if not np.isfinite(xy).all():
            bad[:] = True
        ends = np.cumsum(np.bincount(coord_of, minlength=len(rings)))
        starts = ends - np.bincount(coord_of, minlength=len(rings))
        texts = [json.dumps(xy[a:b].tolist(), separators=(",", ","))[2:-2].replace("],[", " ") if b > a else ""
                 for a, b in zip(starts.tolist(), ends.tolist())]
        outer = np.r_[True, ring_of[1:] != ring_of[:-1]] if len(ring_of) else np.zeros(0, dtype=bool)
        ring_xml = [f'<{t}><LinearRing>{_leaf("coordinates", x)}</LinearRing></{t}>'
                    for t, x in zip(np.where(outer, "outerBoundaryIs", "innerBoundaryIs").tolist(), texts)]
        ring_ends = np.cumsum(np.bincount(ring_of, minlength=len(parts))).tolist()
        part_xml = ["<Polygon>" + "".join(ring_xml[a:b]) + "</Polygon>"
                    for a, b in zip([0, *ring_ends[:-1]], ring_ends)]
        part_ends = np.cumsum(np.bincount(part_of, minlength=len(bad))).tolist()
        for k, (a, b, kind, at) in enumerate(zip([0, *part_ends[:-1]], part_ends, types[polygonal].tolist(),
                                                 present[polygonal].tolist())):
            if bad[k]:
                out[at] = _kml_geometry(geoms[at])
            elif kind == 3:
                out[at] = part_xml[a]
            else:
                out[at] = f"<MultiGeometry>{''.join(part_xml[a:b])}</MultiGeometry>" if b > a else "<MultiGeometry />"
    for at in present[~polygonal].tolist():
        out[at] = _kml_geometry(geoms[at])
    return out


def _kml_style_id(family, severity) -> str | None:
    if family not in FAMILY_COLOURS:
        return None
    return f"{family}-{severity if severity in SEVERITY_WEIGHTS else 'medium'}"


def _kml_title(findings: gpd.GeoDataFrame, path: Path, run_date) -> str:
    """``乡镇 村名 问题图斑 (run date)``, from the findings' own ``township``/``village`` columns."""
    def first(col):
        if col not in findings.columns:
            return ""
        values = [v for v in findings[col].astype(object) if isinstance(v, str) and v.strip()]
        return values[0].strip() if values else ""

    place = " ".join(p for p in (first("township"), first("village")) if p) or path.stem
    when = (run_date or dt.date.today()).isoformat()
    return mask_ids_in_text(f"{place} 问题图斑 ({when})")


def export_kml(findings: gpd.GeoDataFrame, path: str | Path, *, title: str | None = None,
               run_date: dt.date | None = None) -> Path:
    """Write findings as KML for Ovital (奥维) / Google Earth: one placemark per finding.

    The document is named ``乡镇 村名 问题图斑 (run date)``; each placemark is named by rule and subject
    (``乱占耕地建房 B1``), drawn with a style shared by its family and severity — the maps' colours
    (:data:`maps.style.FAMILY_COLOURS`) and outline weights (:data:`maps.style.SEVERITY_WEIGHTS`) —
    and carries :data:`GEOJSON_PROPERTIES` but the message as typed ``SchemaData`` whose Chinese labels
    are declared once in the document's ``Schema``; its description is the family and the message (not
    repeated in the data). WGS84 (7 decimals), masked, not indented: at most 40 % of the old layout.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in any CRS.
    path : str or Path
        The ``.kml`` to write (replaced atomically).
    title : str, optional
        Document name (default from the findings' township and village and ``run_date``).
    run_date : datetime.date, optional
        Date in the document name (default today).

    Returns
    -------
    Path

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> out = export_kml(finalise(CATALOGUE["FARM-BUILD"], p), Path(tempfile.mkdtemp()) / "x.kml")
    >>> pyogrio.read_dataframe(out)["Name"].tolist()
    ['乱占耕地建房 B1']
    """
    path = Path(path)
    findings = _checked(findings, [*GEOJSON_PROPERTIES, "family"])
    props = _display(mask_frame(findings[GEOJSON_PROPERTIES]))
    messages = mask_frame(findings[["message"]])["message"]
    name = mask_ids_in_text(title) if title else _kml_title(findings, path, run_date)
    return _write_kml(path, props, findings, messages, _wgs84(findings.geometry), name)


def _write_kml(path: Path, props: pd.DataFrame, findings: pd.DataFrame, messages: pd.Series, geoms: np.ndarray,
               name: str) -> Path:
    """The KML of masked, displayed properties, the findings' (unmasked) ``family``/``severity`` codes,
    masked messages, WGS84 geometries and the (masked) document ``name``."""
    families = findings["family"].astype(object).to_numpy()
    severities = findings["severity"].astype(object).to_numpy()
    placemarks = _kml_placemarks(props, families, severities, messages.astype(object).to_numpy(), geoms)
    return _write_kml_document(path, name, families, severities, placemarks)


_SEP = "\x1f\x1e\x1f"  # joins a column's texts to escape them at once; no escaping touches it


def _escaped(values: list[str], escape) -> list[str] | None:
    """``[escape(v) for v in values]`` in one call over the joined texts; None if a text holds the separator."""
    joined = _SEP.join(values)
    if joined.count(_SEP) != max(len(values) - 1, 0):
        return None
    return escape(joined).split(_SEP) if values else []


def _kml_placemarks(props: pd.DataFrame, families: np.ndarray, severities: np.ndarray, messages: np.ndarray,
                    geoms: np.ndarray) -> list[str]:
    """Each row's KML Placemark (text), column by column: the same text as :func:`_kml_placemarks_rows`.

    Examples
    --------
    >>> p = pd.DataFrame({c: ["x&<y"] for c in GEOJSON_PROPERTIES})
    >>> args = (p, np.array(["farmland"], dtype=object), np.array(["high"], dtype=object),
    ...         np.array(["<b>"], dtype=object), np.array([shapely.box(0, 0, 1, 1)], dtype=object))
    >>> _kml_placemarks(*args) == _kml_placemarks_rows(*args)
    True
    """
    n = len(props)
    if not n:
        return []
    empty = np.full(n, "", dtype=object)
    rows_ = (props, families, severities, messages, geoms)

    def texts(values: np.ndarray, shown: np.ndarray, escape) -> np.ndarray | None:
        """``escape(str(v))`` where ``shown``, "" elsewhere; None if a text holds the separator."""
        out = empty.copy()
        if shown.any():
            done = _escaped(list(map(str, values[shown])), escape)
            if done is None:
                return None
            out[shown] = _objects(done)
        return out

    data = empty.copy()  # SchemaData: the shown fields' SimpleData
    for c in _KML_FIELDS:
        values = props[c].to_numpy(dtype=object)
        shown = np.asarray(values != None, dtype=bool) & np.asarray(values != "", dtype=bool)  # noqa: E711
        text = texts(values, shown, _text)
        if text is None:
            return _kml_placemarks_rows(*rows_)
        data[shown] = data[shown] + (f'<SimpleData name="{_attr(c)}">' + text[shown] + "</SimpleData>")
    name = empty.copy()  # " ".join of the truthy rule name and subject
    for c in ("rule_name", "subject_id"):
        values = props[c].to_numpy(dtype=object)
        shown = np.fromiter(map(bool, values), dtype=bool, count=n)
        part = texts(values, shown, str)
        if part is None:
            return _kml_placemarks_rows(*rows_)
        name = np.where(shown & (name != ""), name + " " + part, name + part).astype(object)
    name = _escaped(name.tolist(), _text)
    message = np.where(np.fromiter(map(isinstance, messages, itertools.repeat(str)), dtype=bool, count=n),
                       messages, "").astype(object)
    message = _escaped(message.tolist(), lambda t: _text(html.escape(t)))
    if name is None or message is None:
        return _kml_placemarks_rows(*rows_)
    # per family, and per family and severity: a few distinct values, looked up row by row in C (map)
    head = {f: _text(f"<b>{html.escape(str(FAMILY_LABELS.get(f, f or '')))}</b> ")
            for f in dict.fromkeys(families.tolist())}
    pairs = list(zip(families.tolist(), severities.tolist()))
    style = {}
    for pair in dict.fromkeys(pairs):
        sid = _kml_style_id(*pair)
        style[pair] = _leaf("styleUrl", f"#{sid}") if sid else ""
    names = _objects(name)
    names = np.where(names == "", "<name />", "<name>" + names + "</name>").astype(object)
    schema = np.where(data == "", '<SchemaData schemaUrl="#finding" />',
                      '<SchemaData schemaUrl="#finding">' + data + "</SchemaData>").astype(object)
    parts = (itertools.repeat("<Placemark>"), names.tolist(), itertools.repeat("<description>"),
             map(head.__getitem__, families.tolist()), message, itertools.repeat("</description>"),
             map(style.__getitem__, pairs), itertools.repeat("<ExtendedData>"), schema.tolist(),
             itertools.repeat("</ExtendedData>"), _kml_geometries(np.asarray(geoms, dtype=object)),
             itertools.repeat("</Placemark>"))
    return list(map("".join, zip(*parts)))  # one join per row: no intermediate copies of the long texts


def _kml_placemarks_rows(props: pd.DataFrame, families: np.ndarray, severities: np.ndarray, messages: np.ndarray,
                         geoms: np.ndarray) -> list[str]:
    """Each row's KML Placemark (text), row by row; see :func:`_write_kml`."""
    out = []
    shapes = _kml_geometries(np.asarray(geoms, dtype=object))
    for record, fam, sev, message, shape in zip(props.to_dict("records"), families, severities, messages, shapes):
        label = FAMILY_LABELS.get(fam, fam or "")
        text = message if isinstance(message, str) else ""
        sid = _kml_style_id(fam, sev)
        data = "".join(_leaf("SimpleData", str(record[c]), f' name="{_attr(c)}"') for c in _KML_FIELDS
                       if record[c] is not None and record[c] != "")
        out.append("".join((
            "<Placemark>",
            _leaf("name", " ".join(str(record[c]) for c in ("rule_name", "subject_id") if record[c])),
            _leaf("description", f"<b>{html.escape(str(label))}</b> {html.escape(text)}"),
            _leaf("styleUrl", f"#{sid}") if sid else "",
            "<ExtendedData>", _leaf("SchemaData", data, ' schemaUrl="#finding"', raw=True), "</ExtendedData>",
            shape,
            "</Placemark>")))
    return out


def _write_kml_document(path: Path, name: str, families: np.ndarray, severities: np.ndarray,
                        placemarks: list[str]) -> Path:
    """The KML document ``name`` of ``placemarks`` (:func:`_kml_placemarks`) with the styles of the
    families and severities used, replaced atomically."""
    out = [f'<kml xmlns="{_KML_NS}"><Document>', _leaf("name", name), '<Schema name="finding" id="finding">']
    for c in _KML_FIELDS:
        kind = "double" if c in _ROUND else "string"
        out.append(f'<SimpleField name="{_attr(c)}" type="{kind}">{_leaf("displayName", COLUMN_LABELS[c])}</SimpleField>')
    out.append("</Schema>")
    used = dict.fromkeys(s for s in map(_kml_style_id, families, severities) if s)
    for sid in used:  # one shared style per family and severity, only those used
        fam, sev = sid.split("-", 1)
        out.append(f'<Style id="{_attr(sid)}"><LineStyle>{_leaf("color", _kml_colour(FAMILY_COLOURS[fam], 0xFF))}'
                   f'{_leaf("width", f"{SEVERITY_WEIGHTS[sev]:g}")}</LineStyle>'
                   f'<PolyStyle>{_leaf("color", _kml_colour(FAMILY_COLOURS[fam], 0x59))}</PolyStyle></Style>')
    out.append(f'<Folder>{_leaf("name", "问题图斑")}')  # one folder: GDAL reads it as one layer, even when empty
    out.extend(placemarks)
    out.append("</Folder></Document></kml>")
    # what xml.etree.ElementTree wrote for the same tree (declaration, escaping, empty elements), faster
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", errors="xmlcharrefreplace", newline="\n") as f:
            f.write("<?xml version='1.0' encoding='utf-8'?>\n")
            f.write("".join(out))
    return path


# -- one village -------------------------------------------------------------------------------------


def export_village(findings: gpd.GeoDataFrame, out_dir: str | Path, village_id: str, *,
                   parcels: gpd.GeoDataFrame | None = None, buildings: gpd.GeoDataFrame | None = None,
                   full_names: bool = False, crs: Literal["wgs84", "working"] = "wgs84",
                   name: str | None = None, township: str | None = None,
                   run_date: dt.date | None = None, grid: gpd.GeoDataFrame | None = None) -> dict[str, Path]:
    """Write one village's field files: ``<village_id>_<村名>.geojson``, ``.gpkg`` and ``.kml``.

    The file names come from :func:`maps.filenames.file_stem` (path separators and characters that
    Windows or Android refuse become ``_``, ID numbers are masked, long names are shortened) and always
    stay inside ``out_dir``. The KML document is named ``乡镇 村名 问题图斑 (run date)``.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings of the district (or of the village); rows of ``village_id`` are exported.
    out_dir : str or Path
        Folder to write into (created when missing).
    village_id : str
        The village.
    parcels, buildings : GeoDataFrame, optional
        The district's layers with a ``village_id`` column; the village's rows go into the GeoPackage.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    crs : {"wgs84", "working"}
        CRS of the GeoPackage (GeoJSON and KML are always WGS84).
    name : str, optional
        The village's name (for :data:`maps.filenames.NAME_IN_FILE_NAMES`); default the findings'
        ``village`` column.
    township : str, optional
        The township, for the KML document name; default the findings' ``township`` column.
    run_date : datetime.date, optional
        The run's date, for the KML document name; default today.
    grid : GeoDataFrame, optional
        One 田长 grid (its ``field_grids`` rows): only the findings with its ``grid_id`` and the parcels
        and buildings meeting it are written, to ``<grid_id>_<村名>.*``, the grid goes into the
        GeoPackage as layer ``field_grid`` and the KML is named ``乡镇 村名 网格 <grid_id> 田长 <masked
        name> 问题图斑 (run date)``; the leader's name is masked (:func:`layers.privacy.mask_name`).
        See :func:`export_grids`.

    Returns
    -------
    dict
        ``{"geojson": Path, "gpkg": Path, "kml": Path}``.

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["110117001001"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> files = export_village(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), "110117001001")
    >>> sorted(p.name for p in files.values())
    ['110117001001.geojson', '110117001001.gpkg', '110117001001.kml']
    >>> files = export_village(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), "110117001001", name="东村")
    >>> files["kml"].name
    '110117001001_东村.kml'
    """
    batch = FieldBatch(findings, parcels=parcels, buildings=buildings, full_names=full_names, crs=crs,
                       villages=[village_id], grids=grid)
    return batch.village(out_dir, village_id, name=name, township=township, run_date=run_date, grid=grid)


def _objects(values: list) -> np.ndarray:
    """A list as a 1-d object array (strings, bytes ... kept as they are).

    Examples
    --------
    >>> _objects(["a", "b"])[[1]].tolist()
    ['b']
    """
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class _Rows:
    """Positions of the rows equal to a key (``values.astype(object) == key``), grouped once.

    Examples
    --------
    >>> _Rows(pd.Series(["V1", "V2", "V1", None])).of("V1").tolist()
    [0, 2]
    """

    def __init__(self, values: pd.Series) -> None:
        self._values = values.astype(object)
        try:
            self._groups = pd.Series(np.arange(len(values))).groupby(self._values.to_numpy(), sort=False).indices
        except TypeError:  # unhashable values: compared one key at a time
            self._groups = None

    def of(self, key) -> np.ndarray:
        """Ascending positions of the rows equal to ``key``."""
        if self._groups is None:
            return np.flatnonzero((self._values == key).to_numpy())
        try:
            return np.asarray(self._groups.get(key, np.array([], dtype=np.intp)), dtype=np.intp)
        except TypeError:
            return np.flatnonzero((self._values == key).to_numpy())


class FieldBatch:
    """Field files for many villages (and 田长 grids) of one district, from one preparation.

    The findings, parcels and buildings are masked (:class:`maps.premask.MaskedRows`), reprojected and
    cleaned once, each row on its own; :meth:`village` takes a village's (or grid's) rows from them and
    writes the same files as :func:`export_village` did for those rows alone. Made before the workers
    fork (``landguard.pipeline.write_exports``), it is shared by all of them.

    Parameters
    ----------
    findings : GeoDataFrame
        The district's findings (working CRS).
    parcels, buildings : GeoDataFrame, optional
        The district's layers with a ``village_id`` column.
    full_names : bool
        Keep owners' names in full (ID numbers stay masked).
    crs : {"wgs84", "working"}
        CRS of the GeoPackages.
    villages : sequence, optional
        Only these villages' rows are prepared (default: all).
    grids : GeoDataFrame, optional
        With ``villages``: the ``field_grids`` rows to be written too (their findings are kept whatever
        their village).

    Examples
    --------
    >>> import shapely, tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["V1"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> batch = FieldBatch(finalise(CATALOGUE["FARM-BUILD"], p))
    >>> sorted(f.name for f in batch.village(tempfile.mkdtemp(), "V1", name="东村").values())
    ['V1_东村.geojson', 'V1_东村.gpkg', 'V1_东村.kml']
    """

    def __init__(self, findings: gpd.GeoDataFrame, *, parcels: gpd.GeoDataFrame | None = None,
                 buildings: gpd.GeoDataFrame | None = None, full_names: bool = False,
                 crs: Literal["wgs84", "working"] = "wgs84", villages=None,
                 grids: gpd.GeoDataFrame | None = None) -> None:
        from .premask import MaskedRows

        findings = _checked(findings, ["village_id"])
        self.crs = crs
        self.full_names = full_names
        self.target = _target_crs(findings, crs)
        wanted = None if villages is None else list(villages)
        if wanted is not None:  # masking is row by row: only the rows asked for are prepared
            keep = findings["village_id"].astype(object).isin(wanted)
            if grids is not None and "grid_id" in findings.columns and "grid_id" in grids.columns:
                keep |= findings["grid_id"].astype(object).isin(list(grids["grid_id"].astype(object).dropna()))
            findings = findings[keep.to_numpy()]
        self.findings = findings
        self._villages = _Rows(findings["village_id"])
        self._grids = _Rows(findings["grid_id"]) if "grid_id" in findings.columns else None
        self._masked = MaskedRows(findings, full_names=full_names)
        self._wgs84 = _wgs84(findings.geometry)
        self._gpkg = _gpkg_geoms(findings.geometry.to_crs(self.target), crs)
        self._layers: dict[str, tuple] = {}
        self._gpkg_sources: dict[str, _LayerSource] | None = None
        self._whole_findings: gpd.GeoDataFrame | None = None
        self._findings_again: frozenset | None = None
        self._batch_texts: dict | bool | None = None
        self._names: dict[str, np.ndarray] = {}
        for name, frame in (("parcels", parcels), ("buildings", buildings)):
            if frame is None:
                continue
            if "village_id" not in frame.columns:
                raise LayerError(f"{name}: no column village_id; give the district's layers split by village")
            if frame.crs is None:
                raise CRSError(f"{name}: no CRS; give the district's {name} in its working CRS")
            if wanted is not None:
                frame = frame[frame["village_id"].astype(object).isin(wanted).to_numpy()]
            self._layers[name] = (frame, _Rows(frame["village_id"]),
                                  MaskedRows(frame, full_names=full_names), frame.geometry.to_crs(self.target).values)

    def _findings(self, rows: np.ndarray) -> gpd.GeoDataFrame:
        """Masked findings rows, their geometry reprojected and cleaned for the GeoPackage."""
        out = self._masked.take(rows).set_crs(self.target, allow_override=True)
        out[out.geometry.name] = gpd.GeoSeries(self._gpkg[rows], index=out.index, crs=self.target)
        return out

    def _layer(self, name: str, village_id, grid: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        """The village's (or the grid's) masked rows of ``name``, reprojected."""
        if name not in self._layers:
            return None
        return self._layer_rows(name, self._rows_of(name, village_id, grid))

    def _rows_of(self, name: str, village_id, grid: gpd.GeoDataFrame | None) -> np.ndarray:
        """Positions of the village's (or the grid's) rows of layer ``name``."""
        frame, villages, _, _ = self._layers[name]
        rows = villages.of(village_id)
        if grid is not None and len(rows):
            area = shapely.union_all(grid.to_crs(frame.crs).geometry.to_numpy())
            rows = rows[shapely.intersects(frame.geometry.to_numpy()[rows], area)]
        return rows

    def _layer_rows(self, name: str, rows: np.ndarray) -> gpd.GeoDataFrame:
        """Rows ``rows`` of layer ``name``, masked and reprojected."""
        _, _, masked, geoms = self._layers[name]
        out = masked.take(rows).set_crs(self.target, allow_override=True)
        out[out.geometry.name] = gpd.GeoSeries(geoms[rows], index=out.index, crs=self.target)
        return out

    def _sources(self) -> dict[str, _LayerSource]:
        """Each layer converted once for the GeoPackages (:class:`_LayerSource`), on first use (in the worker).

        The columns :class:`maps.premask.MaskedRows` masks again per slice (a categorical column, or one
        whose dtype masking changes) are converted per village; a frame it masks per slice (index or column
        names not unique) is converted per village altogether.
        """
        if self._gpkg_sources is None:
            def again(frame: pd.DataFrame, whole: pd.DataFrame) -> frozenset | None:
                if not (frame.index.is_unique and frame.columns.is_unique):
                    return None
                return frozenset(c for c in whole.columns if c not in frame.columns
                                 or isinstance(frame[c].dtype, pd.CategoricalDtype) or frame[c].dtype != whole[c].dtype)

            sources = {}
            whole = self._whole_findings = self._findings(np.arange(len(self.findings)))
            changed = self._findings_again = again(self.findings, whole)
            if changed is not None:  # the layer as _gpkg_layers writes it: verification columns last
                sources["findings"] = _LayerSource("findings", _gpkg_layers(whole, {})["findings"], changed)
            for name, (frame, _, _, _) in self._layers.items():
                whole = self._layer_rows(name, np.arange(len(frame)))
                changed = again(frame, whole)
                if changed is not None:
                    sources[name] = _LayerSource(name, whole, changed)
            self._gpkg_sources = sources
        return self._gpkg_sources

    def _gpkg_plans(self, rows: np.ndarray, masked, layer_rows: dict[str, np.ndarray],
                    extra: dict[str, gpd.GeoDataFrame]) -> dict[str, dict] | None:
        """The GeoPackage plans (:func:`_gpkg_plans`) of a village's findings ``rows`` (masked: ``masked()``),
        its rows of the other layers and the ``extra`` layers (the 田长 grid), or None (GDAL writes it)."""
        sources = self._sources()
        if "findings" not in sources or any(n not in sources for n in layer_rows):
            return None

        def finding_column(c: str) -> pd.Series:
            frame = masked()
            if c in VERIFICATION_COLUMNS:  # as _gpkg_layers makes them
                return frame[c].astype(object) if c in frame.columns else pd.Series([None] * len(rows), dtype=object)
            return frame[c]

        plans = {"findings": sources["findings"].plan(rows, finding_column)}
        for name, at in layer_rows.items():
            part = {}

            def column(c: str, name=name, at=at, part=part) -> pd.Series:
                if "frame" not in part:
                    part["frame"] = pd.DataFrame(self._layer_rows(name, at), copy=False)
                return part["frame"][c]

            plans[name] = sources[name].plan(at, column)
        if extra:
            plans.update(_gpkg_plans(extra) or {"": None})
        return None if any(p is None for p in plans.values()) else plans

    def village(self, out_dir: str | Path, village_id: str, *, name: str | None = None,
                township: str | None = None, run_date: dt.date | None = None,
                grid: gpd.GeoDataFrame | None = None) -> dict[str, Path]:
        """Write one village's (or, with ``grid``, one 田长 grid's) field files; see :func:`export_village`.

        Examples
        --------
        >>> # FieldBatch(findings, parcels=parcels).village("out/exports", "110117104201", name="东村")
        """
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{out_dir}: cannot create the folder ({exc.strerror or exc})") from None
        rows = self._villages.of(village_id)
        grid_id = None
        if grid is not None:
            grid_id = grid["grid_id"].astype(object).iloc[0]
            rows = self._grids.of(grid_id) if self._grids is not None else np.array([], dtype=np.intp)

        def known(value, column):
            if isinstance(value, str) and value.strip():
                return value.strip()
            if column not in self.findings.columns:
                return None
            if column not in self._names:
                self._names[column] = self.findings[column].astype(object).to_numpy()
            found = next((v for v in self._names[column][rows] if isinstance(v, str) and v.strip()), None)
            return found.strip() if found is not None else None

        name, township = known(name, "village"), known(township, "township")
        stem = file_stem(village_id if grid_id is None else grid_id, name)
        place = " ".join(p for p in (township, name or str(village_id)) if p)
        layer_rows = {n: self._rows_of(n, village_id, grid) for n in ("parcels", "buildings") if n in self._layers}
        extra = {}
        if grid is not None:
            leader = mask_frame(grid[["grid_leader"]])["grid_leader"].astype(object) \
                if "grid_leader" in grid.columns else pd.Series([], dtype=object)
            leader = next((v for v in leader if isinstance(v, str) and v.strip()), None)
            place += f" 网格 {grid_id}" + (f" 田长 {leader}" if leader else "")
            if grid.crs is None:
                raise CRSError("field_grid: no CRS; give the district's field_grid in its working CRS")
            # the grid leader is masked even with full_names (that keeps the owners' names only)
            extra["field_grid"] = mask_frame(grid).to_crs(self.target)
        title = f"{place} 问题图斑 ({(run_date or dt.date.today()).isoformat()})"
        _checked(self.findings, [*GEOJSON_PROPERTIES, "family"])
        found: dict[str, gpd.GeoDataFrame] = {}

        def masked() -> gpd.GeoDataFrame:  # the village's masked findings, when needed
            if "masked" not in found:
                found["masked"] = self._findings(rows)
            return found["masked"]

        texts = self._texts()
        geojson, gpkg, kml = (path_in(out_dir, stem, suffix) for suffix in (".geojson", ".gpkg", ".kml"))
        if texts is not None:  # each row's Feature and Placemark made once for the batch
            _write_geojson_features(geojson, texts["features"][rows].tolist())
            _write_kml_document(kml, mask_ids_in_text(title), texts["families"][rows], texts["severities"][rows],
                                texts["placemarks"][rows].tolist())
        else:
            props = _display(masked()[GEOJSON_PROPERTIES])
            wgs84 = self._wgs84[rows]
            _write_geojson(geojson, props, wgs84)
            _write_kml(kml, props, self.findings.iloc[rows], masked()["message"], wgs84, mask_ids_in_text(title))
        _write_gpkg(gpkg, masked, lambda: {**{n: self._layer_rows(n, r) for n, r in layer_rows.items()}, **extra},
                    plans=self._gpkg_plans(rows, masked, layer_rows, extra))
        return {"geojson": geojson, "gpkg": gpkg, "kml": kml}

    def _texts(self) -> dict | None:
        """Each finding's GeoJSON Feature and KML Placemark, made once for all the batch's villages (on first
        use): the same text as made from a village's rows alone, row by row. None (each village makes its
        own) when masking a column they show depends on the rows taken (:class:`maps.premask.MaskedRows`)
        or making them fails for some row (that village fails as before)."""
        if self._batch_texts is None:
            self._sources()
            texts = False
            shown = {*GEOJSON_PROPERTIES, "message"}
            if self._findings_again is not None and not (self._findings_again & shown):
                whole = self._whole_findings
                try:
                    props = _display(whole[GEOJSON_PROPERTIES])
                    families = self.findings["family"].astype(object).to_numpy()
                    severities = self.findings["severity"].astype(object).to_numpy()
                    features = _geojson_features(props, self._wgs84)
                    placemarks = _kml_placemarks(props, families, severities,
                                                 whole["message"].astype(object).to_numpy(), self._wgs84)
                except Exception:  # noqa: BLE001 - each village meets its own error, as before
                    placemarks = None
                if placemarks is not None:
                    texts = {"families": families, "severities": severities,
                             "features": _objects(features), "placemarks": _objects(placemarks)}
            self._batch_texts = texts
        return self._batch_texts or None


#: Sub-folder of the export folder holding the per-grid field files.
GRIDS_FOLDER = "grids"


def grid_stems(grids: gpd.GeoDataFrame, names: dict | None = None) -> dict:
    """Each 田长 grid's file stem ``<grid_id>_<村名>``, refusing two grids that would write the same file.

    Rows without a ``grid_id`` are skipped (no finding is routed to them); rows of one ``grid_id`` are
    one grid.

    Parameters
    ----------
    grids : GeoDataFrame
        The ``field_grids`` layer (``grid_id``, ``village_id``).
    names : dict, optional
        ``village_id`` -> village name.

    Returns
    -------
    dict
        ``grid_id`` -> stem.

    Raises
    ------
    LayerError
        One line naming both grid ids and the shared file name.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G/1", "G:1"], "village_id": ["V1", "V1"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> grid_stems(g.iloc[:1], {"V1": "东村"})
    {'G/1': 'G_1_东村'}
    >>> grid_stems(g)
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: field_grids 图层 grid_id 列：网格 'G/1' 与 'G:1' 的文件名相同（G_1）...
    """
    import unicodedata

    for col in ("grid_id", "village_id"):
        if col not in grids.columns:
            raise LayerError(f"field_grids: no column {col}; give grid_id, village_id, grid_leader (LAYERS.md)")
    names = names or {}
    rows = grids[grids["grid_id"].notna()].drop_duplicates("grid_id")
    stems: dict = {}
    owner: dict = {}
    for gid, vid in zip(rows["grid_id"].astype(object), rows["village_id"].astype(object)):
        stem = file_stem(gid, names.get(vid))
        key = unicodedata.normalize("NFC", stem).casefold()
        if key in owner:
            raise LayerError(
                f"field_grids 图层 grid_id 列：网格 {str(owner[key])!r} 与 {str(gid)!r} 的文件名相同（{stem}），"
                f"会互相覆盖；请改用不会冲突的网格编号 (grid ids {str(owner[key])!r} and {str(gid)!r} give the "
                f"same file name {stem!r}; make them distinct)")
        owner[key] = gid
        stems[gid] = stem
    return stems


def export_grids(findings: gpd.GeoDataFrame, out_dir: str | Path, grids: gpd.GeoDataFrame, *,
                 names: dict | None = None, villages=None, **kwargs) -> dict[str, dict[str, Path]]:
    """Field files per 田长 grid, in ``out_dir/grids``: ``<grid_id>_<村名>.geojson|.gpkg|.kml``.

    One set per grid of ``grids`` (the ``field_grids`` layer), written by :func:`export_village` with
    its ``grid`` (same columns, styles and verification fields as the village files; the grid leader's
    name masked). File names are checked first (:func:`grid_stems`): two grids with one file name are
    refused before anything is written; every path stays inside the folder.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings with ``grid_id`` (as ``landguard check`` writes them with ``field_grids``).
    out_dir : str or Path
        The export folder; the files go into its ``grids`` sub-folder.
    grids : GeoDataFrame
        The ``field_grids`` layer: ``grid_id``, ``village_id``, ``grid_leader``.
    names : dict, optional
        ``village_id`` -> village name, for the file names and the KML document name.
    villages : sequence, optional
        Only the grids of these villages.
    **kwargs
        Passed to :func:`export_village` (``parcels``, ``buildings``, ``full_names``, ``crs``,
        ``township``, ``run_date``).

    Returns
    -------
    dict
        ``grid_id`` -> ``{"geojson": Path, "gpkg": Path, "kml": Path}``.

    Examples
    --------
    >>> import tempfile
    >>> from analyses.findings import finalise
    >>> from analyses.registry import CATALOGUE
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1"], "village_id": ["V1"], "grid_leader": ["王建国"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508100, 4443100)], crs=4548)
    >>> p = gpd.GeoDataFrame({"subject_layer": ["buildings"], "subject_id": ["B1"], "village_id": ["V1"],
    ...                       "grid_id": ["G1"]}, geometry=[shapely.box(508000, 4443000, 508010, 4443010)], crs=4548)
    >>> files = export_grids(finalise(CATALOGUE["FARM-BUILD"], p), tempfile.mkdtemp(), g, names={"V1": "东村"})
    >>> files["G1"]["kml"].parent.name, files["G1"]["kml"].name
    ('grids', 'G1_东村.kml')
    """
    names = dict(names or {})
    chosen = chosen_grids(grids, names, villages)  # refused before anything is written
    folder = Path(out_dir) / GRIDS_FOLDER
    if not isinstance(findings, gpd.GeoDataFrame) or "grid_id" not in findings.columns:
        findings = _checked(findings, ["village_id"]).assign(grid_id=None)
    per_grid = {k: kwargs.pop(k) for k in ("township", "run_date") if k in kwargs}
    batch = FieldBatch(findings, villages=[vid for _, vid in chosen.values()],
                       grids=grids_of(grids, chosen), **kwargs)
    return {gid: batch.village(folder, vid, name=names.get(vid), grid=grid, **per_grid)
            for gid, (grid, vid) in chosen.items()}


def chosen_grids(grids: gpd.GeoDataFrame, names: dict | None = None, villages=None) -> dict:
    """The 田长 grids to write: ``grid_id`` -> (its ``field_grids`` rows, its village id).

    Refuses a grids layer without CRS and two grids with one file name (:func:`grid_stems`).

    Parameters
    ----------
    grids : GeoDataFrame
        The ``field_grids`` layer.
    names : dict, optional
        ``village_id`` -> village name.
    villages : sequence, optional
        Only the grids of these villages.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "village_id": ["V1", "V2"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> list(chosen_grids(g, villages=["V2"]))
    ['G2']
    """
    if grids.crs is None:
        raise CRSError("field_grids: no CRS; give the 田长 grids with their CRS")
    stems = grid_stems(grids, names)
    wanted = None if not villages else {str(v) for v in villages}
    ids = grids["grid_id"].astype(object)
    chosen = {}
    for gid in stems:
        grid = grids[(ids == gid).to_numpy()]
        vid = grid["village_id"].astype(object).iloc[0]
        if wanted is None or str(vid) in wanted:
            chosen[gid] = (grid, vid)
    return chosen


def grids_of(grids: gpd.GeoDataFrame, chosen: dict) -> gpd.GeoDataFrame:
    """The rows of ``grids`` of the chosen grids (:func:`chosen_grids`).

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "village_id": ["V1", "V2"]},
    ...                      geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    >>> grids_of(g, {"G2": None})["grid_id"].tolist()
    ['G2']
    """
    return grids[grids["grid_id"].astype(object).isin(list(chosen)).to_numpy()]
