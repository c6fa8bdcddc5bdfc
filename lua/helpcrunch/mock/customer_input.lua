--- Customer fields in request bodies: validation (one error entry per bad field, the
-- API's field-path codes) and applying them to a stored customer, for create, PATCH,
-- PUT and the batch alike. Unknown fields are ignored, as the API does.
--
-- Semantics (API-REFERENCE.md §1.1; the choices where it is silent are in the README):
-- PATCH changes only the fields sent, `null` clears one; PUT sets every writable field
-- that is missing to null (`unsubscribed`/`blocked` to false, `tags` to `[]`,
-- `customData` to `{}`). Location is sent flat (`city`, `regionCode`, `countryCode`; a
-- nested `location` object is taken too). A `tags` list replaces the customer's tags; a
-- `customData` list merges into the existing properties on PATCH (a null value removes
-- one) and replaces them on PUT.
-- @module helpcrunch.mock.customer_input

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"
local search = require "helpcrunch.mock.search"

local null, array = json.null, json.array
local type, tostring, tonumber, ipairs, pairs = type, tostring, tonumber, ipairs, pairs
local floor = math.floor
local MSG = search.MSG

local M = {}

local STRINGS = { "name", "email", "userId", "company", "phone", "source", "referer",
                  "lastPage", "locale", "createdFrom", "integrationId", "notes" }
local DATES = { "firstSeen", "lastSeen" }
local BOOLEANS = { "unsubscribed", "blocked" }
local LOCATION = { "regionCode", "countryCode", "city" }

local TOO_LONG = "This value is too long. It should have 255 characters or less."
local MAX_TEXT = 255

local function utf8_len(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

--- Tags of a body: `{name, color}` or a bare name; a tag without a colour gets the
-- account's colour for that name, or the default for a new one.
-- @tparam table mock
-- @param btags the body's `tags`
-- @tparam table errs error entries (appended to)
-- @tparam[opt] string prefix code prefix ("[0].")
-- @treturn table array of `{name, color}`
function M.read_tags(mock, btags, errs, prefix)
  prefix = prefix or ""
  local tags = array({})
  if btags == nil or btags == null then return tags end
  if not search.is_list(btags) then
    errs[#errs + 1] = { prefix .. "tags", MSG.array }
    return tags
  end
  for i, t in ipairs(btags) do
    local code = prefix .. "tags[" .. (i - 1) .. "]"
    if type(t) == "string" then t = { name = t } end
    if type(t) ~= "table" or type(t.name) ~= "string" or t.name == "" then
      errs[#errs + 1] = { code .. ".name", MSG.blank }
    elseif t.color ~= nil and t.color ~= null and type(t.color) ~= "string" then
      errs[#errs + 1] = { code .. ".color", MSG.string }
    else
      local color = t.color
      if color == nil or color == null or color == "" then
        color = mock.store:tag_color(t.name) or data.DEFAULT_TAG_COLOR
      end
      tags[#tags + 1] = { name = t.name, color = color }
    end
  end
  return tags
end

-- customData: the API's list of {property, value} (a map is taken as it is).
-- Returns the map and its property order.
local function read_custom(bcd, errs, prefix)
  local cd, order = {}, {}
  if bcd == nil or bcd == null then return cd, order end
  if type(bcd) ~= "table" then
    errs[#errs + 1] = { prefix .. "customData", MSG.array }
  elseif search.is_list(bcd) then
    for i, p in ipairs(bcd) do
      local code = prefix .. "customData[" .. (i - 1) .. "]"
      if type(p) ~= "table" or type(p.property) ~= "string" or p.property == "" then
        errs[#errs + 1] = { code .. ".property", MSG.blank }
      else
        local v = p.value
        if v == nil then v = null end
        -- a date attribute sent as a numeric string is stored as an integer
        if type(v) == "string" and v:find("^%d+$") and p.property:lower():find("date") then
          v = tonumber(v)
        end
        if type(v) == "string" and utf8_len(v) > MAX_TEXT then
          errs[#errs + 1] = { code .. ".value", TOO_LONG }
        end
        if cd[p.property] == nil then order[#order + 1] = p.property end
        cd[p.property] = v
      end
    end
  else
    local keys = {}
    for k in pairs(bcd) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = bcd[k]
      if type(v) == "string" and utf8_len(v) > MAX_TEXT then
        errs[#errs + 1] = { prefix .. "customData." .. k, TOO_LONG }
      end
      cd[k] = v
      order[#order + 1] = k
    end
  end
  return cd, order
end

--- The writable fields present in a body, checked.
-- @tparam table mock
-- @tparam table body decoded JSON object
-- @tparam table errs error entries (appended to)
-- @tparam[opt] string prefix code prefix for batch items ("[0].")
-- @treturn table changes `{ set = {field = value}, location = {key = value}, tags = list|nil,
--   cd = map|nil, cd_order = list|nil }` (null where the body clears a field)
function M.read(mock, body, errs, prefix)
  prefix = prefix or ""
  local ch = { set = {}, location = {} }
  for _, k in ipairs(STRINGS) do
    local v = body[k]
    if v == null then
      ch.set[k] = null
    elseif v ~= nil then
      if type(v) ~= "string" then
        errs[#errs + 1] = { prefix .. k, MSG.string }
      elseif k == "notes" and utf8_len(v) > MAX_TEXT then
        errs[#errs + 1] = { prefix .. k, TOO_LONG }
      else
        ch.set[k] = v
      end
    end
  end
  for _, k in ipairs(DATES) do
    local v = body[k]
    if v == null then
      ch.set[k] = null
    elseif (type(v) == "string" and v:find("^%d+$")) or
           (type(v) == "number" and v == floor(v) and v >= 0) then
      ch.set[k] = v                          -- kept as sent: the API echoes string dates
    elseif v ~= nil then
      errs[#errs + 1] = { prefix .. k, MSG.numeric }
    end
  end
  for _, k in ipairs(BOOLEANS) do
    local v = body[k]
    if v == null then
      ch.set[k] = false
    elseif type(v) == "boolean" then
      ch.set[k] = v
    elseif v ~= nil then
      errs[#errs + 1] = { prefix .. k, "This value should be of type bool." }
    end
  end
  local loc = body.location
  if type(loc) == "table" then
    for _, k in ipairs(LOCATION) do
      if type(loc[k]) == "string" then ch.location[k] = loc[k] end
    end
  elseif loc ~= nil and loc ~= null then
    errs[#errs + 1] = { prefix .. "location", MSG.array }
  end
  for _, k in ipairs(LOCATION) do                -- flat, as the API documents
    local v = body[k]
    if v == null or type(v) == "string" then
      ch.location[k] = v
    elseif v ~= nil then
      errs[#errs + 1] = { prefix .. k, MSG.string }
    end
  end
  if body.tags ~= nil then ch.tags = M.read_tags(mock, body.tags, errs, prefix) end
  if body.customData ~= nil then
    ch.cd, ch.cd_order = read_custom(body.customData, errs, prefix)
    ch.cd_clear = body.customData == null
  end
  return ch
end

--- Validate a create body and build the stored customer.
-- @tparam table mock
-- @tparam table body decoded JSON object
-- @tparam number now creation time
-- @treturn table|nil entry
-- @treturn table|nil errors (field entries, without invalid_request)
function M.new_customer(mock, body, now)
  local errs = {}
  local ch = M.read(mock, body, errs)
  local dev = body.device
  if dev ~= nil and dev ~= null and type(dev) ~= "table" then
    errs[#errs + 1] = { "device", MSG.array }
  end
  if #errs > 0 then return nil, errs end
  local c = {}
  for _, k in ipairs(STRINGS) do c[k] = ch.set[k] or null end
  for _, k in ipairs(DATES) do c[k] = ch.set[k] or null end
  if c.lastSeen == null then c.lastSeen = c.firstSeen end
  for _, k in ipairs(BOOLEANS) do c[k] = ch.set[k] or false end
  c.location = { regionCode = null, countryCode = null, city = null }
  for k, v in pairs(ch.location) do c.location[k] = v end
  c.device = type(dev) == "table" and data.copy(dev) or null
  c.tags = ch.tags or array({})
  c.customData = ch.cd or {}
  return { customer = c, cd_order = ch.cd_order or {}, cd_list = false, created = now }
end

--- Is the userId the changes set held by another customer than `rec`?
-- @tparam table mock
-- @tparam table ch changes
-- @tparam[opt] table rec the customer being changed
-- @treturn boolean
function M.userid_taken(mock, ch, rec)
  local uid = ch.set.userId
  if type(uid) ~= "string" then return false end
  local holder = mock.store:find_user(uid)
  return holder ~= nil and holder ~= rec
end

local function tag_names(tags)
  local names = {}
  if type(tags) == "table" then
    for _, t in ipairs(tags) do names[#names + 1] = type(t) == "table" and t.name or "" end
  end
  return table.concat(names, "\0")
end

--- The webhook events a change of a customer fires (API-REFERENCE.md §6.3).
-- @tparam table before `M.snapshot` of the customer before
-- @tparam table c the customer after
-- @treturn table list of event names
function M.events(before, c)
  local list = {}
  if before.email ~= c.email then list[#list + 1] = "customer.email_updated" end
  if before.unsubscribed ~= (c.unsubscribed == true) then
    list[#list + 1] = c.unsubscribed == true and "customer.unsubscribed" or "customer.subscribed"
  end
  if before.blocked ~= (c.blocked == true) then
    list[#list + 1] = c.blocked == true and "customer.blocked" or "customer.unblocked"
  end
  if before.tags ~= tag_names(c.tags) then list[#list + 1] = "customer.tags_changed" end
  return list
end

--- What `M.events` compares.
-- @tparam table c a stored customer
-- @treturn table
function M.snapshot(c)
  return { email = c.email, unsubscribed = c.unsubscribed == true, blocked = c.blocked == true,
           tags = tag_names(c.tags) }
end

--- Apply checked changes to a stored record (then `store:touch(rec)`).
-- @tparam table rec the store's record
-- @tparam table ch from `M.read`
-- @tparam string mode "patch" or "put"
function M.apply(rec, ch, mode)
  local c = rec.c
  if mode == "put" then
    for _, k in ipairs(STRINGS) do c[k] = null end
    for _, k in ipairs(DATES) do c[k] = null end
    for _, k in ipairs(BOOLEANS) do c[k] = false end
    c.location = { regionCode = null, countryCode = null, city = null }
    c.tags = array({})
    if not ch.cd then c.customData, rec.cd_order = {}, {} end
  end
  for k, v in pairs(ch.set) do c[k] = v end
  if next(ch.location) ~= nil then
    if type(c.location) ~= "table" then
      c.location = { regionCode = null, countryCode = null, city = null }
    end
    for k, v in pairs(ch.location) do c.location[k] = v end
  end
  if ch.tags then c.tags = ch.tags end
  if ch.cd then
    if mode == "put" or ch.cd_clear or type(c.customData) ~= "table" then
      c.customData, rec.cd_order = ch.cd, ch.cd_order
    else
      local order = rec.cd_order or {}
      for _, k in ipairs(ch.cd_order) do
        local v = ch.cd[k]
        if v == null then
          c.customData[k] = nil
        else
          if c.customData[k] == nil then order[#order + 1] = k end
          c.customData[k] = v
        end
      end
      rec.cd_order = order
    end
  end
end

--- The short customer of customer webhooks (§6.4): no tags, location or device.
-- @tparam table c a stored customer
-- @treturn table
function M.short(c)
  return { id = c.id, name = c.name, userId = c.userId, email = c.email,
           unsubscribed = c.unsubscribed, customData = data.copy(c.customData or {}) }
end

return M
