--- The `helpcrunch` command: parse the arguments, make the client, run the
-- command, turn the outcome into an exit status (0 done, 1 failed, 2 usage,
-- 130 interrupted). `bin/helpcrunch` calls `main`.
-- @module helpcrunch.cli

local M = {}

-- command name -> function(o, ctx) -> exit status
local function commands()
  local short = require "helpcrunch.cli.commands"
  return {
    export = require("helpcrunch.cli.export").run,
    import = require("helpcrunch.cli.import").run,
    get = short.get, count = short.count, tag = short.tag, delete = short.delete,
    event = short.event,
  }
end

-- `helpcrunch mock ...` is `helpcrunch-mock ...` (the helpcrunch-mock rock).
local function mock(args)
  local ok, m = pcall(require, "helpcrunch.mock")
  if not ok then
    io.stderr:write("helpcrunch mock: the mock is not installed (it is the helpcrunch-mock "
      .. "rock, which needs LuaSocket and lua-cjson): ", tostring(m):match("^[^\n]*"), "\n")
    return 1
  end
  return m.main(args)
end

--- Run the command line.
-- @tparam table args the arguments (without the program's name)
-- @treturn integer exit status
function M.main(args)
  if args[1] == "mock" then
    return mock({ (table.unpack or unpack)(args, 2) })
  end
  local o, usage = require("helpcrunch.cli.args").parse(args)
  if not o then
    io.stderr:write(usage)
    return 2
  end
  if o.command == "mock" then return mock(o.flags) end
  local sys = require "helpcrunch.cli.sys"
  local function fail(msg, code)
    io.stderr:write("helpcrunch ", o.command, ": ", tostring(msg), "\n")
    return code
  end
  local ui = {}
  local client, err = require("helpcrunch.cli.connect").client(o, ui)
  if not client then return fail(err, 2) end
  local ctx = {
    client = client, ui = ui, quiet = o.quiet, tty = not o.quiet and sys.isatty(2), fail = fail,
    say = function(msg) if not o.quiet then io.stderr:write("helpcrunch ", msg, "\n") end end,
  }
  local ok, code = xpcall(function() return commands()[o.command](o, ctx) end, function(e)
    if sys.interrupted(e) or type(e) ~= "string" then return e end
    return debug.traceback(e, 2)
  end)
  client:close()
  if ok then return code end
  if sys.interrupted(code) then return fail("interrupted", 130) end
  return fail(tostring(code), 1)
end

return M
