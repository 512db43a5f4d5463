#!/usr/bin/env bash
# Browser tests drive Debian's chromium (never `playwright install`). Install it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "chromium is missing; installing Debian's package" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium
[ -x /usr/bin/chromium ] || { echo "ERROR: chromium did not install" >&2; exit 1; }
