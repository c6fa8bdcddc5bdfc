--- Write seed inputs for fuzz/fuzz_decode.c: response bodies of the local
-- mock (small list pages, single customers, some with customData as a
-- {property, value} list, search results and error bodies), one file each.
--     lua5.4 tools/fuzz-seeds.lua DIR [N]        (from the checkout; N pages, default 40)
-- The fixtures in spec/fixtures/ and fuzz/corpus/decode/ are seeds too
-- (tools/fuzz.sh adds them).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local dir = assert(arg[1], "usage: lua5.4 tools/fuzz-seeds.lua DIR [N]")
local n = tonumber(arg[2]) or 40
local spawn = require "helpcrunch.mock.spawn"
local http, ltn12 = require "socket.http", require "ltn12"

local mock = spawn.start { customers = 120, seed = 11, quiet = true, lua = "lua5.4" }
local count = 0

local function fetch(path, body)
  local out = {}
  http.request {
    url = mock.url .. path, method = body and "POST" or "GET", sink = ltn12.sink.table(out),
    source = body and ltn12.source.string(body) or nil,
    headers = { authorization = "Bearer seeds", ["content-type"] = "application/json",
                ["content-length"] = body and tostring(#body) or nil },
  }
  return table.concat(out)
end

local function save(name, text)
  if #text == 0 then return end
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(text)
  f:close()
  count = count + 1
end

local ok, err = pcall(function()
  local ids = {}
  for i = 1, n do
    local limit = (i % 5) + 1                       -- small pages: the fuzzer mutates them fast
    local page = fetch(("/customers?offset=%d&limit=%d"):format(i * 2, limit))
    save(("mock-list-%03d.json"):format(i), page)
    for id in page:gmatch('[%[,]{"id":(%d+)') do ids[#ids + 1] = id end
  end
  for i = 1, #ids, 4 do                             -- single customers (some customData lists)
    save(("mock-get-%s.json"):format(ids[i]), fetch("/customers/" .. ids[i]))
  end
  for _, id in ipairs { 265555, 8737843, 542335, 4994, 7831682, 265580 } do
    save(("mock-get-%d.json"):format(id), fetch("/customers/" .. id))
  end
  save("mock-search.json", fetch("/customers/search?offset=0&limit=3",
    '{"filter":[{"field":"customers.email","operator":"~","value":"gmail"}]}'))
  save("mock-error-404.json", fetch("/customers/99999999"))
  save("mock-error-400.json", fetch("/customers?limit=500&sort=name"))
end)
mock:stop()
assert(ok, err)
io.write(count, " seeds written to ", dir, "\n")
