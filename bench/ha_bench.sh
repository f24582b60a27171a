#!/usr/bin/env bash
# Replication benchmark: a SYNC_MASTER and an ASYNC_MASTER (each with one SLAVE, ha-sync over
# loopback, one standalone name server) in the same run, in a temp dir with free ports.
#  1. sync sends (one in flight per connection, PRODUCERS connections): throughput and p50/p99
#     latency against each master, alternating, REPS times;
#  2. full load (async sends, window 64, batch 16) against each master for SECS, sampling the
#     replication lag (master log end - slave acknowledged offset, from the master's ha-sync
#     runtime keys) every 50 ms: lag p50 / p99 / max in bytes, and the slave's distance at the end.
# Prints one JSON line per run and a summary table (medians). Needs mqbroker, mqnamesrv, mqbench,
# mqadmin and the storage-mmap, transport-thrift and ha-sync plugins in BUILD_DIR.
#   bench/ha_bench.sh [BUILD_DIR]    env: REPS=3 SECS=5 PRODUCERS=16 SIZE=1024
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
REPS="${REPS:-3}"; SECS="${SECS:-5}"; PRODUCERS="${PRODUCERS:-16}"; SIZE="${SIZE:-1024}"
bin="$build/bin"
for tool in mqbroker mqnamesrv mqbench mqadmin; do
  [[ -x "$bin/$tool" ]] || { echo "missing $bin/$tool: build it (cmake --build $build --target $tool)" >&2; exit 1; }
