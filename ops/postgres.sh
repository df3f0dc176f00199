#!/usr/bin/env bash
# PostgreSQL for the tests and benchmarks: Debian's server installed when missing, its cluster
# started, and reachable on 127.0.0.1 by password (POSTGRES_* override each part). Says what
# is wrong and exits non-zero when a step cannot be done.
set -uo pipefail
host=${POSTGRES_HOST:-127.0.0.1}
port=${POSTGRES_PORT:-5432}
user=${POSTGRES_USER:-postgres}
password=${POSTGRES_PASSWORD:-postgres}

fail() { echo "error: $*" >&2; exit 1; }
answers() {
  command -v psql >/dev/null 2>&1 &&
    PGPASSWORD=$password PGCONNECT_TIMEOUT=3 psql -h "$host" -p "$port" -U "$user" -d postgres \
      -Atqc 'SELECT 1' >/dev/null 2>&1
}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "installing or starting PostgreSQL needs root (or sudo): run 'make test' as root, or start a PostgreSQL yourself and set POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD"
  fi
}

answers && exit 0
case "$host" in
  127.0.0.1|localhost) ;;
  *) fail "PostgreSQL at $host:$port does not answer for user $user" ;;
esac

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "Installing PostgreSQL (Debian's postgresql package)..."
  as_root apt-get update -qq || fail "apt-get update failed: is Debian's package registry reachable?"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || fail "apt-get install postgresql failed"
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$version main"; then
  as_root pg_createcluster --port "$port" "$version" main >/dev/null \
    || fail "could not create the PostgreSQL $version cluster"
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || fail "could not start the PostgreSQL $version cluster (see /var/log/postgresql)"
fi
for _ in $(seq 60); do
  pg_isready -q -h "$host" -p "$port" && break
  sleep 0.5
done
# Debian's cluster lets its own OS user in by socket; the tests come by TCP with a password.
if [ "$user" = postgres ]; then
  as_root runuser -u postgres -- psql -p "$port" -qc "ALTER ROLE postgres PASSWORD '$password'" \
    >/dev/null || fail "could not set the password of PostgreSQL's postgres role"
fi
answers || fail "PostgreSQL $version was started but does not answer on $host:$port for $user"
echo "PostgreSQL $version answers on $host:$port"
