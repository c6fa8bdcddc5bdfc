--- `client.customers`: get, list, all, create, search.
-- Arguments are checked before any request (errors raise); request failures
-- return `nil, err`. The customer fields, their types and the sorts are
-- decided here, once (FIELDS, SORTS), for the search builder too.
-- @module helpcrunch.resources.customers

local util = require "helpcrunch.util"
local pager = require "helpcrunch.pager"
local search = require "helpcrunch.search"

local M = {}

local Customers = {}
Customers.__index = Customers

--- @local
function M.new(client)
  return setmetatable({ client = client }, Customers)
end

local SORTS = {
  firstSeen = "customers.firstSeen", lastSeen = "customers.lastSeen",
  ["customers.firstSeen"] = "customers.firstSeen", ["customers.lastSeen"] = "customers.lastSeen",
}

--- Check a sort field; returns the API's full name.
function M.check_sort(fname, sort, level)
  local full = SORTS[sort]
  if sort ~= nil and not full then
    error(fname .. ": sort must be \"firstSeen\" or \"lastSeen\" (or the full "
      .. "\"customers.firstSeen\"/\"customers.lastSeen\"), got " .. util.describe(sort),
      level + 1)
  end
  return full
end

--- Check an order; returns "asc" or "desc".
function M.check_order(fname, order, level)
  if order == nil then return nil end
  local o = type(order) == "string" and order:lower() or nil
  if o ~= "asc" and o ~= "desc" then
    error(fname .. ": order must be \"asc\" or \"desc\" (any case), got "
      .. util.describe(order), level + 1)
  end
  return o
end

local function check_id(id)
  local s
  if util.is_integral(id) then
    s = id >= 1 and util.int_string(id) or nil
  elseif type(id) == "string" and id:match("^%d+$") and #id <= 18 then
    s = id:gsub("^0+", "")
    if s == "" then s = nil end
  end
  if not s then
    error("customers:get: id must be a positive integer (HelpCrunch's numeric customer id,"
      .. " e.g. 1568834), got " .. util.describe(id), 3)
  end
  return s
end

--- Get one customer by HelpCrunch's numeric id.
-- @param id integer or string of digits
-- @treturn table|nil the customer
-- @treturn table the error
function Customers:get(id)
  util.check_self(self, Customers, "client.customers:get", 2)
  local path = "/customers/" .. check_id(id)
  local body, err = self.client:call("GET", path):wait()
  if body == nil then return nil, err end
  return body
end

local LIST_PARAMS = { offset = true, limit = true, sort = true, order = true }

-- Checked list parameters -> (offset, limit, sort, order).
local function list_args(fname, params, default_limit, level)
  params = util.check_params(fname, params, LIST_PARAMS, level + 1)
  util.check_int(fname, "offset", params.offset, 0, 2 ^ 53, level + 1)
  util.check_int(fname, "limit", params.limit, 1, 100, level + 1)
  return params.offset or 0, params.limit or default_limit,
    M.check_sort(fname, params.sort, level + 1), M.check_order(fname, params.order, level + 1)
end

local function list_query(offset, limit, sort, order)
  local q = "offset=" .. util.int_string(offset) .. "&limit=" .. util.int_string(limit)
  if sort then q = q .. "&sort=" .. sort end
  if order then q = q .. "&order=" .. order end
  return q
end

--- One page of customers.
-- @tparam[opt] table params `offset` (0), `limit` (1..100, the client's
--   page_size), `sort` ("firstSeen"|"lastSeen"), `order` ("asc"|"desc")
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table the error
function Customers:list(params)
  util.check_self(self, Customers, "client.customers:list", 2)
  local offset, limit, sort, order =
    list_args("customers:list", params, self.client.page_size, 2)
  local body, err = self.client:call("GET", "/customers",
    { query = list_query(offset, limit, sort, order) }):wait()
  if body == nil then return nil, err end
  return pager.page_of(body, offset, limit, "GET", "/customers")
end

local ALL_PARAMS = { sort = true, order = true, max = true, page_size = true, prefetch = true }

--- Every customer, one by one, across pages: `for c in customers:all{} do`.
-- A failure raises the error object (like io.lines).
-- @tparam[opt] table params `sort`, `order`, `max` (most customers in all),
--   `page_size` (1..100), `prefetch` (pages requested ahead, 0..8)
function Customers:all(params)
  util.check_self(self, Customers, "client.customers:all", 2)
  local fname = "customers:all"
  params = util.check_params(fname, params, ALL_PARAMS, 2)
  util.check_int(fname, "max", params.max, 0, 2 ^ 53, 2)
  util.check_int(fname, "page_size", params.page_size, 1, 100, 2)
  util.check_int(fname, "prefetch", params.prefetch, 0, 8, 2)
  local sort = M.check_sort(fname, params.sort, 2)
  local order = M.check_order(fname, params.order, 2)
  local client = self.client
  return pager.iterate {
    client = client, page_size = params.page_size or client.page_size,
    max = params.max, prefetch = params.prefetch or client.prefetch,
    method = "GET", path = "/customers",
    request = function(offset, limit)
      return client:call("GET", "/customers", { query = list_query(offset, limit, sort, order) })
    end,
  }
