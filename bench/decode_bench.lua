--- Decode a 100-customer list page: helpcrunch.decode (with normalisation)
-- against cjson.decode and dkjson.decode of the same body (which do not
-- normalise). Alternating rounds, medians; prints ms/page, MB/s and the
-- ratio to cjson.
--     lua5.4 bench/decode_bench.lua [rounds]      (from the checkout, after make)
local common = dofile("bench/common.lua")
local helpcrunch = require "helpcrunch"
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

local rounds = tonumber(arg and arg[1]) or 15
local mock = common.mock { customers = 300, seed = 1 }
local body = common.fetch(mock.url .. "/customers?offset=100&limit=100")
mock:stop()
assert(#helpcrunch.decode(body).data == 100)

local decoders = {
  { name = "helpcrunch.decode", fn = helpcrunch.decode, n = 200 },
  { name = "cjson.decode", fn = cjson.decode, n = 200 },
}
if ok_dk then decoders[#decoders + 1] = { name = "dkjson.decode", fn = dkjson.decode, n = 10 } end

local clock = os.clock
for _, d in ipairs(decoders) do d.times = {} end
for _ = 1, rounds do
  for _, d in ipairs(decoders) do
    collectgarbage()
    collectgarbage()
    local fn, n = d.fn, d.n
    local t0 = clock()
    for _ = 1, n do fn(body) end
    d.times[#d.times + 1] = (clock() - t0) / n
  end
end

local cj
for _, d in ipairs(decoders) do
  d.median = common.median(d.times)
  if d.name == "cjson.decode" then cj = d.median end
end
print(string.format("decode of one list page (100 customers, %d bytes), %s, median of %d rounds",
  #body, common.LUA, rounds))
print(string.format("  %-18s %10s %9s %14s", "decoder", "ms/page", "MB/s", "vs cjson"))
for _, d in ipairs(decoders) do
  print(string.format("  %-18s %10.3f %9.1f %13.2fx", d.name, d.median * 1e3,
    #body / d.median / 1e6, cj / d.median))
end
