--- helpcrunch.decode and helpcrunch.core.decode: every JSON type, the
-- customer normalisation (DESIGN.md "The customer table"), the seed pages'
-- bodies, and every kind of malformed input (nil, err naming the byte).
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"

local HAS_INTEGERS = math.type ~= nil
local is_int = math.type and function(v) return math.type(v) == "integer" end
  or function(v) return type(v) == "number" and v == math.floor(v) end
local is_float = math.type and function(v) return math.type(v) == "float" end
  or function(v) return type(v) == "number" end

local FIX = "spec/fixtures/"

-- Under tools/valgrind.sh (an aggressive collector under memcheck) the
-- exhaustive loops use their smaller cases only.
local STRESS = os.getenv("HELPCRUNCH_GC_STRESS") == "1"

local function decode_ok(text)
  local v, err = helpcrunch.decode(text)
  assert(err == nil, "unexpected error: " .. tostring(err))
  return v
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- Assert that text is rejected with an error of kind decode naming byte `at`
-- (when given) and carrying `fragment` in its message.
local function assert_rejected(text, at, fragment)
  local v, err = helpcrunch.decode(text)
  assert.is_nil(v)
  assert.is_table(err)
  assert.equal("decode", err.kind)
  assert.is_true(helpcrunch.is_error(err))
  local msg = tostring(err)
  assert.truthy(msg:find("invalid JSON at byte %d+: "), msg)
  if at then
    assert.truthy(msg:find("invalid JSON at byte " .. at .. ": ", 1, true),
      "expected byte " .. at .. " in: " .. msg)
    assert.equal(at, err.offset)
  end
  if fragment then assert.truthy(msg:find(fragment, 1, true), msg) end
  -- The core reports the same thing: nil, message, offset.
  local cv, cmsg, cat = core.decode(text)
  assert.is_nil(cv)
  assert.is_string(cmsg)
  assert.equal(err.offset, cat)
  return err
end

