#!/usr/bin/env bash
# PostgreSQL backups for certrail: a base backup, and a point-in-time restore from one plus
# the WAL archive. PostgreSQL's own tools do the work (pg_basebackup, archive_command,
# restore_command); this script only strings them together the way docs/src/several-machines.md
# describes, and the restore drill in tests/api/restore.rs runs it.
#
#   scripts/pg-backup.sh base URL DEST
#       pg_basebackup of the cluster at URL (a replication-capable role) into DEST (a new
#       directory): tar format, compressed, with the WAL needed to make it consistent streamed
#       beside it (base.tar.gz and pg_wal.tar.gz), synced to disk.
#   scripts/pg-backup.sh restore BASE ARCHIVE DATA [TARGET_TIME]
#       Unpacks the base backup BASE into the new data directory DATA and sets it to replay the
#       WAL archive ARCHIVE (what archive_command copied) up to TARGET_TIME (a timestamp with
#       time zone; the end of the archive when omitted), then promote. Start it with pg_ctl.
#
# The primary archives its WAL with, in postgresql.conf (ARCHIVE on another disk or machine):
#   archive_mode = on
#   archive_command = 'test ! -f ARCHIVE/%f && cp %p ARCHIVE/%f'
# Run as the user that owns the clusters (postgres).
set -euo pipefail

case "${1:-}" in
  base)
    url=$2 dest=$3
    pg_basebackup -d "$url" -D "$dest" -F tar -z -X stream --checkpoint=fast
    echo "base backup in $dest"
    ;;
  restore)
    base=$2 archive=$3 data=$4 target=${5:-}
    mkdir -m 700 "$data"
    tar -xzf "$base/base.tar.gz" -C "$data"
    if [ -f "$base/pg_wal.tar.gz" ]; then
      tar -xzf "$base/pg_wal.tar.gz" -C "$data/pg_wal"
    fi
    {
      echo "restore_command = 'cp $archive/%f %p'"
      if [ -n "$target" ]; then
        echo "recovery_target_time = '$target'"
      fi
      echo "recovery_target_action = 'promote'"
      # The restored server must not archive into the archive it restores from.
      echo "archive_mode = off"
    } >> "$data/postgresql.auto.conf"
    touch "$data/recovery.signal"
    echo "restore prepared in $data: start it with pg_ctl -D $data start; once it has"
    echo "promoted, set archive_mode back on (to a new archive) and take a new base backup"
    ;;
  *)
    sed -n '2,20p' "$0" >&2
    exit 2
    ;;
esac
