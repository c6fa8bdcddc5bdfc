--- Exact JSON (issue 11): one describe per defect that was found by an
-- independent differential run and an RFC 8259 model. Each of these failed
-- on 848c8fc, under lua5.4 and luajit (README "JSON: exact rules and
-- differences from lua-cjson" states the rules they hold the core to).
local H = require "spec.helper"
local core = require "helpcrunch.core"
local decode, encode = core.decode, core.encode

local HAS_INTEGERS = math.type ~= nil
local is_int = function(v) return math.type and math.type(v) == "integer" end
local is_float = function(v) return type(v) == "number" and (not math.type or math.type(v) == "float") end
local function is_neg_zero(v) return v == 0 and 1 / v < 0 end

describe("exact JSON", function()
  describe("numbers do not depend on the C locale (defect 2)", function()
    local texts = { "1.5", "-2.25", "0.1", "1.5e300", "0.30000000000000004", "123456789.123456789",
                    "2.2250738585072014e-308", "4.9e-324", "1e23", "-0.0", "15.99", "3.141592653589793" }
    local values = { 0.1, 1.5, -2.5e-7, 1e300, 123456.789, 2.0 ^ 60, -1 / 3, 5e-324, 1e21, 0.30000000000000004 }

    -- Results under one locale, collected while it is set (busted itself
    -- formats numbers through the C library, so it runs under "C").
    local function results()
      local out = {}
      for i, t in ipairs(texts) do
        out[i] = { decode(t), decode("[" .. t .. "]")[1], decode('{"x":' .. t .. "}").x }
      end
      for i, v in ipairs(values) do out[#texts + i] = encode(v) end
      out.list = encode { 1.5, { x = 0.25 } }
      return out
    end

    local want = results()
    for _, loc in ipairs { "de_DE.UTF-8", "ps_AF.UTF-8" } do
      local function under_locale()
        local old = os.setlocale(nil, "numeric")
        if not os.setlocale(loc, "numeric") then return nil end
        local ok, got = pcall(results)
        os.setlocale(old, "numeric")
        assert(ok, got)
        return got
      end
      local probe = os.setlocale(nil, "numeric")
      local have = os.setlocale(loc, "numeric") ~= nil
      os.setlocale(probe, "numeric")
      if not have then
        pending(loc .. " is not installed: run `sh tools/locales.sh` as root (needs the locales package)")
      else
        it("decodes and encodes the same under LC_NUMERIC=" .. loc, function()
          local got = under_locale()
          for i, t in ipairs(texts) do
            for j = 1, 3 do
              assert(got[i][j] == want[i][j], ("%s: %s under %s"):format(t, tostring(got[i][j]), loc))
            end
            assert.equal(tonumber(t), got[i][1])
          end
          for i, v in ipairs(values) do
            local text = got[#texts + i]
            assert.equal(want[#texts + i], text)
            assert.truthy(text:match("^%-?%d+%.?%d*e?[-+]?%d*$"), text)   -- plain ASCII JSON
            assert.equal(v, decode(text))
          end
          assert.equal('[1.5,{"x":0.25}]', got.list)
        end)
      end
    end
  end)

  describe("19-digit integers (defect 3)", function()
    local within = { "1234567890123456789", "9223372036854775807", "-9223372036854775808",
                     "1000000000000000000", "-1000000000000000001" }
    it("firstSeen/lastSeen strings of 19 digits within int64 become numbers", function()
      for _, s in ipairs(within) do
        local v = decode('{"data":[{"firstSeen":"' .. s .. '","lastSeen":"' .. s .. '"}]}').data[1]
        assert.is_number(v.firstSeen, s)
        assert.is_number(v.lastSeen, s)
        if HAS_INTEGERS then
          assert.is_true(is_int(v.firstSeen), s)
          assert.equal(math.tointeger(s), v.firstSeen)
          assert.equal(s, tostring(v.lastSeen))
        else
          assert.equal(tonumber(s), v.firstSeen)    -- LuaJIT: the nearest double, as tonumber
        end
      end
      -- beyond int64 a timestamp string is kept as it was sent
      for _, s in ipairs { "9223372036854775808", "-9223372036854775809", "12345678901234567890" } do
        assert.equal(s, decode('{"firstSeen":"' .. s .. '"}').firstSeen)
      end
    end)

    it("bare integers of 19 digits: exact on 5.4, the nearest double on LuaJIT", function()
      for _, s in ipairs(within) do
        local v = decode("[" .. s .. "]")[1]
        if HAS_INTEGERS then
          assert.is_true(is_int(v), s)
          assert.equal(s, tostring(v))
        else
          assert.equal(tonumber(s), v)
        end
      end
    end)
  end)

  describe("-0 (defect 4)", function()
    it("decodes to the float -0.0 on both interpreters, as lua-cjson", function()
      for _, t in ipairs { "-0", "[-0]", '{"x":-0}', '{"data":[{"id":-0}]}', "-0.0", "-0e0", "-0E+5" } do
        local v = decode(t)
        if type(v) == "table" then v = v[1] or v.x or v.data[1].id end
        assert.is_true(is_float(v), t)
        assert.is_true(is_neg_zero(v), t)
      end
      assert.is_true(is_int(decode("0")) or not HAS_INTEGERS)
      assert.is_false(is_neg_zero(decode("0")))
    end)

    it("encodes -0.0 as -0 and 0.0 as 0; -0 reads back as -0.0", function()
      assert.equal("-0", encode(-0.0))
      assert.equal("0", encode(0.0))
      assert.equal("[-0,0]", encode { -0.0, 0 })
      assert.is_true(is_neg_zero(decode(encode(-0.0))))
    end)
  end)

  describe("integral floats above 2^53 (defect 5)", function()
    it("are written so that they read back as the same float", function()
      local xs = {}
      for k = 53, 1023, 1 do xs[#xs + 1] = 2.0 ^ k end
      for k = 16, 308 do xs[#xs + 1] = tonumber("1e" .. k) end
      xs[#xs + 1] = 2.0 ^ 53 + 2
      xs[#xs + 1] = 123456789012345680.0
      for _, x in ipairs(xs) do
        for _, v in ipairs { x, -x } do
          local text = encode(v)
          local back = decode(text)
          assert(back == v, text)
          if HAS_INTEGERS and math.abs(v) > 2.0 ^ 53 then
            assert(is_float(back), text .. " came back as an integer")
          end
        end
      end
    end)

    it("on 5.4 a float and an integer of the same value stay apart", function()
      if not HAS_INTEGERS then return end
      local int, flt = 18014398509481984, 18014398509481984.0
      assert.equal("18014398509481984", encode(int))
      assert.equal("integer", math.type(decode(encode(int))))
      assert.equal("float", math.type(decode(encode(flt))))
      assert.equal("1.8014398509481984e+16", encode(flt))
    end)
  end)

  it("reads the seed page the same as before (no normalisation was weakened)", function()
    local v = assert(decode(H.read("spec/fixtures/seed000_list.json")))
    assert.equal(184, v.total)
    assert.equal(4, #v.data)
  end)
end)
