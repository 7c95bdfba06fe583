#!/usr/bin/env bash
# Install (from Debian packages) and start a PostgreSQL and a MariaDB server on loopback for
# the real-server tests of the pg-dump / mysql-dump / columns sources (docs/sql.md, "Tests
# against real servers").
#
# Idempotent: packages already installed are not reinstalled, running servers are left as
# they are. Needs root (CI and the dev machines run as root).
#
# After it succeeds, tests find the servers like this (see docs/sql.md):
#   PostgreSQL: TCP 127.0.0.1:5432 (PGHOST/PGPORT), superuser role `root` with no password
#               (trust auth on loopback), so plain `psql -d postgres` works as root.
#   MariaDB:    unix socket /run/mysqld/mysqld.sock, root authenticates by unix_socket;
#               plain `mysql` / `mysqldump` work as root. Also TCP 127.0.0.1:3306.
# Override the PostgreSQL port with SECODA_PGPORT if 5432 is taken.
set -euo pipefail

log() { printf 'setup-databases: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root (installs packages, starts servers)"; exit 2
fi

export DEBIAN_FRONTEND=noninteractive
PGPORT_WANTED="${SECODA_PGPORT:-5432}"

need=()
command -v pg_dump >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql postgresql-client)
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || need+=(mariadb-server)
command -v mysqldump >/dev/null 2>&1 || need+=(mariadb-client)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  for try in 1 2 3; do apt-get update -qq && break; log "apt-get update failed (try $try)"; sleep 5; done
  # policy-rc.d 101: keep the package scripts from starting services themselves (there is
  # no systemd in containers); this script starts them below, the same way everywhere.
  prc=/usr/sbin/policy-rc.d; had_prc=0; [ -e "$prc" ] && had_prc=1
  if [ "$had_prc" = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; fi
  for try in 1 2 3; do
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null && break
    [ "$try" = 3 ] && { log "apt-get install ${need[*]} failed"; exit 1; }
    log "apt-get install failed (try $try)"; sleep 5
  done
  if [ "$had_prc" = 0 ]; then rm -f "$prc"; fi
else
  log "postgresql and mariadb packages already installed"
fi

# ---------------------------------------------------------------- PostgreSQL
PGVER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
PGBIN="/usr/lib/postgresql/$PGVER/bin"
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$PGVER main$"; then
  log "creating PostgreSQL $PGVER cluster main"
  pg_createcluster "$PGVER" main -p "$PGPORT_WANTED" -- --auth-local=trust --auth-host=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi
CONF="/etc/postgresql/$PGVER/main"
PGPORT_REAL="$(pg_lsclusters -h | awk -v v="$PGVER" '$1==v && $2=="main" {print $3}')"
# Trust auth on the socket and loopback only: throwaway test servers, no passwords to manage.
if ! grep -q 'secoda-convert test server' "$CONF/pg_hba.conf"; then
  { echo '# secoda-convert test server: trust on loopback'
    echo 'local all all trust'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'; } > "$CONF/pg_hba.conf.new"
  cat "$CONF/pg_hba.conf" >> "$CONF/pg_hba.conf.new"
  mv "$CONF/pg_hba.conf.new" "$CONF/pg_hba.conf"
  chown postgres:postgres "$CONF/pg_hba.conf"
fi
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1==v && $2=="main" {print $4}' | grep -q online; then
  log "starting PostgreSQL $PGVER on port $PGPORT_REAL"
  mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
  pg_ctlcluster "$PGVER" main start -- -o "-c listen_addresses=127.0.0.1 -c fsync=off" || {
    tail -n 30 "/var/log/postgresql/postgresql-$PGVER-main.log" >&2 || true; exit 1; }
else
  pg_ctlcluster "$PGVER" main reload >/dev/null 2>&1 || true
fi
for _ in $(seq 1 60); do
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT_REAL" && break
  sleep 0.5
done
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT_REAL" >&2 || { log "PostgreSQL does not accept connections"; exit 1; }
su postgres -c "psql -q -p $PGPORT_REAL -h 127.0.0.1 -d postgres -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'root') THEN
    CREATE ROLE root SUPERUSER LOGIN;
  END IF;
END $$;
SQL

# ---------------------------------------------------------------- MariaDB
SOCK=/run/mysqld/mysqld.sock
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
if [ ! -d /var/lib/mysql/mysql ]; then
  log "initialising the MariaDB data directory"
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=socket >/dev/null
fi
if ! mysqladmin --socket="$SOCK" ping >/dev/null 2>&1; then
  log "starting MariaDB"
  # mysqld_safe supervises mariadbd; setsid + nohup so it outlives this shell.
  setsid nohup mysqld_safe --user=mysql --socket="$SOCK" --bind-address=127.0.0.1 --port=3306 \
    --skip-log-bin >/var/log/secoda-mariadb.log 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do
  mysqladmin --socket="$SOCK" ping >/dev/null 2>&1 && break
  sleep 0.5
done
mysqladmin --socket="$SOCK" ping >&2 || { log "MariaDB does not accept connections"; tail -n 30 /var/log/secoda-mariadb.log >&2 || true; exit 1; }
mysql --socket="$SOCK" -e "SELECT 1" >/dev/null

log "ready: PostgreSQL $PGVER at 127.0.0.1:$PGPORT_REAL (role root, trust); MariaDB $(mysql --socket="$SOCK" -N -e 'SELECT VERSION()') at $SOCK (root via unix_socket)"
