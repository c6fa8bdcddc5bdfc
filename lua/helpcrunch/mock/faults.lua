--- Fault injection: which request gets a fault (queued ones first, then random ones
-- at `fault_rate`), the replies of faults that answer without acting on the request,
-- and what the others do to the endpoint's own reply.
-- @module helpcrunch.mock.faults

local json = require "helpcrunch.mock.json"
local ratewindow = require "helpcrunch.mock.ratewindow"
local replies = require "helpcrunch.mock.replies"
local router = require "helpcrunch.mock.router"

local null = json.null
local type, tostring, tonumber, ipairs, pairs = type, tostring, tonumber, ipairs, pairs
local floor, concat = math.floor, table.concat

local M = {}

--- Fault kinds `--fault-rate` picks among (and `--faults` may restrict to).
M.RANDOM = { "500", "502", "429", "drop", "truncate", "invalid_json" }
--- Fault kinds `POST /_mock/fault` may queue.
M.QUEUE = { "500", "502", "429", "drop", "truncate", "invalid_json", "redirect",
            "trickle", "delay", "respond", "hold" }
local KNOWN = {}
for _, k in ipairs(M.QUEUE) do KNOWN[k] = true end
-- Kinds answered without acting on the request. `drop` acts first unless `before`.
local BEFORE = { ["500"] = true, ["502"] = true, ["429"] = true, redirect = true,
                 respond = true }

local BODY_500 = replies.errors_body({ { "internal_error", "Internal server error" } })
local BODY_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" ..
  "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

--- Check a fault list.
-- @param list table of kinds or a comma-separated string
-- @tparam table allowed list of allowed kinds
-- @treturn table|nil kinds, or nil and a message
function M.parse(list, allowed)
  if list == nil or list == null then return nil end
  if type(list) == "string" then
    local t = {}
    for k in list:gmatch("[^,%s]+") do t[#t + 1] = k end
    list = t
  end
  if type(list) ~= "table" then return nil, "faults must be a list" end
  local ok = {}
  for _, k in ipairs(allowed) do ok[k] = true end
  local out = {}
  for _, k in ipairs(list) do
    k = tostring(k)
    if not ok[k] then return nil, "unknown fault kind: " .. k end
    out[#out + 1] = k
  end
  return out
end

--- A queued fault from the body of `POST /_mock/fault`.
-- @tparam table body
-- @treturn table|nil the fault, or nil and a message
function M.from_body(body)
  local kind = body.kind ~= nil and tostring(body.kind) or nil
  if not kind or not KNOWN[kind] then
    return nil, "kind must be one of " .. concat(M.QUEUE, ", ")
  end
  local count = tonumber(body.count or 1)
  if not count or count < 1 then return nil, "count must be >= 1" end
  local f = { kind = kind, count = floor(count), before = body.before == true }
  for _, k in ipairs({ "method", "path", "location", "retry_after", "delay_ms",
                       "interval_ms", "bytes", "status", "body", "content_type", "headers" }) do
    local v = body[k]
    if v ~= nil and v ~= null then f[k] = v end
  end
  if f.method then f.method = tostring(f.method):upper() end
  if f.retry_after ~= nil then
    local r, err = ratewindow.parse_retry_after(f.retry_after)
    if err then return nil, err end
    f.retry_after = r
  end
  return f
end

local function take_queued(queue, req)
  for i = 1, #queue do
    local f = queue[i]
    if (not f.method or f.method == req.method) and
       (not f.path or req.path:sub(1, #f.path) == f.path) then
      f.count = f.count - 1
      if f.count <= 0 then table.remove(queue, i) end
      return f
    end
  end
end

--- The fault for a request, if any: the first matching queued one, else a random one.
-- @tparam table mock (uses `queue`, `config`, `fault_rng`)
-- @tparam table req
-- @treturn table|nil fault `{kind, ...}`
function M.pick(mock, req)
  local f = take_queued(mock.queue, req)
  if f then return f end
  local cfg = mock.config
  if cfg.fault_rate > 0 and #cfg.faults > 0 and mock.fault_rng:float() < cfg.fault_rate then
    return { kind = cfg.faults[mock.fault_rng:int(1, #cfg.faults)] }
  end
end

--- Does the fault answer before (instead of) the endpoint?
-- @tparam table f
-- @treturn boolean
function M.answers_first(f)
  return BEFORE[f.kind] or (f.kind == "drop" and f.before) or false
end

-- A misbehaving server or proxy that echoes credentials: "{{token}}" in a queued
-- fault's body, headers or location becomes the bearer token the request carried.
local function echo(s, req)
  if type(s) ~= "string" then return s end
  local auth = req.headers and req.headers.authorization or ""
  local token = auth:match("^[Bb]earer%s+(.+)$") or auth
  return (s:gsub("{{token}}", function() return token end))
end

--- The reply of a fault that answers instead of the endpoint.
-- @tparam table mock
-- @tparam table f
-- @tparam table req
-- @treturn table reply
function M.reply(mock, f, req)
  local kind = f.kind
  if kind == "500" then
    return { status = 500, body = BODY_500 }
  elseif kind == "502" then
    return { status = 502, body = BODY_502, ctype = "text/html" }
  elseif kind == "429" then                     -- in the shape of the endpoint asked
    return { status = 429, body = router.dialect_of(req).too_many,
             headers = mock:retry_headers(1, f.retry_after) }
  elseif kind == "redirect" then
    return { status = 302, body = "",
             headers = { Location = echo(f.location, req) or req.target } }
  elseif kind == "respond" then                 -- any status and body, byte for byte
    local headers
    if type(f.headers) == "table" then
      headers = {}
      for k, v in pairs(f.headers) do headers[k] = echo(tostring(v), req) end
    end
    return { status = floor(tonumber(f.status) or 200), body = echo(f.body, req) or "",
             ctype = f.content_type, headers = headers }
  end
  return { action = "drop" }                    -- drop before acting
end

-- Break a JSON body the way seed 003 is broken: drop the second "{" (or cut it short).
local function break_json(body)
  local second = body:find("{", 2, true)
  if second then return body:sub(1, second - 1) .. body:sub(second + 1) end
  return body:sub(1, math.max(1, floor(#body / 2)))
end

--- Spoil the endpoint's reply with a fault that lets the request act.
-- @tparam table f
-- @tparam table reply (changed in place)
function M.spoil(f, reply)
  local kind = f.kind
  if kind == "drop" then
    reply.action = "drop"
  elseif kind == "truncate" then
    reply.action = "truncate"
  elseif kind == "invalid_json" then
    reply.body = break_json(reply.body)
  elseif kind == "hold" then                    -- sent on POST /_mock/release
    reply.hold = true
  elseif kind == "trickle" then
    reply.action = "trickle"
    reply.interval = (tonumber(f.interval_ms) or 200) / 1000
    reply.step = tonumber(f.bytes) or 1
  end
end

return M
