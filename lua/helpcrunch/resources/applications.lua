--- `client.applications`: the account's channels (web widget, mobile apps,
-- social integrations), whose ids `client.chats:create{application=}`
-- takes. `GET /applications` is not on the help pages (API-REFERENCE.md
-- §5.4: known from client code); it is not paged, so `:list()` is one
-- request and `:all()` iterates over that one answer.
-- @module helpcrunch.resources.applications

local util = require "helpcrunch.util"
local pager = require "helpcrunch.pager"
local normalize = require "helpcrunch.normalize"

local M = {}

local Applications = {}
Applications.__index = Applications

--- @local
function M.new(client)
  return setmetatable({ client = client }, Applications)
end

local extract = normalize.extractor()

--- Every application, in one page.
-- @treturn table|nil page `{data=, total=, offset=0, limit=#data}` (total
--   nil unless the server sends one)
-- @treturn table the error
function Applications:list()
  util.check_self(self, Applications, "client.applications:list", 2)
  local body, err = self.client:call("GET", "/applications"):wait()
  if body == nil then return nil, err end
  local data = extract(body)
  return pager.page_of(body, 0, type(data) == "table" and #data or 0, "GET", "/applications",
    extract)
end

--- Every application, one by one: `for app in client.applications:all() do`.
-- A failure raises the error object (like the other iterators).
function Applications:all()
  util.check_self(self, Applications, "client.applications:all", 2)
  local page, err = self:list()
  if not page then error(err, 0) end
  local i = 0
  return function()
    i = i + 1
    return page.data[i]
  end
end

return M
