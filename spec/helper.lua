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
--
-- Anywhere in the suite, an error a test client's call returns (iterators
-- raise the same objects) or an event it emits that still holds the token, or
-- a piece of it 8 characters or longer, fails the test that provoked it.
function H.client(mock, opts)
  local o = { token = H.TOKEN, base_url = mock.url, rate_limit = false, max_retries = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  local token, hook = o.token, o.on_request
  o.on_request = function(e)
    H.assert_no_secret(e, token)
    if hook then return hook(e) end
  end
  local client = require("helpcrunch").new(o)
  local call = client.call
  client.call = function(self, ...)
    local c = call(self, ...)
    local wait = c.wait
    c.wait = function(cc, ...)
      local body, err = wait(cc, ...)
      if body == nil then H.assert_no_secret(err, token) end
      return body, err
    end
    return c
  end
  return client
end

--- Raise if any string reachable from v (keys, values, nested tables) holds
-- the secret, or (for secrets of 8 characters or more) any 8-character
-- piece of it: a message cut off inside the token would still leak it.
-- Secrets of one or two characters are letters of the client's own words
-- ("empty_reply" holds a "t"): those are checked by spec/token_spec.lua.
function H.assert_no_secret(v, secret)
  if #secret < 3 then return end
  local pieces = #secret >= 8 and #secret - 7 or 1
  for _, s in ipairs(H.strings_of(v)) do
    for i = 1, pieces do
      local piece = #secret >= 8 and secret:sub(i, i + 7) or secret
      if s:find(piece, 1, true) then
        error("the token (or a piece of it) leaked into: " .. s, 2)
      end
    end
  end
end

--- Every string reachable from v: keys and values of nested tables, and the
-- tostring of every error object among them.
function H.strings_of(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    if require("helpcrunch").is_error(v) then out[#out + 1] = tostring(v) end
    for k, x in pairs(v) do
      H.strings_of(k, out, seen)
      H.strings_of(x, out, seen)
    end
  end
  return out
end

--- A programmer error: fn must raise a message holding every one of the
-- plain texts `...`, and the mock must have received nothing. The message.
function H.raises_unsent(mock, fn, ...)
  local check = require "luassert"
  local ok, err = pcall(fn)
  check.is_false(ok, "expected an error")
  local msg = tostring(err)
  for _, want in ipairs { ... } do
    check.truthy(msg:find(want, 1, true), "message lacks '" .. want .. "': " .. msg)
  end
  check.equal(0, #mock:log(), "a request was sent")
  return msg
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

--- A virtual clock for the client's `clock` option: time moves only when
-- the client sleeps (sleep returns at once), so tests of waits, backoff and
-- the limiter run in virtual time. `clock.naps` lists every sleep asked for.
function H.clock(start)
  local clock = { t = start or 1000, naps = {} }
  function clock.now() return clock.t end
  function clock.sleep(s)
    clock.naps[#clock.naps + 1] = s
    if s > 0 then clock.t = clock.t + s end
  end
  return clock
end

--- A rate-limit store that limits nothing and counts the attempts the client
-- started (`store.starts`): what was sent, without waiting for the server.
function H.counting_store()
  local store = { starts = 0, times = {} }
  function store.take(_, _, _, now)
    store.starts = store.starts + 1
    store.times[store.starts] = now
    return 0
  end
  function store.hold() return true end
  return store
end

--- The requests the mock logged (admin calls are never logged).
function H.requests(mock)
  return mock:log()
end

--- The logged requests for one API path (`"/chats/7"`: under `/v1`).
function H.sent(mock, path)
  local out = {}
  for _, e in ipairs(H.requests(mock)) do
    if e.path == "/v1" .. path then out[#out + 1] = e end
  end
  return out
end

--- An integer value: a Lua integer on 5.3+, an integral double on LuaJIT and 5.1.
function H.assert_integer(v, what)
  local check = require "luassert"         -- busted's assert (the specs' global)
  check.is_number(v, what)
  if math.type then
    check.equal("integer", math.type(v), (what or "value") .. " must be a Lua integer")
  else
    check.equal(math.floor(v), v, what)
  end
end

--- Read a file whole.
function H.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

return H
