--- Webhooks from the mock: signed deliveries of events to a receiver, like the real
-- service's (API-REFERENCE.md §6), so users test their receivers end to end.
--
-- A test (or `POST /_mock/webhooks`) sets a receiver: `{url, secret, events}`. Endpoint
-- modules then report what happened with one call, and the mock delivers it:
--
--     local webhooks = require "helpcrunch.mock.webhooks"
--     webhooks.emit(mock, "customer.new", { id = 7, name = "Ann", ... })   -- a table
--     webhooks.emit(mock, "chat.new", '{"chat_id":5224081}')                -- or JSON text
--
-- A delivery is `POST <url>` with `Content-Type: application/json`,
-- `Accept: application/json` and `X-HelpCrunch-Signature: <hex HMAC-SHA1 of the exact
-- body>`; the body is the envelope `{"event", "eventData", "attempts", "lastAttemptAt",
-- "createdAt", "id"}` in that order, written the way the PHP sender writes JSON (`/` as
-- `\/`, non-ASCII as `\uXXXX`), so a receiver that re-encodes before verifying fails
-- here as it would in production. A delivery that gets no 2xx (refused, timed out, any
-- other status) is tried again after `retry_ms`, up to `max_attempts` in all, with
-- `attempts` counting the earlier tries and a new signature.
--
-- Deliveries never hold up the mock: each is a coroutine over a non-blocking socket,
-- driven by the server loop through `pump` (the mock's `background` hook), so a receiver
-- in the very process that called the mock can accept it after its call returns.
-- HMAC-SHA1 comes from the client's `helpcrunch.webhook.sign` (libcrypto through
-- helpcrunch.core): webhooks need the helpcrunch rock next to the mock.
-- @module helpcrunch.mock.webhooks

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local prng = require "helpcrunch.mock.prng"

local type, tostring, tonumber, ipairs, pairs, pcall = type, tostring, tonumber, ipairs, pairs, pcall
local floor, min, format, concat = math.floor, math.min, string.format, table.concat
local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield,
  coroutine.status

local M = {}

--- Every event name of the API (§6.3): what `events` may list.
M.EVENTS = {
  "chat.new", "chat.status_updated", "chat.assigned", "chat.snoozed", "chat.unsnoozed",
  "chat.closed", "chat.rated",
  "customer.new", "customer.email_updated", "customer.tags_changed", "customer.unsubscribed",
  "customer.subscribed", "customer.blocked", "customer.unblocked", "customer.deleted",
  "message.chat.customer", "message.email.customer", "message.private", "message.chat.agent",
  "message.email.agent",
}
local KNOWN = {}
for _, e in ipairs(M.EVENTS) do KNOWN[e] = true end

local DEFAULTS = { max_attempts = 3, retry_ms = 1000, timeout_ms = 5000 }
local LOG_MAX = 1000
local USER_AGENT = "GuzzleHttp/7"

--- Fresh webhook state for a mock (no receiver), on creation and on reset.
-- @tparam table mock
function M.reset(mock)
  local old = mock.webhooks
  if old then
    for _, d in ipairs(old.active) do
      if d.sock then d.sock:close() end
    end
  end
  mock.webhooks = { active = {}, log = {}, rng = prng.new(mock.opts.seed, 4) }
end

-- The signer: the client's helpcrunch.webhook (HMAC-SHA1 from libcrypto), or nil and why.
local function signer()
  local ok, webhook = pcall(require, "helpcrunch.webhook")
  if ok then
    local okc, core = pcall(require, "helpcrunch.core")
    if okc and type(core.hmac_sha1) == "function" then return webhook.sign end
    webhook = core
  end
  return nil, "webhooks need helpcrunch.core (the helpcrunch rock: HMAC-SHA1 from OpenSSL's "
    .. "libcrypto) on the mock's package.cpath: " .. tostring(webhook)
end

--- Set the receiver from a `POST /_mock/webhooks` body.
-- @tparam table mock
-- @tparam table body `url` (http://host:port/path), `secret`, optional `events` (names;
--   default all), `max_attempts` (1..10), `retry_ms`, `timeout_ms`
-- @treturn string|nil a message when the body is invalid (nothing changes then)
function M.configure(mock, body)
  local url = body.url
  if type(url) ~= "string" then return "url must be a string (http://host:port/path)" end
  local host, port, path = url:match("^http://([%w.%-]+):?(%d*)(/?[^%s#]*)$")
  if not host then
    host, port, path = url:match("^http://%[([%x:.]+)%]:?(%d*)(/?[^%s#]*)$")
  end
  if not host then
    return "url must be http://host[:port]/path (the mock has no TLS), got " .. url
  end
  if type(body.secret) ~= "string" or body.secret == "" then
    return "secret must be a non-empty string (the signing key)"
  end
  local events = nil
  if body.events ~= nil and body.events ~= json.null then
    if type(body.events) ~= "table" then return "events must be a list of event names" end
    events = {}
    for _, e in ipairs(body.events) do
      if not KNOWN[e] then
        return "unknown event " .. tostring(e) .. " (known: " .. concat(M.EVENTS, ", ") .. ")"
      end
      events[e] = true
    end
  end
  local n = {}
  for k, default in pairs(DEFAULTS) do
    local v = body[k]
    if v == nil or v == json.null then v = default end
    v = tonumber(v)
    if not v or v < 0 or (k == "max_attempts" and (v < 1 or v > 10)) then
      return k .. " must be a number" .. (k == "max_attempts" and " from 1 to 10" or " >= 0")
    end
    n[k] = v
  end
  local sign, err = signer()
  if not sign then return err end
  local st = mock.webhooks
  st.url, st.host, st.port = url, host, tonumber(port) or 80
  st.path = path == "" and "/" or path
  st.hostport = url:match("^http://([^/]+)")
  st.secret, st.events, st.sign = body.secret, events, sign
  st.max_attempts, st.retry_ms, st.timeout_ms = floor(n.max_attempts), n.retry_ms, n.timeout_ms
