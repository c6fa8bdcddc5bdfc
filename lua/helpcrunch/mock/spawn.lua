--- Start `helpcrunch-mock` as a separate process for tests, and drive its admin API.
--
--     local spawn = require "helpcrunch.mock.spawn"
--     local mock = spawn.start{ customers = 1234, seed = 1, token = "t", rate_limit = "10/2" }
--     -- mock.url == "http://127.0.0.1:PORT/v1"; mock.port; mock.pid
--     ...
--     mock:stop()   -- kill and wait; safe to call twice
--
-- The mock is started with `--port 0 --exit-with-parent`, so even a test run that dies
-- without calling `stop` does not leave it behind (it notices within a second, on
-- Linux). It is also stopped when the object is garbage collected.
-- @module helpcrunch.mock.spawn

local socket = require "socket"
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local json = require "helpcrunch.mock.json"

local M = {}

-- Options of `start` that become command-line flags.
local FLAGS = {
  { "host", "--host" }, { "customers", "--customers" }, { "chats", "--chats" }, { "seed", "--seed" },
  { "token", "--token" }, { "rate_limit", "--rate-limit" }, { "retry_after", "--retry-after" },
  { "fault_rate", "--fault-rate" }, { "faults", "--faults" }, { "churn", "--churn" },
  { "churn_delete", "--churn-delete" }, { "jitter_ms", "--jitter-ms" },
  { "delay_ms", "--delay-ms" }, { "data", "--data" }, { "log", "--log" },
  { "log_max", "--log-max" },
}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function file_exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

-- The directory holding helpcrunch/mock/spawn.lua (the Lua tree this module came from).
local function module_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then return nil end
  local path = src:sub(2)
  if path == "helpcrunch/mock/spawn.lua" then return "." end
  return path:match("^(.*)/helpcrunch/mock/spawn%.lua$")
end

--- The interpreter used by default: the caller's when it is lua5.4 or LuaJIT.
-- @treturn string
function M.default_lua()
  if rawget(_G, "jit") then return "luajit" end
  return "lua5.4"
end

--- Where the `helpcrunch-mock` script is: next to this checkout's `lua/`, or on PATH.
-- @treturn string|nil path
function M.find_bin()
  local root = module_root()
  if root then
    local bin = root .. "/../bin/helpcrunch-mock"
    if file_exists(bin) then return bin end
  end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local bin = dir .. "/helpcrunch-mock"
    if file_exists(bin) then return bin end
  end
end

local Mock = {}
Mock.__index = Mock

