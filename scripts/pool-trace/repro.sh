#!/bin/bash
# Two instances on one database, PORTAL_DB_POOL_SIZE=$POOL each, wrk on /readyz.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/partner-portal}
POOL=${POOL:-8}
SECS=${SECS:-20}
CONN=${CONN:-32}
PATHQ=${PATHQ:-/readyz}
cd "${WORKDIR:-$(mktemp -d)}"
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/partner_portal_bench}
pids=()
for i in 1 2; do
  PORTAL_ADDR=127.0.0.1:18${i}24 PORTAL_METRICS_ADDR=127.0.0.1:19${i}24 PORTAL_DB_POOL_SIZE=$POOL \
  PORTAL_SCHEDULER_INTERVAL_SECS=3600 RUST_LOG=${RUST_LOG:-warn} PORTAL_MAIL_DIR=./mail \
    $BIN serve > ./portal$i.log 2>&1 &
  pids+=($!)
done
for i in 1 2; do for t in $(seq 100); do curl -sf http://127.0.0.1:18${i}24/healthz >/dev/null && break; sleep 0.1; done; done
sleep ${WARM:-15}
echo "load before: $(cat /proc/loadavg)"
wrk -t2 -c$CONN -d${SECS}s --latency --timeout 5s http://127.0.0.1:18124$PATHQ > ./wrk1.out &
w1=$!
wrk -t2 -c$CONN -d${SECS}s --latency --timeout 5s http://127.0.0.1:18224$PATHQ > ./wrk2.out &
w2=$!
wait $w1 $w2
echo "load after: $(cat /proc/loadavg)"
for i in 1 2; do grep -E 'Requests/sec|50%|90%|99%|Non-2xx|Socket errors|Max' ./wrk$i.out | tr '\n' ' '; echo; done
curl -s http://127.0.0.1:19124/metrics | grep -E '^portal_db_pool|readyz",status' 
for p in "${pids[@]}"; do kill $p; done
wait 2>/dev/null
