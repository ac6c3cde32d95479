"""PostGIS in and out, against a real PostgreSQL 15 + PostGIS server started for the session."""

from __future__ import annotations

import datetime as dt

import psycopg
import pyogrio
import pytest
from click.testing import CliRunner

from layers.config import LayerSource
from layers.readers import read_layer
from spatial.errors import CRSError, LayerError, OutputError
from tests.builders import frame, square
from tests.postgis_server import PostgisServer, missing_binaries_message

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="session")
def pg():
    """A throw-away PostgreSQL + PostGIS server for the whole session (never skipped: fails when missing)."""
    problem = missing_binaries_message()
    if problem:
        pytest.fail(problem, pytrace=False)
    server = PostgisServer(database="landguard_test")
    try:
        server.start()
    except Exception as exc:
        server.stop()
        pytest.fail(f"could not start PostgreSQL: {exc}", pytrace=False)
    yield server
    server.stop()


def _rows(pg, query, params=()):
    with psycopg.connect(pg.url) as conn:
        return conn.execute(query, params).fetchall()


def test_reads_a_table_with_bureau_field_names_and_its_srid(pg):
    zjd = frame([{"ZDDM": "110117104201JC00001", "QLRMC": "张三", "ZJHM": "11010519491231002X",
                  "PZMJ": 160.5, "PZRQ": "2019-05-01", "geometry": square(0, 0, 12)},
                 {"ZDDM": "110117104201JC00002", "QLRMC": "李四", "ZJHM": None, "PZMJ": None, "PZRQ": None,
                  "geometry": square(20, 0, 12)}])
    pg.load(zjd, "zjd")
    f, notes = read_layer("parcels", LayerSource(path=pg.url, table="zjd"))
    assert f.crs.to_epsg() == 4548
    assert f["parcel_id"].tolist() == ["110117104201JC00001", "110117104201JC00002"]
    assert f["owner_name"].tolist() == ["张三", "李四"]
    assert f["approved_area_m2"].iloc[0] == 160.5 and f["approved_date"].iloc[0] == dt.datetime(2019, 5, 1)
    assert f.geometry.iloc[0].equals(square(0, 0, 12))
    assert notes["missing_columns"] > 0


def test_table_in_the_url_schema_and_geometry_column(pg):
    lu = frame([{"DLBM": "0103", "TBBH": "7", "geometry": square(0, 0, 100)}]).to_crs(4490)
    pg.load(lu, "gis.dltb", geometry_column="shape")
    f, _ = read_layer("landuse", LayerSource(path=f"{pg.url}?table=gis.dltb"))
    assert f["dlbm"].tolist() == ["0103"] and f.crs.to_epsg() == 4490
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE gis.dltb ADD COLUMN centre geometry(Point, 4490)")
    with pytest.raises(LayerError, match="shape, centre|centre, shape"):
        read_layer("landuse", LayerSource(path=f"{pg.url}?table=gis.dltb"))
    f, _ = read_layer("landuse", LayerSource(path=pg.url, table="gis.dltb", geometry_column="shape"))
    assert len(f) == 1


def test_sql_source_takes_the_srid_from_its_rows(pg):
    pg.load(frame([{"dlbm": "0101", "kind_x": "a", "geometry": square(0, 0, 50)},
                   {"dlbm": "0702", "kind_x": "b", "geometry": square(60, 0, 50)}]), "survey")
    src = LayerSource(path=pg.url, sql="SELECT dlbm, ST_Transform(geom, 4490) AS g FROM survey WHERE dlbm LIKE '01%'")
    f, _ = read_layer("landuse", src)
    assert f["dlbm"].tolist() == ["0101"] and f.crs.to_epsg() == 4490
    assert abs(f.to_crs(4548).geometry.iloc[0].area - 2500) < 1


def test_srid_zero_needs_a_crs_in_the_configuration(pg):
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS nosrid")
        conn.execute("CREATE TABLE nosrid (name text, geom geometry)")
        conn.execute("INSERT INTO nosrid VALUES ('红线', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'))")
    with pytest.raises(CRSError, match="SRID 0"):
        read_layer("eco_redline", LayerSource(path=pg.url, table="nosrid"))
    f, _ = read_layer("eco_redline", LayerSource(path=pg.url, table="nosrid", crs="EPSG:4548"))
    assert f.crs.to_epsg() == 4548


