--- `client.customers:update_many`: many updates in `PUT /customers/batch`
-- requests of at most the API's 10 (API-REFERENCE.md §1.4), one result per
-- input, in order. A chunk the server refused as a whole (400/404: it applied
-- none of it) is split in halves and sent again, so the good items still apply
-- and each bad one gets its own error; any other failure is the error of every
-- item of that chunk. Successes are never hidden by a failure elsewhere.
-- @module helpcrunch.resources.customer_batch

local util = require "helpcrunch.util"
local customers = require "helpcrunch.resources.customers"
local writable = require "helpcrunch.resources.customer_fields"

local M = {}

-- The API's most customers in one batch request.
local MAX_BATCH = 10

local raise = util.raise

local function int_id(digits)
  local n = tonumber(digits)
  return math.tointeger and math.tointeger(n) or n
end

-- Send items[lo..hi] as one batch; fill results[lo..hi]. A batch the server
-- refused as a whole (400/404: it applied none of it) is split in halves and
-- sent again, so the good items still apply and each bad one gets its own
-- error; any other failure is every item's error.
local function send_batch(client, items, lo, hi, results)
  local chunk = {}
  for i = lo, hi do chunk[#chunk + 1] = items[i] end
  local body, err = client:call("PUT", "/customers/batch", { body = chunk }):value()
  if err then
    if (err.kind == "validation" or err.kind == "not_found") and hi > lo then
      local mid = math.floor((lo + hi) / 2)
      send_batch(client, items, lo, mid, results)
      send_batch(client, items, mid + 1, hi, results)
    else
      for i = lo, hi do results[i] = err end
    end
    return
  end
  local by_id = {}
  if type(body) == "table" then
    for _, c in ipairs(body) do
      if type(c) == "table" and c.id ~= nil then by_id[c.id] = c end
    end
  end
  for i = lo, hi do
    local id = items[i].customer
    results[i] = by_id[id] or { id = id }     -- applied; the answer did not show it
  end
end

--- Update many customers (like update, PATCH semantics), in batches of 10.
-- @tparam table client
-- @tparam table list `{ {id = ..., field = value, ...}, ... }`
-- @treturn table results, one per input in order: the customer, or an error
--   object for an item the server did not apply (`helpcrunch.is_error`)
function M.update_many(client, list)
  local fname = "customers:update_many"
  if type(list) ~= "table" then
    raise(fname .. ": list must be a list of {id = ..., field = value, ...}, got "
      .. util.describe(list))
  end
  local items = {}
  for i, item in ipairs(list) do
    local arg = "list[" .. i .. "]"
    if type(item) ~= "table" then
      raise(fname .. ": " .. arg .. " must be a table {id = ..., field = value}, got "
        .. util.describe(item))
    end
    local id = customers.check_id(fname, item.id, arg .. ".id")
    local body, n = writable.body(fname, item, arg, { id = true })
    if n == 0 then raise(fname .. ": " .. arg .. " names no field to change besides id") end
    body.customer = int_id(id)
    items[i] = body
  end
  for k in pairs(list) do
    if items[k] == nil then raise(fname .. ": list must be a list (keys 1..n), found key "
      .. util.describe(k)) end
  end
  local results = {}
  for lo = 1, #items, MAX_BATCH do
    send_batch(client, items, lo, math.min(lo + MAX_BATCH - 1, #items), results)
  end
  return results
end

return M
