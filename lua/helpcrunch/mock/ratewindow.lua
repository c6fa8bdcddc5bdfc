--- The mock's rate limit: a sliding window of accepted request times, and the
-- Retry-After header of its 429s.
--
-- A request is accepted when fewer than N were accepted in the last SECONDS; a
-- refused one does not take a slot.
-- @module helpcrunch.mock.ratewindow

local json = require "helpcrunch.mock.json"

local null = json.null
local type, tostring, tonumber, setmetatable = type, tostring, tonumber, setmetatable
local floor, ceil, max = math.floor, math.ceil, math.max

local M = {}

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

local Window = {}
Window.__index = Window

--- An empty window.
-- @treturn table
function M.new()
  return setmetatable({ head = 1, tail = 0 }, Window)
end

--- Take a slot (never more than `rate.n` requests in any `rate.per` seconds).
-- @tparam table|false rate `{n, per}`, or false for no limit
-- @tparam number now seconds
-- @treturn boolean ok
-- @treturn number|nil seconds until a slot frees, when not ok
function Window:take(rate, now)
  if not rate then return true end
  local edge = now - rate.per
  while self.head <= self.tail and self[self.head] <= edge do
    self[self.head] = nil
    self.head = self.head + 1
  end
  if self.tail - self.head + 1 < rate.n then
    self.tail = self.tail + 1
    self[self.tail] = now
    return true
  end
  return false, self[self.head] + rate.per - now
end

--- The Retry-After header of a 429.
-- @tparam number|nil seconds computed wait, or nil for a fault without one
-- @param override a fault's own retry_after (takes precedence)
-- @param configured the configured retry_after (see `parse_retry_after`)
-- @treturn table|nil headers
function M.retry_headers(seconds, override, configured)
  local v = override
  if v == nil then v = configured end
  if v == "none" then return nil end
  if v == nil then v = max(1, ceil((seconds or 1) - 1e-6)) end
  return { ["Retry-After"] = tostring(v) }
end

return M
