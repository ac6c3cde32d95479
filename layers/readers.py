"""Reading every vector source into a role's canonical columns.

GeoPackage, Shapefile (GBK files without ``.cpg`` detected), GeoJSON, FlatGeobuf and anything else GDAL
reads, through pyogrio (default) or fiona; ``postgresql://`` sources through :mod:`layers.postgis`.
Inputs are only ever opened for reading.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.errors import CRSError, LayerError

from . import coerce
from .config import LayerSource
from .roles import ROLES, Role
from .sanity import check_source_file

__all__ = ["read_layer", "canonical_frame", "FIELD_ALIASES", "sniff_dbf_encoding", "NOTES_ATTR"]

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


#: ``.cpg`` contents and what they mean.
_CPG = {"UTF8": "UTF-8", "UTF-8": "UTF-8", "65001": "UTF-8", "936": "GBK", "CP936": "GBK", "ANSI936": "GBK",
        "GBK": "GBK", "GB2312": "GBK", "GB18030": "GBK", "CP54936": "GBK", "54936": "GBK"}

#: Dates already written the standard way (not counted as converted).
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T].*)?$")

#: Marker of text notes (Chinese lines for the data-quality report) in a frame's ``attrs``.
NOTES_ATTR = "landguard_notes"


def _cpg_encoding(text: str) -> str | None:
    return _CPG.get(text.strip().upper().replace(" ", "").replace("_", ""))


def _shapefile_encoding(path: str) -> tuple[str | None, str | None]:
    """The encoding to read a shapefile's attributes with (None: let GDAL decide) and a note when guessed."""
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return None, None
    cpg = p.with_suffix(".cpg") if p.with_suffix(".cpg").exists() else p.with_suffix(".CPG")
    sniffed = sniff_dbf_encoding(p)
    if cpg.exists():
        declared_text = cpg.read_text(errors="replace").strip()
        declared = _cpg_encoding(declared_text)
        if sniffed and declared != sniffed:
            return sniffed, (f"{p.name}：.cpg 声明的编码 {declared_text or '（空）'} 与属性内容不符，"
                             f"已按 {sniffed} 读取")
        return None, None
    if sniffed == "GBK":
        return "GBK", f"{p.name}：没有 .cpg 文件，已按属性内容识别为 GBK 编码读取"
    return sniffed, None


def _where(role: Role, src: LayerSource) -> str:
    return f"{role.name} ({src.path}{':' + src.layer if src.layer else ''})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_fixing_rings(path: str, kwargs: dict) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Read a layer whose WKB GEOS refuses (rings that do not close): close them, count what was done."""
    import pyogrio
    import shapely
    from pyogrio.raw import read as raw_read

    attrs = pyogrio.read_dataframe(path, read_geometry=False, **kwargs)
    meta, _, wkb, _ = raw_read(path, columns=[], read_geometry=True, **kwargs)
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    fixed = shapely.from_wkb(wkb, on_invalid="fix")
    given = np.array([w is not None for w in wkb], dtype=bool)
    notes = {"unclosed_rings": int((given & shapely.is_missing(strict) & ~shapely.is_missing(fixed)).sum()),
             "unreadable_geometry": int((given & shapely.is_missing(fixed)).sum())}
    frame = gpd.GeoDataFrame(attrs, geometry=fixed, crs=meta.get("crs"))
    return frame, notes


