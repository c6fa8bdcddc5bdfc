--- Error objects of helpcrunch-lua (DESIGN.md "Conventions").
--
-- A request failure is a table with `kind`, `status`, `code`, `message`,
-- `errors`, `retry_after`, `method`, `path`, `attempts`, and a `__tostring`
-- that reads like
-- `helpcrunch: 404 entity_not_found: Customer not found (GET /customers/5)`.
--
-- This is the one place where the facts a transport reports (an HTTP
-- status, a failure name such as "couldnt_connect", a body that did not
-- decode) become error kinds, and the one place where secrets are scrubbed
-- from everything an error or an event carries.
-- @module helpcrunch.errors

local core = require "helpcrunch.core"

local M = {}

local Error = {}
Error.__index = Error

--- One readable line: status (if any), code, message, method and path.
function Error:__tostring()
  local head = "helpcrunch: "
  if self.status then head = head .. self.status .. " " end
  local s = head .. tostring(self.code or self.kind or "error") .. ": " .. tostring(self.message or "")
  if self.method and self.path then s = s .. " (" .. self.method .. " " .. self.path .. ")" end
  if self.attempts and self.attempts > 1 then s = s .. " after " .. self.attempts .. " attempts" end
  return s
end

--- Make an error object from its fields.
-- @tparam table fields kind, message and the rest
-- @treturn table the same table, now an error
function M.new(fields)
  fields.errors = fields.errors or {}
  return setmetatable(fields, Error)
end

--- Is `v` an error object of this library?
function M.is(v)
  return getmetatable(v) == Error
end

-- ---- facts -> kinds: the one table -------------------------------------------

