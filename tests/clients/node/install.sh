#!/usr/bin/env bash
# Installs node-postgres, pg-cursor, knex and Sequelize into tests/clients/node/node_modules from
# package-lock.json (npm ci), or from package.json when there is no lock (npm install).
# Idempotent: does nothing when node_modules was installed from the current lock/package.json.
# npm's download cache is kept in a folder here for the run and removed afterwards, so nothing is
# cached outside the clone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm not found (Node.js 18+ and npm are needed)" >&2
  exit 1
fi

# What node_modules was installed from: package.json, the lock (when there is one) and node's version.
fingerprint() {
  local files=(package.json)
  if [[ -f package-lock.json ]]; then files+=(package-lock.json); fi
  cat "${files[@]}" | sha256sum | cut -d' ' -f1
  echo "node $(node --version)"
}
want="$(fingerprint)"
stamp=node_modules/.pgsd-installed
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "node deps: up to date"
  exit 0
fi

cache="$PWD/.npm-cache"
trap 'rm -rf "$cache"' EXIT
flags=(--cache "$cache" --no-audit --no-fund --loglevel=error)
if [[ -f package-lock.json ]]; then
  npm ci "${flags[@]}"
else
  npm install "${flags[@]}"
fi
fingerprint >"$stamp"  # again: npm install may just have written the lock
echo "node deps: installed"
