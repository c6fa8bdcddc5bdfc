--- The search builder: `client.customers:search():where(...):tagged(...)`,
-- the same for every resource that has a search endpoint; the resource
-- gives its field table (the one place where its fields, their types and
-- its sorts are decided).
--
-- A query is immutable: every method returns a new query and leaves the one
-- it was called on as it was, so a base query can be shared and refined;
-- `q:body()` returns a copy. Fields, operators and value types are checked
-- against the field table before any request, and every combination of
-- calls either sends exactly what it says or raises.
-- @module helpcrunch.search

local util = require "helpcrunch.util"
local pager = require "helpcrunch.pager"

local M = {}

local Query = {}
Query.__index = Query

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

local function a_or_an(ftype)
  return ftype == "integer" and "an " or "a "
end

--- A new, empty query.
-- @tparam table client
-- @tparam table spec `name` ("customers"), `path` ("/customers/search"),
--   `prefix` ("customers."), `fields` ({short name = "integer"|"string"|
--   "date"|"array"}), `tags_field` (the array field :tagged uses),
--   `check_sort(fname, field, level) -> full name`, `check_order`, and
--   optionally `extract` (body -> data, total)
function M.new(client, spec)
  return setmetatable({ client = client, spec = spec, filters = {}, comparison = "AND" }, Query)
end

local function derive(q, changes)
  local n = {}
  for k, v in pairs(q) do n[k] = v end
  for k, v in pairs(changes) do n[k] = v end
  return setmetatable(n, Query)
end

