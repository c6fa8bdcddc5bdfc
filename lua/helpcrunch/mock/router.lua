--- The `/v1` router: one route table built from the endpoint modules listed in
-- `helpcrunch.mock.endpoints`, then auth, rate limit and the route's handler.
--
-- A route is `{ method = "GET", path = "/v1/customers/{id}", handler = fn,
-- dialect = "get" | "post" | table, name = "customers.get" }`. `{name}` in a path
-- matches one segment (no `/`) and is passed to the handler:
-- `handler(mock, req, segment...)` returns a reply (see `helpcrunch.mock.replies`).
--
-- Matching works like the real service's router: routes are tried in the order of
-- the endpoint list, then of each module's `routes`; the first whose method and path
-- both match wins. A path some route matches with another method is a 405 whose
-- `Allow` lists those methods; any other path is a 404. So a module lists a literal
-- path (`/v1/customers/search`) before a pattern that also matches it
-- (`/v1/customers/{id}`). The order of checks is: route, auth (a 401 takes no
-- rate-limit slot), rate limit, then the handler (validation and the rest). The handler
-- finds its route in `req.route` (for `replies.dialect_of`).
-- @module helpcrunch.mock.router

local replies = require "helpcrunch.mock.replies"
local endpoints = require "helpcrunch.mock.endpoints"

local type, ipairs, error, tostring, require = type, ipairs, error, tostring, require
local concat = table.concat
local unpack = table.unpack or unpack   -- luacheck: ignore 143

local M = {}

-- "/v1/customers/{id}" -> "^/v1/customers/([^/]+)$"
local function compile(path)
  local escaped = path:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
  local pattern, segments = escaped:gsub("{[%w_]+}", "([^/]+)")
  return "^" .. pattern .. "$", segments
end

local function build(names)
  local routes = {}
  for _, name in ipairs(names) do
    for _, r in ipairs(require(name).routes) do
      local d = r.dialect
      if type(d) == "string" then d = replies.dialects[d] end
      if type(d) ~= "table" or type(r.handler) ~= "function" or type(r.method) ~= "string" or
         type(r.path) ~= "string" then
        error("helpcrunch.mock: bad route " .. tostring(r.name or r.path))
      end
      local pattern, segments = compile(r.path)
      routes[#routes + 1] = { method = r.method, path = r.path, pattern = pattern,
                              segments = segments, handler = r.handler, dialect = d,
                              name = r.name or r.path }
    end
  end
  return routes
end

--- Every route, in matching order.
M.ROUTES = build(endpoints)

--- Find the route of a request.
-- @tparam string method
-- @tparam string path (without query)
-- @treturn table|nil route, or nil when no route has this method and path
-- @treturn table|string|nil the path's segments (a list) with the route; without one,
--   the allowed methods ("GET, POST") when another method matches the path
function M.match(method, path)
  local allow, seen = {}, {}
  for _, r in ipairs(M.ROUTES) do
    local caps = { path:match(r.pattern) }
    if caps[1] ~= nil then
      if r.method == method then
        if r.segments == 0 then caps = {} end     -- without captures match gives the path
        return r, caps
      end
      if not seen[r.method] then
        seen[r.method] = true
        allow[#allow + 1] = r.method
      end
    end
  end
  if #allow > 0 then return nil, concat(allow, ", ") end
  return nil
end

--- The dialect of the endpoint a request is for (the GET one when none matches).
-- @tparam table req
-- @treturn table
function M.dialect_of(req)
  local r = M.match(req.method, req.path)
  return r and r.dialect or replies.dialects.get
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

--- Handle one `/v1` request: route, auth, rate limit, then the route's handler.
-- @tparam table mock
-- @tparam table req
-- @treturn table reply
-- @treturn string|nil auth outcome ("ok", "missing", "invalid"), nil before auth
function M.handle(mock, req)
  local route, caps = M.match(req.method, req.path)
  if not route then
    if caps then
      return { status = 405, body = replies.NO_METHOD, headers = { Allow = caps } }
    end
    return { status = 404, body = replies.NO_ROUTE }
  end
  req.route = route
  local dialect = replies.dialect_of(mock, req)
  local auth = M.auth(req, mock.token)
  if auth ~= "ok" then
    return { status = 401, body = dialect.unauthorized }, auth
  end
  local ok, retry = mock:take_slot()
  if not ok then
    return { status = 429, body = dialect.too_many, headers = mock:retry_headers(retry) },
      auth
  end
  return route.handler(mock, req, unpack(caps, 1, route.segments)), auth
end

return M
