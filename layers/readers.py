"""Reading every vector source into a role's canonical columns.

GeoPackage, Shapefile (GBK files without ``.cpg`` detected), GeoJSON, FlatGeobuf and anything else GDAL
reads, through pyogrio (default) or fiona; ``postgresql://`` sources through :mod:`layers.postgis`.
Inputs are only ever opened for reading.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.errors import CRSError, LayerError

from . import coerce
from .config import LayerSource, refuse_special_file
from .roles import ROLES, Role
from .sanity import check_source_file

__all__ = ["read_layer", "read_layers", "canonical_frame", "FIELD_ALIASES", "sniff_dbf_encoding", "NOTES_ATTR",
           "quote_value", "routed_warnings"]

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
    "monitoring_patches": {"patch_id": ("JCBH", "TBBH"), "change_type": ("TBLX", "BHLX"), "before_date": ("QSX",),
                           "after_date": ("HSX",), "batch": ("PC",), "patch_area_m2": ("TBMJ",)},
    "landuse_history": {"dlbm": ("DLBM",), "dlmc": ("DLMC",), "tbbh": ("TBBH",), "survey_year": ("SJNF",)},
}


#: Columns without which a role cannot be used at all.
_ESSENTIAL: dict[str, tuple[str, ...]] = {
    "villages": ("village_id",), "parcels": ("parcel_id",), "buildings": ("building_id",),
    "landuse": ("dlbm",), "landuse_baseline": ("dlbm",), "approvals": ("approval_id", "kind"),
    "monitoring_patches": ("patch_id",), "landuse_history": ("dlbm",),
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

#: Numbers stored as floats from this size on have more digits than a float64 (or Excel) keeps exactly.
_LOSSY_FLOAT = 1e15

#: What a number column may hold, for notes about values that could not be read.
_UNIT_HINT = {"floors": "应为层数，如 2、2层、二层", "m": "应为米数，如 3.2、3.2米、3.2m",
              "m2": "应为平方米数，如 575、575平方米、575㎡、0.3亩", "year": "应为年份，如 2015、2015年"}


def _unit_of(column: str) -> str | None:
    """The unit kind of a canonical number column (see :func:`layers.coerce.read_numbers`).

    Examples
    --------
    >>> _unit_of("floors"), _unit_of("eave_height_m"), _unit_of("approved_area_m2"), _unit_of("built_year")
    ('floors', 'm', 'm2', 'year')
    """
    if column == "floors":
        return "floors"
    if column.endswith("_m2"):
        return "m2"
    if column.endswith("_m"):
        return "m"
    if column.endswith("year"):
        return "year"
    return None


#: Marker of text notes (Chinese lines for the data-quality report) in a frame's ``attrs``.
NOTES_ATTR = "landguard_notes"


#: The list that warnings raised in this thread go to (None: dropped), see :func:`routed_warnings`.
_WARNINGS = threading.local()


def _route_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sink = getattr(_WARNINGS, "sink", None)
    if sink is not None:
        sink.append(str(message))


@contextlib.contextmanager
def routed_warnings():
    """Route every warning to the list of the thread that raised it (see :func:`_collecting`); never print it.

    ``warnings.catch_warnings`` changes process-wide state and is not safe to enter from several threads at
    once; the layers are read in threads, so this is entered once, by the thread that starts them, and each
    reading thread only names its own list.

    Examples
    --------
    >>> with routed_warnings():
    ...     with _collecting([]) as caught:
    ...         warnings.warn("Measured (M) geometry types are not supported")
    >>> caught
    ['Measured (M) geometry types are not supported']
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _route_warning
        yield


@contextlib.contextmanager
def _collecting(into: list[str] | None):
    """Warnings raised in this thread go to ``into`` (None: dropped) while inside."""
    before = getattr(_WARNINGS, "sink", None)
    _WARNINGS.sink = into
    try:
        yield into
    finally:
        _WARNINGS.sink = before


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


