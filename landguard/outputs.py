"""Output folders and files: never clobber what we did not create, never leave half files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd

from spatial.atomic import atomic_path, remove_stale_temporaries
from spatial.errors import OutputError

__all__ = ["prepare_out_dir", "write_findings", "write_json", "write_text", "MARKER"]

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

    Examples
    --------
    >>> # write_findings(findings, "out/findings.gpkg", extra={"changes": changes})
    """
    import pyogrio

    from layers.privacy import mask_frame
    from spatial.clean import GPKG_DATASET_OPTIONS, GRID_M, clean_polygons

    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, frame) in enumerate({layer: findings, **(extra or {})}.items()):
            frame = mask_frame(frame)  # ID numbers typed into any column never leave in clear
            kind = {}
            if isinstance(frame, gpd.GeoDataFrame) and getattr(frame, "_geometry_column_name", None) in frame.columns:
                metric = frame.crs is not None and not frame.crs.is_geographic
                frame = frame.copy()  # one MultiPolygon per row, 1 mm grid, no slivers (spatial/clean.py)
                frame[frame.geometry.name] = gpd.GeoSeries(
                    clean_polygons(frame.geometry.values, grid=GRID_M if metric else 1e-9),
                    index=frame.index, crs=frame.crs)
                kind = {"geometry_type": "MultiPolygon"}
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", **kind,
                                    dataset_options=GPKG_DATASET_OPTIONS if i == 0 else None)
        from maps.qgis_style import write_layer_styles

        write_layer_styles(tmp)  # QGIS / QField read the symbology and the form from layer_styles
    return path


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
