#!/usr/bin/env bash
# Write the next Alembic migration from the difference between the models and the schema
# the existing migrations build:  scripts/new-migration.sh 0003 "curriculum versions"
# Review the generated file before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: scripts/new-migration.sh REVISION-ID "message"}
message=${2:?usage: scripts/new-migration.sh REVISION-ID "message"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LMS_INSTANCE_PATH="$tmp/instance" LMS_DATABASE_URL="sqlite:///$tmp/head.sqlite3"
.venv/bin/lms db upgrade >/dev/null 2>&1
.venv/bin/lms db migrate --rev-id "$rev" -m "$message" 2>&1 | grep -E "Detected|Generating" || true
.venv/bin/ruff format -q "lms/migrations/versions/${rev}_"*.py || true
