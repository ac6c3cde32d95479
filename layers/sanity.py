"""Sanity checks on inputs before anything is computed from them.

* :func:`check_source_file`: a file that cannot be read whole (a shapefile without its ``.dbf`` or ``.shx``,
  a GeoPackage or shapefile cut short by an interrupted copy, an empty file) is one clear error.
* :func:`check_layer_crs`: the CRS a layer declares must fit its numbers. Metres in a layer that says
  degrees, degrees in a layer that says metres, and swapped axes (latitude first, northing first) are found
  from the layer's coordinates against the CRS's area of use and against the other layers; they are fixed
  when exactly one reading fits (and counted in the data-quality report), else reported as one error.
* :func:`check_raster`: a raster without a CRS is an error naming the ``[rasters]`` key; one that does not
  overlap the district is noted and ignored.

Messages users read are Chinese and name the layer, the file and the configuration key to change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from spatial.crs import feature_centres, gk3_zone_crs, in_area_of_use, to_lonlat
from spatial.errors import CRSError, LayerError, RasterError

from .config import LayerSource
from .quality import QualityReport

__all__ = ["check_source_file", "check_layer_crs", "check_raster", "crs_label"]

#: A layer "fits" a reading of its coordinates when at least this share of its features do.
_MIN_FIT = 0.5
#: At most this many features per layer are looked at (evenly spaced rows).
_SAMPLE = 2000
#: Degrees added around the reference extent (the villages) when asking whether a layer overlaps it.
_MARGIN_DEG = 0.05
#: Two readings that put a layer within this many degrees of each other are the same reading.
_SAME_DEG = 1e-3


# ---------------------------------------------------------------------------------------------- files

def _sibling(path: Path, ext: str) -> Path | None:
    for candidate in (path.with_suffix(ext.lower()), path.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


def _shp_expected(path: Path, head: bytes) -> int | None:
    """Length a ``.shp``/``.shx`` says it has (header bytes 24–27, in 16-bit words, big-endian)."""
    if len(head) < 28 or int.from_bytes(head[0:4], "big") != 9994:
        return None
    return 2 * int.from_bytes(head[24:28], "big")


def _dbf_expected(path: Path, head: bytes) -> int | None:
    """Length a ``.dbf`` says it has: header length + records × record length."""
    if len(head) < 12:
        return None
    n = int.from_bytes(head[4:8], "little")
    header = int.from_bytes(head[8:10], "little")
    record = int.from_bytes(head[10:12], "little")
    return header + n * record


def _sqlite_expected(path: Path, head: bytes) -> int | None:
    """Length a SQLite (GeoPackage) file says it has: pages × page size, when the header's count is valid."""
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return None
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if pages == 0 or head[24:28] != head[92:96]:  # the in-header size is only valid with a matching counter
        return None
    return pages * page


