--- The customer fields a write may send: ONE table of names and types, and the
-- request body built from a caller's fields with it. create, update, replace,
-- update_many and upsert all go through `body`, so a typo like `emial` raises
-- the same way everywhere, before any request.
--
-- Sent the way the API documents (API-REFERENCE.md §1.1): dates as strings of
-- digits, `customData` as a list of `{property, value}` sorted by property,
-- `tags` as a list of `{name, color}`, location flat (`city`, `regionCode`,
-- `countryCode`). `helpcrunch.null` as a value sends JSON null (clears it).
-- @module helpcrunch.resources.customer_fields

local core = require "helpcrunch.core"
local util = require "helpcrunch.util"

local M = {}

local NULL = core.null

--- Every writable field and its type. "text" is a string the API refuses past
-- 255 characters (observed: API-REFERENCE.md §1.1).
M.WRITABLE = {
  name = "string", email = "string", userId = "string", company = "string",
  phone = "string", firstSeen = "date", lastSeen = "date",
  unsubscribed = "boolean", blocked = "boolean",
  source = "string", referer = "string", lastPage = "string", locale = "string",
  notes = "text", createdFrom = "string", integrationId = "string",
  city = "string", regionCode = "string", countryCode = "string",
  tags = "tags", customData = "customData",
}

--- The longest `notes` and string `customData` value the API takes, in characters.
M.MAX_TEXT = 255

-- Names people reach for that are not writable fields, and what to use instead.
local HINTS = {
  id = "id is assigned by HelpCrunch; use userId for your own id",
  location = "location is sent flat: use city, regionCode and countryCode",
  device = "device is set by HelpCrunch's widget, not by the API",
}

local VALID = {}
for k in pairs(M.WRITABLE) do VALID[#VALID + 1] = k end
table.sort(VALID)
VALID = table.concat(VALID, ", ")

local raise = util.raise

local function chars(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function check_text(where, s)
  if chars(s) > M.MAX_TEXT then
    raise(where .. " has " .. chars(s) .. " characters; the API takes at most " .. M.MAX_TEXT)
  end
end

local function date_string(where, v)
  if util.is_integral(v) then return util.int_string(v) end
  if type(v) == "string" and v:match("^%d+$") then return v end
  raise(where .. " must be a UNIX timestamp (integer or string of digits), got "
    .. util.describe(v))
end

-- A table used as a list: keys 1..n and nothing else.
local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local SCALAR = { string = true, number = true, boolean = true }

local function custom_data_list(where, cd)
  if type(cd) ~= "table" then
    raise(where .. " must be a table {property = value}, got " .. util.describe(cd))
  end
  local list = {}
  local function add(property, value, at)
    if type(property) ~= "string" or property == "" then
      raise(at .. " property names must be non-empty strings, got " .. util.describe(property))
    end
    if value ~= NULL and not SCALAR[type(value)] then
      raise(at .. " must be a string, number, boolean or helpcrunch.null, got "
        .. util.describe(value))
    end
    if type(value) == "string" then check_text(at, value) end
    list[#list + 1] = { property = property, value = value }
  end
  if cd[1] ~= nil then                       -- already the API's list form
    if not is_list(cd) then raise(where .. " mixes a list and a map") end
    for i, e in ipairs(cd) do
      if type(e) ~= "table" then
        raise(where .. "[" .. i .. "] must be {property = name, value = v}, got "
          .. util.describe(e))
      end
      add(e.property, e.value, where .. "[" .. i .. "]")
    end
    return list
  end
  for k, v in pairs(cd) do add(k, v, where .. "." .. tostring(k)) end
  table.sort(list, function(a, b) return a.property < b.property end)
  return list
end

--- Tags as the API takes them: a list of `{name, color}` from names or
-- `{name=, color=}` tables. Empty names raise.
-- @tparam string where the argument, for messages ("customers:add_tags: tags")
-- @param tags the caller's list
-- @tparam[opt] boolean names_only drop colours (removal names tags only)
-- @treturn table
function M.tag_list(where, tags, names_only)
  if type(tags) ~= "table" or not is_list(tags) then
    raise(where .. " must be a list of names or {name=, color=}, got " .. util.describe(tags))
  end
  local list = {}
  for i, t in ipairs(tags) do
    local name, color
    if type(t) == "string" then
      name = t
    elseif type(t) == "table" and type(t.name) == "string" then
      name, color = t.name, t.color
      if color ~= nil and type(color) ~= "string" then
        raise(where .. "[" .. i .. "].color must be a CSS colour string, got "
          .. util.describe(color))
      end
    else
      raise(where .. "[" .. i .. "] must be a name or {name=, color=}, got " .. util.describe(t))
    end
    if name == "" then raise(where .. "[" .. i .. "] has an empty name") end
    list[i] = { name = name, color = not names_only and color or nil }
  end
  return list
end

local CONVERT = {
  string = function(where, v)
    if type(v) ~= "string" then raise(where .. " must be a string, got " .. util.describe(v)) end
    return v
  end,
  text = function(where, v)
    if type(v) ~= "string" then raise(where .. " must be a string, got " .. util.describe(v)) end
    check_text(where, v)
    return v
  end,
  boolean = function(where, v)
    if type(v) ~= "boolean" then raise(where .. " must be a boolean, got " .. util.describe(v)) end
    return v
  end,
  date = date_string,
  tags = M.tag_list,
  customData = custom_data_list,
}

--- Check a caller's fields and build the request body in the API's form.
-- @tparam string fname the public call, for messages ("customers:update")
-- @param fields the caller's table
-- @tparam[opt] string arg how messages name it ("fields", "list[3]")
-- @tparam[opt] table skip keys the caller handles itself (`{ id = true }`)
-- @treturn table the body
-- @treturn integer how many fields it holds
function M.body(fname, fields, arg, skip)
  local prefix = fname .. ": " .. (arg and (arg .. ".") or "")
  if type(fields) ~= "table" then
    raise(fname .. ": " .. (arg or "fields") .. " must be a table of customer fields, got "
      .. util.describe(fields))
  end
  local body, n = {}, 0
  for k, v in pairs(fields) do
    if not (skip and skip[k]) then
      local kind = M.WRITABLE[k]
      if type(k) ~= "string" then
        raise(prefix .. "field names must be strings, got " .. util.describe(k))
      elseif not kind then
        raise(prefix .. (HINTS[k] or ("unknown field " .. util.describe(k)
          .. " (valid: " .. VALID .. ")")))
      end
      body[k] = v == NULL and NULL or CONVERT[kind](prefix .. k, v)
      n = n + 1
    end
  end
  return body, n
end

return M
