#!/usr/bin/env bash
# `cmake --install` puts the binary, the configuration and the systemd unit where they belong,
# keeps an operator's configuration on a second install, and the unit passes
# `systemd-analyze verify`. Usage: install_and_unit_test.sh BUILD_DIR
set -euo pipefail
build=${1:?build dir}
dest=$(mktemp -d /tmp/pgsd-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
passed=0
failed=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}

DESTDIR="$dest" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
config_dir=$(sed -n 's/^PGSD_CONFIG_DIR:PATH=//p' "$build/CMakeCache.txt")
unit_dir=$(sed -n 's/^PGSD_UNIT_DIR:PATH=//p' "$build/CMakeCache.txt")
check "binary installed" test -x "$dest$prefix/bin/pgsoftdelete"
check "configuration installed" test -f "$dest$config_dir/pgsoftdelete.toml"
check "rules installed" test -f "$dest$config_dir/rules.toml"
check "unit installed" test -f "$dest$unit_dir/pgsoftdelete.service"
check "unit in systemd's search path" grep -qE '^(/etc/systemd/system|/usr/local/lib/systemd/system|/usr/lib/systemd/system|/lib/systemd/system)$' <<<"$unit_dir"

# The installed configuration passes its own --check (rules path relative to it).
check "installed configuration is valid" "$dest$prefix/bin/pgsoftdelete" --check --config "$dest$config_dir/pgsoftdelete.toml"

# An operator's edits survive a second install.
echo "# edited by the operator" >>"$dest$config_dir/pgsoftdelete.toml"
DESTDIR="$dest" cmake --install "$build" >/dev/null
check "configuration kept on reinstall" grep -q "edited by the operator" "$dest$config_dir/pgsoftdelete.toml"

# systemd-analyze verify needs the binary at the unit's path: point it at the installed copy.
unit="$dest/pgsoftdelete.service"
sed "s|$prefix/bin/pgsoftdelete|$dest$prefix/bin/pgsoftdelete|g; s|$config_dir|$dest$config_dir|g" \
  "$dest$unit_dir/pgsoftdelete.service" >"$unit"
out=$(systemd-analyze verify "$unit" 2>&1) && status=0 || status=$?
[ -n "$out" ] && echo "$out"
check "systemd-analyze verify exits 0" test "$status" = 0
check "systemd-analyze verify has no complaint" test -z "$out"
check "Type=notify" grep -q '^Type=notify$' "$unit"
check "reload sends SIGHUP" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit"
check "no capabilities" grep -q '^CapabilityBoundingSet=$' "$unit"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
