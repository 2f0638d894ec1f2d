#!/usr/bin/env bash
# Installs the Debian 12 packages the Python client checks (psycopg 3, asyncpg, SQLAlchemy 1.4, Django 3.2, psycopg2) need, those missing only.
# Called by scripts/install-deps.sh --clients.
set -euo pipefail
exec "$(dirname "$0")/../../../scripts/apt-install.sh" python3 python3-psycopg python3-asyncpg python3-sqlalchemy python3-django python3-psycopg2