-- A transport failure's kind, by the failure's name (csrc/errors.c names
-- libcurl's results; the ngx transport uses the same names). Every name not
-- listed is a "transport" failure: refused, reset, dropped, TLS, DNS, ...
local FAILURE_KIND = {
  timeout = "timeout",
  partial_body = "decode",        -- the body ended before its Content-Length
  too_large = "too_large",
}

-- An HTTP status's kind.
local function status_kind(status)
  if status == 401 or status == 403 then return "auth" end
  if status == 404 then return "not_found" end
  if status == 429 then return "rate_limited" end
  if status >= 500 then return "server" end
  if status >= 300 and status < 400 then return "transport" end
  return "validation"
end

--- The kind of error a failure name stands for.
-- @tparam string failure e.g. "couldnt_connect", "timeout"
function M.failure_kind(failure)
  return FAILURE_KIND[failure] or "transport"
end

local GENERIC = "invalid_request"

-- The API's error entries, every member of each kept: a list under `errors`.
local function entries_of(body)
  local list = type(body) == "table" and body.errors
  local out = {}
  if type(list) ~= "table" then return out end
  for _, e in ipairs(list) do
    if type(e) == "table" then out[#out + 1] = e end
  end
  return out
end

--- Parse a Retry-After header: seconds, or an HTTP date.
-- @tparam string value the header
-- @tparam number now_epoch the current time, seconds since the epoch
-- @treturn number|nil seconds to wait, never negative
function M.parse_retry_after(value, now_epoch)
  if type(value) ~= "string" then return nil end
  local secs = tonumber(value:match("^%s*(%d+%.?%d*)%s*$"))
  if secs then return secs end
  -- IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  local d, mon, y, h, mi, s = value:match("%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT")
  if not d then return nil end
  local months = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                   Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
  local m = months[mon]
  if not m then return nil end
  -- Days since the epoch (civil calendar), no dependence on the local zone.
  y, m, d = tonumber(y), m, tonumber(d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local wait = t - (now_epoch or os.time())
  return wait > 0 and wait or 0
end

local function snippet(raw, n)
  return (raw or ""):gsub("%s+", " "):sub(1, n)
end

--- Build the error for a finished request from the transport's facts.
-- @tparam table facts `status`, `failure`, `message`, `sent`, `body`,
--   `decode_error`, `decode_at`, `raw`, `retry_after`, `location`,
--   `content_type` (see transport/curl.lua)
-- @tparam string method
-- @tparam string path the API path (never a URL with credentials: there is none)
-- @treturn table|nil the error, or nil when the facts are a success
function M.from_facts(facts, method, path)
  local status = facts.status
  if facts.failure then                                -- nothing usable arrived
    return M.new {
      kind = M.failure_kind(facts.failure), code = facts.failure, message = facts.message,
      method = method, path = path, sent = facts.sent,
      status = (status and status > 0) and status or nil,
    }
  end
  if status >= 200 and status < 300 then
    if not facts.decode_error then return nil end
    local message = facts.decode_error
    if facts.content_type and not facts.content_type:find("json", 1, true) then
      message = message .. " (Content-Type " .. facts.content_type .. ")"
    end
    local start = snippet(facts.raw, 40)
    if start ~= "" then message = message .. "; the body starts: " .. start end
    return M.new {
      kind = "decode", code = "invalid_json", status = status,
      message = message, offset = facts.decode_at,
      method = method, path = path, sent = true,
    }
  end
  local body, not_json = facts.body, facts.decode_error
  if body == nil and not not_json and facts.raw then
    -- decode = false (a call whose success body is not JSON): its error bodies are.
    local v, msg = core.decode(facts.raw)
    body, not_json = v, v == nil and msg or nil
  end
  local entries = entries_of(body)
  local code, messages = nil, {}
  for _, e in ipairs(entries) do
    if e.code ~= GENERIC then
      code = code or (type(e.code) == "string" and e.code or nil)
      local m = e.message or e.code
      if type(m) == "string" then messages[#messages + 1] = m end
    end
  end
  if not code and entries[1] and type(entries[1].code) == "string" then
    code = entries[1].code
    if type(entries[1].message) == "string" then messages[1] = entries[1].message end
  end
  local message
  if #messages > 0 then
    message = table.concat(messages, "; ")
  elseif status >= 300 and status < 400 then
    code = "redirect"
    message = "unexpected redirect" .. (facts.location and (" to " .. facts.location) or "")
      .. " (redirects are never followed)"
  elseif not_json then
    message = "HTTP " .. status .. " with a body that is not JSON: " .. snippet(facts.raw, 60)
  else
    message = "HTTP " .. status
  end
  return M.new {
    kind = status_kind(status), status = status, code = code or ("http_" .. status),
    message = message, errors = entries, method = method, path = path,
    retry_after = facts.retry_after and M.parse_retry_after(facts.retry_after) or nil,
    sent = true,
  }
end

-- ---- scrubbing: the one pass -------------------------------------------------

local function replace_all(s, secret, label)
  local i, j = s:find(secret, 1, true)
  if not i then return s end
  local parts, from = {}, 1
  while i do
    parts[#parts + 1] = s:sub(from, i - 1)
    parts[#parts + 1] = label
    from = j + 1
    i, j = s:find(secret, from, true)
  end
  parts[#parts + 1] = s:sub(from)
  return table.concat(parts)
end

--- A scrubber for some secrets: `scrub(v)` replaces every occurrence of each
-- secret, in every string reachable from v (values and keys of nested
-- tables, metatables not followed), by its label, in place; it returns v
-- (or the scrubbed string). Secrets of any length are scrubbed.
-- @tparam table secrets `{ [secret string] = "<label>" }`
-- @treturn function scrub
function M.scrubber(secrets)
  local list = {}
  for secret, label in pairs(secrets) do
    if type(secret) == "string" and secret ~= "" then list[#list + 1] = { secret, label } end
  end
  -- Longest first, so a secret that contains another is replaced whole.
  table.sort(list, function(a, b) return #a[1] > #b[1] end)
  local function clean(s)
    for i = 1, #list do s = replace_all(s, list[i][1], list[i][2]) end
    return s
  end
  local function walk(t, seen)
    if seen[t] then return end
    seen[t] = true
    local rekey
    for k, v in pairs(t) do
      if type(v) == "string" then
        local c = clean(v)
        if c ~= v then t[k] = c end
      elseif type(v) == "table" then
        walk(v, seen)
      end
      if type(k) == "string" and clean(k) ~= k then
        rekey = rekey or {}
        rekey[#rekey + 1] = k
      elseif type(k) == "table" then
        walk(k, seen)
      end
    end
    for _, k in ipairs(rekey or {}) do
      local v = t[k]
      t[k] = nil
      t[clean(k)] = v
    end
  end
  return function(v)
    if type(v) == "string" then return clean(v) end
    if type(v) == "table" then walk(v, {}) end
    return v
  end
end

return M
