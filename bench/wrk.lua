-- wrk script for the benchmark: replays a request file written by bench/run.py.
--   wrk ... -s bench/wrk.lua -- REQUESTS TOKENS MODE
-- REQUESTS: one request a line, tab-separated: method, path, token index or "-",
--           body kind ("json", "form" or "-"), body, and an If-Match (optional).
-- TOKENS:   one bearer token a line (index 0 is the first line).
-- MODE:     "cycle" repeats the list; "once" sends each line once (an action that changes a
--           candidate's state cannot be repeated), then the thread stops.
-- Each thread takes every n-th line, so no two threads send the same line. done() prints one
-- JSON line: requests, seconds, rps, latency percentiles (ms), errors (incl. non-2xx/3xx), and
-- last_line, the highest index in REQUESTS sent (the threads' shares do not end together).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- bench/requests.lua, beside this script
local requests = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "requests.lua")

local reqs, idx, once, sent, answered, stopping, step = {}, 0, false, 0, 0, false, 1
last_line = -1  -- the index in REQUESTS of the last line this thread sent, read by done()

function init(args)
  once = args[3] == "once"
  step = tonumber(args[4] or "1")
  for _, r in ipairs(requests.read(args[1], args[2], step, tid)) do
    table.insert(reqs, wrk.format(r[1], r[2], r[3], r[4]))
  end
end

local checked = false

function request()
  if tid == 0 and not checked then
    -- wrk calls request() once in the first thread to check what it returns, before any
    -- connection sends (script_verify_request): that call must not use up a line
    checked = true
    return wrk.format("GET", "/healthz")
  end
  idx = idx + 1
  if idx > #reqs then
    if once then
      stopping = true
      return wrk.format("GET", "/healthz")  -- not counted as the scenario's work; see response
    end
    idx = 1
  end
  sent = sent + 1
  last_line = math.max(last_line, (idx - 1) * step + tid)
  return reqs[idx]
end

local seen = {}
statuses = ""  -- the non-2xx/3xx answers by status, "412=3 409=1", read by done()
first_error = ""  -- the first such answer: its status, its problem's code, an ETag it names

function response(status, headers, body)
  answered = answered + 1
  if status >= 400 then
    seen[status] = (seen[status] or 0) + 1
    local parts = {}
    for k, v in pairs(seen) do table.insert(parts, k .. "=" .. v) end
    statuses = table.concat(parts, " ")
    if first_error == "" then  -- its code, and the current ETag a 412 names (ASCII alone)
      body = body or ""
      first_error = status .. " " .. (body:match('"code":"([%w_]+)"') or "") .. " " ..
        (body:match("(%a+%-%x+%-v%d+)") or "")
    end
  end
  if once and answered >= #reqs then wrk.thread:stop() end
end

-- a Lua string as a JSON string (null for nil)
function json_string(s)
  if s == nil then return "null" end
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, latency, requests)
  local e = summary.errors
  by_status = {}
  local last, first = -1, nil
  for _, t in ipairs(threads) do
    last = math.max(last, t:get("last_line") or -1)
    local got = t:get("statuses")
    if got ~= nil and got ~= "" then table.insert(by_status, got) end
    local err = t:get("first_error")
    if first == nil and err ~= nil and err ~= "" then first = err end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,' ..
    '"max_ms":%.2f,"errors":%d,"non_2xx":%d,"socket_errors":%d,"statuses":"%s","last_line":%d,' ..
    '"first_error":%s}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, e.status,
    e.connect + e.read + e.write + e.timeout, table.concat(by_status, " "), last,
    json_string(first)))
end
