--- The ngx transport: requests over OpenResty cosockets (ngx.socket.tcp),
-- each in its own light thread (ngx.thread.spawn), so a wait yields to
-- nginx's event loop instead of blocking the worker, and two requests (the
-- pager's prefetch, two light threads) overlap.
--
-- The same interface as transport/curl.lua (start/wait/collect/cancel/pump/
-- sleep/now/check_context/unusable/close) and the same facts, with the
-- failure names of csrc/errors.c. The HTTP/1.1 exchange itself is
-- transport/ngx_http.lua; bodies are decoded by the C decoder
-- (helpcrunch.core.decode), as with curl.
--
-- - Keep-alive: connections go back to nginx's per-worker pools
--   (setkeepalive), named by scheme, host, port and TLS verification, so
--   every client in the worker shares them (a client made per request
--   reuses connections too).
-- - TLS: sslhandshake with SNI and verification on (`verify_tls = false`
--   turns it off); the trusted CAs are nginx's `lua_ssl_trusted_certificate`
--   (the `ca_file` option cannot be per socket here). TLS sessions are kept
--   per pool and resumed.
-- - Writes (`fresh`) never go on a pooled connection: one that died while
--   idle would fail a write the server may never have seen -- or, resent,
--   apply it twice. A read that finds its pooled connection dead before any
--   response byte is sent again on another connection (as libcurl does).
-- - Phases without cosockets (init, init_worker, set, header_filter,
--   body_filter, log, balancer, ssl_*, exit_worker): `unusable()` names the
--   phase and the way out (ngx.timer.at); the pipeline returns that as
--   nil, err{kind = "transport", code = "unsupported_phase"}.
-- @module helpcrunch.transport.ngx

local http = require "helpcrunch.transport.ngx_http"
local core = require "helpcrunch.core"

local ngx = rawget(_G, "ngx")

local M = {}

local Transport = {}
Transport.__index = Transport
Transport.name = "ngx"

-- Idle connections: how long one is kept (ms) and how many per pool.
local KEEPALIVE_MS, POOL_SIZE = 30000, 32

-- The phases where cosockets, light threads and ngx.sleep all work.
local PHASES_OK = { rewrite = true, access = true, content = true, timer = true }
-- The directive behind each phase where they do not, and why (for the message).
local NO_COSOCKETS = "which has no cosockets"
local DIRECTIVES = {
  init = { "init_by_lua*", NO_COSOCKETS }, init_worker = { "init_worker_by_lua*", NO_COSOCKETS },
  set = { "set_by_lua*", NO_COSOCKETS }, header_filter = { "header_filter_by_lua*", NO_COSOCKETS },
  body_filter = { "body_filter_by_lua*", NO_COSOCKETS }, log = { "log_by_lua*", NO_COSOCKETS },
  balancer = { "balancer_by_lua*", NO_COSOCKETS }, exit_worker = { "exit_worker_by_lua*", NO_COSOCKETS },
}
local HOLDS_TLS = "where a request would hold the TLS handshake"
for phase, directive in pairs { ssl_cert = "ssl_certificate_by_lua*",
    ssl_session_fetch = "ssl_session_fetch_by_lua*", ssl_session_store = "ssl_session_store_by_lua*",
    ssl_client_hello = "ssl_client_hello_by_lua*" } do
  DIRECTIVES[phase] = { directive, HOLDS_TLS }
end

-- Per worker: the last TLS session of each pool, resumed by the next handshake.
local sessions = {}
-- Numbers the private pools of write connections.
local private_seq = 0

local now = core.now

