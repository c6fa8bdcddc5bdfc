--- helpcrunch-lua: a client for the HelpCrunch REST API.
--
--     local helpcrunch = require "helpcrunch"
--     local client = helpcrunch.new { token = os.getenv("HELPCRUNCH_API_KEY") }
--     local page, err = client.customers:list { limit = 10 }
--
-- @module helpcrunch

-- The C core (helpcrunch/core.so): say plainly what is missing when it cannot load.
local ok, core = pcall(require, "helpcrunch.core")
if not ok then
  error("helpcrunch: the C core helpcrunch.core (helpcrunch/core.so, built for this Lua: "
    .. "`make LUA=luajit` gives build/luajit/helpcrunch/core.so, the one OpenResty needs; "
    .. "it also needs libcurl) could not be loaded; add its directory to package.cpath "
    .. "(in nginx: lua_package_cpath \"/path/to/build/luajit/?.so;;\"). The loader said: "
    .. tostring(core), 0)
end
local errors = require "helpcrunch.errors"

local M = {
  _VERSION = core._VERSION,
  --- Stands for a JSON null inside a list (nulls in objects are absent).
  null = core.null,
}

--- Create a client (see README "Options").
-- @tparam[opt] table opts
-- @treturn table client with `client.customers`
function M.new(opts)
  return require("helpcrunch.client").new(opts)
end

--- Decode a JSON body with the core's decoder and customer normalisation,
-- for bodies that arrived by another transport.
-- @tparam string text JSON
-- @return the value, or nil and an error of kind "decode" naming the byte
function M.decode(text)
  if type(text) ~= "string" then
    error("helpcrunch.decode: text must be a string, got " .. type(text), 2)
  end
  local v, msg, at = core.decode(text)
  if v == nil and msg then
    return nil, errors.new { kind = "decode", code = "invalid_json", message = msg, offset = at }
  end
  return v
end

--- Is v an error object of this library?
M.is_error = errors.is

--- Run fn in a coroutine for a client made with `loop =` (Neovim, luvit):
-- its calls yield while they wait and resume from the loop.
-- `done(ok, result_or_err)` is called when fn ends.
-- @tparam function fn
-- @tparam[opt] function done
M.async = function(fn, done) return require("helpcrunch.async").run(fn, done) end

--- Rate-limit stores: helpcrunch.ratelimit.memory(), .shdict(dict), .redis{...}
M.ratelimit = require "helpcrunch.ratelimit"

--- Webhooks: helpcrunch.webhook.verify(raw_body, signature, secret),
-- .parse(raw_body, signature, secret), .sign(raw_body, secret)
M.webhook = require "helpcrunch.webhook"

return M