def _read_file(role: Role, src: LayerSource) -> tuple[gpd.GeoDataFrame, dict[str, int], list[str]]:
    path = src.resolved_path()
    where = _where(role, src)
    if path.startswith(("postgresql://", "postgres://")):
        try:
            from .postgis import read_postgis
        except ImportError:
            raise LayerError(f"{where}: 此安装不支持 PostGIS 数据源（PostGIS sources are not available）；"
                             f"请安装 psycopg 或改用文件") from None
        return read_postgis(src, role), {}, []
    if not Path(path).exists():
        raise LayerError(f"{where}: 找不到文件 (file not found)；请检查 [layers.{role.name}] path")
    check_source_file(path, where=where, key=f"[layers.{role.name}] path")
    layer = src.layer
    import pyogrio

    if layer is None and Path(path).suffix.lower() in (".gpkg", ".gdb", ".sqlite"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                names = [n for n, _ in pyogrio.list_layers(path)]
        except Exception as exc:
            raise LayerError(f"{where}: GDAL 无法打开该文件（{_first_line(exc)}）；"
                             f"请确认它是完整的 GeoPackage/FileGDB，或修改 [layers.{role.name}] path") from None
        if role.name in names:
            layer = role.name
        elif len(names) == 1:
            layer = names[0]
        else:
            raise LayerError(f"{where}: 文件中有多个图层 (the file has layers {', '.join(names)}; "
                             f"set [layers.{role.name}] layer)；请用 layer 指明哪一个是{role.label}")
    texts: list[str] = []
    encoding = src.encoding
    if not encoding:
        encoding, note = _shapefile_encoding(path)
        if note:
            texts.append(f"{role.name}：{note}")
    kwargs = {"layer": layer} if layer is not None else {}
    if encoding:
        kwargs["encoding"] = encoding
    notes: dict[str, int] = {}
    with warnings.catch_warnings(record=True) as caught:  # GDAL's warnings become counts, not console noise
        warnings.simplefilter("always")
        try:
            if src.engine == "fiona":
                frame = gpd.read_file(path, engine="fiona", **kwargs)
            else:
                try:
                    frame = pyogrio.read_dataframe(path, **kwargs)
                except Exception as exc:
                    if "closed linestring" not in str(exc) and "LinearRing" not in str(exc):
                        raise
                    frame, notes = _read_fixing_rings(path, kwargs)
        except LayerError:
            raise
        except Exception as exc:
            raise LayerError(f"{where}: 无法读取 (cannot be read: {_first_line(exc)})；"
                             f"请确认文件完整、图层名正确（[layers.{role.name}] layer）") from None
    if any("Measured (M)" in str(w.message) for w in caught):
        notes["m_dropped"] = len(frame)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise LayerError(f"{where}: 没有几何字段 (has no geometry column)；{role.label}需要面要素")
    return frame, {k: v for k, v in notes.items() if v}, texts


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
                    f"{_where(role, src)}: 找不到字段 {wanted!r}（column {wanted!r} mapped to {canon} not found）；"
                    f"请修改 [layers.{role.name}] columns 中的 {canon}，现有字段：{', '.join(present.values())}")
            mapping[canon] = actual
        elif canon.lower() in present:
            mapping[canon] = present[canon.lower()]
        elif len(canon) > 10 and canon[:10].lower() in present:  # a shapefile cuts field names at 10 characters
            mapping[canon] = present[canon[:10].lower()]
        else:
            for alias in FIELD_ALIASES.get(role.name, {}).get(canon, ()):
                if alias.lower() in present:
                    mapping[canon] = present[alias.lower()]
                    break
    return mapping


def _paths(src: LayerSource) -> list[str]:
    return [src.path] if isinstance(src.path, str) else list(src.path)


