--- `/v1/events`: record a customer's event (`POST /events`, API-REFERENCE.md §2).
--
-- Body `{"name": "...", "data": {...}, "customer": <id>}`: `name` a non-empty string,
-- `customer` an id (a digit string is accepted too), `data` a non-empty flat object (the
-- PHP client refuses an empty one with "data value is invalid": the mock assumes the
-- server does too). 200 with the event (`createdAt` as a string of digits, as the newer
-- page shows); an unknown customer is a 404. The events are kept for
-- `GET /_mock/events` (the API has no route to read them back).
-- @module helpcrunch.mock.endpoints.events

local json = require "helpcrunch.mock.json"
local search = require "helpcrunch.mock.search"
local replies = require "helpcrunch.mock.replies"

local type, tonumber, pairs, floor = type, tonumber, pairs, math.floor

local NOT_FOUND = { { "entity_not_found", "Customer not found" } }
local DATA_INVALID = "data value is invalid"

local M = {}

local function check_data(d, errs)
  if type(d) ~= "table" or next(d) == nil or search.is_list(d) then
    errs[#errs + 1] = { "data", DATA_INVALID }
    return
  end
  for k, v in pairs(d) do
    if type(v) == "table" then
      errs[#errs + 1] = { "data." .. k, "This value should be a scalar (the data object is flat)." }
    end
  end
end

local function track(mock, req)
  local d = replies.dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local errs = {}
  local name, cid = body.name, body.customer
  if type(name) ~= "string" or name == "" then
    errs[#errs + 1] = { "name", search.MSG.blank }
  end
  if cid == nil or cid == json.null then
    errs[#errs + 1] = { "customer", search.MSG.blank }
  elseif not ((type(cid) == "number" and cid == floor(cid) and cid >= 1) or
              (type(cid) == "string" and cid:find("^%d+$"))) then
    errs[#errs + 1] = { "customer", search.MSG.numeric }
  end
  check_data(body.data, errs)
  if #errs > 0 then return d.bad_request(errs) end
  local id = tonumber(cid)
  if not mock.store:get(id) then return d.reply(404, NOT_FOUND) end
  local now = floor(mock.now())
  local event = { id = 168990409 + #mock.events, name = name, data = body.data,
                  customer = id, createdAt = now }
  mock.events[#mock.events + 1] = event
  return { status = 200, body = '{"id":' .. event.id .. ',"name":' .. json.string(name) ..
    ',"data":' .. json.encode(body.data) .. ',"createdAt":"' .. now .. '"}' }
end

--- The routes.
M.routes = {
  { method = "POST", path = "/v1/events", handler = track, dialect = "post", name = "events.track" },
}

return M
