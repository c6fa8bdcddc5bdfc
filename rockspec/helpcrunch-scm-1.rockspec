-- The client. Generated from rockspec/helpcrunch-scm-1.rockspec.in by `make rockspec`
-- (the module list is every lua/ file but the mock's); edit the .in file.
rockspec_format = "3.0"
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
    and rate limiting; the `helpcrunch` command exports, imports and looks
    up customers. Needs libcurl and OpenSSL's libcrypto (webhook signatures);
    the local test server is the separate helpcrunch-mock rock.
  ]],
  license = "MIT",
  labels = { "http", "api", "libcurl", "json" },
}
supported_platforms = { "unix" }
-- Lua only: the library needs nothing else from LuaRocks. The `helpcrunch` command
-- (bin/helpcrunch) also wants argparse (Debian: lua-argparse; else `luarocks install
-- argparse`), and says so when it is missing: the library never loads it.
dependencies = {
  "lua >= 5.1, < 5.5",
}
-- libcurl is found the way LuaRocks means external libraries to be found: it looks for
-- libcurl.so under its external_deps_dirs (/usr/local, /usr) in lib/ and in the
-- multiarch or lib64 subdirectory its config names (Debian: lib/<triplet>). No header is
-- named: LuaRocks searches headers only in <prefix>/include, while Debian keeps
-- curl/curl.h in /usr/include/<triplet>, which the C compiler searches by itself. So on
-- Debian and Ubuntu no variable is needed; for a libcurl elsewhere pass CURL_DIR=/prefix
-- (or CURL_INCDIR/CURL_LIBDIR), which the build below uses.
-- OpenSSL's libcrypto (HMAC-SHA1 for webhook signatures) is found the same way: Debian's
-- libssl-dev; elsewhere CRYPTO_DIR=/prefix (or CRYPTO_INCDIR/CRYPTO_LIBDIR).
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { library = "crypto" },
}
-- A "command" build rather than "builtin": builtin copies the whole lua/ directory into
-- the rock, which would ship the mock (and its LuaSocket needs) with the client. The
-- command is builtin's compile with the same LuaRocks variables (CC, CFLAGS, LIBFLAG,
-- LUA_INCDIR and the CURL ones above).
build = {
  type = "command",
  build_command = "mkdir -p build/rock/helpcrunch && $(CC) $(CFLAGS) -std=c99 " ..
    "-D_POSIX_C_SOURCE=200809L -I$(LUA_INCDIR) -I$(CURL_INCDIR) -I$(CRYPTO_INCDIR) csrc/client.c csrc/core.c csrc/customer.c csrc/errors.c csrc/hmac.c csrc/json_decode.c csrc/json_encode.c csrc/json_number.c " ..
    "$(LIBFLAG) -o build/rock/helpcrunch/core.so -L$(CURL_LIBDIR) -lcurl -L$(CRYPTO_LIBDIR) -lcrypto",
  install = {
    lib = { ["helpcrunch.core"] = "build/rock/helpcrunch/core.so" },
    lua = {
      ["helpcrunch.async"] = "lua/helpcrunch/async.lua",
      ["helpcrunch.cli.args"] = "lua/helpcrunch/cli/args.lua",
      ["helpcrunch.cli.columns"] = "lua/helpcrunch/cli/columns.lua",
      ["helpcrunch.cli.commands"] = "lua/helpcrunch/cli/commands.lua",
      ["helpcrunch.cli.connect"] = "lua/helpcrunch/cli/connect.lua",
      ["helpcrunch.cli.csv"] = "lua/helpcrunch/cli/csv.lua",
      ["helpcrunch.cli.export"] = "lua/helpcrunch/cli/export.lua",
      ["helpcrunch.cli.filters"] = "lua/helpcrunch/cli/filters.lua",
      ["helpcrunch.cli.import"] = "lua/helpcrunch/cli/import.lua",
      ["helpcrunch.cli.init"] = "lua/helpcrunch/cli/init.lua",
      ["helpcrunch.cli.jsonl"] = "lua/helpcrunch/cli/jsonl.lua",
      ["helpcrunch.cli.partfile"] = "lua/helpcrunch/cli/partfile.lua",
      ["helpcrunch.cli.progress"] = "lua/helpcrunch/cli/progress.lua",
      ["helpcrunch.cli.records"] = "lua/helpcrunch/cli/records.lua",
      ["helpcrunch.cli.report"] = "lua/helpcrunch/cli/report.lua",
      ["helpcrunch.cli.sys"] = "lua/helpcrunch/cli/sys.lua",
      ["helpcrunch.client"] = "lua/helpcrunch/client.lua",
      ["helpcrunch.errors"] = "lua/helpcrunch/errors.lua",
      ["helpcrunch.init"] = "lua/helpcrunch/init.lua",
      ["helpcrunch.normalize"] = "lua/helpcrunch/normalize.lua",
      ["helpcrunch.nvim"] = "lua/helpcrunch/nvim.lua",
      ["helpcrunch.pager"] = "lua/helpcrunch/pager.lua",
      ["helpcrunch.pipeline"] = "lua/helpcrunch/pipeline.lua",
      ["helpcrunch.ratelimit.ffisock"] = "lua/helpcrunch/ratelimit/ffisock.lua",
      ["helpcrunch.ratelimit.init"] = "lua/helpcrunch/ratelimit/init.lua",
      ["helpcrunch.ratelimit.memory"] = "lua/helpcrunch/ratelimit/memory.lua",
      ["helpcrunch.ratelimit.redis"] = "lua/helpcrunch/ratelimit/redis.lua",
      ["helpcrunch.ratelimit.resp"] = "lua/helpcrunch/ratelimit/resp.lua",
      ["helpcrunch.ratelimit.shdict"] = "lua/helpcrunch/ratelimit/shdict.lua",
      ["helpcrunch.resources.agents"] = "lua/helpcrunch/resources/agents.lua",
      ["helpcrunch.resources.applications"] = "lua/helpcrunch/resources/applications.lua",
      ["helpcrunch.resources.base"] = "lua/helpcrunch/resources/base.lua",
      ["helpcrunch.resources.chats"] = "lua/helpcrunch/resources/chats.lua",
      ["helpcrunch.resources.customer_batch"] = "lua/helpcrunch/resources/customer_batch.lua",
      ["helpcrunch.resources.customer_fields"] = "lua/helpcrunch/resources/customer_fields.lua",
      ["helpcrunch.resources.customers"] = "lua/helpcrunch/resources/customers.lua",
      ["helpcrunch.resources.departments"] = "lua/helpcrunch/resources/departments.lua",
      ["helpcrunch.resources.events"] = "lua/helpcrunch/resources/events.lua",
      ["helpcrunch.resources.messages"] = "lua/helpcrunch/resources/messages.lua",
      ["helpcrunch.resources.organization"] = "lua/helpcrunch/resources/organization.lua",
      ["helpcrunch.search"] = "lua/helpcrunch/search.lua",
      ["helpcrunch.transport.curl"] = "lua/helpcrunch/transport/curl.lua",
      ["helpcrunch.transport.ngx"] = "lua/helpcrunch/transport/ngx.lua",
      ["helpcrunch.transport.ngx_http"] = "lua/helpcrunch/transport/ngx_http.lua",
      ["helpcrunch.transport.uv"] = "lua/helpcrunch/transport/uv.lua",
      ["helpcrunch.util"] = "lua/helpcrunch/util.lua",
      ["helpcrunch.webhook"] = "lua/helpcrunch/webhook.lua",
    },
    bin = { helpcrunch = "bin/helpcrunch" },
  },
}
