--- The Lua side of spec/hosts/nginx_spec.lua: runs inside nginx (LuaJIT,
-- the ngx transport) and answers the spec's requests with JSON. Each
-- handler reads its arguments from the query string (`?op=get&id=5`).
--
--     init_by_lua_block { require("spec.hosts.ngx_app").configure { base_url = ..., token = ... } }
--     location /api { content_by_lua_block { require("spec.hosts.ngx_app").api() } }

local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"

local ngx = rawget(_G, "ngx")

local M = {}

local conf = {}

--- The base URL and token of the mock, given in init_by_lua.
function M.configure(o)
  conf = o
end

-- A clock that moves only when the client sleeps (backoff without waiting).
local function virtual_clock()
  local clock = { t = 1000 }
  function clock.now() return clock.t end
  function clock.sleep(s) clock.t = clock.t + s end
  return clock
end

--- A client for the mock: no rate limit, no retries, unless `o` says.
function M.client(o)
  local opts = { token = conf.token, base_url = conf.base_url, rate_limit = false,
                 max_retries = 0 }
  for k, v in pairs(o or {}) do opts[k] = v end
  if opts.clock == "virtual" then opts.clock = virtual_clock() end
  return helpcrunch.new(opts)
end

--- An error as plain data (every field, and how it prints).
function M.plain_error(err)
  if type(err) ~= "table" then return { raised = tostring(err) } end
  local t = { text = tostring(err) }
  for k, v in pairs(err) do t[k] = v end
  if t.errors and #t.errors == 0 then t.errors = nil end   -- {} would encode as an object
  return t
end

local function ids(list)
  local out = {}
  for i, c in ipairs(list) do out[i] = c.id end
  return out
end

-- ---- the disallowed phases ----------------------------------------------------------

-- Made in init_by_lua: used later in the content phase.
local early_client

--- Try every kind of call in this phase; store what happened in the
-- `results` shared dict under the phase name, and return it as JSON.
function M.in_phase(phase)
  local out = { phase = ngx.get_phase() }
  local ok, c = pcall(M.client)
  out.created = ok
  if not ok then
    out.create_error = tostring(c)
  else
    if phase == "init" then early_client = c end
    local calls = {
      get = function() return c.customers:get(1) end,
      list = function() return c.customers:list { limit = 5 } end,
      search = function() return c.customers:search():where("email", "~", "a"):page { limit = 5 } end,
      create = function() return c.customers:create { name = "Phase" } end,
    }
    for name, call in pairs(calls) do
      local pok, v, err = pcall(call)
      out[name] = { raised = not pok, value = pok and v ~= nil or nil,
                    err = M.plain_error(pok and err or v) }
    end
    local pok, err = pcall(function() for _ in c.customers:all() do end end)
    out.all = { raised = not pok, err = M.plain_error(err) }
  end
  local json = core.encode(out)
  ngx.shared.results:set(phase, json)
  return json
end

-- ---- content-phase handlers: ?op=NAME -----------------------------------------------

local ops = {}

function ops.get(args)
  local c, err = M.client():call("GET", "/customers/" .. args.id):wait()
  if not c then return { err = M.plain_error(err) } end
  return { id = c.id }
end

function ops.list(args)
  local page, err = M.client().customers:list { offset = tonumber(args.offset or 0),
                                                limit = tonumber(args.limit or 10) }
  if not page then return { err = M.plain_error(err) } end
  return { ids = ids(page.data), total = page.total }
end

