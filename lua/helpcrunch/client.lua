--- The client: options, the request pipeline (rate limit, attempts, retries,
-- waiting) over the C core's non-blocking primitives.
-- @module helpcrunch.client

local core = require "helpcrunch.core"
local errors = require "helpcrunch.errors"
local ratelimit = require "helpcrunch.ratelimit"
local util = require "helpcrunch.util"

local M = {}

local Client = {}
Client.__index = Client

local DEFAULT_BASE_URL = "https://api.helpcrunch.com/v1"

-- name -> accepted Lua types (documented in the README).
local OPTIONS = {
  token = "string", base_url = "string", timeout = "number", connect_timeout = "number",
  max_retries = "number", rate_limit = "table|boolean", page_size = "number",
  prefetch = "number", verify_tls = "boolean", ca_file = "string", proxy = "string",
  allow_insecure_http = "boolean", sleep = "function", on_request = "function",
  max_response_bytes = "number",
}

local function is_loopback(host)
  return host == "localhost" or host == "[::1]" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

-- Check base_url strictly (it becomes part of every request line): scheme,
-- a host name or address, an optional port, a plain path. Plain http only
-- to loopback unless allowed.
local function check_base_url(url, allow_insecure)
  local function bad(why)
    error("helpcrunch.new: base_url " .. why .. " (like https://api.helpcrunch.com/v1), got "
      .. util.describe(url), 4)
  end
  local scheme, authority, path = url:match("^(%a+)://([^/?#]*)(.*)$")
  if not scheme then bad("must be an absolute URL") end
  scheme = scheme:lower()
  if scheme ~= "https" and scheme ~= "http" then bad("must use https") end
  if authority:find("@", 1, true) then
    bad("must not hold credentials (user@host); pass token=")
  end
  local host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = authority:match("^([%w.-]+)(.*)$") end
  if not host or not (port == "" or port:match("^:%d+$")) then bad("has a bad host or port") end
  if port ~= "" and tonumber(port:sub(2)) > 65535 then bad("has a port above 65535") end
  if not path:match("^[%w%-._~/]*$") then
    bad("must have a plain path (no query, fragment, spaces, control characters or % escapes)")
  end
  if scheme == "http" and not is_loopback(host:lower()) and not allow_insecure then
    error("helpcrunch.new: base_url must use https: plain http would send the token "
      .. "in clear to " .. host .. " (http is allowed to loopback hosts only, or with "
      .. "allow_insecure_http = true)", 3)
  end
  return scheme .. "://" .. authority .. path:gsub("/+$", "")
end

-- Check the options and return a plain copy: what pairs() saw is all that
-- is used, so a metatable cannot slip values past the checks.
local function check_options(opts)
  local o = {}
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then
      error("helpcrunch.new: unknown option " .. util.describe(k), 3)
    end
    if not want:find(type(v), 1, true) then
      error("helpcrunch.new: option '" .. k .. "' must be a " .. want:gsub("|", " or ")
        .. ", got " .. type(v), 3)
    end
    o[k] = v
  end
  opts = o
  local function positive(name)
    local v = opts[name]
    if v ~= nil and not (v >= 0.001 and v <= 86400) then
      error("helpcrunch.new: option '" .. name .. "' must be a number of seconds from 0.001 "
        .. "to 86400, got " .. util.describe(v), 3)
    end
  end
  positive("timeout")
  positive("connect_timeout")
  util.check_int("helpcrunch.new", "max_retries", opts.max_retries, 0, 100, 3)
  util.check_int("helpcrunch.new", "page_size", opts.page_size, 1, 100, 3)
  util.check_int("helpcrunch.new", "prefetch", opts.prefetch, 0, 8, 3)
  util.check_int("helpcrunch.new", "max_response_bytes", opts.max_response_bytes, 1024,
    2 ^ 40, 3)
  local rl = opts.rate_limit
  if rl == true then
    error("helpcrunch.new: rate_limit must be a table {requests=, per=} or false", 3)
  end
  if type(rl) == "table" then
    util.check_int("helpcrunch.new", "rate_limit.requests", rl.requests or 120, 1, 1e6, 3)
    local per = rl.per or 60
    if type(per) ~= "number" or not (per > 0 and per < math.huge) then
      error("helpcrunch.new: rate_limit.per must be a positive number of seconds", 3)
    end
  end
  return o