--- @tparam table o `token`, `user_agent`, `timeout`, `connect_timeout`,
--   `verify_tls`, `ca_file`, `proxy`, `max_body` (`loop`, `schedule`,
--   `sleep` do not apply: cosockets are nginx's own event loop)
function M.new(o)
  if type(ngx) ~= "table" or type(ngx.socket) ~= "table" then
    error("helpcrunch.new: transport \"ngx\" needs OpenResty (ngx.socket); "
      .. "use transport = \"curl\" elsewhere", 3)
  end
  if o.proxy then
    error("helpcrunch.new: option 'proxy' is not supported by the ngx transport "
      .. "(use transport = \"curl\", or route through nginx itself)", 3)
  end
  if o.ca_file then
    ngx.log(ngx.WARN, "helpcrunch: ca_file is not used by the ngx transport; ",
      "set nginx's lua_ssl_trusted_certificate ", o.ca_file, " instead")
  end
  local version = ngx.config and ngx.config.ngx_lua_version or 0
  local ua = o.user_agent:gsub("%(libcurl/[^;]*;", "(ngx_lua/" .. version .. ";", 1)
  return setmetatable({
    write = http.writer(o.token, ua),
    timeout = o.timeout, connect_timeout = o.connect_timeout,
    verify = o.verify_tls ~= false, max_body = o.max_body,
    inflight = {},
  }, Transport)
end

Transport.now = now

function Transport.check_context() end

--- Why no request can be made here, or nil.
-- @treturn string|nil "unsupported_phase"
-- @treturn string|nil the message
function Transport.unusable()
  local phase = ngx.get_phase()
  if PHASES_OK[phase] then return nil end
  local d = DIRECTIVES[phase] or { phase, "where the client does not make requests" }
  return "unsupported_phase", "requests cannot be made in nginx's " .. phase .. " phase ("
    .. d[1] .. ", " .. d[2] .. "); make the call from rewrite_by_lua*, access_by_lua*, "
    .. "content_by_lua*, or run it in an ngx.timer.at(0, function() ... end) callback"
end

-- ---- connecting ----------------------------------------------------------------

local DEFAULT_PORT = { http = 80, https = 443 }

-- The parts of a URL the request needs, or nil and a failure.
local function parse_url(url, verify)
  local scheme, authority, target = url:match("^(%a+)://([^/?#]+)([^#]*)$")
  if not scheme then return nil, "bad_url", "not an absolute URL" end
  scheme = scheme:lower()
  if not DEFAULT_PORT[scheme] then
    return nil, "unsupported_protocol", "only http and https are supported"
  end
  if target == "" then target = "/" end
  if target:find("[%s%c]") then return nil, "bad_url", "the path holds spaces or controls" end
  local host, port = authority:match("^(%[[%x:.]+%]):?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil, "bad_url", "a bad host or port" end
  port = tonumber(port) or DEFAULT_PORT[scheme]
  local tls = scheme == "https"
  return {
    host = host, port = port, authority = authority, target = target, tls = tls,
    pool = "helpcrunch:" .. scheme .. "://" .. host:lower() .. ":" .. port
      .. ((tls and not verify) and ":noverify" or ""),
  }
end

-- A failure name for an error of connect().
local function connect_failure(err, u)
  local where = u.host .. ":" .. u.port
  if err == "timeout" then return "timeout", "connecting to " .. where .. " timed out" end
  if err:find("resolve", 1, true) or err:find("resolver", 1, true) then
    return "couldnt_resolve_host", err .. " (nginx resolves names with the resolver "
      .. "directive, e.g. resolver 127.0.0.53 ipv6=off;)"
  end
  return "couldnt_connect", "could not connect to " .. where .. ": " .. err
end

-- A failure name for an error of sslhandshake().
local function tls_failure(err, u)
  if err == "timeout" then return "timeout", "the TLS handshake with " .. u.host .. " timed out" end
  if err:find("^%d+: ") or err:find("certificate", 1, true) then
    return "tls_verify", "the certificate of " .. u.host .. " cannot be verified: " .. err
      .. " (nginx trusts the CAs named by lua_ssl_trusted_certificate, with "
      .. "lua_ssl_verify_depth; verify_tls = false turns the check off)"
  end
  return "tls_connect", "the TLS handshake with " .. u.host .. " failed: " .. err
end

local function set_timeout(sock, seconds)
  sock:settimeout(seconds < 0.001 and 1 or math.floor(seconds * 1000))
end

-- A connected (and TLS-established) socket from the pool or new.
-- @treturn table|nil sock, or nil, failure, message
-- @treturn boolean reused (an idle connection from the pool)
-- @treturn boolean private (a write's own connection: closed after use)
function Transport:connect(u, fresh, deadline)
  local left = deadline - now()
  if left <= 0 then return nil, "timeout", "no time left to connect" end
  local sock = ngx.socket.tcp()
  set_timeout(sock, left < self.connect_timeout and left or self.connect_timeout)
  local ok, err = sock:connect(u.host, u.port, { pool = u.pool, pool_size = POOL_SIZE })
  if not ok then return nil, connect_failure(err, u) end
  local reused, private = sock:getreusedtimes() > 0, false
  if fresh and reused then
    -- A write: give the idle connection back untouched, open a new one in
    -- a pool of its own (so nginx cannot hand out another idle one).
    sock:setkeepalive(KEEPALIVE_MS, POOL_SIZE)
    private_seq = private_seq + 1
    sock = ngx.socket.tcp()
    left = deadline - now()
    set_timeout(sock, left < self.connect_timeout and left or self.connect_timeout)
    ok, err = sock:connect(u.host, u.port, { pool = u.pool .. ":write" .. private_seq })
    if not ok then return nil, connect_failure(err, u) end
    reused, private = false, true
  end
  if u.tls and not reused then
    set_timeout(sock, deadline - now())
    local session
    session, err = sock:sslhandshake(sessions[u.pool], u.host, self.verify)
    if not session then
      sock:close()
      return nil, tls_failure(err, u)
    end
    sessions[u.pool] = session
  end
  return sock, reused, private
end

-- ---- one request in a light thread ------------------------------------------------

-- Failures that say a pooled connection was dead before the request reached
-- anyone: a read is sent again on another connection.
local DEAD_IDLE = { send_error = true, empty_reply = true, recv_error = true }

function Transport:exchange(h)
  local u, failure, message = parse_url(h.url, self.verify)
  if not u then return { failure = failure, message = message, sent = false, bytes = 0 } end
  local request = self.write(h.method, u.target, u.authority, h.body)
  local deadline = h.started + self.timeout
  local opts = { deadline = deadline, now = now, timeout = self.timeout, max_body = self.max_body }
  for _ = 0, POOL_SIZE do
    local sock, reused, private = self:connect(u, h.fresh, deadline)
    if not sock then   -- then reused, private are the failure and its message
      return { failure = reused, message = private, sent = false, bytes = 0 }
    end
    h.sock = sock
    local res = http.exchange(sock, h.method, request, opts)
    if h.cancelled then
      sock:close()
      return res
    end
    if res.failure and reused and res.nothing and DEAD_IDLE[res.failure] then
      sock:close()                      -- dead while idle: try the next connection
    else
      if res.keepalive and not private then
        local ok = sock:setkeepalive(KEEPALIVE_MS, POOL_SIZE)
        if not ok then sock:close() end
      else
        sock:close()
      end
      h.sock = nil
      return res
    end
  end
  return { failure = "recv_error", message = "every pooled connection was dead", sent = false }
end

local function run(self, h)
  local ok, res = pcall(self.exchange, self, h)
  if not ok then
    res = { failure = "internal_error", message = "helpcrunch: " .. tostring(res), sent = false }
  end
  res.seconds = now() - h.started
  h.res, h.done = res, true
  if h.sema then h.sema:post(h.sema_waiting) end
end

--- Start a request in a light thread; it runs until its first wait.
-- @treturn table the handle
function Transport:start(method, url, body, fresh)
  local h = { method = method, url = url, body = body, fresh = fresh, started = now(),
              parent = coroutine.running(), done = false }
  self.inflight[h] = true
  local ok, thread = pcall(ngx.thread.spawn, run, self, h)
  if not ok then
    h.res = { failure = "internal_error", message = "ngx.thread.spawn: " .. tostring(thread),
              sent = false, seconds = 0 }
    h.done = true
  else
    h.thread = thread
  end
  return h
end

function Transport.pump() end         -- light threads progress by themselves

--- Wait until the request is done: ngx.thread.wait from the coroutine that
-- started it, else (another light thread) on a semaphore.
function Transport.wait(_, h)
  if h.done then return end
  if h.parent == coroutine.running() then
    ngx.thread.wait(h.thread)
    return
  end
  h.sema = h.sema or require("ngx.semaphore").new(0)
  h.sema_waiting = (h.sema_waiting or 0) + 1
  while not h.done do h.sema:wait(1) end
end

--- The facts of a finished request (see transport/curl.lua); releases it.
function Transport:collect(h, decode)
  self.inflight[h] = nil
  local res = h.res
  local facts = {
    status = res.status, seconds = res.seconds, sent = res.sent, bytes = res.bytes or 0,
    retry_after = res.retry_after, location = res.location, content_type = res.content_type,
  }
  if res.failure then
    facts.failure, facts.message = res.failure, res.message
  elseif decode then
    local value, err, at = core.decode(res.body)
    if err then
      facts.decode_error, facts.decode_at, facts.raw = err, at, res.body:sub(1, 200)
    else
      facts.body = value
    end
  else
    facts.raw = res.body
  end
  return facts
end

--- Abort a request: kill its light thread and close its socket.
function Transport:cancel(h)
  self.inflight[h] = nil
  if h.done then return end
  h.cancelled = true
  if h.thread then pcall(ngx.thread.kill, h.thread) end
  if h.sock then pcall(h.sock.close, h.sock) end
  h.res = { failure = "cancelled", message = "cancelled", sent = false, seconds = 0 }
  h.done = true
end

function Transport.sleep(_, seconds)
  if seconds > 0 then ngx.sleep(seconds) end
end

--- Requests started and not yet collected (for tests and diagnostics).
function Transport:pending()
  local n = 0
  for _ in pairs(self.inflight) do n = n + 1 end
  return n
end

--- Cancel what is in flight; the pools belong to the worker and stay.
function Transport:close()
  for h in pairs(self.inflight) do self:cancel(h) end
end

return M
