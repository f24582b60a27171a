#!/usr/bin/env bash
# One command for the side-by-side comparison: starts our broker (ASYNC_FLUSH and SYNC_FLUSH),
# the do-nothing Thrift server, NATS JetStream and Redis (AOF everysec and always) on loopback
# in a temp dir (all at once, or with FRESH=1 each alone), runs every scenario REPS times
# alternating systems, prints medians and the ratio ours/peer per scenario, and stops everything.
#   bench/compare.sh [BUILD_DIR]    env: REPS=3 SECS=5 WARMUP=2 CATCHUP=1000000 ONLY="regex of scenario names"
#                                        WARMUP: before each timed produce run, one message to every
#                                        queue, a wait until each shows it, then this many idle
#                                        seconds (mqbench --warmup)
#                                        FRESH=1: each system runs alone, started on empty data
#                                        for each scenario and stopped after it, then its data
#                                        synced and SETTLE=3 seconds waited (on this VM,
#                                        writing into page cache that was never touched costs a
#                                        host fault per page: see docs/benchmarks.md)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build-bench}" && pwd)"
REPS="${REPS:-3}"; SECS="${SECS:-5}"; WARMUP="${WARMUP:-2}"; SETTLE="${SETTLE:-3}"; CATCHUP="${CATCHUP:-1000000}"; ONLY="${ONLY:-.}"; FRESH="${FRESH:-0}"
bin="$build/bin"
for tool in mqbroker mqbench mq_null_server mqbench_nats mqbench_redis; do
  [[ -x "$bin/$tool" ]] || { echo "missing $bin/$tool: build it (ninja -C $build $tool)" >&2; exit 1; }
done
for srv in nats-server redis-server; do
  command -v "$srv" >/dev/null || { echo "missing $srv: apt-get install -y nats-server redis-server" >&2; exit 1; }
done

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup mqcompare

start_ours() {  # $1 = ASYNC_FLUSH | SYNC_FLUSH; sets PORT NSPORT PID
  local dir="$tmp/run$RUN/mq-$1"; mkdir -p "$dir"
  PORT=$(free_port); NSPORT=$(free_port)
  cat > "$dir/broker.conf" <<CONF
brokerName=bench-$1
listenPort=$PORT
brokerIP1=127.0.0.1
storePathRootDir=$dir/store
embeddedNamesrvEnable=true
namesrvListenPort=$NSPORT
namesrvAddr=127.0.0.1:$NSPORT
logLevel=warn
plugins=storage-mmap,transport-thrift
[storage-mmap]
flushDiskType=$1
CONF
  "$bin/mqbroker" -c "$dir/broker.conf" > "$dir/broker.log" 2>&1 &
  PID=$!; pids+=("$PID"); wait_port "$PORT"
}
start_redis() {  # $1 = everysec | always; sets PORT PID
  local dir="$tmp/run$RUN/redis-$1"; mkdir -p "$dir"; PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$PORT" --dir "$dir" --appendonly yes --appendfsync "$1" \
    --save "" --daemonize no --protected-mode no > "$dir/redis.log" 2>&1 &
  PID=$!; pids+=("$PID"); wait_port "$PORT"
}
# Servers are started on empty data directories (run number RUN); each start fills CMD for
# the systems it serves: system name -> command prefix (tool, server, pid).
RUN=0
declare -A CMD
start_system() {  # $1 = system name
  case "$1" in
    ours | ours-sdk)
      start_ours ASYNC_FLUSH
      CMD[ours]="$bin/mqbench --backend raw --server 127.0.0.1:$PORT --broker-pid $PID"
      CMD[ours-sdk]="$bin/mqbench --backend sdk --server 127.0.0.1:$PORT --namesrv 127.0.0.1:$NSPORT --broker-pid $PID" ;;
    ours-sync | ours-sdk-sync)
      start_ours SYNC_FLUSH
      CMD[ours-sync]="$bin/mqbench --backend raw --server 127.0.0.1:$PORT --broker-pid $PID"
      CMD[ours-sdk-sync]="$bin/mqbench --backend sdk --server 127.0.0.1:$PORT --namesrv 127.0.0.1:$NSPORT --broker-pid $PID" ;;
    null-thrift)
      PORT=$(free_port); mkdir -p "$tmp/run$RUN"
      "$bin/mq_null_server" "$PORT" > "$tmp/run$RUN/null.log" 2>&1 & PID=$!; pids+=("$PID"); wait_port "$PORT"
      # It stores nothing: the warm-up cannot wait for its queues to show a message.
      CMD[null-thrift]="$bin/mqbench --backend raw --server 127.0.0.1:$PORT --broker-pid $PID --warmup-wait 0" ;;
    nats)
      PORT=$(free_port); mkdir -p "$tmp/run$RUN/nats"
      nats-server -js -sd "$tmp/run$RUN/nats" -a 127.0.0.1 -p "$PORT" > "$tmp/run$RUN/nats.log" 2>&1 & PID=$!
      pids+=("$PID"); wait_port "$PORT"
      CMD[nats]="$bin/mqbench_nats --server nats://127.0.0.1:$PORT --broker-pid $PID" ;;
    redis-everysec | redis-always)
      start_redis "${1#redis-}"
      CMD[$1]="$bin/mqbench_redis --server 127.0.0.1:$PORT --broker-pid $PID" ;;
    *) echo "unknown system $1" >&2; exit 1 ;;
  esac
}
start_servers() {  # every system at once, sharing the machine (FRESH=0)
  RUN=$((RUN + 1))
  for system in ours ours-sync null-thrift nats redis-everysec redis-always; do start_system "$system"; done
}
# Stops every system and deletes its data.
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  rm -rf "$tmp/run$RUN"
}
# Between systems with FRESH=1: what the last one wrote is on disk and the memory it freed has
# settled, so no scenario starts in the wake of a bigger one (its write-back and freed page
# cache slowed whichever system came next: docs/benchmarks.md, round 20).
settle() {
  sync
  for _ in $(seq 1 60); do
    (( $(awk '/^(Dirty|Writeback):/ {kb += $2} END {print kb}' /proc/meminfo) < 32768 )) && break
    sleep 0.5
  done
  sleep "$SETTLE"
}
[[ "$FRESH" == 1 ]] || start_servers

