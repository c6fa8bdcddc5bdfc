--- What the command needs from the operating system that plain Lua does not
-- give: is a descriptor a terminal, flushing a file to disk, replacing a file
-- atomically, cutting a file to a length. POSIX shell tools do the first two
-- (one process each, only at checkpoints), the rest is portable Lua.
-- @module helpcrunch.cli.sys

local M = {}

--- Quote a string for /bin/sh.
-- @tparam string s
-- @treturn string
function M.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- os.execute's success: true (5.2+) or 0 (5.1, LuaJIT).
local function ran(a, _, code)
  if type(a) == "number" then return a == 0 end
  return a == true and (code == nil or code == 0)
end

--- Is this file descriptor (0 stdin, 1 stdout, 2 stderr) a terminal?
-- @tparam integer fd
-- @treturn boolean
function M.isatty(fd)
  return ran(os.execute("test -t " .. fd))
end

--- The terminal's width in columns: $COLUMNS, else what `stty` says of the
-- controlling terminal, else 80.
-- @treturn integer
function M.columns()
  local n = tonumber(os.getenv("COLUMNS") or "")
  if n and n > 0 then return n end
  local p = io.popen("stty size </dev/tty 2>/dev/null")
  local out = p and p:read("*a") or ""
  if p then p:close() end
  n = tonumber(out:match("^%s*%d+%s+(%d+)"))
  return n and n > 0 and n or 80
end

--- Ask the kernel to put these files' data on disk (fdatasync through
-- coreutils' `sync -d`). Best effort: a system without it still has every
-- byte flushed to the kernel, which a kill -9 cannot lose.
-- @tparam string ... paths
function M.sync(...)
  local args = {}
  for i, p in ipairs { ... } do args[i] = M.quote(p) end
  os.execute("sync -d -- " .. table.concat(args, " ") .. " 2>/dev/null")
end

--- Does a file exist (and can it be opened)?
-- @tparam string path
-- @treturn boolean
function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The size of a file in bytes, or nil.
-- @tparam string path
-- @treturn integer|nil
function M.size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

--- Write a whole file atomically: a temporary file next to it, flushed to
-- disk, renamed over it. A crash leaves the old file or the new one.
-- @tparam string path
-- @tparam string text
-- @tparam[opt] string also another path to sync first (data the file vouches for)
-- @treturn boolean|nil true, or nil and a message
function M.write_atomic(path, text, also)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  if ok then ok, werr = f:flush() end
  f:close()
  if not ok then os.remove(tmp) return nil, werr end
  if also then M.sync(also, tmp) else M.sync(tmp) end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, rerr end
  return true
end

--- Cut a file to its first `n` bytes (by copying them: Lua has no truncate).
-- @tparam string path
-- @tparam integer n
-- @treturn boolean|nil true, or nil and a message
function M.truncate(path, n)
  local size = M.size(path)
  if size == nil then return nil, "cannot open " .. path end
  if size < n then
    return nil, path .. " holds " .. size .. " bytes, fewer than the " .. n .. " its checkpoint vouches for"
  end
  if size == n then return true end
  local src = assert(io.open(path, "rb"))
  local tmp = path .. ".tmp"
  local dst, err = io.open(tmp, "wb")
  if not dst then src:close() return nil, err end
  local left = n
  while left > 0 do
    local chunk = src:read(math.min(left, 65536))
    if not chunk then break end
    dst:write(chunk)
    left = left - #chunk
  end
  src:close()
  dst:close()
  if left > 0 then os.remove(tmp) return nil, "short read of " .. path end
  M.sync(tmp)
  local ok, rerr = os.rename(tmp, path)
  if not ok then os.remove(tmp) return nil, rerr end
  return true
end

--- Was this error Ctrl-C? (The standalone interpreters, lua5.4 and luajit,
-- turn SIGINT into the error "interrupted!".)
-- @param err anything raised
-- @treturn boolean
function M.interrupted(err)
  return type(err) == "string" and err:find("interrupted!", 1, true) ~= nil
    or (type(err) == "table" and type(err.message) == "string"
        and err.message:find("interrupted!", 1, true) ~= nil)
end

return M
