#!/usr/bin/env bash
# Debian packages the project needs besides Python's: xmlsec1 (pysaml2 signs and verifies SAML
# with it). Installs whatever is missing; a no-op when all are there.
set -euo pipefail
need=()
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${need[@]}"
command -v xmlsec1 >/dev/null 2>&1 || { echo "ERROR: xmlsec1 did not install" >&2; exit 1; }