end

local function user_agent()
  local lua = (type(jit) == "table" and jit.version) or _VERSION
  return string.format("helpcrunch-lua/%s (%s; %s)", core._VERSION,
    core.curl_version:match("^(%S+)"), lua)
end

--- Create a client. See README "Options" for every option.
-- @tparam[opt] table opts options
-- @treturn table the client, with `client.customers`
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("helpcrunch.new: options must be a table, got " .. type(opts), 2)
  end
  opts = check_options(opts or {})
  local token = opts.token or os.getenv("HELPCRUNCH_API_KEY")
  if token == nil or token == "" then
    error("helpcrunch.new: missing token: pass token = \"...\" or set HELPCRUNCH_API_KEY", 2)
  end
  if token:find("[%c%s]") then
    error("helpcrunch.new: token must not contain spaces or control characters", 2)
  end
  local base_url = check_base_url(opts.base_url or os.getenv("HELPCRUNCH_BASE_URL")
    or DEFAULT_BASE_URL, opts.allow_insecure_http)
  if opts.verify_tls == false and base_url:match("^https") then
    io.stderr:write("helpcrunch: warning: verify_tls = false: TLS certificates are not "
      .. "checked; anyone on the path can read the API token\n")
  end
  local rl = opts.rate_limit
  if rl == nil then rl = { requests = 120, per = 60 } end
  local self = setmetatable({
    base_url = base_url,
    max_retries = opts.max_retries or 3,
    page_size = opts.page_size or 100,
    prefetch = opts.prefetch or 1,
    on_request = opts.on_request,
    custom_sleep = opts.sleep,
    sleep = opts.sleep or core.sleep,
    hold_until = 0,                -- no request starts before this (after a 429)
    limiter = rl and ratelimit.new(rl.requests or 120, rl.per or 60, core.now) or nil,
  }, Client)
  -- The token lives only in the core's header list and this closure, never
  -- in a field a dump of the client would show.
  self.scrub = function(s)
    -- (a token shorter than 8 characters is a test token: nothing to hide)
    if type(s) ~= "string" or #token < 8 then return s end
    local i, j = s:find(token, 1, true)
    while i do
      s = s:sub(1, i - 1) .. "<token>" .. s:sub(j + 1)
      i, j = s:find(token, i + 7, true)
    end
    return s
  end
  self.core = core.new {
    token = token, user_agent = user_agent(), timeout = opts.timeout or 30,
    connect_timeout = opts.connect_timeout or 10, verify_tls = opts.verify_tls ~= false,
    ca_file = opts.ca_file, proxy = opts.proxy,
    max_body = opts.max_response_bytes or 64 * 1024 * 1024,
  }
  self.customers = require("helpcrunch.customers").new(self)
  return self
end

function Client:__tostring()
  return "helpcrunch client (" .. self.base_url .. ")"
end

--- Release the connections now (also done by the garbage collector).
function Client:close()
  self.core:close()
end
Client.__close = Client.close

-- ---- the request pipeline ----------------------------------------------

local Call = {}
Call.__index = Call

--- A request not yet started: `call:start()` starts it when the rate limit
-- allows (never blocking), `call:wait()` returns `value, res` or `nil, err`
-- after every retry.
-- @tparam string method
-- @tparam string path API path below base_url, e.g. "/customers"
-- @tparam[opt] string query encoded query string
-- @tparam[opt] table body encoded with the core's exact encoder
function Client:call(method, path, query, body)
  local encoded = body ~= nil and core.encode(body) or nil
  return setmetatable({
    client = self, method = method, path = path,
    url = self.base_url .. path .. (query and query ~= "" and ("?" .. query) or ""),
    body = encoded, idempotent = method == "GET" or path == "/customers/search",
    attempts = 0, not_before = 0,
  }, Call)
end

--- Seconds before this call may start.
function Call:start_delay()
  local c, now = self.client, core.now()
  local d = self.not_before - now
  local hold = c.hold_until - now
  if hold > d then d = hold end
  local l = c.limiter and c.limiter:delay() or 0
  if l > d then d = l end
  return d > 0 and d or 0
