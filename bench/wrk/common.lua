-- Shared by every wrk script of `make bench`: thread ids, reading files, and one JSON line of figures.
local common = {}
local counter = 0

-- Give each wrk thread its own id (wrk calls setup() once per thread, in the main Lua state).
function common.setup(thread)
   counter = counter + 1
   thread:set("thread_id", counter)
end

function common.lines(path)
   local out = {}
   for line in io.lines(path) do
      if line ~= "" then out[#out + 1] = line end
   end
   return out
end

-- A JSON string literal (the values here are our own ASCII names, tokens and passwords).
function common.quote(s)
   return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

-- wrk calls done() once at the end: print the figures run.py reads (latencies in microseconds).
function common.done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end

return common
