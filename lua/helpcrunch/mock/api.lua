--- The `/v1` endpoints: routing, auth, rate limit, validation, pages, create, churn.
--
-- Each handler takes the mock (see `helpcrunch.mock`) and a request
-- `{ method, path, query = {name = value}, headers = {lower-name = value}, body = string }`
-- and returns a response `{ status, body, headers = {Name = value} | nil }`.
-- @module helpcrunch.mock.api

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"
local store = require "helpcrunch.mock.store"
local search = require "helpcrunch.mock.search"

local null, array = json.null, json.array
local type, tostring, tonumber, ipairs, pairs = type, tostring, tonumber, ipairs, pairs
local concat, floor, min = table.concat, math.floor, math.min
local encoded = store.encoded

local M = {}

local function errors_body(list)
  local out = {}
  for i, e in ipairs(list) do
    out[i] = '{"code":' .. json.string(e[1] or e.code) .. ',"message":' .. json.string(e[2] or e.message) .. "}"
  end
  return '{"errors":[' .. concat(out, ",") .. "]}"
end
M.errors_body = errors_body

local INVALID_REQUEST = { "invalid_request", "Invalid request" }

-- Each endpoint family answers auth and rate-limit failures in its own shape.
local SHAPES = {
  get = {
    unauthorized = errors_body({ { "invalid_token", "Invalid token" } }),
    too_many = errors_body({ { "too_many_requests", "You have exceeded your requests limit" } }),
  },
  post = {
    unauthorized = errors_body({ INVALID_REQUEST, { "unauthorized", "Unauthorized" } }),
    too_many = errors_body({ INVALID_REQUEST, { "too_many_requests", "Too many requests" } }),
  },
}
local SHAPE_OF = { list = "get", get = "get", search = "post", create = "post" }
local NOT_FOUND = errors_body({ { "entity_not_found", "Customer not found" } })
local NO_ROUTE = errors_body({ { "not_found", "Not found" } })
local NO_METHOD = errors_body({ { "method_not_allowed", "Method not allowed" } })

--- The 429 body of an endpoint ("list", "get", "search", "create").
-- @tparam string kind
-- @treturn string
function M.too_many_body(kind)
  return SHAPES[SHAPE_OF[kind] or "get"].too_many
end

--- Find the endpoint of a request.
-- @tparam string method
-- @tparam string path (without query)
-- @treturn string|nil kind: "list", "get", "search", "create"; nil when unknown
-- @treturn string|nil the id segment for "get", or the allowed methods when the
--   path is known but not the method (kind is then nil)
function M.route(method, path)
  if path == "/v1/customers" then
    if method == "GET" then return "list" end
    if method == "POST" then return "create" end
    return nil, "GET, POST"
  end
  if path == "/v1/customers/search" and method == "POST" then
    return "search"
  end
  local id = path:match("^/v1/customers/([^/]+)$")
  if id then
    if method == "GET" then return "get", id end
    return nil, id == "search" and "POST" or "GET"
  end
  return nil
end

--- Check the Authorization header.
-- @tparam table req
-- @tparam string|nil token the only accepted token, or nil for any non-empty one
-- @treturn string "ok", "missing" or "invalid"
function M.auth(req, token)
  local h = req.headers.authorization
  if h == nil then return "missing" end
  local given = h:match("^[Bb]earer%s+(.-)%s*$")
  if not given or given == "" then return "invalid" end
  if token and given ~= token then return "invalid" end
  return "ok"
end

