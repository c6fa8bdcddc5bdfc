--- Error objects of helpcrunch-lua (DESIGN.md "Conventions").
--
-- A request failure is a table with `kind`, `status`, `code`, `message`,
-- `errors`, `retry_after`, `method`, `path`, `attempts`, and a `__tostring`
-- that reads like
-- `helpcrunch: 404 entity_not_found: Customer not found (GET /customers/5)`.
-- @module helpcrunch.errors

local M = {}

local Error = {}
Error.__index = Error

--- One readable line: status (if any), code, message, method and path.
function Error:__tostring()
  local head = "helpcrunch: "
  if self.status then head = head .. self.status .. " " end
  local s = head .. (self.code or self.kind or "error") .. ": " .. (self.message or "")
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

-- Kind by HTTP status.
local function kind_of(status)
  if status == 401 or status == 403 then return "auth" end
  if status == 404 then return "not_found" end
  if status == 429 then return "rate_limited" end
  if status >= 500 then return "server" end
  if status >= 300 and status < 400 then return "transport" end
  return "validation"
end

local GENERIC = "invalid_request"

-- The API's error entries, whatever shape arrived: a list under `errors`.
local function entries_of(body)
  local list = type(body) == "table" and body.errors
  local out = {}
  if type(list) ~= "table" then return out end
  for _, e in ipairs(list) do
    if type(e) == "table" then
      out[#out + 1] = {
        code = type(e.code) == "string" and e.code or nil,
        message = type(e.message) == "string" and e.message or nil,
      }
    end
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

--- Build the error for a finished request that did not succeed.
-- @tparam table res the result of the core's `collect`
-- @tparam string method
-- @tparam string path the API path (never the URL with a token: there is none)
-- @treturn table|nil the error, or nil when `res` is a success
function M.from_result(res, method, path)
  local status = res.status
  if res.kind then                                    -- libcurl failed
    return M.new {
      kind = res.kind, code = res.code, message = res.message,
      method = method, path = path, sent = res.sent,
      status = (status and status > 0) and status or nil,
    }
  end
  if status >= 200 and status < 300 then
    if res.decode_error then
      local message = res.decode_error
      if res.content_type and not res.content_type:find("json", 1, true) then
        message = message .. " (Content-Type " .. res.content_type .. ")"
      end
      local snippet = (res.raw or ""):gsub("%s+", " "):sub(1, 40)
      if snippet ~= "" then message = message .. "; the body starts: " .. snippet end
      return M.new {
        kind = "decode", code = "invalid_json", status = status,
        message = message, offset = res.decode_at,
        method = method, path = path, sent = true,
      }
    end
    return nil
  end
  local entries = entries_of(res.body)
  local code, messages = nil, {}
  for _, e in ipairs(entries) do
    if e.code ~= GENERIC then
      code = code or e.code
      messages[#messages + 1] = e.message or e.code
    end
  end
  if not code and entries[1] then
    code, messages[1] = entries[1].code, entries[1].message
  end
  local message
  if #messages > 0 then
    message = table.concat(messages, "; ")
  elseif status >= 300 and status < 400 then
    code = "redirect"
    message = "unexpected redirect" .. (res.location and (" to " .. res.location) or "")
      .. " (redirects are never followed)"
  elseif res.decode_error then
    local snippet = (res.raw or ""):gsub("%s+", " "):sub(1, 60)
    message = "HTTP " .. status .. " with a body that is not JSON: " .. snippet
  else
    message = "HTTP " .. status
  end
  return M.new {
    kind = kind_of(status), status = status, code = code or ("http_" .. status),
    message = message, errors = entries, method = method, path = path,
    retry_after = res.retry_after and M.parse_retry_after(res.retry_after) or nil,
    sent = true,
  }
end

return M
