--- helpcrunch.core.encode: request bodies encoded exactly (DESIGN.md "Inside"
-- → JSON): integers stay integers, floats read back to the same double,
-- [] versus {}, sorted keys, strict UTF-8, and errors that name the field.
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"
local encode, decode = core.encode, core.decode

local HAS_INTEGERS = math.type ~= nil
-- Under tools/valgrind.sh (an aggressive collector under memcheck) the
-- random loops run fewer cases.
local STRESS = os.getenv("HELPCRUNCH_GC_STRESS") == "1"
local is_int = math.type and function(v) return math.type(v) == "integer" end
  or function(v) return type(v) == "number" and v == math.floor(v) end

local rng = H.rng

-- A random double that is finite and not integral.
local function random_double(r, min_exp, max_exp)
  while true do
    local m = (r() % 67108864) * 134217728 + (r() % 134217728)    -- 53 bits
    local e = r(max_exp - min_exp + 1) - 1 + min_exp
    local x = m * 2.0 ^ e
    if r(2) == 1 then x = -x end
    if x == x and x ~= math.huge and x ~= -math.huge and x ~= math.floor(x) then return x end
  end
end

-- The error message of f(...), or nil when it did not raise.
local function raised(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return nil end
  return tostring(err)
end

local function assert_raises(value, fragment, path)
  local msg = raised(encode, value)
  assert.is_string(msg, "encode did not raise")
  assert.truthy(msg:find(fragment, 1, true), "expected '" .. fragment .. "' in: " .. msg)
  if path then
    assert.truthy(msg:find(" at " .. path, 1, true), "expected path " .. path .. " in: " .. msg)
    assert.equal(#msg, select(2, msg:find(" at " .. path, 1, true)), "path is last: " .. msg)
  end
  return msg
end

-- Deep equality that also compares integer-ness (5.4); returns nil or
-- a description of the first difference.
local function diff(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then
    return path .. ": " .. type(a) .. " vs " .. type(b)
  end
  if type(a) == "number" then
    if a ~= b then return path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    if HAS_INTEGERS and math.type(a) ~= math.type(b) then
      return path .. ": " .. math.type(a) .. " vs " .. math.type(b)
    end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return nil
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "." .. tostring(k) .. ": missing on the left" end
  end
  return nil
end

describe("helpcrunch.core.encode #unit", function()
  describe("numbers", function()
    it("writes integers as integers", function()
      assert.equal("0", encode(0))
      assert.equal("-1", encode(-1))
      assert.equal("265555", encode(265555))
      assert.equal("1603885746", encode(1603885746))
      assert.equal("9007199254740992", encode(2 ^ 53))
      assert.equal("-9007199254740992", encode(-(2 ^ 53)))
      assert.equal('{"id":265555,"total":[1,2,3]}', encode { id = 265555, total = { 1, 2, 3 } })
    end)

    it("keeps integers integers at any size Lua 5.4 holds", function()
      if not HAS_INTEGERS then
        -- LuaJIT: numbers are doubles; integral ones are still written in full.
        assert.equal("9007199254740991", encode(2 ^ 53 - 1))
        assert.equal("12345678901234568", encode(12345678901234567))   -- the double's exact value
        assert.equal(12345678901234567, decode(encode(12345678901234567)))
        return
      end
      assert.equal("9007199254740993", encode(9007199254740993))            -- 2^53 + 1
      assert.equal("12345678901234567", encode(12345678901234567))          -- not 1.2345678901235e+16
      assert.equal("9223372036854775807", encode(math.maxinteger))
      assert.equal("-9223372036854775808", encode(math.mininteger))
      assert.equal('{"customer":12345678901234567}', encode { customer = 12345678901234567 })
      for _, v in ipairs { 9007199254740993, 12345678901234567, math.maxinteger, math.mininteger } do
        local back = decode(encode(v))
        assert.equal(v, back)
        assert.equal("integer", math.type(back))
      end
    end)

    it("writes integral floats below 2^53 as integers", function()
      assert.equal("3", encode(3.0))
      assert.equal("-2", encode(-2.0))
      assert.equal("0", encode(0.0))
      assert.equal("1603885746", encode(1603885746.0))
      assert.equal("1000000000000000", encode(1e15))
      assert.equal("9007199254740992", encode(2.0 ^ 53))
      assert.equal("[100,1]", encode { 1e2, 1.0 })
      -- and they read back as integers
      assert.is_true(is_int(decode(encode(1603885746.0))))
    end)

    it("writes integral floats beyond 2^53 so they read back exactly", function()
      for _, x in ipairs { 2.0 ^ 60, -(2.0 ^ 70), 1e20, 1e300, 2.0 ^ 1023 } do
        local text = encode(x)
        assert.equal(x, tonumber(text), text)
        assert.equal(x, decode(text), text)
        assert.is_falsy(text:find("inf", 1, true))
      end
    end)

    it("round-trips 15.99, 0.1, 1e300 and other floats exactly", function()
      assert.equal("15.99", encode(15.99))
      assert.equal("0.1", encode(0.1))
      assert.equal("-0.5", encode(-0.5))
      assert.equal("1e+300", encode(1e300))
      for _, x in ipairs { 15.99, 0.1, 1e300, -0.5, 0.1 + 0.2, 1 / 3, 2 / 3, math.pi, 1e-7, 123456.789,
                           5e-324, 2.2250738585072014e-308, -1.7976931348623157e308, 1.5, 0.001 } do
        local text = encode(x)
        assert.is_truthy(text:match("^%-?%d[%d.e+%-]*$"), text)    -- plain JSON number syntax
        assert.equal(x, decode(text), text)
        assert.equal(x, decode("[" .. text .. "]")[1], text)
      end
    end)

    it("writes 3,000 random doubles in a form that reads back to the same double", function()
      local r = rng(20240601)
      for _ = 1, STRESS and 500 or 3000 do
        local x = random_double(r, -1100, 970)
        local text = encode(x)
        assert(tonumber(text) == x, "encode(" .. string.format("%.17g", x) .. ") = " .. text)
        assert(not text:find(",", 1, true), text)
      end
    end)

    it("round-trips random doubles through the core's own decoder", function()
      local r = rng(77)
      for _ = 1, STRESS and 500 or 3000 do
        local x = random_double(r, -1100, 970)
        local text = encode(x)
        assert(decode(text) == x, "decode(encode(x)) ~= x for " .. text)
      end
    end)

    it("round-trips random doubles between 1e-4 and 1e-3 through the core's own decoder", function()
      local r = rng(78)
      for _ = 1, 5000 do
        local x = random_double(r, -67, -62)
        if math.abs(x) >= 1e-4 and math.abs(x) < 1e-3 then
          local text = encode(x)
          assert(decode(text) == x, "decode(encode(x)) ~= x for " .. text)
        end
      end
    end)

    it("refuses NaN and infinities, naming the field", function()
      assert_raises(0 / 0, "NaN is not a JSON number", "body")
      assert_raises(math.huge, "infinity is not a JSON number", "body")
      assert_raises(-math.huge, "infinity is not a JSON number", "body")
      assert_raises({ customData = { score = 0 / 0 } }, "NaN", "body.customData.score")
      assert_raises({ list = { 1, 2, math.huge } }, "infinity", "body.list[3]")
    end)
  end)

  describe("tables", function()
    it("writes an empty table as [] and a marked one as {}", function()
      assert.equal("[]", encode {})
      assert.equal("{}", encode(setmetatable({}, { __jsontype = "object" })))
      assert.equal('{"a":[],"b":{}}', encode { a = {}, b = setmetatable({}, { __jsontype = "object" }) })
      assert.equal('{"x":1}', encode(setmetatable({ x = 1 }, { __jsontype = "object" })))
      assert.equal("[]", encode(setmetatable({}, { __jsontype = "array" })))
    end)

    it("writes lists in order", function()
      assert.equal('[1,"a",true,false,[2,[3]],-0.5]', encode { 1, "a", true, false, { 2, { 3 } }, -0.5 })
      local big = {}
      for i = 1, 1000 do big[i] = i end
      local text = encode(big)
      assert.equal("[1,2,3,", text:sub(1, 7))
      assert.equal(",999,1000]", text:sub(-10))
    end)

    it("writes maps with their keys sorted bytewise, at every level", function()
      assert.equal('{"a":[2,3],"b":1,"c":{"y":null,"z":1}}',
        encode { b = 1, a = { 2, 3 }, c = { z = 1, y = helpcrunch.null } })
      assert.equal('{"B":1,"_":2,"a":3,"a b":4,"aa":5,"\195\169":6}',
        encode { aa = 5, ["a b"] = 4, a = 3, _ = 2, B = 1, ["\195\169"] = 6 })
      assert.equal('{"comparison":"AND","filter":[{"field":"customers.email","operator":"~","value":"gmail"}],' ..
                   '"limit":100,"offset":0,"order":"desc","sort":"customers.firstSeen"}',
        encode { comparison = "AND", order = "desc", limit = 100, offset = 0, sort = "customers.firstSeen",
                 filter = { { value = "gmail", operator = "~", field = "customers.email" } } })
      -- the same table is the same body every time
      local t = {}
      for i = 1, 50 do t["k" .. i] = i end
      assert.equal(encode(t), encode(t))
      local text = encode(t)
      assert.truthy(text:find('"k1":1,"k10":10,"k11":11', 1, true))
    end)

    it("refuses a list with holes", function()
      assert_raises({ 1, nil, 3 }, "list has holes", "body")
      assert_raises({ [2] = "x" }, "list has holes", "body")
      assert_raises({ tags = { [1] = "a", [3] = "c" } }, "list has holes", "body.tags")
    end)

    it("refuses a table mixing list items and named fields", function()
      assert_raises({ 1, a = 2 }, "mixes list items and named fields", "body")
      assert_raises({ x = { { 1, name = "n" } } }, "mixes list items and named fields", "body.x[1]")
    end)

    it("refuses keys that are neither strings nor list indexes", function()
      for _, k in ipairs { true, 1.5, 0, -1, 2 ^ 40 } do
        assert_raises({ [k] = 1 }, "neither a string nor a list index", "body")
      end
      assert_raises({ [{}] = 1 }, "neither a string nor a list index", "body")
      assert_raises({ a = { [print] = 1 } }, "neither a string nor a list index", "body.a")
    end)

    it("refuses functions, userdata and coroutines, naming the path", function()
      local m = assert_raises({ a = { b = { 1, print } } }, "a function value", "body.a.b[2]")
      assert.truthy(m:find("cannot encode request body", 1, true))
      assert_raises({ f = io.stdout }, "a userdata value", "body.f")
      assert_raises({ coroutine.create(function() end) }, "a thread value", "body[1]")
      assert_raises(print, "a function value", "body")
      assert_raises({ customData = { { property = "p", value = function() end } } },
        "a function value", "body.customData[1].value")
    end)

    it("refuses a cycle (named as such) and absurd nesting (nested too deeply), no crash", function()
      local t = {}
      t.self = t
      assert_raises(t, "a cycle", "body.self")
      local a, b = {}, {}
      a[1], b[1] = b, a
      assert_raises(a, "a cycle", "body[1][1]")
      local deep = {}
      local cur = deep
      for _ = 1, 1000 do
        local n = {}
        cur[1] = n
        cur = n
      end
      assert_raises(deep, "nested too deeply")
    end)

    it("still writes 30 levels of nesting", function()
      local t = "x"
      for _ = 1, 15 do t = { a = { t } } end
      local text = encode(t)
      assert.equal(('{"a":['):rep(15) .. '"x"' .. ("]}"):rep(15), text)
    end)

    it("writes helpcrunch.null as null", function()
      assert.equal("null", encode(helpcrunch.null))
      assert.equal("[1,null,2]", encode { 1, helpcrunch.null, 2 })
      assert.equal('{"notes":null}', encode { notes = helpcrunch.null })
      assert.equal("null", encode(nil))
      assert.has_error(function() encode() end)
    end)

    it("writes booleans and strings at the root", function()
      assert.equal("true", encode(true))
      assert.equal("false", encode(false))
      assert.equal('"John Doe"', encode("John Doe"))
      assert.equal('""', encode(""))
    end)
  end)

  describe("strings", function()
    local short = { [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r" }

    it("escapes every control character 0x00-0x1f", function()
      for c = 0, 31 do
        local text = encode(string.char(c))
        local inner = text:sub(2, -2)
        if short[c] then
          assert.equal(short[c], inner)
        else
          local hex = inner:match("^\\u00(%x%x)$")
          assert.is_truthy(hex, ("0x%02x written as %q"):format(c, inner))
          assert.equal(c, tonumber(hex, 16))
        end
        assert.equal(string.char(c), decode(text))
        -- inside a longer string and in a key
        assert.equal("a" .. string.char(c) .. "b", decode(encode("a" .. string.char(c) .. "b")))
        assert.same({ ["k" .. string.char(c)] = 1 }, decode(encode { ["k" .. string.char(c)] = 1 }))
      end
      assert.equal('"\\u0000"', encode("\0"):lower())
      assert.equal('"\\u001f"', encode("\31"):lower())
    end)

    it("escapes the quote and the backslash", function()
      assert.equal([["\""]], encode('"'))
      assert.equal([["\\"]], encode("\\"))
      assert.equal([["say \"hi\" \\o/"]], encode('say "hi" \\o/'))
      assert.equal('say "hi" \\o/', decode(encode('say "hi" \\o/')))
      assert.equal([[{"a\"b":1}]], encode { ['a"b'] = 1 })
    end)

    it("passes valid UTF-8 through (2, 3 and 4 bytes, boundary code points)", function()
      local valid = {
        "\194\128", "\223\191",                          -- U+0080, U+07FF
        "\224\160\128", "\237\159\191", "\238\128\128",  -- U+0800, U+D7FF, U+E000
        "\239\191\191",                                  -- U+FFFF
        "\240\144\128\128", "\244\143\191\191",          -- U+10000, U+10FFFF
        "Київ", "café", "€", "😀", "\127",
      }
      for _, s in ipairs(valid) do
        assert.equal('"' .. s .. '"', encode(s))
        assert.equal(s, decode(encode(s)))
      end
    end)

    it("refuses invalid UTF-8 with a message naming the field", function()
      local invalid = {
        { "lone continuation byte", "\128" },
        { "continuation byte after text", "abc\191" },
        { "overlong C0 80", "\192\128" },
        { "overlong C1 BF", "\193\191" },
        { "overlong E0 80 80", "\224\128\128" },
        { "overlong F0 80 80 80", "\240\128\128\128" },
        { "surrogate ED A0 80", "\237\160\128" },
        { "surrogate ED BF BF", "\237\191\191" },
        { "F5 lead byte", "\245\128\128\128" },
        { "FF byte", "\255" },
        { "above U+10FFFF", "\244\144\128\128" },
        { "truncated at the end", "ok\226\130" },
        { "truncated before ASCII", "\226\130x" },
        { "truncated 4-byte", "\240\159\152" },
        { "lead byte then a lead byte", "\195\195\169" },
      }
      for _, c in ipairs(invalid) do
        local msg = raised(encode, c[2])
        assert.is_string(msg, c[1] .. " was accepted")
        assert.truthy(msg:find("invalid UTF-8", 1, true), c[1] .. ": " .. msg)
      end
      assert_raises({ name = "\192\128" }, "invalid UTF-8", "body.name")
      assert_raises({ tags = { { name = "ok" }, { name = "\255" } } }, "invalid UTF-8", "body.tags[2].name")
      assert_raises({ ["bad\255key"] = 1 }, "invalid UTF-8")
    end)
  end)

  describe("round trips", function()
    local KEY_CHARS = { "a", "b", "Z", "_", " ", '"', "\\", "\n", "\1", "/", "\195\169", "\226\130\172",
                        "\240\159\152\128", "1" }
    local function random_string(r, n)
      local out = {}
      for i = 1, n do
        local k = r(8)
        if k <= 5 then out[i] = KEY_CHARS[r(#KEY_CHARS)]
        elseif k == 6 then out[i] = string.char(r(32) - 1)
        else
          local cp = r(0x10FFFF)
          if cp >= 0xD800 and cp <= 0xDFFF then cp = 0x41 end
          out[i] = utf8 and utf8.char(cp) or "x"
        end
      end
      return table.concat(out)
    end

    local function random_value(r, depth)
      local k = r(depth > 3 and 6 or 9)
      if k == 1 then return r(2) == 1
      elseif k == 2 then return random_string(r, r(12) - 1)
      elseif k == 3 then return r(2000000) - 1000000
      elseif k == 4 then
        if HAS_INTEGERS then return (r() * 4294967296 + r()) * (r(2) == 1 and 1 or -1) end
        return r(2 ^ 30) * 8192
      elseif k == 5 then
        return random_double(r, -60, 60)
      elseif k == 6 then return random_string(r, r(40))
      elseif k == 7 or k == 8 then
        local t = {}
        for i = 1, r(6) - 1 do
          local v = random_value(r, depth + 1)
          t[i] = v
        end
        if r(4) == 1 and #t > 0 then t[#t] = helpcrunch.null end
        return t
      else
        local t = {}
        for _ = 1, r(6) - 1 do t["k_" .. random_string(r, r(6) - 1)] = random_value(r, depth + 1) end
        return t
      end
    end

    it("decode(encode(t)) gives t back for 200 random tables", function()
      local r = rng(4242)
      for i = 1, STRESS and 60 or 200 do
        local t = {}
        for _ = 1, r(8) do t["k_" .. random_string(r, r(5))] = random_value(r, 0) end
        local text = encode(t)
        local back, msg = decode(text)
        assert(back ~= nil, "case " .. i .. ": " .. tostring(msg) .. " in " .. text)
        local d = diff(t, back)
        assert(d == nil, "case " .. i .. ": " .. tostring(d) .. " in " .. text)
        assert.equal(text, encode(back))      -- and the text is stable
      end
    end)

    it("decode(encode(list)) keeps helpcrunch.null items and integer-ness", function()
      local t = { 1, helpcrunch.null, 2.5, "x", { helpcrunch.null }, 0 }
      local back = decode(encode(t))
      assert.is_nil(diff(t, back))
      assert.is_true(is_int(back[1]))
      assert.is_true(is_int(back[6]))
    end)
  end)
end)
