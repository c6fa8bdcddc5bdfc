--- Read 100,000 customers (1,000 pages of 100) from a local mock through
-- client.customers:all{} and through a plain LuaSocket + lua-cjson script;
-- also 100 pages, to show memory stays flat. Runs alternate; medians.
--     lua5.4 bench/export_bench.lua [runs]       (client under lua5.4 and luajit)
local common = dofile("bench/common.lua")
local runs = tonumber(arg and arg[1]) or 3

local mock = common.mock { customers = 100000, seed = 3 }
local function run(lua, which, pages)
  local p = assert(io.popen(string.format("%s bench/export_client.lua %s %s %d", lua, which,
    mock.url, pages)))
  local out = p:read("*a")
  p:close()
  local s, n, rss = out:match("^(%S+) (%d+) (%S+)")
  assert(s, "export run failed: " .. out)
  assert(tonumber(n) == pages * 100, which .. " read " .. n .. " customers")
  return tonumber(s), tonumber(rss)
end

print(string.format("export from the local mock (%s), median of %d runs", mock.url, runs))
print(string.format("  %-8s %-22s %6s %10s %13s %9s", "lua", "client", "pages", "seconds",
  "customers/s", "peak RSS"))
local rows = {}
for _, lua in ipairs { "lua5.4", "luajit" } do
  for _, pages in ipairs { 1000, 100 } do
    local times = { helpcrunch = {}, luasocket = {} }
    local rss = { helpcrunch = {}, luasocket = {} }
    for _ = 1, runs do
      for _, which in ipairs { "luasocket", "helpcrunch" } do
        local s, r = run(lua, which, pages)
        times[which][#times[which] + 1] = s
        rss[which][#rss[which] + 1] = r
      end
    end
    for _, which in ipairs { "helpcrunch", "luasocket" } do
      local s = common.median(times[which])
      local r = common.median(rss[which])
      rows[lua .. which .. pages] = { s = s, rss = r }
      print(string.format("  %-8s %-22s %6d %10.3f %13.0f %7.1f MB", lua,
        which == "helpcrunch" and "helpcrunch all{}" or "LuaSocket+cjson", pages, s,
        pages * 100 / s, r))
    end
  end
end
mock:stop()
for _, lua in ipairs { "lua5.4", "luajit" } do
  local h, l = rows[lua .. "helpcrunch1000"], rows[lua .. "luasocket1000"]
  local h100 = rows[lua .. "helpcrunch100"]
  print(string.format("  %s: helpcrunch %.2fx faster than LuaSocket+cjson over 1,000 pages;"
    .. " peak RSS 1,000 vs 100 pages: %.1f vs %.1f MB (%+.0f%%)", lua, l.s / h.s, h.rss,
    h100.rss, (h.rss / h100.rss - 1) * 100))
end