# scenario|metric|systems (first = ours)|mqbench arguments after the mode. The 1,024-queue
# scenario is the 8-queue one's twin (TWIN below): on a shared machine the host's speed
# drifts by a quarter within minutes (docs/benchmarks.md, rounds 21 and 24).
SCENARIOS=(
  "async1_128B|msgs_per_s|ours-sdk ours nats redis-everysec|produce --warmup $WARMUP --send async --batch 1 --size 128 --producers 4 --window 1024 --queues 8 --duration $SECS"
  "async1_1KiB|msgs_per_s|ours-sdk ours nats redis-everysec|produce --warmup $WARMUP --send async --batch 1 --size 1024 --producers 4 --window 1024 --queues 8 --duration $SECS"
  "batch64_128B|msgs_per_s|ours nats redis-everysec|produce --warmup $WARMUP --send async --batch 64 --size 128 --producers 4 --window 16 --queues 8 --duration $SECS"
  "batch64_128B_q1024|msgs_per_s|ours nats redis-everysec|produce --warmup $WARMUP --send async --batch 64 --size 128 --producers 4 --window 16 --queues 1024 --duration $SECS"
  "batch64_1KiB|mb_per_s|ours nats redis-everysec|produce --warmup $WARMUP --send async --batch 64 --size 1024 --producers 4 --window 16 --queues 8 --duration $SECS"
  "sync16_128B|msgs_per_s|ours null-thrift nats redis-everysec|produce --warmup $WARMUP --send sync --batch 1 --size 128 --producers 16 --queues 8 --duration $SECS"
  "sync1_rtt_128B|p50_us|ours ours-sdk nats redis-everysec|produce --warmup $WARMUP --send sync --batch 1 --size 128 --producers 1 --queues 8 --duration $SECS"
  "syncflush_1KiB_async64|msgs_per_s|ours-sdk-sync ours-sync redis-always|produce --warmup $WARMUP --send async --batch 1 --size 1024 --producers 8 --window 64 --queues 8 --duration $SECS"
  "syncflush_1KiB_batch64|msgs_per_s|ours-sync redis-always|produce --warmup $WARMUP --send async --batch 64 --size 1024 --producers 4 --window 4 --queues 8 --duration $SECS"
  "e2e_10k_1KiB|p99_us|ours-sdk nats redis-everysec|e2e --consume push --send async --batch 1 --size 1024 --producers 1 --window 64 --rate 10000 --queues 8 --duration $SECS"
  "catchup_128B|msgs_per_s|ours nats redis-everysec|CATCHUP 128"
  "catchup_1KiB|msgs_per_s|ours nats redis-everysec|CATCHUP 1024"
)

