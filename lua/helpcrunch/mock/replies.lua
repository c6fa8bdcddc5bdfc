--- Replies shared by the endpoint modules: error bodies, the API's error dialects,
-- pages, and reading a JSON request body.
--
-- A reply is a table `{ status, body, headers = {Name = value} | nil, ctype | nil }`
-- (see `helpcrunch.mock.http` for the rest of its fields).
-- @module helpcrunch.mock.replies

local json = require "helpcrunch.mock.json"
local search = require "helpcrunch.mock.search"

local type, ipairs, next, tonumber = type, ipairs, next, tonumber
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
  --- A reply with this status and these entries, led by `invalid_request` in dialects
  -- that do so.
  local function reply(status, list)
    if lead then
      local all = { M.INVALID_REQUEST }
      for _, e in ipairs(list) do all[#all + 1] = e end
      list = all
    end
    return { status = status, body = errors_body(list) }
  end
  return {
    unauthorized = errors_body(unauthorized),
    too_many = errors_body(too_many),
    lead = lead,
    reply = reply,
    --- A 400 with these entries.
    bad_request = function(list) return reply(400, list) end,
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

--- The dialect a request is answered in: the route's own, unless `POST /_mock/config`
-- set another for that route name (`dialects = {["chats.get"] = "post"}`).
-- @tparam table mock
-- @tparam table req (the router sets `req.route`)
-- @treturn table
function M.dialect_of(mock, req)
  local route = req.route
  if not route then return M.dialects.get end
  local name = mock.config.dialects and mock.config.dialects[route.name]
  return name and M.dialects[name] or route.dialect
end

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

--- A page body in the shape an endpoint uses: the items under `data` (or `messages`),
-- and the total at the top level (`{"data":[...],"total":N}`), under `meta`
-- (`{"data":[...],"meta":{"total":N}}`) or nowhere. `POST /_mock/config` can change the
-- shape of a route (`pages = {["chats.list"] = {total = "top"}}`).
-- @tparam table mock
-- @tparam table req (for the route's name)
-- @tparam table default `{total = "meta" | "top" | "over" | "none", key = "data" | "messages"}`
-- @tparam table items records
-- @tparam integer offset
-- @tparam integer limit
-- @tparam function encode record -> JSON text
-- @treturn string
function M.shaped_page(mock, req, default, items, offset, limit, encode)
  local over = req.route and mock.config.pages and mock.config.pages[req.route.name] or {}
  local total_at, key = over.total or default.total, over.key or default.key or "data"
  local out, n = {}, 0
  for i = offset + 1, min(offset + limit, #items) do
    n = n + 1
    out[n] = encode(items[i])
  end
  local list = '"' .. key .. '":[' .. concat(out, ",", 1, n) .. "]"
  if total_at == "meta" then return "{" .. list .. ',"meta":{"total":' .. #items .. "}}" end
  if total_at == "over" then                -- one more than there is, as an agents example
    return "{" .. list .. ',"meta":{"total":' .. (#items + 1) .. "}}"
  end
  if total_at == "top" then return "{" .. list .. ',"total":' .. #items .. "}" end
  return "{" .. list .. "}"
end

--- Read the paging and sort parameters of a list (`GET`) request, as customers and chats
-- check them: `offset` (>= 0), `limit` (1..100, default 100), `sort` (a name of `sorts`,
-- which maps it to a record key; `nil` when the list takes none), `order` (asc/desc, any
-- case). Without `sort` the order is by id, descending unless `order=asc`; with one,
-- ascending unless `order=desc`.
-- @tparam table q the query `{name = value}`
-- @tparam[opt] table sorts `{name = key}`
-- @treturn integer offset
-- @treturn integer limit
-- @treturn string key
-- @treturn string dir
-- @treturn table errors `{code, message}` entries (`validation_error`, "limit value is invalid")
function M.list_params(q, sorts)
  local errs = {}
  local offset, limit, key, dir = 0, 100, "id", "desc"
  if q.offset ~= nil then
    if q.offset:find("^%d+$") then offset = tonumber(q.offset)
    else errs[#errs + 1] = { "validation_error", "offset value is invalid" } end
  end
  if q.limit ~= nil then
    local n = q.limit:find("^%d+$") and tonumber(q.limit)
    if n and n >= 1 and n <= 100 then limit = n
    else errs[#errs + 1] = { "validation_error", "limit value is invalid" } end
  end
  if q.sort ~= nil and sorts then
    if sorts[q.sort] then key, dir = sorts[q.sort], "asc"
    else errs[#errs + 1] = { "validation_error", "sort value is invalid" } end
  end
  if q.order ~= nil and sorts then
    local o = q.order:lower()
    if o == "asc" or o == "desc" then dir = o
    else errs[#errs + 1] = { "validation_error", "order value is invalid" } end
  end
  return offset, limit, key, dir, errs
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
