--- The CSV columns of a customer, decided once for export and import: their
-- names, order and how each is written and read.
--
-- - `id`, then the documented scalar fields; location's `city`, `regionCode`
--   and `countryCode` flat (as writes take them); booleans `true`/`false`;
--   dates as UNIX timestamps; an absent field is an empty cell;
-- - `tags`: the names joined by `;` (a `;` or `\` inside a name is escaped
--   with `\`);
-- - `customData`: one column holding the JSON object, unless `--columns`
--   names `customData.<property>` columns: one value each (strings as they
--   are, numbers and booleans as JSON writes them).
-- @module helpcrunch.cli.columns

local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"

local M = {}

--- The default columns, in order: {name, kind}.
M.STANDARD = {
  { "id", "id" }, { "userId", "string" }, { "name", "string" }, { "email", "string" },
  { "company", "string" }, { "phone", "string" }, { "firstSeen", "date" }, { "lastSeen", "date" },
  { "city", "location" }, { "regionCode", "location" }, { "countryCode", "location" },
  { "unsubscribed", "boolean" }, { "blocked", "boolean" }, { "source", "string" },
  { "referer", "string" }, { "lastPage", "string" }, { "locale", "string" },
  { "createdFrom", "string" }, { "integrationId", "string" }, { "notes", "string" },
  { "tags", "tags" }, { "customData", "json" },
}

local KIND = {}
for _, c in ipairs(M.STANDARD) do KIND[c[1]] = c[2] end

local OBJECT = { __jsontype = "object" }

-- A scalar as text: integers without ".0", floats exactly (the encoder's
-- shortest form), booleans true/false.
local function text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return core.encode(v) end
  if t == "table" then return core.encode(v) end
  return ""
end

local function escape_tag(name)
  return (name:gsub("[\\;]", "\\%0"))
end

-- Customer -> cell, per kind.
local WRITE = {
  id = function(c) return text(c.id) end,
  string = function(c, name) return text(c[name]) end,
  date = function(c, name) return text(c[name]) end,
  boolean = function(c, name) return text(c[name]) end,
  location = function(c, name)
    return type(c.location) == "table" and text(c.location[name]) or ""
  end,
  tags = function(c)
    local names = {}
    for i, t in ipairs(type(c.tags) == "table" and c.tags or {}) do
      names[i] = escape_tag(type(t) == "table" and tostring(t.name or "") or tostring(t))
    end
    return table.concat(names, ";")
  end,
  json = function(c)
    local cd = type(c.customData) == "table" and c.customData or {}
    local copy = setmetatable({}, OBJECT)
    for k, v in pairs(cd) do copy[k] = v end
    return core.encode(copy)
  end,
  property = function(c, _, prop)
    return type(c.customData) == "table" and text(c.customData[prop]) or ""
  end,
}

--- The columns `--columns` names (comma-separated), or the standard ones.
-- @tparam[opt] string spec e.g. "id,email,customData.plan,tags"
-- @treturn table|nil columns `{ {name=, kind=, prop=}, ... }`
-- @treturn string why not
function M.parse(spec)
  local cols = {}
  if spec == nil then
    for i, c in ipairs(M.STANDARD) do cols[i] = { name = c[1], kind = c[2] } end
    return cols
  end
  local seen = {}
  for name in (spec .. ","):gmatch("([^,]*),") do
    name = name:match("^%s*(.-)%s*$")
    local prop = name:match("^customData%.(.+)$")
    if seen[name] then return nil, "column " .. name .. " is named twice" end
    seen[name] = true
    if prop then
      cols[#cols + 1] = { name = name, kind = "property", prop = prop }
    elseif KIND[name] then
      cols[#cols + 1] = { name = name, kind = KIND[name] }
    else
      local names = {}
      for i, c in ipairs(M.STANDARD) do names[i] = c[1] end
      return nil, "unknown column " .. string.format("%q", name) .. " (columns: "
        .. table.concat(names, ", ") .. ", customData.<property>)"
    end
  end
  if #cols == 0 then return nil, "no column named" end
  return cols
end

--- The header record's names.
-- @tparam table cols
-- @treturn table list of strings
function M.header(cols)
  local names = {}
  for i, c in ipairs(cols) do names[i] = c.name end
  return names
end

--- A customer's cells.
-- @tparam table c a customer (normalised)
-- @tparam table cols
-- @treturn table list of strings
function M.cells(c, cols)
  local out = {}
  for i, col in ipairs(cols) do out[i] = WRITE[col.kind](c, col.name, col.prop) end
  return out
end

-- ---- reading (import) -------------------------------------------------------

local function split_tags(cell)
  local names, cur, i = {}, {}, 1
  while i <= #cell do
    local ch = cell:sub(i, i)
    if ch == "\\" and i < #cell then
      cur[#cur + 1] = cell:sub(i + 1, i + 1)
      i = i + 2
    else
      if ch == ";" then
        names[#names + 1] = table.concat(cur)
        cur = {}
      else
        cur[#cur + 1] = ch
      end
      i = i + 1
    end
  end
  names[#names + 1] = table.concat(cur)
  return names
end

local BOOLEAN = { ["true"] = true, ["false"] = false, ["1"] = true, ["0"] = false,
                  yes = true, no = false }

-- A customData cell: a JSON number, true or false is that value; anything
-- else is the string.
local function property_value(cell)
  if cell == "true" then return true elseif cell == "false" then return false end
  if cell:match("^%-?%d+$") or cell:match("^%-?%d+%.%d+$") or cell:match("^%-?%d+%.?%d*[eE][%+%-]?%d+$") then
    if not cell:match("^%-?0%d") then
      local v = helpcrunch.decode(cell)
      if v ~= nil then return v end
    end
  end
  return cell
end

-- Cell -> (field, value) or nil, error; per kind.
local READ = {
  string = function(name, cell) return name, cell end,
  location = function(name, cell) return name, cell end,
  date = function(name, cell)
    if not cell:match("^%d+$") then return nil, name .. " must be a UNIX timestamp (digits)" end
    return name, cell
  end,
  boolean = function(name, cell)
    local v = BOOLEAN[cell:lower()]
    if v == nil then return nil, name .. " must be true or false" end
    return name, v
  end,
  tags = function(name, cell) return name, split_tags(cell) end,
  json = function(name, cell)
    local v = helpcrunch.decode(cell)
    if type(v) ~= "table" or (next(v) ~= nil and v[1] ~= nil) then
      return nil, name .. " must be a JSON object {\"property\": value}"
    end
    return name, v
  end,
}

--- A reader of records with this header: cells -> fields.
-- @tparam table header the header record's names
-- @treturn function|nil `read(cells) -> fields | nil, error`
-- @treturn string why the header cannot be read
function M.reader(header)
  local cols = {}
  for i, name in ipairs(header) do
    local prop = name:match("^customData%.(.+)$")
    if prop then
      cols[i] = { kind = "property", prop = prop }
    elseif name == "id" then
      cols[i] = { kind = "skip" }       -- HelpCrunch's id: customers are matched by --match
    elseif KIND[name] then
      cols[i] = { kind = KIND[name], name = name }
    else
      return nil, "unknown column " .. string.format("%q", name) .. " in the header"
    end
  end
  return function(cells)
    if #cells ~= #header then
      return nil, #cells .. " fields where the header has " .. #header
    end
    local fields = {}
    for i, col in ipairs(cols) do
      local cell = cells[i]
      if cell ~= "" and col.kind ~= "skip" then
        if col.kind == "property" then
          fields.customData = fields.customData or {}
          fields.customData[col.prop] = property_value(cell)
        else
          local k, v = READ[col.kind](col.name, cell)
          if k == nil then return nil, v end
          if k == "customData" and fields.customData then
            for p, x in pairs(v) do fields.customData[p] = x end
          else
            fields[k] = v
          end
        end
      end
    end
    return fields
  end
end

return M