def test_errors_are_one_line_and_hide_the_password(pg):
    with pytest.raises(LayerError) as err:
        read_layer("pbf", LayerSource(path=pg.url, table="no_such_table"))
    assert "no_such_table" in str(err.value) and "\n" not in str(err.value)
    bad = f"postgresql://postgres:s3cret@127.0.0.1:{pg.port + 1 if pg.port < 65535 else 1}/x?table=t"
    with pytest.raises(LayerError) as err:
        read_layer("pbf", LayerSource(path=bad))
    assert "cannot connect" in str(err.value) and "s3cret" not in str(err.value)
    with pytest.raises(LayerError, match="table or sql"):
        read_layer("pbf", LayerSource(path=pg.url))


def _district_into_postgis(pg, tmp_path):
    """The small district of the CLI tests, every layer in PostGIS, and a landguard.toml pointing at it."""
    from tests.cli.test_check_cli import small_gpkg

    gpkg = small_gpkg(tmp_path / "district.gpkg")
    lines = []
    for layer in ("villages", "landuse", "parcels", "buildings"):
        pg.load(pyogrio.read_dataframe(gpkg, layer=layer), f"src.{layer}")
        lines += [f"[layers.{layer}]", f'path = "{pg.url}"', f'table = "src.{layer}"', ""]
    toml = tmp_path / "landguard.toml"
    toml.write_text("\n".join(lines), encoding="utf-8")
    return gpkg, toml


def test_check_from_postgis_to_postgis_replaces_the_run_atomically(pg, tmp_path):
    from landguard.pipeline import check
    from landguard.sinks import write_findings_postgis

    gpkg, toml = _district_into_postgis(pg, tmp_path)
    from_file = check(data=gpkg)
    out = f"{pg.url}?table=results.findings"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS results")
    result = check(config=toml, out=out)
    assert result.tables == {"findings": "results.findings", "summary": "results.findings_summary"}
    assert sorted(result.findings["case_id"]) == sorted(from_file.findings["case_id"])
    rows = _rows(pg, "SELECT case_id, rule_id, area_m2, ST_SRID(geometry), \"limit\" FROM results.findings")
    assert sorted(r[0] for r in rows) == sorted(from_file.findings["case_id"])
    assert {r[3] for r in rows} == {4548}
    areas = dict(_rows(pg, "SELECT case_id, ST_Area(geometry) FROM results.findings"))
    for cid, a in zip(result.findings["case_id"], result.findings.geometry.area):
        assert abs(areas[cid] - a) < 1e-6
    summary = _rows(pg, "SELECT findings, summary->>'project', summary_text FROM results.findings_summary")
    assert summary[0][0] == len(rows) and "发现问题" in summary[0][2]

    # a second run replaces the first (not appended)
    check(config=toml, out=out)
    assert _rows(pg, "SELECT count(*) FROM results.findings")[0][0] == len(rows)

    # a run that fails half-way (text PostgreSQL cannot store) changes nothing
    broken = result.findings.copy()
    broken.loc[broken.index[-1], "message"] = "坏\x00字"
    with pytest.raises(OutputError, match="nothing was changed"):
        write_findings_postgis(broken, out)
    assert sorted(r[0] for r in _rows(pg, "SELECT case_id FROM results.findings")) == sorted(r[0] for r in rows)


def test_a_foreign_table_is_refused_before_the_run(pg, tmp_path):
    from landguard.pipeline import check

    gpkg, _ = _district_into_postgis(pg, tmp_path)
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS theirs")
        conn.execute("CREATE TABLE theirs (note text)")
        conn.execute("INSERT INTO theirs VALUES ('keep me')")
    with pytest.raises(OutputError, match="not made by landguard"):
        check(data=gpkg, out=f"{pg.url}?table=theirs")
    assert _rows(pg, "SELECT note FROM theirs") == [("keep me",)]
    check(data=gpkg, out=f"{pg.url}?table=theirs", overwrite=True)
    assert _rows(pg, "SELECT count(*) FROM theirs")[0][0] >= 4


def test_cli_out_postgresql(pg, tmp_path):
    from landguard.cli.main import cli

    gpkg, _ = _district_into_postgis(pg, tmp_path)
    res = CliRunner().invoke(cli, ["check", "--data", str(gpkg), "--out", f"{pg.url}?table=cli_findings", "-q"])
    assert res.exit_code == 0, res.output
    assert "数据库表 cli_findings" in res.output
    n = _rows(pg, "SELECT count(*) FROM cli_findings")[0][0]
    assert n >= 4
    res = CliRunner().invoke(cli, ["check", "--data", str(gpkg), "--out",
                                   f"postgresql://postgres:pw@127.0.0.1:{pg.port}/no_such_db", "-q"])
    assert res.exit_code == 2 and "cannot connect" in res.output and ":pw@" not in res.output
