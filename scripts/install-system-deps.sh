#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages madrasa-lms needs beyond Python: Pango for WeasyPrint,
# libharfbuzz-subset0 (without it every PDF renders about ten times slower) and fonts that
# cover Kyrgyz Cyrillic (ң ө ү) and Arabic script. Safe to run again: it installs only what
# is missing. Without root or sudo it says what to install and carries on; `lms doctor`
# reports the same.
#   WITH_BROWSER=1 also installs Debian's Chromium for the browser tests.
#   WITH_NGINX=1 also installs nginx, for the production-stack test with nginx in front.
set -euo pipefail

packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fontconfig)
if [ "${WITH_BROWSER:-0}" = "1" ]; then
  packages+=(chromium)
fi
if [ "${WITH_NGINX:-0}" = "1" ]; then
  packages+=(nginx)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-system-deps: not a Debian/Ubuntu system; install these yourself: ${packages[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get=(sudo apt-get)
else
  echo "install-system-deps: please run: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -qq
"${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
