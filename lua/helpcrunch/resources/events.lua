--- `client.events`: record what a customer did (`POST /events`), shown in the
-- customer's profile under "User actions". There is no endpoint to read them back.
-- @module helpcrunch.resources.events

local core = require "helpcrunch.core"
local util = require "helpcrunch.util"
local errors = require "helpcrunch.errors"
local customers = require "helpcrunch.resources.customers"

local M = {}

local Events = {}
Events.__index = Events

--- @local
function M.new(client)
  return setmetatable({ client = client }, Events)
end

local FNAME = "events:track"
local PARAMS = { customer = true, name = true, data = true }
local OBJECT = { __jsontype = "object" }
local SCALAR = { string = true, number = true, boolean = true }

local function raise(msg)
  error(FNAME .. ": " .. msg, util.user_level())
end

-- data: a flat, non-empty map (the API refuses an empty one), copied into a
-- table the encoder writes as an object.
local function check_data(data)
  if type(data) ~= "table" then
    raise("data must be a table {key = value}, got " .. util.describe(data))
  end
  local out = setmetatable({}, OBJECT)
  for k, v in pairs(data) do
    if type(k) ~= "string" or k == "" then
      raise("data keys must be non-empty strings, got " .. util.describe(k))
    end
    if v ~= core.null and not SCALAR[type(v)] then
      raise("data." .. k .. " must be a string, number, boolean or helpcrunch.null (the API "
        .. "takes a flat object), got " .. util.describe(v))
    end
    out[k] = v
  end
  if next(out) == nil then raise("data is empty: the API refuses an event without data") end
  return out
end

-- The customer: an id, or {userId=} / {email=} to look up. Returns the id's
-- digits, or the lookup's key and value.
local function check_customer(customer)
  if type(customer) == "table" then
    local key, value
    for k, v in pairs(customer) do
      if (k ~= "userId" and k ~= "email") or key then
        raise('customer must be an id, {userId = "..."} or {email = "..."}, got a table with '
          .. util.describe(k))
      end
      key, value = k, v
    end
    if not key or type(value) ~= "string" or value == "" then
      raise('customer must be an id, {userId = "..."} or {email = "..."} with a non-empty string')
    end
    return nil, key, value
  end
  return customers.check_id(FNAME, customer, "customer")
end

--- Record an event of a customer.
-- @tparam table args `customer` (HelpCrunch's id, or `{userId = ...}` / `{email = ...}`,
--   looked up first), `name` (a non-empty string), `data` (a flat, non-empty map)
-- @treturn boolean|nil true
-- @treturn table the error (`kind = "not_found"` when no customer has that
--   userId/email; `code = "outcome_unknown"` when it may or may not be recorded)
function Events:track(args)
  util.check_self(self, Events, "client.events:track", 2)
  args = util.check_params(FNAME, args, PARAMS, 2)
  if type(args.name) ~= "string" or args.name == "" then
    raise("name must be a non-empty string, got " .. util.describe(args.name))
  end
  local data = check_data(args.data)
  local digits, key, value = check_customer(args.customer)
  local id
  if digits then
    id = tonumber(digits)
    id = math.tointeger and math.tointeger(id) or id
  else
    local found, err = self.client.customers:find { [key] = value }
    if found == nil and err ~= nil then return nil, err end
    if not found then
      return nil, errors.new {
        kind = "not_found", code = "entity_not_found",
        message = "Customer not found: no customer has " .. key .. " " .. util.describe(value)
          .. "; the event was not sent",
      }
    end
    id = found.id
  end
  local _, err = self.client:call("POST", "/events", { decode = false,
    body = { name = args.name, data = data, customer = id } }):wait()
  if errors.is(err) then return nil, err end
  return true
end

return M
