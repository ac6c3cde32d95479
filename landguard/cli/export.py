"""``landguard export``: field files per village (GeoJSON, GeoPackage, KML), personal data masked."""

from __future__ import annotations

from pathlib import Path

import click

from .options import config_opt, data_opt, findings_opt, full_names_opt, village_opt
from .options import project_inputs, project_opt
from .progress import progress_reporter

#: File name stem of findings that have no village.
UNASSIGNED = "unassigned"


@click.command("export")
@findings_opt
@data_opt
@config_opt
@click.option("--out", "out", default=None, type=click.Path(path_type=Path),
              help="Output folder (with --project: runs/<latest>/exports).")
@project_opt
@village_opt
@full_names_opt
@click.option("--crs", "crs", type=click.Choice(["wgs84", "working"]), default="wgs84", show_default=True,
              help="CRS of the GeoPackage (GeoJSON and KML are always WGS84 lon/lat).")
def command(findings, data, config, out, project, villages, full_names, crs):
    """Field files per village: 外业核查文件 <village_id>_<村名>.geojson / .gpkg / .kml.

    With --data (and --config) the GeoPackage also carries the village's parcels and buildings, and when
    the district has a field_grids layer one set per 田长 grid is written too: grids/<grid_id>_<村名>.*
    (the grid leader's name always masked). Owner ID numbers are always masked; owner names too unless
    --full-names.
    """
    from analyses.compare import read_findings  # late: `landguard --help` must not load the GIS stack
    from maps.exports import GRIDS_FOLDER, export_grids, export_village, grid_stems
    from maps.filenames import check_unique_stems
    from spatial.errors import LayerError

    findings, out = project_inputs(project, findings, out, "exports")
    frame = read_findings(findings)
    parcels = buildings = known = grids = None
    if data is not None or config is not None:
        from layers.config import data_config_hint
        from layers.district import load_district  # late: reading a district is slow and optional here

        if (hint := data_config_hint(data, config)) is not None:  # --data folder/x.gpkg beside a landguard.toml
            click.echo(hint, err=True)

        with progress_reporter() as step:  # drawn only on a terminal; totals announced by load_district
            district = load_district(data=data, config=config, progress=step)
        parcels, buildings, grids = district.get("parcels"), district.get("buildings"), district.get("field_grids")
        known = set(district.villages["village_id"].astype(object))
        named = dict(zip(district.villages["village_id"].astype(object), district.villages["name"].astype(object)))
    loose = frame["village_id"].isna()
    if loose.any():
        click.echo(f"注意：{int(loose.sum())} 条问题没有行政村，导出为 {UNASSIGNED}.* (findings without a village)")
        frame = frame.copy()
        frame["village_id"] = frame["village_id"].astype(object).where(~loose, UNASSIGNED)
    present = sorted(set(frame["village_id"].astype(object)))
    chosen = list(dict.fromkeys(villages)) or present
    if known is not None:
        unknown = [v for v in chosen if v not in known and v not in present]
        if unknown:
            raise LayerError(f"--village {unknown[0]}: not a village_id of the findings or of the villages layer "
                             f"(e.g. {', '.join(sorted(known)[:3])})")
    names = frame.drop_duplicates("village_id").set_index("village_id")["village"].astype(object).to_dict()
    if known is not None:  # file names <village_id>_<村名>: the villages layer's names, for villages without findings too
        names.update({k: v for k, v in named.items() if isinstance(v, str) and v.strip()})
    # two villages with one file name would overwrite each other: refused before anything is written
    every = list(dict.fromkeys([*present, *sorted(known or (), key=str)]))
    check_unique_stems(every, [names.get(v) for v in every],
                       source="villages 图层 village_id 列" if known is not None else f"{findings}：village_id 列")
    if grids is not None:
        grid_stems(grids, names)  # two grids with one file name: refused before anything is written too
    total = 0
    lines = []  # printed once the bar is gone: a line echoed under a live bar garbles both
    with progress_reporter(total=len(chosen)) as step:  # done/total villages and time left
        for vid in chosen:
            step(f"导出 {vid}")
            files = export_village(frame, out, vid, parcels=parcels, buildings=buildings, full_names=full_names, crs=crs,
                                   name=names.get(vid))
            if project is not None:  # `verify --project` refuses a file returned from another project
                from ..project import Project, stamp_project

                stamp_project(files["gpkg"], Project(Path(project)).ensure_meta()["id"])
            count = int((frame["village_id"] == vid).sum())
            total += count
            name = names.get(vid)
            label = f"{vid} {name}" if isinstance(name, str) and name else vid
            note = "" if count else "（无问题，空文件 / no findings）"
            lines.append(f"{label}：{count} 条{note} → {', '.join(p.name for p in files.values())}")
    for line in lines:
        click.echo(line)
    if grids is not None:
        by_grid = export_grids(frame, out, grids, names=names, villages=villages or None, parcels=parcels,
                               buildings=buildings, full_names=full_names, crs=crs)
        if project is not None:
            from ..project import Project, stamp_project

            for files in by_grid.values():
                stamp_project(files["gpkg"], Project(Path(project)).ensure_meta()["id"])
        click.echo(f"田长网格：{len(by_grid)} 个 → {Path(out) / GRIDS_FOLDER} (field files per grid)")
    click.echo(f"已导出 {len(chosen)} 个村、{total} 条问题到 {out} (exported {len(chosen)} villages, {total} findings)")