def check_source_file(path: str | os.PathLike, *, where: str, key: str) -> None:
    """Refuse a vector file that cannot be read whole, with one line saying what is wrong and what to do.

    Checks a shapefile's ``.shx`` and ``.dbf`` are beside it, and that no ``.shp``, ``.shx``, ``.dbf`` or
    GeoPackage is shorter than its own header says (a copy or download cut short) or empty.

    Parameters
    ----------
    path : path-like
    where : str
        How to name the layer in the message, e.g. ``"parcels (宅基地.shp)"``.
    key : str
        The configuration key that points at the file, e.g. ``"[layers.parcels] path"``.

    Raises
    ------
    LayerError

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.gpkg"
    >>> _ = p.write_bytes(b"")
    >>> check_source_file(p, where="parcels (x.gpkg)", key="[layers.parcels] path")
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: parcels (x.gpkg): 文件 x.gpkg 是空文件（0 字节）；请重新复制或导出该文件，或修改 [layers.parcels] path
    """
    p = Path(path)
    if not p.is_file():
        return
    files: list[tuple[Path, object]] = []
    suffix = p.suffix.lower()
    if suffix == ".shp":
        for ext, what in ((".shx", "索引文件"), (".dbf", "属性表文件")):
            if _sibling(p, ext) is None:
                raise LayerError(f"{where}: 缺少{what} {p.stem}{ext}（shapefile 的 .shp、.shx、.dbf 须同名并放在同一文件夹）；"
                                 f"请把 {p.stem}{ext} 与 {p.name} 一起复制过来")
        files = [(p, _shp_expected), (_sibling(p, ".shx"), _shp_expected), (_sibling(p, ".dbf"), _dbf_expected)]
    elif suffix in (".gpkg", ".sqlite"):
        files = [(p, _sqlite_expected)]
        with open(p, "rb") as fh:
            head = fh.read(16)
        if len(head) == 16 and not head.startswith(b"SQLite format 3\x00"):
            raise LayerError(f"{where}: 文件 {p.name} 不是 GeoPackage（文件头不是 SQLite）；请检查 {key}")
    else:
        files = [(p, None)]
    for f, expected_of in files:
        size = f.stat().st_size
        if size == 0:
            raise LayerError(f"{where}: 文件 {f.name} 是空文件（0 字节）；请重新复制或导出该文件，或修改 {key}")
        if expected_of is None:
            continue
        with open(f, "rb") as fh:
            head = fh.read(100)
        expected = expected_of(f, head)
        if (expected is not None and size < expected) or (expected is None and suffix in (".gpkg", ".sqlite")
                                                          and size < 100):
            shown = f"应有 {expected} 字节，只有 {size} 字节" if expected else f"只有 {size} 字节"
            raise LayerError(f"{where}: 文件 {f.name} 不完整（{shown}），可能是复制或下载中断；请重新复制或导出该文件")


# ------------------------------------------------------------------------------------------------ CRS

def crs_label(crs) -> str:
    """How a CRS is named to users: ``EPSG:4548`` when it has a code, else its name.

    Examples
    --------
    >>> crs_label("EPSG:4490")
    'EPSG:4490'
    """
    crs = CRS.from_user_input(crs)
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


@dataclass(frozen=True)
class _Reading:
    """One way of reading a layer's numbers: a CRS, with or without swapping x and y."""

    crs: CRS
    swap: bool


def _sample_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    return feature_centres(frame, _SAMPLE)


def _box(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float] | None:
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    lo = np.percentile(np.column_stack([lon[ok], lat[ok]]), [1, 99], axis=0)
    return float(lo[0, 0]), float(lo[0, 1]), float(lo[1, 0]), float(lo[1, 1])


def _overlaps(a, b, margin: float = _MARGIN_DEG) -> bool:
    return not (a[2] < b[0] - margin or a[0] > b[2] + margin or a[3] < b[1] - margin or a[1] > b[3] + margin)


def _is_cgcs_or_wgs(crs: CRS) -> bool:
    datum = (crs.geodetic_crs.datum.name if crs.geodetic_crs is not None else "") or ""
    return "China 2000" in datum or "World Geodetic System 1984" in datum


def _same_datum(a: CRS, b: CRS) -> bool:
    """Whether two CRSs share a datum (CGCS2000 and WGS 84 count as one: they differ by centimetres)."""
    if _is_cgcs_or_wgs(a) and _is_cgcs_or_wgs(b):
        return True
    da = a.geodetic_crs.datum.name if a.geodetic_crs is not None else None
    db = b.geodetic_crs.datum.name if b.geodetic_crs is not None else None
    return da is not None and da == db


