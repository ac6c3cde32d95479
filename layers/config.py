"""The project configuration: one TOML file mapping a bureau's files, layers and columns onto the roles.

Errors name the file, the key and what is allowed, on one line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from spatial.atomic import is_landguard_output
from spatial.errors import ConfigError, LayerError

from .limits import LimitSet, Limits
from .roles import RASTER_ROLES, ROLES

__all__ = ["LayerSource", "ProjectConfig", "RoutingConfig", "REMEDIES", "load_config", "config_for_data", "CONFIG_NAME",
           "refuse_special_file", "data_config_hint"]

#: The file name ``check --data DIR`` looks for inside a data folder.
CONFIG_NAME = "landguard.toml"
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


def refuse_special_file(path: str | os.PathLike, *, where: str, key: str, folder_ok: bool = False,
                        error: type[Exception] = ConfigError) -> None:
    """Refuse an input that is neither a regular file nor (where allowed) a folder, before anything opens it.

    A named pipe (FIFO), a socket or a device blocks a reader forever or reads garbage: it is one clear line
    instead. Paths that do not exist are left to the caller (who says "not found" in its own words).

    Parameters
    ----------
    path : path-like
    where : str
        How to name the input in the message, e.g. ``"parcels (宅基地.gpkg)"``.
    key : str
        The option or configuration key that points at it, e.g. ``"[layers.parcels] path"``.
    folder_ok : bool
        Whether a folder is a valid input here (a FileGDB, a data folder).
    error : exception class
        What to raise (a :class:`~spatial.errors.LandguardError` subclass).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp(); fifo = os.path.join(d, "parcels.gpkg"); os.mkfifo(fifo)
    >>> refuse_special_file(fifo, where="parcels (parcels.gpkg)", key="[layers.parcels] path")
    Traceback (most recent call last):
    ...
    spatial.errors.ConfigError: parcels (parcels.gpkg): parcels.gpkg 不是普通文件（是命名管道 FIFO）(not a regular file)；请给出 GeoPackage、Shapefile 等数据文件本身（[layers.parcels] path）
    """
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return
    kind = ("命名管道 FIFO" if stat.S_ISFIFO(mode) else "套接字 socket" if stat.S_ISSOCK(mode) else
            "设备文件 device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "文件夹 folder" if stat.S_ISDIR(mode)
            else "特殊文件")
    raise error(f"{where}: {Path(path).name} 不是普通文件（是{kind}）(not a regular file)；"
                f"请给出 GeoPackage、Shapefile 等数据文件本身（{key}）")


class LayerSource(BaseModel):
    """Where one role's data comes from.

    Attributes
    ----------
    path : str or list of str
        File (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, FileGDB) relative to the configuration file, or a
        ``postgresql://`` URL; a list of files is read as one layer (their features concatenated).
    layer : str, optional
        Layer inside a multi-layer file (default: the role's name when the file has it, else the only layer).
    table, sql, geometry_column : str, optional
        For PostGIS sources: a table name or a SQL query, and the geometry column.
    columns : dict
        Canonical column -> the column's name in the source.
    crs : str, optional
        CRS to assume when the source has none (e.g. ``"EPSG:4527"``).
    encoding : str, optional
        Attribute text encoding (``"gbk"`` for Chinese shapefiles without a ``.cpg``).
    engine : {"pyogrio", "fiona"}
    """

    model_config = ConfigDict(extra="forbid")
    path: str | list[str]
    layer: str | None = None
    table: str | None = None
    sql: str | None = None
    geometry_column: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    engine: Literal["pyogrio", "fiona"] = "pyogrio"
    base_dir: Path | None = Field(default=None, exclude=True)

    def resolved_path(self) -> str:
        """The path made absolute against the configuration's folder (URLs unchanged)."""
        if "://" in self.path or self.base_dir is None or os.path.isabs(self.path):
            return self.path
        return str((self.base_dir / self.path).resolve())


class Project(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "landguard"
    as_of: dt.date | None = None
    working_crs: str = "auto"
    #: the project folder (spec/WORKFLOW.md §1): dated runs, the case register, photos; relative to the file
    folder: str | None = None
    #: a verification photo farther than this from its case's geometry is marked 照片位置存疑
    photo_max_distance_m: float = Field(default=100.0, gt=0, le=100_000)


class MapsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basemaps: list[Literal["tianditu-img", "tianditu-vec", "esri-imagery", "osm", "gaode"]] = Field(
        default_factory=lambda: ["tianditu-img", "tianditu-vec", "esri-imagery", "osm", "gaode"])
    tianditu_tk: str | None = None

    @field_validator("tianditu_tk", mode="before")
    @classmethod
    def _expand_env(cls, value):
        if isinstance(value, str):
            value = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), value)
        return value or None


