--- The request log: one entry per `/v1` request, kept in memory (`GET /_mock/log`) and
-- optionally written as JSON lines to a file (`--log`). The Authorization value is
-- never stored.
-- @module helpcrunch.mock.log

local json = require "helpcrunch.mock.json"

local encode = json.encode
local ipairs, setmetatable = ipairs, setmetatable
local floor, concat = math.floor, table.concat

local M = {}

-- Remove whitespace outside strings, so a raw JSON body fits on one log line.
local function minify(s)
  if not s:find("[\r\n]") then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local q = s:find('"', i, true)
    out[#out + 1] = s:sub(i, (q or n + 1) - 1):gsub("%s+", "")
    if not q then break end
    local j = q + 1
    while true do
      local k = s:find('["\\]', j)
      if not k then j = n break end
      if s:sub(k, k) == "\\" then j = k + 2 else j = k break end
    end
    out[#out + 1] = s:sub(q, j)
    i = j + 1
  end
  return concat(out)
end

--- Encode one log entry as a JSON line (without the newline).
-- The `body` member is the request body itself when it is valid JSON.
-- @tparam table e entry
-- @treturn string
function M.encode_entry(e)
  local body = "null"
  if e.body_ok then
    body = minify(e.raw_body)
    if body:find("[\r\n]") then body = encode(e.body) end
  end
  return '{"t":' .. string.format("%.6f", e.t) .. ',"conn":' .. e.conn ..
    ',"method":' .. json.string(e.method) .. ',"path":' .. json.string(e.path) ..
    ',"target":' .. json.string(e.target or e.path) ..
    ',"query":' .. encode(e.query) .. ',"status":' .. encode(e.status) ..
    ',"auth":' .. json.string(e.auth) .. ',"fault":' .. encode(e.fault) ..
    ',"headers":' .. encode(e.headers) .. ',"body":' .. body ..
    ',"raw_body":' .. json.string(e.raw_body) .. "}"
end

local Log = {}
Log.__index = Log

--- A log keeping at most `max` entries (past it the oldest half is dropped).
-- @tparam integer max
-- @tparam[opt] file file written one line per entry
-- @treturn table log: `entries`, `dropped`
function M.new(max, file)
  return setmetatable({ entries = {}, dropped = 0, max = max, file = file }, Log)
end

--- Forget every entry (not the file's lines).
function Log:clear()
  self.entries, self.dropped = {}, 0
end

--- Record a request.
-- @tparam table req
-- @tparam table conn its connection
-- @tparam number now
-- @tparam integer|nil status what was (or would have been) sent
-- @tparam string auth "ok", "missing" or "invalid"
-- @tparam string|nil fault the fault kind
function Log:record(req, conn, now, status, auth, fault)
  local headers = req.headers
  if headers.authorization then headers.authorization = "<redacted>" end
  local body, body_ok = nil, false
  if req.body ~= "" then
    body = json.decode(req.body)
    body_ok = body ~= nil or req.body:match("^%s*null%s*$") ~= nil
  end
  local e = {
    t = now, conn = conn.id, method = req.method, path = req.path, query = req.query,
    target = req.target,
    status = status, auth = auth, fault = fault, headers = headers, body = body,
    body_ok = body_ok, raw_body = req.body,
  }
  local log = self.entries
  log[#log + 1] = e
  if #log > self.max then
    local half = floor(#log / 2)
    table.move(log, half + 1, #log, 1)
    for i = #log - half + 1, #log do log[i] = nil end
    self.dropped = self.dropped + half
  end
  if self.file then
    self.file:write(M.encode_entry(e), "\n")
  end
end

--- Every entry as one JSON array.
-- @treturn string
function Log:json()
  local out = {}
  for i, e in ipairs(self.entries) do out[i] = M.encode_entry(e) end
  return "[" .. concat(out, ",") .. "]"
end

--- Close the file, if any.
function Log:close()
  if self.file then self.file:close() self.file = nil end
end

return M
