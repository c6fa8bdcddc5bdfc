-- The mock server. Generated from rockspec/helpcrunch-mock-scm-1.rockspec.in by
-- `make rockspec` (the module list is every file under lua/helpcrunch/mock/); edit the
-- .in file.
rockspec_format = "3.0"
package = "helpcrunch-mock"
version = "scm-1"
source = {
  url = "git+https://github.com/helpcrunch-lua/helpcrunch-lua.git",
}
description = {
  summary = "helpcrunch-mock: a stateful local HelpCrunch API for tests",
  detailed = [[
    A faithful local HelpCrunch customers API on LuaSocket: paging, validation
    and the API's error bodies, sliding-window 429s, a deterministic seeded data
    set, fault injection, churn, a request log and an admin API. Start it with
    the helpcrunch-mock command or require("helpcrunch.mock.spawn") from tests.
  ]],
  license = "MIT",
  labels = { "testing", "mock", "http" },
}
supported_platforms = { "unix" }
dependencies = {
  "lua >= 5.1, < 5.5",
  "luasocket",
  "lua-cjson",
}
-- Plain Lua: nothing to build, the files below are installed as they are. (Not
-- "builtin", which would copy the whole lua/ directory, the client included.)
build = {
  type = "none",
  install = {
    lua = {
      ["helpcrunch.mock.admin"] = "lua/helpcrunch/mock/admin.lua",
      ["helpcrunch.mock.chatstore"] = "lua/helpcrunch/mock/chatstore.lua",
      ["helpcrunch.mock.churn"] = "lua/helpcrunch/mock/churn.lua",
      ["helpcrunch.mock.cli"] = "lua/helpcrunch/mock/cli.lua",
      ["helpcrunch.mock.config"] = "lua/helpcrunch/mock/config.lua",
      ["helpcrunch.mock.conversations"] = "lua/helpcrunch/mock/conversations.lua",
      ["helpcrunch.mock.customer_input"] = "lua/helpcrunch/mock/customer_input.lua",
      ["helpcrunch.mock.data"] = "lua/helpcrunch/mock/data.lua",
      ["helpcrunch.mock.endpoints.chats"] = "lua/helpcrunch/mock/endpoints/chats.lua",
      ["helpcrunch.mock.endpoints.customers"] = "lua/helpcrunch/mock/endpoints/customers.lua",
      ["helpcrunch.mock.endpoints.events"] = "lua/helpcrunch/mock/endpoints/events.lua",
      ["helpcrunch.mock.endpoints.init"] = "lua/helpcrunch/mock/endpoints/init.lua",
      ["helpcrunch.mock.endpoints.messages"] = "lua/helpcrunch/mock/endpoints/messages.lua",
      ["helpcrunch.mock.endpoints.team"] = "lua/helpcrunch/mock/endpoints/team.lua",
      ["helpcrunch.mock.faults"] = "lua/helpcrunch/mock/faults.lua",
      ["helpcrunch.mock.http"] = "lua/helpcrunch/mock/http.lua",
      ["helpcrunch.mock.init"] = "lua/helpcrunch/mock/init.lua",
      ["helpcrunch.mock.json"] = "lua/helpcrunch/mock/json.lua",
      ["helpcrunch.mock.log"] = "lua/helpcrunch/mock/log.lua",
      ["helpcrunch.mock.prng"] = "lua/helpcrunch/mock/prng.lua",
      ["helpcrunch.mock.ratewindow"] = "lua/helpcrunch/mock/ratewindow.lua",
      ["helpcrunch.mock.replies"] = "lua/helpcrunch/mock/replies.lua",
      ["helpcrunch.mock.router"] = "lua/helpcrunch/mock/router.lua",
      ["helpcrunch.mock.search"] = "lua/helpcrunch/mock/search.lua",
      ["helpcrunch.mock.spawn"] = "lua/helpcrunch/mock/spawn.lua",
      ["helpcrunch.mock.store"] = "lua/helpcrunch/mock/store.lua",
      ["helpcrunch.mock.webhooks"] = "lua/helpcrunch/mock/webhooks.lua",
    },
    bin = { ["helpcrunch-mock"] = "bin/helpcrunch-mock" },
  },
}
