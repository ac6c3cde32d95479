"""A throw-away PostgreSQL 15 + PostGIS server for the tests and the benchmarks.

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free local port (listening on 127.0.0.1 and
on a unix socket inside that folder only), ``CREATE EXTENSION postgis`` in a fresh database, and
``pg_ctl stop`` plus removal of the folder at the end. PostgreSQL refuses to run as root, so when we are
root the server runs as an unprivileged user (``nobody``) through ``runuser``.

The binaries come from Debian's ``postgresql-15-postgis-3`` (``bash tools/ensure-postgis.sh`` installs them).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PG_BIN", "PostgisServer", "missing_binaries_message", "load_frame"]

PG_BIN = Path(os.environ.get("LANDGUARD_PG_BIN", "/usr/lib/postgresql/15/bin"))
_POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
_RUN_AS = os.environ.get("LANDGUARD_PG_USER", "nobody")


def missing_binaries_message() -> str | None:
    """None when PostgreSQL 15 and PostGIS are installed, else what to run."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): run `bash tools/ensure-postgis.sh`"
    if not _POSTGIS_CONTROL.exists():
        return f"PostGIS is not installed ({_POSTGIS_CONTROL} missing): run `bash tools/ensure-postgis.sh`"
    return None


def load_frame(url: str, frame, table: str, *, srid: int | None = None, geometry_column: str = "geom",
               index: bool = True) -> None:
    """Create ``table`` at ``url`` from a GeoDataFrame (text / double / bigint / boolean / date columns, geometry
    with its SRID) by COPY, replacing any table of that name, with a GiST index on the geometry.

    Examples
    --------
    >>> # load_frame("postgresql://postgres@127.0.0.1:5432/landguard", parcels, "src.parcels")
    """
    import numpy as np
    import pandas as pd
    import psycopg
    import shapely
    from psycopg import sql

    srid = srid if srid is not None else (frame.crs.to_epsg() if frame.crs is not None else 0)
    cols, types, values = [], [], []
    for c in frame.columns:
        if c == frame.geometry.name:
            continue
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            t, v = "boolean", [None if x is None or x is pd.NA else bool(x) for x in s.astype(object)]
        elif pd.api.types.is_integer_dtype(s):
            t, v = "bigint", [None if x is pd.NA or x is None else int(x) for x in s.astype(object)]
        elif pd.api.types.is_float_dtype(s):
            t, v = "double precision", [None if x != x else float(x) for x in s.to_numpy(dtype=float)]
        elif pd.api.types.is_datetime64_any_dtype(s):
            t, v = "date", [None if pd.isna(x) else x.date() for x in s]
        else:
            t, v = "text", [None if x is None or (isinstance(x, float) and x != x) or x is pd.NA else str(x)
                            for x in s.astype(object)]
        cols.append(c)
        types.append(t)
        values.append(v)
    geoms = shapely.set_srid(np.asarray(frame.geometry.to_numpy(), dtype=object), srid)
    values.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
    with psycopg.connect(url) as conn:
        if "." in table:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.split(".")[0])))
        ident = sql.Identifier(*table.split(".", 1))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        defs = [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in zip(cols, types)]
        defs.append(sql.SQL("{} geometry(Geometry, {})").format(sql.Identifier(geometry_column), sql.Literal(srid)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(defs)))
        names = sql.SQL(", ").join(map(sql.Identifier, cols + [geometry_column]))
        with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(ident, names)) as copy:
            for row in zip(*values):
                copy.write_row(row)
        if index:
            conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(ident, sql.Identifier(geometry_column)))
            conn.execute(sql.SQL("ANALYZE {}").format(ident))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgisServer:
    """A PostgreSQL server in a temporary folder, for as long as the object is started.

    Examples
    --------
    >>> with PostgisServer() as pg:            # doctest: +SKIP
    ...     print(pg.url)                      # doctest: +SKIP
    postgresql://postgres@127.0.0.1:54321/landguard
    """

    def __init__(self, database: str = "landguard", settings: dict[str, str] | None = None):
        self.database = database
        self.settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                         "max_connections": "40", "shared_buffers": "256MB", "work_mem": "64MB",
                         "maintenance_work_mem": "256MB", **(settings or {})}
        self.root: Path | None = None
        self.port: int | None = None
        self._user: str | None = None

    # -- helpers --------------------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self._user:
            return ["runuser", "-u", self._user, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> str:
        res = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {(res.stderr or res.stdout).strip()[-800:]}")
        return res.stdout

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/DATABASE`` (trust authentication: no password)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "PostgisServer":
        problem = missing_binaries_message()
        if problem:
            raise RuntimeError(problem)
        # as root the server runs as an unprivileged user, who must reach the folder: /tmp, not a private TMPDIR
        base = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="landguard-pg-", dir=base))
        self.root.chmod(0o755)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            self._user = _RUN_AS
            pw = pwd.getpwnam(self._user)
            for p in (self.root, self.socket_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions")
        options = " ".join(["-c listen_addresses=127.0.0.1", f"-k {self.socket_dir}"] +
                           [f"-c {k}={v}" for k, v in self.settings.items()])
        last = None
        for _ in range(3):  # the port may be taken between choosing and binding it
            self.port = _free_port()
            try:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", "-l",
                          str(self.root / "server.log"), "-o", f"-p {self.port} {options}", "start")
                break
            except RuntimeError as exc:
                last = exc
        else:
            raise RuntimeError(f"PostgreSQL did not start: {last}; log: {self.log_tail()}")
        self.sql("postgres", f'CREATE DATABASE "{self.database}"')
        self.sql(self.database, "CREATE EXTENSION postgis")
        return self

    def sql(self, database: str, statement: str) -> None:
        """Run one statement as the superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.url_for(database), autocommit=True) as conn:
            conn.execute(statement)

    def load(self, frame, table: str, *, database: str | None = None, srid: int | None = None,
             geometry_column: str = "geom", index: bool = True) -> None:
        """Create ``table`` from a GeoDataFrame (see :func:`load_frame`)."""
        load_frame(self.url_for(database or self.database), frame, table, srid=srid,
                   geometry_column=geometry_column, index=index)

    def log_tail(self, n: int = 2000) -> str:
        log = self.root / "server.log" if self.root else None
        return log.read_text(errors="replace")[-n:] if log and log.exists() else ""

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def postmaster_pid(self) -> int | None:
        """Process id of the running server (for measuring its memory)."""
        pid_file = self.data_dir / "postmaster.pid" if self.root else None
        if pid_file and pid_file.exists():
            return int(pid_file.read_text().split()[0])
        return None

    def __enter__(self) -> "PostgisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
