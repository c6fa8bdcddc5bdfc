--- `client.organization`: the account's availability (`GET /organization`,
-- `{id, domain, teamOnline, chatEnabled}`), the one single object the API
-- wraps in `data`: `get()` unwraps it.
-- @module helpcrunch.resources.organization

local util = require "helpcrunch.util"
local errors = require "helpcrunch.errors"

local M = {}

local Organization = {}
Organization.__index = Organization

--- @local
function M.new(client)
  return setmetatable({ client = client }, Organization)
end

--- The organization.
-- @treturn table|nil `{id=, domain=, teamOnline=, chatEnabled=}`
-- @treturn table the error
function Organization:get()
  util.check_self(self, Organization, "client.organization:get", 2)
  local body, err = self.client:call("GET", "/organization"):wait()
  if body == nil then return nil, err end
  if type(body) ~= "table" then
    return nil, errors.new { kind = "decode", code = "unexpected_shape", method = "GET",
      path = "/organization", message = "the response is not an object" }
  end
  if type(body.data) == "table" then return body.data end
  return body                     -- not wrapped: taken as it is
end

return M
