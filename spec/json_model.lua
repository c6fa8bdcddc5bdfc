--- The JSON rules of README "JSON: exact rules and differences from
-- lua-cjson", restated in plain Lua for the specs (not a spec itself):
--   M.normalise(cjson_value, "root")  what helpcrunch.decode gives for cjson's value
--   M.compare(got, want, path)        nil, or the first difference (numbers by
--                                     subtype on 5.4, the sign of zero everywhere)
--   M.validate(text)                  strict RFC 8259: ok, depth (or nil, 0-based byte)
--   M.model_decode(text)              what helpcrunch.decode must give for a valid text,
--                                     by a naive reader (numbers by tonumber)
--   M.encode_problems(v)              why core.encode must refuse v (a set), or nil
--   M.decoded_form(v)                 what decode(encode(v)) must give for a plain v
-- Used by spec/differential_spec.lua and spec/fuzz_corpus_spec.lua.
local helpcrunch = require "helpcrunch"
local cjson = require "cjson"

local HAS_INTEGERS = math.type ~= nil
local NULL = cjson.null
local TWO63 = 2.0 ^ 63

local M = {}

-- ---- the documented normalisation, applied to cjson's result -----------


local function is_array(t)
  return next(t) == nil or t[1] ~= nil
end

-- README item "timestamps": a string of digits (leading zeros allowed, an
-- optional '-') that is within int64.
local function numeric_timestamp(s)
  local neg, d = s:match("^(%-?)(%d+)$")
  if not d then return false end
  d = d:gsub("^0+", "")
  if #d ~= 19 then return #d < 19 end
  return d <= (neg == "-" and "9223372036854775808" or "9223372036854775807")
end

local function to_integer(s)
  local v = tonumber(s)
  v = math.tointeger and math.tointeger(v) or v
  if v == 0 then v = 0 end               -- "-0" is the integer 0 (or +0.0 on LuaJIT)
  return v
end

local normalise

local function normalise_list(list, elem_ctx)
  local out = {}
  for i = 1, #list do out[i] = normalise(list[i], elem_ctx) end
  return out
end

-- A list of {property = string, value} entries becomes a map; any other
-- list stays as it is.
local function customdata_list_to_map(list)
  for _, e in ipairs(list) do
    if type(e) ~= "table" or type(e.property) ~= "string" then return list end
  end
  local map = {}
  for _, e in ipairs(list) do map[e.property] = e.value end
  return map
end

-- ctx: "root" (the body's top value), "customer" (an element of the root's
-- data list or of a root list), "other". README items: "null", "customer",
-- "timestamps", "customData", "integers" (in compare).
function normalise(v, ctx)
  if v == NULL then return helpcrunch.null end            -- a list item (or the root)
  if type(v) ~= "table" then return v end
  if is_array(v) then
    return normalise_list(v, ctx == "root" and "customer" or "other")
  end
  local out = {}
  local customer = ctx == "root" or ctx == "customer"
  for k, x in pairs(v) do
    if x == NULL then
      if customer and (k == "customData" or k == "tags") then out[k] = {} end   -- else absent
    elseif customer and (k == "firstSeen" or k == "lastSeen") and type(x) == "string" then
      out[k] = numeric_timestamp(x) and to_integer(x) or x
    elseif customer and k == "customData" and type(x) == "table" and is_array(x) then
      out[k] = customdata_list_to_map(normalise_list(x, "other"))
    elseif ctx == "root" and k == "data" and type(x) == "table" and is_array(x) then
      out[k] = normalise_list(x, "customer")
    else
      out[k] = normalise(x, "other")
    end
  end
  return out
end

-- ---- comparison ---------------------------------------------------------

-- Should the core have an integer where cjson has n? nil: either (cjson's
-- 2^63 came from 2^63 - 1, an integer, or from 2^63, a float).
local function expect_integer(n)
  if HAS_INTEGERS and math.type(n) == "integer" then return true end
  if n == 0 and 1 / n < 0 then return false end        -- -0 is the float -0.0, as cjson
  if math.abs(n) == TWO63 then return nil end
  return n == math.floor(n) and math.abs(n) < TWO63
end

