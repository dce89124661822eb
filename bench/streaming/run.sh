#!/usr/bin/env bash
# Streaming and large-reply benchmarks: Sluice beside same-run baselines. From the repo root:
#   bash bench/streaming/run.sh            (DUR=10s CONN=16 RUNS=3 by default)
# Processes: raw-backend.ts (precomputed gRPC replies), the gateway (src/entry/bun.ts, config below),
# bare-server.ts (Bun.serve writing the gateway's exact reply bytes). Clients: wrk (HTTP/1.1, with
# p99) for the 1,000-candle GetKLines reply; stream-client.ts for long streams (HTTP NDJSON through
# Sluice or the bare server, or gRPC straight from the backend).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=${BUN:-node_modules/.bin/bun}
DUR=${DUR:-10s}; CONN=${CONN:-16}; RUNS=${RUNS:-3}
B=${B_PORT:-50151}; G=${G_PORT:-18088}; S=${S_PORT:-18090}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cat > "$tmp/gw.json" <<JSON
{"listen":{"host":"127.0.0.1","port":$G},"descriptors":["$PWD/idl/descriptors.binpb"],
 "upstreams":[{"name":"bench","endpoints":["127.0.0.1:$B"]}],"services":[{"match":"*","upstream":"bench"}],
 "defaults":{"timeout":"120s"}}
JSON
$BUN bench/streaming/raw-backend.ts "$B" > "$tmp/backend.log" 2>&1 & pids+=($!)
$BUN bench/streaming/bare-server.ts "$S" > "$tmp/bare.log" 2>&1 & pids+=($!)
waitfor() { for i in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done; echo "not ready: $1"; cat "$1"; exit 1; }
waitfor "$tmp/backend.log" "raw backend on"
waitfor "$tmp/bare.log" "bare server on"
SLUICE_CONFIG="$tmp/gw.json" $BUN src/entry/bun.ts > "$tmp/gw.log" 2>&1 & pids+=($!)
waitfor "$tmp/gw.log" "listening"
curl -sf -o /dev/null "http://127.0.0.1:$G/v1/symbols/BTCUSDT/klines?interval=1m&limit=1000" || { echo "gateway cannot reach the backend"; exit 1; }

echo "# $(date -u +%FT%TZ)  $($BUN --version | sed 's/^/bun /')  $(nproc) CPUs  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## JSON encoding (in-process)"
$BUN bench/streaming/json-bench.ts
echo
KL="/v1/symbols/BTCUSDT/klines?interval=1m&limit=1000"
wrkrun() { # label url [header]
  local label=$1 url=$2; shift 2
  wrk -t1 -c"$CONN" -d2s "$@" "$url" > /dev/null # warm-up
  wrk -t1 -c"$CONN" -d"$DUR" --latency "$@" "$url" > "$tmp/wrk.txt"
  local rps p50 p99 mbs
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.txt")
  mbs=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1000} else if (v ~ /MB/) sub("MB","",v); else if (v ~ /KB/) {sub("KB","",v); v/=1000}; print v}' "$tmp/wrk.txt")
  printf "| %-40s | %9s | %9s MB/s | p50 %8s | p99 %8s |\n" "$label" "$rps" "$mbs" "$p50" "$p99"
}
echo "## GetKLines, 1,000 candles (~180 KB JSON), wrk -t1 -c$CONN -d$DUR"
echo "| path | req/s | on the wire | latency | |"
echo "|---|---|---|---|---|"
wrkrun "Sluice, identity" "http://127.0.0.1:$G$KL"
wrkrun "bare Bun.serve, same bytes, identity" "http://127.0.0.1:$S/klines"
wrkrun "Sluice, gzip" "http://127.0.0.1:$G$KL" -H "Accept-Encoding: gzip"
wrkrun "bare Bun.serve, same bytes, gzip" "http://127.0.0.1:$S/klines" -H "Accept-Encoding: gzip"
echo
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
streamrun() { # label args...
  local label=$1; shift
  local out msgs=() mbs=()
  for r in $(seq "$RUNS"); do
    out=$($BUN bench/streaming/stream-client.ts "$@")
    msgs+=("$(echo "$out" | sed 's/.*"msgPerSec":\([0-9]*\).*/\1/')")
    mbs+=("$(echo "$out" | sed 's/.*"mbPerSec":\([0-9.]*\).*/\1/')")
  done
  printf "| %-46s | %9s msg/s | %7s MB/s |\n" "$label" "$(printf '%s\n' "${msgs[@]}" | median)" "$(printf '%s\n' "${mbs[@]}" | median)"
}
echo "## Streams, one client reading as fast as it can (median of $RUNS)"
echo "| stream | messages | bytes |"
echo "|---|---|---|"
Q=200000
streamrun "quotes x$Q: Sluice NDJSON" http "http://127.0.0.1:$G/v1/symbols/BTCUSDT/quotes?count=$Q"
streamrun "quotes x$Q: bare Bun.serve, same NDJSON" http "http://127.0.0.1:$S/quotes?count=$Q"
streamrun "quotes x$Q: backend direct, gRPC (binary)" grpc "127.0.0.1:$B" /market.v1.MarketService/StreamQuotes 0a074254435553445410c09a0c
streamrun "64 KiB blobs x2000: Sluice NDJSON" http "http://127.0.0.1:$G/v1/echo:stream" '{"n":2000,"size":65536}'
streamrun "64 KiB blobs x2000: bare Bun.serve, same NDJSON" http "http://127.0.0.1:$S/blobs?n=2000&size=65536"
streamrun "64 KiB blobs x2000: backend direct, gRPC (binary)" grpc "127.0.0.1:$B" /demo.v1.EchoService/EchoStream 10d00f28808004
