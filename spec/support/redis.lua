--- A real redis-server for specs: started on a free loopback port with
-- persistence off, stopped by `srv:stop()` (and by a watchdog within a
-- second when the spec's process dies without stopping it).
--
--     local redis = require "spec.support.redis"
--     local srv = redis.start { password = "..." }   -- srv.port
--     srv:stop(); srv:start()                        -- a restart, same port
--     srv:stop()
local socket = require "socket"
local sys = require "spec.support.sys"

local M = {}

local quote, my_pid, alive = sys.quote, sys.my_pid, sys.alive

--- A loopback port nothing listens on at the moment.
M.free_port = sys.free_port

-- Answers PING (with the password when there is one)?
local function ready(port, password)
  local c = socket.tcp()
  c:settimeout(0.5)
  if not c:connect("127.0.0.1", port) then c:close() return false end
  if password then c:send("AUTH " .. password .. "\r\n") c:receive("*l") end
  c:send("PING\r\n")
  local line = c:receive("*l")
  c:close()
  return line == "+PONG"
end

local Server = {}
Server.__index = Server

--- Start (or start again, on the same port) the server.
function Server:start()
  assert(not self.pid, "already running")
  local args = { "redis-server", "--port", self.port, "--bind", "127.0.0.1",
                 "--save", "''", "--appendonly", "no", "--daemonize", "no" }
  if self.password then args[#args + 1] = "--requirepass " .. quote(self.password) end
  local cmd = table.concat(args, " ")
  -- The shell keeps watch: the server ends when the spec's process does.
  local sh = "( " .. cmd .. " >/dev/null 2>&1 & rp=$!; echo $rp; exec >/dev/null; "
    .. "while kill -0 " .. my_pid() .. " 2>/dev/null && kill -0 $rp 2>/dev/null; do sleep 1; done; "
    .. "kill $rp 2>/dev/null ) &"
  local p = assert(io.popen(sh, "r"))
  self.pid = assert(tonumber(p:read("*l")), "redis-server did not start")
  p:close()
  for _ = 1, 250 do
    if ready(self.port, self.password) then return self end
    if not alive(self.pid) then break end
    socket.sleep(0.02)
  end
  self:stop()
  error("redis-server did not answer on port " .. self.port)
end

--- Stop the server and wait until it is gone. Safe twice.
function Server:stop()
  if not self.pid then return end
  os.execute("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 500 do
    if not alive(self.pid) then break end
    socket.sleep(0.01)
  end
  self.pid = nil
end

--- A redis-server on a free port (or `opts.port`), `opts.password` required.
function M.start(opts)
  opts = opts or {}
  local srv = setmetatable({ port = opts.port or M.free_port(), password = opts.password }, Server)
  return srv:start()
end

return M
