#!/usr/bin/env bash
# Make sure headless Chromium (Debian's `chromium`) and a Chinese font are installed for the
# browser tests (tests/maps/test_browser.py drives /usr/bin/chromium with Playwright).
# Idempotent and quiet when everything is present; installs with apt-get (as root, or via sudo) otherwise.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
# Chinese labels in screenshots need a CJK font; the maps themselves do not.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    need+=(fonts-wqy-microhei)
fi
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "ensure-chromium: need root (or sudo) to install: ${need[*]}" >&2
        exit 1
    fi
fi
echo "ensure-chromium: installing ${need[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if ! [ -x /usr/bin/chromium ]; then
    echo "ensure-chromium: /usr/bin/chromium is still missing after installing ${need[*]}" >&2
    exit 1
fi