end

--- Start the attempt now if the rate limit and backoff allow; never waits.
-- @treturn boolean started (or already running)
function Call:start()
  if self.req then return true end
  if self.done or self:start_delay() > 0 then return false end
  local c = self.client
  if c.limiter then c.limiter:take() end
  self.attempts = self.attempts + 1
  self.started_at = core.now()
  -- A create gets a fresh connection: libcurl replays a request whose reused
  -- connection died before any response byte, which could create twice.
  self.req = c.core:start(self.method, self.url, self.body, not self.idempotent)
  return true
end

--- Abort the attempt in flight, if any; the call ends.
function Call:cancel()
  if self.req then
    self.req:close()
    self.req = nil
  end
  self.done = true
end

-- Wait for the running attempt without blocking a host loop when the
-- client was given `sleep`.
function Client:await(req)
  if self.custom_sleep then
    local _, hint = self.core:step()
    while not req:done() do
      self.sleep(hint < 0.005 and hint or 0.005)
      _, hint = self.core:step()
    end
  else
    self.core:wait(req)
  end
end

-- Failures that may pass on a retry (and, after a create was sent, leave
-- unknown whether the server acted): 5xx, transport, timeout, a broken body.
local TRANSIENT = { server = true, transport = true, timeout = true, decode = true }

local function backoff(n)
  local d = 0.5 * 2 ^ (n - 1)
  if d > 8 then d = 8 end
  return d * (0.5 + 0.5 * math.random())
end

-- Seconds to wait before the next attempt, or nil: do not retry.
function Client:retry_delay(call, err)
  local kind = err.kind
  if kind == "rate_limited" then
    local d = err.retry_after
    if d then
      if d > 60 then d = 60 end
    else
      d = backoff(call.attempts)
    end
    -- A 429 despite our limiter means someone else spends the same key:
    -- hold every request of this client back, not only this one.
    local untl = core.now() + d
    if untl > self.hold_until then self.hold_until = untl end
    if call.attempts > self.max_retries then return nil end
    return d
  end
  if call.attempts > self.max_retries then return nil end
  if not TRANSIENT[kind] or err.code == "redirect" then return nil end
  if call.idempotent or not err.sent then return backoff(call.attempts) end
  return nil
end

function Client:emit(call, status, err, seconds, delay)
  if not self.on_request then return end
  self.on_request {
    method = call.method, path = call.path, status = status,
    kind = err and err.kind or nil, code = err and err.code or nil,
    attempt = call.attempts, seconds = seconds, retry = delay ~= nil, delay = delay,
  }
end

--- Wait for the call's result, retrying as README "Retries" says.
-- @tparam[opt] function on_transfer called when an attempt's transfer has
--   finished, before its body is decoded (the pager starts the next page)
-- @treturn any|nil the decoded body, or nil
-- @treturn table the core's result table, or the error
function Call:wait(on_transfer)
  local c = self.client
  while true do
    while not self:start() do
      if self.done then error("helpcrunch: the request was cancelled", 2) end
      c.sleep(self:start_delay())
    end
    c:await(self.req)
    if on_transfer then on_transfer() end
    local res = c.core:collect(self.req)
    self.req:close()
    self.req = nil
    local seconds = core.now() - self.started_at
    local err = errors.from_result(res, self.method, self.path)
    if not err then
      c:emit(self, res.status, nil, seconds, nil)
      self.done = true
      return res.body, res
    end
    err.message = c.scrub(err.message)
    local delay = c:retry_delay(self, err)
    c:emit(self, err.status, err, seconds, delay)
    if not delay then
      err.attempts = self.attempts
      -- A create that may have reached the server and failed in a way that
      -- does not say whether it acted: its outcome is unknown.
      if not self.idempotent and err.sent and TRANSIENT[err.kind] then
        err.cause_code = err.code
        err.code = "outcome_unknown"
        err.message = "outcome unknown, the customer may or may not have been created: "
          .. err.message
      end
      self.done = true
      return nil, err
    end
    self.not_before = core.now() + delay
  end
end

return M