class LandcoverClasses(BaseModel):
    """Class codes of the land-cover rasters (FARM-RS)."""

    model_config = ConfigDict(extra="forbid")
    cropland: list[int] = Field(default_factory=lambda: [1])
    forest: list[int] = Field(default_factory=lambda: [2])
    water: list[int] = Field(default_factory=lambda: [4])
    built_up: list[int] = Field(default_factory=lambda: [5])
    vegetation: list[int] = Field(default_factory=lambda: [2, 3], description="green cover (SITE-GREEN)")
    #: bare soil 裸土 (dug, dumped on): cropland -> bare is FARM-DIG, not FARM-RS
    bare: list[int] = Field(default_factory=lambda: [6])


#: The remedies (处置方式) of spec/RULES.md "Routing and remedy".
REMEDIES = ("拆除", "复耕", "退林还耕", "退园还耕", "补办手续", "退出", "腾退", "移交公安机关", "核实")


class RoutingConfig(BaseModel):
    """One rule's routing where the district's own table differs (``[routing."FARM-GREEN"]``).

    Keys left out keep the defaults of :mod:`analyses.routing`. ``lead_unit`` may hold ``{township}``
    (the finding's township). Periods are days from the run date, by the finding's ``status``
    (undated findings take ``days_existing``).
    """

    model_config = ConfigDict(extra="forbid")
    remedy: Literal[REMEDIES] | None = None  # type: ignore[valid-type]
    lead_unit: str | None = Field(default=None, min_length=1, max_length=200)
    days_new: int | None = Field(default=None, ge=0, le=3650)
    days_existing: int | None = Field(default=None, ge=0, le=3650)
    days_historic: int | None = Field(default=None, ge=0, le=3650)

    @field_validator("lead_unit")
    @classmethod
    def _not_blank(cls, value):
        if value is not None and not value.strip():
            raise ValueError("牵头单位不能为空 (lead_unit must not be blank)")
        return value.strip() if value is not None else value


class TownshipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: dict[str, Any] = Field(default_factory=dict)


class ProjectConfig(BaseModel):
    """A whole project configuration (see ``README.md`` for every key).

    Examples
    --------
    >>> cfg = ProjectConfig.model_validate({"layers": {"parcels": {"path": "zjd.shp", "encoding": "gbk"}}})
    >>> cfg.layers["parcels"].encoding, cfg.limits.coverage_max
    ('gbk', 0.75)
    """

    model_config = ConfigDict(extra="forbid")
    project: Project = Field(default_factory=Project)
    layers: dict[str, LayerSource] = Field(default_factory=dict)
    rasters: dict[str, str] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    townships: dict[str, TownshipConfig] = Field(default_factory=dict)
    landcover: LandcoverClasses = Field(default_factory=LandcoverClasses)
    maps: MapsConfig = Field(default_factory=MapsConfig)
    routing: dict[str, RoutingConfig] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("layers")
    @classmethod
    def _known_roles(cls, layers: dict[str, LayerSource]):
        for name, src in layers.items():
            if name not in ROLES:
                raise ValueError(f"unknown role {name!r}; roles are: {', '.join(ROLES)}")
            bad = [c for c in src.columns if c not in ROLES[name].columns]
            if bad:
                raise ValueError(f"[layers.{name}] columns: {bad[0]!r} is not a column of role {name!r}; "
                                 f"columns are: {', '.join(ROLES[name].columns)}")
        return layers

    @field_validator("routing")
    @classmethod
    def _known_rules(cls, routing: dict[str, RoutingConfig]):
        if routing:
            from analyses.registry import CATALOGUE  # the rule ids (imported late: analyses builds on layers)

            for rule_id in routing:
                if rule_id not in CATALOGUE:
                    raise ValueError(f"未知规则编号 {rule_id!r} (unknown rule id)；规则编号见 `landguard rules`")
        return routing

    @field_validator("rasters")
    @classmethod
    def _known_rasters(cls, rasters: dict[str, str]):
        for name in rasters:
            if name not in RASTER_ROLES:
                raise ValueError(f"unknown raster role {name!r}; raster roles are: {', '.join(RASTER_ROLES)}")
        return rasters

    def limit_set(self) -> LimitSet:
        """District limits with each township's overrides applied on top."""
        towns = {}
        for town, tcfg in self.townships.items():
            try:
                towns[town] = Limits.model_validate(_deep_merge(self.limits.model_dump(), tcfg.limits))
            except ValidationError as exc:
                raise ConfigError(_explain(exc, self.source, prefix=f"townships.{town}.limits")) from None
        return LimitSet(self.limits, towns)

    def raster_path(self, name: str) -> Path | None:
        """Absolute path of a raster role, or None when not configured."""
        if name not in self.rasters:
            return None
        p = Path(self.rasters[name])
        base = self.source.parent if self.source else Path.cwd()
        return p if p.is_absolute() else (base / p).resolve()


