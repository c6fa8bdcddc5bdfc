--- helpcrunch.mock: a faithful, stateful local HelpCrunch customers API for tests.
--
--     local mock = require("helpcrunch.mock").new{ customers = 500, seed = 7 }
--     print(mock:listen())   --> http://127.0.0.1:PORT/v1
--     mock:run()             -- serves until the process is stopped
--
-- Most users start it as a separate process: `bin/helpcrunch-mock` or
-- `require("helpcrunch.mock.spawn").start{...}`. This module holds the state (store,
-- configuration, log, counters, rate-limit window, queued faults), decides faults, and
-- answers the `/_mock/*` admin endpoints; `helpcrunch.mock.api` answers `/v1`.
-- @module helpcrunch.mock

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local prng = require "helpcrunch.mock.prng"
local data = require "helpcrunch.mock.data"
local store_mod = require "helpcrunch.mock.store"
local search = require "helpcrunch.mock.search"
local api = require "helpcrunch.mock.api"
local http = require "helpcrunch.mock.http"

local null, encode = json.null, json.encode
local type, tostring, tonumber, ipairs, pairs = type, tostring, tonumber, ipairs, pairs
local floor, ceil, max = math.floor, math.ceil, math.max
local concat = table.concat

local M = { _VERSION = "0.1.0" }

--- Fault kinds `--fault-rate` picks among (and `--faults` may restrict to).
M.RANDOM_FAULTS = { "500", "502", "429", "drop", "truncate", "invalid_json" }
--- Fault kinds `POST /_mock/fault` may queue.
M.QUEUE_FAULTS = { "500", "502", "429", "drop", "truncate", "invalid_json", "redirect",
                   "trickle", "delay", "respond" }
local KNOWN_FAULT = {}
for _, k in ipairs(M.QUEUE_FAULTS) do KNOWN_FAULT[k] = true end
-- Kinds answered without acting on the request. `drop` acts first unless `before`.
local BEFORE = { ["500"] = true, ["502"] = true, ["429"] = true, redirect = true,
                 respond = true }

local BODY_500 = api.errors_body({ { "internal_error", "Internal server error" } })
local BODY_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" ..
  "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

M.DEFAULTS = {
  host = "127.0.0.1", port = 0, customers = 250, seed = 1, token = nil,
  rate_limit = nil, retry_after = nil, fault_rate = 0, faults = nil, churn = 0,
  delay_ms = 0, data = nil, log = nil, log_max = 100000, exit_with_parent = false,
}

--- Parse a rate limit "N/SECONDS".
-- @param v string like "120/60", or false/nil for none
-- @treturn table|nil|false `{n, per}`; false for "no limit"; nil + message when invalid
-- @treturn string|nil message
function M.parse_rate(v)
  if v == nil or v == false or v == null or v == "none" or v == "off" then return false end
  local n, per = tostring(v):match("^%s*(%d+)%s*/%s*(%d+%.?%d*)%s*$")
  n, per = tonumber(n), tonumber(per)
  if not n or n < 1 or not per or per <= 0 then
    return nil, "rate limit must look like N/SECONDS, e.g. 120/60"
  end
  return { n = n, per = per }
end

--- Parse a Retry-After setting: seconds, an HTTP-date string, or "none".
-- @param v
-- @return nil (computed), "none", an integer, or the string as given
-- @treturn string|nil message when invalid
function M.parse_retry_after(v)
  if v == nil or v == null or v == false then return nil end
  if v == "none" then return "none" end
  local n = tonumber(v)
  if n then
    if n < 0 then return nil, "retry-after must be >= 0" end
    return floor(n)
  end
  if type(v) == "string" and v ~= "" then return v end
  return nil, "retry-after must be seconds, an HTTP-date or none"
end

--- Check a fault list.
-- @param list table of kinds or a comma-separated string
-- @tparam table allowed list of allowed kinds
-- @treturn table|nil kinds, or nil and a message
function M.parse_faults(list, allowed)
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

local Mock = {}
Mock.__index = Mock

