--- Start Debian's nginx with the Lua module for host specs: a temp prefix, a
-- generated nginx.conf, a free loopback port, the checkout's lua/ and
-- build/luajit/ on the Lua paths, the error log kept in the prefix.
--
--     local nginx = require "spec.hosts.nginx"
--     local srv = nginx.start {
--       http = "lua_shared_dict results 1m;",             -- extra http-block config
--       server = [[location /hi { content_by_lua_block { ngx.say("hi") } }]],
--       workers = 1,                                    -- worker_processes (default 1)
--     }
--     local status, body, headers = srv:request("/hi")  -- LuaSocket, one connection
--     srv:stop()                                        -- also removes the prefix
--
-- Also: `main` (extra main-context config), `log_level` (error_log level,
-- default "notice"), `keep` (leave the prefix in place after stop).
-- nginx runs in the foreground under its master process; should the test
-- process die without stop(), a watcher stops nginx within a second.
-- Runs under any Lua with LuaSocket (it only talks HTTP to nginx).
-- @module spec.hosts.nginx

local socket = require "socket"
local sys = require "spec.support.sys"

local M = {}

--- The nginx binary and the directory of its dynamic modules.
M.BIN = os.getenv("HELPCRUNCH_NGINX") or "nginx"
M.MODULES = os.getenv("HELPCRUNCH_NGINX_MODULES") or "/usr/lib/nginx/modules"

