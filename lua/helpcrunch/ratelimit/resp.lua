--- The few Redis commands the Redis rate-limit store sends, over whichever
-- socket the host has: in scripts LuaSocket (Lua 5.1 to 5.4) or LuaJIT's
-- FFI (LuaJIT on Linux: Neovim, where LuaSocket crashes, and plain
-- scripts; see helpcrunch.ratelimit.ffisock), cosockets in OpenResty (through lua-resty-redis when `require` finds it,
-- else the same RESP code over `ngx.socket.tcp`, whose receive/send match
-- LuaSocket's). RESP2 only: commands are arrays of bulk strings; replies
-- are read whole.
--
-- A link: `link:call(...) -> value | nil, message, broken` where value is a
-- string, a number, a list, or false for Redis's nil; `broken` tells a
-- dead connection (closed, timed out: drop it) from an error reply (the
-- connection is still good). `link.reused` is true when the connection
-- had served before (AUTH and SELECT already done); `link:release()` puts
-- it back for the next take; `link:close()` drops it.
-- @module helpcrunch.ratelimit.resp

local M = {}

local concat, tostring, tonumber = table.concat, tostring, tonumber

--- A command as RESP: an array of bulk strings.
-- @treturn string
function M.encode(...)
  local n = select("#", ...)
  local out = { "*" .. n .. "\r\n" }
  for i = 1, n do
    local s = tostring((select(i, ...)))
    out[#out + 1] = "$" .. #s .. "\r\n" .. s .. "\r\n"
  end
  return concat(out)
end

--- Read one reply from a LuaSocket-like socket.
-- @return value, or nil, message, broken
local function read(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err, true end
  local kind, rest = line:sub(1, 1), line:sub(2)
  if kind == "+" then return rest end
  if kind == "-" then return nil, rest, false end
  if kind == ":" then return tonumber(rest) end
  if kind == "$" then
    local size = tonumber(rest)
    if not size then return nil, "bad reply from the server", true end
    if size < 0 then return false end
    local data, derr = sock:receive(size + 2)
    if not data then return nil, derr, true end
    return data:sub(1, size)
  end
  if kind == "*" then
    local size = tonumber(rest)
    if not size then return nil, "bad reply from the server", true end
    if size < 0 then return false end
    local list, failure = {}, nil
    for i = 1, size do
      local v, verr, broken = read(sock)
      if v == nil then
        if broken then return nil, verr, true end
        failure = failure or verr            -- read on: the reply must be consumed whole
        v = false
      end
      list[i] = v
    end
    if failure then return nil, failure, false end
    return list
  end
  return nil, "bad reply from the server", true
end
M.read = read

-- ---- a link over a LuaSocket-like socket -----------------------------------

local Link = {}
Link.__index = Link

function Link:call(...)
  local ok, err = self.sock:send(M.encode(...))
  if not ok then return nil, err, true end
  return read(self.sock)
end

function Link:close()
  if self.sock then self.sock:close() end
  self.sock = nil
end

-- LuaSocket: the store keeps the link for its next take.
local function keep() end

-- Cosockets belong to one request: back into nginx's pool for the next.
local function pool(self)
  local ok = self.sock:setkeepalive(60000, 16)
  if not ok then self.sock:close() end
  self.sock = nil
end

--- A link over LuaSocket (a script). One connection, kept by the caller.
-- @treturn table|nil link, or nil and a message
function M.luasocket(host, port, timeout)
  local socket = require "socket"
  local sock = socket.tcp()
  sock:settimeout(timeout)
  local ok, err = sock:connect(host, port)
  if not ok then
    sock:close()
    return nil, err
  end
  sock:setoption("tcp-nodelay", true)
  return setmetatable({ sock = sock, reused = false, release = keep }, Link)
end

--- A link over LuaJIT's FFI (see helpcrunch.ratelimit.ffisock).
-- @treturn table|nil link, or nil and a message
function M.ffi(host, port, timeout)
  local sock, err = require("helpcrunch.ratelimit.ffisock").connect(host, port, timeout)
  if not sock then return nil, err end
  return setmetatable({ sock = sock, reused = false, release = keep }, Link)
end

--- Does a script speak over the FFI rather than LuaSocket? In LuaJIT on
-- Linux, yes (Neovim, where LuaSocket crashes, and plain scripts alike).
function M.uses_ffi()
  if rawget(_G, "jit") == nil then return false end
  local ok, ffi = pcall(require, "ffi")
  return ok and ffi.os == "Linux"
end

--- A link for a script (outside nginx): FFI or LuaSocket, see `uses_ffi`.
function M.script(host, port, timeout)
  if M.uses_ffi() then return M.ffi(host, port, timeout) end
  return M.luasocket(host, port, timeout)
end

--- A link over an nginx cosocket, from the pool named `pool_name`.
-- @treturn table|nil link, or nil and a message
function M.cosocket(host, port, timeout, pool_name)
  local ngx = rawget(_G, "ngx")
  local sock = ngx.socket.tcp()
  local ms = math.floor(timeout * 1000 + 0.5)
  sock:settimeouts(ms, ms, ms)
  local ok, err = sock:connect(host, port, { pool = pool_name })
  if not ok then return nil, err end
  return setmetatable({ sock = sock, reused = (sock:getreusedtimes() or 0) > 0,
                        release = pool }, Link)
end

-- ---- a link over lua-resty-redis ---------------------------------------------

local Resty = {}
Resty.__index = Resty

function Resty:call(cmd, ...)
  local v, err = self.red[cmd:lower()](self.red, ...)
  if v == nil then return nil, err, true end
  if v == false and err then return nil, err, false end
  if v == rawget(_G, "ngx").null then return false end
  return v
end

function Resty:release()
  local ok = self.red:set_keepalive(60000, 16)
  if not ok then self.red:close() end
end

function Resty:close()
  self.red:close()
end

--- A link over lua-resty-redis, when `require "resty.redis"` finds it.
-- @treturn table|nil link, or nil and a message; or false when there is
--   no lua-resty-redis
local resty_redis           -- the module, false when absent (looked for once)
function M.resty(host, port, timeout, pool_name)
  if resty_redis == nil then
    local found, mod = pcall(require, "resty.redis")
    resty_redis = found and type(mod) == "table" and type(mod.new) == "function" and mod or false
  end
  local redis = resty_redis
  if not redis then return false end
  local red = redis:new()
  local ms = math.floor(timeout * 1000 + 0.5)
  red:set_timeouts(ms, ms, ms)
  local ok, err = red:connect(host, port, { pool = pool_name })
  if not ok then return nil, err end
  return setmetatable({ red = red, reused = (red:get_reused_times() or 0) > 0 }, Resty)
end

return M