end

--- Stop delivering (deliveries under way finish).
-- @tparam table mock
function M.disable(mock)
  mock.webhooks.url = nil
end

--- The receiver and the deliveries, as `GET /_mock/webhooks` shows them (never the secret).
-- @tparam table mock
-- @treturn table
function M.view(mock)
  local st = mock.webhooks
  local events = json.array({})
  if st.events then
    for _, e in ipairs(M.EVENTS) do
      if st.events[e] then events[#events + 1] = e end
    end
  end
  return {
    url = st.url or json.null, events = st.url and (st.events and events or "all") or json.null,
    max_attempts = st.max_attempts or json.null, retry_ms = st.retry_ms or json.null,
    timeout_ms = st.timeout_ms or json.null, pending = #st.active,
    deliveries = json.array(st.log),
  }
end

-- JSON the way PHP's json_encode writes it: "/" as "\/", non-ASCII as \uXXXX
-- (surrogate pairs above U+FFFF). Both only occur inside strings, so the whole
-- text can be rewritten.
local LEAD = {}
for b = 0xC2, 0xDF do LEAD[b] = 2 end
for b = 0xE0, 0xEF do LEAD[b] = 3 end
for b = 0xF0, 0xF4 do LEAD[b] = 4 end

local function u_escape(ch)
  local b1, b2, b3, b4 = ch:byte(1, 4)
  if LEAD[b1] ~= #ch then return ch end
  local cp
  if #ch == 2 then cp = (b1 % 32) * 64 + b2 % 64
  elseif #ch == 3 then cp = (b1 % 16) * 4096 + (b2 % 64) * 64 + b3 % 64
  else cp = (b1 % 8) * 262144 + (b2 % 64) * 4096 + (b3 % 64) * 64 + b4 % 64 end
  if cp >= 0x10000 then
    cp = cp - 0x10000
    return format("\\u%04x\\u%04x", 0xD800 + floor(cp / 1024), 0xDC00 + cp % 1024)
  end
  return format("\\u%04x", cp)
end

--- JSON text in the PHP sender's style.
-- @tparam string text JSON
-- @treturn string
function M.php_style(text)
  return (text:gsub("/", "\\/"):gsub("[\194-\244][\128-\191]*", u_escape))
end

local function uuid(rng)
  local function h(n) return rng:int(0, 16 ^ n - 1) end
  return format("%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
    h(4), h(4), h(4), h(3), 8 + rng:int(0, 3), h(3), h(4), h(4), h(4))
end

--- Report an event: when a receiver is set and takes this event, a delivery is queued.
-- @tparam table mock
-- @tparam string event an event name (`M.EVENTS`)
-- @param data the `eventData`: a table (encoded by the mock's JSON encoder) or JSON text
-- @treturn string|nil the event id (a UUID) when a delivery was queued
function M.emit(mock, event, data)
  local st = mock.webhooks
  if not st.url or (st.events and not st.events[event]) then return nil end
  local id = uuid(st.rng)
  st.active[#st.active + 1] = {
    id = id, event = event, data = type(data) == "string" and data or json.encode(data),
    created = floor(mock.now()), attempts = 0, at = 0,
  }
  return id
end

-- One attempt, in a coroutine: yields "r" or "w" while the socket is not ready;
-- returns the HTTP status, or nil and why.
local function attempt(d, st)
  local sock = socket.tcp()
  d.sock = sock
  sock:settimeout(0)
  local ok, err = sock:connect(st.host, st.port)
  if not ok then
    if err ~= "timeout" and err ~= "Operation already in progress" then return nil, err end
    yield("w")
    ok, err = sock:connect(st.host, st.port)
    if not ok and err ~= "already connected" then return nil, err end
  end
  local data, i = d.request, 1
  while i <= #data do
    local last, serr, partial = sock:send(data, i)
    if last then
      i = last + 1
    elseif serr == "timeout" then
      i = partial + 1
      yield("w")
    else
      return nil, serr
    end
  end
  local buf = ""
  while true do
    local chunk, rerr, partial = sock:receive(8192)
    chunk = chunk or partial
    if chunk and chunk ~= "" then buf = buf .. chunk end
    local code = tonumber(buf:match("^HTTP/%d%.%d (%d%d%d)"))
    local head_end = buf:find("\r\n\r\n", 1, true)
    if code and head_end then
      local length = tonumber(buf:sub(1, head_end):lower():match("\ncontent%-length:%s*(%d+)"))
      if length and #buf >= head_end + 3 + length then return code end
    end
    if rerr == "closed" then
      if code then return code end
      return nil, "the receiver closed the connection without a response"
    elseif rerr and rerr ~= "timeout" then
      return nil, rerr
    end
    yield("r")
  end
end

local function start(d, st, now)
  d.last = floor(now)
  local body = M.php_style('{"event":' .. json.string(d.event) .. ',"eventData":' .. d.data ..
    ',"attempts":' .. d.attempts .. ',"lastAttemptAt":' .. d.last .. ',"createdAt":' ..
    d.created .. ',"id":' .. json.string(d.id) .. "}")
  local signature = st.sign(body, st.secret)
  d.body, d.signature = body, signature
  d.request = "POST " .. st.path .. " HTTP/1.1\r\nHost: " .. st.hostport ..
    "\r\nUser-Agent: " .. USER_AGENT .. "\r\nContent-Type: application/json" ..
    "\r\nAccept: application/json\r\nX-HelpCrunch-Signature: " .. signature ..
    "\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body
  d.deadline = now + st.timeout_ms / 1000
  d.co = create(attempt)
end

-- An attempt ended: log it; retry later, or drop the delivery. Returns true when it
-- stays queued.
local function finish(d, st, now, code, err)
  if d.sock then d.sock:close() d.sock = nil end
  d.co = nil
  local log = st.log
  if #log >= LOG_MAX then table.remove(log, 1) end
  log[#log + 1] = {
    id = d.id, event = d.event, attempt = d.attempts, url = st.url or json.null,
    status = code or json.null, error = err or json.null, signature = d.signature,
    body = d.body, at = d.last,
  }
  if code and code >= 200 and code < 300 then return false end
  d.attempts = d.attempts + 1
  if d.attempts >= (st.max_attempts or 1) then return false end
  d.at = now + (st.retry_ms or 0) / 1000
  return true
end

--- Drive the deliveries without blocking (called by the server loop each turn).
-- @tparam table mock
-- @tparam number now
-- @treturn table|nil sockets to watch for reading
-- @treturn table|nil sockets to watch for writing
-- @treturn number|nil the longest the loop may sleep
function M.pump(mock, now)
  local st = mock.webhooks
  if #st.active == 0 then return nil end
  local r, w, wait = {}, {}, nil
  local keep = {}
  for _, d in ipairs(st.active) do
    local queued = true
    if d.at > now then
      wait = min(wait or 1, d.at - now)
    else
      if not d.co then start(d, st, now) end
      if now > d.deadline then
        queued = finish(d, st, now, nil, "timeout")
      else
        local ok, what, err = resume(d.co, d, st)
        if not ok then
          queued = finish(d, st, now, nil, tostring(what))
        elseif status(d.co) == "dead" then
          queued = finish(d, st, now, what, err)
        else
          local list = what == "r" and r or w
          list[#list + 1] = d.sock
          wait = min(wait or 1, d.deadline - now)
        end
      end
      if queued and not d.co then wait = min(wait or 1, d.at - now) end
    end
    if queued then keep[#keep + 1] = d end
  end
  st.active = keep
  return r, w, wait and (wait > 0 and wait or 0) or nil
end

local function reply(status_code, value)
  return { status = status_code, body = json.encode(value) }
end

--- The admin routes (`helpcrunch.mock.admin` adds them): "METHOD path" -> handler.
M.ADMIN = {
  ["GET /_mock/webhooks"] = function(mock) return reply(200, M.view(mock)) end,
  ["POST /_mock/webhooks"] = function(mock, req)
    local body = req.body ~= "" and json.decode(req.body) or nil
    if type(body) ~= "table" then return reply(400, { error = "body must be a JSON object" }) end
    local err = M.configure(mock, body)
    if err then return reply(400, { error = err }) end
    return reply(200, M.view(mock))
  end,
  ["DELETE /_mock/webhooks"] = function(mock)
    M.disable(mock)
    mock.webhooks.log = {}
    return reply(200, M.view(mock))
  end,
  -- Send any event now: `{"event": name, "eventData": {...}}` (for receivers' tests).
  ["POST /_mock/webhooks/send"] = function(mock, req)
    local body = json.decode(req.body)
    if type(body) ~= "table" or not KNOWN[body.event] or type(body.eventData) ~= "table" then
      return reply(400, { error = "body must be {\"event\": <a known event name>, "
        .. "\"eventData\": {...}}" })
    end
    if not mock.webhooks.url then return reply(400, { error = "no receiver: POST /_mock/webhooks first" }) end
    local id = M.emit(mock, body.event, body.eventData)
    return reply(200, { id = id or json.null })
  end,
}

return M
