--- The export in instructions (valgrind --tool=callgrind): the noise-free
-- figure of bench/export_bench.lua, and where the instructions go.
--
-- Each client of bench/export_client.lua reads a data set of SMALL and of
-- LARGE pages from static nginx (bench/pages.lua) under callgrind; per page
-- of 100 customers = (LARGE run - SMALL run) / (LARGE - SMALL): start-up,
-- module loading and the first connection cancel out. Only the client
-- process is counted (nginx runs outside valgrind); user space only (the
-- kernel's share of send/recv/poll is not in these numbers).
--
-- The layers (each a client of export_client.lua) give the cost of each part:
--   core_raw     libcurl + csrc/client.c, the body handed over as a string
--   core_decode  + the C decoder            (core_decode - core_raw)
--   calls        + the pipeline (Call:wait) (calls - core_decode)
--   helpcrunch   + the pager, prefetch      (helpcrunch - calls)
-- and the per-function breakdown (callgrind_annotate, self cost, net of the
-- SMALL run) of customers:all{} and of the LuaSocket keep-alive + cjson loop.
-- The interpreters are bench/cghost.c linked against Debian's static
-- liblua5.4.a / libluajit-5.1.a, which keep their symbols (the stock binaries
-- are stripped), so the collector and the allocator have names.
--     lua5.4 bench/export_callgrind.lua [small=10] [large=60]
local pages_mod = dofile("bench/pages.lua")

local SMALL, LARGE = tonumber(arg[1]) or 10, tonumber(arg[2]) or 60
local LAYERS = { "fetch", "keepalive", "http", "core_raw", "core_decode", "calls", "helpcrunch" }
local LABEL = {
  fetch = "LuaSocket keep-alive GET, no decode", keepalive = "LuaSocket keep-alive + cjson",
  http = "LuaSocket http + cjson", core_raw = "core engine, no decode (libcurl, client.c)",
  core_decode = "core engine + C decoder", calls = "client:call():wait() (+ pipeline)",
  helpcrunch = "customers:all{} (+ pager, prefetch)",
}
local BREAKDOWN = { "helpcrunch", "keepalive" }

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

if sh("command -v valgrind; command -v callgrind_annotate"):find("callgrind_annotate") == nil then
  print("export instructions: skipped (valgrind is not installed)")
  return
end

local tmp = sh("mktemp -d /tmp/helpcrunch-cg.XXXXXX"):gsub("%s+$", "")
-- The interpreters: cghost with symbols, else the stock (stripped) ones.
local HOST = {}
for _, lua in ipairs { "lua5.4", "luajit" } do
  local inc, lib = "/usr/include/lua5.4", "liblua5.4.a"
  if lua == "luajit" then inc, lib = "/usr/include/luajit-2.1", "libluajit-5.1.a" end
  local bin = tmp .. "/" .. lua
  local built = os.execute(string.format("cc -O2 -I%s bench/cghost.c -o %s -Wl,-E "
    .. "/usr/lib/x86_64-linux-gnu/%s -lm -ldl 2>/dev/null", inc, bin, lib))
  HOST[lua] = (built == true or built == 0) and bin or lua
end

-- Instructions of one run (and its callgrind file).
local function count(lua, client, url, size)
  local out = string.format("%s/cg.%s.%s.%d", tmp, lua, client, size)
  local log = sh(string.format("valgrind --tool=callgrind --callgrind-out-file=%s %s "
    .. "bench/export_client.lua %s %s 2>&1", out, HOST[lua], client, url))
  local n = log:match("refs:%s*([%d,]+)")
  assert(n, lua .. " " .. client .. " under callgrind failed:\n" .. log)
  local read
  for line in log:gmatch("[^\n]+") do read = line:match("^[%d.]+ (%d+) [%d.-]+ %d+ [%d.]+$") or read end
  assert(tonumber(read) == size * 100, lua .. " " .. client .. " did not read every customer:\n" .. log)
  return tonumber((n:gsub(",", ""))), out
end

local refs = {}              -- refs[lua][client][size]
for _, size in ipairs { SMALL, LARGE } do
  local dir = tmp .. "/pages" .. size
  assert(sh(string.format("luajit bench/pages.lua %s %d", dir, size * 100)):match("%d+ %d+"))
  local srv = assert(pages_mod.serve(dir))
  for _, lua in ipairs { "lua5.4", "luajit" } do
    refs[lua] = refs[lua] or {}
    for _, client in ipairs(LAYERS) do
      refs[lua][client] = refs[lua][client] or {}
      refs[lua][client][size] = count(lua, client, srv.url, size)
    end
  end
  srv:stop()
  os.execute("rm -rf '" .. dir .. "'")
end

local function per_page(lua, client)
  local r = refs[lua][client]
  return (r[LARGE] - r[SMALL]) / (LARGE - SMALL)
end

print(string.format("instructions per page of 100 customers in the export (valgrind --tool=callgrind, "
  .. "%d pages net of %d, client process only, user space)", LARGE, SMALL))
print(string.format("  %-44s %12s %12s", "client (each row adds one layer from core_raw on)",
  "lua5.4", "luajit"))
for _, client in ipairs(LAYERS) do
  print(string.format("  %-44s %12.0f %12.0f", LABEL[client], per_page("lua5.4", client),
    per_page("luajit", client)))
end
print("  the layers of customers:all{}:")
for _, d in ipairs {
  { "transport: libcurl + csrc/client.c", "core_raw" },
  { "decoding (C decoder, its tables, their GC)", "core_decode", "core_raw" },
  { "pipeline (Call, errors, facts)", "calls", "core_decode" },
  { "pager (+1% bytes: pages overlap by one)", "helpcrunch", "calls" },
} do
  local function v(lua) return per_page(lua, d[2]) - (d[3] and per_page(lua, d[3]) or 0) end
  print(string.format("  %-44s %12.0f %12.0f", d[1], v("lua5.4"), v("luajit")))
end
for _, lua in ipairs { "lua5.4", "luajit" } do
  print(string.format("  %s: customers:all{} %.2fx the instructions of the LuaSocket keep-alive + cjson"
    .. " loop (%.2fx of socket.http + cjson)", lua, per_page(lua, "keepalive") / per_page(lua, "helpcrunch"),
    per_page(lua, "http") / per_page(lua, "helpcrunch")))
end

-- ---- per function -------------------------------------------------------------

-- Self cost per function of a callgrind file: { ["fn [object]"] = n }.
local function functions(file)
  local t = {}
  local text = sh("callgrind_annotate --threshold=100 --inclusive=no --auto=no " .. file .. " 2>/dev/null")
  for line in text:gmatch("[^\n]+") do
    local n, where = line:match("^%s*([%d,]+)%s+%([%d.% ]+%%%)%s+(.+)$")
    if n and not where:find("PROGRAM TOTALS", 1, true) then
      local fn, obj = where:match("^(.-)%s+%[(.-)%]$")
      fn = (fn or where):gsub("^.*:", ""):gsub("'%d+$", "")   -- f'2: f recursing
      local file_part = (where:match("^(.-):") or ""):gsub("^.*/", "")
      local key = fn .. "\t" .. file_part .. "\t" .. (obj or "???"):gsub("^.*/([^/]*/[^/]*)$", "%1")
      t[key] = (t[key] or 0) + tonumber((n:gsub(",", "")))
    end
  end
  return t
end

local GC_WORDS = { "mark", "sweep", "traverse", "propagate", "singlestep", "atomic", "freeobj",
  "finaliz", "ephemeron", "clearby", "GCTM", "gc_", "luaC_", "lj_gc", "youngcollection",
  "genstep", "incstep", "entersweep", "checkSizes", "remarkupvals", "restartcollection" }

-- Which csrc/ file defines each function (callgrind cannot always tell).
local CSRC = {}
for file in sh("ls csrc/*.c"):gmatch("[^\n]+") do
  for line in io.lines(file) do
    local name = line:match("^[%w_][%w_ %*]-[%s%*]([%w_]+)%(")
    if name then CSRC[name] = file:gsub("^.*/", "") end
  end
end

local VM = "Lua VM: the Lua code (pager, pipeline, transport, the loop)"

-- Which part of the process a function belongs to (obj: the object's last
-- two path components, file: the source file's name when known).
local function category(fn, file, obj)
  if (obj == "???" or obj == "") and CSRC[(fn:gsub("%..*$", ""))] then obj = "helpcrunch/core.so" end
  if obj == "helpcrunch/core.so" then
    if file == "" or file == "???" then file = CSRC[(fn:gsub("%..*$", ""))] or "" end
    if file:find("^json") or file == "customer.c" then
      return "C decoder (json_decode.c, json_number.c, customer.c)"
    end
    return "csrc/" .. (file ~= "" and file or "core.so")
  end
  if obj:find("/libcurl") then return "libcurl" end
  if obj:find("cjson") then return "lua-cjson" end
  if obj:find("socket") then return "LuaSocket" end
  if obj:find("/libc%.so") then
    if file == "malloc.c" or fn:find("alloc") or fn:find("free") or fn:find("_int_") then
      return "libc malloc/free/realloc"
    end
    if fn:find("mem") or fn:find("str") then return "libc memcpy/memchr/str*" end
    return "libc other (syscall wrappers, poll)"
  end
  if obj:find("/lua5%.4$") or obj:find("/luajit$") then
    for _, w in ipairs(GC_WORDS) do
      if fn:find(w, 1, true) then return "Lua collector" end
    end
    if fn:find("^lj_opt") or fn:find("^lj_record") or fn:find("^lj_asm") or fn:find("^lj_trace")
      or fn:find("^lj_snap") or fn:find("^lj_ir") or fn:find("^lj_mcode") or fn:find("^rec_")
      or fn:find("^asm_") then
      return "LuaJIT trace compiler"
    end
    if fn == "l_alloc" or fn:find("^luaM_") or fn:find("^lj_alloc") or fn:find("^lj_mem") then
      return "Lua allocator glue (LuaJIT: its own allocator)"
    end
    if fn:find("^luaH_") or fn:find("^lj_tab") or fn == "rehash" or fn == "numusehash"
      or fn == "setnodevector" or fn == "insertkey" then
      return "Lua tables (luaH_*, lj_tab_*)"
    end
    if fn:find("^luaS_") or fn:find("^lj_str") or fn == "internshrstr" then return "Lua strings" end
    if fn:find("^lua_") or fn:find("^luaL_") or fn == "index2value" or fn:find("^lj_api") then
      return "Lua C API (lua_push*, lua_set*)"
    end
    return VM
  end
  if obj == "???" or obj == "" then return VM end
  return "other (" .. obj .. ")"
end

-- Net self cost per page of each function of a client's runs.
local function profile(lua, client)
  local large = functions(string.format("%s/cg.%s.%s.%d", tmp, lua, client, LARGE))
  local small = functions(string.format("%s/cg.%s.%s.%d", tmp, lua, client, SMALL))
  local net = {}
  for key, n in pairs(large) do net[key] = (n - (small[key] or 0)) / (LARGE - SMALL) end
  for key, n in pairs(small) do
    if not large[key] then net[key] = -n / (LARGE - SMALL) end
  end
  return net
end

local function report(title, prof, top_n, skip)
  local total, cats, fns = 0, {}, {}
  for key, n in pairs(prof) do
    local fn, file, obj = key:match("^(.-)\t(.-)\t(.*)$")
    local cat = category(fn, file, obj)
    cats[cat] = (cats[cat] or 0) + n
    total = total + n
    local where = (file ~= "" and file ~= "???") and file or CSRC[(fn:gsub("%..*$", ""))]
      or obj:gsub("^.*/", "")
    fns[#fns + 1] = { name = fn .. " (" .. where .. ")", n = n }
  end
  print(string.format("\n%s: %.0f instructions per page", title, total))
  local list = {}
  for cat, n in pairs(cats) do list[#list + 1] = { cat, n } end
  table.sort(list, function(a, b) return math.abs(a[2]) > math.abs(b[2]) end)
  for _, c in ipairs(list) do
    if math.abs(c[2] / total) >= 0.005 then
      print(string.format("  %-62s %10.0f %5.1f%%", c[1], c[2], 100 * c[2] / total))
    end
  end
  if skip then                -- leave out attribution jitter inside one category
    local kept = {}
    for _, f in ipairs(fns) do if not skip(f.name) then kept[#kept + 1] = f end end
    fns = kept
  end
  table.sort(fns, function(a, b) return a.n > b.n end)
  print("  top functions" .. (skip and " (outside the C decoder)" or "") .. ":")
  for i = 1, math.min(top_n, #fns) do
    print(string.format("    %-60s %10.0f", fns[i].name, fns[i].n))
  end
end

for _, lua in ipairs { "lua5.4", "luajit" } do
  local how = HOST[lua] == lua and "stock interpreter: no Lua symbols" or "bench/cghost.c"
  for _, client in ipairs(BREAKDOWN) do
    report(string.format("where the instructions go: %s, %s (%s; self cost, net of %d pages)",
      lua, LABEL[client], how, SMALL), profile(lua, client), 12)
  end
  -- What customers:all{} adds to a plain loop of client:call():wait().
  local diff, hc, calls = {}, profile(lua, "helpcrunch"), profile(lua, "calls")
  for key, n in pairs(hc) do diff[key] = n - (calls[key] or 0) end
  for key, n in pairs(calls) do if not hc[key] then diff[key] = -n end end
  report(string.format("what the pager adds: %s, customers:all{} minus the client:call():wait() loop", lua),
    diff, 8, function(name) return name:find("%(json_") or name:find("%(customer%.c%)") end)
end
os.execute("rm -rf '" .. tmp .. "'")
