--- JSON for the mock: lua-cjson decodes, this module encodes.
--
-- Why not `cjson.encode`? lua-cjson 2.1.0 formats every number with `%.14g`, so an
-- integer above 10^14 leaves as `1.2345678901235e+16`, and on Lua 5.4 it decodes
-- integers as floats. The mock must send ids and timestamps as integers, so it
-- writes numbers itself and turns integral floats back into integers on decode.
-- Objects are written with sorted keys, so the same data always gives the same bytes.
-- @module helpcrunch.mock.json

local cjson = require "cjson"

local M = {}

--- The JSON null sentinel (the same value as `cjson.null`).
M.null = cjson.null

--- Metatable that marks a table as a JSON array even when it is empty.
M.array_mt = { __name = "helpcrunch.mock.json.array" }

local null = M.null
local array_mt = M.array_mt
local type, pairs, tostring, tonumber = type, pairs, tostring, tonumber
local format, floor, huge = string.format, math.floor, math.huge
local concat, sort = table.concat, table.sort
local find, gsub = string.find, string.gsub
local cjson_encode = cjson.encode
local getmetatable, setmetatable = getmetatable, setmetatable
local math_type = math.type            -- nil on LuaJIT / 5.1
local tointeger = math.tointeger       -- nil on LuaJIT / 5.1
local MAX_EXACT = 2 ^ 53

--- Mark a table as an array (so `{}` encodes as `[]`).
-- @tparam table t
-- @treturn table t
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

--- Encode a Lua string as a JSON string literal (UTF-8 passes through).
-- lua-cjson does the escaping, in C (ten times faster than a Lua pattern here); its
-- "\/" for "/" is undone, since every literal backslash is already written "\\".
-- @tparam string s
-- @treturn string
function M.string(s)
  local r = cjson_encode(s)
  if find(r, "\\/", 1, true) then r = gsub(r, "\\/", "/") end
  return r
end
local encode_string = M.string

--- Encode a number: integers (and integral floats below 2^53) as integers.
-- @tparam number n
-- @treturn string
function M.number(n)
  if math_type and math_type(n) == "integer" then
    return format("%d", n)
  end
  if n ~= n or n == huge or n == -huge then
    return "null"
  end
  if n == floor(n) and n > -MAX_EXACT and n < MAX_EXACT then
    return format("%d", n)
  end
  local s = format("%.14g", n)
  if tonumber(s) ~= n then
    s = format("%.17g", n)
  end
  return s
end
local encode_number = M.number

local encode_value

local function is_array(t)
  return getmetatable(t) == array_mt or t[1] ~= nil
end

local function encode_table(t, depth)
  if depth > 100 then error("json: nesting too deep", 0) end
  local out = {}
  if is_array(t) then
    for i = 1, #t do
      out[i] = encode_value(t[i], depth + 1)
    end
    return "[" .. concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = tostring(k)
  end
  sort(keys)
  for i = 1, #keys do
    local k = keys[i]
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[i] = encode_string(k) .. ":" .. encode_value(v, depth + 1)
  end
  return "{" .. concat(out, ",") .. "}"
end

encode_value = function(v, depth)
  local tv = type(v)
  if tv == "string" then
    return encode_string(v)
  elseif tv == "number" then
    return encode_number(v)
  elseif tv == "boolean" then
    return v and "true" or "false"
  elseif tv == "table" then
    return encode_table(v, depth or 0)
  elseif v == nil or v == null then
    return "null"
  end
  error("json: cannot encode a " .. tv, 0)
end

--- Encode any Lua value as JSON text.
-- Tables with `array_mt` or a non-nil `[1]` are arrays; other tables are objects
-- with sorted keys; an unmarked empty table is `{}`.
-- @param v value
-- @treturn string
function M.encode(v)
  return encode_value(v, 0)
end

-- Turn integral floats back into integers (Lua 5.3+); no-op on LuaJIT.
local function fix_numbers(v, depth)
  if type(v) ~= "table" or depth > 1000 then return v end
  for k, x in pairs(v) do
    local tx = type(x)
    if tx == "number" then
      local i = tointeger(x)
      if i then v[k] = i end
    elseif tx == "table" then
      fix_numbers(x, depth + 1)
    end
  end
  return v
end

--- Decode JSON text.
-- Integral numbers become Lua integers on 5.3+ (exact up to 2^53, as lua-cjson
-- reads every number as a double); arrays keep `array_mt`-free plain sequences.
-- @tparam string text
-- @return value, or nil and an error message
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if not ok then
    return nil, tostring(v)
  end
  if tointeger then
    if type(v) == "number" then
      return tointeger(v) or v
    end
    fix_numbers(v, 0)
  end
  return v
end

return M
