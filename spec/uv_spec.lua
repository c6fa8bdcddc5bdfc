-- The curl transport driven by a libuv loop (luv, as luvit and Neovim have it):
-- calls inside helpcrunch.async yield and resume from the loop; curl's sockets
-- and timer are uv handles, all closed by client:close(). Runs under lua5.4 and
-- luajit with Debian's lua-luv; Neovim itself is in spec/hosts/nvim_spec.lua.
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"

local ok_uv, uv = pcall(require, "luv")

-- Run fn in helpcrunch.async and the loop until it ends; return its results.
local function run_async(fn)
  local result
  helpcrunch.async(fn, function(...) result = table.pack and table.pack(...) or { n = select("#", ...), ... } end)
  while not result do uv.run("once") end
  return result
end

-- Handles alive on the loop (closing ones excluded).
local function live_handles()
  local n = 0
  uv.walk(function(h) if not h:is_closing() then n = n + 1 end end)
  return n
end

describe("libuv loop (luv) #mock", function()
  if not ok_uv then
    it("needs lua-luv", function() pending("lua-luv is not installed for " .. _VERSION) end)
    return
  end
  local mock
  setup(function() mock = H.mock { customers = 250, seed = 8 } end)
  teardown(function() mock:stop() end)
  before_each(function()
    mock:reset()
    mock:clear_faults()
  end)

  local function client(o)
    local opts = { loop = uv }
    for k, v in pairs(o or {}) do opts[k] = v end
    return H.client(mock, opts)
  end

  it("get, list, an iterator and a search inside async, with the right values", function()
    local c = client { page_size = 40, prefetch = 2 }
    local r = run_async(function()
      local one = assert(c.customers:get(4994))
      local page = assert(c.customers:list { limit = 7 })
      local seen, n = {}, 0
      -- PUC Lua 5.1 cannot yield across the iterator's __call: count with
      -- pages there (README "Neovim and other libuv hosts")
      if _VERSION == "Lua 5.1" and type(jit) ~= "table" then
        for offset = 0, 249, 40 do
          for _, x in ipairs(assert(c.customers:list { offset = offset, limit = 40 }).data) do
            seen[x.id] = true
            n = n + 1
          end
        end
      else
        for x in c.customers:all {} do
          assert(not seen[x.id], "twice: " .. x.id)
          seen[x.id] = true
          n = n + 1
        end
      end
      return one.name, #page.data, n, c.customers:search():tagged("Lead"):count()
    end)
    assert.is_true(r[1], tostring(r[2]))
    assert.equals("Serge Merge", r[2])
    assert.equals(7, r[3])
    assert.equals(250, r[4])
    assert.is_true(r[5] > 0)
    c:close()
  end)

  it("two coroutines wait at once; a loop timer keeps firing meanwhile", function()
    mock:fault { kind = "hold", count = 2, path = "/v1/customers/" }
    local c = client()
    local ticks, answers = 0, {}
    local timer = uv.new_timer()
    timer:start(5, 5, function()
      ticks = ticks + 1
      if ticks == 20 then mock:release() end          -- only once the loop has run on
    end)
    for _, id in ipairs { 4994, 265555 } do
      helpcrunch.async(function()
        local x = assert(c.customers:get(id))
        answers[#answers + 1] = { id = x.id, ticks = ticks }
      end)
    end
    while #answers < 2 do uv.run("once") end
    timer:stop()
    timer:close()
    for _, a in ipairs(answers) do assert.is_true(a.ticks >= 20) end
    c:close()
  end)

  it("errors come back as nil, err inside async, as with a blocking client", function()
    local c = client()
    local r = run_async(function() return c.customers:get(5) end)
    assert.is_true(r[1])
    assert.is_nil(r[2])
    assert.equals("not_found", r[3].kind)
    c:close()
  end)

  it("the rate limit and retries wait on uv timers (the loop keeps running)", function()
    mock:fault { kind = "500", count = 1, path = "/v1/customers/4994" }
    local c = client { max_retries = 1, rate_limit = { requests = 1, per = 0.05 } }
    local ticks = 0
    local timer = uv.new_timer()
    timer:start(1, 1, function() ticks = ticks + 1 end)
    local r = run_async(function()
      local a = assert(c.customers:get(4994))          -- 500, a backoff, then 200
      local b = assert(c.customers:get(265555))        -- waits for the window
      return a.id, b.id
    end)
    timer:stop()
    timer:close()
    assert.is_true(r[1], tostring(r[2]))
    assert.same({ 4994, 265555 }, { r[2], r[3] })
    assert.is_true(ticks > 0)
    assert.equals(3, #mock:log())
    c:close()
  end)

  it("a call outside a coroutine raises, naming helpcrunch.async, before sending", function()
    local c = client()
    local ok, err = pcall(c.customers.get, c.customers, 4994)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("helpcrunch.async", 1, true), err)
    assert.equals(0, #mock:log())
    c:close()
  end)

  it("an error thrown inside async reaches done(false, err), not the loop", function()
    local r = run_async(function() error("boom", 0) end)
    assert.is_false(r[1])
    assert.equals("boom", r[2])
  end)

  it("close() closes every handle it made, also with requests in flight", function()
    local before = live_handles()
    mock:fault { kind = "hold", path = "/v1/customers/4994" }
    local c = client()
    local finished
    helpcrunch.async(function() return c.customers:get(4994) end,
      function(ok, err) finished = { ok, err } end)
    for _ = 1, 20 do uv.run("nowait") end
    assert.is_true(live_handles() > before)            -- curl's socket poll and timer
    c:close()
    uv.run("nowait")                                   -- close callbacks run
    assert.equals(before, live_handles())
    while not finished do uv.run("once") end
    assert.is_false(finished[1])                       -- the waiting call ends with an error
    mock:release()
  end)
end)
