#!/usr/bin/env bash
# Install Debian's QGIS Python bindings (python3-qgis, QGIS 3.22 LTR on bookworm) when missing. The QGIS
# tests (tests/qgis/) run them headless with the system python: QT_QPA_PLATFORM=offscreen /usr/bin/python3.
set -euo pipefail
if /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
  exit 0
fi
echo "installing python3-qgis (Debian) ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3-qgis qgis-providers >/dev/null
