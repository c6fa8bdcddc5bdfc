--- What the resources share: id checks, list parameters and their query
-- string, sort and order checks from a table, one page, the `all` iterator,
-- and request bodies checked against a field table. A resource describes
-- itself once (`base.resource{...}`) and its calls are a few lines each.
--
-- Levels: every function taking `level` takes the level of the user's code
-- as seen by its caller (the convention of util.check_int): a public method
-- passes 2. A function that may raise is never tail-called on the way (a
-- tail call drops its caller's frame, and the level would point past the
-- user's line).
-- @module helpcrunch.resources.base

local core = require "helpcrunch.core"
local util = require "helpcrunch.util"
local pager = require "helpcrunch.pager"

local M = {}

local NULL = core.null

--- `helpcrunch.null`: as a field value, JSON null.
M.NULL = NULL

-- ---- ids -----------------------------------------------------------------------

--- The digits of a positive id (integer, or a string of at most `digits`
-- digits, leading zeros dropped), or nil.
local function id_digits(id, digits)
  if util.is_integral(id) then
    return id >= 1 and util.int_string(id) or nil
  elseif type(id) == "string" and id:match("^%d+$") and #id <= digits then
    local s = id:gsub("^0+", "")
    if s ~= "" then return s end
  end
  return nil
end

M.id_digits = id_digits

local function bad_id(fname, name, noun, example, id, level)
  error(fname .. ": " .. name .. " must be a positive integer (HelpCrunch's numeric " .. noun
    .. " id, e.g. " .. example .. "), got " .. util.describe(id), level + 1)
end

--- Check an id for a URL path: the digits, or raise.
-- @tparam string fname e.g. "chats:get"
-- @tparam string name the argument, e.g. "id"
-- @param id integer or string of digits
-- @tparam string noun "chat", "customer", ...
-- @param example an id shown in the message
-- @tparam integer level
-- @treturn string the id's digits
function M.path_id(fname, name, id, noun, example, level)
  local s = id_digits(id, 18)
  if not s then bad_id(fname, name, noun, example, id, level + 1) end
  return s
end

--- Check an id for a request body: an integer (ids are JSON integers), or
-- raise. Strings of digits are accepted (at most 15: exact in a double).
function M.body_id(fname, name, id, noun, example, level)
  local s = id_digits(id, 15)
  if not s then bad_id(fname, name, noun, example, id, level + 1) end
  local n = tonumber(s)
  return math.tointeger and math.tointeger(n) or n
end

-- ---- sort and order ----------------------------------------------------------------

local function quoted_choice(list, sep_last)
  local q = {}
  for i, s in ipairs(list) do q[i] = "\"" .. s .. "\"" end
  if #q == 1 then return q[1] end
  return table.concat(q, ", ", 1, #q - 1) .. sep_last .. q[#q]
end

--- A sort check from the resource's sort names: short or full names (with
-- `prefix`) -> the full name; anything else raises naming them all.
-- @tparam string prefix "customers."
-- @tparam table shorts the short names, in the order the message lists them
-- @treturn function check_sort(fname, sort, level) -> full name | nil
function M.sort_check(prefix, shorts)
  local full, fulls = {}, {}
  for i, s in ipairs(shorts) do
    full[s], full[prefix .. s] = prefix .. s, prefix .. s
    fulls[i] = "\"" .. prefix .. s .. "\""
  end
  local valid = "sort must be " .. quoted_choice(shorts, " or ") .. " (or the full "
    .. table.concat(fulls, "/") .. ")"
  return function(fname, sort, level)
    local f = full[sort]
    if sort ~= nil and not f then
      error(fname .. ": " .. valid .. ", got " .. util.describe(sort), level + 1)
    end
    return f
  end
end

--- Check an order; returns "asc" or "desc" (nil when not given).
function M.check_order(fname, order, level)
  if order == nil then return nil end
  local o = type(order) == "string" and order:lower() or nil
  if o ~= "asc" and o ~= "desc" then
    error(fname .. ": order must be \"asc\" or \"desc\" (any case), got "
      .. util.describe(order), level + 1)
  end
  return o
end

--- The query string of a list request.
function M.list_query(offset, limit, sort, order)
  local q = "offset=" .. util.int_string(offset) .. "&limit=" .. util.int_string(limit)
  if sort then q = q .. "&sort=" .. sort end
  if order then q = q .. "&order=" .. order end
  return q
end

-- ---- a resource ------------------------------------------------------------------

local Resource = {}
Resource.__index = Resource

--- Describe a resource.
-- @tparam table o `name` ("chats": the prefix of messages, "chats:list"),
--   `noun` ("chat") and `example` (an id) for id messages, `path` ("/chats"),
--   `prefix` ("chats.") and `sorts` (short names; nil: the list takes no
--   sort or order), `extract` (body -> data, total; default pager.data_total),
--   `item` (normaliser of one object, applied by `get`; nil: none),
--   `untrusted_total` (true: `all` ignores the total and stops on a short
--   page, for endpoints seen sending a total larger than their list)
-- @treturn table the resource: `check_sort`, `check_order` and the methods below
function M.resource(o)
  local extract = o.extract or pager.data_total
  local iterate_extract = extract
  if o.untrusted_total then
    iterate_extract = function(body)
      local data = extract(body)
      return data, nil
    end
  end
  local r = setmetatable({
    name = o.name, noun = o.noun, example = o.example, path = o.path, prefix = o.prefix,
    extract = extract, iterate_extract = iterate_extract, item = o.item,
    check_order = M.check_order,
    list_params = { offset = true, limit = true },
    all_params = { max = true, page_size = true, prefetch = true, resume = true },
  }, Resource)
  if o.sorts then
    r.check_sort = M.sort_check(o.prefix, o.sorts)
    for _, t in ipairs { r.list_params, r.all_params } do t.sort, t.order = true, true end
  else
    r.check_sort = function() return nil end  -- `sort` is not among its parameters
  end
  return r
end

--- The digits of an id of this resource for a path, or raise.
function Resource:id(fname, id, level)
  local s = M.path_id(fname, "id", id, self.noun, self.example, level + 1)
  return s                        -- not a tail call: the frame counts in the error level
end

--- GET one object (`path` default: the resource's path and the id).
-- @treturn table|nil the object (normalised by `item`)
-- @treturn table the error
function Resource:get(client, fname, id, level, path)
  path = path or (self.path .. "/" .. self:id(fname, id, level + 1))
  local body, err = client:call("GET", path):wait()
  if body == nil then return nil, err end
  if self.item then self.item(body) end
  return body
end

-- Checked list parameters -> (offset, limit, sort, order).
function Resource:list_args(fname, params, default_limit, level)
  params = util.check_params(fname, params, self.list_params, level + 1)
  util.check_int(fname, "offset", params.offset, 0, 2 ^ 53, level + 1)
  util.check_int(fname, "limit", params.limit, 1, 100, level + 1)
  return params.offset or 0, params.limit or default_limit,
    self.check_sort(fname, params.sort, level + 1), self.check_order(fname, params.order, level + 1)
end

--- One page: `{data=, total=, offset=, limit=}` (total nil when the
-- endpoint sends none).
-- @tparam table client
-- @tparam string fname
-- @tparam[opt] table params `offset`, `limit` and (with sorts) `sort`, `order`
-- @tparam integer level
-- @tparam[opt] string path default: the resource's path
function Resource:list(client, fname, params, level, path)
  local offset, limit, sort, order = self:list_args(fname, params, client.page_size, level + 1)
  path = path or self.path
  local body, err = client:call("GET", path,
    { query = M.list_query(offset, limit, sort, order) }):wait()
  if body == nil then return nil, err end
  return pager.page_of(body, offset, limit, "GET", path, self.extract)
end

--- Every object across pages (see helpcrunch.pager): the iterator.
-- @tparam[opt] table params `max`, `page_size`, `prefetch`, `resume` (a
--   checkpoint of an earlier iteration: `it:checkpoint()`) and (with sorts)
--   `sort`, `order`
function Resource:all(client, fname, params, level, path)
  params = util.check_params(fname, params, self.all_params, level + 1)
  util.check_int(fname, "max", params.max, 0, 2 ^ 53, level + 1)
  util.check_int(fname, "page_size", params.page_size, 1, 100, level + 1)
  util.check_int(fname, "prefetch", params.prefetch, 0, 8, level + 1)
  local sort = self.check_sort(fname, params.sort, level + 1)
  local order = self.check_order(fname, params.order, level + 1)
  path = path or self.path
  return pager.iterate {
    client = client, page_size = params.page_size or client.page_size,
    max = params.max, prefetch = params.prefetch or client.prefetch,
    method = "GET", path = path, extract = self.iterate_extract, resume = params.resume,
    request = function(offset, limit)
      return client:call("GET", path, { query = M.list_query(offset, limit, sort, order) })
    end,
  }
end

--- The module of a resource that is only a list (agents, departments):
-- `client.<name>:list{offset=, limit=}` and `client.<name>:all{max=,
-- page_size=, prefetch=}`, as the resource `o` (see M.resource) describes.
-- @treturn table module with `new(client)`
function M.listing(o)
  local r = M.resource(o)
  local Class = {}
  Class.__index = Class
  --- One page: `{data=, total=, offset=, limit=}` | nil, err.
  function Class:list(params)
    util.check_self(self, Class, "client." .. o.name .. ":list", 2)
    local page, err = r:list(self.client, o.name .. ":list", params, 2)
    return page, err
  end
  --- Every object across pages (the iterator raises a failure).
  function Class:all(params)
    util.check_self(self, Class, "client." .. o.name .. ":all", 2)
    local a, b, c, d = r:all(self.client, o.name .. ":all", params, 2)
    return a, b, c, d
  end
  return { new = function(client) return setmetatable({ client = client }, Class) end }
end

-- ---- request bodies from a field table -----------------------------------------------

-- Field rules by name: function(fname, name, v, level) -> the value to send.
local RULES = {}

RULES.string = function(fname, name, v, level)
  if type(v) ~= "string" then
    error(fname .. ": " .. name .. " must be a string, got " .. util.describe(v), level + 1)
  end
  return v
end

RULES.text = function(fname, name, v, level)
  if type(v) ~= "string" or v == "" then
    error(fname .. ": " .. name .. " must be a non-empty string, got " .. util.describe(v),
      level + 1)
  end
  return v
end

RULES.boolean = function(fname, name, v, level)
  if type(v) ~= "boolean" then
    error(fname .. ": " .. name .. " must be true or false, got " .. util.describe(v), level + 1)
  end
  return v
end

-- A UNIX timestamp, sent as a string of digits (as the current pages do).
RULES.date = function(fname, name, v, level)
  if util.is_integral(v) then return util.int_string(v) end
  if type(v) == "string" and v:match("^%d+$") then return v end
  error(fname .. ": " .. name .. " must be a UNIX timestamp (integer or string of digits),"
    .. " got " .. util.describe(v), level + 1)
end

--- An id rule: a positive integer (digits accepted), sent as a JSON integer.
-- @tparam string noun "agent", "chat", ...
-- @param example an id shown in the message
function M.id_rule(noun, example)
  return function(fname, name, v, level)
    local id = M.body_id(fname, name, v, noun, example, level + 1)
    return id
  end
end

--- A rule refusing the field with a message (e.g. customers' `id`).
function M.refuse(message)
  return function(fname, _, _, level) error(fname .. ": " .. message, level + 1) end
end

M.RULES = RULES

--- A request body from the caller's fields, each checked by its rule.
-- A field table maps each field to a rule name ("string", "text",
-- "boolean", "date") or a rule function(fname, name, v, level) -> value.
-- `helpcrunch.null` as a value sends JSON null (clears the field), except
-- for required fields.
-- @tparam string fname
-- @param fields the caller's table
-- @tparam table spec the field table
-- @tparam integer level
-- @tparam[opt] table opts `required` (list of field names), `unknown = "keep"`
--   (send unknown fields as given; by default they raise, naming the fields)
-- @treturn table the body
function M.body(fname, fields, spec, level, opts)
  opts = opts or {}
  if type(fields) ~= "table" then
    error(fname .. ": expected a table of fields, got " .. util.describe(fields), level + 1)
  end
  local required = {}
  for _, k in ipairs(opts.required or {}) do required[k] = true end
  local body = {}
  for k, v in pairs(fields) do
    if type(k) ~= "string" then
      error(fname .. ": field names must be strings, got " .. util.describe(k), level + 1)
    end
    local rule = spec[k]
    if type(rule) == "string" then rule = RULES[rule] end
    if rule == nil then
      if opts.unknown ~= "keep" then
        error(fname .. ": unknown field " .. util.describe(k) .. " (fields: "
          .. util.key_list(spec) .. ")", level + 1)
      end
      body[k] = v
    elseif v == NULL and not required[k] then
      body[k] = NULL
    else
      body[k] = rule(fname, k, v, level + 1)
    end
  end
  for _, k in ipairs(opts.required or {}) do
    if fields[k] == nil then error(fname .. ": " .. k .. " is required", level + 1) end
  end
  return body
end

return M
