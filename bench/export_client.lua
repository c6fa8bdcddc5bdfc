--- One export run, in its own process so its peak RSS is its own:
--     LUA bench/export_client.lua CLIENT BASE_URL
-- reads every customer of BASE_URL/customers (until the pages' total) and
-- prints "seconds customers peak_rss_mb requests cpu_seconds" (cpu: this
-- process's user + system time over the export, os.clock).
--
-- CLIENT:
--   helpcrunch   client.customers:all{} (curl transport, defaults: prefetch 1)
--   http         LuaSocket's socket.http + lua-cjson, offset/limit until the
--                total: what a user writes without this module. socket.http
--                opens a new connection per request (it has no keep-alive).
--   keepalive    the same pages over ONE LuaSocket keep-alive connection (a
--                raw HTTP/1.1 GET loop reading Content-Length bodies) + lua-cjson:
--                the fair baseline, what a user who cares about speed writes.
--   fetch        the keep-alive loop without decoding: what the server and
--                the loopback alone cost (the floor).
-- Layers of this client, for bench/export_callgrind.lua (pages 0, 100, ...):
--   core_raw     helpcrunch.core's engine: start, wait, collect(decode=false)
--   core_decode  the same with the C decoder (collect(decode=true))
--   calls        client:call("GET", ...):wait() per page: + the pipeline
local common = dofile("bench/common.lua")
local which, base = arg[1], arg[2]
local LIMIT = 100
local TOKEN = "bench-token"

local function touch(data, ids)
  for i = 1, #data do ids = ids + (data[i].id % 7) end   -- touch every customer
  return ids
end

local clients = {}

function clients.helpcrunch()
  local client = require("helpcrunch").new {
    token = TOKEN, base_url = base .. "/v1", rate_limit = false, page_size = LIMIT,
  }
  local n, ids = 0, 0
  for c in client.customers:all {} do
    n = n + 1
    ids = ids + (c.id % 7)
  end
  -- Requests: pages at offsets 0, 99, 198, ... until one reaches the total.
  return n, n <= LIMIT and 1 or math.ceil((n - LIMIT) / (LIMIT - 1)) + 1
end

function clients.http()
  local http, ltn12, cjson = require "socket.http", require "ltn12", require "cjson"
  local n, offset, ids, requests = 0, 0, 0, 0
  local total
  repeat
    local out = {}
    local _, code = http.request {
      url = base .. "/v1/customers?offset=" .. offset .. "&limit=" .. LIMIT,
      headers = { authorization = "Bearer " .. TOKEN }, sink = ltn12.sink.table(out),
    }
    assert(code == 200, "HTTP " .. tostring(code))
    requests = requests + 1
    local page = cjson.decode(table.concat(out))
    total = page.total
    ids = touch(page.data, ids)
    n = n + #page.data
    offset = offset + LIMIT
  until offset >= total
  return n, requests
end

-- One keep-alive connection; GET returns the body (Content-Length only:
-- nginx sends static files with one).
local function keepalive_get()
  local socket = require "socket"
  local host, port = base:match("^http://([^:/]+):(%d+)")
  local sock = assert(socket.connect(host, tonumber(port)))
  sock:setoption("tcp-nodelay", true)
  return function(target)
    assert(sock:send("GET " .. target .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port
      .. "\r\nAuthorization: Bearer " .. TOKEN .. "\r\nAccept: application/json\r\n\r\n"))
    local status = assert(sock:receive("*l"))
    assert(status:match("^HTTP/1%.1 200"), status)
    local length
    while true do
      local line = assert(sock:receive("*l"))
      if line == "" then break end
      local v = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
      if v then length = tonumber(v) end
    end
    assert(length, "no Content-Length")
    return assert(sock:receive(length))
  end
end

local function keepalive_loop(decode)
  local cjson = require "cjson"
  local get = keepalive_get()
  local n, offset, ids, requests = 0, 0, 0, 0
  local total
  repeat
    local body = get("/v1/customers?offset=" .. offset .. "&limit=" .. LIMIT)
    requests = requests + 1
    if decode then
      local page = cjson.decode(body)
      total = page.total
      ids = touch(page.data, ids)
      n = n + #page.data
    else                                 -- the page files' counts, unread
      if offset == 0 then total = tonumber(body:match('^{"total":(%d+)')) end
      n = n + math.min(LIMIT, total - offset)
    end
    offset = offset + LIMIT
  until offset >= total
  return n, requests
end

function clients.keepalive() return keepalive_loop(true) end
function clients.fetch() return keepalive_loop(false) end

-- The layers below customers:all{}: the same pages (0, 100, ...) one after
-- the other, no prefetch.
local function core_loop(decode)
  local core = require "helpcrunch.core"
  local engine = core.new { token = TOKEN, user_agent = "bench" }
  local n, offset, ids, requests = 0, 0, 0, 0
  local total
  repeat
    local req = engine:start("GET", base .. "/v1/customers?offset=" .. offset .. "&limit=" .. LIMIT)
    engine:wait(req)
    local facts = engine:collect(req, decode)
    req:close()
    assert(facts.status == 200, tostring(facts.failure or facts.status))
    requests = requests + 1
    if decode then
      total = facts.body.total
      ids = touch(facts.body.data, ids)
      n = n + #facts.body.data
    else
      if offset == 0 then total = tonumber(facts.raw:match('^{"total":(%d+)')) end
      n = n + math.min(LIMIT, total - offset)
    end
    offset = offset + LIMIT
  until offset >= total
  engine:close()
  return n, requests
end

function clients.core_raw() return core_loop(false) end
function clients.core_decode() return core_loop(true) end

function clients.calls()
  local client = require("helpcrunch").new {
    token = TOKEN, base_url = base .. "/v1", rate_limit = false, page_size = LIMIT,
  }
  local n, offset, ids, requests = 0, 0, 0, 0
  local total
  repeat
    local body = assert(client:call("GET", "/customers",
      { query = "offset=" .. offset .. "&limit=" .. LIMIT }):wait())
    requests = requests + 1
    total = body.total
    ids = touch(body.data, ids)
    n = n + #body.data
    offset = offset + LIMIT
  until offset >= total
  return n, requests
end

local run = assert(clients[which], "unknown client " .. tostring(which))
-- Each client's modules are loaded before the clock starts (and only its
-- own: libcurl's mappings would count in a baseline's peak RSS).
local MODULES = {
  helpcrunch = { "helpcrunch" }, calls = { "helpcrunch" },
  core_raw = { "helpcrunch.core" }, core_decode = { "helpcrunch.core" },
  http = { "socket.http", "ltn12", "cjson" }, keepalive = { "socket", "cjson" },
  fetch = { "socket", "cjson" },
}
for _, m in ipairs(MODULES[which]) do require(m) end
local t0, c0 = common.now(), os.clock()
local n, requests = run()
local dt, cpu = common.now() - t0, os.clock() - c0
print(string.format("%.4f %d %.1f %d %.4f", dt, n, common.peak_rss_mb() or -1, requests, cpu))