def _refuse_special_files(path: str, *, where: str, key: str) -> None:
    """Refuse a layer file, or a file GDAL opens beside it (``.dbf``, ``.prj``, ``.cpg``, ``-wal``...), that is
    a named pipe or another non-regular file: GDAL would block on it forever. A folder (a FileGDB, a folder of
    shapefiles GDAL reads as one source) is allowed."""
    p = Path(path)
    refuse_special_file(p, where=where, key=key, folder_ok=True, error=LayerError)
    if p.is_dir():
        return
    try:
        siblings = [s for s in p.parent.iterdir() if s != p and s.name.lower().startswith(p.stem.lower() + ".")
                    or s.name.lower().startswith(p.name.lower() + "-")]
    except OSError:
        return
    for s in siblings:
        refuse_special_file(s, where=where, key=key, error=LayerError)


def _exact_integers(frame: gpd.GeoDataFrame, path: str, kwargs: dict) -> gpd.GeoDataFrame:
    """Re-read exactly the 64-bit integer fields that came back as float64 (because they hold nulls).

    An 18-digit ID number stored as an ``Integer64`` field (Access, Excel exports) with a null in it is
    read by GDAL-to-numpy as float64 and loses its last digits; here such fields are read again through
    Arrow (nullable ``Int64``), or fiona when Arrow is not installed, and replace the lossy column.

    Examples
    --------
    >>> import tempfile, shapely
    >>> d = tempfile.mkdtemp()
    >>> f = gpd.GeoDataFrame({"ZJHM": pd.array([110105194912310021, None], dtype="Int64")},
    ...                      geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4548)
    >>> f.to_file(f"{d}/p.gpkg")
    >>> import pyogrio
    >>> _exact_integers(pyogrio.read_dataframe(f"{d}/p.gpkg"), f"{d}/p.gpkg", {})["ZJHM"].tolist()
    [110105194912310021, <NA>]
    """
    import pyogrio

    try:
        info = pyogrio.read_info(path, **{k: v for k, v in kwargs.items() if k in ("layer", "encoding")})
    except Exception:  # not something GDAL describes (it was read some other way): leave it as read
        return frame
    lossy = [name for name, kind in zip(info["fields"], info["dtypes"])
             if kind in ("int64", "uint64") and name in frame.columns
             and not pd.api.types.is_integer_dtype(frame[name].dtype)]
    if not lossy:
        return frame
    try:
        import pyarrow as pa

        mapper = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}.get
        exact = pyogrio.read_dataframe(path, columns=lossy, read_geometry=False, use_arrow=True,
                                       arrow_to_pandas_kwargs={"types_mapper": mapper}, **kwargs)
        columns = {name: exact[name].to_numpy(dtype=object, na_value=None) for name in lossy}
    except ImportError:
        try:
            import fiona

            with fiona.open(path, **kwargs) as src:
                rows = [feat.properties for feat in src]
            columns = {name: np.array([r.get(name) for r in rows], dtype=object) for name in lossy}
        except Exception:  # leave the column as read: the float check then reports the lost digits
            return frame
    except Exception:
        return frame
    if any(len(v) != len(frame) for v in columns.values()):
        return frame
    frame = frame.copy()
    for name, values in columns.items():
        try:
            frame[name] = pd.Series(values, index=frame.index, dtype="Int64")
        except (TypeError, ValueError, OverflowError):  # beyond int64 (uint64): Python ints, still exact
            frame[name] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def _needed_columns(names: list[str], role: Role, src: LayerSource) -> list[str] | None:
    """The fields of a file that the role maps (None: read them all, so that errors list every field).

    The mapping found on the file's field names is the one :func:`canonical_frame` finds on the columns read.

    Examples
    --------
    >>> _needed_columns(["ZDDM", "QLRMC", "BZ"], ROLES["parcels"], LayerSource(path="p.shp"))
    ['ZDDM', 'QLRMC']
    >>> _needed_columns(["BZ"], ROLES["parcels"], LayerSource(path="p.shp")) is None
    True
    """
    try:
        mapping = _map_names(names, role, src)
    except LayerError:  # a mapped field that is not there: canonical_frame says so after the whole read
        return None
    if any(needed not in mapping for needed in _ESSENTIAL.get(role.name, ())):
        return None
    wanted = set(mapping.values())
    return [n for n in names if n in wanted]


