#!/usr/bin/env bash
# Installs the Debian 12 packages the Java (pgjdbc) client checks need, those missing only.
# Called by scripts/install-deps.sh --clients.
set -euo pipefail
exec "$(dirname "$0")/../../../scripts/apt-install.sh" default-jdk-headless libpostgresql-jdbc-java
