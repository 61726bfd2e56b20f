#!/usr/bin/env bash
# Installs axe-core (from the npm registry, pinned in tests/e2e/package-lock.json) for the
# accessibility checks of the browser tests, when those can run: Chromium is installed or
# WITH_BROWSER=1. Safe to run again: it installs only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e"

if [ "${WITH_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-browser-deps: npm is missing, so the browser tests will be skipped (apt-get install npm)" >&2
  exit 0
fi
stamp=node_modules/.installed-stamp
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
