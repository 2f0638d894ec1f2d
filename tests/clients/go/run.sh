#!/usr/bin/env bash
# pgx v4 through pgsoftdelete (see main.go). Needs install.sh's packages and PGSD_HOST, PGSD_PORT,
# PGSD_DIRECT_PORT, PGSD_USER, PGSD_DB. Prints "PASS <n> checks" and exits 0 only when all held.
# Builds offline in GOPATH mode against Debian's packaged pgx, into a temporary folder.
set -euo pipefail
cd "$(dirname "$0")"

command -v go >/dev/null || { echo "missing go: run install.sh" >&2; exit 1; }
echo "$(go version); $(dpkg-query -W -f='${Package} ${Version}' golang-github-jackc-pgx-v4-dev)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' GOCACHE="$tmp/cache" CGO_ENABLED=0
go build -o "$tmp/pgxcheck" main.go
timeout 120 "$tmp/pgxcheck"
