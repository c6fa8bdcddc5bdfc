--- The minimised fuzz corpus (fuzz/corpus/, from `make fuzz-minimize`)
-- replayed through core.decode and core.encode with the fuzz targets' oracles
-- restated in Lua (spec/json_model.lua), so that a finding stays fixed:
-- * decode: accepts exactly the strict RFC 8259 texts within the documented
--   limits, gives what a naive reader of the README's rules gives, names a
--   byte no later than where the text went wrong, and encode -> decode gives
--   the value back;
-- * encode: fuzz/fuzz_encode.c's stack machine rebuilt in Lua turns each input
--   into a Lua value; core.encode refuses exactly the values the README's
--   rules refuse, naming a reason, and otherwise writes valid JSON that
--   decodes back to the value.
local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"
local model = require "spec.json_model"
local H = require "spec.helper"

local HAS_INTEGERS = math.type ~= nil

local function files(dir)
  local out = {}
  local p = io.popen('ls "' .. dir .. '" 2>/dev/null')
  for name in p:lines() do out[#out + 1] = dir .. "/" .. name end
  p:close()
  table.sort(out)
  return out
end

local function hex(s)
  return (s:sub(1, 120):gsub("[^%w%p ]", function(c) return ("\\x%02x"):format(c:byte()) end))
end

-- ---- fuzz_encode.c's stack machine -------------------------------------------

local NICE = { 0.0, -0.0, 0.5, 1.5, 3.0, 1e15, 9007199254740992.0, 9007199254740994.0,
               18014398509481984.0, 1e16, 1e17, 1e21, 1e300, 5e-324, 0.1, 1e-7, 123456.789,
               2.5e-5, 9223372036854775808.0, -1e308, 1.0 / 3 }
local KEYS = { "a", "b", "name", "id", "email", 'k"q', "back\\slash", "\195\169", "", "line\nbreak",
               "\240\159\152\128", "total", "x y", "\1", "\255", "1", "value", "property" }
local STRINGS = { "", "a", '"', "\\", "/", "\n\r\t\b\f", "\1\31", "\127", "\195\169", "\226\130\172",
                  "\240\159\152\128", "\237\160\128", "\192\128", "\244\144\128\128", "\226\130", "null",
                  "1e5" }
local MARKS = { "object", "array", "object\0x", "objects" }
local NORMALISED = { firstSeen = true, lastSeen = true, customData = true, tags = true, data = true }

local function from_bits(b)                      -- 8 big-endian bytes -> a double
  if string.unpack then return (string.unpack(">d", b)) end
  local b1, b2 = b:byte(1, 2)
  local sign = b1 >= 128 and -1 or 1
  local e = (b1 % 128) * 16 + math.floor(b2 / 16)
  local m = b2 % 16
  for i = 3, 8 do m = m * 256 + b:byte(i) end
  if e == 2047 then return m == 0 and sign * math.huge or 0 / 0 end
  if e == 0 then return sign * math.ldexp(m, -1074) end
  return sign * math.ldexp(m + 2 ^ 52, e - 1075)
end

local function from_int_bytes(b)
  if string.unpack then return (string.unpack(">i8", b)) end
  local v = 0
  for i = 1, 8 do v = v * 256 + b:byte(i) end
  if v >= 2 ^ 63 then v = v - 2 ^ 64 end
  return v
end

local function build(data)
  local pos, n, ops, stack = 1, 0, 0, {}
  local function byte()
    local c = data:byte(pos)
    pos = pos + 1
    return c or 0
  end
  local function bytes(k)
    local out = {}
    for i = 1, k do out[i] = string.char(byte()) end
    return table.concat(out)
  end
  local function push(v) n = n + 1 stack[n] = v end
  local function pop() local v = stack[n] stack[n] = nil n = n - 1 return v end
  while pos <= #data and ops < 400 do
    ops = ops + 1
    local op = byte() % 16
    if n >= 60 and (op < 8 or op == 11 or op == 14) then op = 8 + op % 3 end
    if op == 0 then push(from_int_bytes(bytes(8)))
    elseif op == 1 then push(from_bits(bytes(8)))
    elseif op == 2 then
      local v = NICE[byte() % #NICE + 1]
      push(math.ldexp(v, byte() % 16 - 8))
    elseif op == 3 then
      local len = byte() % 24
      push(bytes(len))
    elseif op == 4 then push(STRINGS[byte() % #STRINGS + 1])
    elseif op == 5 then push(byte() % 2 == 1)
    elseif op == 6 then push(helpcrunch.null)
    elseif op == 7 then push({})
    elseif op == 8 then
      if n >= 2 and type(stack[n - 1]) == "table" then
        local v = pop()
        local t = stack[n]
        rawset(t, #t + 1, v)
      end
    elseif op == 9 then
      if n >= 2 and type(stack[n - 1]) == "table" then
        local k = byte()
        local key
        if k < 200 then key = KEYS[k % #KEYS + 1]
        else
          key = bytes(k % 6)
          if NORMALISED[key] then key = "" end
        end
        local v = pop()
        rawset(stack[n], key, v)
      end
    elseif op == 10 then
      if n >= 2 and type(stack[n - 1]) == "table" then
        local odd = { 0, -1, 1, 2, 3, 5, 1.5, 2147483647.0, 4294967296.0 }
        local k = odd[byte() % #odd + 1]
        local v = pop()
        rawset(stack[n], k, v)
      end
    elseif op == 11 then if n >= 1 then push(stack[n]) end
    elseif op == 12 then
      if n >= 1 and type(stack[n]) == "table" then stack[n].self = stack[n] end
    elseif op == 13 then
      if n >= 1 and type(stack[n]) == "table" then
        setmetatable(stack[n], { __jsontype = MARKS[byte() % 4 + 1] })
      end
    elseif op == 14 then
      if byte() % 8 == 0 then push(print) else push(nil) end
    else
      if n >= 2 then stack[n], stack[n - 1] = stack[n - 1], stack[n]
      elseif n == 1 then pop() end
    end
  end
  if n == 0 then return nil end
  return stack[n]
end

-- ---- replay -----------------------------------------------------------------

local function check_decode(text, name)
  local ok, v, msg, at = pcall(core.decode, text)
  assert(ok, name .. ": core.decode raised: " .. tostring(v))
  local valid, depth_or_at = model.validate(text)
  if valid and depth_or_at <= 512 then
    assert(v ~= nil, name .. ": valid JSON refused: " .. tostring(msg) .. " in " .. hex(text))
    assert(model.same(v, model.model_decode(text)), name .. ": not the value the rules give: " .. hex(text))
    local eok, out = pcall(core.encode, v)
    if eok then
      local back = core.decode(out)
      assert(model.same(v, back, true), name .. ": decode(encode(v)) differs: " .. hex(out))
    else
      assert(model.encode_problems(v), name .. ": encode refused a decoded value: " .. tostring(out))
    end
    return "accepted"
  end
  assert(v == nil and type(msg) == "string", name .. ": invalid JSON accepted: " .. hex(text))
  assert(msg:match("^invalid JSON at byte %d+: "), msg)
  assert(at >= 1 and at <= #text + 1, name .. ": offset " .. at)
  if not valid then
    assert(at - 1 <= depth_or_at, name .. (": error at byte %d, after byte %d where it went wrong: %s")
      :format(at, depth_or_at + 1, msg))
  else
    assert(msg:find("nested too deeply", 1, true), name .. ": " .. msg)
  end
  return "refused"
end

local function check_encode(data, name)
  local v = build(data)
  local problems = model.encode_problems(v)
  local ok, out = pcall(core.encode, v)
  if problems then
    assert(not ok, name .. ": encoded a value it must refuse: " .. tostring(out))
    out = tostring(out)
    assert(out:find("helpcrunch: cannot encode request body: ", 1, true) == 1, out)
    local named = false
    for p in pairs(problems) do
      if out:find(p, 1, true) then named = true end
    end
    assert(named, name .. ": refused with a reason the rules do not give: " .. out)
    return "refused"
  end
  assert(ok, name .. ": refused an encodable value: " .. tostring(out))
  assert(model.validate(out), name .. ": wrote invalid JSON: " .. hex(out))
  local back = core.decode(out)
  assert(model.same(model.decoded_form(v), back, true), name .. ": decode(encode(v)) differs: " .. hex(out))
  return "encoded"
end

describe("the fuzz corpus (fuzz/corpus/) #unit", function()
  it("replays every decoder input with the fuzz target's oracles", function()
    local list = files("fuzz/corpus/decode")
    assert(#list > 0, "fuzz/corpus/decode is empty")
    local seen = {}
    for _, f in ipairs(list) do
      local kind = check_decode(H.read(f), f)
      seen[kind] = (seen[kind] or 0) + 1
    end
    -- a corpus of only one kind would test half the rules
    assert.is_true((seen.accepted or 0) > 0 and (seen.refused or 0) > 0)
  end)

  it("replays every encoder input with the fuzz target's oracles", function()
    local list = files("fuzz/corpus/encode")
    assert(#list > 0, "fuzz/corpus/encode is empty")
    local seen = {}
    for _, f in ipairs(list) do
      local kind = check_encode(H.read(f), f)
      seen[kind] = (seen[kind] or 0) + 1
    end
    assert.is_true((seen.encoded or 0) > 0 and (seen.refused or 0) > 0)
  end)

  it("would notice a wrong outcome (the oracles are not vacuous)", function()
    -- a valid text the decoder refused, or an invalid one it took, is caught
    assert.is_true(model.validate('{"a":[1,2.5,"x"]}'))
    assert.is_nil(model.validate('{"a":[1,]}'))
    assert.is_nil(model.validate('"\\ud800"'))
    assert.is_nil(model.validate("01"))
    assert.equal(3, select(2, model.validate("[[[1]]]")))
    -- a value the encoder must refuse is recognised, with the reason
    local t = {}
    t.self = t
    assert.truthy(model.encode_problems(t)["a cycle"])
    local x = {}
    assert.truthy(model.encode_problems({ x, x })["a shared table"])
    assert.truthy(model.encode_problems({ 1, nil, 3 })["list has holes"])
    assert.truthy(model.encode_problems({ "\255" })["invalid UTF-8"])
    assert.is_nil(model.encode_problems({ a = { 1, 2 }, b = "\195\169" }))
    -- and the stack machine builds what fuzz_encode.c builds: \7 a table,
    -- \4\0 the empty string, \x09\0 t.a = it
    assert.same({ a = "" }, build("\7\4\0\9\0"))
    if HAS_INTEGERS then assert.equal(258, build("\0\0\0\0\0\0\0\1\2")) end
    assert.is_false(model.same(1, 1.5))
    assert.is_true(model.same(3, 3.0, true))
    assert.is_false(model.same(0.0, tonumber("-0.0"), true))   -- (5.1 folds a -0.0 literal)
    -- the naive reader applies the rules the decoder must
    assert.is_true(model.same(core.decode('{"data":[{"firstSeen":"007","x":null,"x":1e2}]}'),
      model.model_decode('{"data":[{"firstSeen":"007","x":null,"x":1e2}]}')))
    assert.is_false(model.same({ data = { { firstSeen = "007", x = 100.0 } } },
      model.model_decode('{"data":[{"firstSeen":"007","x":null,"x":1e2}]}')))
    if HAS_INTEGERS then
      assert.equal("float", math.type(model.model_decode("156382687e7")))
      assert.equal("integer", math.type(model.model_decode("9223372036854775807")))
    end
  end)
end)
