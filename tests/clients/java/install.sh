#!/usr/bin/env bash
# Installs, with apt-get, whatever the Java (pgjdbc) client checks need (Debian 12 packages only).
# Idempotent and quiet: does nothing when all are there. Called by scripts/install-deps.sh.
set -euo pipefail

packages=(default-jdk-headless libpostgresql-jdbc-java)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