--- Start a mock.
-- @tparam[opt] table opts `customers`, `seed`, `token`, `rate_limit` ("N/S"),
--   `retry_after`, `fault_rate`, `faults` (list or "a,b"), `churn`, `delay_ms`, `data`,
--   `log`, `log_max`, `host`; `lua` (interpreter; default: the caller's, see
--   `default_lua`), `bin` (script path; default `find_bin()`), `quiet` (send the
--   mock's stderr to /dev/null)
-- @treturn table the running mock: `url`, `base`, `port`, `pid` and methods below
-- @raise when the mock cannot be started
function M.start(opts)
  opts = opts or {}
  local args = { "--port", "0", "--exit-with-parent" }
  for _, f in ipairs(FLAGS) do
    local v = opts[f[1]]
    if v ~= nil and v ~= false then
      if type(v) == "table" then v = table.concat(v, ",") end
      args[#args + 1] = f[2]
      args[#args + 1] = tostring(v)
    end
  end
  local lua = opts.lua or M.default_lua()
  local root = module_root()
  local prefix = ""
  if root then
    local code = string.format("package.path=%q..package.path",
      root .. "/?.lua;" .. root .. "/?/init.lua;")
    -- A checkout's build of helpcrunch.core for this interpreter (webhook signing).
    local build = root .. "/../build/" .. lua:match("[^/]+$")
    if file_exists(build .. "/helpcrunch/core.so") then
      code = code .. string.format(";package.cpath=%q..package.cpath", build .. "/?.so;")
    end
    prefix = "-e " .. shell_quote(code)
  end
  local bin = opts.bin or M.find_bin()
  local run
  if bin then
    run = shell_quote(bin)
  else
    -- no script: run the module itself
    run = "-e " .. shell_quote("os.exit(require('helpcrunch.mock').main(arg))") .. " -"
  end
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = shell_quote(a) end
  local cmd = "echo $$; exec " .. shell_quote(lua) .. " " .. prefix .. " " .. run .. " " ..
    table.concat(quoted, " ") .. (opts.quiet and " 2>/dev/null" or "") .. " </dev/null"
  local pipe = assert(io.popen(cmd, "r"))
  local pid = tonumber(pipe:read("*l") or "")
  local line = pipe:read("*l")
  local url = line and line:match("^listening on (http://%S+)$")
  if not url then
    pipe:close()
    error("helpcrunch.mock.spawn: the mock did not start (" .. lua .. " " .. (bin or "?") ..
      "): " .. tostring(line or "no output; see its stderr"), 2)
  end
  local self = setmetatable({
    url = url, base = url:gsub("/v1$", ""), port = tonumber(url:match(":(%d+)/v1$")),
    pid = pid, pipe = pipe, stopped = false, lua = lua,
  }, Mock)
  -- stop on collection (a proxy for LuaJIT / 5.1, where tables have no __gc)
  local newproxy = rawget(_G, "newproxy")
  if newproxy then
    self.guard = newproxy(true)
    getmetatable(self.guard).__gc = function() self:stop() end
  else
    setmetatable(self, { __index = Mock, __gc = Mock.stop })
  end
  return self
end

--- Stop the mock (SIGTERM) and wait for it to exit. Safe to call more than once.
function Mock:stop()
  if self.stopped then return end
  self.stopped = true
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  if self.pipe then pcall(self.pipe.close, self.pipe) end
end

--- Send a request to the mock (any path, admin or `/v1`).
-- @tparam string method
-- @tparam string path e.g. "/_mock/stats" or "/v1/customers?limit=5"
-- @param[opt] body a string, or a table encoded as JSON
-- @tparam[opt] table headers extra headers
-- @treturn integer status
-- @treturn string body
-- @treturn table response headers (lower-case names)
function Mock:request(method, path, body, headers)
  if type(body) == "table" then body = json.encode(body) end
  local out = {}
  local h = { ["Connection"] = "close" }
  for k, v in pairs(headers or {}) do h[k] = v end
  if body then
    h["Content-Type"] = h["Content-Type"] or "application/json"
    h["Content-Length"] = tostring(#body)
  end
  local ok, status, rheaders = socket_http.request({
    url = self.base .. path, method = method, headers = h,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(out),
    create = function()
      local s = socket.tcp()
      s:settimeout(10)
      return s
    end,
  })
  if not ok then error("helpcrunch.mock.spawn: " .. method .. " " .. path .. ": " .. tostring(status), 2) end
  return status, table.concat(out), rheaders
end

local function admin(self, method, path, body)
  local status, text = self:request(method, path, body)
  local value = json.decode(text)
  if status ~= 200 then
    error("helpcrunch.mock.spawn: " .. method .. " " .. path .. ": " .. status .. " " .. text, 3)
  end
  return value
end

--- Counters: `{requests = n, connections = n, open = n, log_dropped = n}`.
-- `connections` and `open` count connections that carried at least one `/v1` request.
-- @treturn table
function Mock:stats() return admin(self, "GET", "/_mock/stats") end

--- The log entries since start, reset or `clear_log` (see the README for the fields).
-- @treturn table list of entries
function Mock:log() return admin(self, "GET", "/_mock/log") end

--- Clear the in-memory log.
function Mock:clear_log() admin(self, "DELETE", "/_mock/log") end

--- Back to the startup state (data, configuration, log, counters, rate-limit window, faults).
function Mock:reset() return admin(self, "POST", "/_mock/reset") end

--- Change the configuration at run time.
-- @tparam table changes any of `fault_rate`, `faults` (list), `delay_ms`,
--   `rate_limit` ("N/S" or false), `retry_after` (seconds, HTTP-date string, "none",
--   or false for the computed value), `churn`
-- @treturn table the configuration now in force
function Mock:config(changes)
  if changes and changes.faults then changes.faults = json.array(changes.faults) end
  return admin(self, "POST", "/_mock/config", changes or {})
end

--- Queue a fault for the next `count` matching requests.
-- @tparam table f `{kind, count, method, path, before, retry_after, location, delay_ms,
--   interval_ms, bytes}`
-- @treturn table `{queued = n}`
function Mock:fault(f) return admin(self, "POST", "/_mock/fault", f) end

--- The number of responses a `hold` fault keeps back now.
-- @treturn integer
function Mock:held() return admin(self, "GET", "/_mock/held").held end

--- Send every response held by a `hold` fault now.
-- @treturn integer how many were released
function Mock:release() return admin(self, "POST", "/_mock/release").released end

--- Move the mock's clock on (rate window, Retry-After, log times) instead of
-- sleeping; `reset` puts it back.
-- @tparam number seconds
function Mock:advance(seconds) return admin(self, "POST", "/_mock/clock", { advance = seconds }) end

--- Drop every queued fault.
function Mock:clear_faults() return admin(self, "DELETE", "/_mock/fault") end

--- A stored customer as the mock keeps it, or nil.
-- @tparam integer id
-- @treturn table|nil
function Mock:customer(id)
  local status, text = self:request("GET", "/_mock/customers/" .. tostring(id))
  if status == 404 then return nil end
  if status ~= 200 then error("helpcrunch.mock.spawn: customer " .. id .. ": " .. status, 2) end
  return json.decode(text)
end

--- A stored chat as the API serves it, plus `status_canonical` and `messages` (how many),
-- or nil.
-- @tparam integer id
-- @treturn table|nil
function Mock:chat(id)
  local status, text = self:request("GET", "/_mock/chats/" .. tostring(id))
  if status == 404 then return nil end
  if status ~= 200 then error("helpcrunch.mock.spawn: chat " .. id .. ": " .. status, 2) end
  return json.decode(text)
end

--- Send signed webhooks of the mock's events to a receiver, or read the deliveries.
-- @tparam[opt] table cfg `{url =, secret =, events = {...}, max_attempts =, retry_ms =,
--   timeout_ms =}` (see `POST /_mock/webhooks`); nil only reads; false stops them
-- @treturn table the receiver and `deliveries` (see `GET /_mock/webhooks`)
function Mock:webhooks(cfg)
  if cfg == nil then return admin(self, "GET", "/_mock/webhooks") end
  if cfg == false then return admin(self, "DELETE", "/_mock/webhooks") end
  if cfg.events then cfg.events = json.array(cfg.events) end
  return admin(self, "POST", "/_mock/webhooks", cfg)
end

--- The events `POST /v1/events` recorded since start or reset.
-- @treturn table list of `{id, name, data, customer, createdAt}`
function Mock:events() return admin(self, "GET", "/_mock/events") end

--- Number of stored customers.
-- @treturn integer
function Mock:count() return admin(self, "GET", "/_mock/count").customers end

-- A raw keep-alive connection, for tests that look at the wire --------------------

local Conn = {}
Conn.__index = Conn

--- Open a raw keep-alive connection to the mock (for tests of HTTP behaviour).
-- @tparam[opt=10] number timeout seconds for each socket operation
-- @treturn table connection with `:send`, `:receive`, `:request`, `:close`, `.sock`
function Mock:connect(timeout)
  local sock = assert(socket.connect("127.0.0.1", self.port))
  sock:settimeout(timeout or 10)
  return setmetatable({ sock = sock }, Conn)
end

--- Send a request.
-- @tparam string method
-- @tparam string path e.g. "/v1/customers?limit=5"
-- @tparam[opt] table opts `token` (Bearer), `body` (string, or table sent as JSON),
--   `headers` ({Name = value})
-- @return true, or nil and an error
function Conn:send(method, path, opts)
  opts = opts or {}
  local body = opts.body
  if type(body) == "table" then body = json.encode(body) end
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1" }
  if opts.token then lines[#lines + 1] = "Authorization: Bearer " .. opts.token end
  for k, v in pairs(opts.headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then
    lines[#lines + 1] = "Content-Type: application/json"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  local ok, err = self.sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))
  if not ok then return nil, err end
  return true
end

--- Read one response (Content-Length body).
-- @treturn table|nil `{status, headers = {lower-name = value}, body}`
-- @treturn string|nil error ("closed", "timeout", ...)
-- @treturn table|nil what was read before the error (`status`, `headers`, `body`)
function Conn:receive()
  local got = { headers = {}, body = "" }
  local line, err = self.sock:receive("*l")
  if not line then return nil, err, got end
  got.status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  while true do
    line, err = self.sock:receive("*l")
    if not line then return nil, err, got end
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then got.headers[k:lower()] = v end
  end
  local length = tonumber(got.headers["content-length"] or 0)
  if length > 0 then
    local body, berr, partial = self.sock:receive(length)
    if not body then
      got.body = partial or ""
      return nil, berr, got
    end
    got.body = body
  end
  return got
end

--- Send a request and read its response.
-- @see Conn:send
-- @treturn table|nil response, or nil, error, partial response
function Conn:request(method, path, opts)
  local ok, err = self:send(method, path, opts)
  if not ok then return nil, err, {} end
  return self:receive()
end

--- Close the connection.
function Conn:close()
  self.sock:close()
end

return M
