# Shared by the bench/*.sh scripts (sourced, not run): a temp dir removed at exit with every
# process started into `pids`, a free loopback port, and waiting for a port to listen.
# Usage: source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; bench_setup <name>

bench_setup() {  # $1: name of the temp dir (/tmp/<name>.XXXXXX); sets tmp, pids
  tmp="$(mktemp -d "/tmp/$1.XXXXXX")"
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # $1: port; gives up after 15 s
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1 (see $tmp/*.log)" >&2; exit 1
}
