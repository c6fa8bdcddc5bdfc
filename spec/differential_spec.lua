--- helpcrunch.decode against lua-cjson on thousands of generated documents:
-- the core must give what cjson gives, up to exactly the differences README
-- "JSON: exact rules and differences from lua-cjson" lists, which `normalise`
-- below applies to cjson's result (each rule marked with its README item).
-- Duplicate keys, -0, 19-digit integers and timestamps are generated too.
-- The generator is seeded and deterministic.
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local cjson = require "cjson"
local model = require "spec.json_model"

local HAS_INTEGERS = math.type ~= nil
-- Under tools/valgrind.sh (an aggressive collector under memcheck) fewer
-- documents of each kind.
local SCALE = os.getenv("HELPCRUNCH_GC_STRESS") == "1" and 0.1 or 1

-- ---- a deterministic generator (Park-Miller, exact in doubles) ----------

local rng = H.rng

local function pick(r, list) return list[r(#list)] end

local utf8_char = model.utf8_encode

-- Code points of a valid UTF-8 string.
local function code_points(s)
  local out, i = {}, 1
  while i <= #s do
    local c = s:byte(i)
    local n = c < 0x80 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4
    local cp = n == 1 and c or n == 2 and c % 32 or n == 3 and c % 16 or c % 8
    for j = i + 1, i + n - 1 do cp = cp * 64 + s:byte(j) % 64 end
    out[#out + 1] = cp
    i = i + n
  end
  return out
end

-- A random valid UTF-8 string: plain text, JSON's special characters,
-- control characters, 2-, 3- and 4-byte characters.
local PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 -_.:@#$%&*+=!?'<>{}[],"
local function random_text(r, max_len)
  local n = r(max_len + 1) - 1
  local out = {}
  for i = 1, n do
    local k = r(20)
    if k <= 12 then
      local j = r(#PLAIN)
      out[i] = PLAIN:sub(j, j)
    elseif k == 13 then out[i] = pick(r, { '"', "\\", "/" })
    elseif k == 14 then out[i] = string.char(r(32) - 1)
    elseif k == 15 then out[i] = utf8_char(0x80 + r(0x780) - 1)
    elseif k == 16 then
      local cp = 0x800 + r(0xF800) - 1
      if cp >= 0xD800 and cp <= 0xDFFF then cp = cp - 0x800 end
      out[i] = utf8_char(cp)
    elseif k == 17 then out[i] = utf8_char(0x10000 + r(0x100000) - 1)
    elseif k == 18 then out[i] = "\127"
    else out[i] = pick(r, { "é", "€", "😀", "Київ", "ß" }) end
  end
  return table.concat(out)
end

local SHORT = { [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r",
                [34] = '\\"', [92] = "\\\\", [47] = "\\/" }

local function hex4(r, v)
  local h = string.format("%04x", v)
  if r(2) == 1 then h = h:upper() end
  return "\\u" .. h
end

-- The JSON text of string s, escaped at random where JSON allows a choice.
local function json_string(r, s)
  local out = { '"' }
  for _, cp in ipairs(code_points(s)) do
    local e
    if cp < 0x20 then
      e = (SHORT[cp] and r(2) == 1) and SHORT[cp] or hex4(r, cp)
    elseif cp == 34 or cp == 92 then
      e = r(4) == 1 and hex4(r, cp) or SHORT[cp]
    elseif cp == 47 then
      e = r(3) == 1 and SHORT[cp] or "/"
    elseif r(6) == 1 then                                -- an optional \u escape
      if cp < 0x10000 then e = hex4(r, cp)
      else
        local v = cp - 0x10000
        e = hex4(r, 0xD800 + math.floor(v / 1024)) .. hex4(r, 0xDC00 + v % 1024)
      end
    else
      e = utf8_char(cp)
    end
    out[#out + 1] = e
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local function digits(r, n, first_nonzero)
  local out = {}
  for i = 1, n do
    out[i] = tostring((i == 1 and first_nonzero) and r(9) or r(10) - 1)
  end
  return table.concat(out)
end

-- Number texts. Fractions and exponents are made so that their value is not
-- integral or is beyond 2^63, and integer texts either fit int64 or have 20+
-- digits: so "integral and within +-2^63" tells that the text was an integer
-- that fits int64 (checked against the core's integer-ness on 5.4).
local function random_number(r)
  local k = r(11)
  local sign = r(3) == 1 and "-" or ""
  if k == 1 then return sign .. tostring(r(1000) - 1)
  elseif k == 2 then return sign .. digits(r, r(10), true)
  elseif k == 3 then return sign .. digits(r, 14 + r(4), true)             -- 15..18 digits
  elseif k == 4 then return sign .. tostring(r(9)) .. digits(r, 18)       -- 19 digits, some > int64
  elseif k == 5 then return pick(r, { "9223372036854775807", "-9223372036854775808", "-0", "0",
                                      "9007199254740993", "-9007199254740993", "9223372036854775808",
                                      "-9223372036854775809", "-0.0", "-0e3" })
  elseif k == 6 then return sign .. digits(r, 19 + r(6), true)            -- 20..25 digits: floats
  elseif k == 7 or k == 8 then                                            -- fractions
    local int = r(3) == 1 and "0" or digits(r, r(6), true)
    return sign .. int .. "." .. digits(r, r(6) - 1) .. tostring(r(9))
  elseif k == 9 then                                                      -- small exponents
    return sign .. r(9) .. "." .. digits(r, 3) .. pick(r, { "e", "E" }) .. pick(r, { "-", "-0" }) ..
      tostring(r(30))
  elseif k == 10 then                                                     -- large exponents
    return sign .. r(9) .. pick(r, { "", "." .. digits(r, r(5)) }) .. pick(r, { "e", "E" }) ..
      pick(r, { "", "+" }) .. tostring(19 + r(280))
  else
    return sign .. pick(r, { "15.99", "0.1", "1.5", "0.5", "1e300", "2.5e-3", "1E-2", "3.141592653589793" })
  end
end

local WS = { " ", "\n", "\t", "\r\n", "  \n    ", " \t " }
local function ws(r)
  if r(5) <= 3 then return "" end
  return pick(r, WS)
end

local KEYS = { "a", "b", "name", "id", "value", "property", "firstSeen", "lastSeen", "customData",
               "tags", "data", "total", "location", "x y", "é", "", "\"q\"", "back\\slash", "line\nbreak" }

local TIMESTAMP_STRINGS = { "1603885746", "0", "-5", "007", "1588603952", "99999999999", "",
                            "abc", "12a", "1.5", " 12", "-", "+5", "1e5", "2020-09-01 00:40:00",
                            "1234567890123456789", "9223372036854775807", "-9223372036854775808",
                            "9223372036854775808", "-9223372036854775809", "00009223372036854775807",
                            "12345678901234567890", "-0" }

local gen_value

local function gen_object(r, depth)
  local n = r(6) - 1
  local used, parts = {}, {}
  for _ = 1, n do
    local key = r(3) == 1 and random_text(r, 8) or pick(r, KEYS)
    if not used[key] or r(3) == 1 then                 -- a third of repeats kept: duplicate keys
      used[key] = true
      local v
      if (key == "firstSeen" or key == "lastSeen") and r(2) == 1 then
        v = json_string(r, pick(r, TIMESTAMP_STRINGS))
      else
        v = gen_value(r, depth + 1)
      end
      parts[#parts + 1] = ws(r) .. json_string(r, key) .. ws(r) .. ":" .. ws(r) .. v .. ws(r)
    end
  end
  return "{" .. table.concat(parts, ",") .. ws(r) .. "}"
end

local function gen_array(r, depth)
  local parts = {}
  for i = 1, r(6) - 1 do parts[i] = ws(r) .. gen_value(r, depth + 1) .. ws(r) end
  return "[" .. table.concat(parts, ",") .. ws(r) .. "]"
end

function gen_value(r, depth)
  local k = r(depth >= 4 and 7 or 10)
  if k == 1 then return "null"
  elseif k == 2 then return pick(r, { "true", "false" })
  elseif k == 3 or k == 4 then return random_number(r)
  elseif k <= 7 then return json_string(r, random_text(r, r(3) == 1 and 40 or 10))
  elseif k <= 8 then return gen_object(r, depth)
  else return gen_array(r, depth) end
end

-- Join fields (key text, value text) into an object in a random order,
-- sometimes with one of them repeated (a duplicate key, another value).
local function shuffled_object(r, fields, again)
  if again and #fields > 0 and r(4) == 1 then
    local f = fields[r(#fields)]
    fields[#fields + 1] = { f[1], again(f[1]) }
  end
  for i = #fields, 2, -1 do
    local j = r(i)
    fields[i], fields[j] = fields[j], fields[i]
  end
  local parts = {}
  for i, f in ipairs(fields) do
    parts[i] = ws(r) .. json_string(r, f[1]) .. ws(r) .. ":" .. ws(r) .. f[2] .. ws(r)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function str_or_null(r, s)
  if r(4) == 1 then return "null" end
  return json_string(r, s)
end

local function gen_customer(r)
  local f = {}
  local function add(k, v) f[#f + 1] = { k, v } end
  add("id", tostring(r(9999999)))
  for _, k in ipairs { "name", "email", "userId", "company", "phone", "source", "referer", "lastPage",
                       "locale", "notes", "createdFrom", "integrationId" } do
    if r(5) > 1 then add(k, str_or_null(r, random_text(r, 24))) end
  end
  for _, k in ipairs { "firstSeen", "lastSeen" } do
    local c = r(5)
    if c == 1 then add(k, tostring(1500000000 + r(200000000)))
    elseif c == 2 then add(k, json_string(r, tostring(1500000000 + r(200000000))))
    elseif c == 3 then add(k, json_string(r, pick(r, TIMESTAMP_STRINGS)))
    elseif c == 4 then add(k, "null") end
  end
  local c = r(4)
  if c == 1 then add("location", "null")
  elseif c > 2 then
    add("location", shuffled_object(r, {
      { "regionCode", str_or_null(r, "CA") }, { "countryCode", str_or_null(r, "US") },
      { "city", str_or_null(r, random_text(r, 12)) },
      r(3) == 1 and { "firstSeen", json_string(r, "1603885746") } or { "lastSeen", '"42"' } }))
  end
  c = r(3)
  if c == 1 then add("device", "null")
  elseif c == 2 then
    add("device", shuffled_object(r, {
      { "id", tostring(r(99999999)) }, { "ip", json_string(r, "192.168.1." .. r(254)) },
      { "timezone", str_or_null(r, "Europe/Kiev") }, { "platform", '"desktop"' },
      { "userAgent", json_string(r, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " .. random_text(r, 30)) } }))
  end
  if r(4) > 1 then add("unsubscribed", pick(r, { "true", "false", "null" })) end
  if r(4) > 1 then add("blocked", pick(r, { "true", "false" })) end
  c = r(5)
  if c == 1 then add("tags", "null")
  elseif c == 2 then add("tags", "[]")
  elseif c >= 3 then
    local tags = {}
    for i = 1, r(4) do
      tags[i] = shuffled_object(r, { { "name", json_string(r, random_text(r, 10)) },
                                     { "color", str_or_null(r, "#" .. digits(r, 6)) } })
    end
    if c == 5 then tags[#tags + 1] = "null" end
    add("tags", "[" .. table.concat(tags, "," .. ws(r)) .. "]")
  end
  c = r(7)
  local function cd_value()
    return pick(r, { json_string(r, random_text(r, 15)), tostring(r(1000)), "15.99", "true", "false",
                     "null", '"2020-09-01 00:40:00"', '{"nested":null,"k":[1,null]}', "[]" })
  end
  if c == 1 then add("customData", "null")
  elseif c == 2 then add("customData", "[]")
  elseif c == 3 then
    local props, used = {}, {}
    for _ = 1, r(6) do
      local p = random_text(r, 12)
      if not used[p] then
        used[p] = true
        props[#props + 1] = { p, cd_value() }
      end
    end
    add("customData", shuffled_object(r, props))
  elseif c == 4 or c == 5 or c == 6 then                     -- the {property, value} list
    local items = {}
    for i = 1, r(6) do
      local entry = { { "property", json_string(r, random_text(r, 12)) } }
      if r(5) > 1 then entry[#entry + 1] = { "value", cd_value() } end
      if r(8) == 1 then entry[#entry + 1] = { "extra", "1" } end
      items[i] = shuffled_object(r, entry)
    end
    if c == 6 then                                           -- one entry that is not {property}
      local bad = pick(r, { '{"name":"x","value":1}', '{"property":7,"value":1}', '"loose"', "null",
                            "[1,2]", "{}" })
      table.insert(items, r(#items + 1), bad)
    end
    add("customData", "[" .. table.concat(items, "," .. ws(r)) .. "]")
  end
  if r(3) == 1 then add(pick(r, { "telegramId", "extraField", "segment" }), gen_value(r, 1)) end
  if r(6) == 1 then add("data", '[{"firstSeen":"12","customData":null}]') end
  if r(6) == 1 then add("other", '{"firstSeen":"13","tags":null,"customData":[{"property":"p","value":1}]}') end
  return shuffled_object(r, f, function(k)
    if k == "firstSeen" or k == "lastSeen" then
      return pick(r, { "null", json_string(r, pick(r, TIMESTAMP_STRINGS)), tostring(r(1000)) })
    end
    return pick(r, { "null", "[]", "{}", '"again"', "7", '[{"property":"p","value":2}]' })
  end)
end

local function gen_page(r)
  local customers = {}
  for i = 1, r(8) - 1 do customers[i] = gen_customer(r) end
  local fields = { { "total", tostring(r(100000)) },
                   { "data", "[" .. ws(r) .. table.concat(customers, "," .. ws(r)) .. ws(r) .. "]" } }
  if r(2) == 1 then fields[#fields + 1] = { "offset", tostring(r(1000) - 1) } end
  if r(2) == 1 then fields[#fields + 1] = { "limit", "100" } end
  if r(4) == 1 then fields[#fields + 1] = { "firstSeen", json_string(r, pick(r, TIMESTAMP_STRINGS)) } end
  if r(4) == 1 then fields[#fields + 1] = { "meta", gen_value(r, 1) } end
  return ws(r) .. shuffled_object(r, fields) .. ws(r)
end

local function gen_root_list(r)
  local items = {}
  for i = 1, r(6) do
    local k = r(6)
    if k <= 3 then items[i] = gen_customer(r)
    elseif k == 4 then items[i] = "null"
    elseif k == 5 then items[i] = "[" .. gen_customer(r) .. "]"           -- not a customer any more
    else items[i] = gen_value(r, 1) end
  end
  return "[" .. table.concat(items, "," .. ws(r)) .. "]"
end

local normalise, compare = model.normalise, model.compare

local function check(text, label)
  local want = normalise(cjson.decode(text), "root")
  local got, err = helpcrunch.decode(text)
  if got == nil then error(label .. ": core refused: " .. tostring(err) .. "\n" .. text, 0) end
  local d = compare(got, want, "body")
  if d then error(label .. ": " .. d .. "\n" .. text, 0) end
end

-- Is the integer text t (no fraction, no exponent) within int64?
local function fits_int64(t)
  local neg, d = t:match("^(%-?)(%d+)$")
  if #d ~= 19 then return #d < 19 end
  return d <= (neg == "-" and "9223372036854775808" or "9223372036854775807")
end

local function scaled(n) return math.max(1, math.floor(n * SCALE)) end

describe("helpcrunch.decode against cjson.decode #unit", function()
  it("agrees on 3,000 random documents (objects, lists, escapes, unicode, numbers, duplicate keys)", function()
    local r = rng(1)
    for i = 1, scaled(3000) do
      local text = ws(r) .. (r(10) == 1 and gen_value(r, 3) or r(2) == 1 and gen_object(r, 0) or
                             gen_array(r, 0)) .. ws(r)
      check(text, "document " .. i)
    end
  end)

  it("agrees on 1,000 generated customer list pages", function()
    local r = rng(2)
    for i = 1, scaled(1000) do check(gen_page(r), "page " .. i) end
  end)

  it("agrees on 1,000 generated single customers", function()
    local r = rng(3)
    for i = 1, scaled(1000) do check(gen_customer(r), "customer " .. i) end
  end)

  it("agrees on 500 generated root lists of customers", function()
    local r = rng(4)
    for i = 1, scaled(500) do check(gen_root_list(r), "list " .. i) end
  end)

  it("agrees on the seed pages", function()
    for _, name in ipairs { "seed000_list.json", "seed001_list.json", "seed003_fixed.json" } do
      check(H.read("spec/fixtures/" .. name), name)
    end
  end)

  it("gives integers exactly where the text is an integer that fits int64", function()
    local r = rng(5)
    for round = 1, scaled(1000) do
      local texts, want = {}, {}
      for i = 1, 20 do
        local t = random_number(r)
        texts[i] = t
        want[i] = not t:find("[.eE]") and t ~= "-0" and fits_int64(t)
      end
      local got = assert(helpcrunch.decode("[" .. table.concat(texts, ",") .. "]"))
      for i, t in ipairs(texts) do
        local v = got[i]
        assert(v == tonumber(t), "round " .. round .. ": " .. t .. " decoded as " .. tostring(v))
        if HAS_INTEGERS then
          assert(math.type(v) == (want[i] and "integer" or "float"),
                 t .. " gave a " .. math.type(v))
          if want[i] then assert(tostring(v) == t, t .. " decoded as " .. tostring(v)) end
        elseif want[i] then
          assert(v == math.floor(v), t)
        end
      end
    end
  end)

  -- README "JSON: exact rules and differences from lua-cjson", the texts
  -- cjson accepts and RFC 8259 does not.
  it("refuses what cjson accepts beyond RFC 8259: NaN, Infinity, hex, +1, 1., 01, nesting past 512", function()
    for _, t in ipairs { "NaN", "Infinity", "-Infinity", "[0x10]", "+1", "[1.]", "01", "[-01]",
                         ("["):rep(513) .. ("]"):rep(513), ('{"a":'):rep(600) .. "1" .. ("}"):rep(600) } do
      assert.is_true((pcall(cjson.decode, t)), "cjson accepts " .. t:sub(1, 20))
      local v, err = helpcrunch.decode(t)
      assert.is_nil(v, t)
      assert.equal("decode", err.kind)
    end
  end)

  it("takes the last of duplicate keys as cjson does, a last null removing the key", function()
    for _, t in ipairs { '{"a":1,"a":2}', '{"a":1,"a":null}', '{"a":null,"a":[1]}',
                         '{"data":[{"firstSeen":"5","firstSeen":null,"tags":[],"tags":null}]}' } do
      check(t, t)
    end
    assert.is_nil(helpcrunch.decode('{"a":1,"a":null}').a)
    assert.equal(cjson.null, cjson.decode('{"a":1,"a":null}').a)
  end)

  it("would notice a difference (the comparison is not vacuous)", function()
    local text = '{"data":[{"firstSeen":"5","customData":[{"property":"p","value":1}],"x":null}],"n":1.5}'
    local got = assert(helpcrunch.decode(text))
    -- cjson's raw result differs from the core's in every normalised place
    local raw = cjson.decode(text)
    assert.truthy(compare(got, raw, "body"))
    assert.is_nil(compare(got, normalise(raw, "root"), "body"))
    -- a changed number, string or missing key is caught
    local n = normalise(raw, "root")
    n.n = 1.25
    assert.truthy(compare(got, n, "body"))
    n = normalise(raw, "root")
    n.data[1].customData.p = "1"
    assert.truthy(compare(got, n, "body"))
    n = normalise(raw, "root")
    n.data[1].extra = true
    assert.truthy(compare(got, n, "body"))
    if HAS_INTEGERS then
      -- a float where the text was an integer is caught (cjson gives 1.0 for "1")
      assert.truthy(compare(1.0, 1.0, "x"))
      assert.is_nil(compare(1, 1.0, "x"))
      assert.is_nil(compare(1.5, 1.5, "x"))
      -- an int64 the core holds exactly matches cjson's rounded double
      assert.is_nil(compare(math.maxinteger, 2.0 ^ 63, "x"))
      -- an integer where cjson has a fraction, or -0.0 read as 0, is caught
      assert.truthy(compare(0, -0.0, "x"))
      assert.truthy(compare(2, 2.5, "x"))
    end
    -- the sign of zero counts on every interpreter
    local neg_zero = tonumber("-0.0")   -- made at run time: Lua 5.1 folds -0.0 into 0.0
    assert.truthy(compare(0.0, neg_zero, "x"))
    assert.is_nil(compare(neg_zero, neg_zero, "x"))
  end)
end)
