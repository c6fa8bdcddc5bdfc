--- The export against a server that is not the bottleneck: every customer of
-- a data set of 10, 100, 1,000 and 5,000 pages (100 customers each, the
-- mock's bodies: bench/pages.lua) served as static files by nginx (one
-- worker), read by
--   - client.customers:all{} under lua5.4 and luajit (curl transport), and
--     inside nginx with transport = "ngx" (bench/export_ngx.lua);
--   - the scripts a user writes without this module: LuaSocket's socket.http
--     + lua-cjson (a connection per request: socket.http has no keep-alive),
--     a raw LuaSocket keep-alive GET loop + lua-cjson, and inside nginx a
--     cosocket keep-alive loop + cjson;
--   - a keep-alive loop that does not decode: what nginx and loopback cost.
-- Each run is a process of its own (peak RSS its own; inside nginx a fresh
-- nginx per run); runs alternate, rotating the order every round; medians.
--     lua5.4 bench/export_bench.lua [runs=5] [sizes=10,100,1000,5000]
local common = dofile("bench/common.lua")
local pages_mod = dofile("bench/pages.lua")
package.path = "./?.lua;" .. package.path
local nginx = require "spec.hosts.nginx"

local RUNS = tonumber(arg[1]) or 5
local SIZES = {}
for s in (arg[2] or "10,100,1000,5000"):gmatch("%d+") do SIZES[#SIZES + 1] = tonumber(s) end
local BAR_RATIO, BAR_RSS = 2.5, 1.1

local ok, why = nginx.available()
if not ok then
  print("export against static nginx: skipped (" .. why .. ")")
  return
end
local ROOT = io.popen("pwd"):read("*l")

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function loadavg() return sh("cut -d' ' -f1-3 /proc/loadavg"):gsub("%s+$", "") end

local CLIENTS = {
  { key = "fetch", lua = "luajit", client = "fetch", label = "keep-alive GET, no decode" },
  { key = "hc54", lua = "lua5.4", client = "helpcrunch", label = "helpcrunch all{}" },
  { key = "ka54", lua = "lua5.4", client = "keepalive", label = "LuaSocket keep-alive+cjson" },
  { key = "http54", lua = "lua5.4", client = "http", label = "LuaSocket http+cjson" },
  { key = "hcjit", lua = "luajit", client = "helpcrunch", label = "helpcrunch all{}" },
  { key = "kajit", lua = "luajit", client = "keepalive", label = "LuaSocket keep-alive+cjson" },
  { key = "httpjit", lua = "luajit", client = "http", label = "LuaSocket http+cjson" },
  { key = "hcngx", lua = "ngx", client = "helpcrunch", label = "helpcrunch all{} (ngx)" },
  { key = "cosngx", lua = "ngx", client = "cosocket", label = "cosocket keep-alive+cjson" },
}

local function parse(out, what)
  local s, n, rss, req, cpu = out:match("^(%S+) (%d+) (%S+) (%d+) (%S+)")
  assert(s, what .. " failed: " .. out)
  return { s = tonumber(s), n = tonumber(n), rss = tonumber(rss), requests = tonumber(req),
           cpu = tonumber(cpu) }
end

local function run(c, url)
  if c.lua ~= "ngx" then
    return parse(sh(string.format("%s bench/export_client.lua %s %s 2>&1", c.lua, c.client, url)),
      c.lua .. " " .. c.client)
  end
  local host = nginx.start { log_level = "error",
    server = "location /export { content_by_lua_file " .. ROOT .. "/bench/export_ngx.lua; }" }
  local status, body = host:request("/export?client=" .. c.client .. "&base=" .. url,
    { timeout = 600 })
  local log = host:log()
  host:stop()
  return parse(status == 200 and body or (tostring(status) .. " " .. tostring(body) .. log),
    "ngx " .. c.client)
end

print(string.format("export against static nginx (1 worker, sendfile; the pages are the mock's "
  .. "bodies), each run a process of its own, alternating; load average at start: %s", loadavg()))
local results = {}           -- results[size][key] = {s =, rss =, requests =, bytes =}
for _, size in ipairs(SIZES) do
  local dir = sh("mktemp -d /tmp/helpcrunch-pages.XXXXXX"):gsub("%s+$", "")
  local bytes, files = sh(string.format("luajit bench/pages.lua %s %d", dir, size * 100))
    :match("(%d+) (%d+)")
  assert(bytes, "bench/pages.lua failed")
  local srv = assert(pages_mod.serve(dir))
  local runs = size >= 5000 and math.max(3, RUNS - 2) or RUNS
  local samples = {}
  for _, c in ipairs(CLIENTS) do samples[c.key] = { s = {}, rss = {}, cpu = {} } end
  for round = 1, runs do
    for i = 1, #CLIENTS do
      local c = CLIENTS[(i + round - 2) % #CLIENTS + 1]
      local r = run(c, srv.url)
      assert(r.n == size * 100, c.key .. " read " .. r.n .. " customers of " .. size * 100)
      local sm = samples[c.key]
      sm.s[round], sm.rss[round], sm.cpu[round], sm.requests = r.s, r.rss, r.cpu, r.requests
    end
  end
  srv:stop()
  assert(os.execute("rm -rf '" .. dir .. "'"))
  local row = {}
  results[size] = row
  print(string.format("\n%d pages: %d customers, %d page files, %.1f KB per page, median of %d runs"
    .. " (load average after: %s)", size, size * 100, tonumber(files),
    tonumber(bytes) / tonumber(files) / 1024, runs, loadavg()))
  print(string.format("  %-7s %-27s %8s %9s %12s %8s %8s %9s", "lua", "client", "requests",
    "seconds", "customers/s", "ms/page", "CPU s", "peak RSS"))
  for _, c in ipairs(CLIENTS) do
    local sm = samples[c.key]
    local s, rss, cpu = common.median(sm.s), common.median(sm.rss), common.median(sm.cpu)
    row[c.key] = { s = s, rss = rss, runs = sm.s, cpu = cpu }
    print(string.format("  %-7s %-27s %8d %9.4f %12.0f %8.3f %8.4f %6.1f MB", c.lua, c.label,
      sm.requests, s, size * 100 / s, s * 1000 / size, cpu, rss))
  end
end

-- The summary: the bars, the cost curve.
local function has(size) return results[size] ~= nil end
-- The median of the ratios of runs made in the same round (seconds apart):
-- drift in the machine's load cancels out of each ratio.
local function paired(row, base, key)
  local ratios = {}
  for i = 1, #row[key].runs do ratios[i] = row[base].runs[i] / row[key].runs[i] end
  return common.median(ratios)
end
if has(1000) then
  local r = results[1000]
  print("\nat 1,000 pages (100,000 customers): helpcrunch all{} is (median of the ratios of runs"
    .. " in the same round)")
  for _, p in ipairs { { "lua5.4", "hc54", "http54", "ka54" }, { "luajit", "hcjit", "httpjit", "kajit" } } do
    local ratio = paired(r, p[3], p[2])
    print(string.format("  %-7s %.2fx LuaSocket http+cjson (bar >= %.1fx: %s), %.2fx LuaSocket "
      .. "keep-alive+cjson", p[1], ratio, BAR_RATIO, ratio >= BAR_RATIO and "met" or "NOT MET",
      paired(r, p[4], p[2])))
  end
  print(string.format("  ngx     %.2fx a cosocket keep-alive+cjson loop", paired(r, "cosngx", "hcngx")))
  for _, p in ipairs { { "lua5.4", "hc54", "http54", "ka54" }, { "luajit", "hcjit", "httpjit", "kajit" },
      { "ngx", "hcngx", "cosngx" } } do
    print(string.format("  %-7s in CPU time (user + system, medians): %.2fx %s", p[1], r[p[3]].cpu / r[p[2]].cpu,
      p[4] and string.format("socket.http, %.2fx keep-alive", r[p[4]].cpu / r[p[2]].cpu) or "cosocket loop"))
  end
  local fastest = math.min(r.hc54.s, r.hcjit.s, r.hcngx.s)
  print(string.format("  nginx alone (a keep-alive GET loop that does not decode) serves the "
    .. "pages in %.3f s: %.0fx faster than the fastest client", r.fetch.s, fastest / r.fetch.s))
end
if has(100) and has(1000) then
  print("\npeak RSS, 1,000 vs 100 pages (bar: within " .. BAR_RSS .. "x)")
  for _, c in ipairs(CLIENTS) do
    if c.client ~= "fetch" then
      local a, b = results[1000][c.key].rss, results[100][c.key].rss
      print(string.format("  %-7s %-27s %6.1f vs %6.1f MB  %.2fx%s", c.lua, c.label, a, b, a / b,
        c.client == "helpcrunch" and (a / b <= BAR_RSS and "  met" or "  NOT MET") or ""))
    end
  end
end
-- The cost curve, in wall time and in CPU time (user + system: less moved
-- by other processes on a shared machine than wall time).
for _, what in ipairs { { "s", "wall" }, { "cpu", "CPU" } } do
  print(string.format("\ncost curve: %s ms per page of 100 customers (flat is the goal)", what[2]))
  local head = string.format("  %-7s %-27s", "lua", "client")
  for _, size in ipairs(SIZES) do head = head .. string.format(" %8s", size .. "p") end
  print(head .. (has(100) and #SIZES > 1 and "   last/100p" or ""))
  for _, c in ipairs(CLIENTS) do
    local line = string.format("  %-7s %-27s", c.lua, c.label)
    for _, size in ipairs(SIZES) do
      line = line .. string.format(" %8.3f", results[size][c.key][what[1]] * 1000 / size)
    end
    local last = SIZES[#SIZES]
    if has(100) and #SIZES > 1 then
      line = line .. string.format("   %9.2fx", (results[last][c.key][what[1]] / last)
        / (results[100][c.key][what[1]] / 100))
    end
    print(line)
  end
end
