--- One export run, in its own process so its peak RSS is its own:
--     LUA bench/export_client.lua helpcrunch|luasocket BASE_URL PAGES
-- prints "seconds customers peak_rss_mb".
local common = dofile("bench/common.lua")
local which, base, pages = arg[1], arg[2], tonumber(arg[3])
local max = pages * 100

local function helpcrunch_export()
  local client = require("helpcrunch").new {
    token = "bench", base_url = base, rate_limit = false, page_size = 100,
  }
  local n, ids = 0, 0
  for c in client.customers:all { max = max } do
    n = n + 1
    ids = ids + (c.id % 7)                   -- touch every customer
  end
  return n
end

-- What a user writes without this module: LuaSocket's http and lua-cjson,
-- paging with offset/limit until total.
local function luasocket_export()
  local http, ltn12, cjson = require "socket.http", require "ltn12", require "cjson"
  local n, offset, ids = 0, 0, 0
  local total
  repeat
    local out = {}
    local _, code = http.request {
      url = base .. "/customers?offset=" .. offset .. "&limit=100",
      headers = { authorization = "Bearer bench" }, sink = ltn12.sink.table(out),
    }
    assert(code == 200, "HTTP " .. tostring(code))
    local page = cjson.decode(table.concat(out))
    total = page.total
    for _, c in ipairs(page.data) do
      n = n + 1
      ids = ids + (c.id % 7)
    end
    offset = offset + 100
  until offset >= total or offset >= max
  return n
end

local t0 = common.now()
local n = (which == "helpcrunch" and helpcrunch_export or luasocket_export)()
local dt = common.now() - t0
print(string.format("%.4f %d %.1f", dt, n, common.peak_rss_mb() or -1))
