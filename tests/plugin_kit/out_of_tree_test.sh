#!/usr/bin/env bash
# The plugin kit end to end: install this build into a fresh prefix, build the audit example
# OUT OF TREE against it (find_package(mq) only), run the example's own tests, then start the
# INSTALLED mqbroker with the bundled plugins plus audit.so from the example's build
# (pluginDir=), send messages with the installed mqadmin and check one audit line each.
# Usage: out_of_tree_test.sh <build dir> <source dir> <generator> <c++ compiler> <build type> [launcher]
set -euo pipefail
build="$1" src="$2" generator="$3" cxx="$4" build_type="$5" launcher="${6:-}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mq-plugin-kit.XXXXXX")"
prefix="$tmp/prefix" audit_build="$tmp/audit-build" store="$tmp/store"
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then kill -KILL "$broker_pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f "$tmp/broker.log" ]] && { echo "--- broker log" >&2; tail -50 "$tmp/broker.log" >&2; }
  exit 1
}
step() { echo "== $*"; }

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install: $(tail -20 "$tmp/install.log")"
for f in bin/mqbroker bin/mqnamesrv bin/mqadmin lib/mq/plugins/storage-mmap.so lib/mq/plugins/transport-thrift.so \
         include/mq/plugin.h include/mq/testkit/fake_config.h lib/libmq_plugin_testkit.a lib/cmake/mq/mqConfig.cmake; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done

launcher_arg=()
[[ -n "$launcher" ]] && launcher_arg=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
step "every installed header compiles alone with what find_package(mq) gives"
cmake -S "$src/tests/plugin_kit/header_check" -B "$tmp/header-check" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher_arg[@]}" >"$tmp/hc.log" 2>&1 || fail "header check configure: $(cat "$tmp/hc.log")"
cmake --build "$tmp/header-check" -j2 >"$tmp/hc.log" 2>&1 || fail "header check: $(tail -40 "$tmp/hc.log")"

step "configure and build examples/plugins/audit against the installed package"
cmake -S "$src/examples/plugins/audit" -B "$audit_build" -G "$generator" -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" "${launcher_arg[@]}" >"$tmp/configure.log" 2>&1 ||
  fail "configure: $(cat "$tmp/configure.log")"
cmake --build "$audit_build" -j2 >"$tmp/build.log" 2>&1 || fail "build: $(tail -40 "$tmp/build.log")"
[[ -f "$audit_build/plugins/audit.so" ]] || fail "no $audit_build/plugins/audit.so"

step "the example's own tests"
ctest --test-dir "$audit_build" --output-on-failure -j2 >"$tmp/ctest.log" 2>&1 || fail "audit tests: $(cat "$tmp/ctest.log")"
grep -q "100% tests passed" "$tmp/ctest.log" || fail "audit tests: $(cat "$tmp/ctest.log")"

step "start the installed mqbroker with audit.so from pluginDir="
mkdir -p "$store"
audit_file="$tmp/audit.log"
cat >"$tmp/broker.conf" <<CONF
brokerClusterName=KitCluster
brokerName=broker-kit
brokerIP1=127.0.0.1
listenPort=0
embeddedNamesrvEnable=true
namesrvListenPort=0
storePathRootDir=$store
plugins=storage-mmap,transport-thrift,audit
pluginDir=$audit_build/plugins

[storage-mmap]
mapedFileSizeCommitLog=$((16 << 20))
maxHashSlotNum=5000
maxIndexNum=20000

[audit]
file=$audit_file
topics=AuditTopic
CONF
"$prefix/bin/mqbroker" -c "$tmp/broker.conf" >"$tmp/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 300); do
  [[ -s "$store/broker.port" && -s "$store/namesrv.port" ]] && break
  kill -0 "$broker_pid" 2>/dev/null || fail "mqbroker exited during start-up"
  sleep 0.1
done
[[ -s "$store/namesrv.port" ]] || fail "mqbroker wrote no port files in 30 s"
namesrv="127.0.0.1:$(cat "$store/namesrv.port")"
grep -q "loaded plugin storage-mmap .* from $prefix/lib/mq/plugins/storage-mmap.so" "$tmp/broker.log" ||
  fail "the bundled storage-mmap was not loaded from the installed plugin dir"
grep -q "loaded plugin audit .* from $audit_build/plugins/audit.so" "$tmp/broker.log" ||
  fail "audit was not loaded from pluginDir="

step "send with the installed mqadmin"
admin() { "$prefix/bin/mqadmin" "$@" -n "$namesrv"; }
send() {  # topic key: retried until the route is known (registration is asynchronous)
  for _ in $(seq 50); do
    admin sendMessage -t "$1" -p "body-$2" -k "$2" >"$tmp/send.log" 2>&1 && grep -q SEND_OK "$tmp/send.log" && return 0
    sleep 0.2
  done
  fail "sendMessage $1 $2: $(cat "$tmp/send.log")"
}
admin updateTopic -t AuditTopic -r 2 -w 2 >/dev/null || fail "updateTopic AuditTopic"
admin updateTopic -t OtherTopic -r 1 -w 1 >/dev/null || fail "updateTopic OtherTopic"
for i in 1 2 3 4; do send AuditTopic "audit-key-$i"; done
send OtherTopic other-key-1  # not in audit.topics

step "one audit line per message"
for _ in $(seq 100); do
  [[ -f "$audit_file" && "$(wc -l <"$audit_file")" -ge 4 ]] && break
  sleep 0.1
done
kill -TERM "$broker_pid"
rc=0
wait "$broker_pid" || rc=$?
broker_pid=""
[[ "$rc" -eq 0 ]] || fail "mqbroker exited with $rc after SIGTERM"
lines="$(wc -l <"$audit_file")"
[[ "$lines" -eq 4 ]] || fail "audit file has $lines lines, expected 4: $(cat "$audit_file")"
for i in 1 2 3 4; do
  [[ "$(grep -c " topic=AuditTopic .* keys=audit-key-$i bodySize=16$" "$audit_file")" -eq 1 ]] ||
    fail "no single line for audit-key-$i: $(cat "$audit_file")"
done
grep -q other-key "$audit_file" && fail "OtherTopic was audited: $(cat "$audit_file")"
echo "plugin kit works: $lines audit lines"
