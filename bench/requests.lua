-- The request files of bench/wrk.lua and bench/openloop.lua, read the same way by both.
-- REQUESTS: one request a line, tab-separated: method, path, token index or "-", body kind
-- ("json", "form" or "-"), body, and an If-Match (optional). TOKENS: one bearer token a line.
local M = {}

local function split(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(out, field) end
  return out
end

-- The lines i of REQUESTS with i % n == tid (each of n threads takes every n-th line), as
-- {method, path, headers, body}.
function M.read(requests, tokens_file, n, tid)
  local tokens, out, i = {}, {}, 0
  for line in io.lines(tokens_file) do table.insert(tokens, line) end
  for line in io.lines(requests) do
    if i % n == tid then
      local f = split(line)
      local headers = {}
      if f[3] ~= "-" then headers["Authorization"] = "Bearer " .. tokens[tonumber(f[3]) + 1] end
      if f[4] == "json" then headers["Content-Type"] = "application/json" end
      if f[4] == "form" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
      if f[6] ~= nil and f[6] ~= "" then headers["If-Match"] = f[6] end
      local body = nil
      if f[4] ~= "-" then body = f[5] end
      table.insert(out, {f[1], f[2], headers, body})
    end
    i = i + 1
  end
  return out
end

return M
