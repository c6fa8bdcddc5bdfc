--- Replies shared by the endpoint modules: error bodies, the API's error dialects,
-- pages, and reading a JSON request body.
--
-- A reply is a table `{ status, body, headers = {Name = value} | nil, ctype | nil }`
-- (see `helpcrunch.mock.http` for the rest of its fields).
-- @module helpcrunch.mock.replies

local json = require "helpcrunch.mock.json"
local search = require "helpcrunch.mock.search"

local type, ipairs, next = type, ipairs, next
local concat, floor, min = table.concat, math.floor, math.min

local M = {}

--- An `{"errors": [...]}` body.
-- @tparam table list entries `{code, message}` (or `{code =, message =}`)
-- @treturn string JSON
function M.errors_body(list)
  local out = {}
  for i, e in ipairs(list) do
    out[i] = '{"code":' .. json.string(e[1] or e.code) .. ',"message":' ..
      json.string(e[2] or e.message) .. "}"
  end
  return '{"errors":[' .. concat(out, ",") .. "]}"
end
local errors_body = M.errors_body

M.INVALID_REQUEST = { "invalid_request", "Invalid request" }

local function dialect(unauthorized, too_many, lead)
  return {
    unauthorized = errors_body(unauthorized),
    too_many = errors_body(too_many),
    --- A 400 with these entries, led by `invalid_request` in dialects that do so.
    bad_request = function(list)
      if lead then
        local all = { M.INVALID_REQUEST }
        for _, e in ipairs(list) do all[#all + 1] = e end
        list = all
      end
      return { status = 400, body = errors_body(list) }
    end,
  }
end

--- Each endpoint family answers auth, rate-limit and validation failures in its own
-- shape. A route names its dialect (`"get"`, `"post"`) or carries a table of its own
-- made by `M.dialect(unauthorized_entries, too_many_entries, lead)`.
M.dialect = dialect
M.dialects = {
  -- GET endpoints: bare entries
  get = dialect({ { "invalid_token", "Invalid token" } },
                { { "too_many_requests", "You have exceeded your requests limit" } }, false),
  -- search and create: every list led by invalid_request
  post = dialect({ M.INVALID_REQUEST, { "unauthorized", "Unauthorized" } },
                 { M.INVALID_REQUEST, { "too_many_requests", "Too many requests" } }, true),
}

M.NO_ROUTE = errors_body({ { "not_found", "Not found" } })
M.NO_METHOD = errors_body({ { "method_not_allowed", "Method not allowed" } })

--- A page body: `limit` encoded records from `offset` and the `total`.
-- The API's pages list "total" and "data" in either order: this alternates them by
-- page number (`total` first on even pages).
-- @tparam table recs records
-- @tparam integer offset
-- @tparam integer limit
-- @tparam integer total
-- @tparam function encode record -> JSON text
-- @treturn string
function M.page(recs, offset, limit, total, encode)
  local items, n = {}, 0
  for i = offset + 1, min(offset + limit, #recs) do
    n = n + 1
    items[n] = encode(recs[i])
  end
  local list = concat(items, ",", 1, n)
  if floor(offset / limit) % 2 == 0 then
    return '{"total":' .. total .. ',"data":[' .. list .. "]}"
  end
  return '{"data":[' .. list .. '],"total":' .. total .. "}"
end

--- The request body as a JSON object (an empty body is `{}`).
-- @tparam table req
-- @tparam table d the endpoint's dialect (for the 400)
-- @treturn table|nil the object
-- @treturn table|nil the 400 reply when it is not one
function M.json_object(req, d)
  if req.body == "" then return {} end
  local body, err = json.decode(req.body)
  if body == nil and err then
    return nil, d.bad_request({ { "body", "Invalid JSON: " .. err } })
  end
  if type(body) ~= "table" or (search.is_list(body) and next(body) ~= nil) then
    return nil, d.bad_request({ { "body", "This value should be of type object." } })
  end
  return body
end

return M