end

-- ---- create ---------------------------------------------------------------

local function date_string(fname, name, v)
  if util.is_integral(v) then return util.int_string(v) end
  if type(v) == "string" and v:match("^%d+$") then return v end
  error(fname .. ": " .. name .. " must be a UNIX timestamp (integer or string of digits),"
    .. " got " .. util.describe(v), 4)
end

local SCALAR = { string = true, number = true, boolean = true }

local function custom_data_list(fname, cd)
  if type(cd) ~= "table" then
    error(fname .. ": customData must be a table {property = value}, got "
      .. util.describe(cd), 4)
  end
  local list = {}
  if cd[1] ~= nil then                       -- already the API's list form
    for i, e in ipairs(cd) do
      if type(e) ~= "table" or type(e.property) ~= "string" then
        error(fname .. ": customData[" .. i .. "] must be {property = name, value = v}", 4)
      end
      list[#list + 1] = { property = e.property, value = e.value }
    end
    return list
  end
  for k, v in pairs(cd) do
    if type(k) ~= "string" then
      error(fname .. ": customData keys must be strings, got " .. util.describe(k), 4)
    end
    if not SCALAR[type(v)] then
      error(fname .. ": customData." .. k .. " must be a string, number or boolean, got "
        .. util.describe(v), 4)
    end
    list[#list + 1] = { property = k, value = v }
  end
  table.sort(list, function(a, b) return a.property < b.property end)
  return list
end

local function tag_list(fname, tags)
  if type(tags) ~= "table" then
    error(fname .. ": tags must be a list of names or {name=, color=}, got "
      .. util.describe(tags), 4)
  end
  local list = {}
  for i, t in ipairs(tags) do
    if type(t) == "string" then
      list[i] = { name = t }
    elseif type(t) == "table" and type(t.name) == "string" then
      if t.color ~= nil and type(t.color) ~= "string" then
        error(fname .. ": tags[" .. i .. "].color must be a CSS colour string", 4)
      end
      list[i] = { name = t.name, color = t.color }
    else
      error(fname .. ": tags[" .. i .. "] must be a name or {name=, color=}, got "
        .. util.describe(t), 4)
    end
  end
  return list
end

local STRING_FIELDS = {
  name = true, email = true, userId = true, company = true, phone = true, source = true,
  locale = true, notes = true, referer = true, lastPage = true,
}

--- The request body of a create, in the API's form.
function M.create_body(fields)
  local fname = "customers:create"
  if type(fields) ~= "table" then
    error(fname .. ": expected a table of fields, got " .. util.describe(fields), 3)
  end
  local body = {}
  for k, v in pairs(fields) do
    if type(k) ~= "string" then
      error(fname .. ": field names must be strings, got " .. util.describe(k), 3)
    end
    if k == "id" then
      error(fname .. ": id is assigned by HelpCrunch; use userId for your own id", 3)
    elseif k == "firstSeen" or k == "lastSeen" then
      body[k] = date_string(fname, k, v)
    elseif k == "customData" then
      body[k] = custom_data_list(fname, v)
    elseif k == "tags" then
      body[k] = tag_list(fname, v)
    elseif STRING_FIELDS[k] and type(v) ~= "string" then
      error(fname .. ": " .. k .. " must be a string, got " .. util.describe(v), 3)
    else
      body[k] = v
    end
  end
  return body
end

--- Create a customer.
-- @tparam table fields name, email, userId, ..., customData (a map), tags
--   (names or {name=, color=}); dates as integers or strings of digits
-- @treturn table|nil the created customer
-- @treturn table the error (`code = "outcome_unknown"` when the create may
--   or may not have happened: it is then never retried)
function Customers:create(fields)
  util.check_self(self, Customers, "client.customers:create", 2)
  local body = M.create_body(fields)
  local customer, err = self.client:call("POST", "/customers", { body = body }):wait()
  if customer == nil then return nil, err end
  return customer
end

-- The searchable fields and their types (API-REFERENCE.md).
local FIELDS = {
  id = "integer",
  telegramId = "string", facebookId = "string", instagramId = "string",
  viberId = "string", whatsappId = "string",
  name = "string", email = "string", company = "string", phone = "string",
  countryCode = "string", city = "string", regionCode = "string", userId = "string",
  tagsData = "array",
  lastSeen = "date", createdAt = "date",
}

local SEARCH = {
  name = "customers", path = "/customers/search", prefix = "customers.", fields = FIELDS,
  tags_field = "tagsData", check_sort = function(fname, field, level)
    return M.check_sort(fname, field, level + 1)
  end,
  check_order = function(fname, order, level) return M.check_order(fname, order, level + 1) end,
}

--- A search query builder (see helpcrunch.search).
function Customers:search()
  util.check_self(self, Customers, "client.customers:search", 2)
  return search.new(self.client, SEARCH)
end

return M
