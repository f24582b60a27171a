#!/usr/bin/env bash
# The plugin API lock on a copy of kernel/include/mq: a recorded lock passes; a header change
# without a kPluginApiVersion bump fails (check and update both refuse, naming the file and
# the fix); after a bump the check fails until the lock is re-recorded, then passes.
# Usage: api_lock_test.sh <source dir>
set -euo pipefail
src="$1"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mq-api-lock.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/kernel/include/mq" "$tmp/mq"
lock="$tmp/plugin_api.lock"
run() { cmake -DMODE="$1" -DHEADER_DIR="$tmp/mq" -DLOCK_FILE="$lock" "${@:2}" -P "$src/cmake/plugin_api_lock.cmake" 2>&1; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_ok() { out="$(run "$@")" || fail "'$*' failed: $out"; }
expect_refused() {  # mode, text the refusal must contain
  if out="$(run "$1")"; then fail "'$1' passed but must refuse"; fi
  grep -qF -- "$2" <<<"$out" || fail "'$1' refused without '$2': $out"
}

expect_refused check "run scripts/update-plugin-api-lock"  # no lock yet
expect_ok update
grep -qE '^version=[0-9]+ sha256=[0-9a-f]{64}$' "$lock" || fail "lock has no version/sha256 line: $(cat "$lock")"
expect_ok check

version="$(sed -n 's/.*kPluginApiVersion = \([0-9]*\);.*/\1/p' "$tmp/mq/plugin.h")"
echo "struct AddedByTest {};" >> "$tmp/mq/types.h"
expect_refused check "changed: types.h"
expect_refused check "bump kPluginApiVersion in $tmp/mq/plugin.h to $((version + 1))"
expect_refused update "Bump kPluginApiVersion"

sed -i "s/kPluginApiVersion = $version;/kPluginApiVersion = $((version + 1));/" "$tmp/mq/plugin.h"
expect_refused check "was taken at version $version"  # bumped, lock not re-recorded yet
expect_ok update
grep -q "^version=$((version + 1)) " "$lock" || fail "lock not at the bumped version: $(cat "$lock")"
expect_ok check

touch "$tmp/mq/new_service.h"  # a new header is a change too
expect_refused check "added:   new_service.h"
expect_ok update -DFORCE=ON   # the explicit escape hatch re-records without a bump
expect_ok check
echo "plugin API lock behaves"
