#!/usr/bin/env bash
# A throwaway PostgreSQL primary + streaming standby on 127.0.0.1, for the read-replica tests (tests/db/
# test_read_replica.py) and `make bench`'s replica rows. The machine's own PostgreSQL (5432) is left alone.
#
#   scripts/replica-pair.sh start   # initdb, start the primary, pg_basebackup -R, start the standby; prints the URLs
#   scripts/replica-pair.sh env     # the URLs as `export` lines (eval "$(scripts/replica-pair.sh env)")
#   scripts/replica-pair.sh stop    # stop both, remove the folders
#
# Folders under $PAIR_DIR (default /tmp/dm-replica-pair), ports $PAIR_PRIMARY_PORT / $PAIR_STANDBY_PORT (55432 /
# 55433), database $PAIR_DB (dm). Run as root, the servers run as the `postgres` OS user; run as any other user,
# as that user. Binaries from $PG_BIN, else the newest /usr/lib/postgresql/*/bin.
set -euo pipefail

DIR="${PAIR_DIR:-/tmp/dm-replica-pair}"
PRIMARY_PORT="${PAIR_PRIMARY_PORT:-55432}"
STANDBY_PORT="${PAIR_STANDBY_PORT:-55433}"
DB="${PAIR_DB:-dm}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || { echo "replica-pair: no PostgreSQL binaries (set PG_BIN)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

urls() {
  echo "export TEST_PRIMARY_URL=postgresql+asyncpg://postgres@127.0.0.1:$PRIMARY_PORT/$DB"
  echo "export TEST_READ_REPLICA_URL=postgresql+asyncpg://postgres@127.0.0.1:$STANDBY_PORT/$DB"
}

stop() {
  for node in standby primary; do
    if [ -f "$DIR/$node/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$DIR/$node" -m fast -w stop >/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

start() {
  stop
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  # Small, fast and disposable: no fsync, little memory (2-core CI machine).
  local settings=(-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=32MB
                  -c max_connections=120 -c unix_socket_directories="$DIR" -c wal_level=replica
                  -c max_wal_senders=4 -c hot_standby=on)
  as_pg "$PG_BIN/initdb" -D "$DIR/primary" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  # initdb -A trust already allows `host replication all 127.0.0.1/32 trust`; said again, in case that changes.
  echo "host replication all 127.0.0.1/32 trust" >> "$DIR/primary/pg_hba.conf"
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w -o "-p $PRIMARY_PORT ${settings[*]}" start \
    >/dev/null
  as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qAtc "CREATE DATABASE $DB" postgres
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR/standby" -R -X stream -c fast \
    --no-sync
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w -o "-p $STANDBY_PORT ${settings[*]}" start \
    >/dev/null
  # Streaming, not merely started: the primary sees its walsender.
  for _ in $(seq 1 50); do
    if [ "$(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qAtc \
          "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" postgres)" = 1 ]; then
      urls
      return 0
    fi
    sleep 0.2
  done
  echo "replica-pair: the standby is not streaming; see $DIR/standby.log" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) urls ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
