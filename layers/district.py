"""The loaded district: every layer normalised into one working CRS and assigned to its village."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.atomic import is_landguard_output
from spatial.crs import choose_working_crs, to_crs
from spatial.errors import LayerError
from spatial.overlay import area_pairs, candidate_pairs, covered_intersection, prepared_copies
from spatial.repair import far_apart_parts, repair_geometries
from spatial.subdivide import subdivide

from .config import LayerSource, ProjectConfig, config_for_data
from .idnumbers import normalise_ids
from .landuse import is_known
from .limits import LimitSet
from .quality import QualityReport
from .readers import NOTES_ATTR, canonical_frame, read_layers
from .roles import REQUIRED_ROLES, ROLES
from .sanity import check_layer_crs, check_raster, check_source_file, crs_label

__all__ = ["District", "load_district", "make_district", "assign_villages"]

# layers whose few, huge polygons span many villages: not assigned a single village
_SPANNING = ("eco_redline", "nature_reserves", "protected_zones")
# layers whose ids are names (many rivers share one): duplicated ids are normal there
_NAMED = _SPANNING + ("waters",)
# multi-part features with a part farther than this (metres) from their largest part are counted
_FAR_PARTS_M = {"parcels": 200.0, "buildings": 200.0, "cemeteries": 500.0, "landuse": 1000.0,
                "landuse_baseline": 1000.0}
# geometry type names users read
_TYPE_NAMES = {"Point": "点", "MultiPoint": "点", "LineString": "线", "MultiLineString": "线",
               "LinearRing": "线", "GeometryCollection": "几何集合"}


def assign_villages(geoms, villages: gpd.GeoDataFrame, *, max_vertices: int = 1024) -> np.ndarray:
    """The ``village_id`` holding the largest part of each geometry (None outside every village).

    Polygons go by area of overlap, lines by length, points by containment. Geometries with many
    vertices are subdivided first so that a huge polygon costs no more than its pieces.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": ["A", "B"]},
    ...                      geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4548)
    >>> assign_villages([shapely.box(8, 1, 15, 2), shapely.box(50, 50, 51, 51)], v).tolist()
    ['B', None]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0 or villages is None or villages.empty:
        return out
    vg = prepared_copies(villages.geometry.to_numpy())  # this thread's own: other threads place other layers in them
    vid = villages["village_id"].to_numpy(dtype=object)
    big = shapely.get_num_coordinates(geoms) > max_vertices
    pieces, source = subdivide(geoms[big], max_vertices=max_vertices) if big.any() else (np.empty(0, object), np.empty(0, int))
    work = np.concatenate([geoms[~big], pieces])
    owner = np.concatenate([np.flatnonzero(~big), np.flatnonzero(big)[source]]) if len(pieces) else np.flatnonzero(~big)
    li, ri = candidate_pairs(work, vg)
    if len(li) == 0:
        return out
    n_cand = np.bincount(owner[li], minlength=len(geoms))
    single = n_cand[owner[li]] == 1
    weight = np.ones(len(li))
    multi = ~single
    if multi.any():
        lm, rm = li[multi], ri[multi]
        dim = shapely.get_dimensions(work[lm])
        # polygons whose envelope only touches a village's share no area with it; a feature inside a
        # village is its own intersection (spatial.overlay: both exact, no overlay for them)
        flat = (dim == 2) & ~area_pairs(work, vg, lm, rm)
        inter = np.full(len(lm), None, dtype=object)
        inter[~flat] = covered_intersection(work, vg, lm[~flat], rm[~flat])
        w = np.where(dim == 2, shapely.area(inter), np.where(dim == 1, shapely.length(inter), 1.0))
        weight[multi] = np.where(flat, 0.0, w)
    frame = pd.DataFrame({"owner": owner[li], "village": ri, "w": weight})
    frame = frame.groupby(["owner", "village"], sort=False, as_index=False)["w"].sum()
    frame = frame[frame["w"] > 0].sort_values(["owner", "w", "village"], ascending=[True, False, True])
    best = frame.drop_duplicates("owner")
    out[best["owner"].to_numpy()] = vid[best["village"].to_numpy()]
    return out


