--- The client: its options, checked in one table; the transport chosen for
-- the host (curl or ngx); the clock; and the resources (`client.customers`,
-- ...) made on first use. Requests go through helpcrunch.pipeline.
-- @module helpcrunch.client

local core = require "helpcrunch.core"
local errors = require "helpcrunch.errors"
local pipeline = require "helpcrunch.pipeline"
local util = require "helpcrunch.util"

local M = {}

local Client = {}

local DEFAULT_BASE_URL = "https://api.helpcrunch.com/v1"

-- Every option: the Lua types it accepts (documented in README "Options").
-- Ranges are checked below, next to their defaults.
local OPTIONS = {
  token = "string", base_url = "string", timeout = "number", connect_timeout = "number",
  max_retries = "number", rate_limit = "table|boolean", page_size = "number",
  prefetch = "number", verify_tls = "boolean", ca_file = "string", proxy = "string",
  allow_insecure_http = "boolean", sleep = "function", on_request = "function",
  max_response_bytes = "number", transport = "string", loop = "table|userdata",
  schedule = "function", clock = "table",
}
local RATE_LIMIT_KEYS = { requests = "number", per = "number", store = "table" }
local TRANSPORTS = { curl = true, ngx = true }

-- The resources, each a module helpcrunch.resources.<name> with new(client).
local RESOURCES = { customers = true, events = true, chats = true, messages = true,
                    agents = true, departments = true, organization = true, applications = true }

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

local function check_types(fname, t, allowed, prefix)
  local o = {}
  for k, v in pairs(t) do
    local want = allowed[k]
    if not want then
      error(fname .. ": unknown option " .. prefix .. util.describe(k) .. " (options: "
        .. util.key_list(allowed) .. ")", 4)
    end
    if not want:find(type(v), 1, true) then
      error(fname .. ": option '" .. prefix .. k .. "' must be a " .. want:gsub("|", " or ")
        .. ", got " .. type(v), 4)
    end
    o[k] = v
  end
  return o
end

-- Check the options and return a plain copy: what pairs() saw is all that
-- is used, so a metatable cannot slip values past the checks.
local function check_options(opts)
  local fname = "helpcrunch.new"
  local o = check_types(fname, opts, OPTIONS, "")
  for _, name in ipairs { "timeout", "connect_timeout" } do
    local v = o[name]
    if v ~= nil and not (v >= 0.001 and v <= 86400) then
      error(fname .. ": option '" .. name .. "' must be a number of seconds from 0.001 "
        .. "to 86400, got " .. util.describe(v), 3)
    end
  end
  util.check_int(fname, "max_retries", o.max_retries, 0, 100, 3)
  util.check_int(fname, "page_size", o.page_size, 1, 100, 3)
  util.check_int(fname, "prefetch", o.prefetch, 0, 8, 3)
  util.check_int(fname, "max_response_bytes", o.max_response_bytes, 1024, 2 ^ 40, 3)
  if o.rate_limit == true then
    error(fname .. ": rate_limit must be a table {requests=, per=, store=} or false", 3)
  end
  if type(o.rate_limit) == "table" then
    local rl = check_types(fname, o.rate_limit, RATE_LIMIT_KEYS, "rate_limit.")
    util.check_int(fname, "rate_limit.requests", rl.requests, 1, 1e6, 3)
    if rl.per ~= nil and not (rl.per > 0 and rl.per < math.huge) then
      error(fname .. ": rate_limit.per must be a positive number of seconds", 3)
    end
    if rl.store ~= nil and (type(rl.store.take) ~= "function" or type(rl.store.hold) ~= "function") then
      error(fname .. ": rate_limit.store must be a store (helpcrunch.ratelimit.memory(), "
        .. "shdict(...) or redis{...})", 3)
    end
    o.rate_limit = rl
  end
  if o.transport ~= nil and not TRANSPORTS[o.transport] then
    error(fname .. ": transport must be \"curl\" or \"ngx\", got " .. util.describe(o.transport), 3)
  end
  if o.loop ~= nil and o.transport == "ngx" then
    error(fname .. ": loop is for the curl transport; the ngx transport waits on cosockets", 3)
  end
  if o.schedule ~= nil and o.loop == nil then
    error(fname .. ": schedule needs loop (a libuv loop: vim.uv, vim.loop or luv)", 3)
  end
  if o.loop ~= nil and type(o.loop.new_socket_poll) ~= "function" then
    error(fname .. ": loop must be a libuv module (vim.uv, vim.loop or require \"luv\")", 3)
  end
  if o.clock ~= nil and (type(o.clock.now) ~= "function" or type(o.clock.sleep) ~= "function") then
    error(fname .. ": clock must be a table { now = function, sleep = function }", 3)
  end
  return o
