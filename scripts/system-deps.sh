#!/usr/bin/env bash
# System packages eage's tests and documents need (Debian): WeasyPrint's Pango and fonts, poppler-utils
# (pdftoppm/pdftotext, to look at the PDFs) and Chromium (end-to-end tests of the Fava pages).
# Installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail
need=()
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || need+=(libharfbuzz-subset0)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -x /usr/bin/chromium ] || need+=(chromium)
check_fonts() {
  # The PDFs embed subsets of these fonts: another version of them gives other bytes than the demo's.
  local version
  version=$(dpkg-query -W -f '${Version}' fonts-dejavu-core 2>/dev/null || true)
  case "$version" in
    2.37*) ;;
    *) echo "warning: fonts-dejavu-core is '${version:-absent}', the demo's PDFs were made with 2.37: they will not rebuild byte for byte" >&2 ;;
  esac
}
if [ ${#need[@]} -eq 0 ]; then check_fonts; exit 0; fi
echo "installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
check_fonts
