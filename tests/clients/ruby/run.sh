#!/usr/bin/env bash
# ruby-pg and ActiveRecord through pgsoftdelete (see check.rb). Needs install.sh's packages and
# PGSD_HOST, PGSD_PORT, PGSD_DIRECT_PORT, PGSD_USER, PGSD_DB. Prints "PASS <n> checks" and exits
# 0 only when all held. Nothing to build.
set -euo pipefail
cd "$(dirname "$0")"

command -v ruby >/dev/null || { echo "missing ruby: run install.sh" >&2; exit 1; }
dpkg-query -W -f='${Package} ${Version}\n' ruby-pg ruby-activerecord
exec timeout 120 ruby -W0 check.rb
