-- Appended to every scenario script by bench/wrk.ts: prints one machine-readable line with the
-- totals, latency percentiles and (where the scenario counts them) the status codes.
local bench_threads = {}

function setup(thread)
  table.insert(bench_threads, thread)
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(bench_threads) do
    local counted = thread:get('bench_status')
    if counted then
      for code, n in pairs(counted) do
        statuses[code] = (statuses[code] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(statuses) do
    table.insert(parts, string.format('"%s":%d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
      '"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(parts, ',')))
end