def _read_arrow(path: str, kwargs: dict, role: Role, src: LayerSource) -> gpd.GeoDataFrame | None:
    """Read a layer through GDAL's Arrow stream, only the fields the role maps; None when that cannot be done.

    The frame has the dtypes of pyogrio's GDAL-to-numpy read after :func:`_exact_integers` (what the rest of
    the reader expects): 64-bit integer fields with nulls as nullable ``Int64`` (exact), without nulls as
    ``int64``; boolean fields with nulls as float64 (1.0/0.0/NaN); date fields as ``datetime64[ms]``. Any
    failure (no pyarrow, text GDAL cannot hand over as UTF-8, rings that do not close, a geometry type
    shapely refuses, M values...) returns None and the caller reads the layer the other way, with its messages.

    Examples
    --------
    >>> import tempfile, shapely
    >>> d = tempfile.mkdtemp()
    >>> gpd.GeoDataFrame({"ZJHM": pd.array([110105194912310021, None], dtype="Int64"), "BZ": ["x", "y"]},
    ...                  geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4548).to_file(f"{d}/p.gpkg")
    >>> f = _read_arrow(f"{d}/p.gpkg", {}, ROLES["parcels"], LayerSource(path=f"{d}/p.gpkg", columns={"owner_id": "ZJHM", "parcel_id": "ZJHM"}))
    >>> f.columns.tolist(), f["ZJHM"].tolist()
    (['ZJHM', 'geometry'], [110105194912310021, <NA>])
    """
    try:
        import pyarrow as pa
        import pyogrio

        info = pyogrio.read_info(path, **{k: v for k, v in kwargs.items() if k in ("layer", "encoding")})
        names = [str(n) for n in info["fields"]]
        kinds = dict(zip(names, info["dtypes"]))
        if "geometry" in kinds or len(set(names)) != len(names):  # names the frame cannot hold apart
            return None
        mapper = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}.get
        frame = pyogrio.read_dataframe(path, use_arrow=True, columns=_needed_columns(names, role, src),
                                       arrow_to_pandas_kwargs={"types_mapper": mapper, "date_as_object": False},
                                       **kwargs)
    except Exception:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    import shapely

    if shapely.has_m(frame.geometry.to_numpy()).any():  # GDAL's other read drops M (and says so): counted there
        return None
    for name in [c for c in frame.columns if c != frame.geometry.name]:
        col = frame[name]
        if isinstance(col.dtype, (pd.Int64Dtype, pd.UInt64Dtype)):
            if not col.isna().any():
                frame[name] = col.to_numpy(dtype=np.int64 if isinstance(col.dtype, pd.Int64Dtype) else np.uint64)
            elif isinstance(col.dtype, pd.UInt64Dtype):
                try:
                    frame[name] = col.astype("Int64")
                except (TypeError, ValueError, OverflowError):  # beyond int64: Python ints, still exact
                    frame[name] = pd.Series(col.to_numpy(dtype=object, na_value=None), index=col.index, dtype=object)
        elif kinds.get(name) == "bool" and col.dtype == object:
            frame[name] = col.astype("float64")
    return frame


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
    _refuse_special_files(path, where=where, key=f"[layers.{role.name}] path")
    check_source_file(path, where=where, key=f"[layers.{role.name}] path")
    layer = src.layer
    import pyogrio

    if layer is None and Path(path).suffix.lower() in (".gpkg", ".gdb", ".sqlite"):
        try:
            with _collecting(None):  # listing layers, GDAL warns about M values of every layer: not counted
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
    with _collecting([]) as caught:  # GDAL's warnings become counts, not console noise
        frame = _read_arrow(path, kwargs, role, src) if src.engine != "fiona" else None
        if frame is None:
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
            frame = _exact_integers(frame, path, kwargs)
    if any("Measured (M)" in w for w in caught):
        notes["m_dropped"] = len(frame)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise LayerError(f"{where}: 没有几何字段 (has no geometry column)；{role.label}需要面要素")
    return frame, {k: v for k, v in notes.items() if v}, texts