@dataclass
class District:
    """A district's layers, normalised and ready for the rules.

    Attributes
    ----------
    layers : dict of str -> GeoDataFrame
        Role name -> features in the working CRS with the role's canonical columns; every layer but the
        spanning ones (eco red line, nature reserves, protected zones) has a ``village_id``.
    crs : pyproj.CRS
        The working CRS (metres).
    config : ProjectConfig
    quality : QualityReport
    as_of : datetime.date
        The run date for deadlines.
    limits : LimitSet
        Rule limits with per-township overrides.
    rasters : dict of str -> Path
        The configured rasters that overlap the villages (the others are noted in ``quality`` and left out).

    Examples
    --------
    >>> from landguard.sample import generate_sample          # doctest: +SKIP
    >>> d = load_district(config=generate_sample("sample")) # doctest: +SKIP
    >>> d["parcels"].crs.to_epsg()                         # doctest: +SKIP
    4548
    """

    layers: dict[str, gpd.GeoDataFrame]
    crs: CRS
    config: ProjectConfig
    quality: QualityReport
    as_of: dt.date
    limits: LimitSet
    rasters: dict[str, Path] = field(default_factory=dict)

    def __contains__(self, role: str) -> bool:
        frame = self.layers.get(role)
        return frame is not None

    def __getitem__(self, role: str) -> gpd.GeoDataFrame:
        try:
            return self.layers[role]
        except KeyError:
            raise LayerError(f"layer {role!r} was not given; add [layers.{role}] to the configuration") from None

    def get(self, role: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the role was not given."""
        return self.layers.get(role)

    @property
    def villages(self) -> gpd.GeoDataFrame:
        """The villages layer."""
        return self.layers["villages"]

    def village_layers(self, village_id: str) -> dict[str, gpd.GeoDataFrame]:
        """Every layer's features that intersect one village's polygon (for maps and exports)."""
        v = self.villages[self.villages["village_id"] == village_id]
        if v.empty:
            raise LayerError(f"village {village_id!r} is not in the villages layer")
        shape = v.geometry.iloc[0]
        out = {}
        for role, frame in self.layers.items():
            if frame is None or frame.empty:
                out[role] = frame
                continue
            idx = frame.sindex.query(shape, predicate="intersects")
            out[role] = frame.iloc[np.sort(idx)]
        return out


def _report_progress(progress, text):
    if progress is not None:
        progress(text)


def _announce(progress, n: int) -> None:
    """``n`` more steps to come, for a progress bar that takes a total (``add_total``)."""
    if n > 0 and callable(getattr(progress, "add_total", None)):
        progress.add_total(n)


def load_district(data: str | os.PathLike | None = None, config: str | os.PathLike | ProjectConfig | None = None,
                  *, as_of: dt.date | None = None,
                  progress: Callable[[str], None] | None = None) -> District:
    """Read, repair, reproject and village-assign every layer of a project.

    Parameters
    ----------
    data : path-like, optional
        A GeoPackage with canonical layer names, or a folder (see :func:`layers.config.config_for_data`).
    config : path-like or ProjectConfig, optional
        A ``landguard.toml`` (or an already loaded configuration).
    as_of : datetime.date, optional
        Run date for deadlines; default the configuration's ``as_of``, else today.
    progress : callable, optional
        Called with a short text as each layer is read.

    Every layer is repaired (:func:`spatial.repair.repair_geometries`), its CRS checked against its numbers
    (:func:`layers.sanity.check_layer_crs`), duplicated ids made distinct and rasters checked
    (:func:`layers.sanity.check_raster`); what was done is counted in ``district.quality``. See
    ``docs/data-problems.md`` for every case.

    Raises
    ------
    LayerError, CRSError, RasterError
        A layer or raster cannot be used: one line naming it, the file, the column or key, and what to do.

    Examples
    --------
    >>> d = load_district("district.gpkg")   # doctest: +SKIP
    >>> sorted(d.layers)[:3]                 # doctest: +SKIP
    ['approvals', 'buildings', 'cemeteries']
    """
    if data is not None and not isinstance(config, ProjectConfig):
        _check_data_files(Path(data))
    with warnings.catch_warnings():  # listing layers, GDAL warns about M values: counted when read, not printed
        warnings.filterwarnings("ignore", message=r"Measured \(M\) geometry")
        cfg = config if isinstance(config, ProjectConfig) else config_for_data(data, config)
    missing = [r for r in REQUIRED_ROLES if r not in cfg.layers]
    if missing:
        where = cfg.source or data
        raise LayerError(f"{where}: 缺少必需图层 {missing[0]!r}（{ROLES[missing[0]].label}）(required layer {missing[0]!r} is missing)；"
                         f"请在配置文件中添加 [layers.{missing[0]}] 及其 path，或提供名为 {missing[0]!r} 的图层")
    quality = QualityReport()
    for skipped in _skipped_outputs(data, cfg):
        quality.note(f"{skipped.name}：landguard 写出的文件（export/check 的输出），未作为输入图层读取 "
                     "(a landguard output, not read as an input layer)")
    raw: dict[str, gpd.GeoDataFrame] = {}
    # one step per layer read, then per layer assigned to villages: the bar's total from the start
    _announce(progress, len(cfg.layers) + sum(r != "villages" and r not in _SPANNING for r in cfg.layers))
    repairs = {}
    # in threads, each layer's geometry repair right after its read; notes and errors in the configuration's order
    with read_layers(cfg.layers, then=_repaired) as read:
        for role, frame, notes, repaired in read:
            repairs[role] = repaired
            _report_progress(progress, f"读取 {role}")
            for k, v in notes.items():
                quality.count(role, k, v)
            for text in frame.attrs.pop(NOTES_ATTR, []):
                quality.note(text)
            if ROLES[role].required and len(frame) == 0:  # its rules would run and report "0 条" as if all were well
                raise LayerError(f"{_where(role, cfg)}: 图层没有任何要素（0 个）(the layer is empty)；请检查 "
                                 f"[layers.{role}] path、layer 是否指向了有数据的{ROLES[role].label}图层")
            raw[role] = frame
    return _build(raw, cfg, as_of, quality, progress, repairs)


def _repaired(role: str, frame: gpd.GeoDataFrame):
    """What :func:`spatial.repair.repair_geometries` makes of a layer as read (the frame is not changed)."""
    return repair_geometries(frame.geometry.to_numpy(), ROLES[role].geometry)


def _skipped_outputs(data, cfg: ProjectConfig) -> list[Path]:
    """GeoPackages landguard wrote into the ``--data`` folder, which folder discovery does not read."""
    if data is None or not Path(data).is_dir() or (Path(data) / "landguard.toml").exists():
        return []
    used = {str(p) for src in cfg.layers.values() for p in ([src.path] if isinstance(src.path, str) else src.path)}
    return [f for f in sorted(Path(data).iterdir()) if f.suffix.lower() == ".gpkg"
            and str(f.resolve()) not in used and is_landguard_output(f)]


def _check_data_files(data: Path) -> None:
    """Refuse a truncated or empty GeoPackage given as ``--data`` (or inside that folder) with one clear line."""
    if data.is_dir():  # a folder's files are found by name unless its landguard.toml names them
        files = [] if (data / "landguard.toml").exists() else sorted(data.glob("*.gpkg"))
    else:
        files = [data] if data.suffix.lower() == ".gpkg" else []
    for f in files:
        check_source_file(f, where=f"--data {f.name}", key="--data")


def make_district(frames: dict[str, gpd.GeoDataFrame], *, as_of: dt.date | None = None,
                  config: ProjectConfig | None = None) -> District:
    """A District from frames in memory (Jupyter, tests): same normalisation as :func:`load_district`.

    Parameters
    ----------
    frames : dict of role -> GeoDataFrame
        Canonical (or well-known) column names, any CRS; the required roles must be present.
    as_of : datetime.date, optional
    config : ProjectConfig, optional
        Limits, township overrides, working CRS.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": ["V1"], "name": ["甲村"], "township": ["甲镇"]},
    ...                      geometry=[shapely.box(508000, 4443000, 508100, 4443100)], crs=4548)
    >>> p = gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[shapely.box(508010, 4443010, 508020, 4443020)], crs=4548)
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[shapely.box(508011, 4443011, 508019, 4443019)], crs=4548)
    >>> lu = gpd.GeoDataFrame({"dlbm": ["0702"]}, geometry=[v.geometry.iloc[0]], crs=4548)
    >>> d = make_district({"villages": v, "parcels": p, "buildings": b, "landuse": lu})
    >>> d["buildings"]["village_id"].tolist(), d.crs.to_epsg()
    (['V1'], 4548)
    """
    cfg = config or ProjectConfig()
    missing = [r for r in REQUIRED_ROLES if r not in frames]
    if missing:
        raise LayerError(f"required layer {missing[0]!r} ({ROLES[missing[0]].label}) is missing")
    quality = QualityReport()
    raw = {}
    for role, frame in frames.items():
        raw[role], notes = canonical_frame(role, frame)
        for k, v in notes.items():
            quality.count(role, k, v)
        for text in raw[role].attrs.pop(NOTES_ATTR, []):
            quality.note(text)
    cfg = cfg.model_copy(update={"layers": {r: LayerSource(path="<memory>") for r in frames}})
    return _build(raw, cfg, as_of, quality, None)


def _where(role: str, cfg: ProjectConfig) -> str:
    src = cfg.layers.get(role)
    if src is None or src.path == "<memory>":
        return role
    path = src.path if isinstance(src.path, str) else "、".join(src.path)
    return f"{role} ({path}{':' + src.layer if src.layer else ''})"


def _in_threads(fn: Callable, items: list) -> list:
    """``fn`` of every item, computed in threads (GEOS works without the GIL); futures in the items' order.

    The caller takes each result in order (``future.result()``), so counts, notes and errors come as they
    would one by one.

    Examples
    --------
    >>> [f.result() for f in _in_threads(abs, [-1, 2, -3])]
    [1, 2, 3]
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    workers = max(1, min(os.cpu_count() or 1, 4, len(items)))
    if workers == 1:
        done = []
        for item in items:
            f: Future = Future()
            try:
                f.set_result(fn(item))
            except BaseException as exc:  # raised when its turn comes, as in the threaded case
                f.set_exception(exc)
            done.append(f)
        return done
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="district") as pool:
        return [pool.submit(fn, item) for item in items]