local function page_body(recs, offset, limit, total)
  local items, n = {}, 0
  for i = offset + 1, min(offset + limit, #recs) do
    n = n + 1
    items[n] = encoded(recs[i])
  end
  local list = concat(items, ",", 1, n)
  -- The API's pages list "total" and "data" in either order: alternate by page number.
  if floor(offset / limit) % 2 == 0 then
    return '{"total":' .. total .. ',"data":[' .. list .. "]}"
  end
  return '{"data":[' .. list .. '],"total":' .. total .. "}"
end
M.page_body = page_body

local function bad_request(list, lead)
  if lead then
    local all = { INVALID_REQUEST }
    for _, e in ipairs(list) do all[#all + 1] = e end
    list = all
  end
  return { status = 400, body = errors_body(list) }
end

local function list(mock, req)
  local q, errs = req.query, {}
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
  if q.sort ~= nil then
    if search.SORTS[q.sort] then key, dir = search.SORTS[q.sort], "asc"
    else errs[#errs + 1] = { "validation_error", "sort value is invalid" } end
  end
  if q.order ~= nil then
    local o = q.order:lower()
    if o == "asc" or o == "desc" then dir = o
    else errs[#errs + 1] = { "validation_error", "order value is invalid" } end
  end
  if #errs > 0 then return bad_request(errs) end
  local recs = mock.store:ordered(key, dir)
  local res = { status = 200, body = page_body(recs, offset, limit, #recs) }
  mock:after_page(key, dir, nil)
  return res
end

local function get(mock, _, id)
  local rec = id:find("^%d+$") and mock.store:get(tonumber(id))
  if not rec then return { status = 404, body = NOT_FOUND } end
  return { status = 200, body = encoded(rec, true) }
end

local function decode_body(req)
  if req.body == "" then return {} end
  local body, err = json.decode(req.body)
  if body == nil and err then
    return nil, bad_request({ { "body", "Invalid JSON: " .. err } }, true)
  end
  if type(body) ~= "table" or (search.is_list(body) and next(body) ~= nil) then
    return nil, bad_request({ { "body", "This value should be of type object." } }, true)
  end
  return body
end

local function run_search(mock, req)
  local body, bad = decode_body(req)
  if not body then return bad end
  local q, errs = search.compile(body)
  if not q then return bad_request(errs, true) end
  local recs = mock:search(q)
  local res = { status = 200, body = page_body(recs, q.offset, q.limit, #recs) }
  mock:after_page(q.key, q.dir, recs[q.offset + 1] or recs[1], q)
  return res
end

local STRING_FIELDS = { "name", "email", "userId", "company", "phone", "source", "referer",
                        "lastPage", "locale", "createdFrom", "integrationId", "notes" }
local TOO_LONG = "This value is too long. It should have 255 characters or less."
local MAX_TEXT = 255

local function utf8_len(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

--- Validate a create body and build the stored customer.
-- @tparam table mock
-- @tparam table body decoded JSON object
-- @tparam number now creation time
-- @treturn table|nil entry
-- @treturn table|nil errors (field entries, without invalid_request)
function M.new_customer(mock, body, now)
  local errs = {}
  local c = {}
  for _, k in ipairs(STRING_FIELDS) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = null
    elseif type(v) ~= "string" then
      errs[#errs + 1] = { k, search.MSG.string }
    else
      c[k] = v
    end
  end
  if type(c.notes) == "string" and utf8_len(c.notes) > MAX_TEXT then
    errs[#errs + 1] = { "notes", TOO_LONG }
  end
  for _, k in ipairs({ "firstSeen", "lastSeen" }) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = null
    elseif (type(v) == "string" and v:find("^%d+$")) or
           (type(v) == "number" and v == floor(v) and v >= 0) then
      c[k] = v                          -- kept as sent: the API echoes string dates
    else
      errs[#errs + 1] = { k, search.MSG.numeric }
    end
  end
  if c.lastSeen == null then c.lastSeen = c.firstSeen end
  for _, k in ipairs({ "unsubscribed", "blocked" }) do
    local v = body[k]
    if v == nil or v == null then
      c[k] = false
    elseif type(v) ~= "boolean" then
      errs[#errs + 1] = { k, "This value should be of type bool." }
    else
      c[k] = v
    end
  end
  local loc = body.location
  c.location = { regionCode = null, countryCode = null, city = null }
  if type(loc) == "table" then
    for _, k in ipairs({ "regionCode", "countryCode", "city" }) do
      if type(loc[k]) == "string" then c.location[k] = loc[k] end
    end
  elseif loc ~= nil and loc ~= null then
    errs[#errs + 1] = { "location", search.MSG.array }
  end
  local dev = body.device
  if type(dev) == "table" then
    c.device = data.copy(dev)
  elseif dev == nil or dev == null then
    c.device = null
  else
    errs[#errs + 1] = { "device", search.MSG.array }
  end

  local tags = array({})
  local btags = body.tags
  if btags ~= nil and btags ~= null then
    if not search.is_list(btags) then
      errs[#errs + 1] = { "tags", search.MSG.array }
    else
      for i, t in ipairs(btags) do
        local code = "tags[" .. (i - 1) .. "]"
        if type(t) == "string" then t = { name = t } end
        if type(t) ~= "table" or type(t.name) ~= "string" or t.name == "" then
          errs[#errs + 1] = { code .. ".name", search.MSG.blank }
        elseif t.color ~= nil and t.color ~= null and type(t.color) ~= "string" then
          errs[#errs + 1] = { code .. ".color", search.MSG.string }
        else
          local color = t.color
          if color == nil or color == null or color == "" then
            color = mock.store:tag_color(t.name) or data.DEFAULT_TAG_COLOR
          end
          tags[#tags + 1] = { name = t.name, color = color }
        end
      end
    end
  end
  c.tags = tags

  local cd, order = {}, {}
  local bcd = body.customData
  if bcd ~= nil and bcd ~= null then
    if type(bcd) ~= "table" then
      errs[#errs + 1] = { "customData", search.MSG.array }
    elseif search.is_list(bcd) then
      for i, p in ipairs(bcd) do
        local code = "customData[" .. (i - 1) .. "]"
        if type(p) ~= "table" or type(p.property) ~= "string" or p.property == "" then
          errs[#errs + 1] = { code .. ".property", search.MSG.blank }
        else
          local v = p.value
          if v == nil then v = null end
          -- a date attribute sent as a numeric string is stored as an integer
          if type(v) == "string" and v:find("^%d+$") and p.property:lower():find("date") then
            v = tonumber(v)
          end
          if type(v) == "string" and utf8_len(v) > MAX_TEXT then
            errs[#errs + 1] = { code .. ".value", TOO_LONG }
          end
          if cd[p.property] == nil then order[#order + 1] = p.property end
          cd[p.property] = v
        end
      end
    else                                -- lenient: a map is taken as it is
      local keys = {}
      for k in pairs(bcd) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local v = bcd[k]
        if type(v) == "string" and utf8_len(v) > MAX_TEXT then
          errs[#errs + 1] = { "customData." .. k, TOO_LONG }
        end
        cd[k] = v
        order[#order + 1] = k
      end
    end
  end
  c.customData = cd
  if #errs > 0 then return nil, errs end
  return { customer = c, cd_order = order, cd_list = false, created = now }
end

local function create(mock, req)
  local body, bad = decode_body(req)
  if not body then return bad end
  local e, errs = M.new_customer(mock, body, mock.now())
  if not e then return bad_request(errs, true) end
  local uid = e.customer.userId
  if type(uid) == "string" and mock.store:find_user(uid) then
    return bad_request({ { "invalid_userId_value", "This userId is already taken." } }, true)
  end
  e.customer.id = mock.store.max_id + 1
  local rec = mock.store:add(e)
  return { status = 201, body = encoded(rec) }
end

local HANDLERS = { list = list, get = get, search = run_search, create = create }

--- Handle one `/v1` request: route, auth, rate limit, then the endpoint.
-- @tparam table mock
-- @tparam table req
-- @treturn table response `{status, body, headers}`
-- @treturn string auth outcome ("ok", "missing", "invalid"), or nil before auth
function M.handle(mock, req)
  local kind, arg = M.route(req.method, req.path)
  if not kind then
    if arg then
      return { status = 405, body = NO_METHOD, headers = { Allow = arg } }
    end
    return { status = 404, body = NO_ROUTE }
  end
  local auth = M.auth(req, mock.token)
  local shape = SHAPES[SHAPE_OF[kind]]
  if auth ~= "ok" then
    return { status = 401, body = shape.unauthorized }, auth
  end
  local ok, retry = mock:take_slot()
  if not ok then
    return { status = 429, body = shape.too_many, headers = mock:retry_headers(retry) }, auth
  end
  return HANDLERS[kind](mock, req, arg), auth
end

return M
