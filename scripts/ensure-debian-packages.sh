#!/usr/bin/env bash
# Debian packages the project needs besides Python's: xmlsec1 (pysaml2 signs and verifies SAML
# with it), and libxmlsec1-dev, libxml2-dev and pkg-config, which the `xmlsec` Python binding
# of the tests' second SAML service provider (python3-saml) compiles against when pip finds no
# wheel for the platform; gettext, whose msgfmt compiles the translation catalogs; haproxy, the
# load balancer of the two-node test (make test-cluster). Installs
# whatever is missing; a no-op when all are there.
set -euo pipefail
need=()
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
for pkg in libxmlsec1-dev libxml2-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${need[@]}"
command -v xmlsec1 >/dev/null 2>&1 || { echo "ERROR: xmlsec1 did not install" >&2; exit 1; }
command -v msgfmt >/dev/null 2>&1 || { echo "ERROR: gettext (msgfmt) did not install" >&2; exit 1; }
[ -x /usr/sbin/haproxy ] || { echo "ERROR: haproxy did not install" >&2; exit 1; }
pkg-config --exists xmlsec1 || { echo "ERROR: libxmlsec1-dev did not install" >&2; exit 1; }
