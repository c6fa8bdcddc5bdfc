-- The client inside OpenResty (Debian's nginx with the Lua module, LuaJIT):
-- the ngx transport (cosockets, light threads, keep-alive pools, TLS), every
-- disallowed phase, errors in the same shape as the curl transport's, and a
-- slow request that does not hold the worker. The spec only talks HTTP to
-- nginx and the mock, so it runs under any busted Lua.

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local H = require "spec.helper"
local nginx = require "spec.hosts.nginx"

local available, why = nginx.available()

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The handlers are spec/hosts/ngx_app.lua; ?op=NAME picks one.
local SERVER = [[
    location /api { content_by_lua_block { require("spec.hosts.ngx_app").api() } }
    location /fake/ { content_by_lua_block { require("spec.hosts.ngx_app").fake() } }
    location /fake-close/ {
      chunked_transfer_encoding off;
      content_by_lua_block { require("spec.hosts.ngx_app").fake() }
    }
    location = /example/customers {
      content_by_lua_block { require("examples.openresty.customers_page").list() }
    }
    location ~ ^/example/customers/(\d+)$ {
      content_by_lua_block { require("examples.openresty.customers_page").show(ngx.var[1]) }
    }
    location /result { content_by_lua_block { ngx.print(ngx.shared.results:get(ngx.var.arg_phase) or "") } }
    location /set {
      set_by_lua_block $result { return require("spec.hosts.ngx_app").in_phase("set") }
      content_by_lua_block { ngx.print(ngx.var.result) }
    }
    location /header_filter {
      content_by_lua_block { ngx.print("body") }
      header_filter_by_lua_block {
        ngx.header["X-Result"] = require("spec.hosts.ngx_app").in_phase("header_filter")
      }
    }
    location /body_filter {
      content_by_lua_block { ngx.print("body") }
      body_filter_by_lua_block {
        if ngx.arg[2] then require("spec.hosts.ngx_app").in_phase("body_filter") end
      }
    }
    location /log {
      content_by_lua_block { ngx.print("body") }
      log_by_lua_block { require("spec.hosts.ngx_app").in_phase("log") }
    }
]]

local function http_block(mock_url, extra)
  return string.format([[
    lua_shared_dict results 1m;
    init_by_lua_block {
      local app = require "spec.hosts.ngx_app"
      app.configure { base_url = %q, token = %q }
      app.in_phase("init")
    }
    init_worker_by_lua_block { require("spec.hosts.ngx_app").in_phase("init_worker") }
    %s
  ]], mock_url, H.TOKEN, extra or "")
end

local function decode(text)
  local v = json.decode(text or "")
  assert(type(v) == "table", "not JSON: " .. tostring(text))
  return v
end

-- GET /api?op=...; the decoded answer.
local function api(srv, query)
  local status, body = srv:request("/api?" .. query)
  assert(status == 200, "GET /api?" .. query .. ": " .. tostring(status) .. " " .. tostring(body)
    .. "\n" .. srv:log():sub(-2000))
  return decode(body)
end

-- Poll until f() is true (a deterministic state, not a duration); false on
-- the deadline.
local function eventually(f, seconds)
  local deadline = socket.gettime() + (seconds or 10)
  repeat
    if f() then return true end
    socket.sleep(0.005)
  until socket.gettime() > deadline
  return false
end

local describe_host = available and describe or function(name, _)
  describe(name, function() pending("host spec skipped: " .. why) end)
end

describe_host("OpenResty: the ngx transport #host", function()
  local mock, srv

  lazy_setup(function()
    assert(file_exists("build/luajit/helpcrunch/core.so"),
      "nginx needs the LuaJIT build: make LUA=luajit")
    mock = H.mock { customers = 300, token = H.TOKEN }
    srv = nginx.start { http = http_block(mock.url), server = SERVER, workers = 1,
      main = "env HELPCRUNCH_API_KEY=" .. H.TOKEN .. "; env HELPCRUNCH_BASE_URL=" .. mock.url .. ";" }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if mock then mock:stop() end
  end)

  before_each(function() mock:reset() end)

  describe("in the content phase", function()
    it("gets, lists, iterates and searches with the right ids and counts", function()
      local page = api(srv, "op=list&offset=0&limit=10")
      assert.are.equal(10, #page.ids)
      assert.are.equal(300, page.total)
      local one = api(srv, "op=get&id=" .. page.ids[3])
      assert.are.equal(page.ids[3], one.id)
      local all = api(srv, "op=all&page_size=40")
      assert.are.equal("ngx", all.transport)
      assert.are.equal(300, #all.ids)
      local seen = {}
      for _, id in ipairs(all.ids) do
        assert.is_nil(seen[id], "yielded twice: " .. id)
        seen[id] = true
      end
      local found = api(srv, "op=search&q=gmail")
      assert.is_true(found.total > 0)
      assert.are.equal(math.min(found.total, 50), #found.ids)
      assert.are.equal(found.total, #found.each)
    end)

    it("uses a client made in init_by_lua", function()
      local page = api(srv, "op=list&limit=1")
      local got = api(srv, "op=early&id=" .. page.ids[1])
      assert.are.equal(page.ids[1], got.id)
      assert.are.equal("ngx", got.transport)
    end)

    it("reads chunked bodies and bodies ended by closing the connection", function()
      local _, _, h = srv:request("/fake/v1/customers/1")
      assert.are.equal("chunked", h["transfer-encoding"])
      _, _, h = srv:request("/fake-close/v1/customers/1")
      assert.is_nil(h["transfer-encoding"] or h["content-length"])
      for _, base in ipairs { "/fake/v1", "/fake-close/v1" } do
        local got = api(srv, "op=error&path=/customers/42&base=" .. srv.url .. base)
        assert.is_true(got.ok, base .. ": " .. json.encode(got.err or {}))
        assert.are.equal(42, got.id)
        got = api(srv, "op=error&path=/customers/42&max_body=1024&base=" .. srv.url .. base)
        assert.are.equal("too_large", got.err.code, base)
      end
    end)

    it("refuses a compressed body it did not ask for", function()
      local got = api(srv, "op=error&path=/customers/42%3Fencoding=gzip&base=" .. srv.url .. "/fake/v1")
      assert.are.equal("bad_content_encoding", got.err.code)
    end)

    it("sends the headers the C core sends, without asking for compression", function()
      local client = H.client(mock)
      assert(client.customers:list { limit = 1 })
      assert(client.customers:create { name = "Curl" })
      client:close()
      api(srv, "op=list&limit=1")
      api(srv, "op=create&name=Ngx")
      local function names(entry)
        local t = {}
        for k in pairs(entry.headers) do
          if k ~= "accept-encoding" and k ~= "connection" then t[#t + 1] = k end
        end
        table.sort(t)
        return table.concat(t, " ")
      end
      local log = mock:log()
      assert.are.equal(names(log[1]), names(log[3]))
      assert.are.equal(names(log[2]), names(log[4]))
      assert.is_nil(log[3].headers["accept-encoding"])
      assert.is_nil(log[4].headers.expect)
      assert.are.equal("ok", log[3].auth)
      assert.truthy(log[3].headers["user-agent"]:find("^helpcrunch%-lua/.*ngx_lua"))
    end)

    it("creates over a connection of its own, never a pooled one", function()
      local page = api(srv, "op=list&limit=1")
      local created = api(srv, "op=create&name=Fresh")
      assert.is_number(created.id)
      assert.are.equal(301, mock:count())
      api(srv, "op=get&id=" .. page.ids[1])
      local log = mock:log()
      assert.are.same({ "GET", "POST", "GET" }, { log[1].method, log[2].method, log[3].method })
      assert.are_not.equal(log[1].conn, log[2].conn)
      assert.are.equal(log[1].conn, log[3].conn)   -- the pooled one, kept
    end)
  end)

  it("serves examples/openresty's customers page", function()
    local status, html = srv:request("/example/customers")
    assert.are.equal(200, status)
    assert.truthy(html:find("Customers 1-20 of 300", 1, true))
    local id = html:match("/customers/(%d+)")
    status, html = srv:request("/example/customers?q=gmail")
    assert.are.equal(200, status)
    assert.truthy(html:find("gmail", 1, true))
    local name = mock:customer(tonumber(id)).name
    status, html = srv:request("/example/customers/" .. id)
    assert.are.equal(200, status)
    local escaped = name:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                             ['"'] = "&quot;", ["'"] = "&#39;" })
    assert.truthy(html:find("<h1>" .. escaped .. "</h1>", 1, true), name)
    status, html = srv:request("/example/customers/99999999")
    assert.are.equal(404, status)
    assert.truthy(html:find("entity_not_found", 1, true))
  end)

  it("works in an ngx.timer.at callback", function()
    local page = api(srv, "op=list&limit=1")
    local got = api(srv, "op=timer&id=" .. page.ids[1])
    assert.are.equal("timer", got.phase)
    assert.are.equal(page.ids[1], got.id)
    assert.are.equal(150, got.all)
  end)

  for _, op in ipairs { "threads", "overlap" } do
    local what = op == "threads" and "two light threads" or "two calls of one coroutine"
    it("has the requests of " .. what .. " in flight at once", function()
      local page = api(srv, "op=list&limit=2")
      mock:fault { kind = "hold", count = 2, path = "/v1/customers/" }
      local conn = srv:send("/api?op=" .. op .. "&a=" .. page.ids[1] .. "&b=" .. page.ids[2])
      -- Both held at the mock at the same moment: they overlap.
      assert.is_true(eventually(function() return mock:held() == 2 end, 5),
        "the two requests were not in flight together (held: " .. mock:held() .. ")")
      assert.are.equal(2, mock:release())
      local status, body = conn:finish()
      assert.are.equal(200, status)
      local got = decode(body)
      assert.are.same({ page.ids[1], page.ids[2] }, { got.a, got.b })
      if got.pending then assert.are.equal(0, got.pending) end
    end)
  end

  it("cancels a request in flight and goes on", function()
    local page = api(srv, "op=list&limit=2")
    mock:fault { kind = "hold", path = "/v1/customers/" .. page.ids[1] }
    local conn = srv:send("/api?op=cancel&a=" .. page.ids[1] .. "&b=" .. page.ids[2])
    assert.is_true(eventually(function() return mock:held() == 1 end, 5), "not sent")
    api(srv, "op=go")
    local status, body = conn:finish()
    assert.are.equal(200, status)
    assert.are.same({ pending = 0, b = page.ids[2] }, decode(body))
    assert.are.equal(1, mock:release())
  end)

  it("lets another light thread wait for a call", function()
    local page = api(srv, "op=list&limit=1")
    assert.are.same({ a = page.ids[1] }, api(srv, "op=crosswait&a=" .. page.ids[1]))
  end)

  describe("keep-alive", function()
    it("reuses one connection for many requests of a client", function()
      local got = api(srv, "op=many&n=20")
      assert.are.equal(20, #got.got)
      assert.are.equal(1, mock:stats().connections)
    end)

    it("shares the worker's pool between clients made per request", function()
      local page = api(srv, "op=list&limit=20")
      for i = 1, 20 do
        assert.are.equal(page.ids[i], api(srv, "op=get&id=" .. page.ids[i]).id)
      end
      assert.are.equal(21, mock:stats().requests)
      assert.are.equal(1, mock:stats().connections)
    end)
  end)

  describe("in phases without cosockets", function()
    local function check(phase, text)
      local r = decode(text)
      assert.is_true(r.created, phase .. ": creating a client failed: " .. tostring(r.create_error))
      for _, name in ipairs { "get", "list", "search", "create", "all" } do
        local call = r[name]
        assert.are.equal(name == "all", call.raised, phase .. " " .. name .. " raised or did not")
        local err = call.err
        assert.are.equal("transport", err.kind, phase .. " " .. name)
        assert.are.equal("unsupported_phase", err.code, phase .. " " .. name)
        assert.truthy(err.message:find(phase, 1, true), err.message)
        assert.truthy(err.message:find("ngx.timer.at", 1, true), err.message)
        assert.are.equal(0, err.attempts)            -- nothing was sent
      end
    end

    it("init_by_lua and init_worker_by_lua return unsupported_phase", function()
      for _, phase in ipairs { "init", "init_worker" } do
        local _, text = srv:request("/result?phase=" .. phase)
        check(phase, text)
      end
    end)

    it("set_by_lua returns unsupported_phase", function()
      local _, text = srv:request("/set")
      check("set", text)
    end)

    it("header_filter_by_lua returns unsupported_phase", function()
      local status, _, headers = srv:request("/header_filter")
      assert.are.equal(200, status)
      check("header_filter", headers["x-result"])
    end)

    it("body_filter_by_lua and log_by_lua return unsupported_phase", function()
      for _, phase in ipairs { "body_filter", "log" } do
        local status = srv:request("/" .. phase)
        assert.are.equal(200, status)
        local text
        assert.is_true(eventually(function()
          text = select(2, srv:request("/result?phase=" .. phase))
          return text ~= ""
        end), phase .. ": no result")
        check(phase, text)
      end
      assert.are.equal(0, mock:stats().requests)       -- nothing was sent
    end)
  end)

  describe("errors in the shape of the curl transport's", function()
    local FIELDS = { "kind", "code", "status", "attempts", "method", "path", "retry_after",
                     "cause_code", "errors" }

    -- The same case through the curl transport here and the ngx one in nginx.
    local function both(case, query, opts)
      local o = { max_retries = opts.retries or 0, clock = H.clock(),
                  timeout = opts.timeout, max_response_bytes = opts.max_body }
      if opts.base then o.base_url = opts.base end
      local client = H.client(mock, o)
      local v, err
      if opts.write then v, err = client.customers:create { name = "Parity" }
      else v, err = client:call("GET", opts.path):wait() end
      client:close()
      if opts.between then opts.between() end
      local ngx_side = api(srv, "op=error&" .. query)
      assert.are.equal(v ~= nil, ngx_side.ok, case)
      if v ~= nil then return nil, nil end
      local a, b = {}, {}
      for _, f in ipairs(FIELDS) do
        a[f], b[f] = err[f], ngx_side.err[f]
      end
      if a.errors and #a.errors == 0 then a.errors = nil end
      assert.are.same(a, b, case)
      for _, text in ipairs { tostring(err), json.encode(ngx_side.err) } do
        assert.is_nil(text:find(H.TOKEN, 1, true), case .. ": the token leaked")
      end
      return err, ngx_side.err
    end

    it("a 404", function()
      local a, b = both("404", "path=/customers/99999", { path = "/customers/99999" })
      assert.are.equal("not_found", b.kind)
      assert.are.equal(a.message, b.message)
      assert.are.equal(tostring(a), b.text)
    end)

    it("a 500 retried until it passes, and one retried until attempts run out", function()
      mock:fault { kind = "500", count = 1 }
      both("500 once", "path=/customers?limit=1&retries=2", {
        path = "/customers?limit=1", retries = 2,
        between = function() mock:fault { kind = "500", count = 1 } end })
      local statuses = {}
      for i, e in ipairs(mock:log()) do statuses[i] = e.status end
      assert.are.same({ 500, 200, 500, 200 }, statuses)
      mock:reset()
      mock:fault { kind = "500", count = 3 }
      local _, b = both("500 always", "path=/customers?limit=1&retries=2", {
        path = "/customers?limit=1", retries = 2,
        between = function() mock:fault { kind = "500", count = 3 } end })
      assert.are.equal("server", b.kind)
      assert.are.equal(3, b.attempts)
    end)

    it("a write that got a 500 and one whose answer was dropped", function()
      mock:fault { kind = "500", method = "POST" }
      both("write 500", "write=1", { write = true,
        between = function() mock:fault { kind = "500", method = "POST" } end })
      mock:fault { kind = "drop", method = "POST" }
      local _, b = both("write dropped", "write=1", { write = true,
        between = function() mock:fault { kind = "drop", method = "POST" } end })
      assert.are.equal("outcome_unknown", b.code)
      assert.are.equal("empty_reply", b.cause_code)
    end)

    it("a refused connection", function()
      local base = "http://127.0.0.1:" .. nginx.free_port() .. "/v1"
      local _, b = both("refused", "path=/customers/1&base=" .. base, { path = "/customers/1", base = base })
      assert.are.equal("couldnt_connect", b.code)
    end)

    it("a timeout", function()
      mock:fault { kind = "hold", count = 2 }
      local _, b = both("timeout", "path=/customers/1&timeout=0.2", { path = "/customers/1", timeout = 0.2 })
      assert.are.equal("timeout", b.kind)
      mock:release()
    end)

    it("a body trickled slower than the timeout", function()
      local function trickle() mock:fault { kind = "trickle", bytes = 20, interval_ms = 100 } end
      trickle()
      -- The head comes at once, the body 20 bytes every 100 ms: several seconds.
      local _, b = both("trickle", "path=/customers?limit=5&timeout=1",
        { path = "/customers?limit=5", timeout = 1, between = trickle })
      assert.are.equal(200, b.status)
      assert.are.equal("timeout", b.code)
    end)

    it("a body over max_response_bytes, and a truncated one", function()
      both("too large", "path=/customers?limit=100&max_body=1024",
        { path = "/customers?limit=100", max_body = 1024 })
      mock:fault { kind = "truncate" }
      local _, b = both("truncated", "path=/customers?limit=5", { path = "/customers?limit=5",
        between = function() mock:fault { kind = "truncate" } end })
      assert.are.equal("partial_body", b.code)
    end)
  end)

  describe("a slow request", function()
    -- The slow one is held at the mock; the other must be answered by the
    -- same (only) worker meanwhile. Each answer carries its finishing order.
    local function race(transport, hold_ms)
      local page = api(srv, "op=list&limit=2")
      mock:fault { kind = "hold", path = "/v1/customers/" .. page.ids[1], delay_ms = hold_ms }
      local q = "op=ordered" .. (transport and ("&transport=" .. transport) or "")
      local slow = srv:send("/api?" .. q .. "&id=" .. page.ids[1])
      assert.is_true(eventually(function() return mock:held() == 1 end), "not held")
      local fast = srv:send("/api?" .. q .. "&id=" .. page.ids[2])
      return page, slow, fast
    end

    it("does not hold the worker: another request is answered first", function()
      local page, slow, fast = race(nil, 30000)
      local status, body = fast:finish(10)
      assert.are.equal(200, status)
      local f = decode(body)
      assert.are.equal(page.ids[2], f.id)
      assert.are.equal(1, mock:held())               -- the slow one is still held
      assert.is_false(slow:ready())
      mock:release()
      local s = decode(select(2, slow:finish()))
      assert.are.equal(page.ids[1], s.id)
      assert.is_true(f.seq < s.seq)
    end)

    it("(the control: the curl transport inside nginx holds the worker)", function()
      local page, slow, fast = race("curl", 1000)      -- released by the mock itself
      local s = decode(select(2, slow:finish()))
      local f = decode(select(2, fast:finish()))
      assert.are.equal(page.ids[1], s.id)
      assert.are.equal(page.ids[2], f.id)
      assert.is_true(s.seq < f.seq, "the worker was not held: the test cannot tell")
    end)
  end)

  it("left no Lua error, alert or crash in nginx's error log", function()
    local log = srv:log()
    for _, bad in ipairs { "runtime error", "thread aborted", "[alert]", "[crit]", "[emerg]",
                           "signal 11", "stack traceback" } do
      assert.is_nil(log:find(bad, 1, true), bad .. " in the error log:\n" .. log:sub(-3000))
    end
  end)
end)

-- TLS: nginx serves the API itself over https with certificates made here.
local has_openssl = os.execute("command -v openssl >/dev/null 2>&1")
has_openssl = has_openssl == true or has_openssl == 0

describe_host("OpenResty: the ngx transport over TLS #host", function()
  local dir, srv, ports

  -- A self-signed certificate for `san` (an openssl subjectAltName).
  local function make_cert(name, san)
    assert(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt "
      .. "ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=%s -addext "
      .. "'subjectAltName=%s' -keyout %s/%s.key -out %s/%s.pem >/dev/null 2>&1",
      name, san, dir, name, dir, name)))
  end

  -- An https server whose /v1/customers/ID answers {"id": <nginx's connection number>}.
  local function tls_server(port, name)
    return string.format([[
      server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s/%s.pem;
        ssl_certificate_key %s/%s.key;
        location /v1/customers/ { default_type application/json; return 200 '{"id":$connection}'; }
      }]], port, dir, name, dir, name)
  end

  lazy_setup(function()
    if not has_openssl then return end
    dir = io.popen("mktemp -d /tmp/helpcrunch-tls.XXXXXX"):read("*l")
    make_cert("good", "DNS:127.0.0.1,IP:127.0.0.1")   -- nginx checks DNS names
    make_cert("untrusted", "DNS:127.0.0.1,IP:127.0.0.1")
    make_cert("wrongname", "DNS:example.com")
    assert(os.execute(string.format("cat %s/good.pem %s/wrongname.pem > %s/trusted.pem",
      dir, dir, dir)))
    ports = { good = nginx.free_port(), untrusted = nginx.free_port(),
              wrongname = nginx.free_port() }
    srv = nginx.start {
      http = http_block("http://127.0.0.1:1/v1", table.concat({
        "lua_ssl_trusted_certificate " .. dir .. "/trusted.pem;",
        "lua_ssl_verify_depth 2;",
        tls_server(ports.good, "good"), tls_server(ports.untrusted, "untrusted"),
        tls_server(ports.wrongname, "wrongname"),
      }, "\n")),
      server = SERVER,
    }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  local function get(name, extra)
    return api(srv, "op=error&path=/customers/1&base=https://127.0.0.1:" .. ports[name]
      .. "/v1" .. (extra or ""))
  end

  it("verifies the certificate and reuses the TLS connection across clients", function()
    if not has_openssl then pending("openssl is not installed") return end
    local first = get("good")
    assert.is_true(first.ok, json.encode(first.err or {}))
    for _ = 1, 5 do
      assert.are.equal(first.id, get("good").id)       -- the same connection, every client
    end
  end)

  it("refuses an untrusted certificate and one for another name", function()
    if not has_openssl then pending("openssl is not installed") return end
    for _, name in ipairs { "untrusted", "wrongname" } do
      local got = get(name)
      assert.is_false(got.ok, name)
      assert.are.equal("transport", got.err.kind)
      assert.are.equal("tls_verify", got.err.code, name)
      assert.truthy(got.err.message:find("lua_ssl_trusted_certificate", 1, true))
    end
  end)

  it("skips the check with verify_tls = false, in a pool of its own", function()
    if not has_openssl then pending("openssl is not installed") return end
    local verified = get("good")
    local a = api(srv, "op=error&path=/customers/1&verify=0&base=https://127.0.0.1:"
      .. ports.untrusted .. "/v1")
    assert.is_true(a.ok, json.encode(a.err or {}))
    local b = api(srv, "op=error&path=/customers/1&verify=0&base=https://127.0.0.1:"
      .. ports.good .. "/v1")
    assert.is_true(b.ok)
    assert.are_not.equal(verified.id, b.id)            -- not the verified pool's connection
  end)
end)
