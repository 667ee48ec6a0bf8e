#!/bin/bash
# Run-queue wait of the portal's PostgreSQL backends and of the portals' threads during a readyz run.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "${WORKDIR:-$(mktemp -d)}"
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/partner_portal_bench}
POOL=${POOL:-8}; PATHQ=${PATHQ:-/readyz}; BIN=${BIN:-$ROOT/target/release/partner-portal}
pids=()
for i in 1 2; do
  PORTAL_ADDR=127.0.0.1:18${i}24 PORTAL_DB_POOL_SIZE=$POOL PORTAL_SCHEDULER_INTERVAL_SECS=3600 RUST_LOG=warn PORTAL_MAIL_DIR=./mail \
    $BIN serve > ./portal$i.log 2>&1 &
  pids+=($!)
done
sleep 10
# warm the pools
wrk -t1 -c16 -d2s http://127.0.0.1:18124$PATHQ >/dev/null; wrk -t1 -c16 -d2s http://127.0.0.1:18224$PATHQ > /dev/null
backends=$(psql "$DATABASE_URL" -Atc "select pid from pg_stat_activity where datname=current_database() and application_name='partner-portal'")
snap() { # sum of cpu ns, wait ns, slices over the given tasks
  awk '{c+=$1; w+=$2; n+=$3} END {printf "%d %d %d\n", c, w, n}' "$@" 2>/dev/null
}
bfiles=$(for p in $backends; do echo /proc/$p/schedstat; done)
tfiles=$(for p in "${pids[@]}"; do ls /proc/$p/task/*/schedstat; done)
b0=$(snap $bfiles); t0=$(snap $tfiles); s0=$(date +%s.%N)
wrk -t2 -c32 -d15s --latency --timeout 5s http://127.0.0.1:18124$PATHQ > wrk1.out &
w1=$!
wrk -t2 -c32 -d15s --latency --timeout 5s http://127.0.0.1:18224$PATHQ > wrk2.out &
w2=$!
wait $w1 $w2
b1=$(snap $bfiles); t1=$(snap $tfiles); s1=$(date +%s.%N)
echo "backends: $(echo $backends | wc -w)  load: $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$b0" "$b1" "$t0" "$t1" "$s0" "$s1" <<'PY'
import sys
b0,b1,t0,t1=[list(map(int,x.split())) for x in sys.argv[1:5]]
wall=float(sys.argv[6])-float(sys.argv[5])
for name,a,b in (("pg backends",b0,b1),("portal threads",t0,t1)):
    cpu=(b[0]-a[0])/1e9; wait=(b[1]-a[1])/1e9; n=b[2]-a[2]
    print(f"{name}: on cpu {cpu:.1f} s, runnable but waiting for a cpu {wait:.1f} s ({wait/max(cpu+wait,1e-9)*100:.0f}% of their runnable time), {n} slices, mean wait per slice {wait/max(n,1)*1e3:.2f} ms, over {wall:.1f} s wall")
PY
cat wrk1.out wrk2.out | grep -E '^\s+(Latency|99%)|Requests/sec'
for p in "${pids[@]}"; do kill $p; done; wait 2>/dev/null
