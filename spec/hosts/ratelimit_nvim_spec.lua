-- The Redis store inside Neovim (issue 14): Neovim's LuaJIT crashes in
-- LuaSocket's connect (Neovim exports its own C `socket_connect`), so LuaJIT
-- hosts speak to Redis over the FFI. Runs `nvim --headless` with a script
-- that takes from a Redis-held limit and makes a call through it.
local H = require "spec.helper"
local redis_server = require "spec.support.redis"

local SCRIPT = [[
local out = assert(io.open(%q, "w"))
local ok, err = pcall(function()
  package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
  package.cpath = "build/luajit/?.so;" .. package.cpath
  local ratelimit = require "helpcrunch.ratelimit"
  local store = ratelimit.redis { port = %d, key = "nvim" }
  local takes = {}
  for i = 1, 4 do takes[i] = store:take(3, 60) > 0 and "wait" or "0" end
  out:write("takes ", table.concat(takes, " "), "\n")
  local client = require("helpcrunch").new { token = %q, base_url = %q, max_retries = 0,
    rate_limit = { requests = 10, per = 1, store = ratelimit.redis { port = %d, key = "nvim-call" } } }
  local c, cerr = client.customers:get(4994)
  out:write("call ", c and tostring(c.id) or tostring(cerr), "\n")
end)
if not ok then out:write("error ", tostring(err), "\n") end
out:close()
]]

describe("#host Neovim: the Redis store", function()
  it("takes and throttles a call inside nvim --headless (no LuaSocket crash)", function()
    if os.execute("command -v nvim >/dev/null 2>&1") ~= true
      and os.execute("command -v nvim >/dev/null 2>&1") ~= 0 then
      pending("nvim is not installed")
      return
    end
    local srv = redis_server.start()
    finally(function() srv:stop() end)
    local mock = H.mock { customers = 20 }
    finally(function() mock:stop() end)
    local out = os.tmpname()
    local script = os.tmpname()
    finally(function() os.remove(out) os.remove(script) end)
    local f = assert(io.open(script, "w"))
    f:write(SCRIPT:format(out, srv.port, H.TOKEN, mock.url, srv.port))
    f:close()
    local rc = os.execute("timeout 30 nvim --headless -u NONE -i NONE -c 'luafile " .. script
      .. "' -c 'qa!' </dev/null >/dev/null 2>&1")
    assert.is_true(rc == true or rc == 0, "nvim exited with " .. tostring(rc))
    assert.equals("takes 0 0 0 wait\ncall 4994\n", H.read(out))
    assert.equals(1, #mock:log())
  end)
end)