local function with_filters(q, list, extra)
  local filters = {}
  for i, f in ipairs(q.filters) do filters[i] = f end
  for _, f in ipairs(list) do filters[#filters + 1] = f end
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
local function check_value(fname, full, ftype, value, level)
  local function bad(what)             -- one level deeper than check_value
    error(fname .. ": " .. full .. " is " .. a_or_an(ftype) .. ftype .. " field; " .. what
      .. ", got " .. util.describe(value), level + 2)
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
  else                                       -- array: tag names
    local names = type(value) == "table" and value or { value }
    return tag_values(fname, names, level + 1)
  end
end

-- Raise when the query matches "any of several tags" only because of
-- tagged_any (OR the user did not ask for): another filter would be OR'ed
-- with the tags, which is not what `where`/`tagged` say.
local function check_not_implicit_or(q, fname, level)
  if q.any_tags and not q.explicit_or then
    error(fname .. ": this query matches any of several tags (tagged_any), which makes "
      .. "every filter OR'ed: call :any() first if OR is what you mean", level + 1)
  end
end

--- Add a filter.
-- @tparam string field short ("email") or full ("customers.email") name
-- @tparam string op one of = != > < >= <= ~ !~ (as the field's type allows)
-- @param value integer, string, date (integer or digits) or tag names
-- @treturn table a new query
function Query:where(field, op, value)
  util.check_self(self, Query, "query:where", 2)
  local fname, spec = "search:where", self.spec
  local short = type(field) == "string" and field or nil
  if short and short:sub(1, #spec.prefix) == spec.prefix then short = short:sub(#spec.prefix + 1) end
  local ftype = short and spec.fields[short]
  if not ftype then
    error(fname .. ": unknown field " .. util.describe(field) .. " (fields: "
      .. util.key_list(spec.fields) .. ")", 2)
  end
  local full = spec.prefix .. short
  local ops = OPERATORS[op]
  if not ops then
    error(fname .. ": unknown operator " .. util.describe(op) .. " (operators: "
      .. table.concat(OPERATOR_ORDER, " ") .. ")", 2)
  end
  if not ops[ftype] then
    error(fname .. ": operator '" .. op .. "' does not apply to " .. full .. ", "
      .. a_or_an(ftype) .. ftype .. " field; it takes: " .. operators_for(ftype), 2)
  end
  check_not_implicit_or(self, fname, 2)
  local v = check_value(fname, full, ftype, value, 2)
  return with_filters(self, { { field = full, operator = op, value = v } })
end

--- Items carrying all of these tags (one tags-field filter).
-- @tparam string ... tag names
function Query:tagged(...)
  util.check_self(self, Query, "query:tagged", 2)
  local tags = tag_values("search:tagged", { ... }, 2)
  check_not_implicit_or(self, "search:tagged", 2)
  return with_filters(self, {
    { field = self.spec.prefix .. self.spec.tags_field, operator = "=", value = tags } })
end

--- Items carrying any of these tags: one filter per tag, combined with OR.
-- One tag is the same as :tagged(tag). Several need the whole query to be
-- OR: on a query with other filters this raises unless :any() was called.
function Query:tagged_any(...)
  util.check_self(self, Query, "query:tagged_any", 2)
  local fname = "search:tagged_any"
  local tags = tag_values(fname, { ... }, 2)
  local field = self.spec.prefix .. self.spec.tags_field
  if #tags == 1 then
    check_not_implicit_or(self, fname, 2)
    return with_filters(self, { { field = field, operator = "=", value = tags } })
  end
  if #self.filters > 0 and not self.explicit_or then
    error(fname .. ": the query has other filters combined with AND; \"any of these tags\""
      .. " needs OR for every filter, which would change what they mean (call :any() first"
      .. " if you want every filter OR'ed)", 2)
  end
  local list = {}
  for i, t in ipairs(tags) do list[i] = { field = field, operator = "=", value = { t } } end
  return with_filters(self, list, { comparison = "OR", any_tags = true })
end

--- Match any filter (comparison OR).
function Query:any()
  util.check_self(self, Query, "query:any", 2)
  return derive(self, { comparison = "OR", explicit_or = true })
end

--- Match every filter (comparison AND, the default).
function Query:every()
  util.check_self(self, Query, "query:every", 2)
  if self.any_tags then
    error("search:every: this query matches any of several tags (tagged_any), which needs OR",
      2)
  end
  return derive(self, { comparison = "AND", explicit_or = false })
end

--- Sort by one of the resource's sort fields.
-- @tparam string field e.g. "firstSeen" | "lastSeen" for customers
-- @tparam[opt="asc"] string order "asc" | "desc"
function Query:sort(field, order)
  util.check_self(self, Query, "query:sort", 2)
  local spec = self.spec
  if field == nil then error("search:sort: give a field to sort by", 2) end
  return derive(self, {
    sort_field = spec.check_sort("search:sort", field, 2),
    sort_order = spec.check_order("search:sort", order, 2) or "asc",
  })
end

--- At most this many results in all (for :each()).
function Query:limit(n)
  util.check_self(self, Query, "query:limit", 2)
  if n == nil then error("search:limit: give the most results, an integer >= 1", 2) end
  util.check_int("search:limit", "n", n, 1, 2 ^ 53, 2)
  return derive(self, { max = n })
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

local function body_of(q, offset, limit)
  return {
    comparison = q.comparison, filter = copy(q.filters),
    sort = q.sort_field, order = q.sort_order, offset = offset, limit = limit,
  }
end

--- The JSON body the first page request would send, as a table (a copy:
-- changing it changes nothing else).
function Query:body()
  util.check_self(self, Query, "query:body", 2)
  local limit = self.client.page_size
  if self.max and self.max < limit then limit = self.max end
  return body_of(self, 0, limit)
end

function Query:call(offset, limit)
  return self.client:call("POST", self.spec.path,
    { body = body_of(self, offset, limit), idempotent = true })
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
  local body, err = self:call(offset, limit):wait()
  if body == nil then return nil, err end
  return pager.page_of(body, offset, limit, "POST", self.spec.path, self.spec.extract)
end

--- The first match, or nil.
-- @treturn table|nil the item (nil when none matches)
-- @treturn table the error on failure
function Query:first()
  util.check_self(self, Query, "query:first", 2)
  local page, err = self:page { offset = 0, limit = 1 }
  if not page then return nil, err end
  return page.data[1]
end

--- How many items match (the server's total, from one limit=1 request).
function Query:count()
  util.check_self(self, Query, "query:count", 2)
  local page, err = self:page { offset = 0, limit = 1 }
  if not page then return nil, err end
  return page.total
end

local EACH_PARAMS = { page_size = true, prefetch = true, resume = true }

--- Every match, one by one, across pages; a failure raises the error.
-- @tparam[opt] table params `page_size` (1..100), `prefetch` (0..8), `resume`
--   (a checkpoint from `it:checkpoint()`: go on where that iteration was)
function Query:each(params)
  util.check_self(self, Query, "query:each", 2)
  params = util.check_params("search:each", params, EACH_PARAMS, 2)
  util.check_int("search:each", "page_size", params.page_size, 1, 100, 2)
  util.check_int("search:each", "prefetch", params.prefetch, 0, 8, 2)
  local client, q = self.client, self
  return pager.iterate {
    client = client, page_size = params.page_size or client.page_size, max = self.max,
    prefetch = params.prefetch or client.prefetch, extract = self.spec.extract,
    method = "POST", path = self.spec.path, resume = params.resume,
    request = function(offset, limit) return q:call(offset, limit) end,
  }
end

return M