describe("helpcrunch.decode #unit", function()
  describe("JSON types", function()
    it("decodes every scalar at the root", function()
      assert.equal(true, decode_ok("true"))
      assert.equal(false, decode_ok("false"))
      assert.equal("hi", decode_ok('"hi"'))
      assert.equal(42, decode_ok("42"))
      assert.equal(-1.25, decode_ok("-1.25"))
      -- A root null is the null sentinel: nil would look like a failure.
      local v, err = helpcrunch.decode("null")
      assert.is_nil(err)
      assert.equal(helpcrunch.null, v)
    end)

    it("decodes empty and nested objects and arrays", function()
      assert.same({}, decode_ok("{}"))
      assert.same({}, decode_ok("[]"))
      local v = decode_ok('{"a":{"b":[1,[2,[3,{"c":[]}]],{}],"d":"e"},"f":[[],[[]]]}')
      assert.same({ a = { b = { 1, { 2, { 3, { c = {} } } }, {} }, d = "e" }, f = { {}, { {} } } }, v)
    end)

    it("decodes a list of every type in order", function()
      local v = decode_ok('[1, -2.5, "s", true, false, null, {"k":"v"}, [0]]')
      assert.equal(8, #v)
      assert.same({ 1, -2.5, "s", true, false, helpcrunch.null, { k = "v" }, { 0 } }, v)
    end)

    it("accepts white space everywhere JSON allows it", function()
      local ws = " \t\r\n"
      local text = ws .. "{" .. ws .. '"a"' .. ws .. ":" .. ws .. "[" .. ws .. "1" .. ws .. "," .. ws ..
        '"x"' .. ws .. "," .. ws .. "true" .. ws .. "," .. ws .. "null" .. ws .. "]" .. ws .. "," .. ws ..
        '"b"' .. ws .. ":" .. ws .. "{" .. ws .. "}" .. ws .. "," .. ws .. '"c"' .. ws .. ":" .. ws ..
        "[" .. ws .. "]" .. ws .. "}" .. ws
      assert.same({ a = { 1, "x", true, helpcrunch.null }, b = {}, c = {} }, decode_ok(text))
    end)

    it("is also exposed as helpcrunch.core.decode with the same result", function()
      local text = H.read(FIX .. "seed000_list.json")
      assert.same(decode_ok(text), (core.decode(text)))
      assert.same({ 1, 2 }, (core.decode("[1,2]")))
    end)
  end)

  describe("numbers", function()
    local integers = {
      "265555", "-265555", "0", "1", "9007199254740993", "-42",
      "9223372036854775807", "-9223372036854775808", "1588603952",
    }
    it("keeps integers Lua integers: 265555, negatives, 0, int64 max and min", function()
      for _, text in ipairs(integers) do
        local v = decode_ok(text)
        assert.equal(tonumber(text), v)
        assert.is_true(is_int(v), text)
        local w = decode_ok("[" .. text .. "]")[1]
        assert.equal(v, w)
        assert.is_true(is_int(w), text)
      end
      if HAS_INTEGERS then
        assert.equal(math.maxinteger, decode_ok("9223372036854775807"))
        assert.equal(math.mininteger, decode_ok("-9223372036854775808"))
        assert.equal(9007199254740993, decode_ok("9007199254740993"))
      end
    end)

    it("reads -0 as the float -0.0, as lua-cjson (json_exact_spec has the rest)", function()
      local v = decode_ok("-0")
      assert.is_true(is_float(v))
      assert.equal(-math.huge, 1 / v)
    end)

    it("turns an integer beyond int64 (19 and 20 digits) into a float", function()
      for _, text in ipairs { "12345678901234567890", "9223372036854775808", "-9223372036854775809",
                              "100000000000000000000000" } do
        local v = decode_ok(text)
        assert.is_true(is_float(v), text)
        assert.equal(tonumber(text .. ".0"), v)
      end
      if HAS_INTEGERS then
        assert.equal("float", math.type(decode_ok("12345678901234567890")))
      end
    end)

    local floats = { "15.99", "1e300", "-0.5", "0.1", "1.5", "2.5E+3", "1e-7", "123.456e-2",
                     "-1.7976931348623157e308", "4.9e-324", "0.30000000000000004", "3.141592653589793" }
    it("reads fractions and exponents (15.99, 1e300, -0.5, 0.1, 1.5, ...) as the nearest double", function()
      for _, text in ipairs(floats) do
        local v = decode_ok(text)
        assert.is_true(is_float(v), text)
        assert.equal(tonumber(text), v)     -- strtod is correctly rounded
      end
      assert.equal(0.1, decode_ok("0.1"))
      assert.equal(15.99, decode_ok("15.99"))
      assert.equal(-0.5, decode_ok("-0.5"))
    end)

    it("reads 1E2 as the number 100", function()
      assert.equal(100, decode_ok("1E2"))
      assert.equal(100, decode_ok("1e+2"))
      assert.equal(0.01, decode_ok("1e-2"))
    end)

    it("reads a fraction with more than 19 digits after leading zeros exactly", function()
      for _, text in ipairs { "0.00000000000000000001", "0.0000000000000001234567",
                              "-0.000000000000000000015", "0.00012345678901234567891" } do
        assert.equal(tonumber(text), decode_ok(text))
      end
    end)

    it("keeps numbers integers inside customers and nested tables", function()
      local v = decode_ok('{"id":265555,"total":184,"customData":{"n":35,"f":15.99},' ..
                          '"device":{"id":28874635},"x":[[7]]}')
      assert.is_true(is_int(v.id))
      assert.is_true(is_int(v.total))
      assert.is_true(is_int(v.customData.n))
      assert.is_true(is_float(v.customData.f))
      assert.is_true(is_int(v.device.id))
      assert.is_true(is_int(v.x[1][1]))
      assert.equal(7, v.x[1][1])
    end)
  end)

  describe("strings", function()
    local escapes = {
      { [[\"]], '"' }, { [[\\]], "\\" }, { [[\/]], "/" }, { [[\b]], "\b" }, { [[\f]], "\f" },
      { [[\n]], "\n" }, { [[\r]], "\r" }, { [[\t]], "\t" },
    }
    it("decodes the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t in values and keys", function()
      for _, e in ipairs(escapes) do
        assert.equal(e[2], decode_ok('"' .. e[1] .. '"'))
        assert.equal("a" .. e[2] .. "b", decode_ok('"a' .. e[1] .. 'b"'))
        local t = decode_ok('{"k' .. e[1] .. '":1}')
        assert.equal(1, t["k" .. e[2]])
      end
      assert.equal('"\\/\b\f\n\r\t', decode_ok([["\"\\\/\b\f\n\r\t"]]))
    end)

    it("decodes \\u escapes to UTF-8 (1, 2 and 3 bytes, either case of hex)", function()
      assert.equal("\195\169", decode_ok([["\u00e9"]]))
      assert.equal("\195\169", decode_ok([["\u00E9"]]))
      assert.equal("A", decode_ok([["\u0041"]]))
      assert.equal("\0", decode_ok([["\u0000"]]))
      assert.equal("\226\130\172", decode_ok([["\u20ac"]]))
      assert.equal("\239\191\191", decode_ok([["\uffff"]]))
      assert.equal("caf\195\169!", decode_ok([["caf\u00e9!"]]))
    end)

    it("joins surrogate pairs into one 4-byte UTF-8 character", function()
      assert.equal("\240\159\152\128", decode_ok([["\ud83d\ude00"]]))     -- U+1F600
      assert.equal("\240\159\152\128", decode_ok([["\uD83D\uDE00"]]))
      assert.equal("\240\144\128\128", decode_ok([["\ud800\udc00"]]))     -- U+10000
      assert.equal("\244\143\191\191", decode_ok([["\udbff\udfff"]]))     -- U+10FFFF
      assert.equal("x\240\159\152\128y", decode_ok([["x\ud83d\ude00y"]]))
    end)

    it("passes raw UTF-8 through unchanged", function()
      local s = "Київ café € 😀 \127"
      assert.equal(s, decode_ok('"' .. s .. '"'))
      assert.equal(1, decode_ok('{"' .. s .. '":1}')[s])
    end)

    it("decodes the empty string, as a value and as a key", function()
      assert.equal("", decode_ok('""'))
      assert.same({ [""] = "" }, decode_ok('{"":""}'))
    end)

    -- Plain bytes next to the ones the 8-byte scan looks for (0x20, '!' and
    -- '#' beside '"', '[' and ']' beside '\\', 0x7f and high bytes).
    local PLAIN = " !#[]~\127\195\169\226\130\172az09"
    local function plain(n)
      local out = {}
      for i = 1, n do
        local k = (i - 1) % #PLAIN + 1
        out[i] = PLAIN:sub(k, k)
      end
      return table.concat(out)
    end

    it("finds the closing quote at every offset 0..16 of the 8-byte scan", function()
      for n = 0, 16 do
        for pad = 0, 7 do   -- where the string starts in the buffer
          local body = plain(n)
          local text = (" "):rep(pad) .. '["' .. body .. '","tail"]'
          local v = decode_ok(text)
          assert.equal(body, v[1])
          assert.equal("tail", v[2])
          assert.equal(2, #v)
        end
      end
    end)

    it("finds an escape at every offset 0..16 and resumes after it", function()
      for n = 0, 16 do
        for m = 0, 16, STRESS and 4 or 1 do
          local text = '"' .. plain(n) .. '\\n' .. plain(m) .. '\\"' .. plain(m) .. '"'
          assert.equal(plain(n) .. "\n" .. plain(m) .. '"' .. plain(m), decode_ok(text))
        end
      end
    end)

    it("rejects every control character at every offset 0..16", function()
      -- one full check, then a light one per case (this loop runs under valgrind)
      assert_rejected('"' .. plain(5) .. "\1" .. '"', 7, "control character in string")
      local function rejected_at(text, at)
        local v, msg, pos = core.decode(text)
        return v == nil and pos == at and
          msg == "invalid JSON at byte " .. at .. ": control character in string"
      end
      for n = 0, 16 do
        for c = 0, 31 do
          local text = '"' .. plain(n) .. string.char(c) .. plain(9) .. '"'
          if not rejected_at(text, n + 2) then
            error(("0x%02x after %d bytes: %s"):format(c, n, tostring(select(2, core.decode(text)))))
          end
          -- also after an escape (the slow path)
          text = '"\\t' .. plain(n) .. string.char(c) .. '"'
          if not rejected_at(text, n + 4) then
            error(("0x%02x after an escape and %d bytes: %s"):format(c, n,
              tostring(select(2, core.decode(text)))))
          end
        end
      end
    end)

    it("decodes long strings with and without escapes", function()
      local long = plain(10000)
      assert.equal(long, decode_ok('"' .. long .. '"'))
      local parts, want = {}, {}
      for i = 1, STRESS and 100 or 500 do
        parts[#parts + 1] = plain(i % 13) .. [[\"\u00e9\\]]
        want[#want + 1] = plain(i % 13) .. '"\195\169\\'
      end
      assert.equal(table.concat(want), decode_ok('"' .. table.concat(parts) .. '"'))
      -- many escaped strings in a row reuse one scratch buffer safely
      local list = {}
      for i = 1, 200 do list[i] = '"' .. plain(i % 40) .. "\\n" .. i .. '"' end
      local v = decode_ok("[" .. table.concat(list, ",") .. "]")
      for i = 1, 200 do assert.equal(plain(i % 40) .. "\n" .. i, v[i]) end
    end)
  end)

  describe("normalisation", function()
    it("drops null fields of objects and keeps null list items as helpcrunch.null", function()
      local v = decode_ok('{"phone":null,"x":null,"n":{"a":null,"b":1},"l":[null,1,null,[null]]}')
      assert.is_nil(v.phone)
      assert.is_nil(v.x)
      assert.same({ b = 1 }, v.n)
      assert.equal(4, #v.l)
      assert.equal(helpcrunch.null, v.l[1])
      assert.equal(helpcrunch.null, v.l[3])
      assert.equal(helpcrunch.null, v.l[4][1])
      assert.equal(core.null, helpcrunch.null)
      assert.equal(2, count_keys(v))
    end)

    it("makes numeric firstSeen/lastSeen strings integers on the root object", function()
      local v = decode_ok('{"id":1,"firstSeen":"1603885746","lastSeen":"0"}')
      assert.equal(1603885746, v.firstSeen)
      assert.is_true(is_int(v.firstSeen))
      assert.equal(0, v.lastSeen)
      assert.is_true(is_int(v.lastSeen))
    end)

    it("makes them integers in every element of the root data list", function()
      local v = decode_ok('{"total":3,"data":[{"firstSeen":"1603885746","lastSeen":"1603885747"},' ..
                          '{"firstSeen":1588603952,"lastSeen":null},{"lastSeen":"-5"}]}')
      assert.equal(1603885746, v.data[1].firstSeen)
      assert.equal(1603885747, v.data[1].lastSeen)
      assert.equal(1588603952, v.data[2].firstSeen)
      assert.is_nil(v.data[2].lastSeen)
      assert.equal(-5, v.data[3].lastSeen)
      for _, c in ipairs(v.data) do
        if c.firstSeen then assert.is_true(is_int(c.firstSeen)) end
        if c.lastSeen then assert.is_true(is_int(c.lastSeen)) end
      end
    end)

    it("makes them integers in every element of a root list", function()
      local v = decode_ok('[{"firstSeen":"1603885746"},{"lastSeen":"42"},null,"x"]')
      assert.equal(1603885746, v[1].firstSeen)
      assert.is_true(is_int(v[1].firstSeen))
      assert.equal(42, v[2].lastSeen)
      assert.equal(helpcrunch.null, v[3])
      assert.equal("x", v[4])
    end)

    it("does not normalise timestamps deeper than a customer", function()
      local v = decode_ok('{"customData":{"firstSeen":"123"},"location":{"lastSeen":"5"},' ..
                          '"device":{"firstSeen":"7"},"other":{"firstSeen":"8"},"tags":[{"lastSeen":"9"}],' ..
                          '"data":[{"firstSeen":"10","extra":{"lastSeen":"11"},"data":[{"firstSeen":"12"}]}]}')
      assert.equal("123", v.customData.firstSeen)
      assert.equal("5", v.location.lastSeen)
      assert.equal("7", v.device.firstSeen)
      assert.equal("8", v.other.firstSeen)
      assert.equal("9", v.tags[1].lastSeen)
      assert.equal(10, v.data[1].firstSeen)              -- a customer of the page
      assert.equal("11", v.data[1].extra.lastSeen)
      assert.equal("12", v.data[1].data[1].firstSeen)     -- "data" of a customer is plain
      local w = decode_ok('[[{"firstSeen":"1"}],{"x":[{"firstSeen":"2"}]}]')
      assert.equal("1", w[1][1].firstSeen)
      assert.equal("2", w[2].x[1].firstSeen)
      local u = decode_ok('{"wrap":{"data":[{"firstSeen":"3"}]}}')
      assert.equal("3", u.wrap.data[1].firstSeen)
    end)

    it("keeps a firstSeen string that is not a number as it was sent", function()
      local v = decode_ok('{"firstSeen":"yesterday","lastSeen":"","data":[{"firstSeen":"12a"},' ..
                          '{"firstSeen":"1.5"},{"lastSeen":" 12"},{"lastSeen":"-"},' ..
                          '{"firstSeen":"2020-09-01 00:40:00"}]}')
      assert.equal("yesterday", v.firstSeen)
      assert.equal("", v.lastSeen)
      assert.equal("12a", v.data[1].firstSeen)
      assert.equal("1.5", v.data[2].firstSeen)
      assert.equal(" 12", v.data[3].lastSeen)
      assert.equal("-", v.data[4].lastSeen)
      assert.equal("2020-09-01 00:40:00", v.data[5].firstSeen)
    end)

    it("normalises a timestamp string that needed unescaping", function()
      local v = decode_ok([[{"firstSeen":"\u0031\u0036\u0030\u0033885746","first\u0053een2":"1"}]])
      assert.equal(1603885746, v.firstSeen)
      assert.equal("1", v.firstSeen2)
    end)

    it("gives customData as a map whether it came as an object or a {property,value} list", function()
      local want = { Plan = "Premium", ["Number of payments"] = 35, ["Billing info added"] = true }
      local a = decode_ok('{"customData":{"Plan":"Premium","Number of payments":35,"Billing info added":true}}')
      local b = decode_ok('{"customData":[{"property":"Plan","value":"Premium"},' ..
                          '{"property":"Number of payments","value":35},' ..
                          '{"value":true,"property":"Billing info added"}]}')
      assert.same(want, a.customData)
      assert.same(want, b.customData)
      assert.is_true(is_int(b.customData["Number of payments"]))
      local c = decode_ok('{"data":[{"customData":[{"property":"p","value":[1,{"q":2}]}]}]}')
      assert.same({ p = { 1, { q = 2 } } }, c.data[1].customData)
    end)

    it("drops a null value of a customData list entry like any null field", function()
      local v = decode_ok('{"customData":[{"property":"segment","value":null},{"property":"a","value":1}]}')
      assert.same({ a = 1 }, v.customData)
    end)

    it("keeps a customData list that is not all {property} entries as a list", function()
      local v = decode_ok('{"customData":[{"property":"a","value":1},{"name":"b","value":2}]}')
      assert.same({ { property = "a", value = 1 }, { name = "b", value = 2 } }, v.customData)
      local w = decode_ok('{"customData":[{"property":"a","value":1},"b",null]}')
      assert.same({ { property = "a", value = 1 }, "b", helpcrunch.null }, w.customData)
      local x = decode_ok('{"customData":[{"property":7,"value":1}]}')
      assert.same({ { property = 7, value = 1 } }, x.customData)
    end)

    it("does not turn a {property,value} list deeper than a customer into a map", function()
      local v = decode_ok('{"other":{"customData":[{"property":"a","value":1}]}}')
      assert.same({ { property = "a", value = 1 } }, v.other.customData)
    end)

    it("gives {} for null customData and null tags, and for an empty customData list", function()
      local v = decode_ok('{"customData":null,"tags":null}')
      assert.same({}, v.customData)
      assert.same({}, v.tags)
      local w = decode_ok('{"data":[{"customData":null,"tags":null},{"customData":[],"tags":[]}]}')
      for i = 1, 2 do
        assert.same({}, w.data[i].customData)
        assert.same({}, w.data[i].tags)
      end
      local x = decode_ok('[{"tags":null}]')
      assert.same({}, x[1].tags)
      -- deeper than a customer a null is just absent
      local y = decode_ok('{"other":{"customData":null,"tags":null}}')
      assert.same({}, y.other)
    end)

    it("keeps unknown fields as decoded", function()
      local v = decode_ok('{"id":5,"telegramId":"tg","score":1.5,"flags":[true,false],' ..
                          '"nested":{"deep":{"deeper":[1,"2"]}},"":0,"notes":"n"}')
      assert.same({ id = 5, telegramId = "tg", score = 1.5, flags = { true, false },
                    nested = { deep = { deeper = { 1, "2" } } }, [""] = 0, notes = "n" }, v)
    end)
  end)

  describe("the seed pages", function()
    it("decodes the list page of seed 000 exactly", function()
      local page = decode_ok(H.read(FIX .. "seed000_list.json"))
      assert.equal(184, page.total)
      assert.is_true(is_int(page.total))
      assert.equal(4, #page.data)
      assert.equal(2, count_keys(page))
      assert.same({
        id = 265555, name = "test", email = "test@test.com", userId = "test123abc_1",
        company = "test123abc", lastSeen = 1588603952,
        location = { regionCode = "CA", countryCode = "US", city = "Los Angeles" },
        device = {
          id = 28874635, ip = "192.168.1.1", timezone = "America/Los Angeles", platform = "desktop",
          userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " ..
            "Chrome/81.0.4044.129 Safari/537.36",
        },
        unsubscribed = false, blocked = false, source = "https://helpcrunch.com/",
        referer = "https://google.com/", locale = "en",
        lastPage = "https://helpcrunch.com/zendesk-alternative.html",
        tags = { { name = "direct", color = "#0079bf" } },
        customData = {
          Currency = "USD", ["Next payment date"] = "2020-09-01 00:40:00", ["Billing info added"] = true,
          ["Number of payments"] = 35, ["Subscription status"] = "active",
        },
      }, page.data[1])
      local c1 = page.data[1]
      assert.is_nil(c1.phone)
      assert.is_nil(c1.firstSeen)
      assert.is_nil(c1.notes)
      assert.is_true(is_int(c1.id))
      assert.is_true(is_int(c1.lastSeen))
      assert.is_true(is_int(c1.device.id))
      assert.is_true(is_int(c1.customData["Number of payments"]))

      assert.same({
        id = 4994, name = "Serge Merge", email = "serge.merge@example.com", userId = "example_261",
        company = "example", location = {}, unsubscribed = false, blocked = false,
        tags = {
          { name = "Lead", color = "#eb5a46" },
          { name = "Feature Request", color = "#0079bf" },
          { name = "Paid", color = "#61bd4f" },
        },
        customData = {
          Plan = "Premium", Currency = "EUR", ["Became payer at"] = "2020-09-13 00:00:00",
          ["Next payment date"] = "2020-10-13 00:40:00", ["Billing info added"] = true,
          ["Number of payments"] = 1, ["Subscription status"] = "suspended",
        },
      }, page.data[3])
      assert.is_nil(page.data[3].device)
      assert.is_nil(page.data[3].customData.segment)

      assert.same({ ["Tried Something"] = false }, page.data[2].customData)
      assert.equal("Lana Del Red", page.data[2].name)
      assert.is_nil(page.data[2].userId)
      local c4 = page.data[4]
      assert.equal(7831682, c4.id)
      assert.equal(1593068924, c4.firstSeen)
      assert.equal(1593093642, c4.lastSeen)
      assert.same({}, c4.tags)
      assert.is_true(c4.unsubscribed)
      assert.is_true(c4.blocked)
      assert.equal(621, c4.customData["Emails sent"])
      assert.equal("Enterprise (Unlimited) $9999/mo", c4.customData.Plan)
    end)

    it("decodes the list page of seed 001 exactly, string timestamps made integers", function()
      local page = decode_ok(H.read(FIX .. "seed001_list.json"))
      assert.equal(256, page.total)
      assert.equal(1, #page.data)
      local c = page.data[1]
      assert.same({
        id = 542335, name = "John Doe", email = "[email protected]", userId = "user_1234567890",
        company = "Example Inc.", phone = "+10233456781", firstSeen = 1603885746, lastSeen = 1603885746,
        location = { regionCode = "Kyyivs'ka Oblast", countryCode = "UA", city = "Kyiv" },
        device = {
          id = 542335, ip = "192.168.1.1", timezone = "Europe/Kiev", platform = "desktop",
          userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " ..
            "Chrome/86.0.4240.111 Safari/537.36",
        },
        unsubscribed = false, blocked = false, source = "https://example.com",
        referer = "https://example.com", lastPage = "https://example.com", locale = "uk",
        createdFrom = "telegram", integrationId = "465847687", notes = "Lorem ipsum",
        tags = { { name = "vip", color = "#ff0000" } },
        customData = {
          subscription_status = "active", number_of_payments = 15, last_paid_amount = 15.99,
          last_payment_date = 1603885746, last_invoice_url = "https://example.com/invoice.html",
          last_payment_was_successful = true,
        },
      }, c)
      assert.is_true(is_int(c.firstSeen))
      assert.is_true(is_int(c.lastSeen))
      assert.is_true(is_float(c.customData.last_paid_amount))
      assert.equal("465847687", c.integrationId)       -- a numeric string that is not a timestamp
    end)

    it("decodes the single-customer page of seed 003 (corrected) with customData as a map", function()
      local c = decode_ok(H.read(FIX .. "seed003_fixed.json"))
      assert.equal(8737843, c.id)
      assert.equal("Cindy Mindy", c.name)
      assert.equal(1588927354, c.firstSeen)
      assert.equal(1591627673, c.lastSeen)
      assert.is_nil(c.phone)
      assert.same({ { name = "lead", color = "#00c2e0" } }, c.tags)
      assert.same({
        Role = "admin", Plan = "Enterprise (Unlimited) $9999/mo", segment = "PotentialChurn_premium_seg1",
        Currency = "USD", ["Emails sent"] = 621, ["Trial end date"] = "2017-07-24 14:30:00",
        ["Became payer at"] = "2017-09-13 00:00:00", ["Registered date"] = "2017-07-10 14:30:00",
        ["Next payment date"] = "2020-09-01 00:40:00", ["Billing info added"] = true,
        ["Number of payments"] = 35, ["Subscription status"] = "active",
      }, c.customData)
    end)
  end)

  describe("malformed input", function()
    -- { what, text, byte named, message fragment }, grouped by what is wrong.
    local groups = {
      { "empty bodies, white space only and trailing garbage", {
        { "empty body", "", 1, "empty body" },
        { "only white space", "  \n\t\r ", 7, "white space" },
        { "trailing garbage", '{"a":1} x', 9, "unexpected data after the value" },
        { "a second value", "1 2", 3, "unexpected data after the value" },
        { "a trailing NUL byte", "[1]\0", 4, "unexpected data after the value" },
        { "a form feed, which is not JSON white space", "\f[1]", 1, "unexpected character" },
        { "a vertical tab after the value", "[1]\v", 4, "unexpected data after the value" },
        { "a no-break space", "[1,\194\160 2]", 4, "unexpected character" },
      } },
      { "broken strings: unterminated, bad escapes, lone surrogates, control characters", {
        { "an unterminated string", '{"name":"John', 9, "unterminated string" },
        { "a string cut after a backslash", '["abc\\', 2, "unterminated string" },
        { "a bad escape", '"ab\\x"', 4, "invalid escape" },
        { "a short \\u escape", '"ab\\u12"', 4, "invalid \\u escape" },
        { "a \\u escape with a non-hex digit", '"\\u12G4"', 2, "invalid \\u escape" },
        { "a lone high surrogate", '"\\ud83d"', 2, "lone high surrogate" },
        { "a high surrogate before a non-surrogate", '"\\ud83d\\u0041"', 2, "surrogate" },
        { "a lone low surrogate", '"x\\ude00"', 3, "lone low surrogate" },
        { "a raw tab in a string", '"a\tb"', 3, "control character in string" },
        { "a raw newline in a key", '{"a\nb":1}', 4, "control character in string" },
      } },
      { "bad numbers: leading zeros, 1., -, .5, bare exponents", {
        { "a leading zero", "01", 1, "leading zero" },
        { "a leading zero in a list", "[00]", 2, "leading zero" },
        { "a negative leading zero", "-01", 1, "leading zero" },
        { "1.", "1.", 1, "invalid number" },
        { "1.e5", "1.e5", 1, "invalid number" },
        { "a lone minus", "-", 1, "invalid number" },
        { "a minus in a list", "[-]", 2, "invalid number" },
        { ".5", ".5", 1, "unexpected character" },
        { "an exponent without digits", "2.5e", 1, "invalid number" },
        { "an exponent sign without digits", "1e+", 1, "invalid number" },
        { "-Infinity", "-Infinity", 1, "invalid number" },
        { "NaN", "NaN", 1, "unexpected character" },
        { "hex", "0x10", 2, "unexpected data after the value" },
      } },
      { "bad literals: tru, nulx, True", {
        { "tru", "tru", 1, "invalid literal" },
        { "nulx in a list", "[nulx]", 2, "invalid literal" },
        { "fals", '{"a":fals}', 6, "invalid literal" },
        { "True", "True", 1, "unexpected character" },
        { "a bad literal for customData", '{"customData":nul}', 15, "invalid literal" },
        { "a bad literal for tags", '{"tags":nil}', 9, "invalid literal" },
      } },
      { "bad structure: missing colon or comma, trailing commas [1,] and {\"a\":1,}", {
        { "a missing colon", '{"a" 1}', 6, "expected ':'" },
        { "a missing comma in an object", '{"a":1 "b":2}', 8, "expected ',' or '}'" },
        { "a missing comma in a list", "[1 2]", 4, "expected ',' or ']'" },
        { "a trailing comma in a list", "[1,]", 4, "unexpected character" },
        { "a trailing comma in an object", '{"a":1,}', 8, "expected a string key" },
        { "a double comma", "[1,,2]", 4, "unexpected character" },
        { "an unquoted key", "{a:1}", 2, "expected a string key" },
        { "a single-quoted key", "{'a':1}", 2, "expected a string key" },
        { "a trailing comma in a customData list", '{"customData":[1,]}', 18, "unexpected character" },
        { "a mismatched bracket", '{"a":[1}', 8, "expected ',' or ']'" },
      } },
      { "bodies that end too soon", {
        { "an open list", "[", 2, "unexpected end of input" },
        { "a list cut after a comma", "[1,", 4, "unexpected end of input" },
        { "an open object", "{", 2, "expected a string key" },
        { "an object cut after the colon", '{"a":', 6, "unexpected end of input" },
        { "an object cut after a value", '{"a":1', 7, "unexpected end of input" },
        { "a firstSeen string cut short", '{"firstSeen":"12', 14, "unterminated string" },
      } },
      { "an HTML error page", {
        { "an HTML page", "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>" ..
          "<body><h1>502 Bad Gateway</h1></body></html>\n", 1, "unexpected character" },
      } },
    }
    for _, g in ipairs(groups) do
      it("rejects " .. g[1] .. ", naming the byte", function()
        for _, c in ipairs(g[2]) do
          local ok, e = pcall(assert_rejected, c[2], c[3], c[4])
          if not ok then
            assert.is_true(false, c[1] .. ": " .. tostring(type(e) == "table" and e.message or e))
          end
        end
      end)
    end

    it("rejects 100,000 nested lists without crashing", function()
      assert_rejected(("["):rep(100000), nil, "nested too deeply")
      assert_rejected(("["):rep(100000) .. ("]"):rep(100000), nil, "nested too deeply")
    end)

    it("rejects 100,000 nested objects without crashing", function()
      assert_rejected(('{"a":'):rep(100000), nil, "nested too deeply")
      assert_rejected(('{"customData":'):rep(100000), nil, "nested too deeply")
      assert_rejected(('{"data":'):rep(100000), nil, "nested too deeply")
      assert_rejected('{"customData":' .. ("["):rep(100000), nil, "nested too deeply")
      assert_rejected('{"data":[{"customData":' .. ('[{"a":'):rep(50000), nil, "nested too deeply")
    end)

    it("still decodes 200 levels of nesting", function()
      local v = decode_ok(("["):rep(200) .. "1" .. ("]"):rep(200))
      for _ = 1, 199 do v = v[1] end
      assert.same({ 1 }, v)
      local o = decode_ok(('{"a":'):rep(200) .. "1" .. ("}"):rep(200))
      for _ = 1, 200 do o = o.a end
      assert.equal(1, o)
    end)

    it("rejects a real customer page cut short at every byte", function()
      local pages = STRESS and { "seed001_list.json" } or { "seed000_list.json", "seed001_list.json" }
      for _, name in ipairs(pages) do
        local text = H.read(FIX .. name):gsub("%s+$", "")
        assert.is_table(decode_ok(text))
        for i = 0, #text - 1 do
          local prefix = text:sub(1, i)
          local v, err = helpcrunch.decode(prefix)
          if v ~= nil or err == nil or err.kind ~= "decode" or not err.offset or
             err.offset < 1 or err.offset > i + 1 then
            error(name .. " cut at " .. i .. " bytes was not rejected properly: " .. tostring(err))
          end
        end
      end
    end)

    it("rejects the seed 003 example as printed, at the missing '{'", function()
      local text = H.read(FIX .. "seed003_broken.json")
      local err = assert_rejected(text, 1003, "expected ',' or ']' in array")
      -- byte 1003 is the ':' after "property" where the '{' is missing
      assert.equal(":", text:sub(err.offset, err.offset))
      assert.equal('"property"', text:sub(err.offset - 10, err.offset - 1))
    end)

    it("raises on a non-string argument", function()
      for _, bad in ipairs { 123, true, {}, print } do
        assert.has_error(function() helpcrunch.decode(bad) end)
        assert.has_error(function() core.decode(bad) end)
      end
      local ok, msg = pcall(helpcrunch.decode, nil)
      assert.is_false(ok)
      assert.truthy(tostring(msg):find("text must be a string, got nil", 1, true))
      assert.has_error(function() core.decode() end)
    end)
  end)
end)
