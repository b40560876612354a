-- What post.lua (run.sh) and mix.lua (writes.sh) share: the threads' registration, each
-- thread's random sequence, counters added up over the threads, and the fields of the JSON
-- line every run prints. Loaded with dofile from the script's own folder.
local bench = {}

-- One Lua state per thread; done() reads each thread's counters through these.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Each thread its own sequence.
function bench.seed()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

-- A global counter of every thread, added up.
function bench.total(name)
  local sum = 0
  for _, thread in ipairs(threads) do
    sum = sum + (tonumber(thread:get(name)) or 0)
  end
  return sum
end

-- A label from the environment, safe inside a JSON string.
function bench.label(name)
  local v = os.getenv(name) or ""
  return (v:gsub('[%c"\\]', ""))
end

-- The run's seconds, and the line's first fields: which run this was and how many requests.
function bench.head(summary)
  local seconds = summary.duration / 1e6
  return seconds, string.format(
    '"kind":"run","server":"%s","query":"%s","conns":%d,"rep":%d,"duration_s":%.3f,"requests":%d',
    bench.label("BENCH_SERVER"), bench.label("BENCH_QUERY"),
    tonumber(os.getenv("BENCH_CONNS")) or 0, tonumber(os.getenv("BENCH_REP")) or 0,
    seconds, summary.requests)
end

-- The latency percentiles, in milliseconds.
function bench.latency(latency)
  local ms = function(us) return us / 1000 end
  return string.format(
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f',
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max))
end

-- wrk's own errors (connect, read, write, timeout, status), all together.
function bench.errors(summary)
  local e = summary.errors
  return e.connect + e.read + e.write + e.timeout + e.status
end

return bench
