--- `client.customers`: get, list, all, search; create, update, replace,
-- delete, add_tags, remove_tags, update_many, find, upsert.
-- Arguments are checked before any request (errors raise); request failures
-- return `nil, err`. The searchable fields and the sorts are decided here,
-- once (FIELDS, SORTS), for the search builder too; the writable fields in
-- helpcrunch.resources.customer_fields. Writes are never marked idempotent:
-- the pipeline retries them only when the server cannot have acted.
-- @module helpcrunch.resources.customers

local util = require "helpcrunch.util"
local search = require "helpcrunch.search"
local base = require "helpcrunch.resources.base"
local writable = require "helpcrunch.resources.customer_fields"

local M = {}

local Customers = {}
Customers.__index = Customers

--- @local
function M.new(client)
  return setmetatable({ client = client }, Customers)
end

-- The resource: its path, its sorts, how its ids read in messages.
local R = base.resource {
  name = "customers", noun = "customer", example = 1568834, path = "/customers",
  prefix = "customers.", sorts = { "firstSeen", "lastSeen" },
}

--- Check a sort field; returns the API's full name.
M.check_sort = R.check_sort
--- Check an order; returns "asc" or "desc".
M.check_order = R.check_order

--- A customer id as the digits to put in a path; raises (at the user's
-- line) naming `arg`.
function M.check_id(fname, id, arg)
  local s = base.id_digits(id, 18)
  if not s then
    error(fname .. ": " .. (arg or "id") .. " must be a positive integer (HelpCrunch's numeric "
      .. "customer id, e.g. 1568834), got " .. util.describe(id), util.user_level())
  end
  return s
end
local check_id = M.check_id

--- Get one customer by HelpCrunch's numeric id.
-- @param id integer or string of digits
-- @treturn table|nil the customer
-- @treturn table the error
function Customers:get(id)
  util.check_self(self, Customers, "client.customers:get", 2)
  local c, err = R:get(self.client, "customers:get", id, 2)
  return c, err
end

--- One page of customers.
-- @tparam[opt] table params `offset` (0), `limit` (1..100, the client's
--   page_size), `sort` ("firstSeen"|"lastSeen"), `order` ("asc"|"desc")
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table the error
function Customers:list(params)
  util.check_self(self, Customers, "client.customers:list", 2)
  local page, err = R:list(self.client, "customers:list", params, 2)
  return page, err
end

--- Every customer, one by one, across pages: `for c in customers:all{} do`.
-- A failure raises the error object (like io.lines).
-- @tparam[opt] table params `sort`, `order`, `max` (most customers in all),
--   `page_size` (1..100), `prefetch` (pages requested ahead, 0..8), `resume`
--   (a checkpoint: `it:checkpoint()` of an earlier iteration)
function Customers:all(params)
  util.check_self(self, Customers, "client.customers:all", 2)
  local a, b, c, d = R:all(self.client, "customers:all", params, 2)
  return a, b, c, d
end

-- ---- writes ---------------------------------------------------------------

local raise = util.raise

--- Create a customer.
-- @tparam table fields any writable field (see README "Changing customers"):
--   customData a map, tags names or {name=, color=}, dates integers or digits
-- @treturn table|nil the created customer
-- @treturn table the error (`code = "outcome_unknown"` when the create may
--   or may not have happened: it is then never retried)
function Customers:create(fields)
  util.check_self(self, Customers, "client.customers:create", 2)
  local body = writable.body("customers:create", fields)
  return self.client:call("POST", "/customers", { body = body }):value()
end

local function change(self, fname, method, id, fields)
  local path = "/customers/" .. check_id(fname, id)
  local body, n = writable.body(fname, fields)
  if n == 0 then raise(fname .. ": fields is empty: name at least one field to change") end
  return self.client:call(method, path, { body = body }):value()
end

--- Change some fields of a customer (PATCH): the others keep their values;
-- a field given as helpcrunch.null is cleared.
-- @param id HelpCrunch's numeric id
-- @tparam table fields the fields to change
-- @treturn table|nil the updated customer
-- @treturn table the error
function Customers:update(id, fields)
  util.check_self(self, Customers, "client.customers:update", 2)
  return change(self, "customers:update", "PATCH", id, fields)
end

--- Replace a customer (PUT): every field NOT given is cleared. Use update
-- unless you send the complete record.
-- @param id HelpCrunch's numeric id
-- @tparam table fields the complete record
-- @treturn table|nil the customer
-- @treturn table the error
function Customers:replace(id, fields)
  util.check_self(self, Customers, "client.customers:replace", 2)
  return change(self, "customers:replace", "PUT", id, fields)
end

--- Delete a customer, for good.
-- @param id HelpCrunch's numeric id
-- @treturn boolean|nil true
-- @treturn table the error
function Customers:delete(id)
  util.check_self(self, Customers, "client.customers:delete", 2)
  local path = "/customers/" .. check_id("customers:delete", id)
  -- DELETE answers "Ok", not JSON: any 2xx is the result (error bodies are still read)
  return self.client:call("DELETE", path, { decode = false }):ok()
end

local function tags_call(self, fname, method, id, tags)
  local path = "/customers/" .. check_id(fname, id) .. "/tags"
  local list = writable.tag_list(fname .. ": tags", tags, method == "DELETE")
  if #list == 0 then raise(fname .. ": tags is empty: name at least one tag") end
  return self.client:call(method, path, { body = { tags = list }, decode = false }):ok()