function ops.all(args)
  local out = {}
  local client = M.client { page_size = tonumber(args.page_size or 100) }
  for c in client.customers:all { max = tonumber(args.max) } do out[#out + 1] = c.id end
  return { ids = out, transport = client.transport.name }
end

function ops.search(args)
  local q = M.client().customers:search():where("email", "~", args.q or "gmail")
  local page, err = q:page { limit = 50 }
  if not page then return { err = M.plain_error(err) } end
  local each = {}
  for c in q:each() do each[#each + 1] = c.id end
  return { ids = ids(page.data), total = page.total, each = each }
end

function ops.create(args)
  local c, err = M.client().customers:create { name = args.name or "Created" }
  if not c then return { err = M.plain_error(err) } end
  return { id = c.id }
end

-- The client made in init_by_lua, used here.
function ops.early(args)
  if not early_client then return { err = { raised = "no client from init_by_lua" } } end
  local c, err = early_client.customers:get(tonumber(args.id))
  if not c then return { err = M.plain_error(err) } end
  return { id = c.id, transport = early_client.transport.name }
end

-- A request from an ngx.timer.at callback; the handler waits on a semaphore.
function ops.timer(args)
  local sema = require("ngx.semaphore").new(0)
  local out = {}
  local ok, err = ngx.timer.at(0, function()
    out.phase = ngx.get_phase()
    local client = M.client()
    local c, e = client.customers:get(tonumber(args.id))
    out.id = c and c.id
    out.err = e and M.plain_error(e)
    local n = 0
    for _ in client.customers:all { max = 150 } do n = n + 1 end
    out.all = n
    sema:post(1)
  end)
  if not ok then return { err = { raised = err } } end
  if not sema:wait(20) then return { err = { raised = "the timer did not finish" } } end
  return out
end

-- Two light threads, one client, two requests in flight at once.
function ops.threads(args)
  local client = M.client()
  local function get(id)
    local c, err = client.customers:get(tonumber(id))
    return c and c.id or M.plain_error(err)
  end
  local a = ngx.thread.spawn(get, args.a)
  local b = ngx.thread.spawn(get, args.b)
  local _, ra = ngx.thread.wait(a)
  local _, rb = ngx.thread.wait(b)
  return { a = ra, b = rb }
end

-- Two calls started before either is waited for, in one coroutine (as the
-- pager's prefetch does): both in flight at once.
function ops.overlap(args)
  local client = M.client()
  local a = client:call("GET", "/customers/" .. args.a)
  local b = client:call("GET", "/customers/" .. args.b)
  a:start()
  b:start()
  local ca, ea = a:wait()
  local cb, eb = b:wait()
  return { a = ca and ca.id or M.plain_error(ea), b = cb and cb.id or M.plain_error(eb),
           pending = client.transport:pending() }
end

-- A call cancelled in flight, then the client used again.
function ops.cancel(args)
  local client = M.client()
  local a = client:call("GET", "/customers/" .. args.a)
  ngx.shared.results:delete("go")
  a:start()
  while not ngx.shared.results:get("go") do ngx.sleep(0.005) end   -- the spec saw it held
  a:cancel()
  local pending = client.transport:pending()
  local c, err = client.customers:get(tonumber(args.b))
  return { pending = pending, b = c and c.id or M.plain_error(err) }
end

function ops.go()
  ngx.shared.results:set("go", true)
  return {}
end

-- A call started in the handler and waited for in a light thread (not the
-- coroutine that started it).
function ops.crosswait(args)
  local client = M.client()
  local a = client:call("GET", "/customers/" .. args.a)
  a:start()
  local t = ngx.thread.spawn(function()
    local c, err = a:wait()
    return c and c.id or M.plain_error(err)
  end)
  local _, id = ngx.thread.wait(t)
  return { a = id }
end

-- n requests through one client (keep-alive within a client).
function ops.many(args)
  local client = M.client()
  local got = {}
  for i = 1, tonumber(args.n) do
    local c = client.customers:list { offset = i, limit = 1 }
    got[#got + 1] = c and c.data[1].id or false
  end
  return { got = got }
end

-- One case of the error parity spec: see nginx_spec.lua.
function ops.error(args)
  local o = { max_retries = tonumber(args.retries or 0), clock = "virtual",
              timeout = tonumber(args.timeout), max_response_bytes = tonumber(args.max_body) }
  if args.base then o.base_url = args.base end
  if args.verify == "0" then o.verify_tls = false end
  local client = M.client(o)
  local v, err
  if args.write then
    v, err = client.customers:create { name = "Parity" }
  else
    v, err = client:call("GET", args.path):wait()
  end
  return { ok = v ~= nil, id = type(v) == "table" and v.id or nil, err = err and M.plain_error(err) }
end

-- The slow/fast pair: each answer says in which order it finished.
function ops.ordered(args)
  local client = M.client { transport = args.transport }
  local c, err = client.customers:get(tonumber(args.id))
  return { id = c and c.id, err = err and M.plain_error(err),
           seq = ngx.shared.results:incr("seq", 1, 0) }
end

-- A fast request's latency, n times (bench/transport_bench.lua).
function ops.bench(args)
  local client = M.client()
  local times = {}
  for i = 1, tonumber(args.n) do
    local t0 = core.now()
    assert(client.customers:get(tonumber(args.id)))
    times[i] = core.now() - t0
  end
  return { times = times }
end

--- The content handler of /api.
function M.api()
  local args = ngx.req.get_uri_args()
  local op = ops[args.op]
  local ok, out = pcall(op or error, args)
  if not ok then out = { err = { raised = tostring(out) } } end
  ngx.header["Content-Type"] = "application/json"
  ngx.print(core.encode(out))
end

--- A fake API answering chunked (or closing to end the body), for the
-- transport's body readers: /fake/v1/customers/ID.
function M.fake()
  local id = tonumber(ngx.var.uri:match("/customers/(%d+)$"))
  local body = core.encode { id = id, name = string.rep("x", 3000), email = "fake@example.com" }
  ngx.header["Content-Type"] = "application/json"
  if ngx.var.arg_encoding then ngx.header["Content-Encoding"] = ngx.var.arg_encoding end
  for i = 1, #body, 1000 do
    ngx.print(body:sub(i, i + 999))
    ngx.flush(true)
  end
end

return M