end

local function user_agent()
  local lua = (type(jit) == "table" and jit.version) or _VERSION
  return string.format("helpcrunch-lua/%s (%s; %s)", core._VERSION,
    core.curl_version:match("^(%S+)"), lua)
end

-- curl everywhere but inside OpenResty, where cosockets are the native way.
local function transport_name(o)
  if o.transport then return o.transport end
  local ngx = rawget(_G, "ngx")
  if o.loop == nil and type(ngx) == "table" and type(ngx.socket) == "table"
    and type(ngx.get_phase) == "function" then
    return "ngx"
  end
  return "curl"
end

--- Create a client. See README "Options" for every option.
-- @tparam[opt] table opts options
-- @treturn table the client, with `client.customers`
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("helpcrunch.new: options must be a table, got " .. type(opts), 2)
  end
  local o = check_options(opts or {})
  local token = o.token or os.getenv("HELPCRUNCH_API_KEY")
  if token == nil or token == "" then
    error("helpcrunch.new: missing token: pass token = \"...\" or set HELPCRUNCH_API_KEY", 2)
  end
  if token:find("[%c%s]") then
    error("helpcrunch.new: token must not contain spaces or control characters", 2)
  end
  local base_url = check_base_url(o.base_url or os.getenv("HELPCRUNCH_BASE_URL")
    or DEFAULT_BASE_URL, o.allow_insecure_http)
  if o.verify_tls == false and base_url:match("^https") then
    io.stderr:write("helpcrunch: warning: verify_tls = false: TLS certificates are not "
      .. "checked; anyone on the path can read the API token\n")
  end
  local transport = require("helpcrunch.transport." .. transport_name(o)).new {
    token = token, user_agent = user_agent(), timeout = o.timeout or 30,
    connect_timeout = o.connect_timeout or 10, verify_tls = o.verify_tls ~= false,
    ca_file = o.ca_file, proxy = o.proxy,
    max_body = o.max_response_bytes or 64 * 1024 * 1024,
    loop = o.loop, schedule = o.schedule, sleep = o.sleep,
  }
  local rate_limit = nil
  if o.rate_limit ~= false then
    local rl = o.rate_limit or {}
    rate_limit = { requests = rl.requests or 120, per = rl.per or 60,
                   store = rl.store or require("helpcrunch.ratelimit").memory() }
  end
  -- The token lives in the transport and in the scrubber's closure, never
  -- in a field a dump of the client would show.
  local secrets = { [token] = "<token>" }
  if rate_limit and type(rate_limit.store.secrets) == "table" then
    for secret, label in pairs(rate_limit.store.secrets) do secrets[secret] = label end
  end
  local clock = o.clock or {
    now = transport.now,
    sleep = function(seconds) return transport:sleep(seconds) end,
  }
  return setmetatable({
    base_url = base_url,
    max_retries = o.max_retries or 3,
    page_size = o.page_size or 100,
    prefetch = o.prefetch or 1,
    on_request = o.on_request,
    rate_limit = rate_limit,
    transport = transport,
    clock = clock,
    scrub = errors.scrubber(secrets),
  }, Client)
end

function Client.__index(self, k)
  local method = Client[k]
  if method ~= nil then return method end
  if RESOURCES[k] then
    local r = require("helpcrunch.resources." .. k).new(self)
    rawset(self, k, r)
    return r
  end
  return nil
end

function Client:__tostring()
  return "helpcrunch client (" .. self.base_url .. ")"
end

--- A request through the pipeline (see helpcrunch.pipeline): for resources.
-- @tparam string method
-- @tparam string path API path below base_url
-- @tparam[opt] table o `query`, `body`, `idempotent`, `decode`
function Client:call(method, path, o)
  return pipeline.call(self, method, path, o)
end

--- Progress every request in flight without waiting (the pager calls it
-- while the caller works through a page).
function Client:pump()
  self.transport:pump()
end

--- Release the connections (and, with a loop, every handle) now; also done
-- by the garbage collector. Safe twice.
function Client:close()
  if self.closed then return end
  self.closed = true
  self.transport:close()
end
Client.__close = Client.close

return M
