-- wrk script: POST a JSON body (BENCH_BODY env, default a small EchoRequest; BENCH_METHOD=GET for none) and print one JSON line
-- with the figures the runner reads. wrk's own percentiles are per-thread merged, in microseconds.
wrk.method = os.getenv("BENCH_METHOD") or "POST"
if wrk.method == "POST" then
  local body = os.getenv("BENCH_BODY")
  if body == nil or body == "" then body = '{"text":"hello","n":"42"}' end
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
