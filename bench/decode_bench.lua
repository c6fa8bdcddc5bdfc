--- Decode benchmark (issue 18). One 100-customer list page: helpcrunch.decode
-- (with normalisation) against cjson.decode and dkjson.decode of the same body,
-- in alternating rounds in one process (medians), with two floors for building
-- the same tables without any JSON to read:
--   * "C API floor": the Lua API calls the decoder makes, replayed from a
--     recording (tools/decode-floor.c, `make decode-floor`): what any decoder
--     built on the Lua C API pays at least;
--   * "Lua constructors": a generated chunk of table constructors (the VM's
--     own way, with LuaJIT's table templates), out of reach of the C API.
-- Then the cost curve: decode time per byte for pages of 10 and 100 customers
-- and a ~10 MB body (150 pages spliced), helpcrunch against cjson.
--     lua5.4 bench/decode_bench.lua [rounds]      (from the checkout, after make)
local common = dofile("bench/common.lua")
local helpcrunch = require "helpcrunch"
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

local rounds = tonumber(arg and arg[1]) or 15
local clock = os.clock

-- ---- the bodies ---------------------------------------------------------------

-- The page the README's figures have always used (300 customers, seed 1).
local mock = common.mock { customers = 300, seed = 1 }
local body = common.fetch(mock.url .. "/customers?offset=100&limit=100")
local body10 = common.fetch(mock.url .. "/customers?offset=100&limit=10")
mock:stop()
mock = common.mock { customers = 15000, seed = 1 }
local parts = {}
for offset = 0, 14900, 100 do
  parts[#parts + 1] = common.fetch(mock.url .. "/customers?offset=" .. offset .. "&limit=100")
    :match('"data":%[(.*)%]')
end
mock:stop()
local big = '{"total":15000,"data":[' .. table.concat(parts, ",") .. "]}"
parts = nil -- luacheck: ignore 311
assert(#helpcrunch.decode(body).data == 100)
assert(#helpcrunch.decode(big).data == 15000)

-- ---- the floors -----------------------------------------------------------------

local KNOWN = {}
for k in ([[id ip name city tags data code sort email phone notes color value total limit field
  order userId device source locale errors offset filter company referer blocked message lastSeen
  location timezone platform lastPage property operator firstSeen userAgent regionCode customData
  comparison countryCode createdFrom unsubscribed integrationId]]):gmatch("%S+") do
  KNOWN[#KNOWN + 1] = k
end

local function api_floor()
  local so = "build/" .. common.LUA .. "/decode_floor.so"
  if not io.open(so) then os.execute("make -s LUA=" .. common.LUA .. " decode-floor >/dev/null 2>&1") end
  local open = package.loadlib(so, "luaopen_decode_floor")
  if not open then return nil end
  local floor = open()
  local rec = floor.record(helpcrunch.decode(body), KNOWN)
  return function() return floor.build(rec) end
end

-- A chunk that builds the decoded page with table constructors.
local function constructor_floor()
  local out, n = {}, 0
  local function emit(s) n = n + 1 out[n] = s end
  local function ser(v)
    local t = type(v)
    if t == "string" then emit(("%q"):format(v))
    elseif t == "number" then
      if math.type and math.type(v) == "integer" then emit(tostring(v))
      else emit(("%.17g"):format(v)) end
    elseif t == "boolean" then emit(tostring(v))
    elseif t == "table" then
      emit("{")
      if #v > 0 then
        for i = 1, #v do ser(v[i]) emit(",") end
      else
        for k, x in pairs(v) do emit(("[%q]="):format(k)) ser(x) emit(",") end
      end
      emit("}")
    else emit("nil") end
  end
  emit("return function() return ")
  ser(helpcrunch.decode(body))
  emit(" end")
  return assert((loadstring or load)(table.concat(out)))()
end

-- ---- timing ---------------------------------------------------------------------

--- Medians (seconds per call) of alternating rounds of each function on text.
local function race(list, text, rounds_)
  for _, d in ipairs(list) do d.times = {} end
  for _ = 1, rounds_ do
    for _, d in ipairs(list) do
      collectgarbage()
      collectgarbage()
      local fn, n = d.fn, d.n
      local t0 = clock()
      for _ = 1, n do fn(text) end
      d.times[#d.times + 1] = (clock() - t0) / n
    end
  end
  for _, d in ipairs(list) do d.median = common.median(d.times) end
end

local decoders = {
  { name = "helpcrunch.decode", fn = helpcrunch.decode, n = 200 },
  { name = "cjson.decode", fn = cjson.decode, n = 200 },
}
if ok_dk then decoders[#decoders + 1] = { name = "dkjson.decode", fn = dkjson.decode, n = 10 } end
local floor = api_floor()
if floor then decoders[#decoders + 1] = { name = "C API floor", fn = floor, n = 200 } end
decoders[#decoders + 1] = { name = "Lua constructors", fn = constructor_floor(), n = 200 }
race(decoders, body, rounds)

local cj = decoders[2].median
print(("decode of one list page (100 customers, %d bytes), %s, median of %d alternating rounds")
  :format(#body, common.LUA, rounds))
print(("  %-18s %10s %9s %14s"):format("decoder", "ms/page", "MB/s", "vs cjson"))
for _, d in ipairs(decoders) do
  print(("  %-18s %10.3f %9.1f %13.2fx"):format(d.name, d.median * 1e3, #body / d.median / 1e6,
    cj / d.median))
end
if not floor then print("  (C API floor: `make decode-floor` failed; no compiler?)") end
print("  floors: the same tables built with no JSON to read (the decoder's Lua API calls alone;"
  .. " the Lua VM's table constructors)")

-- ---- the cost curve ----------------------------------------------------------------

print(("decode time per byte, %s, median of %d alternating rounds (5 for ~10 MB)")
  :format(common.LUA, rounds))
print(("  %-30s %10s %12s %12s %9s"):format("body", "bytes", "helpcrunch", "cjson", "ratio"))
for _, b in ipairs {
  { "list page, 10 customers", body10, 2000 },
  { "list page, 100 customers", body, 200 },
  { "15,000 customers (~10 MB)", big, 1 },
} do
  local list = {
    { name = "helpcrunch", fn = helpcrunch.decode, n = b[3] },
    { name = "cjson", fn = cjson.decode, n = b[3] },
  }
  race(list, b[2], b[3] == 1 and 5 or rounds)
  print(("  %-30s %10d %9.2f ns %9.2f ns %8.2fx"):format(b[1], #b[2], list[1].median / #b[2] * 1e9,
    list[2].median / #b[2] * 1e9, list[2].median / list[1].median))
end
