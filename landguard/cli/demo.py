"""``landguard demo``: the whole monthly cycle on the generated sample district, in one folder.

Two dated runs into a project folder with a field verification (verdicts and photos) between them, then the
village maps, field files, 台账 and 月报 of the second run. The first run is a month before the sample's date and
the house the field team found demolished is gone from the second run's data, so the register shows cases 新增,
持续 and 已整改.
"""

from __future__ import annotations

import click

from .options import overwrite_opt, quiet_opt, seed_opt


def _run(args: list[str]) -> None:
    """One landguard command, as a user would type it (errors are handled by the group as usual)."""
    from .main import cli

    cli.main(args, prog_name="landguard", standalone_mode=False)


@click.command("demo")
@click.option("--out", "out", required=True, type=click.Path(), help="Folder for everything the demo makes.")
@seed_opt
@overwrite_opt
@quiet_opt
def command(out, seed, overwrite, quiet):
    """The monthly cycle on the sample: 样例区县两期检查、外业核查（含照片）、地图、外业导出、台账和月报."""
    import datetime as dt
    import shutil

    import pyogrio

    from analyses.register import read_register
    from landguard.sample import generate_sample
    from landguard.sample.field import fill_returned, lonlat_of, photo_jpeg
    from landguard.sample.model import AS_OF

    from ..outputs import prepare_out_dir

    out_dir = prepare_out_dir(out, overwrite)
    data_dir = prepare_out_dir(out_dir / "sample", overwrite=True)
    project = out_dir / "project"
    if project.exists():
        shutil.rmtree(project)
    q = ["-q"] if quiet else []
    first, second = AS_OF - dt.timedelta(days=31), AS_OF

    click.echo(f"1/7 生成样例区县 → {data_dir}")
    config = generate_sample(data_dir, seed=seed)

    click.echo(f"2/7 第一期检查 (check, {first})")
    _run(["check", "--config", str(config), "--project", str(project), "--as-of", first.isoformat(), *q])
    _run(["export", "--project", str(project), "--config", str(config)])

    click.echo("3/7 外业核查：两处问题填写结论并拍照 (verify)")
    reg = read_register(project / "cases.gpkg")
    crs = pyogrio.read_info(project / "cases.gpkg", layer="cases")["crs"]
    builds = reg[(reg["rule_id"] == "FARM-BUILD").to_numpy()].sort_values("case_id")
    gone, kept = builds.iloc[0], builds[builds["village_id"] == builds.iloc[0]["village_id"]].iloc[-1]
    exports = project / "runs" / first.isoformat() / "exports"
    (gpkg,) = exports.glob(f"{gone['village_id']}*.gpkg")
    back = out_dir / "field-return"
    if back.exists():
        shutil.rmtree(back)
    back.mkdir()
    returned = back / gpkg.name
    shutil.copy(gpkg, returned)
    day = first + dt.timedelta(days=9)
    photo_jpeg(back / "DCIM" / "IMG_0001.jpg", lonlat=lonlat_of(gone.geometry, crs, dx=8),
               taken=dt.datetime.combine(day, dt.time(10, 5)), direction=180)
    photo_jpeg(back / "DCIM" / "IMG_0002.jpg", lonlat=lonlat_of(kept.geometry, crs, dx=5),
               taken=dt.datetime.combine(day, dt.time(10, 40)), direction=90)
    fill_returned(returned, {
        gone["case_id"]: {"verified": "已整改", "verified_on": day.isoformat(), "verified_by": "外业一组",
                          "photo": "DCIM/IMG_0001.jpg", "remark": "房屋已拆除，待复耕"},
        kept["case_id"]: {"verified": "违法", "verified_on": day.isoformat(), "verified_by": "外业一组",
                          "photo": "DCIM/IMG_0002.jpg", "remark": "现场仍在使用"}})
    _run(["verify", "--project", str(project), "--in", str(back)])

    click.echo(f"4/7 第二期检查 (check, {second})：已拆除的房屋不再出现")
    second_data = out_dir / "sample-2"
    if second_data.exists():
        shutil.rmtree(second_data)
    shutil.copytree(data_dir, second_data)
    b = pyogrio.read_dataframe(second_data / "district.gpkg", layer="buildings")
    pyogrio.write_dataframe(b[b["building_id"] != gone["subject_id"]], second_data / "district.gpkg",
                            layer="buildings", driver="GPKG")
    _run(["check", "--config", str(second_data / "landguard.toml"), "--project", str(project),
          "--as-of", second.isoformat(), *q])

    click.echo("5/7 村级地图与外业导出 (maps, export)")
    cfg2 = str(second_data / "landguard.toml")
    _run(["maps", "--project", str(project), "--config", cfg2])
    _run(["export", "--project", str(project), "--config", cfg2])
    click.echo("6/7 台账 (ledger)")
    _run(["ledger", "--project", str(project), "--config", cfg2])
    click.echo("7/7 月报与巡查清单 (report)")
    _run(["report", "--project", str(project)])

    run = project / "runs" / second.isoformat()
    reg = read_register(project / "cases.gpkg")
    click.echo("完成 / done:")
    click.echo(f"  样例数据   {data_dir}  (truth.csv: 预置违法情形)")
    click.echo(f"  项目目录   {project}  (两期: {first}, {second})")
    click.echo(f"  案件登记   {project / 'cases.gpkg'}  ({len(reg)} 件; 变化: "
               + "，".join(f"{k} {v}" for k, v in reg["change"].value_counts().items()) + ")")
    click.echo(f"  村级地图   {run / 'maps' / 'index.html'}")
    click.echo(f"  外业导出   {run / 'exports'}")
    click.echo(f"  台账       {run / '台账.xlsx'}")
    click.echo(f"  月报       {project / 'reports'}")
