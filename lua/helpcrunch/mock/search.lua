--- `POST /customers/search`: body validation and filters.
--
-- Type rules (from the API's tables):
-- integer and date fields take `= != > < >= <=` and a number or a numeric string;
-- string fields take `= != ~ !~` and a string; `customers.tagsData` takes `=` and a
-- list of `{"name": ...}` (a customer matches when it carries every listed tag).
-- Semantics chosen where the API is silent, and documented in the README:
-- `=`/`!=` on strings are exact (case-sensitive); `~`/`!~` are case-insensitive
-- (ASCII) substring tests; a null field matches only `!=` and `!~`; tag names are
-- matched exactly. Error codes follow the API's `filter[0].field` style.
-- @module helpcrunch.mock.search

local json = require "helpcrunch.mock.json"

local null = json.null
local type, tonumber, ipairs, pairs = type, tonumber, ipairs, pairs
local lower, find = string.lower, string.find

local M = {}

local MSG = {
  blank = "This value should not be blank.",
  choice = "The value you selected is not a valid choice.",
  numeric = "This value should be of type numeric.",
  string = "This value should be of type string.",
  array = "This value should be of type array.",
  operator = "This operator is not valid for the type of this field.",
  integer = "This value should be of type integer.",
  positive = "This value should be greater than or equal to 0.",
  limit = "This value should be between 1 and 100.",
}
M.MSG = MSG

local function strip(v)
  if v == null then return nil end
  return v
end

local function plain(name)
  return function(rec) return strip(rec.c[name]) end
end
local function located(name)
  return function(rec)
    local l = rec.c.location
    if type(l) ~= "table" then return nil end
    return strip(l[name])
  end
end

--- The searchable fields: type and accessor (record -> value or nil).
M.FIELDS = {
  ["customers.id"] = { type = "integer", get = function(rec) return rec.id end },
  ["customers.telegramId"] = { type = "string", get = plain("telegramId") },
  ["customers.facebookId"] = { type = "string", get = plain("facebookId") },
  ["customers.instagramId"] = { type = "string", get = plain("instagramId") },
  ["customers.viberId"] = { type = "string", get = plain("viberId") },
  ["customers.whatsappId"] = { type = "string", get = plain("whatsappId") },
  ["customers.name"] = { type = "string", get = plain("name") },
  ["customers.email"] = { type = "string", get = plain("email") },
  ["customers.company"] = { type = "string", get = plain("company") },
  ["customers.phone"] = { type = "string", get = plain("phone") },
  ["customers.userId"] = { type = "string", get = plain("userId") },
  ["customers.countryCode"] = { type = "string", get = located("countryCode") },
  ["customers.city"] = { type = "string", get = located("city") },
  ["customers.regionCode"] = { type = "string", get = located("regionCode") },
  ["customers.tagsData"] = { type = "array" },
  ["customers.lastSeen"] = { type = "date", get = function(rec) return rec.last end },
  -- createdAt is not part of the customer object: the mock keeps a hidden creation time
  -- (generated customers: firstSeen or lastSeen; created ones: the time of the POST).
  ["customers.createdAt"] = { type = "date", get = function(rec) return rec.created end },
}
local FIELDS = M.FIELDS

local OPERATORS = {
  ["="] = { integer = true, date = true, string = true, array = true },
  ["!="] = { integer = true, date = true, string = true },
  [">"] = { integer = true, date = true }, ["<"] = { integer = true, date = true },
  [">="] = { integer = true, date = true }, ["<="] = { integer = true, date = true },
  ["~"] = { string = true }, ["!~"] = { string = true },
}

--- Sort names accepted by list and search, mapped to record keys.
M.SORTS = { ["customers.firstSeen"] = "first", ["customers.lastSeen"] = "last" }

--- A number from a JSON number or a numeric string (PHP `is_numeric`-like, no hex).
-- @param v
-- @treturn number|nil
function M.numeric(v)
  if type(v) == "number" then return v end
  if type(v) == "string" and (find(v, "^%s*%-?%d+%.?%d*%s*$") or find(v, "^%s*%-?%d*%.%d+%s*$")) then
    return tonumber(v)
  end
  return nil
end
local numeric = M.numeric

local function is_list(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == json.array_mt then return true end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end
M.is_list = is_list

local compare = {
  ["="] = function(a, b) return a == b end,
  ["!="] = function(a, b) return a ~= b end,
  [">"] = function(a, b) return a > b end,
  ["<"] = function(a, b) return a < b end,
  [">="] = function(a, b) return a >= b end,
  ["<="] = function(a, b) return a <= b end,
}

-- A field spec is `{ type, get = function(rec) -> value | nil, norm = function(value) }`:
-- `get` may return a list for integer fields (true when any element matches; `!=` when
-- none equals), `norm` turns the filter's value and the record's into one spelling.
local function build(spec, op, value)
  local get = spec.get
  if spec.norm then
    local norm, raw = spec.norm, get
    value = norm(value)
    get = function(rec) return norm(raw(rec)) end
  end
  if spec.type == "array" then
    local names = {}
    for i, t in ipairs(value) do names[i] = t.name end
    return function(rec)
      local tags
      if get then tags = get(rec) else tags = rec.c.tags end
      if type(tags) ~= "table" then return #names == 0 end
      for _, want in ipairs(names) do
        local found = false
        for _, t in ipairs(tags) do
          if type(t) == "table" and t.name == want then found = true break end
        end
        if not found then return false end
      end
      return true
    end
  elseif spec.type == "string" then
    if op == "~" or op == "!~" then
      local needle = lower(value)
      local want = op == "~"
      return function(rec)
        local v = get(rec)
        if type(v) ~= "string" then return not want end
        return (find(lower(v), needle, 1, true) ~= nil) == want
      end
    end
    local f = compare[op]
    return function(rec)
      local v = get(rec)
      if v == nil then return op == "!=" end
      return f(v, value)
    end
  end
  local f, n = compare[op], numeric(value)
  return function(rec)
    local v = get(rec)
    if type(v) == "table" then                 -- a list: any element (!=: none equals)
      if op == "!=" then
        for _, x in ipairs(v) do if x == n then return false end end
        return true
      end
      for _, x in ipairs(v) do if f(x, n) then return true end end
      return false
    end
    if type(v) ~= "number" then return op == "!=" end
    return f(v, n)
  end
end

local function check_value(spec, value, code, errors)
  local t = spec.type
  if value == nil or value == null then
    errors[#errors + 1] = { code = code, message = MSG.blank }
  elseif t == "string" then
    if type(value) ~= "string" then errors[#errors + 1] = { code = code, message = MSG.string } end
  elseif t == "array" then
    if not is_list(value) then
      errors[#errors + 1] = { code = code, message = MSG.array }
      return
    end
    for j, tag in ipairs(value) do
      local sub = code .. "[" .. (j - 1) .. "].name"
      if type(tag) ~= "table" or type(tag.name) ~= "string" then
        errors[#errors + 1] = { code = sub, message = MSG.blank }
      elseif tag.name == "" then
        errors[#errors + 1] = { code = sub, message = MSG.blank }
      end
    end
  elseif not numeric(value) then
    errors[#errors + 1] = { code = code, message = MSG.numeric }
  end
end

local function paging(body, errors)
  local offset, limit = 0, 100
  if body.offset ~= nil and body.offset ~= null then
    local n = numeric(body.offset)
    if not n or n ~= math.floor(n) then
      errors[#errors + 1] = { code = "offset", message = MSG.integer }
    elseif n < 0 then
      errors[#errors + 1] = { code = "offset", message = MSG.positive }
    else
      offset = math.floor(n)
    end
  end
  if body.limit ~= nil and body.limit ~= null then
    local n = numeric(body.limit)
    if not n or n ~= math.floor(n) then
      errors[#errors + 1] = { code = "limit", message = MSG.integer }
    elseif n < 1 or n > 100 then
      errors[#errors + 1] = { code = "limit", message = MSG.limit }
    else
      limit = math.floor(n)
    end
  end
  return offset, limit
end

--- What customers search: its fields and sorts (chats give their own, see
-- `helpcrunch.mock.chatstore`).
M.CUSTOMERS = { fields = FIELDS, sorts = M.SORTS }

--- Validate a decoded search body and compile it.
-- @tparam table body the decoded JSON object
-- @tparam[opt] table schema `{ fields = {full name = field spec}, sorts = {name = record
--   key} }`; default `M.CUSTOMERS`
-- @treturn table|nil query `{ match = function(rec)|nil, key, dir, offset, limit, cache_key }`
-- @treturn table|nil errors: list of `{code, message}` (without the leading invalid_request)
function M.compile(body, schema)
  schema = schema or M.CUSTOMERS
  local fields, sorts = schema.fields, schema.sorts
  local errors = {}
  local any = false
  local comparison = body.comparison
  if comparison ~= nil and comparison ~= null then
    local c = type(comparison) == "string" and comparison:upper()
    if c == "OR" then
      any = true
    elseif c ~= "AND" then
      errors[#errors + 1] = { code = "comparison", message = MSG.choice }
    end
  end
  local preds, canon = {}, {}
  local filter = body.filter
  if filter ~= nil and filter ~= null and not is_list(filter) then
    errors[#errors + 1] = { code = "filter", message = MSG.array }
  elseif type(filter) == "table" then
    for i, f in ipairs(filter) do
      local code = "filter[" .. (i - 1) .. "]"
      if type(f) ~= "table" or is_list(f) and next(f) ~= nil then
        errors[#errors + 1] = { code = code, message = MSG.array }
      else
        local field, op, value = f.field, f.operator, f.value
        local spec
        if field == nil or field == null or field == "" then
          errors[#errors + 1] = { code = code .. ".field", message = MSG.blank }
        elseif type(field) ~= "string" or not fields[field] then
          errors[#errors + 1] = { code = code .. ".field", message = MSG.choice }
        else
          spec = fields[field]
        end
        local op_ok = false
        if op == nil or op == null or op == "" then
          errors[#errors + 1] = { code = code .. ".operator", message = MSG.blank }
        elseif type(op) ~= "string" or not OPERATORS[op] then
          errors[#errors + 1] = { code = code .. ".operator", message = MSG.choice }
        elseif spec and not OPERATORS[op][spec.type] then
          errors[#errors + 1] = { code = code .. ".operator", message = MSG.operator }
        else
          op_ok = true
        end
        if spec then
          local before = #errors
          check_value(spec, value, code .. ".value", errors)
          if op_ok and #errors == before then
            preds[#preds + 1] = build(spec, op, value)
            canon[#canon + 1] = { field, op, value }
          end
        end
      end
    end
  end
  local key, dir = "id", "desc"
  local sort, order = body.sort, body.order
  if sort ~= nil and sort ~= null then
    if type(sort) ~= "string" or not sorts[sort] then
      errors[#errors + 1] = { code = "sort", message = MSG.choice }
    else
      key, dir = sorts[sort], "asc"
    end
  end
  if order ~= nil and order ~= null then
    local o = type(order) == "string" and order:lower()
    if o == "asc" or o == "desc" then
      dir = o
    else
      errors[#errors + 1] = { code = "order", message = MSG.choice }
    end
  end
  local offset, limit = paging(body, errors)
  if #errors > 0 then return nil, errors end

  local match
  if #preds == 1 then
    match = preds[1]
  elseif #preds > 1 then
    match = function(rec)
      for i = 1, #preds do
        local ok = preds[i](rec)
        if ok == any then return any end
      end
      return not any
    end
  end
  return {
    match = match, key = key, dir = dir, offset = offset, limit = limit,
    cache_key = key .. ":" .. dir .. ":" .. (any and "OR" or "AND") .. ":" .. json.encode(canon),
  }
end

--- The records a compiled query matches, in its order.
-- @tparam table st the store
-- @tparam table q a compiled query
-- @treturn table array of records
function M.run(st, q)
  local all = st:ordered(q.key, q.dir)
  local match = q.match
  if not match then return all end
  local out, n = {}, 0
  for i = 1, #all do
    local rec = all[i]
    if match(rec) then
      n = n + 1
      out[n] = rec
    end
  end
  return out
end

return M
