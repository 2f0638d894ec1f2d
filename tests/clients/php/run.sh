#!/usr/bin/env bash
# PDO pgsql and Laravel's database layer through pgsoftdelete (see check.php). Needs install.sh's
# packages and PGSD_HOST, PGSD_PORT, PGSD_DIRECT_PORT, PGSD_USER, PGSD_DB. Prints "PASS <n> checks"
# and exits 0 only when all held. Nothing to build.
set -euo pipefail
cd "$(dirname "$0")"

command -v php >/dev/null || { echo "missing php: run install.sh" >&2; exit 1; }
dpkg-query -W -f='${Package} ${Version}\n' php-cli php-pgsql php-laravel-framework
exec timeout 120 php -d display_errors=stderr -d log_errors=0 -d error_reporting=E_ALL -d include_path=.:/usr/share/php check.php
