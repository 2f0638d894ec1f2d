#!/usr/bin/env bash
# Installs, with apt-get, whatever of pgsoftdelete's build and test dependencies is missing
# (Debian 12 packages only); with --clients, those of the client matrix too (tests/clients/*/install.sh:
# Debian packages, and npm packages into tests/clients/node). Safe to run again.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libspdlog-dev libfmt-dev doctest-dev libcli11-dev libtomlplusplus-dev
  libpg-query-dev protobuf-compiler libprotobuf-dev
  libsystemd-dev libpq-dev postgresql-15 postgresql-client-15
  python3-psycopg2 systemd curl openssl
  pgbouncer haproxy
)

"$(dirname "$0")/apt-install.sh" "${packages[@]}"
# Debian's postgresql package starts a cluster of its own; the tests and the demo run theirs.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
fi

# PgBouncer and haproxy are for the deployment tests, which run their own; Debian's services (when
# systemd runs them) would hold ports 6432 and the like.
for service in pgbouncer haproxy; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" systemctl stop "$service" 2>/dev/null || true
  fi
done

# With --clients, also the drivers and ORMs of the client matrix (tests/clients/*): each folder
# installs its own. The demo does not need them; the tests do.
if [ "${1:-}" = "--clients" ]; then
  for client in "$(dirname "$0")"/../tests/clients/*/install.sh; do
    bash "$client"
  done
fi
