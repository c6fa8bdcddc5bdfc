--- `client.agents`: the team's agents (`GET /agents`): `:list{offset=, limit=}`
-- and `:all{max=, page_size=, prefetch=}`. The total comes from `meta.total`
-- (older revisions send none: the iterator then stops on a short page).
-- `role` is kept as the API spells it (`admin`, `agent`, `agentChatOnly`,
-- `superviser`).
-- @module helpcrunch.resources.agents

local normalize = require "helpcrunch.normalize"
local base = require "helpcrunch.resources.base"

return base.listing {
  name = "agents", noun = "agent", example = 4188, path = "/agents",
  extract = normalize.extractor(normalize.agent), item = normalize.agent,
}
