#!/usr/bin/env bash
# Installs the Debian 12 packages the Go (pgx v4) client checks need, those missing only.
# Called by scripts/install-deps.sh --clients.
set -euo pipefail
exec "$(dirname "$0")/../../../scripts/apt-install.sh" golang-go golang-github-jackc-pgx-v4-dev
