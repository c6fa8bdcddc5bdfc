--- The request pipeline: every request of a client is a Call, and every
-- Call goes the same way — the rate limit, an attempt over the transport,
-- the facts turned into an error, the retry policy, the on_request event,
-- the scrubbing of secrets. Several Calls may be in flight at once (the
-- pager's prefetch, two coroutines); `client:pump()` drives them all
-- without waiting.
--
--     local call = client:call("GET", "/customers", { query = "offset=0&limit=1" })
--     call:start()                 -- optional: start now if the limit allows
--     local body, facts = call:wait()   --> value, facts | nil, err
-- @module helpcrunch.pipeline

local core = require "helpcrunch.core"
local errors = require "helpcrunch.errors"

local M = {}

local Call = {}
Call.__index = Call

-- ---- the retry policy: one table --------------------------------------------

-- Kinds that may pass on a retry; after a write was sent they also leave
-- unknown whether the server acted (unless a 2xx status said it did).
local TRANSIENT = { server = true, transport = true, timeout = true, decode = true }
-- Codes never retried whatever their kind: retrying cannot change them.
local FINAL = { redirect = true, unsupported_phase = true, ratelimit_store = true,
                bad_url = true, unsupported_protocol = true }
-- The longest a 429 may hold anyone back, whatever Retry-After says.
local MAX_HOLD = 60

local function backoff(n)
  local d = 0.5 * 2 ^ (n - 1)
  if d > 8 then d = 8 end
  return d * (0.5 + 0.5 * math.random())
end

--- A new call; nothing is sent until `start` or `wait`.
-- @tparam table client
-- @tparam string method
-- @tparam string path API path below base_url, e.g. "/customers"
-- @tparam[opt] table o `query` (encoded string), `body` (a table, encoded
--   exactly), `idempotent` (default: GET only; searches say true),
--   `decode` (default true; false returns the raw body)
function M.call(client, method, path, o)
  o = o or {}
  local idempotent = o.idempotent
  if idempotent == nil then idempotent = method == "GET" end
  return setmetatable({
    client = client, method = method, path = path,
    url = client.base_url .. path .. (o.query and o.query ~= "" and ("?" .. o.query) or ""),
    body = o.body ~= nil and core.encode(o.body) or nil,
    idempotent = idempotent, decode = o.decode ~= false,
    attempts = 0, not_before = 0,
  }, Call)
end

-- ---- starting ---------------------------------------------------------------

-- The error for a rate-limit store that cannot be reached: no request goes
-- out unthrottled.
local function store_error(call, msg)
  return errors.new {
    kind = "transport", code = "ratelimit_store", method = call.method, path = call.path,
    message = "the rate-limit store cannot be reached, so nothing was sent: "
      .. call.client.scrub(tostring(msg)),
  }
end

-- Start an attempt now if the backoff and the rate limit allow.
-- @treturn number 0 when started (or running), else seconds to wait
-- @treturn table|nil an error that ends the call (the store failed, the
--   host cannot make requests here)
function Call:try_start()
  if self.req then return 0 end
  local c = self.client
  local now = c.clock.now()
  local wait = self.not_before - now
  if wait > 0 then return wait end
  local failure, why = c.transport:unusable()
  if failure then
    return nil, errors.new { kind = errors.failure_kind(failure), code = failure, message = why,
                             method = self.method, path = self.path }
  end
  local limit = c.rate_limit
  if limit then
    local ok, d, msg = pcall(limit.store.take, limit.store, limit.requests, limit.per, now)
    if not ok or d == nil then return nil, store_error(self, ok and msg or d) end
    if d > 0 then return d end
  end
  self.attempts = self.attempts + 1
  self.started_at = now
  -- A write gets a fresh connection: libcurl replays a request whose reused
  -- connection died before any response byte, which could apply it twice.
  self.req = c.transport:start(self.method, self.url, self.body, not self.idempotent)
  return 0
end

--- Start the attempt now if the limit allows; never waits.
-- @treturn boolean started (or already running)
function Call:start()
  if self.req then return true end
  if self.done or self.failed then return false end
  local d, err = self:try_start()
  if err then self.failed = err end
  return d == 0
end

--- Abort the attempt in flight, if any; the call ends.
function Call:cancel()
  if self.req then
    self.client.transport:cancel(self.req)
    self.req = nil
  end
  self.done = true
end

-- ---- finishing ----------------------------------------------------------------

-- Seconds to wait before the next attempt, or nil: do not retry.
function Call:retry_delay(err)
  local c = self.client
  if err.kind == "rate_limited" then
    local d = err.retry_after or backoff(self.attempts)
    if d > MAX_HOLD then d = MAX_HOLD end
    -- A 429 despite the limiter means others spend the same key: everyone
    -- sharing the limit holds off, not only this call.
    if c.rate_limit then
      pcall(c.rate_limit.store.hold, c.rate_limit.store, d, c.clock.now())
    end
    if self.attempts > c.max_retries then return nil end
    return d
  end
  if self.attempts > c.max_retries then return nil end
  if not TRANSIENT[err.kind] or FINAL[err.code] then return nil end
  if self.idempotent or not err.sent then return backoff(self.attempts) end
  return nil
end

-- What the caller gets for a write that failed after it may have reached
-- the server.
local function write_outcome(err)
  if err.status and err.status >= 200 and err.status < 300 then
    -- The server answered 2xx: it acted; only its answer was unreadable.
    err.message = "the server applied the request (HTTP " .. err.status
      .. ") but its response could not be read: " .. tostring(err.message)
  elseif err.sent and TRANSIENT[err.kind] then
    err.cause_code = err.code
    err.code = "outcome_unknown"
    err.message = "outcome unknown, the server may or may not have applied the request: "
      .. tostring(err.message)
  end
end

function Call:emit(status, err, seconds, delay)
  local hook = self.client.on_request
  if not hook then return end
  hook {
    method = self.method, path = self.path, status = status,
    kind = err and err.kind or nil, code = err and err.code or nil,
    message = err and err.message or nil,
    attempt = self.attempts, seconds = seconds, retry = delay ~= nil, delay = delay,
  }
end

function Call:fail(err)
  self.done = true
  err.attempts = self.attempts
  if not self.idempotent then write_outcome(err) end
  return nil, err
end

-- What came from outside -- the server's body and headers, a proxy's page,
-- libcurl's or a socket's message -- is scrubbed of secrets as it arrives, on
-- every failure, before anything is cut from it (a snippet ending inside
-- the token would keep part of it) or built on it. Errors and events are
-- made only of these and of the client's own words, which never hold a
-- secret and are never touched: so even a one-letter token cannot bend a
-- kind, a failure name or a field (`sent`) the retry policy reads.
local EXTERNAL = { "body", "raw", "message", "location", "retry_after", "content_type" }

local function scrub_facts(scrub, facts)
  for i = 1, #EXTERNAL do
    local k = EXTERNAL[i]
    if facts[k] ~= nil then facts[k] = scrub(facts[k]) end
  end
end

--- Wait for the call's result, retrying as README "Retries" says.
-- @tparam[opt] function on_transfer called when an attempt's bytes are in,
--   before they are decoded (the pager starts the next page there)
-- @return the decoded body (or the raw text with decode = false), and the
--   facts; or nil and the error
function Call:wait(on_transfer)
  local c = self.client
  if self.done then error("helpcrunch: the request was cancelled or already waited for", 2) end
  c.transport:check_context()
  while true do
    if self.failed then return self:fail(self.failed) end
    local d, serr = self:try_start()
    if serr then return self:fail(serr) end
    if d > 0 then
      c.clock.sleep(d)
    else
      c.transport:wait(self.req)
      if on_transfer then on_transfer() end
      local facts = c.transport:collect(self.req, self.decode)
      self.req = nil
      local seconds = c.clock.now() - self.started_at
      local status = facts.status or 0
      if facts.failure or facts.decode_error or status < 200 or status >= 300 then
        scrub_facts(c.scrub, facts)
      end
      local err = errors.from_facts(facts, self.method, self.path)
      if not err then
        self:emit(facts.status, nil, seconds, nil)
        self.done = true
        if self.decode then return facts.body, facts end
        return facts.raw, facts
      end
      local delay = self:retry_delay(err)
      self:emit(err.status, err, seconds, delay)
      if not delay then return self:fail(err) end
      self.not_before = c.clock.now() + delay
    end
  end
end

--- Wait, and return only the value: the decoded body (or raw text), or nil
-- and the error. What a resource call returns.
function Call:value()
  local body, err = self:wait()
  if body == nil then return nil, err end
  return body
end

--- Wait for a call whose answer is not needed: true on success (any 2xx),
-- or nil and the error.
function Call:ok()
  local body, err = self:wait()
  if body == nil then return nil, err end
  return true
end

return M
