"""Reading every vector source into a role's canonical columns.

GeoPackage, Shapefile (GBK files without ``.cpg`` detected), GeoJSON, FlatGeobuf and anything else GDAL
reads, through pyogrio (default) or fiona; ``postgresql://`` sources through :mod:`layers.postgis`.
Inputs are only ever opened for reading.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial.errors import CRSError, LayerError

from . import coerce
from .config import LayerSource
from .roles import ROLES, Role

__all__ = ["read_layer", "canonical_frame", "FIELD_ALIASES", "sniff_dbf_encoding"]

#: Field names common in bureau data (spec/FIELD-NAMES.md), recognised without any mapping.
FIELD_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "villages": {"village_id": ("XZQDM", "CJQYDM", "ZLDWDM"), "name": ("XZQMC", "CJQYMC", "ZLDWMC"),
                 "township": ("XZMC", "XZQMC_X", "XZ")},
    "parcels": {"parcel_id": ("ZDDM", "BDCDYH"), "owner_name": ("QLRMC", "QLR"), "owner_id": ("ZJHM", "ZJH"),
                "approved_area_m2": ("PZMJ",), "approved_date": ("PZRQ", "PZSJ"), "household_id": ("HBH", "HH")},
    "buildings": {"building_id": ("FWBM", "BSM"), "floors": ("CS", "FWCS", "ZCS"), "eave_height_m": ("YKGD",),
                  "ridge_height_m": ("WJGD",)},
    "landuse": {"dlbm": ("DLBM",), "dlmc": ("DLMC",), "tbbh": ("TBBH",), "survey_year": ("SJNF",)},
    "landuse_baseline": {"dlbm": ("DLBM",), "dlmc": ("DLMC",), "tbbh": ("TBBH",), "survey_year": ("SJNF",)},
    "pbf": {"pbf_id": ("BSM", "YJJBNTTBBH", "TBBH")},
}


#: Columns without which a role cannot be used at all.
_ESSENTIAL: dict[str, tuple[str, ...]] = {
    "villages": ("village_id",), "parcels": ("parcel_id",), "buildings": ("building_id",),
    "landuse": ("dlbm",), "landuse_baseline": ("dlbm",), "approvals": ("approval_id", "kind"),
}


def sniff_dbf_encoding(path: str | os.PathLike) -> str | None:
    """Guess the text encoding of a shapefile that has no ``.cpg``: ``"UTF-8"``, ``"GBK"`` or None.

    Reads the raw ``.dbf`` records: text that is valid UTF-8 is UTF-8; otherwise, text that decodes as
    GB18030 (a superset of GBK/cp936) is GBK, the encoding of most Chinese shapefiles.

    Examples
    --------
    >>> sniff_dbf_encoding("no/such/file.shp") is None
    True
    """
    dbf = Path(path).with_suffix(".dbf")
    if not dbf.exists():
        dbf = Path(path).with_suffix(".DBF")
        if not dbf.exists():
            return None
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return None
        header_len = int.from_bytes(head[8:10], "little")
        fh.seek(header_len)
        body = fh.read(1 << 20)
    if all(b < 0x80 for b in body):
        return None
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(body) - 4:  # cut in the middle of a character by our 1 MB read
            return "UTF-8"
    try:
        body.decode("gb18030")
        return "GBK"
    except UnicodeDecodeError:
        return None


def _shapefile_encoding(path: str) -> str | None:
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return None
    cpg = p.with_suffix(".cpg")
    if cpg.exists() or p.with_suffix(".CPG").exists():
        declared = (cpg if cpg.exists() else p.with_suffix(".CPG")).read_text(errors="replace").strip().upper()
        sniffed = sniff_dbf_encoding(p)
        if sniffed and sniffed.replace("-", "") != declared.replace("-", "") and declared in ("UTF-8", "UTF8"):
            return sniffed  # a UTF-8 .cpg on a GBK file: trust the bytes
        return None
    return sniff_dbf_encoding(p)


def _read_file(role: Role, src: LayerSource) -> gpd.GeoDataFrame:
    path = src.resolved_path()
    where = f"{role.name} ({src.path}{':' + src.layer if src.layer else ''})"
    if path.startswith(("postgresql://", "postgres://")):
        try:
            from .postgis import read_postgis
        except ImportError:
            raise LayerError(f"{where}: PostGIS sources are not available in this installation") from None
        return read_postgis(src, role)
    if not Path(path).exists():
        raise LayerError(f"{where}: file not found; check [layers.{role.name}] path")
    layer = src.layer
    import pyogrio

    if layer is None and Path(path).suffix.lower() in (".gpkg", ".gdb", ".sqlite"):
        try:
            names = [n for n, _ in pyogrio.list_layers(path)]
        except Exception as exc:
            raise LayerError(f"{where}: GDAL cannot open the file ({exc})") from None
        if role.name in names:
            layer = role.name
        elif len(names) == 1:
            layer = names[0]
        else:
            raise LayerError(f"{where}: the file has layers {', '.join(names)}; set [layers.{role.name}] layer")
    encoding = src.encoding or _shapefile_encoding(path)
    kwargs = {"layer": layer} if layer is not None else {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if src.engine == "fiona":
                frame = gpd.read_file(path, engine="fiona", **kwargs)
            else:
                frame = pyogrio.read_dataframe(path, **kwargs)
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LayerError(f"{where}: cannot be read ({text})") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise LayerError(f"{where}: has no geometry column")
    return frame


def _map_columns(frame: gpd.GeoDataFrame, role: Role, src: LayerSource) -> dict[str, str]:
    """Canonical column -> column of ``frame`` (explicit mapping, then canonical name, then known alias)."""
    present = {c.lower(): c for c in frame.columns if c != frame.geometry.name}
    mapping: dict[str, str] = {}
    for canon in role.columns:
        if canon in src.columns:
            wanted = src.columns[canon]
            actual = wanted if wanted in frame.columns else present.get(wanted.lower())
            if actual is None:
                raise LayerError(
                    f"{role.name} ({src.path}): column {wanted!r} (mapped to {canon}) not found; "
                    f"columns are: {', '.join(present.values())}")
            mapping[canon] = actual
        elif canon.lower() in present:
            mapping[canon] = present[canon.lower()]
        else:
            for alias in FIELD_ALIASES.get(role.name, {}).get(canon, ()):
                if alias.lower() in present:
                    mapping[canon] = present[alias.lower()]
                    break
    return mapping


def read_layer(role_name: str, src: LayerSource) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Read one role's source into its canonical columns, in the source's CRS.

    Parameters
    ----------
    role_name : str
        A role of ``spec/LAYERS.md``.
    src : LayerSource
        Where it comes from (path, layer, columns, crs, encoding, engine).

    Returns
    -------
    frame : GeoDataFrame
        The role's canonical columns (missing optional ones filled with nulls) and geometry.
    notes : dict
        Counts for the data-quality report (e.g. ``bad_dates``).

    Raises
    ------
    LayerError, CRSError
        One line naming the file, layer or column and what to do.

    Examples
    --------
    >>> import tempfile, shapely
    >>> d = tempfile.mkdtemp()
    >>> gpd.GeoDataFrame({"DLBM": [103.0]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(f"{d}/lu.gpkg")
    >>> f, _ = read_layer("landuse", LayerSource(path=f"{d}/lu.gpkg"))
    >>> f["dlbm"].tolist(), f.crs.to_epsg()
    (['0103'], 4548)
    """
    role = ROLES[role_name]
    frame = _read_file(role, src)
    return canonical_frame(role_name, frame, src)


