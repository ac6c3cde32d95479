#!/usr/bin/env bash
# Make sure LibreOffice Calc (headless, to print the ledger to PDF), poppler-utils (pdftotext, pdftoppm)
# and the Noto CJK fonts (embedded in the monthly report) are installed for tests/report and
# tests/analyses/test_ledger.py. Idempotent and quiet when everything is present; installs with
# apt-get (as root, or via sudo) otherwise.
set -euo pipefail

need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc)
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
    need+=(fonts-noto-cjk)
fi
[ ${#need[@]} -eq 0 ] && exit 0

bash "$(dirname "$0")/apt-install.sh" ensure-office "${need[@]}"
for cmd in soffice pdftotext pdftoppm; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "ensure-office: $cmd is still missing after installing ${need[*]}" >&2
        exit 1
    fi
done
