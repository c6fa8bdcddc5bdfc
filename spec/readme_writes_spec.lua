--- Every example of README.md's "Changing customers", "Events", "Webhooks" and
-- "Webhooks from the mock" sections (readme.WRITES_SECTIONS; spec/readme_spec.lua
-- runs the others), extracted from the README and run as written:
-- - a ```lua block runs against a fresh mock, with `client` (a client of that
--   mock), `helpcrunch` and `spawn` in scope; it must not raise (the examples
--   assert what they claim);
-- - a block whose every line ends in a `-->` comment is a list of signatures:
--   it is only compiled;
-- - the LuaSocket receiver runs without its last two lines (bind port 8080 and
--   loop forever): the spec hands its `serve` one delivery from the mock;
-- - the ```nginx block runs in Debian's nginx with the Lua module (ngx.hmac_sha1):
--   the mock delivers to it.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local socket = require "socket"
local spawn = require "helpcrunch.mock.spawn"
local readme = require "spec.support.readme"   -- the one extractor of README examples

local SECRET = "whsec-readme-spec"

local blocks, compile, run = readme.blocks, readme.compile, readme.run
local is_signatures = readme.is_signatures

local free_port = require("spec.support.sys").free_port

describe("README examples #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 30, seed = 2 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function() mock:reset() end)

  local quiet = function() end

  for _, title in ipairs(readme.WRITES_SECTIONS) do
    it("runs section " .. title, function()
      local ran = 0
      for _, b in ipairs(blocks(title)) do
        if b.lang == "lua" then
          local started = {}
          local env = { client = client, helpcrunch = helpcrunch, print = quiet,
            spawn = { start = function(o)
              local m = spawn.start(o)
              started[#started + 1] = m
              return m
            end } }
          if is_signatures(b.code) or b.code:find("local function serve(conn)", 1, true) then
            compile(b)           -- signatures; the receiver has its own test below
          else
            mock:reset()
            local ok, err = pcall(run, b, env)
            for _, m in ipairs(started) do m:stop() end
            assert(ok, tostring(err))
            ran = ran + 1
          end
        end
      end
      if title ~= "Webhooks" then assert.is_true(ran > 0) end
    end)
  end

  it("the LuaSocket receiver verifies a delivery of the mock and answers 200", function()
    local block
    for _, b in ipairs(blocks("Webhooks")) do
      if b.code:find("local function serve(conn)", 1, true) then block = b end
    end
    assert(block, "the receiver example is gone")
    local code, cut = block.code:gsub("\n%-%- Serve on port 8080.*$", "")
    assert.equal(1, cut, "the example's last lines changed")
    local printed = {}
    local env = { print = function(...) printed[#printed + 1] = table.concat({ ... }, " ") end,
                  os = { getenv = function(k) return k == "HELPCRUNCH_WEBHOOK_SECRET" and SECRET
                                                     or os.getenv(k) end } }
    local serve = run({ code = code, line = block.line }, env, "\nreturn serve")
    local server = assert(socket.bind("127.0.0.1", 0))
    finally(function() server:close() end)
    server:settimeout(10)
    local _, port = server:getsockname()
    mock:webhooks { url = "http://127.0.0.1:" .. port .. "/hooks/helpcrunch", secret = SECRET }
    local c = assert(client.customers:create { name = "R", email = "r@example.com" })
    assert(client.customers:update(c.id, { email = "r2@example.com" }))
    serve(assert(server:accept()))                    -- customer.new
    serve(assert(server:accept()))                    -- customer.email_updated
    assert.same({ "new e-mail for customer " .. c.id .. " r2@example.com" }, printed)
    mock:webhooks { url = "http://127.0.0.1:" .. port .. "/hooks/helpcrunch", secret = "other" }
    assert(client.customers:delete(c.id))
    serve(assert(server:accept()))                    -- signed with another secret
    local list
    for _ = 1, 500 do
      list = mock:webhooks().deliveries
      if #list >= 1 and list[#list].status == 401 then break end
      socket.sleep(0.01)
    end
    assert.equal(401, list[#list].status)
  end)

  describe("the OpenResty example", function()
    local nginx_bin = "/usr/sbin/nginx"
    local modules = "/usr/lib/nginx/modules"
    local core = "build/luajit/helpcrunch/core.so"
    local function have(path) local f = io.open(path, "rb") if f then f:close() end return f ~= nil end
    local usable = have(nginx_bin) and have(modules .. "/ngx_http_lua_module.so") and have(core)

    local prefix, pid, pipe, port

    local function start_nginx()
      local block
      for _, b in ipairs(blocks("Webhooks")) do
        if b.lang == "nginx" then block = b end
      end
      assert(block, "the nginx example is gone")
      local root = io.popen("pwd"):read("*l")
      prefix = os.tmpname()
      os.remove(prefix)
      assert(os.execute("mkdir -p " .. prefix .. "/logs " .. prefix .. "/tmp"))
      port = free_port()
      local conf = table.concat({
        "load_module " .. modules .. "/ndk_http_module.so;",
        "load_module " .. modules .. "/ngx_http_lua_module.so;",
        "daemon off;", "master_process off;", "worker_processes 1;",
        "pid " .. prefix .. "/nginx.pid;",
        "error_log " .. prefix .. "/logs/error.log info;",
        "env HELPCRUNCH_WEBHOOK_SECRET;",
        "events { worker_connections 64; }",
        "http {",
        "  access_log off;",
        "  client_body_temp_path " .. prefix .. "/tmp/body;",
        "  proxy_temp_path " .. prefix .. "/tmp/proxy;",
        "  fastcgi_temp_path " .. prefix .. "/tmp/fastcgi;",
        "  uwsgi_temp_path " .. prefix .. "/tmp/uwsgi;",
        "  scgi_temp_path " .. prefix .. "/tmp/scgi;",
        '  lua_package_path "' .. root .. "/lua/?.lua;" .. root .. '/lua/?/init.lua;;";',
        '  lua_package_cpath "' .. root .. '/build/luajit/?.so;;";',
        "  server {",
        "    listen 127.0.0.1:" .. port .. ";",
        block.code,
        "    location = /implementation { content_by_lua_block {",
        '      ngx.say(require("helpcrunch").webhook.implementation()) } }',
        "  }",
        "}",
      }, "\n")
      local f = assert(io.open(prefix .. "/nginx.conf", "w"))
      f:write(conf)
      f:close()
      pipe = assert(io.popen("echo $$; exec env HELPCRUNCH_WEBHOOK_SECRET=" .. SECRET .. " "
        .. nginx_bin .. " -p " .. prefix .. " -c " .. prefix .. "/nginx.conf -e "
        .. prefix .. "/logs/error.log 2>&1", "r"))
      pid = tonumber(pipe:read("*l"))
      for _ = 1, 500 do
        local s = socket.connect("127.0.0.1", port)
        if s then s:close() return end
        socket.sleep(0.01)
      end
      error("nginx did not start: " .. (io.open(prefix .. "/logs/error.log"):read("*a")))
    end

    local function stop_nginx()
      if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
      if pipe then pipe:close() end
      if prefix then os.execute("rm -rf " .. prefix) end
      pid, pipe, prefix = nil, nil, nil
    end

    local function get(path)
      local s = assert(socket.connect("127.0.0.1", port))
      s:settimeout(5)
      s:send("GET " .. path .. " HTTP/1.0\r\n\r\n")
      local text = s:receive("*a")
      s:close()
      return text
    end

    local function status_of(n)
      local list
      for _ = 1, 500 do
        list = mock:webhooks().deliveries
        if #list >= n then return list[n].status end
        socket.sleep(0.01)
      end
      error("no delivery " .. n)
    end

    it("verifies the mock's deliveries inside nginx with ngx.hmac_sha1", function()
      if not usable then
        pending("needs nginx, libnginx-mod-http-lua and make LUA=luajit")
        return
      end
      finally(stop_nginx)
      start_nginx()
      assert.matches("\r\n\r\nngx\n$", get("/implementation"))
      mock:webhooks { url = "http://127.0.0.1:" .. port .. "/hooks/helpcrunch", secret = SECRET,
                      max_attempts = 1 }
      local c = assert(client.customers:create { name = "nginx" })
      assert.equal(200, status_of(1))
      mock:webhooks { url = "http://127.0.0.1:" .. port .. "/hooks/helpcrunch", secret = "wrong",
                      max_attempts = 1 }
      assert(client.customers:delete(c.id))
      assert.equal(401, status_of(2))
    end)
  end)
end)