def canonical_frame(role_name: str, frame: gpd.GeoDataFrame,
                    src: LayerSource | None = None) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Bring a frame (read from anywhere) into a role's canonical columns and types.

    Parameters
    ----------
    role_name : str
    frame : GeoDataFrame
        With a CRS (or ``src.crs`` to assume).
    src : LayerSource, optional
        Column mapping and CRS override; default: canonical or well-known names.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"ZDDM": ["P1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    >>> canonical_frame("parcels", f)[0][["parcel_id", "owner_id"]].to_dict("records")
    [{'parcel_id': 'P1', 'owner_id': None}]
    """
    role = ROLES[role_name]
    src = src or LayerSource(path="<memory>")
    if frame.crs is None:
        if not src.crs:
            raise CRSError(f"{role.name} ({src.path}): the layer has no CRS (no .prj?); "
                           f"set [layers.{role.name}] crs = \"EPSG:....\" in the configuration")
        try:
            frame = frame.set_crs(src.crs)
        except Exception as exc:
            raise CRSError(f"{role.name}: [layers.{role.name}] crs {src.crs!r} is not a CRS pyproj understands ({exc})") from None
    mapping = _map_columns(frame, role, src)
    for needed in _ESSENTIAL.get(role.name, ()):
        if needed not in mapping:
            raise LayerError(
                f"{role.name} ({src.path}): no {needed!r} column; map yours with "
                f"[layers.{role.name}] columns = {{ {needed} = \"YOUR_FIELD\" }}; "
                f"columns are: {', '.join(c for c in frame.columns if c != frame.geometry.name)}")
    notes: dict[str, int] = {}
    data: dict[str, pd.Series] = {}
    for canon, kind in role.columns.items():
        raw = frame[mapping[canon]] if canon in mapping else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if kind == "str":
            data[canon] = coerce.as_code(raw) if canon == "dlbm" else coerce.as_text(raw)
        elif kind == "date":
            data[canon], bad = coerce.as_date(raw)
            if bad:
                notes[f"bad_dates_{canon}"] = bad
        elif kind == "bool":
            data[canon] = coerce.as_bool(raw)
        elif kind == "int":
            data[canon] = coerce.as_int(raw)
        else:
            data[canon] = coerce.as_float(raw)
    notes["missing_columns"] = sum(1 for c in role.columns if c not in mapping)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    return out.reset_index(drop=True), notes
