--- `client.departments`: the team's departments (`GET /departments`), each
-- with its `agents` (an agent is listed in every department it belongs to):
-- `:list{offset=, limit=}` and `:all{max=, page_size=, prefetch=}`. A page's
-- total comes from `meta.total` (older revisions send none); the iterator
-- stops on a short page.
-- @module helpcrunch.resources.departments

local normalize = require "helpcrunch.normalize"
local base = require "helpcrunch.resources.base"

return base.listing {
  name = "departments", noun = "department", example = 233048, path = "/departments",
  extract = normalize.extractor(normalize.department), item = normalize.department,
  -- One agents example reports "meta":{"total":5} next to four items (API-REFERENCE.md
  -- §0): trusting it would re-read the end of the list; a short page ends it instead.
  untrusted_total = true,
}
