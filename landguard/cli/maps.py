"""``landguard maps``: one self-contained interactive map per village plus an index page."""

from __future__ import annotations

from pathlib import Path

import click

from .options import config_opt, data_opt, findings_opt, full_names_opt, overwrite_opt, quiet_opt, village_opt
from .options import project_inputs, project_opt
from .progress import progress_reporter


@click.command("maps")
@findings_opt
@data_opt
@config_opt
@click.option("--out", "out", default=None, type=click.Path(path_type=Path),
              help="Folder for index.html and the village maps (with --project: runs/<latest>/maps).")
@project_opt
@village_opt
@full_names_opt
@overwrite_opt
@quiet_opt
def command(findings, data, config, out, project, villages, full_names, overwrite, quiet):
    """Inspector maps: 每个行政村一个可离线打开的交互地图 (HTML) and index.html."""
    from analyses.compare import read_findings
    from layers.district import load_district

    from ..outputs import prepare_out_dir
    from ..pipeline import write_maps

    findings, out = project_inputs(project, findings, out, "maps")
    out_dir = prepare_out_dir(out, overwrite)
    found = read_findings(findings)
    from layers.config import data_config_hint

    if (hint := data_config_hint(data, config)) is not None:  # --data folder/x.gpkg beside a landguard.toml
        click.echo(hint, err=True)
    with progress_reporter(quiet) as step:
        district = load_district(data, config, progress=step)
        found = found.to_crs(district.crs)
        register = None
        if project is not None:  # the case register: each case's change, verification and photos on the map
            from analyses.register import read_register

            from ..project import Project

            register = read_register(Project(Path(project)).register)
            if register is not None and register.crs is not None:
                register = register.to_crs(district.crs)
        paths = write_maps(district, found, out_dir, villages=villages, full_names=full_names, progress=step,
                           register=register, project_dir=project)
    click.echo(f"地图：{len(paths) - 1} 个行政村，索引页 {paths['index']}")
