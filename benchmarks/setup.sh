#!/usr/bin/env bash
# What benchmarks/run.py needs beyond landguard's own extras (idempotent, quiet; run as root on Debian 12).
#   - PostgreSQL 15 + PostGIS (tools/ensure-postgis.sh) for the PostGIS variant;
#   - geofileops 0.10.2, the newest that accepts Debian 12's GDAL 3.6 (0.11+ needs GDAL >= 3.8), with GDAL's
#     Python bindings built against the system library, and mod_spatialite plus pysqlite3 because a pyenv
#     Python's sqlite3 cannot load extensions;
#   - psutil (memory sampling) and pyinstrument (profiles).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
bash tools/ensure-postgis.sh
if ! command -v gdal-config >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/mod_spatialite.so ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq libgdal-dev g++ libsqlite3-mod-spatialite >/dev/null
fi
"$PY" -c "import osgeo" 2>/dev/null || "$PY" -m pip install -q "gdal==$(gdal-config --version)"
"$PY" -m pip show -q geofileops >/dev/null 2>&1 || "$PY" -m pip install -q "geofileops==0.10.2" pysqlite3-binary
"$PY" -m pip install -q psutil pyinstrument "psycopg[binary]" "dask[distributed]" dask-geopandas
