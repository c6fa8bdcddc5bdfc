--- Every Lua example of README.md outside the sections spec/readme_writes_spec.lua
-- runs (readme.WRITES_SECTIONS), and every command line of "The command line",
-- extracted from the README (spec/support/readme.lua, the one extractor) and
-- run against the mock. Each block has a rule below: run it, or (saying why)
-- only compile it; a block without a rule fails the spec, so no example can be
-- added without being run.
-- - "run": in-process against a fresh mock, with `client` (a client of it) and
--   `helpcrunch` in scope, HELPCRUNCH_API_KEY and HELPCRUNCH_BASE_URL pointing
--   at it (os.getenv answers them), `print` silenced; `do ... end` (the
--   README's "your code here") becomes `do end`. It must not raise: the
--   examples assert what they claim.
-- - "busted": a spec written for busted, run by a small runner of its
--   describe/lazy_setup/before_each/it/finally/lazy_teardown.
-- - "compile": compiled only (code for another host, or a listing of calls).
-- - "listing": not Lua (placeholders such as `offset =,`); neither.

local H = require "spec.helper"
local cli = require "spec.support.cli"
local readme = require "spec.support.readme"
local helpcrunch = require "helpcrunch"

-- Section -> the rule of each of its ```lua blocks, in order.
local RULES = {
  ["helpcrunch-lua"] = { "run" },
  ["Quickstart against the real API"] = { "run" },
  ["The API"] = { "listing" },                          -- `helpcrunch._VERSION --> ...`
  ["Iterating and searching"] = { "run" },
  ["OpenResty"] = { "compile", "compile" },             -- nginx: spec/hosts/nginx_spec.lua
  ["Neovim and other libuv hosts"] = { "compile" },     -- nvim: spec/hosts/nvim_spec.lua
  ["Chats, messages and the team"] = { "run", "listing" },
  ["Errors"] = { "run" },
  ["Shared rate limits"] = { "run" },
  ["The mock server: `helpcrunch-mock`"] = { "run" },
  ["In your own tests: `helpcrunch.mock.spawn`"] = { "busted" },
}

local function in_writes(b)
  for _, t in ipairs(b.titles) do
    for _, w in ipairs(readme.WRITES_SECTIONS) do if t == w then return true end end
  end
  return false
end

-- The lua blocks this spec runs, each with its rule (nil: none).
local function lua_blocks()
  local out, nth = {}, {}
  for _, b in ipairs(readme.all()) do
    if b.lang == "lua" and not in_writes(b) then
      nth[b.section] = (nth[b.section] or 0) + 1
      b.rule = (RULES[b.section] or {})[nth[b.section]]
      out[#out + 1] = b
    end
  end
  return out
end

-- The README's "your code here".
local function runnable(code)
  return (code:gsub("do%s+%.%.%.%s+end", "do end"))
end

-- Run fn with os.getenv answering the mock's URL and the test token.
local function with_env(mock, fn)
  local real = os.getenv
  os.getenv = function(k)                                     -- luacheck: ignore 122
    if k == "HELPCRUNCH_API_KEY" then return H.TOKEN end
    if k == "HELPCRUNCH_BASE_URL" then return mock.url end
    return real(k)
  end
  local ok, err = pcall(fn)
  os.getenv = real                                            -- luacheck: ignore 122
  assert(ok, tostring(err))
end

-- A busted spec, run by a minimal runner; returns the failures.
local function run_busted(block)
  local suites, finals, cur = {}, {}, nil
  local function add(list) return function(f) table.insert(cur[list], f) end end
  local env = { print = function() end, assert = assert }
  env.describe = function(_, fn)
    cur = { setup = {}, teardown = {}, before = {}, its = {} }
    suites[#suites + 1] = cur
    fn()
  end
  env.lazy_setup, env.setup = add("setup"), add("setup")
  env.lazy_teardown, env.teardown = add("teardown"), add("teardown")
  env.before_each = add("before")
  env.it = function(name, f) table.insert(cur.its, { name = name, fn = f }) end
  env.finally = function(f) finals[#finals + 1] = f end
  readme.run(block, env)
  local failures, ran = {}, 0
  for _, s in ipairs(suites) do
    for _, f in ipairs(s.setup) do f() end
    for _, t in ipairs(s.its) do
      for _, f in ipairs(s.before) do f() end
      local ok, err = pcall(t.fn)
      for i = #finals, 1, -1 do pcall(finals[i]) finals[i] = nil end
      ran = ran + 1
      if not ok then failures[#failures + 1] = t.name .. ": " .. tostring(err) end
    end
    for _, f in ipairs(s.teardown) do f() end
  end
  return failures, ran
end

describe("README examples #mock", function()
  local mock, client
  local start, stop = H.serve({ seed = 1 }, nil, function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  it("has a rule for every Lua example (or another spec runs it)", function()
    local n = 0
    for _, b in ipairs(lua_blocks()) do
      assert(b.rule, "README.md:" .. b.line .. " (section " .. b.section .. ") has no rule in "
        .. "spec/readme_spec.lua: run it, or say why not")
      n = n + 1
    end
    for section, rules in pairs(RULES) do
      local have = 0
      for _, b in ipairs(lua_blocks()) do if b.section == section then have = have + 1 end end
      assert.equal(#rules, have, "section " .. section .. ": blocks and rules differ")
    end
    assert.is_true(n >= 12)
  end)

  for _, b in ipairs(lua_blocks()) do
    local what = "README.md:" .. b.line .. " (" .. b.section .. ", " .. tostring(b.rule) .. ")"
    if b.rule == "run" then
      it("runs " .. what, function()
        mock:reset()
        with_env(mock, function()
          readme.run({ code = runnable(b.code), line = b.line },
            { client = client, helpcrunch = helpcrunch, print = function() end })
        end)
      end)
    elseif b.rule == "compile" then
      it("compiles " .. what, function()
        readme.compile { code = runnable(b.code), line = b.line }
      end)
    elseif b.rule == "busted" then
      it("#slow runs the busted example " .. what, function()
        local failures, ran = run_busted(b)
        assert.is_true(ran > 0)
        assert.same({}, failures)
      end)
    end
  end

  it("runs every command line of \"The command line\", in order", function()
    local lines = {}
    for _, b in ipairs(readme.blocks("The command line")) do
      if b.lang == "sh" then
        for l in (b.code .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
      end
    end
    mock:reset()
    local dir = cli.tmpdir()
    finally(function() cli.cleanup(dir) end)
    local root = io.popen("pwd"):read("*l")
    local ran = 0
    for _, l in ipairs(lines) do
      local cmd = l:gsub("%s+#.*$", "")
      local want = tonumber(l:match("#%s*exit (%d+)")) or 0
      if cmd:match("^helpcrunch mock") then
        cmd = cmd .. " --help"                         -- the mock never ends: its help
      end
      if cmd:match("^helpcrunch ") then
        local sh = "cd " .. cli.quote(dir) .. " && ( " .. cli.command(mock, {})
          :gsub("bin/helpcrunch$", cli.quote(root .. "/bin/helpcrunch")) .. cmd:sub(#"helpcrunch" + 1)
          .. " ) >>out 2>>err </dev/null; echo $?"
        local p = assert(io.popen(sh))
        local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
        p:close()
        assert.equal(want, code, l .. "\n" .. (H.read(dir .. "/err")))
        ran = ran + 1
      else
        assert(cmd:match("^export HELPCRUNCH_API_KEY=") or not cmd:find("%S"),
          "a line the spec does not know how to run: " .. l)
      end
    end
    assert.is_true(ran >= 10)
    -- what the lines claim
    assert.is_nil(client.customers:get(542335))
    local recent = H.read(dir .. "/recent.csv")
    assert.matches("^id,userId,name,email,", recent)
    assert.matches("^id,email,customData.Plan,tags\r\n", H.read(dir .. "/plans.csv"))
    local report = H.read(dir .. "/import.report")
    assert.matches('"status":"unchanged"', report)
    assert.matches('"error":"no userId to find the customer by', report)
  end)
end)
