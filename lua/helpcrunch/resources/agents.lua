--- `client.agents`: the team's agents (`GET /agents`): `:list{offset=, limit=}`
-- and `:all{max=, page_size=, prefetch=}`. A page's total comes from
-- `meta.total` (older revisions send none); the iterator stops on a short page.
-- `role` is kept as the API spells it (`admin`, `agent`, `agentChatOnly`,
-- `superviser`).
-- @module helpcrunch.resources.agents

local normalize = require "helpcrunch.normalize"
local base = require "helpcrunch.resources.base"

return base.listing {
  name = "agents", noun = "agent", example = 4188, path = "/agents",
  extract = normalize.extractor(normalize.agent), item = normalize.agent,
  -- One agents example reports "meta":{"total":5} next to four items (API-REFERENCE.md
  -- §0): trusting it would re-read the end of the list; a short page ends it instead.
  untrusted_total = true,
}