done
[[ -f "$build/plugins/ha-sync.so" ]] || { echo "missing $build/plugins/ha-sync.so: build target ha-sync" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup mqhabench

NSPORT=$(free_port)
printf 'listenPort=%s\nplugins=transport-thrift\nlogLevel=warn\n' "$NSPORT" > "$tmp/namesrv.conf"
"$bin/mqnamesrv" -c "$tmp/namesrv.conf" > "$tmp/namesrv.log" 2>&1 & pids+=($!); wait_port "$NSPORT"
NS="127.0.0.1:$NSPORT"

start_broker() {  # $1 = name, $2 = id, $3 = role, $4 = ha port (master: listen, slave: master's); sets PORT PID
  local dir="$tmp/$1-$2"; mkdir -p "$dir"
  PORT=$(free_port)
  cat > "$dir/broker.conf" <<CONF
brokerName=$1
brokerId=$2
listenPort=$PORT
brokerIP1=127.0.0.1
storePathRootDir=$dir/store
namesrvAddr=$NS
logLevel=warn
plugins=storage-mmap,transport-thrift,ha-sync
[storage-mmap]
flushDiskType=ASYNC_FLUSH
mapedFileSizeCommitLog=268435456
[ha-sync]
brokerRole=$3
haSendHeartbeatInterval=1000
CONF
  if [[ "$3" == SLAVE ]]; then echo "haMasterAddress=127.0.0.1:$4" >> "$dir/broker.conf"; else echo "haListenPort=$4" >> "$dir/broker.conf"; fi
  "$bin/mqbroker" -c "$dir/broker.conf" > "$dir/broker.log" 2>&1 &
  PID=$!; pids+=("$PID"); wait_port "$PORT"
}

HA_SYNC=$(free_port); HA_ASYNC=$(free_port)
start_broker bench-sync 0 SYNC_MASTER "$HA_SYNC"; SYNC="127.0.0.1:$PORT"; SYNC_PID=$PID
start_broker bench-sync 1 SLAVE "$HA_SYNC"
start_broker bench-async 0 ASYNC_MASTER "$HA_ASYNC"; ASYNC="127.0.0.1:$PORT"; ASYNC_PID=$PID
start_broker bench-async 1 SLAVE "$HA_ASYNC"

# The master's lag to its slave (bytes): ha-sync's haMasterMaxOffset - haBestAckedOffset, from
# `mqadmin brokerStatus --json` ({"Broker": ..., "info": [{"Key": k, "Value": v}, ...]}); -1 if unknown.
lag_of() {
  "$bin/mqadmin" brokerStatus -n "$NS" -b "$1" --json 2>/dev/null | python3 -c '
import json, sys
try:
    info = {row["Key"]: row["Value"] for row in json.load(sys.stdin)["info"]}
    m, a = int(info["haMasterMaxOffset"]), int(info["haBestAckedOffset"])
    print(m - a if a >= 0 else -1)
except Exception:
    print(-1)'
}

# A lag sampler with one kept connection (a process per sample would take longer than the
# period on a loaded machine): prints the lag every 50 ms until killed. Uses Debian's
# python3-thrift and a client generated from the IDL into the temp dir.
PY=/usr/bin/python3
"$PY" -c 'import thrift.protocol.TBinaryProtocol' 2>/dev/null || { echo "needs python3-thrift (apt-get install python3-thrift)" >&2; exit 1; }
thrift --gen py -out "$tmp" "$root/plugins/transport-thrift/idl/mq.thrift"
cat > "$tmp/lag_sampler.py" <<'PYEOF'
import sys, time
sys.path.insert(0, sys.argv[1])
from thrift.transport import TSocket, TTransport
from thrift.protocol import TBinaryProtocol
from mq_wire import BrokerService
host, port = sys.argv[2].rsplit(":", 1)
transport = TTransport.TFramedTransport(TSocket.TSocket(host, int(port)))
client = BrokerService.Client(TBinaryProtocol.TBinaryProtocol(transport, True, True))
transport.open()
while True:
    info = client.getBrokerRuntimeInfo().info
    acked = int(info.get("haBestAckedOffset", -1))
    print(int(info["haMasterMaxOffset"]) - acked if acked >= 0 else -1, flush=True)
    time.sleep(0.05)
PYEOF

# Wait until both slaves stream (an initial sync send answers SEND_OK).
for addr in "$SYNC" "$ASYNC"; do
  for _ in $(seq 1 100); do
    [[ "$(lag_of "$addr")" != "-1" ]] && break
    sleep 0.1
  done
done

results="$tmp/results.jsonl"
run() {  # $1 = scenario, $2 = master label, rest = mqbench args
  local scenario="$1" label="$2"; shift 2
  local out
  out="$("$bin/mqbench" produce --backend raw --progress 0 --label "$scenario/$label" "$@" 2>"$tmp/mqbench.err")" ||
    { echo "mqbench failed: $(tail -3 "$tmp/mqbench.err")" >&2; exit 1; }
  echo "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); j['scenario']='$scenario'; j['master']='$label'; print(json.dumps(j))" | tee -a "$results"
}

for rep in $(seq 1 "$REPS"); do
  for m in sync async; do
    addr=$SYNC; pid=$SYNC_PID; [[ $m == async ]] && { addr=$ASYNC; pid=$ASYNC_PID; }
    run "sync-send" "$m" --server "$addr" --broker-pid "$pid" --topic "SyncSend$m" --queues 8 --send sync \
      --producers "$PRODUCERS" --size "$SIZE" --duration "$SECS"
  done
done

for rep in $(seq 1 "$REPS"); do
  for m in sync async; do
    addr=$SYNC; pid=$SYNC_PID; [[ $m == async ]] && { addr=$ASYNC; pid=$ASYNC_PID; }
    samples="$tmp/lag-$m-$rep.txt"; : > "$samples"
    "$PY" "$tmp/lag_sampler.py" "$tmp" "$addr" > "$samples" 2>"$tmp/sampler.err" & sampler=$!
    run "full-load" "$m" --server "$addr" --broker-pid "$pid" --topic "FullLoad$m" --queues 8 --send async \
      --window 64 --batch 16 --producers 2 --size "$SIZE" --duration "$SECS"
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
    end_lag="$(lag_of "$addr")"
    python3 - "$samples" "$m" "$end_lag" <<'PY' | tee -a "$results"
import json, sys
v = sorted(int(x) for x in open(sys.argv[1]) if x.strip() and int(x) >= 0)
pick = lambda q: v[min(len(v) - 1, int(q * len(v)))] if v else -1
print(json.dumps({"scenario": "lag", "master": sys.argv[2], "samples": len(v), "lag_p50_bytes": pick(0.5),
                  "lag_p99_bytes": pick(0.99), "lag_max_bytes": v[-1] if v else -1,
                  "lag_after_load_bytes": int(sys.argv[3])}))
PY
  done
done

python3 - "$results" "$REPS" "$SECS" "$PRODUCERS" "$SIZE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda rs, k: statistics.median([r[k] for r in rs if k in r]) if rs else float("nan")
print(f"\nmedians of {sys.argv[2]} runs, {sys.argv[3]} s each, {sys.argv[5]} B bodies")
print(f"{'scenario':<34}{'SYNC_MASTER':>16}{'ASYNC_MASTER':>16}")
for scen, key, label in [("sync-send", "msgs_per_s", f"sync sends x{sys.argv[4]}: msgs/s"),
                         ("sync-send", "p50_us", "  p50 latency us"),
                         ("sync-send", "p99_us", "  p99 latency us"),
                         ("sync-send", "errors", "  non-SEND_OK answers"),
                         ("full-load", "msgs_per_s", "full load (async): msgs/s"),
                         ("full-load", "errors", "  non-SEND_OK answers"),
                         ("lag", "lag_p50_bytes", "  replication lag p50 bytes"),
                         ("lag", "lag_p99_bytes", "  replication lag p99 bytes"),
                         ("lag", "lag_max_bytes", "  replication lag max bytes"),
                         ("lag", "lag_after_load_bytes", "  lag right after the load")]:
    vals = [med([r for r in rows if r["scenario"] == scen and r["master"] == m], key) for m in ("sync", "async")]
    print(f"{label:<34}{vals[0]:>16,.0f}{vals[1]:>16,.0f}")
PY