def _map_columns(frame: gpd.GeoDataFrame, role: Role, src: LayerSource) -> dict[str, str]:
    """Canonical column -> column of ``frame`` (explicit mapping, then canonical name, then known alias)."""
    return _map_names([c for c in frame.columns if c != frame.geometry.name], role, src, given=frame.columns)


def _map_names(names: list, role: Role, src: LayerSource, given=None) -> dict[str, str]:
    """Canonical column -> one of ``names`` (explicit mapping, then canonical name, then known alias).

    ``given`` (default ``names``) are the names an explicit mapping may name exactly (a frame's columns,
    its geometry column included).

    Examples
    --------
    >>> _map_names(["ZDDM", "QLRMC"], ROLES["parcels"], LayerSource(path="p.shp"))
    {'parcel_id': 'ZDDM', 'owner_name': 'QLRMC'}
    """
    present = {c.lower(): c for c in names}
    mapping: dict[str, str] = {}
    for canon in role.columns:
        if canon in src.columns:
            wanted = src.columns[canon]
            actual = wanted if wanted in (names if given is None else given) else present.get(wanted.lower())
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
    with routed_warnings():
        return _read_layer(role_name, src)


@contextlib.contextmanager
def read_layers(sources: dict[str, LayerSource], *, threads: int | None = None, then=None):
    """Read several roles' sources at once, in threads (GDAL, Arrow and GEOS work without the GIL).

    A context manager: inside, it gives an iterator over the layers; leaving it waits for the reads still
    running (and drops those not started), so that no thread outlives it.

    Parameters
    ----------
    sources : dict of role name -> LayerSource
    threads : int, optional
        Default: the CPU count, at most 4 and at most one per layer.
    then : callable, optional
        ``then(role, frame)`` run in the reading thread right after a layer is read (e.g. its geometry
        repair, which then overlaps the reading of the next layers); it must not change ``frame``. Its
        result comes as a fourth item ``(role, frame, notes, result)``.

    Yields
    ------
    iterator of (role, frame, notes)
        In the order of ``sources``, as :func:`read_layer` returns them; a layer that cannot be read raises
        its error when its turn comes (after the layers before it), as reading them one by one would.

    Examples
    --------
    >>> import tempfile, shapely
    >>> d = tempfile.mkdtemp()
    >>> gpd.GeoDataFrame({"DLBM": ["0103"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(f"{d}/lu.gpkg")
    >>> gpd.GeoDataFrame({"ZDDM": ["P1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(f"{d}/p.gpkg")
    >>> with read_layers({"landuse": LayerSource(path=f"{d}/lu.gpkg"), "parcels": LayerSource(path=f"{d}/p.gpkg")}) as read:
    ...     [(role, len(f)) for role, f, _ in read]
    [('landuse', 1), ('parcels', 1)]
    """
    roles = list(sources)
    n = max(1, min(threads or min(os.cpu_count() or 1, 4), len(roles)))
    with routed_warnings():
        task = _read_layer if then is None else functools.partial(_read_then, then=then)
        if n == 1:
            yield ((role, *task(role, sources[role])) for role in roles)
            return
        pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="read_layer")
        futures = [pool.submit(task, role, sources[role]) for role in roles]
        try:
            yield ((role, *future.result()) for role, future in zip(roles, futures))
        finally:
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)


