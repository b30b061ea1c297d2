-- wrk script for the open-loop run: requests sent at a fixed rate, whatever the answers take
-- (wrk2's way; wrk2 is not packaged for Debian, wrk is).
--   wrk -tT -cC -dD -s bench/openloop.lua URL -- REQUESTS TOKENS RATE T
-- REQUESTS and TOKENS are bench/wrk.lua's files; each line is sent once. RATE is requests a
-- second for the whole run, shared by the T threads; each thread sends the lines n, n+T, ...
--
-- The k-th request of a thread is due at start + k / (RATE / T). A connection ready for its
-- next request waits (wrk's delay()) until the thread's next due time; when every connection
-- is busy, the request leaves late. Latency is measured from the moment the request was due,
-- not from when it left (no coordinated omission): the due time travels in the request's
-- X-Request-ID, which the service sends back. done() prints one JSON line like wrk.lua's,
-- with "late" the requests that left more than a millisecond after they were due.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clk_id, timespec *tp);
]]
local ts = ffi.new("timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC, the same clock in every thread
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local counter = 0
first = nil  -- the first due time, set in the main state and copied to each thread

function setup(thread)  -- in wrk's main state, once for each thread before it starts
  first = first or now_us() + 5e5  -- the threads' connections are made by then
  thread:set("tid", counter)
  thread:set("first", first)
  counter = counter + 1
  table.insert(threads, thread)
end

-- bench/requests.lua, beside this script
local requests = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "requests.lua")

local lines, interval, start = {}, 0, nil
local claimed, sent, answered, errors, late = 0, 0, 0, 0, 0
lat = {}        -- the latencies (ms) of this thread's answers, read by done()
statuses = ""   -- the non-2xx/3xx answers by status, "412=3 409=1"
counts = {0, 0, 0, 0, 0}  -- lines, answered, errors, late, the last answer's time (us)

function init(args)
  local n = tonumber(args[4] or "1")
  interval = 1e6 * n / tonumber(args[3])
  lines = requests.read(args[1], args[2], n, tid)
  -- thread t's requests fall between thread t-1's: together, one every 1/RATE s
  start = first + tid * 1e6 / tonumber(args[3])
  counts = {#lines, 0, 0, 0, start}
end

function delay()
  claimed = claimed + 1
  if sent >= #lines then return 3600000 end  -- all sent: this connection sends no more
  local wait = (start + (math.min(claimed, #lines) - 1) * interval - now_us()) / 1000
  if wait < 0 then return 0 end
  return math.floor(wait)
end

function request()
  if claimed == 0 then  -- wrk checks the script with one call in each thread before it runs
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  local due, now = start + (sent - 1) * interval, now_us()
  if now - due > 1000 then late = late + 1 end
  left_at[sent] = math.min(due, now)  -- a request that left early is timed from leaving
  local l = lines[sent]
  if l == nil then  -- every line sent: a connection that was waiting asks the health check
    return wrk.format("GET", "/healthz")
  end
  l[3]["X-Request-ID"] = string.format("openloop-%d-%d", tid, sent)
  return wrk.format(l[1], l[2], l[3], l[4])
end

local seen = {}
left_at = {}

function response(status, headers, body)
  local rid = headers["x-request-id"] or headers["X-Request-ID"] or ""
  local k = tonumber(rid:match("^openloop%-%d+%-(%d+)$"))
  if k ~= nil then
    answered = answered + 1
    table.insert(lat, (now_us() - left_at[k]) / 1000)
    left_at[k] = nil
  end
  if status >= 400 then
    errors = errors + 1
    seen[status] = (seen[status] or 0) + 1
    local parts = {}
    for s, v in pairs(seen) do table.insert(parts, s .. "=" .. v) end
    statuses = table.concat(parts, " ")
  end
  counts = {#lines, answered, errors, late, now_us()}
  if answered >= #lines then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local all, by_status = {}, {}
  local want, got, errs, lates, last = 0, 0, 0, 0, first
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("lat")) do table.insert(all, v) end
    local c = t:get("counts")
    want, got, errs, lates = want + c[1], got + c[2], errs + c[3], lates + c[4]
    last = math.max(last, c[5])
    local s = t:get("statuses")
    if s ~= nil and s ~= "" then table.insert(by_status, s) end
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    return all[math.min(#all, math.floor(p / 100 * #all) + 1)]
  end
  local seconds = math.max(1e-3, (last - first) / 1e6)  -- from the first due to the last answer
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"answered":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p95_ms":%.2f,' ..
    '"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"non_2xx":%d,"socket_errors":%d,"late":%d,' ..
    '"statuses":"%s"}\n',
    want, got, seconds, got / seconds, pct(50), pct(95), pct(99), all[#all] or 0,
    errs + (want - got), errs, e.connect + e.read + e.write + e.timeout, lates,
    table.concat(by_status, " ")))
end