def read_layer(role_name: str, src: LayerSource) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Read one role's source into its canonical columns, in the source's CRS.

    ``src.path`` may be a list of files: each is read with the same settings and their features are
    concatenated (in the first file's CRS).

    Parameters
    ----------
    role_name : str
        A role of ``spec/LAYERS.md``.
    src : LayerSource
        Where it comes from (path, layer, columns, crs, encoding, engine).

    Returns
    -------
    frame : GeoDataFrame
        The role's canonical columns (missing optional ones filled with nulls) and geometry. Chinese lines for
        the data-quality report (an encoding guessed, dates that could not be read...) are in
        ``frame.attrs["landguard_notes"]``.
    notes : dict
        Counts for the data-quality report (e.g. ``bad_dates_approved_date``, ``unclosed_rings``).

    Raises
    ------
    LayerError, CRSError
        One line naming the file, layer or column and what to do.

    Examples
    --------
    >>> import tempfile, shapely
    >>> d = tempfile.mkdtemp()
    >>> gpd.GeoDataFrame({"DLBM": [103.0]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(f"{d}/lu.gpkg")
    >>> f, notes = read_layer("landuse", LayerSource(path=f"{d}/lu.gpkg"))
    >>> f["dlbm"].tolist(), f.crs.to_epsg(), notes["numbers_as_text_dlbm"]
    (['0103'], 4548, 1)
    """
    role = ROLES[role_name]
    paths = _paths(src)
    if not paths:
        raise LayerError(f"{role.name}: [layers.{role.name}] path 是空列表；请至少给出一个文件")
    frames, texts = [], []
    notes: dict[str, int] = {}
    for path in paths:
        one = src.model_copy(update={"path": path}) if len(paths) > 1 or not isinstance(src.path, str) else src
        raw, counts, more = _read_file(role, one)
        frame, counted = canonical_frame(role_name, raw, one)
        for k, v in {**counts, **counted}.items():
            notes[k] = notes.get(k, 0) + v if k != "missing_columns" else max(notes.get(k, 0), v)
        texts += more + frame.attrs.get(NOTES_ATTR, [])
        frames.append(frame)
    if len(frames) == 1:
        out = frames[0]
    else:
        crs = frames[0].crs
        out = pd.concat([f if f.crs == crs else f.to_crs(crs) for f in frames], ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=crs)
    out.attrs[NOTES_ATTR] = texts
    return out, notes


def _examples(rows: np.ndarray, values, limit: int = 3) -> str:
    shown = [f"第 {r + 1} 行 {v!r}" for r, v in zip(rows[:limit], values[:limit])]
    return "，".join(shown) + ("……" if len(rows) > limit else "")


def canonical_frame(role_name: str, frame: gpd.GeoDataFrame,
                    src: LayerSource | None = None) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Bring a frame (read from anywhere) into a role's canonical columns and types.

    Text columns that came as numbers are turned back into text (``101.0`` -> ``"0101"`` for land-use codes)
    and counted; dates in any of the formats bureaus use are read (see :func:`layers.coerce.as_date`), and
    those that cannot be are counted and named in a note (``frame.attrs["landguard_notes"]``).

    Parameters
    ----------
    role_name : str
    frame : GeoDataFrame
        With a CRS, or ``src.crs``.
    src : LayerSource, optional
        Column mapping and CRS (``src.crs``, when given, is the layer's CRS whatever the file says);
        default: canonical or well-known names.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"ZDDM": ["P1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548)
    >>> canonical_frame("parcels", f)[0][["parcel_id", "owner_id"]].to_dict("records")
    [{'parcel_id': 'P1', 'owner_id': None}]
    """
    role = ROLES[role_name]
    src = src or LayerSource(path="<memory>")
    where = _where(role, src) if src.path != "<memory>" else role.name
    texts: list[str] = []
    if src.crs:
        try:
            from pyproj import CRS

            wanted = CRS.from_user_input(src.crs)
        except Exception as exc:
            raise CRSError(f"{where}: [layers.{role.name}] crs {src.crs!r} 不是可识别的坐标系"
                           f"（is not a CRS pyproj understands: {_first_line(exc)}）；请写成 \"EPSG:4548\" 这样的形式") from None
        if frame.crs is not None and CRS.from_user_input(frame.crs) != wanted:
            from .sanity import crs_label

            texts.append(f"{role.name}：按配置 [layers.{role.name}] crs 使用 {crs_label(wanted)}"
                         f"（文件声明 {crs_label(frame.crs)}）")
        frame = frame.set_crs(wanted, allow_override=True)
    elif frame.crs is None:
        raise CRSError(f"{where}: 图层没有坐标系 (no CRS)，可能缺少 .prj 文件；请补上 .prj，或在配置文件中设置 "
                       f"[layers.{role.name}] crs = \"EPSG:....\"（例如 \"EPSG:4548\"）")
    mapping = _map_columns(frame, role, src)
    for needed in _ESSENTIAL.get(role.name, ()):
        if needed not in mapping:
            raise LayerError(
                f"{where}: 缺少必需字段 {needed!r}（no {needed!r} column）；请在配置文件中映射："
                f"[layers.{role.name}] columns = {{ {needed} = \"你的字段名\" }}；"
                f"现有字段：{', '.join(c for c in frame.columns if c != frame.geometry.name)}")
    notes: dict[str, int] = {}
    data: dict[str, pd.Series] = {}
    for canon, kind in role.columns.items():
        raw = frame[mapping[canon]] if canon in mapping else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if kind == "str":
            data[canon] = coerce.as_code(raw) if canon == "dlbm" else coerce.as_text(raw)
            numeric = pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)
            if numeric and (canon == "dlbm" or pd.api.types.is_float_dtype(raw.dtype)):
                notes[f"numbers_as_text_{canon}"] = int(raw.notna().sum())
                if pd.api.types.is_float_dtype(raw.dtype):
                    lost = int((raw.abs() >= 2 ** 53).sum())
                    if lost:
                        notes[f"digits_lost_{canon}"] = lost
                        texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）以数字存储，{lost} 个超过 15 位的值已失真；"
                                     f"请在源数据中把该字段改为文本")
        elif kind == "date":
            data[canon], bad = coerce.as_date(raw)
            if bad:
                notes[f"bad_dates_{canon}"] = bad
                given = raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
                rows = np.flatnonzero(given & data[canon].isna().to_numpy())
                texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）有 {bad} 个日期无法识别，按无日期处理："
                             + _examples(rows, raw.to_numpy(dtype=object)[rows]))
            if not pd.api.types.is_datetime64_any_dtype(raw.dtype):
                textual = np.array([(isinstance(v, str) and not _ISO_DATE.match(v.strip())) or
                                    (isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
                                    for v in raw.to_numpy(dtype=object)], dtype=bool)
                converted = int((textual & data[canon].notna().to_numpy()).sum())
                if converted:
                    notes[f"dates_converted_{canon}"] = converted
        elif kind == "bool":
            data[canon] = coerce.as_bool(raw)
        elif kind == "int":
            data[canon] = coerce.as_int(raw)
        else:
            data[canon] = coerce.as_float(raw)
    notes["missing_columns"] = sum(1 for c in role.columns if c not in mapping)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    out = out.reset_index(drop=True)
    out.attrs[NOTES_ATTR] = texts
    return out, notes
