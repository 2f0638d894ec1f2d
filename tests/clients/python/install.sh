#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages the Python client tests use (psycopg 3, asyncpg,
# SQLAlchemy 1.4, Django 3.2, psycopg2), only those missing. Quiet; does nothing when all are there.
set -euo pipefail

packages=(python3 python3-psycopg python3-asyncpg python3-sqlalchemy python3-django python3-psycopg2)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get update -qq && \
       "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
