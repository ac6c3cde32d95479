#!/usr/bin/env bash
# Install PostgreSQL 15 with PostGIS 3 from Debian when missing. The tests start their own throw-away
# server on a free local port (tests/postgis_server.py); nothing is started here.
set -euo pipefail
if [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -f /usr/share/postgresql/15/extension/postgis.control ]; then
  exit 0
fi
echo "installing postgresql-15-postgis-3 (Debian) ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 >/dev/null
