#!/usr/bin/env bash
# apt-install.sh WHO PKG...: install Debian packages with apt-get (as root, or via sudo), quietly.
# Shared by the tools/ensure-*.sh scripts; WHO names the caller in messages.
set -euo pipefail
who=$1; shift
[ $# -eq 0 ] && exit 0
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "$who: need root (or sudo) to install: $*" >&2
        exit 1
    fi
fi
echo "$who: installing $* with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
