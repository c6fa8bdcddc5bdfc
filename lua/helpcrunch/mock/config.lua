--- The mock's options: startup defaults, the runtime configuration they give, and
-- changes to it through `POST /_mock/config`.
-- @module helpcrunch.mock.config

local json = require "helpcrunch.mock.json"
local ratewindow = require "helpcrunch.mock.ratewindow"
local faults = require "helpcrunch.mock.faults"

local null = json.null
local tonumber, ipairs, pairs = tonumber, ipairs, pairs
local floor = math.floor

local M = {}

--- Startup options (`helpcrunch.mock.new`, the command line) and their defaults.
M.DEFAULTS = {
  host = "127.0.0.1", port = 0, customers = 250, chats = nil, seed = 1, token = nil,
  rate_limit = nil, retry_after = nil, fault_rate = 0, faults = nil, churn = 0,
  churn_delete = 0, jitter_ms = 0,
  delay_ms = 0, data = nil, log = nil, log_max = 100000, exit_with_parent = false,
}

--- Check the startup options that can be wrong.
-- @tparam table o options
-- @treturn string|nil message when one is invalid
function M.check(o)
  local rate, err = ratewindow.parse_rate(o.rate_limit)
  if rate == nil then return err end
  local _, rerr = ratewindow.parse_retry_after(o.retry_after)
  if rerr then return rerr end
  local _, ferr = faults.parse(o.faults, faults.RANDOM)
  if ferr then return ferr end
end

--- The runtime configuration the startup options give.
-- @tparam table o checked options
-- @treturn table `{rate_limit, retry_after, fault_rate, faults, churn, delay_ms, pages,
--   dialects}`
function M.initial(o)
  return {
    rate_limit = ratewindow.parse_rate(o.rate_limit),
    retry_after = (ratewindow.parse_retry_after(o.retry_after)),
    fault_rate = tonumber(o.fault_rate) or 0,
    faults = faults.parse(o.faults, faults.RANDOM) or faults.RANDOM,
    churn = floor(tonumber(o.churn) or 0),
    churn_delete = floor(tonumber(o.churn_delete) or 0),
    jitter_ms = tonumber(o.jitter_ms) or 0,
    delay_ms = tonumber(o.delay_ms) or 0,
    pages = {}, dialects = {},
  }
end

-- The route names of the API (for `pages` and `dialects`).
local function route_names()
  local names = {}
  for _, r in ipairs(require("helpcrunch.mock.router").ROUTES) do names[r.name] = true end
  return names
end

local PAGE_TOTALS = { meta = true, top = true, over = true, none = true }
local PAGE_KEYS = { data = true, messages = true }
local DIALECTS = { get = true, post = true }

-- `pages`: {route name = {total = "meta"|"top"|"over"|"none", key = "data"|"messages"}}.
local function check_pages(v)
  if type(v) ~= "table" then return nil, "pages must be an object {route name: {total, key}}" end
  local names, out = route_names(), {}
  for name, p in pairs(v) do
    if not names[name] then return nil, "pages: unknown route " .. tostring(name) end
    if type(p) ~= "table" or (p.total ~= nil and not PAGE_TOTALS[p.total])
       or (p.key ~= nil and not PAGE_KEYS[p.key]) then
      return nil, "pages." .. name .. " must be {total = meta|top|over|none, key = data|messages}"
    end
    out[name] = { total = p.total, key = p.key }
  end
  return out
end

-- `dialects`: {route name = "get" (single-entry errors) | "post" (led by invalid_request)}.
local function check_dialects(v)
  if type(v) ~= "table" then return nil, "dialects must be an object {route name: get|post}" end
  local names, out = route_names(), {}
  for name, d in pairs(v) do
    if not names[name] then return nil, "dialects: unknown route " .. tostring(name) end
    if not DIALECTS[d] then return nil, "dialects." .. name .. " must be get or post" end
    out[name] = d
  end
  return out
end

--- The configuration as `GET /_mock/config` shows it.
-- @tparam table c
-- @treturn table
function M.view(c)
  return {
    fault_rate = c.fault_rate, faults = json.array(c.faults), delay_ms = c.delay_ms,
    churn = c.churn, churn_delete = c.churn_delete, jitter_ms = c.jitter_ms,
    retry_after = c.retry_after == nil and null or c.retry_after,
    pages = c.pages, dialects = c.dialects,
    rate_limit = c.rate_limit and (c.rate_limit.n .. "/" .. c.rate_limit.per) or false,
  }
end

--- Apply the changes of a `POST /_mock/config` body; nothing changes when one is bad.
-- @tparam table c configuration (changed in place)
-- @tparam table body
-- @treturn string|nil message when invalid
-- @treturn boolean|nil true when the rate limit changed (the window must be emptied)
function M.apply(c, body)
  local new = {}
  if body.rate_limit ~= nil then
    local r, err = ratewindow.parse_rate(body.rate_limit)
    if r == nil then return err end
    new.rate_limit = r
  end
  if body.retry_after ~= nil then
    local r, err = ratewindow.parse_retry_after(body.retry_after)
    if err then return err end
    new.retry_after = r == nil and false or r
  end
  if body.faults ~= nil then
    local f, err = faults.parse(body.faults, faults.RANDOM)
    if not f then return err or "faults must be a list" end
    new.faults = f
  end
  if body.pages ~= nil then
    local p, err = check_pages(body.pages)
    if not p then return err end
    new.pages = p
  end
  if body.dialects ~= nil then
    local d, err = check_dialects(body.dialects)
    if not d then return err end
    new.dialects = d
  end
  for _, k in ipairs({ "fault_rate", "delay_ms", "churn", "churn_delete", "jitter_ms" }) do
    if body[k] ~= nil then
      local n = tonumber(body[k])
      if not n or n < 0 then return k .. " must be a number >= 0" end
      new[k] = n
    end
  end
  if new.fault_rate and new.fault_rate > 1 then return "fault_rate must be between 0 and 1" end
  for k, v in pairs(new) do
    if k == "retry_after" and v == false then v = nil end
    c[k] = v
  end
  if new.churn then c.churn = floor(new.churn) end
  if new.churn_delete then c.churn_delete = floor(new.churn_delete) end
  return nil, new.rate_limit ~= nil
end

return M
