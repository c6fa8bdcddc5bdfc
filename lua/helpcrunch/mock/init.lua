--- helpcrunch.mock: a faithful, stateful local HelpCrunch API for tests.
--
--     local mock = require("helpcrunch.mock").new{ customers = 500, seed = 7 }
--     print(mock:listen())   --> http://127.0.0.1:PORT/v1
--     mock:run()             -- serves until the process is stopped
--
-- Most users start it as a separate process: `bin/helpcrunch-mock` or
-- `require("helpcrunch.mock.spawn").start{...}`.
--
-- How it is built, one file per concern (all under helpcrunch/mock/):
--
--     init.lua        this file: the mock's state (store, configuration, log, counters,
--                     rate-limit window, fault queue) and the dispatch of one request
--     http.lua        the HTTP/1.1 server (one socket.select loop, timed replies)
--     router.lua      the /v1 route table, auth, rate limit, then the route's handler
--     endpoints/      one module per API resource, each exporting its `routes`;
--       init.lua      THE list of endpoint modules (the only place that names them)
--       customers.lua GET/POST /v1/customers, POST /v1/customers/search, GET .../{id}
--       chats.lua     /v1/chats: list, get, search, create, PUT status/assignee/...
--       messages.lua  GET /v1/chats/{id}/messages, POST /v1/messages
--       team.lua      /v1/agents, /v1/departments, /v1/applications, /v1/organization
--     replies.lua     error bodies, the error dialects, pages, reading a JSON body
--     store.lua       the customers and their orders; data.lua the seeded data set;
--     chatstore.lua   chats, messages and the team (conversations.lua: their seeded data);
--     search.lua      search filters; json.lua, prng.lua the encoder and generator
--     faults.lua      which request gets a fault and what the fault does
--     ratewindow.lua  the sliding-window rate limit and Retry-After
--     churn.lua       customers inserted while a client pages
--     log.lua         the request log (memory and --log file)
--     config.lua      defaults, runtime configuration, POST /_mock/config
--     admin.lua       the /_mock/* endpoints
--     webhooks.lua    signed webhook deliveries: `webhooks.emit(mock, event, data)`
--     cli.lua         the command line (bin/helpcrunch-mock)
--     spawn.lua       start a mock process from a test and drive it
--
-- Adding an endpoint: write `endpoints/<resource>.lua` returning
-- `{ routes = { { method = "GET", path = "/v1/chats/{id}", handler = fn,
-- dialect = "get", name = "chats.get" }, ... } }`, add one line to
-- `endpoints/init.lua`, and run `make rockspec` (the mock rock lists every file).
-- A handler is `fn(mock, req, segment...) -> reply`; it may use `mock.store`,
-- `mock.now()`, `mock:search(q)`, `mock:after_page(key, dir, template)` and the
-- helpers of `helpcrunch.mock.replies`; auth, the rate limit, faults, delays and the
-- log are done around it. Routes are matched in list order (see `router.lua`).
-- @module helpcrunch.mock

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local prng = require "helpcrunch.mock.prng"
local data = require "helpcrunch.mock.data"
local store_mod = require "helpcrunch.mock.store"
local chatstore = require "helpcrunch.mock.chatstore"
local search = require "helpcrunch.mock.search"
local router = require "helpcrunch.mock.router"
local http = require "helpcrunch.mock.http"
local config = require "helpcrunch.mock.config"
local faults = require "helpcrunch.mock.faults"
local ratewindow = require "helpcrunch.mock.ratewindow"
local churn = require "helpcrunch.mock.churn"
local log = require "helpcrunch.mock.log"
local admin = require "helpcrunch.mock.admin"
local webhooks = require "helpcrunch.mock.webhooks"
local cli = require "helpcrunch.mock.cli"

local type, tonumber, ipairs, pairs = type, tonumber, ipairs, pairs
local floor = math.floor

local M = { _VERSION = "0.1.0" }

-- The pieces, under the names this module has always exported.
M.DEFAULTS = config.DEFAULTS
M.RANDOM_FAULTS, M.QUEUE_FAULTS = faults.RANDOM, faults.QUEUE
M.parse_rate, M.parse_retry_after = ratewindow.parse_rate, ratewindow.parse_retry_after
M.parse_faults = faults.parse
M.encode_entry = log.encode_entry
M.FLAGS, M.usage, M.parse_args, M.main = cli.FLAGS, cli.usage, cli.parse_args, cli.main

local Mock = {}
Mock.__index = Mock

--- Create a mock (not yet listening).
-- @tparam table opts any of `M.DEFAULTS` (`customers`, `chats`, `seed`, `token`, `rate_limit`
--   ("N/S"), `retry_after`, `fault_rate`, `faults`, `churn`, `delay_ms`, `data` (a file
--   name), `log` (a file name), `host`, `port`, `log_max`)
-- @treturn table|nil mock, or nil and an error message
function M.new(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  local self = setmetatable({ opts = o, conns = {}, clock_offset = 0 }, Mock)
  -- The mock's clock (rate window, Retry-After, log times, created times):
  -- the real one, moved on by POST /_mock/clock so tests need not sleep.
  self.now = function() return socket.gettime() + self.clock_offset end
  local err = config.check(o)
  if err then return nil, err end
  if o.data then
    local entries, derr = M.load(o.data)
    if not entries then return nil, derr end
    self.file_entries = entries
  end
  local file
  if o.log then
    local f, lerr = io.open(o.log, "w")
    if not f then return nil, lerr end
    f:setvbuf("line")
    file = f
  end
  self.log = log.new(o.log_max, file)
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

--- Move the mock's clock on by `seconds` (the rate window frees its slots as if
-- that time had passed); `reset` puts it back.
function Mock:advance(seconds)
  self.clock_offset = self.clock_offset + seconds
end

--- Back to the startup state: data, configuration, log, counters, rate-limit window,
-- queued faults and the fault and churn generators.
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
  self.conv = chatstore.new(self.store, o.seed, o.chats and floor(o.chats))
  self.config = config.initial(o)
  self.fault_rng = prng.new(o.seed, 2)
  self.churn_rng = prng.new(o.seed, 3)
  self.jitter_rng = prng.new(o.seed, 4)
  self.window = ratewindow.new()
  self.clock_offset = 0
  self.queue = {}
  self.search_cache, self.search_cache_n = {}, 0
  self.log:clear()
  self.events = {}
  webhooks.reset(self)
  self.stats = { requests = 0, connections = 0 }
  for conn in pairs(self.conns) do conn.counted = false end
end

-- What endpoint handlers use -------------------------------------------------------

--- Take a slot in the rate-limit window.
-- @treturn boolean ok
-- @treturn number|nil seconds until a slot frees, when not ok
function Mock:take_slot()
  return self.window:take(self.config.rate_limit, self.now())
end

--- The Retry-After header for a 429.
-- @tparam number|nil seconds computed wait, or nil for a fault without one
-- @param override a fault's own retry_after (takes precedence)
-- @treturn table|nil headers
function Mock:retry_headers(seconds, override)
  return ratewindow.retry_headers(seconds, override, self.config.retry_after)
end

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

--- After a successful list or search page: churn (see `helpcrunch.mock.churn`).
-- @tparam string key "id", "first" or "last"
-- @tparam string dir "asc" or "desc"
-- @tparam table|nil template for search: a record that matched
-- @tparam[opt] table list the ordered records the page was cut from
-- @tparam[opt] integer served how many of them the page reached
function Mock:after_page(key, dir, template, list, served)
  churn.after_page(self, key, dir, template, list, served)
end

-- Dispatch -------------------------------------------------------------------------

--- Server hook: seconds to hold a complete request before handling it. With
-- `jitter_ms`, each /v1 request waits a random 0..jitter_ms, so requests that arrive
-- together on several connections are handled (and see the data) in any order.
-- @tparam table req parsed request
-- @treturn number seconds (0: now)
function Mock:defer(req)
  local j = self.config.jitter_ms
  if j <= 0 or req.path:sub(1, 4) ~= "/v1/" then return 0 end
  return self.jitter_rng:float() * j / 1000
end

--- Called by the server for each complete request.
-- @tparam table req parsed request
-- @tparam table conn the connection
-- @treturn table reply for `helpcrunch.mock.http`
function Mock:dispatch(req, conn)
  if req.path:sub(1, 7) == "/_mock/" then
    return admin.handle(self, req)
  end
  local st = self.stats
  st.requests = st.requests + 1
  if not conn.counted then
    conn.counted = true
    st.connections = st.connections + 1
  end
  local f = faults.pick(self, req)
  local kind = f and f.kind
  local reply, auth
  if f and faults.answers_first(f) then
    reply = faults.reply(self, f, req)
    auth = router.auth(req, self.token)
  else
    reply, auth = router.handle(self, req)
    auth = auth or router.auth(req, self.token)
    if f then faults.spoil(f, reply) end
  end
  local delay = self.config.delay_ms
  if kind == "delay" then delay = delay + (tonumber(f.delay_ms) or 1000) end
  if kind == "hold" then delay = delay + (tonumber(f.delay_ms) or 30000) end   -- at the latest
  reply.delay = delay / 1000
  local status = reply.status
  if reply.action == "drop" and f.before then status = nil end
  self.log:record(req, conn, self.now(), status, auth, kind)
  return reply
end

--- Server hook: work besides requests (webhook deliveries), never blocking.
-- @tparam number now
-- @treturn table|nil sockets to watch for reading, for writing, and the longest wait
function Mock:background(now)
  return webhooks.pump(self, now)
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

-- Running --------------------------------------------------------------------------

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
  self.log:close()
end

--- Ask `run` to return after the current turn.
function Mock:stop()
  if self.server then self.server:stop() end
end

return M
