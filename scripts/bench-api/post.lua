-- wrk script for scripts/bench-api/run.sh. It sends the same GraphQL POST on every request
-- (with ID_MIN and ID_MAX set, the body's __RANDOM_ID__ becomes a random id of that range on
-- each request), and at the end prints one JSON line with the run's numbers.
--
-- Environment:
--   BODY_FILE  the request body (a JSON file), required
--   ID_MIN, ID_MAX   if set, each request's __RANDOM_ID__ is a random id in [ID_MIN, ID_MAX]
--   TOKEN      if set, sent as "Authorization: Bearer <TOKEN>" (ducha); unset for PostGraphile
--   BENCH_SERVER, BENCH_QUERY, BENCH_CONNS, BENCH_REP   labels copied into the JSON line
--
-- Every response that is not HTTP 200 is counted as non_200. This needs a response()
-- callback, which costs wrk a little CPU per response. The cost is the same for both
-- servers. run.sh has already checked each answer's body once, before the load.

local body_file = os.getenv("BODY_FILE")
if body_file == nil or body_file == "" then
  error("set BODY_FILE to the request body")
end
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
local token = os.getenv("TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

-- Set from the environment in each thread: the body around the random id, and its range.
local id_min = tonumber(os.getenv("ID_MIN") or "")
local id_max = tonumber(os.getenv("ID_MAX") or "")
local before_id, after_id = nil, nil
if id_min ~= nil and id_max ~= nil then
  local at = body:find("__RANDOM_ID__", 1, true)
  if at == nil then
    error("ID_MIN/ID_MAX set but the body has no __RANDOM_ID__")
  end
  before_id = body:sub(1, at - 1)
  after_id = body:sub(at + #"__RANDOM_ID__")
end

function init(args)
  non_200 = 0
  bench.seed()
end

if before_id ~= nil then
  function request()
    local id = math.random(id_min, id_max)
    return wrk.format(nil, nil, nil, before_id .. id .. after_id)
  end
end

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  local seconds, head = bench.head(summary)
  local e = summary.errors
  io.write(string.format(
    '{%s,"bytes":%d,"rps":%.2f,"mean_ms":%.3f,"stdev_ms":%.3f,%s,' ..
    '"errors":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"errors_status":%d,' ..
    '"non_200":%d}\n',
    head, summary.bytes, summary.requests / seconds,
    latency.mean / 1000, latency.stdev / 1000, bench.latency(latency),
    bench.errors(summary), e.connect, e.read, e.write, e.timeout, e.status,
    bench.total("non_200")))
end
