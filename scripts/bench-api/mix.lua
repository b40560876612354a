-- wrk script for scripts/bench-api/writes.sh: a share of the requests write, the rest read.
--
-- Environment:
--   WRITE_BODY_FILE  a reportProgress request body with __WRITE_ID__ where the item id goes
--   IDS_FILE         the items the writer may report on, one id a line (open, its unit's)
--   WRITE_TOKEN      the writer's token (a clerk of the unit)
--   WRITE_SHARE      the share of requests that write, 0 to 1 (1: writes only)
--   READ_BODY_FILE, READ_TOKEN, ID_MIN, ID_MAX   the read: its body, with __RANDOM_ID__ put
--                    to a random id in [ID_MIN, ID_MAX] on each request (needed when
--                    WRITE_SHARE < 1)
--   BENCH_SERVER, BENCH_QUERY, BENCH_CONNS, BENCH_REP   labels copied into the JSON line
--
-- A response counts as failed when it is not HTTP 200 or its body has GraphQL errors (the
-- reads never fail in these runs, so failures are the writes'). The JSON line at the end
-- splits the rate by the kinds sent, so that reads a second can be read off a mixed run.

local function slurp(name)
  local path = os.getenv(name)
  if path == nil or path == "" then
    return nil
  end
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local function split_at(body, marker)
  local at = body:find(marker, 1, true)
  if at == nil then
    error("the body has no " .. marker)
  end
  return body:sub(1, at - 1), body:sub(at + #marker)
end

local share = tonumber(os.getenv("WRITE_SHARE") or "1")
local write_before, write_after = split_at(assert(slurp("WRITE_BODY_FILE"), "set WRITE_BODY_FILE"), "__WRITE_ID__")
local ids = {}
for line in assert(slurp("IDS_FILE"), "set IDS_FILE"):gmatch("[^\n]+") do
  table.insert(ids, line)
end
if #ids == 0 then
  error("IDS_FILE lists no item")
end
local read_before, read_after, id_min, id_max = nil, nil, nil, nil
if share < 1 then
  read_before, read_after = split_at(assert(slurp("READ_BODY_FILE"), "set READ_BODY_FILE"), "__RANDOM_ID__")
  id_min = assert(tonumber(os.getenv("ID_MIN") or ""), "set ID_MIN")
  id_max = assert(tonumber(os.getenv("ID_MAX") or ""), "set ID_MAX")
end

wrk.method = "POST"
local write_headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("WRITE_TOKEN") or ""),
}
local read_headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("READ_TOKEN") or ""),
}

local bench = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function init(args)
  failed, writes, reads = 0, 0, 0
  bench.seed()
end

function request()
  if math.random() < share then
    writes = writes + 1
    local body = write_before .. ids[math.random(#ids)] .. write_after
    return wrk.format(nil, nil, write_headers, body)
  end
  reads = reads + 1
  return wrk.format(nil, nil, read_headers, read_before .. math.random(id_min, id_max) .. read_after)
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local seconds, head = bench.head(summary)
  local total = { failed = bench.total("failed"), writes = bench.total("writes"), reads = bench.total("reads") }
  -- Requests sent but not answered when the run ended are in writes/reads, not in
  -- summary.requests; the shares are taken from what was sent.
  local sent_total = math.max(total.writes + total.reads, 1)
  local rps = summary.requests / seconds
  io.write(string.format(
    '{%s,"rps":%.2f,"write_share_sent":%.4f,"writes_rps":%.2f,"reads_rps":%.2f,%s,' ..
    '"errors":%d,"failed":%d}\n',
    head, rps, total.writes / sent_total,
    rps * total.writes / sent_total, rps * total.reads / sent_total,
    bench.latency(latency), bench.errors(summary), total.failed))
end