def _prefixed_zone(x: float) -> CRS | None:
    """The CGCS2000 Gauss-Krüger CRS whose zone number prefixes an easting (39508000 -> zone 39)."""
    if not np.isfinite(x):
        return None
    zone = int(x // 1_000_000)
    if 25 <= zone <= 45:
        return CRS.from_epsg(4513 + zone - 25)      # 3-degree zones 25..45
    if 13 <= zone <= 23:
        return CRS.from_epsg(4491 + zone - 13)      # 6-degree zones 13..23
    return None


def _why(x: np.ndarray, y: np.ndarray, crs: CRS) -> str:
    """Why the numbers do not fit ``crs``, in words."""
    mx, my = float(np.median(x)), float(np.median(y))
    looks_degrees = abs(mx) <= 180 and abs(my) <= 180
    if crs.is_geographic and not looks_degrees:
        return "坐标值像是以米为单位的投影坐标"
    if crs.is_geographic and abs(my) > 90 >= abs(mx):
        return "坐标值像是经度、纬度的顺序颠倒"
    if not crs.is_geographic and looks_degrees:
        return "坐标值像是经纬度"
    if not crs.is_geographic and _prefixed_zone(mx) is not None and _prefixed_zone(my) is None:
        return f"东坐标带有带号前缀（{int(mx // 1_000_000)}带，如 {mx:.0f}）"
    if not crs.is_geographic and my < mx:
        return "坐标值像是东、北坐标顺序颠倒"
    return "坐标值不在该坐标系的使用范围内"


def _readings(crs: CRS, x: np.ndarray, y: np.ndarray, others: list[CRS], working: CRS | None,
              ref_lon: float | None, explicit: bool) -> list[_Reading]:
    """Other plausible readings of a layer's numbers, most trusted first."""
    out = [_Reading(crs, True)]
    if explicit:  # the user said which CRS it is: only the axis order may still be wrong
        return out
    projected = [c for c in others if c.is_projected]
    if working is not None:
        projected.append(working)
    # never move a layer onto another datum (Beijing 1954 and CGCS2000 differ by tens of metres)
    projected = [c for c in projected if _same_datum(c, crs)]
    if _is_cgcs_or_wgs(crs):
        for v in (np.median(x), np.median(y)):
            zone = _prefixed_zone(float(v))
            if zone is not None:
                projected.append(zone)
        if ref_lon is not None:
            try:
                projected.append(gk3_zone_crs(ref_lon))
            except CRSError:
                pass
    geographic = [crs.geodetic_crs] if crs.is_projected and crs.geodetic_crs is not None else []
    seen: list[_Reading] = list(out)
    for c in projected + geographic:
        for swap in (False, True):
            r = _Reading(c, swap)
            if not (c == crs and not swap) and r not in seen:
                seen.append(r)
    return seen


def check_layer_crs(frames: dict[str, gpd.GeoDataFrame], sources: dict[str, LayerSource] | None = None, *,
                    working_crs: str | None = "auto",
                    quality: QualityReport | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Make sure every layer's declared CRS fits its coordinates; fix the unambiguous cases.

    A layer fits its CRS when most of its features lie inside the CRS's area of use (and, for the layers
    other than ``villages``, near the villages). A layer that does not fit is read in the other plausible
    ways — axes swapped; as the projected CRS of another layer, of the configured working CRS, of the zone
    its eastings are prefixed with, or of the villages' Gauss-Krüger zone; as the geographic CRS of its
    projected one — and when exactly one of them fits it is used, counted (``crs_replaced`` or
    ``axes_swapped``) and explained in a note. A CRS set in the configuration (``[layers.<role>] crs``) is
    trusted: only a swap of its axes is then considered.

    Parameters
    ----------
    frames : dict of role -> GeoDataFrame
        Layers in their source CRS.
    sources : dict of role -> LayerSource, optional
        For messages (file names) and to know which CRSs the user set.
    working_crs : str, optional
        ``[project] working_crs``; a projected one is also tried.
    quality : QualityReport, optional
        Where fixes are counted and noted.

    Returns
    -------
    dict of role -> GeoDataFrame
        The layers, fixed where needed (the others unchanged, the same objects).

    Raises
    ------
    CRSError
        One line naming the layer, the file, what the numbers look like and the key to set.

    Examples
    --------
    >>> v = gpd.GeoDataFrame(geometry=[shapely.box(508000, 4443000, 509000, 4444000)], crs=4548)
    >>> p = gpd.GeoDataFrame(geometry=[shapely.box(4443100, 508100, 4443110, 508110)], crs=4548)  # swapped
    >>> q = QualityReport()
    >>> fixed = check_layer_crs({"villages": v, "parcels": p}, quality=q)
    >>> fixed["parcels"].total_bounds.round().tolist(), q.layers["parcels"]
    ([508100.0, 4443100.0, 508110.0, 4443110.0], {'axes_swapped': 1})
    """
    sources = sources or {}
    working = None
    if working_crs not in (None, "", "auto"):
        try:
            working = CRS.from_user_input(working_crs)
        except Exception:  # choose_working_crs reports a bad working_crs with its key
            working = None
        if working is not None and not working.is_projected:
            working = None
    info: dict[str, tuple[np.ndarray, np.ndarray, CRS, float]] = {}
    for role, frame in frames.items():
        if frame is None or frame.empty or frame.crs is None:
            continue
        x, y = _sample_xy(frame)
        if len(x) == 0:
            continue
        crs = CRS.from_user_input(frame.crs)
        info[role] = (x, y, crs, float(in_area_of_use(x, y, crs).mean()))
    fits = {r for r, (_, _, _, f) in info.items() if f >= _MIN_FIT}
    boxes = {}
    for r in fits:
        x, y, crs, _ = info[r]
        inside = in_area_of_use(x, y, crs)
        boxes[r] = _box(*to_lonlat(x[inside], y[inside], crs))
    ref = boxes.get("villages")
    if ref is None and boxes:
        b = [bx for bx in boxes.values() if bx is not None]
        ref = (min(v[0] for v in b), min(v[1] for v in b), max(v[2] for v in b), max(v[3] for v in b)) if b else None
    # layers that fit their CRS but lie away from the villages may be in another layer's CRS by mistake
    astray = {r for r in fits if r != "villages" and "villages" in boxes and boxes[r] is not None
              and boxes["villages"] is not None and not _overlaps(boxes[r], boxes["villages"], margin=0.5)}
    out = dict(frames)
    for role in [r for r in info if r not in fits or r in astray]:
        x, y, crs, _ = info[role]
        src = sources.get(role)
        explicit = bool(src is not None and src.crs)
        others = [info[r][2] for r in sorted(fits - astray) if r != role]
        ref_lon = (ref[0] + ref[2]) / 2 if ref is not None else None
        found: list[tuple[_Reading, float, float]] = []
        for reading in _readings(crs, x, y, others, working, ref_lon, explicit):
            xs, ys = (y, x) if reading.swap else (x, y)
            inside = in_area_of_use(xs, ys, reading.crs)
            if inside.mean() < _MIN_FIT:
                continue
            lon, lat = to_lonlat(xs[inside], ys[inside], reading.crs)
            box = _box(lon, lat)
            if box is None or (ref is not None and not _overlaps(box, ref)):
                continue
            mlon, mlat = float(np.nanmedian(lon)), float(np.nanmedian(lat))
            if not any(abs(mlon - a) < _SAME_DEG and abs(mlat - b) < _SAME_DEG for _, a, b in found):
                found.append((reading, mlon, mlat))
        where = _where(role, src)
        key = f"[layers.{role}] crs"
        declared = crs_label(crs)
        if role in astray:
            if len(found) == 1:
                out[role] = _apply(frames[role], found[0][0], role, declared, "图层与行政村不在同一位置", quality)
            continue  # else: counted later as features outside every village
        if len(found) == 1:
            out[role] = _apply(frames[role], found[0][0], role, declared, _why(x, y, crs), quality)
            continue
        shown = f"x 约 {_num(np.median(x))}、y 约 {_num(np.median(y))}"
        said = f"配置的 {key} = \"{src.crs}\"" if explicit else f"文件声明的坐标系 {declared}"
        if not found:
            raise CRSError(f"{where}: {said} 与坐标值不符（{shown}，{_why(x, y, crs)}）；"
                           f"请在配置文件中设置 {key} = \"实际的坐标系\"（例如 \"EPSG:4548\"）")
        options = "、".join(_reading_label(r) for r, _, _ in found[:3])
        raise CRSError(f"{where}: {said} 与坐标值不符（{shown}），可能是 {options}，无法确定；"
                       f"请在配置文件中设置 {key} = \"实际的坐标系\"")
    return out


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4f}".rstrip("0").rstrip(".")


def _reading_label(r: _Reading) -> str:
    return crs_label(r.crs) + ("（x、y 互换）" if r.swap else "")


def _where(role: str, src: LayerSource | None) -> str:
    if src is None or src.path == "<memory>":
        return role
    path = src.path if isinstance(src.path, str) else "、".join(src.path)
    return f"{role} ({path}{':' + src.layer if src.layer else ''})"


def _apply(frame: gpd.GeoDataFrame, reading: _Reading, role: str, declared: str, why: str,
           quality: QualityReport | None) -> gpd.GeoDataFrame:
    geoms = frame.geometry.to_numpy()
    if reading.swap:
        geoms = shapely.transform(geoms, lambda c: c[:, ::-1])
    fixed = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=reading.crs)
    new = crs_label(reading.crs)
    if quality is not None:
        if new == declared and reading.swap:
            quality.count(role, "axes_swapped", len(frame))
            quality.note(f"{role}：坐标 x、y 顺序颠倒（{why}），已互换后读取")
        else:
            quality.count(role, "crs_replaced", len(frame))
            quality.note(f"{role}：文件声明的坐标系 {declared} 与坐标值不符（{why}），已按 {_reading_label(reading)} 读取；"
                         f"如不对，请在配置文件中设置 [layers.{role}] crs")
    return fixed


# -------------------------------------------------------------------------------------------- rasters

def check_raster(path: str | os.PathLike, role: str, district_bounds, crs) -> tuple[bool, str | None]:
    """Whether a configured raster can be used, and a note for the data-quality report.

    Parameters
    ----------
    path : path-like
        The raster (``[rasters] <role>``).
    role : str
        Its raster role (``ndsm``, ``ortho``, ``landcover_before``, ``landcover_after``).
    district_bounds : sequence of 4 floats
        ``(minx, miny, maxx, maxy)`` of the villages in ``crs``.
    crs : anything pyproj reads
        The working CRS.

    Returns
    -------
    usable : bool
        False when the raster does not overlap the district (it is then ignored).
    note : str or None
        A Chinese line for the data-quality report (no overlap, or only part of the district covered).

    Raises
    ------
    RasterError
        The file is missing, cannot be opened, or has no CRS (naming the file and the ``[rasters]`` key).

    Examples
    --------
    >>> import tempfile, rasterio
    >>> from rasterio.transform import from_origin
    >>> p = Path(tempfile.mkdtemp()) / "ndsm.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
    ...                    crs="EPSG:4548", transform=from_origin(600000, 4500000, 1, 1)) as dst:
    ...     dst.write(np.zeros((1, 10, 10), "float32"))
    >>> check_raster(p, "ndsm", (508000, 4443000, 509000, 4444000), "EPSG:4548")
    (False, '栅格 ndsm（ndsm.tif）与行政村范围没有重叠，已忽略；用到它的检查将跳过')
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import transform_bounds

    p = Path(path)
    key = f"[rasters] {role}"
    if not p.exists():
        raise RasterError(f"{role} ({p.name}): 找不到栅格文件；请检查 {key}")
    try:
        with rasterio.open(p) as src:
            rcrs, bounds = src.crs, src.bounds
    except (RasterioIOError, OSError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RasterError(f"{role} ({p.name}): 无法打开栅格（{text}）；请给出完整的 GeoTIFF，或修改 {key}") from None
    if rcrs is None:
        raise RasterError(f"{role} ({p.name}): 栅格没有坐标系 (no CRS)；请为它补上坐标系（例如用 GDAL 指定 EPSG:4548）后再配置 {key}")
    try:
        box = transform_bounds(rcrs, CRS.from_user_input(crs), *bounds, densify_pts=21)
    except Exception:
        box = (np.nan,) * 4
    d = [float(v) for v in district_bounds]
    ix = min(box[2], d[2]) - max(box[0], d[0])
    iy = min(box[3], d[3]) - max(box[1], d[1])
    if not (np.isfinite(ix) and np.isfinite(iy)) or ix <= 0 or iy <= 0:
        return False, f"栅格 {role}（{p.name}）与行政村范围没有重叠，已忽略；用到它的检查将跳过"
    area = (d[2] - d[0]) * (d[3] - d[1])
    share = ix * iy / area if area > 0 else 1.0
    if share < 0.99:
        return True, f"栅格 {role}（{p.name}）只覆盖行政村范围的约 {max(1, round(share * 100))}%，范围外不作判断"
    return True, None