--- Create a mock (not yet listening).
-- @tparam table opts any of `M.DEFAULTS` (`customers`, `seed`, `token`, `rate_limit`
--   ("N/S"), `retry_after`, `fault_rate`, `faults`, `churn`, `delay_ms`, `data` (a file
--   name) or `customers_list` (entries), `log` (a file name), `host`, `port`, `log_max`)
-- @treturn table|nil mock, or nil and an error message
function M.new(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  local self = setmetatable({ opts = o, now = socket.gettime, conns = {} }, Mock)
  local rate, err = M.parse_rate(o.rate_limit)
  if rate == nil then return nil, err end
  local _, rerr = M.parse_retry_after(o.retry_after)
  if rerr then return nil, rerr end
  local _, ferr = M.parse_faults(o.faults, M.RANDOM_FAULTS)
  if ferr then return nil, ferr end
  if o.data then
    local entries, derr = M.load(o.data)
    if not entries then return nil, derr end
    self.file_entries = entries
  end
  if o.log then
    local f, lerr = io.open(o.log, "w")
    if not f then return nil, lerr end
    f:setvbuf("line")
    self.log_file = f
  end
  self.token = o.token
  self:reset()
  return self
end

--- Load customers from a JSON file (an array of customer objects with ids).
-- @tparam string path
-- @treturn table|nil entries, or nil and a message
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a") or f:read("*a")
  f:close()
  local list, jerr = json.decode(text)
  if type(list) ~= "table" then
    return nil, path .. ": not a JSON array of customers" .. (jerr and (": " .. jerr) or "")
  end
  local entries = {}
  for i, c in ipairs(list) do
    local e, eerr = store_mod.entry(c)
    if not e then return nil, path .. ": customer #" .. i .. ": " .. eerr end
    entries[#entries + 1] = e
  end
  return entries
end

--- Back to the startup state: data, configuration, log, counters, rate-limit window,
-- queued faults and the fault generator.
function Mock:reset()
  local o = self.opts
  local entries = self.file_entries
  if entries then
    local copies = {}
    for i, e in ipairs(entries) do
      copies[i] = { customer = data.copy(e.customer), cd_order = e.cd_order,
                    cd_list = e.cd_list, created = e.created }
    end
    entries = copies
  else
    entries = data.customers(floor(o.customers), o.seed)
  end
  self.store = store_mod.new(entries)
  self.store:warm()
  self.config = {
    rate_limit = M.parse_rate(o.rate_limit),
    retry_after = (M.parse_retry_after(o.retry_after)),
    fault_rate = tonumber(o.fault_rate) or 0,
    faults = M.parse_faults(o.faults, M.RANDOM_FAULTS) or M.RANDOM_FAULTS,
    churn = floor(tonumber(o.churn) or 0),
    delay_ms = tonumber(o.delay_ms) or 0,
  }
  self.fault_rng = prng.new(o.seed, 2)
  self.churn_rng = prng.new(o.seed, 3)
  self.window = { head = 1, tail = 0 }
  self.queue = {}
  self.search_cache, self.search_cache_n = {}, 0
  self.log, self.log_dropped = {}, 0
  self.stats = { requests = 0, connections = 0 }
  for conn in pairs(self.conns) do conn.counted = false end
end

-- Rate limit ------------------------------------------------------------------

--- Take a slot in the sliding window (never more than N requests in any SECONDS).
-- @treturn boolean ok
-- @treturn number|nil seconds until a slot frees, when not ok
function Mock:take_slot()
  local rl = self.config.rate_limit
  if not rl then return true end
  local now, w = self.now(), self.window
  local edge = now - rl.per
  while w.head <= w.tail and w[w.head] <= edge do
    w[w.head] = nil
    w.head = w.head + 1
  end
  if w.tail - w.head + 1 < rl.n then
    w.tail = w.tail + 1
    w[w.tail] = now
    return true
  end
  return false, w[w.head] + rl.per - now
end

--- The Retry-After header for a 429.
-- @tparam number|nil seconds computed wait, or nil for a fault without one
-- @param override a fault's own retry_after (takes precedence)
-- @treturn table|nil headers
function Mock:retry_headers(seconds, override)
  local v = override
  if v == nil then v = self.config.retry_after end
  if v == "none" then return nil end
  if v == nil then v = max(1, ceil((seconds or 1) - 1e-6)) end
  return { ["Retry-After"] = tostring(v) }
end

-- Search and churn --------------------------------------------------------------

--- The records a compiled search matches (cached until the store changes).
-- @tparam table q compiled query (see `helpcrunch.mock.search`)
-- @treturn table array of records
function Mock:search(q)
  local st = self.store
  local hit = self.search_cache[q.cache_key]
  if hit and hit.version == st.version then return hit.recs end
  local recs = search.run(st, q)
  if self.search_cache_n >= 16 then
    self.search_cache, self.search_cache_n = {}, 0
  end
  self.search_cache[q.cache_key] = { version = st.version, recs = recs }
  self.search_cache_n = self.search_cache_n + 1
  return recs
end

local FIELD_OF = { first = "firstSeen", last = "lastSeen" }

--- After a successful list or search page: insert `churn` customers that sort before
-- every existing customer in the order that request used.
-- @tparam string key "id", "first" or "last"
-- @tparam string dir "asc" or "desc"
-- @tparam table|nil template for search: a record that matched (copied), else generated
function Mock:after_page(key, dir, template)
  local n = self.config.churn
  if n <= 0 then return end
  local st = self.store
  local entries = {}
  local base
  if key ~= "id" and dir == "asc" then
    local first = st:ordered(key, "asc")[1]
    base = first and first[key] or 1000000000
  end
  for k = 1, n do
    local id
    if key == "id" and dir == "asc" then
      id = (st.min_id or 2) - k
      if id < 1 then break end
    else
      id = st.max_id + k
    end
    local e
    if template then
      e = { customer = data.copy(template.c), cd_order = template.cd_order,
            cd_list = template.cd_list }
      e.customer.id = id
    else
      e = data.generate(self.churn_rng, id)
    end
    e.created = floor(self.now())
    local field = FIELD_OF[key]
    if field then
      e.customer[field] = dir == "asc" and floor(base - k) or null
    end
    entries[#entries + 1] = e
  end
  if #entries > 0 then st:insert_first(entries, key, dir) end
end

-- Faults ------------------------------------------------------------------------

local function take_queued(self, req)
  local q = self.queue
  for i = 1, #q do
    local f = q[i]
    if (not f.method or f.method == req.method) and
       (not f.path or req.path:sub(1, #f.path) == f.path) then
      f.count = f.count - 1
      if f.count <= 0 then table.remove(q, i) end
      return f
    end
  end
end

function Mock:pick_fault(req)
  local f = take_queued(self, req)
  if f then return f end
  local cfg = self.config
  if cfg.fault_rate > 0 and #cfg.faults > 0 and self.fault_rng:float() < cfg.fault_rate then
    return { kind = cfg.faults[self.fault_rng:int(1, #cfg.faults)] }
  end
end

local function fault_reply(self, f, req)
  local kind = f.kind
  if kind == "500" then
    return { status = 500, body = BODY_500 }
  elseif kind == "502" then
    return { status = 502, body = BODY_502, ctype = "text/html" }
  elseif kind == "429" then
    local route = api.route(req.method, req.path) or "list"
    return { status = 429, body = api.too_many_body(route),
             headers = self:retry_headers(1, f.retry_after) }
  elseif kind == "redirect" then
    return { status = 302, body = "", headers = { Location = f.location or req.target } }
  elseif kind == "respond" then       -- any status and body, byte for byte
    return { status = floor(tonumber(f.status) or 200), body = f.body or "",
             ctype = f.content_type, headers = f.headers }
  end
  return { action = "drop" }          -- drop before acting
end

-- Break a JSON body the way seed 003 is broken: drop the second "{" (or cut it short).
local function break_json(body)
  local second = body:find("{", 2, true)
  if second then return body:sub(1, second - 1) .. body:sub(second + 1) end
  return body:sub(1, math.max(1, floor(#body / 2)))
end

-- Log -------------------------------------------------------------------------

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

function Mock:record(req, conn, status, auth, fault)
  local headers = req.headers
  if headers.authorization then headers.authorization = "<redacted>" end
  local body, body_ok = nil, false
  if req.body ~= "" then
    body = json.decode(req.body)
    body_ok = body ~= nil or req.body:match("^%s*null%s*$") ~= nil
  end
  local e = {
    t = self.now(), conn = conn.id, method = req.method, path = req.path, query = req.query,
    target = req.target,
    status = status, auth = auth, fault = fault, headers = headers, body = body,
    body_ok = body_ok, raw_body = req.body,
  }
  local log = self.log
  log[#log + 1] = e
  if #log > self.opts.log_max then
    local half = floor(#log / 2)
    table.move(log, half + 1, #log, 1)
    for i = #log - half + 1, #log do log[i] = nil end
    self.log_dropped = self.log_dropped + half
  end
  if self.log_file then
    self.log_file:write(M.encode_entry(e), "\n")
  end
end

-- Dispatch ----------------------------------------------------------------------

--- Called by the server for each complete request.
-- @tparam table req parsed request
-- @tparam table conn the connection
-- @treturn table reply for `helpcrunch.mock.http`
function Mock:dispatch(req, conn)
  if req.path:sub(1, 7) == "/_mock/" then
    return self:admin(req)
  end
  local st = self.stats
  st.requests = st.requests + 1
  if not conn.counted then
    conn.counted = true
    st.connections = st.connections + 1
  end
  local f = self:pick_fault(req)
  local kind = f and f.kind
  local reply, auth
  if f and (BEFORE[kind] or (kind == "drop" and f.before)) then
    reply = fault_reply(self, f, req)
    auth = api.auth(req, self.token)
  else
    reply, auth = api.handle(self, req)
    auth = auth or api.auth(req, self.token)
    if kind == "drop" then
      reply.action = "drop"
    elseif kind == "truncate" then
      reply.action = "truncate"
    elseif kind == "invalid_json" then
      reply.body = break_json(reply.body)
    elseif kind == "trickle" then
      reply.action = "trickle"
      reply.interval = (tonumber(f.interval_ms) or 200) / 1000
      reply.step = tonumber(f.bytes) or 1
    end
  end
  local delay = self.config.delay_ms
  if kind == "delay" then delay = delay + (tonumber(f.delay_ms) or 1000) end
  reply.delay = delay / 1000
  local status = reply.status
  if reply.action == "drop" and f.before then status = nil end
  self:record(req, conn, status, auth, kind)
  return reply
end

--- Server hook: a connection was accepted.
-- @tparam table conn
function Mock:on_connect(conn)
  self.conns[conn] = true
end

--- Server hook: a connection was closed.
-- @tparam table conn
function Mock:on_close(conn)
  self.conns[conn] = nil
end

-- Admin -----------------------------------------------------------------------

local function reply_json(status, value)
  return { status = status, body = type(value) == "string" and value or encode(value) }
end

local function admin_error(msg)
  return reply_json(400, { error = msg })
end

function Mock:config_view()
  local c = self.config
  return {
    fault_rate = c.fault_rate, faults = json.array(c.faults), delay_ms = c.delay_ms,
    churn = c.churn, retry_after = c.retry_after == nil and null or c.retry_after,
    rate_limit = c.rate_limit and (c.rate_limit.n .. "/" .. c.rate_limit.per) or false,
  }
end

function Mock:set_config(body)
  local c = self.config
  local new = {}
  if body.rate_limit ~= nil then
    local r, err = M.parse_rate(body.rate_limit)
    if r == nil then return err end
    new.rate_limit = r
  end
  if body.retry_after ~= nil then
    local r, err = M.parse_retry_after(body.retry_after)
    if err then return err end
    new.retry_after = r == nil and false or r
  end
  if body.faults ~= nil then
    local f, err = M.parse_faults(body.faults, M.RANDOM_FAULTS)
    if not f then return err or "faults must be a list" end
    new.faults = f
  end
  for _, k in ipairs({ "fault_rate", "delay_ms", "churn" }) do
    if body[k] ~= nil then
      local n = tonumber(body[k])
      if not n or n < 0 then return k .. " must be a number >= 0" end
      new[k] = n
    end
  end
  if new.fault_rate and new.fault_rate > 1 then return "fault_rate must be between 0 and 1" end
  for k, v in pairs(new) do
    if k == "retry_after" and v == false then v = nil end
    c[k] = v
  end
  if new.rate_limit ~= nil then self.window = { head = 1, tail = 0 } end
  if new.churn then c.churn = floor(new.churn) end
end

function Mock:queue_fault(body)
  local kind = body.kind ~= nil and tostring(body.kind) or nil
  if not kind or not KNOWN_FAULT[kind] then
    return "kind must be one of " .. concat(M.QUEUE_FAULTS, ", ")
  end
  local count = tonumber(body.count or 1)
  if not count or count < 1 then return "count must be >= 1" end
  local f = { kind = kind, count = floor(count), before = body.before == true }
  for _, k in ipairs({ "method", "path", "location", "retry_after", "delay_ms",
                       "interval_ms", "bytes", "status", "body", "content_type", "headers" }) do
    local v = body[k]
    if v ~= nil and v ~= null then f[k] = v end
  end
  if f.method then f.method = tostring(f.method):upper() end
  if f.retry_after ~= nil then
    local r, err = M.parse_retry_after(f.retry_after)
    if err then return err end
    f.retry_after = r
  end
  self.queue[#self.queue + 1] = f
end

function Mock:log_json()
  local out = {}
  for i, e in ipairs(self.log) do out[i] = M.encode_entry(e) end
  return "[" .. concat(out, ",") .. "]"
end

--- Answer a `/_mock/*` request (no auth, no rate limit, no log, no faults).
-- @tparam table req
-- @treturn table reply
function Mock:admin(req)
  local m, p = req.method, req.path
  if p == "/_mock/stats" and m == "GET" then
    local open = 0
    for conn in pairs(self.conns) do
      if conn.counted then open = open + 1 end
    end
    return reply_json(200, { requests = self.stats.requests,
                             connections = self.stats.connections, open = open,
                             log_dropped = self.log_dropped })
  elseif p == "/_mock/log" and m == "GET" then
    return reply_json(200, self:log_json())
  elseif p == "/_mock/log" and m == "DELETE" then
    self.log, self.log_dropped = {}, 0
    return reply_json(200, { ok = true })
  elseif p == "/_mock/reset" and m == "POST" then
    self:reset()
    return reply_json(200, { ok = true, customers = self.store:count() })
  elseif p == "/_mock/count" and m == "GET" then
    return reply_json(200, { customers = self.store:count() })
  elseif p == "/_mock/config" and (m == "GET" or m == "POST") then
    if m == "POST" then
      local body = req.body ~= "" and json.decode(req.body) or {}
      if type(body) ~= "table" then return admin_error("body must be a JSON object") end
      local err = self:set_config(body)
      if err then return admin_error(err) end
    end
    return reply_json(200, self:config_view())
  elseif p == "/_mock/fault" and m == "POST" then
    local body = json.decode(req.body)
    if type(body) ~= "table" then return admin_error("body must be a JSON object") end
    local err = self:queue_fault(body)
    if err then return admin_error(err) end
    return reply_json(200, { queued = #self.queue })
  elseif p == "/_mock/fault" and m == "DELETE" then
    self.queue = {}
    return reply_json(200, { queued = 0 })
  elseif p == "/_mock/fault" and m == "GET" then
    local list = json.array({})
    for i, f in ipairs(self.queue) do list[i] = f end
    return reply_json(200, list)
  end
  local id = p:match("^/_mock/customers/(%d+)$")
  if id and m == "GET" then
    local rec = self.store:get(tonumber(id))
    if not rec then return reply_json(404, { error = "no such customer" }) end
    return reply_json(200, store_mod.raw(rec))
  end
  return reply_json(404, { error = "unknown admin endpoint" })
end

-- Running -----------------------------------------------------------------------

--- Bind the listening socket.
-- @treturn string|nil the base URL (`http://HOST:PORT/v1`), or nil and a message
function Mock:listen()
  local server, err = http.new(self, self.opts.host, floor(tonumber(self.opts.port) or 0))
  if not server then return nil, err end
  self.server = server
  local host = self.opts.host
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  self.port = server.port
  self.url = "http://" .. host .. ":" .. server.port .. "/v1"
  return self.url
end

local function parent_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local stat = f:read("*l") or ""
  f:close()
  return tonumber(stat:match("%)%s+%S+%s+(%d+)"))
end

--- Serve until stopped (SIGINT, `exit_with_parent`, or `stop()`).
function Mock:run()
  local tick
  if self.opts.exit_with_parent then
    local ppid = parent_pid()
    if ppid then
      tick = function() return parent_pid() == ppid end
    end
  end
  self.server:run(tick)
  if self.log_file then self.log_file:close() self.log_file = nil end
end

--- Ask `run` to return after the current turn.
function Mock:stop()
  if self.server then self.server:stop() end
end

-- Command line --------------------------------------------------------------------

--- Flags of `helpcrunch-mock`: {flag, option, argument, help}.
M.FLAGS = {
  { "--host", "host", "ADDR", "address to bind (default 127.0.0.1: loopback only)" },
  { "--port", "port", "N", "port to bind; 0 (default) picks a free one, printed on the first line" },
  { "--customers", "customers", "N", "customers to generate, the seed pages' six included (default 250)" },
  { "--seed", "seed", "K", "seed of the data, fault and churn generators (default 1)" },
  { "--token", "token", "T", "accept only this bearer token (default: any non-empty token)" },
  { "--rate-limit", "rate_limit", "N/SECONDS", "sliding-window limit, e.g. 120/60 (default: off)" },
  { "--retry-after", "retry_after", "SECONDS|none",
    "Retry-After of 429s: fixed seconds, or none (default: seconds until a slot frees)" },
  { "--fault-rate", "fault_rate", "P", "chance (0..1) that a /v1 request gets a random fault (default 0)" },
  { "--faults", "faults", "KIND,KIND",
    "kinds --fault-rate picks among: 500,502,429,drop,truncate,invalid_json (default all)" },
  { "--churn", "churn", "N",
    "after each list/search page, insert N customers sorting before all others (default 0)" },
  { "--delay-ms", "delay_ms", "D", "delay every /v1 response by D milliseconds (default 0)" },
  { "--data", "data", "FILE.json", "serve the customers of this JSON array instead of generated ones" },
  { "--log", "log", "FILE", "append one JSON line per /v1 request to FILE (truncated at start)" },
  { "--log-max", "log_max", "N",
    "entries kept for GET /_mock/log (default 100000; past it the oldest half is dropped)" },
  { "--exit-with-parent", "exit_with_parent", nil, "exit when the parent process goes away (Linux; used by spawn)" },
  { "--help", "help", nil, "show this help" },
}

--- The `--help` text.
-- @treturn string
function M.usage()
  local lines = {
    "usage: helpcrunch-mock [options]",
    "",
    "A local, stateful HelpCrunch customers API for tests. The first line on stdout is",
    "'listening on http://HOST:PORT/v1'. Stop it with SIGINT (clean exit) or SIGTERM",
    "(the process ends at once; it leaves no files or children behind).",
    "",
    "options:",
  }
  for _, f in ipairs(M.FLAGS) do
    local left = "  " .. f[1] .. (f[3] and (" " .. f[3]) or "")
    lines[#lines + 1] = left .. string.rep(" ", math.max(1, 30 - #left)) .. f[4]
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "admin endpoints (no auth, not rate-limited, not logged):"
  lines[#lines + 1] = "  GET /_mock/stats, GET|DELETE /_mock/log, POST /_mock/reset, GET|POST /_mock/config,"
  lines[#lines + 1] = "  GET|POST|DELETE /_mock/fault, GET /_mock/customers/{id}, GET /_mock/count"
  return concat(lines, "\n") .. "\n"
end

local NUMERIC = { port = true, customers = true, seed = true, fault_rate = true, churn = true,
                  delay_ms = true, log_max = true }

--- Parse command-line arguments.
-- @tparam table args list of strings
-- @treturn table|nil options, or nil and a message
function M.parse_args(args)
  local by_flag = {}
  for _, f in ipairs(M.FLAGS) do by_flag[f[1]] = f end
  local o = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local f = by_flag[name]
    if not f then return nil, "unknown option: " .. a end
    if f[3] then
      local v = inline
      if v == nil then
        i = i + 1
        v = args[i]
      end
      if v == nil then return nil, name .. " needs a value (" .. f[3] .. ")" end
      if NUMERIC[f[2]] then
        local n = tonumber(v)
        if not n or n < 0 then return nil, name .. " needs a number >= 0, got " .. v end
        v = n
      end
      o[f[2]] = v
    else
      o[f[2]] = true
    end
    i = i + 1
  end
  if o.fault_rate and o.fault_rate > 1 then return nil, "--fault-rate must be between 0 and 1" end
  return o
end

--- Entry point of `bin/helpcrunch-mock`.
-- @tparam table args command-line arguments
-- @treturn integer exit status
function M.main(args)
  local o, err = M.parse_args(args or {})
  if not o then
    io.stderr:write("helpcrunch-mock: ", err, "\n", "try --help\n")
    return 2
  end
  if o.help then
    io.stdout:write(M.usage())
    return 0
  end
  local mock
  mock, err = M.new(o)
  if not mock then
    io.stderr:write("helpcrunch-mock: ", tostring(err), "\n")
    return 2
  end
  local url
  url, err = mock:listen()
  if not url then
    io.stderr:write("helpcrunch-mock: cannot listen on ", tostring(o.host or "127.0.0.1"),
                    ":", tostring(o.port or 0), ": ", tostring(err), "\n")
    return 1
  end
  -- The announcement is inside the protected call too: a SIGINT that comes
  -- as soon as the line is read must end the mock as cleanly as a later one.
  local ok, rerr = pcall(function()
    io.stdout:write("listening on ", url, "\n")
    io.stdout:flush()
    mock:run()
  end)
  if mock.server then mock.server:close() end
  if mock.log_file then mock.log_file:close() end
  if not ok then
    if tostring(rerr):find("interrupted", 1, true) then return 0 end
    io.stderr:write("helpcrunch-mock: ", tostring(rerr), "\n")
    return 1
  end
  return 0
end

return M
