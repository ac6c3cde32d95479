"""Output folders and files: never clobber what we did not create, never leave half files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.atomic import atomic_path, remove_stale_temporaries
from spatial.errors import OutputError

__all__ = ["prepare_out_dir", "write_findings", "write_json", "write_text", "MARKER", "arrow_writes"]

#: A file landguard leaves in every output folder it creates, so a later run may replace its contents.
MARKER = ".landguard-output"


def prepare_out_dir(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Create ``out`` or make sure we may write into it.

    A non-empty folder that landguard did not create is refused unless ``overwrite`` is set.

    Examples
    --------
    >>> import tempfile
    >>> d = prepare_out_dir(Path(tempfile.mkdtemp()) / "run")
    >>> (d / MARKER).exists()
    True
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists() and not overwrite:
        raise OutputError(f"--out {out}: folder is not empty and was not made by landguard; "
                          "choose another folder or add --overwrite")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).touch()
        remove_stale_temporaries(out)  # only a dead (killed) run's: a run still writing here keeps its files
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot be written ({exc.strerror or exc})") from None
    return out


def write_findings(findings: gpd.GeoDataFrame, path: str | os.PathLike, layer: str = "findings",
                   extra: dict[str, gpd.GeoDataFrame] | None = None) -> Path:
    """Write findings to a GeoPackage layer (plus ``extra`` layers) atomically: the whole file is replaced.

    Every layer is masked first (:func:`layers.privacy.mask_frame`): no ID number in clear, whatever the column.
    Geometries are cleaned in threads; the layers are written through Arrow when that writes the same fields
    and values (:func:`arrow_writes`), in one transaction per layer either way.

    Examples
    --------
    >>> # write_findings(findings, "out/findings.gpkg", extra={"changes": changes})
    """
    import pyogrio

    from layers.privacy import mask_frame
    from spatial.clean import GPKG_DATASET_OPTIONS, GRID_M

    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, frame) in enumerate({layer: findings, **(extra or {})}.items()):
            frame = mask_frame(frame)  # ID numbers typed into any column never leave in clear
            kind = {}
            if isinstance(frame, gpd.GeoDataFrame) and getattr(frame, "_geometry_column_name", None) in frame.columns:
                metric = frame.crs is not None and not frame.crs.is_geographic
                frame = frame.copy()  # one MultiPolygon per row, 1 mm grid, no slivers (spatial/clean.py)
                frame[frame.geometry.name] = gpd.GeoSeries(
                    _clean_in_threads(frame.geometry.values, grid=GRID_M if metric else 1e-9),
                    index=frame.index, crs=frame.crs)
                kind = {"geometry_type": "MultiPolygon"}
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", **kind, use_arrow=arrow_writes(frame),
                                    dataset_options=GPKG_DATASET_OPTIONS if i == 0 else None)
        from maps.qgis_style import write_layer_styles

        write_layer_styles(tmp)  # QGIS / QField read the symbology and the form from layer_styles
    return path


#: Rows per piece when the findings' geometries are cleaned in threads.
_CLEAN_ROWS = 20_000


def _clean_in_threads(geoms, *, grid: float) -> np.ndarray:
    """:func:`spatial.clean.clean_polygons` of pieces of the rows in threads (GEOS works without the GIL).

    Each row is cleaned on its own, so the pieces give what one call gives.

    Examples
    --------
    >>> import shapely
    >>> out = _clean_in_threads(np.array([shapely.box(0, 0, 1, 1), None], dtype=object), grid=0.001)
    >>> [g.geom_type if g is not None else None for g in out]
    ['MultiPolygon', None]
    """
    from concurrent.futures import ThreadPoolExecutor

    from spatial.clean import clean_polygons

    geoms = np.asarray(geoms, dtype=object)
    pieces = [geoms[i:i + _CLEAN_ROWS] for i in range(0, len(geoms), _CLEAN_ROWS)]
    workers = min(os.cpu_count() or 1, 4, len(pieces))
    if workers <= 1:
        return clean_polygons(geoms, grid=grid)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clean") as pool:
        done = list(pool.map(lambda piece: clean_polygons(piece, grid=grid), pieces))
    return np.concatenate(done)


#: numpy dtypes both of pyogrio's writers write as the same field type.
_ARROW_SAFE = (np.dtype("float64"), np.dtype("int64"), np.dtype("bool"))


def arrow_writes(frame: pd.DataFrame) -> bool:
    """Whether pyogrio's Arrow writer writes ``frame`` as its other writer does (same field types and values).

    True when every attribute column is text (``str`` dtype, or objects that are all ``str`` or missing),
    float64, int64 or bool: the types both writers map alike (checked by ``tests/layers/test_fast_writes.py``).
    Anything else (dates, nullable integers, categoricals, mixed objects) goes through the other writer.

    Examples
    --------
    >>> arrow_writes(pd.DataFrame({"a": ["x", None], "b": [1.5, float("nan")]}))
    True
    >>> arrow_writes(pd.DataFrame({"a": ["x", 3]}))
    False
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    geometry = getattr(frame, "_geometry_column_name", None)
    for name in frame.columns:
        if name == geometry:
            continue
        dtype = frame[name].dtype
        if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype in _ARROW_SAFE):
            continue
        if dtype == object and pd.api.types.infer_dtype(frame[name], skipna=True) in ("string", "empty"):
            continue
        return False
    return True


def write_json(data, path: str | os.PathLike) -> Path:
    """Write JSON (UTF-8, Chinese as is) atomically, every ID number in it masked."""
    from layers.privacy import mask_ids_in_data, mask_ids_in_text

    path = Path(path)
    text = json.dumps(mask_ids_in_data(data), ensure_ascii=False, indent=2,
                      default=lambda o: mask_ids_in_text(str(o)))
    masked = mask_ids_in_text(text)  # belt and braces; kept only while it is still valid JSON
    try:
        json.loads(masked)
        text = masked
    except ValueError:  # a bare non-integral number of 15+ digits: not an ID number, keep the JSON valid
        pass
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write UTF-8 text atomically, every ID number in it masked."""
    from layers.privacy import mask_ids_in_text

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(mask_ids_in_text(text), encoding="utf-8")
    return path
