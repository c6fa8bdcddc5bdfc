--- Process and file helpers shared by the specs' support modules, the host
-- launchers and the benchmarks: quoting for /bin/sh, a free loopback port,
-- whole files, this process's pid, whether a process is alive. Runs under any
-- Lua with LuaSocket.
--
--     local sys = require "spec.support.sys"
--     os.execute("kill " .. sys.quote(pid))
-- @module spec.support.sys

local socket = require "socket"

local M = {}

--- Quote for /bin/sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- A port nothing listens on on 127.0.0.1 at the time of asking.
-- @treturn integer
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- A whole file, or nil when it cannot be opened.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- This process's pid (a string).
function M.my_pid()
  return assert(M.read_file("/proc/self/stat")):match("^(%d+)")
end

--- Is the process running? A zombie (exited, not yet reaped by its parent)
-- counts as gone.
function M.alive(pid)
  local stat = M.read_file("/proc/" .. pid .. "/stat")
  if not stat then return false end
  return stat:match("%)%s+(%a)") ~= "Z"
end

return M
