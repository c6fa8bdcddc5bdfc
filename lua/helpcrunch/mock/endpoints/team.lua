--- The team and the account: `GET /v1/agents`, `GET /v1/agents/{id}/unsubscribe`,
-- `GET /v1/departments`, `GET /v1/applications`, `GET /v1/organization`
-- (API-REFERENCE.md §5). Agents and departments page with `offset`/`limit` and
-- `meta.total`; applications are one unpaged `{"data": [...]}`; the organization is the one
-- single object wrapped in `data`.
-- @module helpcrunch.mock.endpoints.team

local json = require "helpcrunch.mock.json"
local replies = require "helpcrunch.mock.replies"
local conversations = require "helpcrunch.mock.conversations"

local array = json.array
local tonumber = tonumber

local M = {}

local function paged(list_of, view)
  return function(mock, req)
    local d = replies.dialect_of(mock, req)
    local offset, limit, _, _, errs = replies.list_params(req.query, nil)
    if #errs > 0 then return d.bad_request(errs) end
    return { status = 200, body = replies.shaped_page(mock, req, { total = "meta" },
      list_of(mock), offset, limit, function(x) return json.encode(view(mock, x)) end) }
  end
end

local function agent_view(mock, a) return mock.conv:agent_view(a.id) end

local function department_view(mock, dep)
  local agents = array({})
  for i, id in ipairs(dep.agents) do agents[i] = mock.conv:agent_view(id) end
  return { id = dep.id, name = dep.name, agents = agents }
end

local function unsubscribe(mock, req, id)
  if not (id:find("^%d+$") and mock.conv.agents[tonumber(id)]) then
    return replies.dialect_of(mock, req).reply(404, { { "entity_not_found", "Agent not found" } })
  end
  return { status = 200, body = "Ok", ctype = "text/plain" }
end

local function applications(mock, req)
  return { status = 200, body = replies.shaped_page(mock, req, { total = "none" },
    conversations.APPLICATIONS, 0, #conversations.APPLICATIONS, json.encode) }
end

local function organization()
  return { status = 200, body = json.encode({ data = conversations.ORGANIZATION }) }
end

--- The routes.
M.routes = {
  { method = "GET", path = "/v1/agents", dialect = "get", name = "agents.list",
    handler = paged(function() return conversations.AGENTS end, agent_view) },
  { method = "GET", path = "/v1/agents/{id}/unsubscribe", handler = unsubscribe,
    dialect = "get", name = "agents.unsubscribe" },
  { method = "GET", path = "/v1/departments", dialect = "get", name = "departments.list",
    handler = paged(function() return conversations.DEPARTMENTS end, department_view) },
  { method = "GET", path = "/v1/applications", handler = applications, dialect = "get",
    name = "applications.list" },
  { method = "GET", path = "/v1/organization", handler = organization, dialect = "post",
    name = "organization.get" },
}

return M