def _deep_merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` on top; nested tables (e.g. ``green_belt_m``) are merged key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _explain(exc: ValidationError, source: Path | None, prefix: str = "") -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
    where = f"{source}: " if source else ""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "finite_number":
        msg = "应为有限数值，不能是 inf 或 nan (must be a finite number)"
    if err["type"] == "extra_forbidden":
        msg = "unknown key (see README.md, Configuration, for the keys allowed)"
    got = err.get("input")
    shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
    return f"{where}[{key}] {msg}{shown}"


def load_config(path: str | os.PathLike) -> ProjectConfig:
    """Read and validate a project configuration file.

    Parameters
    ----------
    path : path-like
        A TOML file; relative paths inside it are relative to its folder.

    Raises
    ------
    ConfigError
        One line naming the file, the key and what is allowed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "p.toml"
    >>> _ = p.write_text('[limits]\\ncoverage_max = "lots"\\n', encoding="utf-8")
    >>> try:
    ...     load_config(p)
    ... except ConfigError as e:
    ...     print(str(e).split(": ", 1)[1])
    [limits.coverage_max] Input should be a valid number, unable to parse string as a number (got 'lots')
    """
    path = Path(path)
    refuse_special_file(path, where=str(path), key="--config")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: 是文件夹，不是配置文件 (a folder, not a configuration file)；"
                          f"请给出 {CONFIG_NAME} 文件") from None
    try:
        text = data.decode("utf-8-sig")  # a UTF-8 byte-order mark (Notepad's default) is dropped
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
            seems = "，看起来是 GBK/GB18030 编码"
        except UnicodeDecodeError:
            seems = ""
        raise ConfigError(f"{path}: 配置文件不是 UTF-8 编码{seems} (not UTF-8 text)；"
                          f"请用记事本等编辑器“另存为” UTF-8 编码") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        cfg = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from None
    cfg.source = path.resolve()
    for src in cfg.layers.values():
        src.base_dir = path.resolve().parent
    cfg.limit_set()  # validate township overrides now, not halfway through a run
    for name in cfg.rasters:
        refuse_special_file(cfg.raster_path(name), where=f"{path}: [rasters] {name}", key=f"[rasters] {name}")
    return cfg


def config_for_data(data: str | os.PathLike | None, config: str | os.PathLike | None = None) -> ProjectConfig:
    """The configuration for ``check --data ... [--config ...]``.

    * ``--config`` given: that file (``--data`` may then be omitted).
    * ``--data`` a GeoPackage: every layer named like a role is that role, canonical columns assumed.
    * ``--data`` a folder: its ``landguard.toml`` when present, else every file named like a role
      (``parcels.shp``, ``roads.geojson``, ``*.gpkg`` layers) and rasters named like raster roles (``ndsm.tif``).

    Examples
    --------
    >>> cfg = config_for_data(None, None)
    Traceback (most recent call last):
    ...
    spatial.errors.ConfigError: give --data (a GeoPackage or a folder) or --config (a landguard.toml)
    """
    if config is not None:
        cfg = load_config(config)
        if data is not None and not cfg.layers:
            cfg.layers = _discover(Path(data)).layers
            cfg.rasters = cfg.rasters or _discover(Path(data)).rasters
        return cfg
    if data is None:
        raise ConfigError("give --data (a GeoPackage or a folder) or --config (a landguard.toml)")
    data = Path(data)
    refuse_special_file(data, where=f"--data {data.name}", key="--data", folder_ok=True)
    if data.is_dir() and (data / CONFIG_NAME).exists():
        return load_config(data / CONFIG_NAME)
    beside = _beside(data)
    if beside is not None and beside[1]:  # --data folder/district.gpkg named by folder/landguard.toml: use it
        return beside[0]
    return _discover(data)


def _beside(data: Path) -> tuple[ProjectConfig, bool] | None:
    """The ``landguard.toml`` in the folder of a ``--data`` file, and whether it names that file; None if none."""
    toml = data.parent / CONFIG_NAME
    if data.is_dir() or not toml.is_file():
        return None
    try:
        cfg = load_config(toml)
    except Exception:  # a broken neighbour is not this run's configuration: --data alone, as asked
        return None
    base = toml.parent
    target = data.resolve()
    names = any(src.path and "://" not in str(src.path) and not str(src.path).startswith("PG:")
                and ((base / Path(src.path)) if not Path(src.path).is_absolute() else Path(src.path)).resolve() == target
                for src in cfg.layers.values())
    return cfg, names


def data_config_hint(data: str | os.PathLike | None, config: str | os.PathLike | None = None) -> str | None:
    """One line for ``--data folder/file.gpkg`` when ``folder/landguard.toml`` exists (else None).

    If that configuration names the file it is used (:func:`config_for_data`) and the line says so; if not,
    the line says which layers and rasters it would add and how to use it (``--config``).

    Examples
    --------
    >>> data_config_hint(None) is None
    True
    """
    if data is None or config is not None:
        return None
    data = Path(data)
    beside = _beside(data)
    if beside is None:
        return None
    cfg, names = beside
    toml = data.parent / CONFIG_NAME
    if names:
        return (f"使用同一文件夹的配置 {toml}（其中引用了 {data.name}）"
                f"(using the {CONFIG_NAME} next to --data, which names this file)")
    try:
        own = _discover(data)
    except ConfigError:
        own = ProjectConfig()
    layers = [r for r in cfg.layers if r not in own.layers]
    rasters = [r for r in cfg.rasters if r not in own.rasters]
    if not layers and not rasters:
        return None
    extra = "、".join(layers) + ("；栅格 " + "、".join(rasters) if rasters else "")
    return (f"注意：{toml} 还配置了 {extra}，只用 --data {data.name} 不会读取；要用它们请改为 --config {toml} "
            f"(the {CONFIG_NAME} next to --data adds these; use --config)")


def _discover(data: Path) -> ProjectConfig:
    import pyogrio

    layers: dict[str, dict] = {}
    rasters: dict[str, str] = {}
    files = sorted(data.iterdir()) if data.is_dir() else [data]
    for f in files:
        if f.suffix.lower() in _VECTOR_SUFFIXES + (".tif", ".tiff"):  # what may be opened below
            refuse_special_file(f, where=f"--data {f.name}", key="--data", error=LayerError)
        if f.suffix.lower() == ".gpkg" and data.is_dir() and is_landguard_output(f):
            continue  # landguard's own output (export, check): never an input layer; noted by load_district
        if f.suffix.lower() == ".gpkg":
            try:
                names = [n for n, _ in pyogrio.list_layers(f)]
            except Exception as exc:  # GDAL cannot open it
                raise LayerError(f"{f}: cannot be opened as a GeoPackage ({exc})") from None
            for name in names:
                if name in ROLES and name not in layers:
                    layers[name] = {"path": str(f.resolve()), "layer": name}
        elif f.suffix.lower() in _VECTOR_SUFFIXES and f.stem in ROLES and f.stem not in layers:
            layers[f.stem] = {"path": str(f.resolve())}
        elif f.suffix.lower() in (".tif", ".tiff") and f.stem in RASTER_ROLES:
            rasters[f.stem] = str(f.resolve())
    if not layers:
        raise ConfigError(f"{data}: no layer named like a role ({', '.join(ROLES)}); "
                          f"name them so, or map yours in a {CONFIG_NAME}")
    return ProjectConfig.model_validate({"layers": layers, "rasters": rasters})
