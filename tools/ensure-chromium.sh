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

bash "$(dirname "$0")/apt-install.sh" ensure-chromium "${need[@]}"
if ! [ -x /usr/bin/chromium ]; then
    echo "ensure-chromium: /usr/bin/chromium is still missing after installing ${need[*]}" >&2
    exit 1
fi
