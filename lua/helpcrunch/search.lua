--- The search builder: `client.customers:search():where(...):tagged(...)`.
--
-- A query is immutable: every method returns a new query and leaves the one
-- it was called on as it was, so a base query can be shared and refined.
-- Fields, operators and value types are checked against the API's table
-- before any request.
-- @module helpcrunch.search

local util = require "helpcrunch.util"
local pager = require "helpcrunch.pager"
local customers = require "helpcrunch.customers"

local M = {}

local Query = {}
Query.__index = Query

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

-- Operator -> the field types it applies to.
local OPERATORS = {
  ["="] = { integer = true, string = true, date = true, array = true },
  ["!="] = { integer = true, string = true, date = true },
  [">"] = { integer = true, date = true }, ["<"] = { integer = true, date = true },
  [">="] = { integer = true, date = true }, ["<="] = { integer = true, date = true },
  ["~"] = { string = true }, ["!~"] = { string = true },
}
local OPERATOR_ORDER = { "=", "!=", ">", "<", ">=", "<=", "~", "!~" }

local function operators_for(ftype)
  local ops = {}
  for _, op in ipairs(OPERATOR_ORDER) do
    if OPERATORS[op][ftype] then ops[#ops + 1] = op end
  end
  return table.concat(ops, " ")
end

local function field_list()
  local names = {}
  for n in pairs(FIELDS) do names[#names + 1] = n end
  table.sort(names)
  return table.concat(names, ", ")
end

--- @local
function M.new(client)
  return setmetatable({ client = client, filters = {}, comparison = "AND" }, Query)
end

local function derive(q, changes)
  local n = {}
  for k, v in pairs(q) do n[k] = v end
  for k, v in pairs(changes) do n[k] = v end
  return setmetatable(n, Query)
end

local function with_filter(q, filter, extra)
  local filters = {}
  for i, f in ipairs(q.filters) do filters[i] = f end
  filters[#filters + 1] = filter
  extra = extra or {}
  extra.filters = filters
  return derive(q, extra)
end

local function tag_values(fname, names, level)
  if #names == 0 then error(fname .. ": give at least one tag name", level + 1) end
  local list = {}
  for i, t in ipairs(names) do
    local name = type(t) == "table" and t.name or t
    if type(name) ~= "string" or name == "" then
      error(fname .. ": tag " .. i .. " must be a non-empty string, got " .. util.describe(t),
        level + 1)
    end
    list[i] = { name = name }
  end
  return list
end

-- The value as the API wants it for a field of type ftype, or raise.
local function check_value(fname, field, ftype, value, level)
  local function bad(what)             -- one level deeper than check_value
    error(fname .. ": customers." .. field .. " is a" .. (ftype == "integer" and "n " or " ")
      .. ftype .. " field; " .. what .. ", got " .. util.describe(value), level + 2)
  end
  if ftype == "integer" then
    if not util.is_integral(value) then bad("its value must be an integer") end
    return value
  elseif ftype == "date" then
    if util.is_integral(value) then return value end
    if type(value) == "string" and value:match("^%d+$") and #value <= 15 then
      return math.tointeger and math.tointeger(tonumber(value)) or tonumber(value)
    end
    bad("its value must be a UNIX timestamp (integer or string of digits)")
  elseif ftype == "string" then
    if type(value) ~= "string" then bad("its value must be a string") end
    return value
  else                                       -- array: tagsData
    local names = type(value) == "table" and value or { value }
    return tag_values(fname, names, level + 1)
  end
end

--- Add a filter.
-- @tparam string field short ("email") or full ("customers.email") name
-- @tparam string op one of = != > < >= <= ~ !~ (as the field's type allows)
-- @param value integer, string, date (integer or digits) or tag names
-- @treturn table a new query
function Query:where(field, op, value)
  util.check_self(self, Query, "query:where", 2)
  local fname = "search:where"
  local short = type(field) == "string" and (field:match("^customers%.(.+)$") or field) or nil
  local ftype = short and FIELDS[short]
  if not ftype then
    error(fname .. ": unknown field " .. util.describe(field) .. " (fields: " .. field_list()
      .. ")", 2)
  end
  local ops = OPERATORS[op]
  if not ops then
    error(fname .. ": unknown operator " .. util.describe(op) .. " (operators: "
      .. table.concat(OPERATOR_ORDER, " ") .. ")", 2)
  end
  if not ops[ftype] then
    error(fname .. ": operator '" .. op .. "' does not apply to customers." .. short
      .. ", a" .. (ftype == "integer" and "n " or " ") .. ftype .. " field; it takes: "
      .. operators_for(ftype), 2)
  end
  if self.any_tags and self.comparison == "AND" then
    error(fname .. ": this query matches any of several tags (tagged_any), which needs OR", 2)
  end
  local v = check_value(fname, short, ftype, value, 2)
  return with_filter(self, { field = "customers." .. short, operator = op, value = v })
end

--- Customers carrying all of these tags (one customers.tagsData filter).
-- @tparam string ... tag names
function Query:tagged(...)
  util.check_self(self, Query, "query:tagged", 2)
  local tags = tag_values("search:tagged", { ... }, 2)
  return with_filter(self, { field = "customers.tagsData", operator = "=", value = tags })
end

--- Customers carrying any of these tags: one filter per tag, combined with
-- OR. Raises when the query already has filters combined with AND, whose
-- meaning OR would change.
function Query:tagged_any(...)
  util.check_self(self, Query, "query:tagged_any", 2)
  local tags = tag_values("search:tagged_any", { ... }, 2)
  if #self.filters > 0 and self.comparison == "AND" then
    error("search:tagged_any: the query has filters combined with AND; \"any of these tags\""
      .. " needs OR, which would change what they mean (call :any() first if you want OR)", 2)
  end
  local q = derive(self, { comparison = "OR", any_tags = #tags > 1 or self.any_tags })
  for _, t in ipairs(tags) do
    q = with_filter(q, { field = "customers.tagsData", operator = "=", value = { t } })
  end
  return q
end

--- Match any filter (comparison OR).
function Query:any()
  util.check_self(self, Query, "query:any", 2)
  return derive(self, { comparison = "OR" })
end

--- Match every filter (comparison AND, the default).
function Query:every()
  util.check_self(self, Query, "query:every", 2)
  if self.any_tags then
    error("search:every: this query matches any of several tags (tagged_any), which needs OR",
      2)
  end
  return derive(self, { comparison = "AND" })
end

--- Sort by firstSeen or lastSeen.
-- @tparam string field "firstSeen" | "lastSeen" (or the customers. names)
-- @tparam[opt="asc"] string order "asc" | "desc"
function Query:sort(field, order)
  util.check_self(self, Query, "query:sort", 2)
  return derive(self, {
    sort_field = customers.check_sort("search:sort", field, 2) or
      error("search:sort: give a field: \"firstSeen\" or \"lastSeen\"", 2),
    sort_order = customers.check_order("search:sort", order, 2) or "asc",
  })
end

--- At most this many results in all (for :each()).
function Query:limit(n)
  util.check_self(self, Query, "query:limit", 2)
  if n == nil then error("search:limit: give the most results, an integer >= 1", 2) end
  util.check_int("search:limit", "n", n, 1, 2 ^ 53, 2)
  return derive(self, { max = n })
end

local function body_of(q, offset, limit)
  local filters = {}
  for i, f in ipairs(q.filters) do filters[i] = f end
  return {
    comparison = q.comparison, filter = filters,
    sort = q.sort_field, order = q.sort_order, offset = offset, limit = limit,
  }
end

--- The JSON body the first page request would send, as a table.
function Query:body()
  util.check_self(self, Query, "query:body", 2)
  local limit = self.client.page_size
  if self.max and self.max < limit then limit = self.max end
  return body_of(self, 0, limit)
end

local PAGE_PARAMS = { offset = true, limit = true }

--- One page of results.
-- @tparam[opt] table params `offset` (0), `limit` (1..100)
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table the error
function Query:page(params)
  util.check_self(self, Query, "query:page", 2)
  params = util.check_params("search:page", params, PAGE_PARAMS, 2)
  util.check_int("search:page", "offset", params.offset, 0, 2 ^ 53, 2)
  util.check_int("search:page", "limit", params.limit, 1, 100, 2)
  local offset, limit = params.offset or 0, params.limit or self.client.page_size
  local body, err = self.client:call("POST", "/customers/search", nil,
    body_of(self, offset, limit)):wait()
  if body == nil then return nil, err end
  return pager.page_of(body, offset, limit, "POST", "/customers/search")
end

--- The first match, or nil.
-- @treturn table|nil the customer (nil when none matches)
-- @treturn table the error on failure
function Query:first()
  util.check_self(self, Query, "query:first", 2)
  local page, err = self:page { offset = 0, limit = 1 }
  if not page then return nil, err end
  return page.data[1]
end

--- How many customers match (the server's total, from one limit=1 request).
function Query:count()
  util.check_self(self, Query, "query:count", 2)
  local page, err = self:page { offset = 0, limit = 1 }
  if not page then return nil, err end
  return page.total
end

local EACH_PARAMS = { page_size = true, prefetch = true }

--- Every match, one by one, across pages; a failure raises the error.
-- @tparam[opt] table params `page_size` (1..100), `prefetch` (0..8)
function Query:each(params)
  util.check_self(self, Query, "query:each", 2)
  params = util.check_params("search:each", params, EACH_PARAMS, 2)
  util.check_int("search:each", "page_size", params.page_size, 1, 100, 2)
  util.check_int("search:each", "prefetch", params.prefetch, 0, 8, 2)
  local client, q = self.client, self
  return pager.iterate {
    client = client, page_size = params.page_size or client.page_size, max = self.max,
    prefetch = params.prefetch or client.prefetch,
    method = "POST", path = "/customers/search",
    start_page = function(offset, limit)
      return client:call("POST", "/customers/search", nil, body_of(q, offset, limit))
    end,
  }
end

return M
