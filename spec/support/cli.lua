--- Running the real `bin/helpcrunch` as a subprocess (under the Lua running
-- the spec), against a mock: its exit status, stdout and stderr.
--     local cli = require "spec.support.cli"
--     local r = cli.run(mock, { "export", "-o", path })   --> {code=, out=, err=}

local H = require "spec.helper"
local sys = require "spec.support.sys"

local C = {}

--- Quote for /bin/sh.
C.quote = sys.quote

--- A fresh temporary directory (removed by C.cleanup).
function C.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. C.quote(p)))
  return p
end

function C.cleanup(dir)
  if dir and dir:match("^/tmp/") then os.execute("rm -rf " .. C.quote(dir)) end
end

--- For a describe block of CLI specs: a mock and a client of it for the
-- block (H.serve), and for each test the mock reset and a fresh temporary
-- directory, removed after it. `set(mock, client, dir)` receives them; the
-- four functions go to busted's lazy_setup, lazy_teardown, before_each and
-- after_each (which exist only in the spec's own environment):
--     local mock, client, dir
--     local start, stop, each, after = cli.session({ customers = 40 },
--       function(m, c, d) mock, client, dir = m, c, d end)
--     lazy_setup(start) lazy_teardown(stop) before_each(each) after_each(after)
function C.session(mock_opts, set)
  local mock, client, dir
  local start, stop = H.serve(mock_opts, nil, function(m, c)
    mock, client = m, c
    set(m, c, nil)
  end)
  local function each()
    mock:reset()
    dir = C.tmpdir()
    set(mock, client, dir)
  end
  local function after() C.cleanup(dir) end
  return start, stop, each, after
end

--- The shell command that runs bin/helpcrunch with these arguments.
-- @tparam table|nil mock gives HELPCRUNCH_BASE_URL (nil: none)
-- @tparam table args
-- @tparam[opt] table env extra variables (false: unset)
function C.command(mock, args, env)
  local vars = { HELPCRUNCH_API_KEY = H.TOKEN, HELPCRUNCH_BASE_URL = mock and mock.url or false,
                 COLUMNS = "100" }
  for k, v in pairs(env or {}) do vars[k] = v end
  local parts = { "env" }
  for k, v in pairs(vars) do                    -- env's -u options first
    if v == false then parts[#parts + 1] = "-u " .. k end
  end
  for k, v in pairs(vars) do
    if v ~= false then parts[#parts + 1] = k .. "=" .. C.quote(v) end
  end
  parts[#parts + 1] = H.LUA
  parts[#parts + 1] = "bin/helpcrunch"
  for _, a in ipairs(args) do parts[#parts + 1] = C.quote(a) end
  return table.concat(parts, " ")
end

--- Run to the end. `opts.stdin` (text), `opts.env`.
-- @treturn table `{code =, out =, err =}`
function C.run(mock, args, opts)
  opts = opts or {}
  local dir = C.tmpdir()
  local input = "/dev/null"
  if opts.stdin then
    input = dir .. "/in"
    local f = assert(io.open(input, "wb"))
    f:write(opts.stdin)
    f:close()
  end
  local p = assert(io.popen(C.command(mock, args, opts.env) .. " <" .. C.quote(input) .. " >"
    .. C.quote(dir .. "/out") .. " 2>" .. C.quote(dir .. "/err") .. "; echo $?"))
  local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  local r = { code = code, out = H.read(dir .. "/out"), err = H.read(dir .. "/err") }
  C.cleanup(dir)
  return r
end

--- Start in the background: returns its pid (the interpreter's own);
-- stdout, stderr and, once it ended, its exit status go to dir/bg.out,
-- dir/bg.err, dir/bg.rc.
function C.start(mock, args, dir, env)
  local q = C.quote
  local p = assert(io.popen("( " .. C.command(mock, args, env) .. " </dev/null >" .. q(dir .. "/bg.out")
    .. " 2>" .. q(dir .. "/bg.err") .. " & echo $!; wait $!; echo $? >" .. q(dir .. "/bg.rc")
    .. " ) 2>/dev/null &"))
  local pid = tonumber(p:read("*l"))
  p:close()
  return pid
end

--- The exit status of what C.start started in dir (waits for it).
function C.status(dir)
  local code
  C.until_(function()
    local f = io.open(dir .. "/bg.rc", "rb")
    code = f and tonumber(f:read("*a"))
    if f then f:close() end
    return code ~= nil
  end, 60, "the exit status")
  return code
end

--- Is the process still running (a zombie counts as gone)?
C.alive = sys.alive

--- kill -9, then wait until it is gone.
function C.kill9(pid)
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
  for _ = 1, 1000 do
    if not C.alive(pid) then return end
    require("socket").sleep(0.01)
  end
  error("process " .. pid .. " survived kill -9")
end

--- Wait (polling, at most `seconds`) until fn() is true.
function C.until_(fn, seconds, what)
  local socket = require "socket"
  local deadline = socket.gettime() + (seconds or 30)
  while socket.gettime() < deadline do
    if fn() then return end
    socket.sleep(0.02)
  end
  error("timed out waiting for " .. (what or "a condition"))
end

--- The lines of a text.
function C.lines(text)
  local out = {}
  for l in text:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

--- Every stored customer's normalised table by id, through one keep-alive
-- connection to the mock's admin endpoint (not the client under test).
function C.stored(mock, ids)
  local helpcrunch = require "helpcrunch"
  local conn = mock:connect(10)
  local out = {}
  for _, id in ipairs(ids) do
    local r = assert(conn:request("GET", "/_mock/customers/" .. tostring(id), {}))
    if r.status == 200 then out[id] = assert(helpcrunch.decode(r.body)) end
  end
  conn:close()
  return out
end

return C