local function run(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function slurp(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("*a")
  p:close()
  return (s:gsub("%s+$", ""))
end

local shell_quote, read_file, write_file, alive = sys.quote, sys.read_file, sys.write_file, sys.alive

-- The checkout: two directories above this file, made absolute.
local function checkout()
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = src:match("^(.*)/spec/hosts/nginx%.lua$") or "."
  return slurp("cd " .. shell_quote(dir) .. " && pwd")
end

--- Can the host specs run here? nginx on PATH and the Lua module installed.
-- @treturn boolean
-- @treturn string|nil why not
function M.available()
  if not run("command -v " .. shell_quote(M.BIN) .. " >/dev/null 2>&1") then
    return false, M.BIN .. " is not installed (Debian: apt-get install nginx)"
  end
  if not read_file(M.MODULES .. "/ngx_http_lua_module.so") then
    return false, M.MODULES .. "/ngx_http_lua_module.so is missing "
      .. "(Debian: apt-get install libnginx-mod-http-lua)"
  end
  return true
end

--- A port free on 127.0.0.1 at the time of asking.
M.free_port = sys.free_port

local function conf(o, root, prefix, port)
  local lines = {
    "load_module " .. M.MODULES .. "/ndk_http_module.so;",
    "load_module " .. M.MODULES .. "/ngx_http_lua_module.so;",
    "daemon off;",
    "master_process on;",
    "worker_processes " .. (o.workers or 1) .. ";",
    "pid " .. prefix .. "/nginx.pid;",
    "error_log " .. prefix .. "/logs/error.log " .. (o.log_level or "notice") .. ";",
  }
  -- As root the workers would run as nobody, who cannot enter the 0700 prefix.
  if slurp("id -u") == "0" then lines[#lines + 1] = "user root;" end
  lines[#lines + 1] = o.main or ""
  lines[#lines + 1] = "events { worker_connections 1024; }"
  lines[#lines + 1] = "http {"
  lines[#lines + 1] = "  access_log off;"
  for _, t in ipairs { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" } do
    lines[#lines + 1] = "  " .. t .. "_temp_path " .. prefix .. "/tmp/" .. t .. ";"
  end
  lines[#lines + 1] = string.format('  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;'
    .. '%s/?.lua;%s/?/init.lua;;";', root, root, root, root)
  lines[#lines + 1] = string.format('  lua_package_cpath "%s/build/luajit/?.so;;";', root)
  lines[#lines + 1] = o.http or ""
  lines[#lines + 1] = "  server {"
  lines[#lines + 1] = "    listen 127.0.0.1:" .. port .. ";"
  lines[#lines + 1] = o.server or ""
  lines[#lines + 1] = "  }"
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

local Server = {}
Server.__index = Server

-- Launch once on `port`: the server, or nil and what the error log says.
local function launch(o, root, prefix, port)
  write_file(prefix .. "/nginx.conf", conf(o, root, prefix, port))
  local me = sys.my_pid()
  -- The watcher ends with nginx, or stops it when this process is gone.
  local cmd = "echo $$; (while kill -0 " .. me .. " && kill -0 $$; do sleep 1; done; "
    .. "kill -TERM $$) >/dev/null 2>&1 </dev/null & exec " .. shell_quote(M.BIN)
    .. " -p " .. shell_quote(prefix .. "/") .. " -c " .. shell_quote(prefix .. "/nginx.conf")
    .. " >" .. shell_quote(prefix .. "/logs/stderr.log") .. " 2>&1 </dev/null"
  local pipe = assert(io.popen(cmd, "r"))
  local pid = tonumber(pipe:read("*l") or "")
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    if not pid or not alive(pid) then break end
    local c = socket.connect("127.0.0.1", port)
    if c then
      c:close()
      return setmetatable({
        port = port, pid = pid, pipe = pipe, prefix = prefix, root = root,
        url = "http://127.0.0.1:" .. port, keep = o.keep,
      }, Server)
    end
    socket.sleep(0.02)
  end
  if pid and alive(pid) then run("kill -TERM " .. pid) end
  pipe:close()
  return nil, (read_file(prefix .. "/logs/stderr.log") or "") .. (read_file(prefix .. "/logs/error.log") or "")
end

--- Start nginx (see the module comment for the options).
-- @tparam[opt] table o `http`, `server`, `main`, `workers`, `log_level`, `keep`
-- @treturn table the server: `url` ("http://127.0.0.1:PORT"), `port`, `pid`,
--   `prefix`, and the methods below
-- @raise when nginx cannot start (with its error log)
function M.start(o)
  o = o or {}
  local ok, why = M.available()
  if not ok then error("spec.hosts.nginx: " .. why, 2) end
  local root = checkout()
  local prefix = slurp("mktemp -d /tmp/helpcrunch-nginx.XXXXXX")
  assert(run("mkdir -p " .. shell_quote(prefix .. "/logs") .. " " .. shell_quote(prefix .. "/tmp")))
  local log
  for _ = 1, 5 do                      -- another process may take the port first
    local srv
    srv, log = launch(o, root, prefix, M.free_port())
    if srv then
      local newproxy = rawget(_G, "newproxy")   -- stop on collection
      if newproxy then
        srv.guard = newproxy(true)
        getmetatable(srv.guard).__gc = function() srv:stop() end
      else
        setmetatable(srv, { __index = Server, __gc = Server.stop })
      end
      return srv
    end
    if not log:find("Address already in use", 1, true) then break end
  end
  run("rm -rf " .. shell_quote(prefix))
  error("spec.hosts.nginx: nginx did not start:\n" .. log, 2)
end

--- The error log so far.
-- @treturn string
function Server:log()
  return read_file(self.prefix .. "/logs/error.log") or ""
end

--- GET (or another method) a path from nginx over a new connection.
-- @tparam string path e.g. "/customers?id=1"
-- @tparam[opt] table opts `method`, `body`, `headers`, `timeout` (seconds, default 10)
-- @treturn integer|nil status, or nil and the socket error
-- @treturn string body
-- @treturn table headers (lower-case names)
function Server:request(path, opts)
  opts = opts or {}
  local http, ltn12 = require "socket.http", require "ltn12"
  local out = {}
  local headers = { connection = "close" }
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  if opts.body then headers["content-length"] = tostring(#opts.body) end
  local ok, status, rheaders = http.request {
    url = self.url .. path, method = opts.method or "GET", headers = headers,
    source = opts.body and ltn12.source.string(opts.body) or nil,
    sink = ltn12.sink.table(out),
    create = function()
      local s = socket.tcp()
      s:settimeout(opts.timeout or 10)
      return s
    end,
  }
  if not ok then return nil, status end
  return status, table.concat(out), rheaders
end

--- Send a GET without waiting for the answer; `conn:finish(timeout)` reads
-- it later (status, body), `conn:ready()` says whether bytes have arrived.
-- @tparam string path
-- @treturn table conn
function Server:send(path)
  local s = assert(socket.connect("127.0.0.1", self.port))
  assert(s:send("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
  local conn = { sock = s }
  function conn.ready()
    local r = socket.select({ s }, nil, 0)
    return r[1] ~= nil
  end
  function conn.finish(_, timeout)
    s:settimeout(timeout or 10)
    local text, err, partial = s:receive("*a")
    s:close()
    text = text or partial
    if not text or text == "" then return nil, err end
    local status = tonumber(text:match("^HTTP/%d%.%d (%d%d%d)"))
    local head_end = text:find("\r\n\r\n", 1, true)
    local body = head_end and text:sub(head_end + 4) or ""
    if text:sub(1, head_end or 0):lower():find("transfer%-encoding: chunked") then
      local parts, i = {}, 1
      while true do
        local size_hex, e = body:match("^(%x+)[^\r\n]*\r\n()", i)
        local size = size_hex and tonumber(size_hex, 16)
        if not size or size == 0 then break end
        parts[#parts + 1] = body:sub(e, e + size - 1)
        i = e + size + 2
      end
      body = table.concat(parts)
    end
    return status, body
  end
  return conn
end

--- Stop nginx (SIGTERM, then wait for it) and remove the prefix unless `keep`.
-- Safe to call twice.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  if alive(self.pid) then run("kill -TERM " .. self.pid) end
  pcall(self.pipe.close, self.pipe)
  if not self.keep then run("rm -rf " .. shell_quote(self.prefix)) end
end

return M
