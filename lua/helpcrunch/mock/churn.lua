--- Churn (`--churn N`): after each successful list or search page, N customers are
-- inserted that sort before every existing customer in the order that request used,
-- so the next page at `offset + limit` repeats the last N customers of this one.
-- @module helpcrunch.mock.churn

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"

local null = json.null
local floor = math.floor

local M = {}

local FIELD_OF = { first = "firstSeen", last = "lastSeen" }

--- Insert the configured number of customers ahead of the order just served.
-- New customers get ids above the maximum, except for an id-ascending list, where they
-- take ids just below the smallest (stopping at 1). Sorted by a timestamp ascending, the
-- field is set below the smallest one; descending, to null (nulls come first there).
-- @tparam table mock (uses `config.churn`, `store`, `churn_rng`, `now`)
-- @tparam string key "id", "first" or "last"
-- @tparam string dir "asc" or "desc"
-- @tparam table|nil template for search: a record that matched (copied), else generated
function M.after_page(mock, key, dir, template)
  local n = mock.config.churn
  if n <= 0 then return end
  local st = mock.store
  local entries = {}
  local base
  if key ~= "id" and dir == "asc" then
    local first = st:ordered(key, "asc")[1]
    base = first and first[key] or 1000000000
  end
  for k = 1, n do
    local id
    if key == "id" and dir == "asc" then
      id = (st.min_id or 2) - k
      if id < 1 then break end
    else
      id = st.max_id + k
    end
    local e
    if template then
      e = { customer = data.copy(template.c), cd_order = template.cd_order,
            cd_list = template.cd_list }
      e.customer.id = id
    else
      e = data.generate(mock.churn_rng, id)
    end
    e.created = floor(mock.now())
    local field = FIELD_OF[key]
    if field then
      e.customer[field] = dir == "asc" and floor(base - k) or null
    end
    entries[#entries + 1] = e
  end
  if #entries > 0 then st:insert_first(entries, key, dir) end
end

return M
