#!/usr/bin/env bash
# civreg tests: a throw-away PostgreSQL 15 server in a temporary folder.
#
#   pg_cluster.sh start DIR [primary|standby PRIMARY_DIR]
#       initdb + pg_ctl start; listens only on a Unix socket in DIR (no TCP
#       port to collide with). Prints the libpq URL of database "civreg" on
#       its last line. When run as root the server runs as the `postgres`
#       system user (PostgreSQL refuses to run as root) and DIR is handed to it.
#       "standby PRIMARY_DIR": a streaming-replication standby of the server
#       in PRIMARY_DIR (pg_basebackup -R).
#   pg_cluster.sh stop DIR      pg_ctl stop -m immediate (idempotent)
#   pg_cluster.sh kill DIR      SIGKILL the postmaster (a crash)
#   pg_cluster.sh promote DIR   promote a standby
#   pg_cluster.sh url DIR       the URL again
# CIVREG_PG_CONF=FILE: appended to the new primary's postgresql.conf after
# the small settings above (later lines win), e.g.
# install/national-postgresql.conf for bench/national at the national
# tier's settings. The tests leave it unset.
# Exit 77 (skip) when the PostgreSQL 15 server binaries are absent.
set -euo pipefail

bin=${CIVREG_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: pg_cluster.sh start|stop|kill|promote|url DIR [standby PRIMARY_DIR]" >&2
    exit 2
fi
conf=${CIVREG_PG_CONF:-}
if [ "$cmd" = start ] && [ -n "$conf" ] && [ ! -r "$conf" ]; then
    echo "pg_cluster.sh: CIVREG_PG_CONF: cannot read $conf" >&2
    exit 2
fi
if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "pg_cluster.sh: PostgreSQL 15 server binaries not found in $bin (install/deps.sh installs postgresql)" >&2
    exit 77
fi

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    local user
    if [ "$(id -u)" = 0 ]; then user=postgres; else user=$(id -un); fi
    echo "postgresql:///civreg?host=$dir/sock&user=$user"
}

case "$cmd" in
start)
    mode=${3:-primary}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        # the folders above must let the postgres user through
        p=$dir
        while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    fi
    as_pg mkdir -p "$dir/sock"
    if [ "$mode" = standby ]; then
        primary=${4:?standby needs the primary folder}
        as_pg "$bin/pg_basebackup" -h "$primary/sock" -U "$( [ "$(id -u)" = 0 ] && echo postgres || id -un)" \
            -D "$dir/data" -R -X stream -c fast >/dev/null
        echo "unix_socket_directories = '$dir/sock'" | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    else
        as_pg "$bin/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 \
            -U "$( [ "$(id -u)" = 0 ] && echo postgres || id -un)" >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2; exit 1; }
        cat <<CONF | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$dir/sock'
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 4
shared_buffers = 64MB
max_connections = 40
CONF
        if [ -n "$conf" ]; then
            { echo "# from $conf"; cat "$conf"; } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
        fi
        echo "local replication all trust" | as_pg tee -a "$dir/data/pg_hba.conf" >/dev/null
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        cat "$dir/server.log" >&2; exit 1; }
    if [ "$mode" != standby ]; then
        as_pg "$bin/../bin/psql" -h "$dir/sock" -d postgres -q -c 'CREATE DATABASE civreg' >/dev/null 2>&1 ||
            as_pg /usr/bin/psql -h "$dir/sock" -d postgres -q -c 'CREATE DATABASE civreg' >/dev/null
    fi
    url
    ;;
stop)
    [ -d "$dir/data" ] || exit 0
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    ;;
kill)
    if [ -f "$dir/data/postmaster.pid" ]; then
        kill -9 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
    fi
    ;;
promote)
    as_pg "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
url)
    url
    ;;
*)
    echo "pg_cluster.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