-- nil when h (the core's value) equals n (normalised cjson value), else
-- the path and the difference. Numbers: equal as numbers, where an integer
-- from the core matches cjson's double of the same text; on 5.4 an
-- integral value within int64 must be an integer, anything else a float.
local function compare(h, n, path)
  if type(n) == "number" then
    if type(h) ~= "number" then return path .. ": number expected, got " .. type(h) end
    local same = h == n
    if not same and HAS_INTEGERS and math.type(h) == "integer" then same = (h + 0.0) == n end
    if not same then
      return path .. (": %.17g vs cjson %.17g"):format(h, n)
    end
    if n == 0 and HAS_INTEGERS and math.type(h) == "float" and 1 / h ~= 1 / n then
      return path .. ": the sign of zero differs"
    end
    if n == 0 and not HAS_INTEGERS and 1 / h ~= 1 / n then
      return path .. ": the sign of zero differs"
    end
    local int = expect_integer(n)
    if HAS_INTEGERS and int ~= nil then
      local want = int and "integer" or "float"
      if math.type(h) ~= want then return path .. ": " .. math.type(h) .. ", want " .. want end
    end
    return nil
  end
  if type(n) ~= "table" then
    if h ~= n then return path .. (": %q vs cjson %q"):format(tostring(h), tostring(n)) end
    return nil
  end
  if type(h) ~= "table" then return path .. ": table expected, got " .. type(h) end
  for k, v in pairs(n) do
    local d = compare(h[k], v, path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(h) do
    if n[k] == nil then return path .. "." .. tostring(k) .. ": not expected" end
  end
  return nil
end


M.normalise = normalise
M.compare = compare

-- ---- a strict RFC 8259 validator ------------------------------------------
-- With the decoder's documented limits: a \u escape of a lone surrogate is
-- refused; string bytes are not checked for UTF-8. Returns true and the
-- nesting depth, or nil and the 0-based offset where the text stopped being
-- a prefix of one JSON text.

local function validator(s)
  local i, n, depth, maxdepth = 1, #s, 0, 0
  local byte = string.byte
  local value
  local function ws()
    while i <= n do
      local c = byte(s, i)
      if c ~= 32 and c ~= 9 and c ~= 10 and c ~= 13 then return end
      i = i + 1
    end
  end
  local function fail() error({ at = i - 1 }, 0) end
  local function hex4()
    local h = s:sub(i, i + 3)
    if not h:match("^%x%x%x%x$") then
      while i <= n and s:sub(i, i):match("%x") do i = i + 1 end
      fail()
    end
    i = i + 4
    return tonumber(h, 16)
  end
  local function str()
    i = i + 1
    while true do
      if i > n then fail() end
      local c = byte(s, i)
      if c == 34 then i = i + 1 return end
      if c < 32 then fail() end
      if c == 92 then
        i = i + 1
        if i > n then fail() end
        local e = s:sub(i, i)
        if e:match('^["\\/bfnrt]$') then
          i = i + 1
        elseif e == "u" then
          i = i + 1
          local cp = hex4()
          if cp >= 0xDC00 and cp <= 0xDFFF then fail() end
          if cp >= 0xD800 and cp <= 0xDBFF then
            if s:sub(i, i + 1) ~= "\\u" then fail() end
            i = i + 2
            local lo = hex4()
            if lo < 0xDC00 or lo > 0xDFFF then fail() end
          end
        else
          fail()
        end
      else
        i = i + 1
      end
    end
  end
  local function digits()
    local j = i
    while i <= n and byte(s, i) >= 48 and byte(s, i) <= 57 do i = i + 1 end
    if i == j then fail() end
  end
  local function number()
    if s:sub(i, i) == "-" then i = i + 1 end
    if i > n then fail() end
    local c = byte(s, i)
    if c == 48 then i = i + 1
    elseif c >= 49 and c <= 57 then digits()
    else fail() end
    if s:sub(i, i) == "." then i = i + 1 digits() end
    local e = s:sub(i, i)
    if e == "e" or e == "E" then
      i = i + 1
      local sign = s:sub(i, i)
      if sign == "+" or sign == "-" then i = i + 1 end
      digits()
    end
  end
  local function literal(word)
    for k = 1, #word do
      if byte(s, i) ~= byte(word, k) then fail() end
      i = i + 1
    end
  end
  local function container(close, object)
    i = i + 1
    depth = depth + 1
    if depth > maxdepth then maxdepth = depth end
    ws()
    if byte(s, i) == close then i = i + 1 depth = depth - 1 return end
    while true do
      if object then
        if byte(s, i) ~= 34 then fail() end
        str()
        ws()
        if byte(s, i) ~= 58 then fail() end
        i = i + 1
        ws()
      end
      value()
      ws()
      if i > n then fail() end
      local c = byte(s, i)
      if c == 44 then i = i + 1 ws()
      elseif c == close then i = i + 1 depth = depth - 1 return
      else fail() end
    end
  end
  function value()
    if i > n then fail() end
    local c = byte(s, i)
    if c == 123 then container(125, true)
    elseif c == 91 then container(93, false)
    elseif c == 34 then str()
    elseif c == 116 then literal("true")
    elseif c == 102 then literal("false")
    elseif c == 110 then literal("null")
    elseif c == 45 or (c >= 48 and c <= 57) then number()
    else fail() end
  end
  ws()
  value()
  ws()
  if i <= n then fail() end
  return maxdepth
end

function M.validate(text)
  local ok, r = pcall(validator, text)
  if ok then return true, r end
  if type(r) ~= "table" then error(r, 0) end   -- a bug here, or a stack overflow
  return nil, r.at
end

-- ---- a naive reader: the value the README promises for a valid text --------

local function utf8_encode(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
                     0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local ESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
local CUSTOMER_CTX = { root = true, customer = true }

--- The value helpcrunch.decode must give for text, which must be valid JSON.
--- The UTF-8 bytes of code point cp.
M.utf8_encode = utf8_encode

function M.model_decode(text)
  local i = 1
  local value
  local function ws() i = text:find("[^ \t\r\n]", i) or #text + 1 end
  local function str()
    local out = {}
    i = i + 1
    while true do
      local j = text:find('["\\]', i)
      out[#out + 1] = text:sub(i, j - 1)
      i = j
      if text:sub(i, i) == '"' then i = i + 1 return table.concat(out) end
      local e = text:sub(i + 1, i + 1)
      if e == "u" then
        local cp = tonumber(text:sub(i + 2, i + 5), 16)
        i = i + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          cp = 0x10000 + (cp - 0xD800) * 1024 + (tonumber(text:sub(i + 2, i + 5), 16) - 0xDC00)
          i = i + 6
        end
        out[#out + 1] = utf8_encode(cp)
      else
        out[#out + 1] = ESC[e]
        i = i + 2
      end
    end
  end
  local function number()
    local t = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    i = i + #t
    if t == "-0" then return -0.0 end
    local v = tonumber(t)
    if v == nil then                           -- LuaJIT's tonumber gives up on a huge exponent:
      local sign = t:sub(1, 1) == "-" and -1 or 1       -- the value is then 0 or inf
      if not t:match("^-?[0.]*[1-9]") then return sign * 0.0 end
      return t:match("[eE]%-") and sign * 0.0 or sign * math.huge
    end
    if not t:find("[.eE]") then return v end   -- an integer within int64, else the nearest double
    return v + 0.0
  end
  local function timestamp(s)
    local neg, d = s:match("^(%-?)(%d+)$")
    if not d then return s end
    local digits = d:gsub("^0+", "")
    if #digits > 19 or (#digits == 19 and digits > (neg == "-" and "9223372036854775808"
                                                                  or "9223372036854775807")) then
      return s
    end
    local v = tonumber(neg .. (digits == "" and "0" or digits))
    return v == 0 and 0 or v
  end
  local function object(ctx)
    local t = {}
    i = i + 1
    ws()
    if text:sub(i, i) == "}" then i = i + 1 return t end
    while true do
      local k = str()
      ws()
      i = i + 1
      ws()
      local c = text:sub(i, i)
      local v
      if CUSTOMER_CTX[ctx] and (k == "firstSeen" or k == "lastSeen") and c == '"' then
        v = timestamp(str())
      elseif CUSTOMER_CTX[ctx] and (k == "customData" or k == "tags") and c == "n" then
        i = i + 4
        v = {}
      elseif CUSTOMER_CTX[ctx] and k == "customData" and c == "[" then
        v = customdata_list_to_map(value("other"))
      elseif ctx == "root" and k == "data" and c == "[" then
        v = value("root")
      else
        v = value("other")
      end
      t[k] = v                             -- nil for null: the last pair wins
      ws()
      if text:sub(i, i) == "," then i = i + 1 ws() else i = i + 1 return t end
    end
  end
  local function array(ctx)
    local t, n = {}, 0
    i = i + 1
    ws()
    if text:sub(i, i) == "]" then i = i + 1 return t end
    while true do
      local v = value(ctx == "root" and "customer" or "other")
      n = n + 1
      if v == nil then v = helpcrunch.null end
      t[n] = v
      ws()
      if text:sub(i, i) == "," then i = i + 1 ws() else i = i + 1 return t end
    end
  end
  function value(ctx)
    local c = text:sub(i, i)
    if c == "{" then return object(ctx)
    elseif c == "[" then return array(ctx)
    elseif c == '"' then return str()
    elseif c == "t" then i = i + 4 return true
    elseif c == "f" then i = i + 5 return false
    elseif c == "n" then i = i + 4 return nil
    else return number() end
  end
  ws()
  local v = value("root")
  if v == nil then return helpcrunch.null end
  return v
end

-- ---- the encoder's rules --------------------------------------------------

local function utf8_valid(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local k
    local lo, hi = 0x80, 0xBF
    if c < 0x80 then k = 0
    elseif c >= 0xC2 and c <= 0xDF then k = 1
    elseif c >= 0xE0 and c <= 0xEF then
      k = 2
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
      k = 3
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    else return false end
    if k > 0 then
      if i + k > n then return false end
      local c1 = s:byte(i + 1)
      if c1 < lo or c1 > hi then return false end
      for j = 2, k do
        local cj = s:byte(i + j)
        if cj < 0x80 or cj > 0xBF then return false end
      end
    end
    i = i + k + 1
  end
  return true
end

local function is_list_index(k)
  if type(k) ~= "number" or k ~= math.floor(k) then return false end
  if math.type and math.type(k) ~= "integer" then return false end
  return k >= 1 and k < 2147483647
end

--- Why core.encode must refuse v: a set of problem texts as the encoder
-- names them ("a cycle", "a shared table", "NaN", ...), or nil.
function M.encode_problems(v)
  local problems, seen = {}, {}
  local function walk(x, depth)
    local t = type(x)
    if t == "nil" or t == "boolean" then return end
    if t == "number" then
      if x ~= x then problems["NaN"] = true
      elseif x == math.huge or x == -math.huge then problems["infinity"] = true end
      return
    end
    if t == "string" then
      if not utf8_valid(x) then problems["invalid UTF-8"] = true end
      return
    end
    if t == "userdata" and x == helpcrunch.null then return end
    if t ~= "table" then problems["value"] = true return end
    if seen[x] == 1 then problems["a cycle"] = true return end
    if seen[x] == 2 then problems["a shared table"] = true return end
    if depth >= 64 then problems["nested too deeply"] = true return end
    seen[x] = 1
    local nstr, nint, maxi = 0, 0, 0
    for k, val in pairs(x) do
      if type(k) == "string" then
        nstr = nstr + 1
        walk(k, depth + 1)
      elseif is_list_index(k) then
        nint = nint + 1
        if k > maxi then maxi = k end
      else
        problems["neither a string nor a list index"] = true
      end
      walk(val, depth + 1)
    end
    if nstr > 0 and nint > 0 then problems["mixes list items and named fields"] = true end
    if nint > 0 and maxi ~= nint then problems["list has holes"] = true end
    seen[x] = 2
  end
  walk(v, 0)
  if next(problems) == nil then return nil end
  return problems
end

--- What decode(encode(v)) gives for an encodable v with no key the decoder
-- normalises: null map values dropped, nil as the root is null.
function M.decoded_form(v)
  if v == nil then return helpcrunch.null end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if not (type(k) == "string" and x == helpcrunch.null) then out[k] = M.decoded_form(x) end
  end
  return out
end

--- Deep equality of two core values; loose: an integral float up to 2^53
-- equals the integer of its value (the encoder writes 3.0 as 3).
function M.same(a, b, loose)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if a ~= b then return false end
    if a == 0 and 1 / a ~= 1 / b then return false end
    if HAS_INTEGERS and math.type(a) ~= math.type(b) then
      local f = math.type(a) == "float" and a or b
      return loose and math.abs(f) <= 2 ^ 53 and not (f == 0 and 1 / f < 0)
    end
    return true
  end
  if type(a) ~= "table" then return a == b end
  for k, x in pairs(a) do
    if not M.same(x, b[k], loose) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

return M