results="$tmp/results.jsonl"; : > "$results"
run_one() {  # scenario system args...
  local scenario="$1" system="$2"; shift 2
  local out; out=$(${CMD[$system]} "$@" --progress 0 --label "$scenario" 2>"$tmp/last.err" | tail -1) || true
  if [[ "$out" != \{* ]]; then echo "  $scenario $system FAILED: $(tail -3 "$tmp/last.err")" >&2; return; fi
  echo "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); j['system']='$system'; j['scenario']='$scenario'; print(json.dumps(j))" >> "$results"
  echo "  $system: $out" >&2
}
# One scenario (a SCENARIOS entry) for one system in repetition $rep.
run_scenario() {  # entry system
  local name metric systems args system="$2"
  IFS='|' read -r name metric systems args <<<"$1"
  echo "-- $name" >&2
  if [[ "$FRESH" == 1 ]]; then stop_servers; settle; RUN=$((RUN + 1)); start_system "$system"; fi
  if [[ "$args" == CATCHUP* ]]; then
    local size="${args#CATCHUP }"
    ${CMD[$system]} produce --send async --batch 64 --size "$size" --producers 2 --window 16 --queues 8 \
      --messages "$CATCHUP" --topic "catchup$rep$size" --progress 0 > /dev/null 2>"$tmp/fill.err" || { echo "  fill $system failed: $(tail -2 "$tmp/fill.err")" >&2; return; }
    run_one "$name" "$system" consume --from first --queues 0 --topic "catchup$rep$size" --size "$size" \
      --messages "$CATCHUP" --duration 120
  else
    run_one "$name" "$system" $args --topic "t_${name}_$rep"
  fi
}
# A twin runs for each system right after (odd repetitions) or right before (even ones) the
# scenario it is compared with: their ratio is a target, and the host's speed drifts within
# minutes, so the two runs are adjacent and neither always goes first.
declare -A TWIN=([batch64_128B]=batch64_128B_q1024)
declare -A ENTRY
for s in "${SCENARIOS[@]}"; do ENTRY[${s%%|*}]="$s"; done
for rep in $(seq 1 "$REPS"); do
  echo "== repetition $rep/$REPS" >&2
  for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r name metric systems args <<<"$s"
    [[ "$name" =~ $ONLY ]] || continue
    twin="${TWIN[$name]:-}"
    [[ -n "$twin" && "$twin" =~ $ONLY ]] || twin=""
    # A twin whose partner also runs is run with it.
    for partner in "${!TWIN[@]}"; do
      [[ "${TWIN[$partner]}" == "$name" && "$partner" =~ $ONLY ]] && continue 2
    done
    for system in $systems; do
      if [[ -z "$twin" ]]; then
        run_scenario "$s" "$system"
      elif (( rep % 2 == 1 )); then
        run_scenario "$s" "$system"; run_scenario "${ENTRY[$twin]}" "$system"
      else
        run_scenario "${ENTRY[$twin]}" "$system"; run_scenario "$s" "$system"
      fi
    done
  done
done
cp "$results" "${RESULTS_OUT:-/tmp/mqcompare-results.jsonl}"
python3 - "$results" <<'PY'
import json, statistics, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
order = []
by = collections.defaultdict(list)
for r in rows:
    key = (r["scenario"], r["system"])
    if key not in by: order.append(key)
    by[key].append(r)
# Twins run interleaved: list each scenario's systems together, scenarios in first-run order.
first_run = {}
for (s, _) in order:
    first_run.setdefault(s, len(first_run))
order.sort(key=lambda k: first_run[k[0]])
metric = {"async1_128B": "msgs_per_s", "async1_1KiB": "msgs_per_s", "batch64_128B": "msgs_per_s",
          "batch64_1KiB": "mb_per_s", "batch64_128B_q1024": "msgs_per_s", "sync16_128B": "msgs_per_s",
          "sync1_rtt_128B": "p50_us", "syncflush_1KiB_async64": "msgs_per_s", "syncflush_1KiB_batch64": "msgs_per_s",
          "e2e_10k_1KiB": "p99_us", "catchup_128B": "msgs_per_s", "catchup_1KiB": "msgs_per_s"}
print(f"{'scenario':26} {'system':15} {'n':>2} {'msgs/s':>11} {'MB/s':>8} {'p50us':>8} {'p99us':>9} {'p999us':>9} {'cpu us/msg':>10} {'metric':>10}  ratio ours/peer")
scen_first = {}
for (s, sysname) in order:
    scen_first.setdefault(s, sysname)
for (s, sysname) in order:
    rs = by[(s, sysname)]
    med = lambda k: statistics.median([r.get(k, float('nan')) for r in rs])
    m = metric.get(s, "msgs_per_s")
    ours = statistics.median([r[m] for r in by[(s, scen_first[s])]])
    mine = med(m)
    if sysname == scen_first[s]: ratio = "-"
    else: ratio = (f"{ours/mine:.2f}" if mine > 0 else "?") + (" (lower=better)" if m.endswith("_us") else "")
    print(f"{s:26} {sysname:15} {len(rs):>2} {med('msgs_per_s'):>11,.0f} {med('mb_per_s'):>8.1f} {med('p50_us'):>8.1f} {med('p99_us'):>9.1f} {med('p999_us'):>9.1f} {med('broker_cpu_us_per_msg'):>10.2f} {m:>10}  {ratio}")
# 8 -> 1,024 queues per system: the ratio of the medians, and each repetition's own ratio
# (its two runs a few minutes apart) with their median.
pairs = [(sysname, by[("batch64_128B", sysname)], by[("batch64_128B_q1024", sysname)])
         for (s, sysname) in order if s == "batch64_128B" and ("batch64_128B_q1024", sysname) in by]
if pairs:
    print("8 -> 1,024 queues (batch64_128B_q1024 / batch64_128B, msgs/s):")
for sysname, q8, q1024 in pairs:
    a = statistics.median([r["msgs_per_s"] for r in q8])
    b = statistics.median([r["msgs_per_s"] for r in q1024])
    per_rep = [y["msgs_per_s"] / x["msgs_per_s"] for x, y in zip(q8, q1024) if x["msgs_per_s"] > 0]
    reps = " ".join(f"{v:.2f}" for v in per_rep)
    print(f"  {sysname:15} medians {b / a:.2f}; per repetition {reps}; their median {statistics.median(per_rep):.2f}")
PY
