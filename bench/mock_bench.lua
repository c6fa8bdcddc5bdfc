--- Benchmark: list pages per second from helpcrunch-mock over one keep-alive connection.
--
-- Usage (from the checkout):
--   lua5.4 bench/mock_bench.lua [SECONDS] [CUSTOMERS]
--   luajit bench/mock_bench.lua
-- Starts the mock (with the same interpreter), then requests
-- GET /v1/customers?offset=O&limit=100 in a loop for SECONDS (default 3), cycling O over
-- every page, with a raw LuaSocket client that reads Content-Length bodies. Prints
-- requests/s and MB/s and exits non-zero when below the bar of 2,000 requests/s.

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local socket = require "socket"
local spawn = require "helpcrunch.mock.spawn"

local SECONDS = tonumber(arg and arg[1]) or 3
local CUSTOMERS = tonumber(arg and arg[2]) or 10000
local BAR = 2000

local mock = spawn.start { customers = CUSTOMERS, seed = 1, token = "bench" }
local ok, err = pcall(function()
  local sock = assert(socket.connect("127.0.0.1", mock.port))
  sock:setoption("tcp-nodelay", true)
  sock:settimeout(10)
  local pages = math.floor(CUSTOMERS / 100)
  local requests, bytes, customers = 0, 0, 0
  local function one(offset)
    assert(sock:send("GET /v1/customers?offset=" .. offset .. "&limit=100 HTTP/1.1\r\n" ..
      "Host: 127.0.0.1\r\nAuthorization: Bearer bench\r\nAccept: application/json\r\n\r\n"))
    local status = assert(sock:receive("*l"))
    assert(status:find("^HTTP/1%.1 200 "), status)
    local length
    while true do
      local line = assert(sock:receive("*l"))
      if line == "" then break end
      local n = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
      if n then length = tonumber(n) end
    end
    local body = assert(sock:receive(length))
    return #body
  end
  for i = 0, 9 do one(i * 100) end   -- warm the caches (sorted order, encoded customers)
  local start = socket.gettime()
  local deadline = start + SECONDS
  local page = 0
  while socket.gettime() < deadline do
    for _ = 1, 50 do
      bytes = bytes + one(page * 100)
      requests = requests + 1
      customers = customers + 100
      page = (page + 1) % pages
    end
  end
  local elapsed = socket.gettime() - start
  sock:close()
  local rps = requests / elapsed
  print(string.format("interpreter: %s (mock and client), customers: %d, limit: 100, keep-alive, 1 connection",
    mock.lua, CUSTOMERS))
  print(string.format("requests: %d in %.2f s", requests, elapsed))
  print(string.format("requests/s: %.0f", rps))
  print(string.format("MB/s: %.1f (avg body %.1f KB)", bytes / elapsed / 1e6, bytes / requests / 1e3))
  print(string.format("customers/s: %.0f", customers / elapsed))
  print(string.format("bar: >= %d requests/s: %s", BAR, rps >= BAR and "PASS" or "FAIL"))
  return rps >= BAR
end)
mock:stop()
if not ok then
  io.stderr:write("bench failed: ", tostring(err), "\n")
  os.exit(1)
end
os.exit(err and 0 or 1)
