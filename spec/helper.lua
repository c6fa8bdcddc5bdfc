--- Shared by every spec: module paths for the checkout's build, the mock
-- server started on a free loopback port, and a client pointed at it.
-- Loaded by busted as the helper (see .busted) and required by specs:
--     local H = require "spec.helper"
--     local mock = H.mock { customers = 300 }   -- stop it in teardown
--     local client = H.client(mock)

local build = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+") and
  ("lua" .. _VERSION:match("%d+%.%d+"))
if not package.path:find("lua/?.lua;", 1, true) then
  package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
end
-- HELPCRUNCH_BUILD picks another build of the core (tools/sanitize.sh: build/asan).
local build_dir = os.getenv("HELPCRUNCH_BUILD") or ("build/" .. build)
if not package.cpath:find(build_dir .. "/", 1, true) then
  package.cpath = build_dir .. "/?.so;" .. package.cpath
end

-- An aggressive collector (set by tools/valgrind.sh) shakes out any
-- use-after-free in the core.
if os.getenv("HELPCRUNCH_GC_STRESS") == "1" then
  if _VERSION == "Lua 5.4" then collectgarbage("incremental", 10, 400)
  else collectgarbage("setpause", 10) end
end

local H = {}

--- The token every test client sends (long enough to be scrubbed).
H.TOKEN = "test-token-0123456789abcdef"

--- The interpreter running this spec, for the mock to run under too.
H.LUA = build == "luajit" and "luajit" or "lua5.4"

--- Start a mock (helpcrunch.mock.spawn options); stop it with mock:stop().
function H.mock(opts)
  opts = opts or {}
  if opts.quiet == nil then opts.quiet = true end
  if opts.lua == nil then opts.lua = H.LUA end
  return require("helpcrunch.mock.spawn").start(opts)
end

--- A client for the mock: rate limit off and no retries unless given.
function H.client(mock, opts)
  local o = { token = H.TOKEN, base_url = mock.url, rate_limit = false, max_retries = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("helpcrunch").new(o)
end

--- For a describe block: the setup and teardown that start a mock and a
-- client for its tests and stop them after. `set(mock, client)` receives
-- them (busted's setup/teardown exist only in the spec's own environment):
--     local mock, client
--     local start, stop = H.serve({ customers = 300 }, nil, function(m, c) mock, client = m, c end)
--     setup(start)
--     teardown(stop)
function H.serve(mock_opts, client_opts, set)
  local mock, client
  local function start()
    mock = H.mock(mock_opts)
    client = H.client(mock, client_opts)
    set(mock, client)
  end
  local function stop()
    if client then client:close() end
    if mock then mock:stop() end
  end
  return start, stop
end

--- A deterministic generator (Park-Miller, exact in doubles, so the same
-- sequence under Lua 5.4 and LuaJIT): r() a number, r(n) one of 1..n.
function H.rng(seed)
  local s = seed
  return function(n)
    s = s * 16807 % 2147483647
    if n then return s % n + 1 end
    return s
  end
end

--- The requests the mock logged (admin calls are never logged).
function H.requests(mock)
  return mock:log()
end

--- Read a file whole.
function H.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

return H