def _read_then(role_name: str, src: LayerSource, *, then) -> tuple[gpd.GeoDataFrame, dict[str, int], object]:
    """:func:`_read_layer`, then ``then(role, frame)`` in the same thread."""
    frame, notes = _read_layer(role_name, src)
    return frame, notes, then(role_name, frame)


def _read_layer(role_name: str, src: LayerSource) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """:func:`read_layer` inside :func:`routed_warnings` (safe to run in several threads at once)."""
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
        if role_name == "landuse_history":
            frame = _history_years(frame, path)
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


def _history_years(frame: gpd.GeoDataFrame, path: str) -> gpd.GeoDataFrame:
    """A survey vintage's ``survey_year``: its column, else the year in the file name (said in a note).

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"survey_year": pd.array([None], dtype="Int64")}, geometry=[shapely.box(0, 0, 1, 1)])
    >>> _history_years(f, "bgdc_2018.shp")["survey_year"].tolist()
    [2018]
    """
    missing = frame["survey_year"].isna().to_numpy()
    if not missing.any():
        return frame
    found = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", Path(path).name)
    if len(set(found)) != 1:
        raise LayerError(f"{path}: landuse_history 有 {int(missing.sum())} 个图斑没有调查年份 survey_year（SJNF），"
                         f"文件名中也没有年份；请映射 [layers.landuse_history] columns = {{ survey_year = \"你的字段名\" }}，"
                         f"或每年一个文件、文件名写明年份（如 bgdc_2018.shp）")
    frame = frame.copy()
    years = frame["survey_year"].astype("Int64")
    years[missing] = int(found[0])
    frame["survey_year"] = years
    frame.attrs[NOTES_ATTR] = frame.attrs.get(NOTES_ATTR, []) + [
        f"landuse_history：{Path(path).name} 的 {int(missing.sum())} 个图斑没有 survey_year，按文件名取 {found[0]} 年"]
    return frame


#: Ten or more digits (full-width too), possibly split by spaces or dashes: an ID number, a phone or card
#: number — never quoted in a note (a date has only 8).
_LONG_NUMBER = re.compile(r"\d(?:[\s\-\u3000]?\d){9,}")
#: Values quoted in notes are cut to this many characters.
_QUOTE_MAX = 16


def quote_value(value) -> str:
    """A bad value quoted short and safe for a note: long digit runs masked, cut to 16 characters.

    Examples
    --------
    >>> quote_value("soon"), quote_value("110105195001010039"), quote_value("1101 0519 5001 0100 39")
    ("'soon'", "'110…'", "'110…'")
    >>> quote_value("１１０１０５１９５００１０１００３９"), quote_value("2021-13-01")
    ("'１１０…'", "'2021-13-01'")
    >>> quote_value("x" * 40)
    "'xxxxxxxxxxxxxxxx…'"
    """
    text = str(value).strip()
    text = _LONG_NUMBER.sub(lambda m: m.group(0)[:3] + "…", text)
    if len(text) > _QUOTE_MAX:
        text = text[:_QUOTE_MAX] + "…"
    return repr(text)


def _examples(rows: np.ndarray, values, limit: int = 3) -> str:
    shown = [f"第 {r + 1} 行 {quote_value(v)}" for r, v in zip(rows[:limit], values[:limit])]
    return "，".join(shown) + ("……" if len(rows) > limit else "")


def _textual(v) -> bool:
    return (isinstance(v, str) and not _ISO_DATE.match(v.strip())) or \
        (isinstance(v, (int, float, np.number)) and not isinstance(v, bool))


