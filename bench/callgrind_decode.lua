--- Decode one page body N times with one decoder, for valgrind's callgrind
-- to count instructions (bench/run.sh subtracts a run with N = 0):
--     LUA bench/callgrind_decode.lua helpcrunch|cjson FILE N
-- One decode runs before the N in every run, N = 0 included, so the first
-- call's one-time costs (lazy symbol binding, the decoder's first key table
-- lookups) cancel out of the difference.
local LUA = (type(jit) == "table") and "luajit" or "lua5.4"
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/" .. LUA .. "/?.so;" .. package.cpath
local which, file, n = arg[1], arg[2], tonumber(arg[3])
local decode = which == "helpcrunch" and require("helpcrunch").decode or require("cjson").decode
local f = assert(io.open(file, "rb"))
local body = f:read("*a")
f:close()
decode(body)
for _ = 1, n do decode(body) end
