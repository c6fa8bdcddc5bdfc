--- The selection flags of export and count (where, tag, any, sort, max)
-- made into the library's own calls: the search builder when there is a
-- filter, `customers:all` otherwise. Every check is the builder's (fields, operators, value types);
-- its message comes back as a usage error.
-- @module helpcrunch.cli.filters

local M = {}

-- Two-character operators first, so ">=" is not read as ">".
local OPERATORS = { "!~", "!=", ">=", "<=", "=", ">", "<", "~" }

--- Split 'FIELD OP VALUE' (spaces optional: 'email~gmail').
-- @tparam string s
-- @treturn string|nil field
-- @treturn string op (or the error when field is nil)
-- @treturn string value
function M.parse_where(s)
  local field, rest = s:match("^%s*([%w_.]+)%s*(.-)$")
  if field then
    for _, op in ipairs(OPERATORS) do
      if rest:sub(1, #op) == op then
        return field, op, (rest:sub(#op + 1):match("^%s*(.-)%s*$"))
      end
    end
  end
  return nil, "--where must be 'FIELD OP VALUE' with OP one of = != > < >= <= ~ !~ "
    .. "(e.g. 'email~gmail', 'lastSeen>=1603885746'), got '" .. s .. "'"
end

--- Split 'FIELD[:asc|desc]'.
-- @tparam string s
-- @treturn string|nil field
-- @treturn string order or the error
function M.parse_sort(s)
  local field, order = s:match("^([%w_.]+):?(%a*)$")
  if not field then
    return nil, "--sort must be FIELD[:asc|desc] (firstSeen or lastSeen), got '" .. s .. "'"
  end
  return field, order ~= "" and order or "asc"
end

-- The builder's message without its Lua position ("...lua:12: ").
local function clean(err)
  return (tostring(err):gsub("^[^:]*%.lua:%d+: ", ""))
end

local function where(q, s)
  local field, op, value = M.parse_where(s)
  if not field then return nil, op end
  local ok, r = pcall(q.where, q, field, op, value)
  if not ok and value:match("^%-?%d+$") then
    -- integer fields take a number: the same filter with the number
    local ok2, r2 = pcall(q.where, q, field, op, math.tointeger and math.tointeger(tonumber(value))
      or tonumber(value))
    if ok2 then return r2 end
  end
  if not ok then return nil, "--where '" .. s .. "': " .. clean(r) end
  return r
end

--- The search query of the flags, or nil when they name no filter.
-- @tparam table client
-- @tparam table o `where` (list), `tag` (list), `any`, `sort`
-- @treturn table|false the query, or false for "every customer"
-- @treturn string|nil the usage error
function M.query(client, o)
  local wheres, tags = o.where or {}, o.tag or {}
  if #wheres == 0 and #tags == 0 then
    if o.any then return nil, "--any needs --where or --tag filters" end
    return false
  end
  local q = client.customers:search()
  if o.any then q = q:any() end
  local err
  for _, s in ipairs(wheres) do
    q, err = where(q, s)
    if not q then return nil, err end
  end
  if #tags > 0 then
    local ok, r = pcall(o.any and q.tagged_any or q.tagged, q, (table.unpack or unpack)(tags))
    if not ok then return nil, "--tag: " .. clean(r) end
    q = r
  end
  if o.sort then
    local field, order = M.parse_sort(o.sort)
    if not field then return nil, order end
    local ok, r = pcall(q.sort, q, field, order)
    if not ok then return nil, "--sort: " .. clean(r) end
    q = r
  end
  return q
end

--- Check --sort for `customers:all` (the same rules as the builder's).
-- @tparam[opt] string s
-- @treturn table|nil `{sort =, order =}`
-- @treturn string the usage error
function M.all_params(client, s)
  if not s then return {} end
  local field, order = M.parse_sort(s)
  if not field then return nil, order end
  local ok, err = pcall(function() return client.customers:search():sort(field, order) end)
  if not ok then return nil, "--sort: " .. clean(err) end
  return { sort = field, order = order }
end

--- An iterator over what the flags select.
-- @tparam table client
-- @param query from M.query (false: every customer)
-- @tparam table params `sort`, `order` (for every customer), `max`, `resume`
-- @return the iterator (with `:checkpoint()`)
function M.iterate(client, query, params)
  if query then
    local q = params.max and query:limit(params.max) or query
    return q:each { resume = params.resume }
  end
  return client.customers:all { sort = params.sort, order = params.order, max = params.max,
                                resume = params.resume }
end

--- How many customers the flags select (one request), at most max.
-- @treturn integer|nil
-- @treturn table the error
function M.count(client, query, max)
  local n, err
  if query then
    n, err = query:count()
  else
    local page
    page, err = client.customers:list { limit = 1 }
    n = page and page.total
  end
  if n and max and n > max then n = max end
  return n, err
end

return M