def _textual_dates(raw: pd.Series) -> np.ndarray:
    """Which values are dates not written the standard way (text other than ISO, or numbers), to count those
    that were converted; a text column is looked at once per distinct value.

    Examples
    --------
    >>> _textual_dates(pd.Series(["2021-07-01", "2021/7/1", None, 44378], dtype=object)).tolist()
    [False, True, False, True]
    """
    values = raw.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(raw, skipna=True) != "string":
        return np.array([_textual(v) for v in values], dtype=bool)
    missing = pd.isna(raw).to_numpy()
    out = np.zeros(len(values), dtype=bool)
    codes, distinct = pd.factorize(values[~missing])
    if len(distinct):
        out[~missing] = np.array([_textual(v) for v in distinct], dtype=bool)[codes]
    out[missing] = [_textual(v) for v in values[missing]]
    return out


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
                    # a float64 keeps ~15 significant digits (Excel keeps exactly 15): longer numbers, such as
                    # 18-digit ID numbers, already lost their last digits before we read them
                    lost = int((raw.abs() >= _LOSSY_FLOAT).sum())
                    if lost:
                        notes[f"digits_lost_{canon}"] = lost
                        texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）以浮点数存储，{lost} 个 16 位以上的数字"
                                     f"已失真（浮点数只保留约 15 位有效数字，身份证号等将无法校验）；"
                                     f"请在源数据中把该字段改为文本（或整数）后重新导出")
        elif kind == "date":
            reading = coerce.read_dates(raw)
            data[canon], bad = reading.dates, len(reading.bad)
            given_values = raw.to_numpy(dtype=object) if len(reading.bad) or len(reading.out_of_range) else None
            if bad:
                notes[f"bad_dates_{canon}"] = bad
                texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）有 {bad} 个日期无法识别，按无日期处理："
                             + _examples(reading.bad, given_values[reading.bad]))
            if len(reading.open_ended):
                notes[f"open_ended_dates_{canon}"] = len(reading.open_ended)
            if len(reading.out_of_range):
                far = reading.out_of_range[(data[canon].iloc[reading.out_of_range].notna()).to_numpy()]
                early = np.setdiff1d(reading.out_of_range, far)
                notes[f"dates_out_of_range_{canon}"] = len(reading.out_of_range)
                said = []
                if len(far):
                    said.append(f"{len(far)} 个晚于 2262 年，按 {coerce.FAR_DATE:%Y-%m-%d}（长期）处理："
                                + _examples(far, given_values[far]))
                if len(early):
                    said.append(f"{len(early)} 个早于 1677 年，按无日期处理：" + _examples(early, given_values[early]))
                texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）有 {len(reading.out_of_range)} 个日期超出"
                             f"可处理的范围（1677–2262 年）：" + "；".join(said) + "；请核对这些日期")
            if not pd.api.types.is_datetime64_any_dtype(raw.dtype):
                textual = _textual_dates(raw)
                converted = int((textual & data[canon].notna().to_numpy()).sum())
                if converted:
                    notes[f"dates_converted_{canon}"] = converted
        elif kind == "bool":
            data[canon] = coerce.as_bool(raw)
        elif kind in ("int", "float"):
            reading = coerce.read_numbers(raw, _unit_of(canon))
            values = reading.values
            data[canon] = values.where(np.isfinite(values)).round().astype("Int64") if kind == "int" else values
            if len(reading.converted):
                notes[f"units_converted_{canon}"] = len(reading.converted)
            if len(reading.bad):
                notes[f"bad_numbers_{canon}"] = len(reading.bad)
                texts.append(f"{role.name}：字段 {mapping[canon]}（{canon}）有 {len(reading.bad)} 个值不是可识别的数值"
                             f"（{_UNIT_HINT.get(_unit_of(canon), '应为数字')}），按无值处理："
                             + _examples(reading.bad, raw.to_numpy(dtype=object)[reading.bad]))
    notes["missing_columns"] = sum(1 for c in role.columns if c not in mapping)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    out = out.reset_index(drop=True)
    out.attrs[NOTES_ATTR] = texts
    return out, notes