def _repair(role: str, frame: gpd.GeoDataFrame, cfg: ProjectConfig, quality: QualityReport,
            repaired=None) -> gpd.GeoDataFrame:
    """Repair one layer's geometries, count what was done, refuse a layer with nothing usable left.

    ``repaired``: what :func:`spatial.repair.repair_geometries` returned for the layer, when already computed.
    """
    kind = ROLES[role].geometry
    geoms, keep, counts = repaired if repaired is not None else repair_geometries(frame.geometry.to_numpy(), kind)
    for k, v in counts.as_dict().items():
        quality.count(role, k, v)
    if len(frame) and not keep.any():
        given = frame.geometry[~frame.geometry.isna() & ~frame.geometry.is_empty]
        label = ROLES[role].label
        wanted = {"polygon": "面（Polygon）", "polygon_or_point": "点或面"}.get(kind, "面或线")
        if len(given) == 0:
            raise LayerError(f"{_where(role, cfg)}: 全部 {len(frame)} 个要素的几何都是空的；请检查 [layers.{role}] "
                             f"是否指向了有图形的{label}图层")
        types = "、".join(sorted({f"{_TYPE_NAMES.get(t, t)}（{t}）" for t in given.geom_type}))
        raise LayerError(f"{_where(role, cfg)}: 全部 {len(frame)} 个要素都是{types}，{label}需要{wanted}；"
                         f"请检查 [layers.{role}] path、layer 是否指向了{label}图层")
    frame = frame[keep].copy()
    return gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=frame.crs).reset_index(drop=True)


