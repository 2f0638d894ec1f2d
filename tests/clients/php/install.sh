#!/usr/bin/env bash
# Installs the Debian 12 packages the PHP (PDO pgsql, Laravel's query builder) client checks need, those missing only.
# Called by scripts/install-deps.sh --clients.
set -euo pipefail
exec "$(dirname "$0")/../../../scripts/apt-install.sh" php-cli php-pgsql php-laravel-framework
