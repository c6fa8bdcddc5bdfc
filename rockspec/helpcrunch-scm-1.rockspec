package = "helpcrunch"
version = "scm-1"
source = {
  url = "git+https://github.com/helpcrunch-lua/helpcrunch-lua.git",
}
description = {
  summary = "Client for the HelpCrunch customers API: C core on libcurl, thin Lua layer",
  detailed = [[
    List, get, search and create HelpCrunch customers. A C core does the HTTP
    (libcurl, keep-alive) and decodes JSON straight into normalised Lua tables;
    a thin Lua layer adds iterators over all pages, a search builder, retries
    and rate limiting. Ships helpcrunch-mock, a stateful local HelpCrunch for tests.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "luasocket",   -- helpcrunch-mock only
  "lua-cjson",   -- helpcrunch-mock only
}
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
}
build = {
  type = "builtin",
  modules = {
    ["helpcrunch.core"] = {
      sources = { "csrc/client.c", "csrc/core.c", "csrc/customer.c", "csrc/errors.c",
                  "csrc/json_decode.c", "csrc/json_encode.c" },
      defines = { "_POSIX_C_SOURCE=200809L" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
      ["helpcrunch.client"] = "lua/helpcrunch/client.lua",
      ["helpcrunch.customers"] = "lua/helpcrunch/customers.lua",
      ["helpcrunch.errors"] = "lua/helpcrunch/errors.lua",
      ["helpcrunch"] = "lua/helpcrunch/init.lua",
      ["helpcrunch.mock.admin"] = "lua/helpcrunch/mock/admin.lua",
      ["helpcrunch.mock.churn"] = "lua/helpcrunch/mock/churn.lua",
      ["helpcrunch.mock.cli"] = "lua/helpcrunch/mock/cli.lua",
      ["helpcrunch.mock.config"] = "lua/helpcrunch/mock/config.lua",
      ["helpcrunch.mock.data"] = "lua/helpcrunch/mock/data.lua",
      ["helpcrunch.mock.endpoints.customers"] = "lua/helpcrunch/mock/endpoints/customers.lua",
      ["helpcrunch.mock.endpoints"] = "lua/helpcrunch/mock/endpoints/init.lua",
      ["helpcrunch.mock.faults"] = "lua/helpcrunch/mock/faults.lua",
      ["helpcrunch.mock.http"] = "lua/helpcrunch/mock/http.lua",
      ["helpcrunch.mock"] = "lua/helpcrunch/mock/init.lua",
      ["helpcrunch.mock.json"] = "lua/helpcrunch/mock/json.lua",
      ["helpcrunch.mock.log"] = "lua/helpcrunch/mock/log.lua",
      ["helpcrunch.mock.prng"] = "lua/helpcrunch/mock/prng.lua",
      ["helpcrunch.mock.ratewindow"] = "lua/helpcrunch/mock/ratewindow.lua",
      ["helpcrunch.mock.replies"] = "lua/helpcrunch/mock/replies.lua",
      ["helpcrunch.mock.router"] = "lua/helpcrunch/mock/router.lua",
      ["helpcrunch.mock.search"] = "lua/helpcrunch/mock/search.lua",
      ["helpcrunch.mock.spawn"] = "lua/helpcrunch/mock/spawn.lua",
      ["helpcrunch.mock.store"] = "lua/helpcrunch/mock/store.lua",
      ["helpcrunch.pager"] = "lua/helpcrunch/pager.lua",
      ["helpcrunch.ratelimit"] = "lua/helpcrunch/ratelimit.lua",
      ["helpcrunch.search"] = "lua/helpcrunch/search.lua",
      ["helpcrunch.util"] = "lua/helpcrunch/util.lua",
  },
  install = {
    bin = { ["helpcrunch-mock"] = "bin/helpcrunch-mock" },
  },
}