def _drop_bad_coordinates(role: str, frame: gpd.GeoDataFrame, quality: QualityReport) -> gpd.GeoDataFrame:
    """Drop features whose coordinates did not survive the move into the working CRS (inf, NaN)."""
    if frame.empty:
        return frame
    ok = np.isfinite(shapely.bounds(frame.geometry.to_numpy())).all(axis=1)
    if ok.all():
        return frame
    quality.count(role, "dropped_bad_coords", int((~ok).sum()))
    return frame[ok].reset_index(drop=True)


def _examples(values, limit: int = 5) -> str:
    values = list(values)
    return "、".join(str(v) for v in values[:limit]) + ("……" if len(values) > limit else "")


def _build(raw: dict[str, gpd.GeoDataFrame], cfg: ProjectConfig, as_of, quality: QualityReport,
           progress, repairs: dict | None = None) -> District:
    roles = list(raw)
    if repairs is None or set(repairs) != set(roles):
        repairs = {role: f.result() for role, f in zip(roles, _in_threads(lambda role: _repaired(role, raw[role]), roles))}
    for role in roles:
        quality.count(role, "read", len(raw[role]))
        raw[role] = _repair(role, raw[role], cfg, quality, repairs[role])
    quality.missing_roles = [r for r in ROLES if r not in cfg.layers]
    declared = {role: frame.crs for role, frame in raw.items()}
    raw = check_layer_crs(raw, cfg.layers, working_crs=cfg.project.working_crs, quality=quality)
    crs = choose_working_crs([f for f in raw.values() if not f.empty], cfg.project.working_crs)
    layers = {role: _drop_bad_coordinates(role, to_crs(frame, crs, name=role), quality) for role, frame in raw.items()}
    layers["villages"] = _merge_villages(layers["villages"], quality)
    _fill_ids(layers, quality)
    villages = layers["villages"]
    if villages.empty:
        raise LayerError(f"{_where('villages', cfg)}: 行政村图层没有可用的要素 (the layer has no features)；"
                         "每条问题都要落到行政村，请检查该图层")
    assigning = [role for role in layers if role != "villages" and role not in _SPANNING]

    def place(role: str) -> tuple[np.ndarray, np.ndarray | None]:
        geoms = layers[role].geometry.to_numpy()
        far = _FAR_PARTS_M.get(role)
        return assign_villages(geoms, villages), (far_apart_parts(geoms, far) if far is not None and len(geoms)
                                                  else None)

    shapely.bounds(villages.geometry.to_numpy())  # every thread reads the villages: their envelopes made here, once
    placed = dict(zip(assigning, _in_threads(place, assigning)))
    for role, frame in layers.items():
        if role == "villages" or role in _SPANNING:
            continue
        _report_progress(progress, f"分配行政村 {role}")
        assigned, apart = placed[role].result()
        if "village_id" in frame.columns:
            given = frame["village_id"].to_numpy(dtype=object)
            known = pd.Series(given).isin(villages["village_id"]).to_numpy()
            assigned = np.where(known, given, assigned)
        frame["village_id"] = pd.Series(assigned, index=frame.index, dtype=object)
        outside = int(pd.isna(frame["village_id"]).sum())
        quality.count(role, "outside_villages", outside)
        if len(frame) and outside == len(frame):
            said = crs_label(declared[role]) if declared.get(role) is not None else "?"
            text = (f"全部 {len(frame)} 个要素都不在任何行政村范围内；请检查该图层的坐标系（文件声明 {said}）"
                    f"与行政村图层是否一致，或行政村图层是否完整")
            if ROLES[role].required:
                raise LayerError(f"{_where(role, cfg)}: {text}")
            quality.note(f"{role}：{text}")
        far = _FAR_PARTS_M.get(role)
        if apart is not None:
            if apart.any():
                quality.count(role, "far_apart_parts", int(apart.sum()))
                col = ROLES[role].id_column
                ids = frame.loc[apart, col] if col in frame.columns else pd.Series(np.flatnonzero(apart) + 1)
                quality.note(f"{role}：{int(apart.sum())} 个多部件要素的部件相距超过 {far:g} 米（{_examples(ids)}），"
                             f"整体按最大部件所在行政村统计；请核实是否应拆分")
    for role in ("landuse", "landuse_baseline"):
        if role in layers:
            unknown = ~is_known(layers[role]["dlbm"])
            quality.count(role, "unknown_codes", int(unknown.sum()))
            if unknown.any():
                codes = layers[role].loc[unknown, "dlbm"].fillna("（空）").value_counts()
                quality.note(f"{role}：{int(unknown.sum())} 个图斑的地类编码不是 GB/T 21010 或三调工作分类编码"
                             f"（{_examples(f'{c} ×{n}' for c, n in codes.items())}），这些图斑不按任何地类判断；"
                             f"请核对 dlbm 字段（[layers.{role}] columns）")
    _check_owner_ids(layers["parcels"], quality)
    for role, frame in layers.items():
        quality.count(role, "kept", len(frame))
    rasters = {}
    for name in cfg.rasters:
        path = cfg.raster_path(name)
        usable, note = check_raster(path, name, villages.total_bounds, crs)
        if note:
            quality.note(note)
        if usable:
            rasters[name] = path
    return District(layers=layers, crs=crs, config=cfg, quality=quality,
                    as_of=as_of or cfg.project.as_of or dt.date.today(), limits=cfg.limit_set(),
                    rasters=rasters)


