#!/bin/sh
# Nightly backup of Madrasa LMS: `lms backup` into BACKUP_DIR, then delete the backups
# older than BACKUP_KEEP_DAYS days. Run by lms-backup.service (lms-backup.timer), or cron:
#   /etc/cron.d/lms-backup:  30 2 * * * lms /opt/lms/src/deploy/backup.sh 2>&1 | logger -t lms-backup
#
# Settings (environment; defaults in brackets):
#   BACKUP_DIR           where backups go [/var/backups/lms]
#   BACKUP_KEEP_DAYS     days of backups kept [14]
#   BACKUP_ENV_FILE      the LMS settings, read when LMS_DATABASE_URL is not set [/etc/lms/lms.env]
#   BACKUP_LMS           the lms command [/opt/lms/venv/bin/lms]
#   BACKUP_RSYNC_TARGET  optional: rsync the folder there afterwards (another machine:
#                        user@host:/path; a backup on the same disk is not a backup)
#
# Old backups are deleted only after a new one succeeded, so a failing night never eats
# into the ones kept. Restore with `lms restore FILE` (docs/deploy.md, "Backups").
set -eu

BACKUP_ENV_FILE=${BACKUP_ENV_FILE:-/etc/lms/lms.env}
if [ -z "${LMS_DATABASE_URL:-}" ] && [ -r "$BACKUP_ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$BACKUP_ENV_FILE"
    set +a
fi
BACKUP_DIR=${BACKUP_DIR:-/var/backups/lms}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
BACKUP_LMS=${BACKUP_LMS:-/opt/lms/venv/bin/lms}

case "$BACKUP_KEEP_DAYS" in
    '' | *[!0-9]*) BACKUP_KEEP_DAYS=0 ;;
esac
if [ "$BACKUP_KEEP_DAYS" -lt 1 ]; then
    echo "BACKUP_KEEP_DAYS must be a number of days, 1 or more" >&2
    exit 2
fi

# Backups hold personal data and password hashes: only their owner may read them.
umask 077
mkdir -p "$BACKUP_DIR"

"$BACKUP_LMS" backup "$BACKUP_DIR"

# Only this script's files (lms-YYYYmmdd-HHMMSS.*), older than the retention period.
find "$BACKUP_DIR" -maxdepth 1 -type f \
    \( -name 'lms-*.sqlite3' -o -name 'lms-*.pgdump' -o -name 'lms-*.manifest.json' \) \
    -mtime +"$((BACKUP_KEEP_DAYS - 1))" -print -delete

if [ -n "${BACKUP_RSYNC_TARGET:-}" ]; then
    rsync -a --delete "$BACKUP_DIR"/ "$BACKUP_RSYNC_TARGET"
fi
