#!/usr/bin/env bash
# Development only, until the first release: rebuild migration 0001 (the whole schema) from
# the models. After a release, schema changes get new migrations (`lms db migrate`) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
versions=lms/migrations/versions
mkdir -p "$tmp/keep"
for f in "$versions"/*.py; do
  case "$(basename "$f")" in 0001_*) rm -f "$f" ;; *) mv "$f" "$tmp/keep/" ;; esac
done
LMS_INSTANCE_PATH="$tmp/instance" LMS_DATABASE_URL="sqlite:///$tmp/empty.sqlite3" \
  .venv/bin/lms db migrate --rev-id 0001 -m "initial schema" >/dev/null 2>&1
mv "$tmp"/keep/*.py "$versions/" 2>/dev/null || true
.venv/bin/ruff format -q "$versions" || true
echo "regenerated $versions/0001_initial_schema.py"