def _merge_villages(villages: gpd.GeoDataFrame, quality: QualityReport) -> gpd.GeoDataFrame:
    """One row per ``village_id``: polygons of a village stored as several rows are merged (and counted)."""
    ids = villages["village_id"]
    dup = ids.duplicated(keep=False) & ids.notna()
    if not dup.any():
        return villages
    quality.count("villages", "merged_villages", int(dup.sum()))
    quality.note(f"villages：{int(dup.sum())} 个要素的 village_id 重复（{_examples(ids[dup].unique())}），"
                 f"已按 village_id 合并为一个行政村")
    first = villages.drop_duplicates("village_id", keep="first").copy()
    merged = (villages.loc[dup].groupby("village_id", sort=False).geometry
              .agg(lambda g: shapely.union_all(g.to_numpy())))
    rows = first["village_id"].isin(merged.index).to_numpy()
    geoms = first.geometry.to_numpy().copy()
    geoms[rows] = merged.loc[first.loc[rows, "village_id"]].to_numpy()
    return gpd.GeoDataFrame(first.drop(columns=first.geometry.name), geometry=geoms,
                            crs=villages.crs).reset_index(drop=True)


def _fill_ids(layers: dict[str, gpd.GeoDataFrame], quality: QualityReport) -> None:
    """Give features without an id one from their row; drop exact duplicates; make duplicated ids distinct.

    Of features that share an id, exact copies (same attributes and geometry) are dropped; the others keep
    the id on the first and get ``#2``, ``#3``... on the later ones, so that every finding has its own case id.
    """
    for role, frame in list(layers.items()):
        col = ROLES[role].id_column
        if col is None or col not in frame.columns:
            continue
        missing = frame[col].isna().to_numpy()
        if missing.any():
            filled = frame[col].to_numpy(dtype=object).copy()
            filled[missing] = [f"{role}#{i + 1}" for i in np.flatnonzero(missing)]
            frame[col] = pd.Series(filled, index=frame.index, dtype=object)
            if role not in _NAMED:
                quality.count(role, "missing_ids", int(missing.sum()))
        if role in _NAMED:
            continue
        dup = frame[col].duplicated(keep=False).to_numpy()
        if not dup.any():
            continue
        sub = frame.loc[dup]
        key = pd.DataFrame({c: sub[c].astype(str) for c in sub.columns if c != sub.geometry.name})
        key["__wkb"] = shapely.to_wkb(sub.geometry.to_numpy(), hex=True)
        copies = np.zeros(len(frame), dtype=bool)
        copies[np.flatnonzero(dup)[key.duplicated(keep="first").to_numpy()]] = True
        if copies.any():
            quality.count(role, "exact_duplicates", int(copies.sum()))
            frame = frame.loc[~copies].reset_index(drop=True)
            layers[role] = frame
        ids = frame[col]
        dup = ids.duplicated(keep=False)
        if not dup.any():
            continue
        quality.count(role, "duplicated_ids", int(dup.sum()))
        nth = ids.groupby(ids, sort=False).cumcount().to_numpy()
        renamed = ids.to_numpy(dtype=object).copy()
        later = nth > 0
        renamed[later] = [f"{v}#{n + 1}" for v, n in zip(renamed[later], nth[later])]
        frame[col] = pd.Series(renamed, index=frame.index, dtype=object)
        quality.note(f"{role}：{int(dup.sum())} 个要素的编号 {col} 重复（{_examples(ids[dup].unique())}），"
                     f"后出现的已改为 {renamed[later][0]} 这样的编号以区分；请在源数据中更正")


def _check_owner_ids(parcels: gpd.GeoDataFrame, quality: QualityReport) -> None:
    """List parcels whose owner ID number fails the GB 11643 check (they are never matched on it)."""
    given = parcels["owner_id"].notna()
    _, valid = normalise_ids(parcels["owner_id"])
    bad = parcels.loc[given.to_numpy() & ~valid.to_numpy(), ["parcel_id", "owner_id"]]
    from .privacy import mask_id_number

    quality.invalid_ids = [{"parcel_id": p, "owner_id": mask_id_number(o)}
                           for p, o in zip(bad["parcel_id"], bad["owner_id"])]
