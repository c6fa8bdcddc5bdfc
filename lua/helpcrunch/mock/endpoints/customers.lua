--- `/v1/customers`: list, get, search and create.
--
-- Handlers take the mock (see `helpcrunch.mock`), the request
-- `{ method, path, query = {name = value}, headers = {lower-name = value}, body }` and
-- the path's `{segments}`, and return a reply (see `helpcrunch.mock.replies`).
-- @module helpcrunch.mock.endpoints.customers

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"
local store = require "helpcrunch.mock.store"
local search = require "helpcrunch.mock.search"
local replies = require "helpcrunch.mock.replies"

local null, array = json.null, json.array
local type, tostring, tonumber, ipairs, pairs = type, tostring, tonumber, ipairs, pairs
local floor = math.floor
local encoded = store.encoded

local GET, POST = replies.dialects.get, replies.dialects.post
local NOT_FOUND = replies.errors_body({ { "entity_not_found", "Customer not found" } })

local M = {}

local function list(mock, req)
  local q, errs = req.query, {}
  local offset, limit, key, dir = 0, 100, "id", "desc"
  if q.offset ~= nil then
    if q.offset:find("^%d+$") then offset = tonumber(q.offset)
    else errs[#errs + 1] = { "validation_error", "offset value is invalid" } end
  end
  if q.limit ~= nil then
    local n = q.limit:find("^%d+$") and tonumber(q.limit)
    if n and n >= 1 and n <= 100 then limit = n
    else errs[#errs + 1] = { "validation_error", "limit value is invalid" } end
  end
  if q.sort ~= nil then
    if search.SORTS[q.sort] then key, dir = search.SORTS[q.sort], "asc"
    else errs[#errs + 1] = { "validation_error", "sort value is invalid" } end
  end
  if q.order ~= nil then
    local o = q.order:lower()
    if o == "asc" or o == "desc" then dir = o
    else errs[#errs + 1] = { "validation_error", "order value is invalid" } end
  end
  if #errs > 0 then return GET.bad_request(errs) end
  local recs = mock.store:ordered(key, dir)
  local res = { status = 200, body = replies.page(recs, offset, limit, #recs, encoded) }
  mock:after_page(key, dir, nil, recs, math.min(#recs, offset + limit))
  return res
end

local function get(mock, _, id)
  local rec = id:find("^%d+$") and mock.store:get(tonumber(id))
  if not rec then return { status = 404, body = NOT_FOUND } end
  return { status = 200, body = encoded(rec, true) }
end

local function run_search(mock, req)
  local body, bad = replies.json_object(req, POST)
  if not body then return bad end
  local q, errs = search.compile(body)
  if not q then return POST.bad_request(errs) end
  local recs = mock:search(q)
  local res = { status = 200, body = replies.page(recs, q.offset, q.limit, #recs, encoded) }
  mock:after_page(q.key, q.dir, recs[q.offset + 1] or recs[1], recs,
    math.min(#recs, q.offset + q.limit))
  return res
end

local STRING_FIELDS = { "name", "email", "userId", "company", "phone", "source", "referer",
                        "lastPage", "locale", "createdFrom", "integrationId", "notes" }
local TOO_LONG = "This value is too long. It should have 255 characters or less."
local MAX_TEXT = 255

local function utf8_len(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- Tags: `{name, color}` or a bare name; a tag without a colour gets the account's
-- colour for that name, or the default for a new one.
local function read_tags(mock, btags, errs)
  local tags = array({})
  if btags == nil or btags == null then return tags end
  if not search.is_list(btags) then
    errs[#errs + 1] = { "tags", search.MSG.array }
    return tags
  end
  for i, t in ipairs(btags) do
    local code = "tags[" .. (i - 1) .. "]"
    if type(t) == "string" then t = { name = t } end
    if type(t) ~= "table" or type(t.name) ~= "string" or t.name == "" then
      errs[#errs + 1] = { code .. ".name", search.MSG.blank }
    elseif t.color ~= nil and t.color ~= null and type(t.color) ~= "string" then
      errs[#errs + 1] = { code .. ".color", search.MSG.string }
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
local function read_custom(bcd, errs)
  local cd, order = {}, {}
  if bcd == nil or bcd == null then return cd, order end
  if type(bcd) ~= "table" then
    errs[#errs + 1] = { "customData", search.MSG.array }
  elseif search.is_list(bcd) then
    for i, p in ipairs(bcd) do
      local code = "customData[" .. (i - 1) .. "]"
      if type(p) ~= "table" or type(p.property) ~= "string" or p.property == "" then
        errs[#errs + 1] = { code .. ".property", search.MSG.blank }
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
        errs[#errs + 1] = { "customData." .. k, TOO_LONG }
      end
      cd[k] = v
      order[#order + 1] = k
    end
  end
  return cd, order
end

--- Validate a create body and build the stored customer.
-- @tparam table mock
-- @tparam table body decoded JSON object
-- @tparam number now creation time
-- @treturn table|nil entry
-- @treturn table|nil errors (field entries, without invalid_request)
function M.new_customer(mock, body, now)
  local errs = {}
  local c = {}
  for _, k in ipairs(STRING_FIELDS) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = null
    elseif type(v) ~= "string" then
      errs[#errs + 1] = { k, search.MSG.string }
    else
      c[k] = v
    end
  end
  if type(c.notes) == "string" and utf8_len(c.notes) > MAX_TEXT then
    errs[#errs + 1] = { "notes", TOO_LONG }
  end
  for _, k in ipairs({ "firstSeen", "lastSeen" }) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = null
    elseif (type(v) == "string" and v:find("^%d+$")) or
           (type(v) == "number" and v == floor(v) and v >= 0) then
      c[k] = v                          -- kept as sent: the API echoes string dates
    else
      errs[#errs + 1] = { k, search.MSG.numeric }
    end
  end
  if c.lastSeen == null then c.lastSeen = c.firstSeen end
  for _, k in ipairs({ "unsubscribed", "blocked" }) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = false
    elseif type(v) ~= "boolean" then
      errs[#errs + 1] = { k, "This value should be of type bool." }
    else
      c[k] = v
    end
  end
  local loc = body.location
  c.location = { regionCode = null, countryCode = null, city = null }
  if type(loc) == "table" then
    for _, k in ipairs({ "regionCode", "countryCode", "city" }) do
      if type(loc[k]) == "string" then c.location[k] = loc[k] end
    end
  elseif loc ~= nil and loc ~= null then
    errs[#errs + 1] = { "location", search.MSG.array }
  end
  local dev = body.device
  if type(dev) == "table" then
    c.device = data.copy(dev)
  elseif dev == nil or dev == null then
    c.device = null
  else
    errs[#errs + 1] = { "device", search.MSG.array }
  end
  c.tags = read_tags(mock, body.tags, errs)
  local order
  c.customData, order = read_custom(body.customData, errs)
  if #errs > 0 then return nil, errs end
  return { customer = c, cd_order = order, cd_list = false, created = now }
end

local function create(mock, req)
  local body, bad = replies.json_object(req, POST)
  if not body then return bad end
  local e, errs = M.new_customer(mock, body, mock.now())
  if not e then return POST.bad_request(errs) end
  local uid = e.customer.userId
  if type(uid) == "string" and mock.store:find_user(uid) then
    return POST.bad_request({ { "invalid_userId_value", "This userId is already taken." } })
  end
  e.customer.id = mock.store.max_id + 1
  local rec = mock.store:add(e)
  return { status = 201, body = encoded(rec) }
end

--- The routes, in matching order (the literal /search before /{id}).
M.routes = {
  { method = "GET", path = "/v1/customers", handler = list, dialect = "get",
    name = "customers.list" },
  { method = "POST", path = "/v1/customers", handler = create, dialect = "post",
    name = "customers.create" },
  { method = "POST", path = "/v1/customers/search", handler = run_search, dialect = "post",
    name = "customers.search" },
  { method = "GET", path = "/v1/customers/{id}", handler = get, dialect = "get",
    name = "customers.get" },
}

return M