end

--- Add tags to a customer (its other tags are kept; a new tag name is
-- created in the account, coloured #c377e0 unless a color is given).
-- @param id HelpCrunch's numeric id
-- @tparam table tags names or {name=, color=}
-- @treturn boolean|nil true
-- @treturn table the error
function Customers:add_tags(id, tags)
  util.check_self(self, Customers, "client.customers:add_tags", 2)
  return tags_call(self, "customers:add_tags", "PUT", id, tags)
end

--- Remove tags from a customer (names; a tag it does not carry is ignored).
-- @param id HelpCrunch's numeric id
-- @tparam table tags names or {name=}
-- @treturn boolean|nil true
-- @treturn table the error
function Customers:remove_tags(id, tags)
  util.check_self(self, Customers, "client.customers:remove_tags", 2)
  return tags_call(self, "customers:remove_tags", "DELETE", id, tags)
end

--- Update many customers (like update, PATCH semantics), in batches of 10.
-- See helpcrunch.resources.customer_batch.
-- @tparam table list `{ {id = ..., field = value, ...}, ... }`
-- @treturn table results, one per input in order: the customer, or an error
--   object for an item the server did not apply (`helpcrunch.is_error`)
function Customers:update_many(list)
  util.check_self(self, Customers, "client.customers:update_many", 2)
  return require("helpcrunch.resources.customer_batch").update_many(self.client, list)
end

local FIND_KEYS = { userId = true, email = true }

--- The customer with this userId (or email), by an exact search.
-- @tparam table by `{userId = "crm-1815"}` or `{email = "ada@example.com"}`
-- @treturn table|nil the first match (by the API's order), or nil when none
-- @treturn integer|table how many matched (an email may match several); or the error
function Customers:find(by)
  util.check_self(self, Customers, "client.customers:find", 2)
  local fname = "customers:find"
  if type(by) ~= "table" then
    raise(fname .. ': expected {userId = "..."} or {email = "..."}, got ' .. util.describe(by))
  end
  local field, value
  for k, v in pairs(by) do
    if not FIND_KEYS[k] then
      raise(fname .. ": unknown key " .. util.describe(k) .. " (valid: userId or email)")
    end
    if field then raise(fname .. ": give userId or email, not both") end
    field, value = k, v
  end
  if not field then raise(fname .. ': expected {userId = "..."} or {email = "..."}') end
  if type(value) ~= "string" or value == "" then
    raise(fname .. ": " .. field .. " must be a non-empty string, got " .. util.describe(value))
  end
  local page, err = self:search():where(field, "=", value):page { limit = 1 }
  if not page then
    -- Some clients saw "no match" as a 404 Customer not found (API-REFERENCE.md §1.5).
    if err.status == 404 and err.code == "entity_not_found" then return nil end
    return nil, err
  end
  local c = page.data[1]
  if c == nil then return nil end
  return c, page.total or #page.data
end

local function patch_found(self, found, body)
  body.userId = nil
  if next(body) == nil then return found, false end
  local c, err = self.client:call("PATCH", "/customers/" .. util.int_string(found.id),
    { body = body }):value()
  if c == nil then return nil, err end
  return c, false
end

--- Create the customer with this userId, or update the one that has it (only
-- the fields given, as update). Not atomic: a find, then a create or a PATCH.
-- @tparam table fields userId (required) and any writable field
-- @treturn table|nil the customer
-- @treturn boolean|table true when created, false when updated; or the error
function Customers:upsert(fields)
  util.check_self(self, Customers, "client.customers:upsert", 2)
  local fname = "customers:upsert"
  local body = writable.body(fname, fields)
  local uid = body.userId
  if type(uid) ~= "string" or uid == "" then
    raise(fname .. ": userId (a non-empty string) is required: it finds the customer")
  end
  local found, err = self:find { userId = uid }      -- (customer, count) | nil | (nil, err)
  if found == nil and err ~= nil then return nil, err end
  if found then return patch_found(self, found, body) end
  local created, cerr = self.client:call("POST", "/customers", { body = body }):value()
  if created ~= nil then return created, true end
  if cerr.code == "invalid_userId_value" then
    -- Someone created it between the find and the create: update that one.
    found, err = self:find { userId = uid }
    if found == nil and err ~= nil then return nil, err end
    if found then return patch_found(self, found, body) end
  end
  return nil, cerr
end

-- The searchable fields and their types (API-REFERENCE.md).
local FIELDS = {
  id = "integer",
  telegramId = "string", facebookId = "string", instagramId = "string",
  viberId = "string", whatsappId = "string",
  name = "string", email = "string", company = "string", phone = "string",
  countryCode = "string", city = "string", regionCode = "string", userId = "string",
  tagsData = "array",
  lastSeen = "date", createdAt = "date",
}

local SEARCH = {
  name = "customers", path = "/customers/search", prefix = "customers.", fields = FIELDS,
  tags_field = "tagsData", check_sort = R.check_sort, check_order = R.check_order,
}

--- A search query builder (see helpcrunch.search).
function Customers:search()
  util.check_self(self, Customers, "client.customers:search", 2)
  return search.new(self.client, SEARCH)
end

return M
