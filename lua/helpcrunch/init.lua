--- helpcrunch-lua: a client for the HelpCrunch customers API.
--
--     local helpcrunch = require "helpcrunch"
--     local client = helpcrunch.new { token = os.getenv("HELPCRUNCH_API_KEY") }
--     local page, err = client.customers:list { limit = 10 }
--
-- @module helpcrunch

local core = require "helpcrunch.core"
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

return M
