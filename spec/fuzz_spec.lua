-- Fuzz (issue 5, point 6): every public function called 1,000 times with random
-- garbage in every argument position, `self` included: nil, booleans, NaN, huge
-- numbers, strings with NUL, tables (cyclic, nested, with metamethods that raise),
-- functions, coroutines, userdata. The process never crashes, and every call
-- either raises (a non-empty message, or an error object) or returns a value, or
-- nil and an error object (DESIGN.md "Conventions").
--
-- Deterministic: the generator is seeded and identical under Lua 5.4 and LuaJIT.
--   FUZZ_SEED=n   another seed            FUZZ_N=n   calls per function (1000)
--   FUZZ_TRACE=1  write each call's label to stderr before making it (finds a crash)
--   FUZZ_STATS=1  write a summary of the outcomes to stderr
--
-- Traffic: every client that sends a request points at the loopback mock. Garbage
-- base URLs are either refused by helpcrunch.new or name 127.0.0.1; clients built
-- from garbage options only ever send a request when their base_url is the mock's.
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"

local unpack = table.unpack or unpack
local SEED = tonumber(os.getenv("FUZZ_SEED") or "") or 20240605
local N = tonumber(os.getenv("FUZZ_N") or "") or 1000
local TRACE = os.getenv("FUZZ_TRACE")
local STATS = os.getenv("FUZZ_STATS")

-- ---- a deterministic generator (Park-Miller; exact in doubles and integers) ----

local function new_rng(seed)
  local s = seed % 2147483646 + 1
  local r = {}
  function r.next()
    s = (s * 16807) % 2147483647
    return s
  end
  function r.int(n) return r.next() % n + 1 end          -- 1..n
  function r.float() return r.next() / 2147483647 end    -- (0, 1)
  function r.chance(p) return r.float() < p end
  function r.pick(list) return list[r.int(#list)] end
  return r
end

-- ---- showing a value without running any of its metamethods ----

local function show(v, depth)
  local t = type(v)
  if t == "string" then
    local s = string.format("%q", v:sub(1, 40)):gsub("\n", "n")
    return s .. (#v > 40 and ("..(" .. #v .. " bytes)") or "")
  elseif t == "number" then
    if v ~= v then return "NaN" end
    if math.type and math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  elseif t == "table" then
    depth = depth or 0
    if depth > 1 then return "{...}" end
    local parts, n = {}, 0
    for k, x in next, v do
      n = n + 1
      if n > 4 then parts[#parts + 1] = "..." break end
      parts[#parts + 1] = "[" .. show(k, depth + 1) .. "]=" .. show(x, depth + 1)
    end
    return "{" .. table.concat(parts, ",") .. "}" .. (debug.getmetatable(v) and "<mt>" or "")
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  end
  return t
end

local function show_args(args)
  local out = {}
  for i = 1, args.n do out[i] = show(args[i]) end
  return "(" .. table.concat(out, ", ") .. ")"
end

-- ---- the garbage ----

local LONG = string.rep("A", 100 * 1024)
local LONG_DIGITS = string.rep("7", 100 * 1024)

-- Strings; none of them looks like a URL (scheme://host).
local STRINGS = {
  "", "abc", "a\0b", "\0", "\255\254", "1/../admin", "%s%n", "4994", "265555", "004994",
  "4994\0", "4994/../admin", "../4994", "12345678901234567890", "-1", "0", "1e3", "0x10",
  " 4994", "4994 ", "firstSeen", "lastSeen", "customers.lastSeen", "asc", "DESC", "email",
  "customers.email", "tagsData", "customers.tagsData", "=", "!=", "~", ">=", "Lead", "Paid",
  "null", "{}", "[1,2]", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3\xa9",
  "\r\nX-Injected: 1", "..", "%00", "%2e%2e", "offset", "limit", "max", "page_size", "name",
}

local function raiser(what)
  return function() error("fuzz: " .. what .. " raised", 0) end
end

-- Everything raises: indexing absent keys, pairs, #, tostring, comparisons, calls...
local EVIL_MT = {
  __index = raiser("__index"), __newindex = raiser("__newindex"), __pairs = raiser("__pairs"),
  __ipairs = raiser("__ipairs"), __len = raiser("__len"), __tostring = raiser("__tostring"),
  __eq = raiser("__eq"), __lt = raiser("__lt"), __le = raiser("__le"),
  __concat = raiser("__concat"), __call = raiser("__call"), __unm = raiser("__unm"),
  __add = raiser("__add"), __sub = raiser("__sub"), __mul = raiser("__mul"),
  __div = raiser("__div"), __mod = raiser("__mod"), __pow = raiser("__pow"),
}

--- The garbage generator: `g.any()` is one random value (possibly nil).
-- `extras` are real objects of the library (a spare client, its customers, a
-- query, an error object) mixed in as garbage too.
local function new_garbage(rng, extras)
  local g = {}
  local maxint, minint = math.maxinteger, math.mininteger
  local dead = coroutine.create(function() end)
  coroutine.resume(dead)
  local closed_file = io.tmpfile()
  if closed_file then closed_file:close() end
  local newproxy = rawget(_G, "newproxy")

  function g.rstring()
    local n = rng.int(65) - 1
    local b = {}
    for i = 1, n do b[i] = string.char(rng.int(256) - 1) end
    return table.concat(b)
  end

  function g.string()
    local r = rng.int(20)
    if r == 1 then return LONG end
    if r == 2 then return LONG_DIGITS end
    if r <= 5 then return g.rstring() end
    return rng.pick(STRINGS)
  end

  local function as_int(x) return math.tointeger and math.tointeger(x) or x end

  local NUMBERS = {
    function() return 0 end, function() return -1 end, function() return 0 / 0 end,
    function() return math.huge end, function() return -math.huge end,
    function() return 2 ^ 53 + 1 end, function() return 2 ^ 53 end, function() return 1e308 end,
    function() return -1e308 end, function() return -0.0 end, function() return 0.5 end,
    function() return 1.0 end, function() return 4994.0 end, function() return 1e-300 end,
    function() return maxint or 2 ^ 63 end, function() return minint or -2 ^ 63 end,
    function() return 2 ^ 31 end, function() return 2 ^ 63 end,
    function() return (rng.float() - 0.5) * 2e9 end,
    function() return as_int(rng.int(2147483646) - 1073741823) end,
    function() return as_int(rng.int(121) - 1) end,
    function() return 4994 end, function() return 265555 end, function() return 1 end,
    function() return 100 end, function() return 101 end,
  }
  function g.number() return rng.pick(NUMBERS)() end

  function g.key()
    local r = rng.int(8)
    if r <= 4 then return rng.pick(STRINGS) end
    if r == 5 then return g.rstring() end
    if r == 6 then return as_int(rng.int(5)) end
    if r == 7 then return rng.pick { true, 1.5, -1, 2 ^ 40, 0 } end
    return {}
  end

  -- A value that is safe to hand out from an __index: never a URL, never
  -- non-nil for every integer key (ipairs would never end).
  local function soft()
    return rng.pick { 5, "abc", true, false, 0 / 0, "", {}, "4994" }
  end

  local TABLES = {
    function() return {} end,
    function(d) local t = {} for i = 1, rng.int(4) do t[i] = g.any(d + 1) end return t end,
    function(d) local t = {} for _ = 1, rng.int(4) do t[g.key()] = g.any(d + 1) end return t end,
    function() local t = {} t.self = t t[1] = t return t end,                       -- cyclic
    function() local t = {} local c = t for _ = 1, 300 do c.x = {} c = c.x end return t end,
    function() local t = {} local c = t for _ = 1, 300 do c[1] = {} c = c[1] end return t end,
    function(d) return setmetatable({ g.any(d + 1) }, EVIL_MT) end,
    function(d) local t = { a = g.any(d + 1) } return setmetatable(t, { __index = raiser("__index") }) end,
    function() return setmetatable({}, { __len = function() return "x" end }) end,
    function() return setmetatable({}, { __len = function() return 2 ^ 40 end }) end,
    function() return setmetatable({}, { __tostring = function() return {} end }) end,
    function() return setmetatable({}, { __metatable = "locked" }) end,
    function()
      return setmetatable({}, { __index = function(_, k)
        if type(k) == "string" then return soft() end
      end })
    end,
    function()
      local keys = { "offset", "limit", 7, "zz" }
      return setmetatable({}, { __pairs = function(t)
        local i = 0
        return function() i = i + 1 if keys[i] then return keys[i], soft() end end, t, nil
      end })
    end,
    function() return setmetatable({}, { __jsontype = "object" }) end,
    function() return { [1] = 1, [3] = 3 } end,
    function() return { [2 ^ 40] = 1 } end,
    function() return { [1.5] = 1 } end,
    function() return { [true] = 1, x = 2 } end,
    function() return { 1, 2, x = 3 } end,
    function() return { core.null, core.null } end,
    function() local t = {} for i = 1, 2000 do t[i] = i end return t end,
    function(d) return { name = g.string(), email = g.any(d + 1), tags = { g.any(d + 1) } } end,
  }

  local OTHERS = {
    function() return function() end end,
    function() return raiser("function") end,
    function() return function(...) return ... end end,
    function() return function() return 1, 2 end end,
    function() return coroutine.create(function() end) end,
    function() return dead end,
    function() return io.stdout end,
    function() return closed_file or io.stderr end,
    function() return core.null end,
    function() return newproxy and newproxy(true) or io.stdin end,
    function() return rng.pick(extras) end,
  }

  function g.any(depth)
    depth = depth or 0
    local r = rng.int(100)
    if r <= 6 then return nil end
    if r <= 10 then return r <= 8 end
    if r <= 40 then return g.number() end
    if r <= 65 then return g.string() end
    if r <= 88 and depth < 3 then return rng.pick(TABLES)(depth) end
    return rng.pick(OTHERS)()
  end

  return g
end

-- ---- checking outcomes ----

local stats = {}

local function is_raw_lua_error(msg)
  return msg:find("attempt to ", 1, true) or msg:find("bad argument", 1, true)
    or msg:find("stack overflow", 1, true)
end

-- An error object: kind a string, tostring one non-empty line, no token.
local function bad_error_object(err)
  if type(err.kind) ~= "string" then return "error object without a string kind" end
  local ok, s = pcall(tostring, err)
  if not ok or type(s) ~= "string" or s == "" then return "tostring(err) failed: " .. show(s) end
  if s:find("[\r\n]") then return "tostring(err) is not one line: " .. show(s) end
  if s:find(H.TOKEN, 1, true) then return "tostring(err) contains the token" end
end

--- Judge one pcall's results; returns nil when fine, else why not.
-- how: nil (a value, or nil + err), "maybe_nil" (nil alone is fine too: first(),
-- close(), an iterator step), "core_decode" (value, or nil + message + offset).
local function judge(how, ok, a, b, c)
  if not ok then
    if type(a) == "string" then
      if a == "" then return "raised an empty message" end
      if a:find(H.TOKEN, 1, true) then return "raised a message with the token" end
      return nil, "raised", a
    end
    if helpcrunch.is_error(a) then return bad_error_object(a), "raised_error" end
    return "raised a " .. type(a) .. " (neither a message nor an error object): " .. show(a)
  end
  if a ~= nil then return nil, "value" end
  if how == "core_decode" then
    if type(b) ~= "string" or b == "" then return "core.decode: nil without a message" end
    if type(c) ~= "number" then return "core.decode: nil without a byte offset" end
    return nil, "nil_err"
  end
  if b == nil and how == "maybe_nil" then return nil, "nil" end
  if not helpcrunch.is_error(b) then
    return "returned nil without an error object (second value: " .. show(b) .. ")"
  end
  return bad_error_object(b), "nil_err"
end

local failures

local function record(label, why, args)
  failures.n = failures.n + 1
  if #failures < 15 then failures[#failures + 1] = label .. ": " .. why .. "; args " .. show_args(args) end
end

local function pack(...) return { n = select("#", ...), ... } end

-- Whether the `self` of the calls being made is the real object (true) or
-- garbage or a forged one (false): raw Lua errors ("attempt to index ...") are
-- expected from the latter only. `ctx` describes an iterator's creating call.
local real_self, ctx = true, nil

--- pcall fn(args), check the outcome; returns ok and the results.
local function try(label, how, fn, args)
  if TRACE then io.stderr:write(label, " ", show_args(args), "\n") end
  local res = pack(pcall(fn, unpack(args, 1, args.n)))
  local why, outcome, msg = judge(how, res[1], res[2], res[3], res[4])
  if why then record(label, why, args) end
  local fname = label:match("^[^#]+")
  local st = stats[fname] or { calls = 0, raw = 0, raw_forged = 0 }
  stats[fname] = st
  st.calls = st.calls + 1
  st[outcome or "bad"] = (st[outcome or "bad"] or 0) + 1
  if msg and is_raw_lua_error(msg) and not real_self then
    st.raw_forged = st.raw_forged + 1
  elseif msg and is_raw_lua_error(msg) then
    st.raw = st.raw + 1
    st.raw_examples = st.raw_examples or {}
    local shape = msg:gsub("%d+", "N")
    if not st.raw_examples[shape] then
      st.raw_examples[shape] = true
      st.raw_examples[#st.raw_examples + 1] = msg .. " <- " .. (ctx or show_args(args))
    end
  end
  return res
end

local function expect_clean()
  assert(failures.n == 0, failures.n .. " contract violation(s):\n" .. table.concat(failures, "\n"))
end

-- ---- the spec ----

describe("fuzz: garbage into every public function #mock", function()
  local mock, client, spare, rng, g
  local Customers, Query                      -- the real metatables

  setup(function()
    mock = H.mock { customers = 40, seed = 11 }
    client = H.client(mock, { timeout = 2, connect_timeout = 2 })
    spare = H.client(mock, { timeout = 2, connect_timeout = 2 })
    Customers = getmetatable(client.customers)
    Query = getmetatable(client.customers:search())
    local _, an_error = spare.customers:get(99999999)
    assert.truthy(helpcrunch.is_error(an_error))
    rng = new_rng(SEED)
    g = new_garbage(rng, {
      spare, spare.customers, spare.customers:search():where("email", "~", "example"),
      an_error, helpcrunch, spare.core,
    })
  end)

  teardown(function()
    if STATS then
      local names = {}
      for k in pairs(stats) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do
        local s = stats[k]
        io.stderr:write(string.format("%-22s calls=%d value=%d nil=%d nil_err=%d raised=%d "
          .. "raised_error=%d raw_lua_errors(real self)=%d (forged/garbage self)=%d\n", k, s.calls,
          s.value or 0, s["nil"] or 0, s.nil_err or 0, s.raised or 0, s.raised_error or 0, s.raw,
          s.raw_forged))
        for _, e in ipairs(s.raw_examples or {}) do io.stderr:write("    e.g. ", e:sub(1, 240), "\n") end
      end
    end
    if spare then spare:close() end
    if client then client:close() end
    if mock then mock:stop() end
  end)

  before_each(function()
    failures = { n = 0 }
    real_self, ctx = true, nil
  end)

  -- Mostly garbage, sometimes one of the given valid values.
  local function either(valid, p)
    if rng.chance(p or 0.5) then return valid[rng.int(#valid)] end
    return g.any()
  end

  -- A params table: a random subset of `spec` (name -> list of valid values),
  -- each valid or garbage, plus now and then an unknown key; or plain garbage.
  local function params(spec, p_garbage)
    if rng.chance(p_garbage or 0.15) then return g.any() end
    local t = {}
    for name, valid in pairs(spec) do
      if rng.chance(0.5) then t[name] = either(valid, 0.7) end
    end
    if rng.chance(0.1) then t[g.key()] = g.any() end
    return t
  end

  -- `self` for a method of `mt`: usually `real`, else garbage or a forged object
  -- (the right metatable over garbage fields).
  local function self_for(real, mt, forge)
    local r = rng.int(10)
    real_self = r <= 7
    if r <= 7 then return real end
    if r == 8 then return setmetatable(forge(), mt) end
    return g.any()
  end

  local function forged_customers()
    return { client = rng.pick { client, spare, g.any() } }
  end

  local function forged_query()
    local q = { client = rng.chance(0.7) and client or g.any(), filters = {}, comparison = "AND" }
    for _, k in ipairs { "filters", "comparison", "max", "sort_field", "sort_order", "any_tags" } do
      if rng.chance(0.3) then q[k] = g.any() end
    end
    return q
  end

  local function customers_self() return self_for(client.customers, Customers, forged_customers) end

  -- Queries to call methods on: plain, with filters, OR, limits, sorted.
  local queries
  local function query_self()
    if not queries then
      local s = client.customers:search()
      queries = {
        s, s:where("email", "~", "example"), s:tagged_any("Lead", "Paid"),
        s:any():where("name", "~", "a"), s:limit(3), s:sort("lastSeen", "desc"),
        s:where("id", ">=", 1):where("lastSeen", ">", "1000"), s:tagged("Lead"),
      }
    end
    return self_for(rng.pick(queries), Query, forged_query)
  end

  -- Call an iterator (if one was made) a couple of times, then close it.
  local function drain(label, res, args)
    if not res[1] then return end
    ctx = "the iterator of " .. show_args(args)
    local it = res[2]
    if type(it) ~= "table" and type(it) ~= "function" then
      record(label, "returned a " .. type(it) .. " instead of an iterator", pack())
      return
    end
    for _ = 1, rng.int(2) do
      local step = try(label .. "#step", "maybe_nil", it, pack())
      if not step[1] or step[2] == nil then break end
      if type(step[2]) ~= "table" then
        record(label .. "#step", "yielded a " .. type(step[2]) .. " instead of a customer", pack())
      end
    end
    if type(it) == "table" and it.close then
      local ok = pcall(it.close, it)
      assert(ok, label .. ": closing the iterator raised")
      local after = try(label .. "#after_close", "maybe_nil", it, pack())
      if after[1] and after[2] ~= nil then record(label, "a closed iterator yielded again", pack()) end
    end
    ctx = nil
  end

  local SORT_NAMES = { "firstSeen", "lastSeen", "customers.firstSeen", "customers.lastSeen" }
  local ORDERS = { "asc", "desc", "ASC", "Desc" }
  local function small(lo, hi)
    local t = {}
    for i = lo, hi do t[#t + 1] = i end
    return t
  end
  local LIMITS = { 1, 2, 5, 50, 100 }
  local OFFSETS = { 0, 1, 10, 39, 45, 1000 }
  local IDS = { 4994, 265555, 265580, 7831682, "4994", "0004994", 1, 99999999 }

  describe("the module", function()
    it("helpcrunch.new(opts), opts of garbage (refused, or a loopback client)", function()
      local OPTS = {                      -- valid values
        token = { H.TOKEN, H.TOKEN, "abc", LONG },
        timeout = { 2, 0.5, 1e-300, 1e308 }, connect_timeout = { 2, 0.001, 1e-300 },
        max_retries = { 0, 1, 100 }, rate_limit = { false, { requests = 1, per = 1e300 }, {},
          { requests = 5 } },
        page_size = { 1, 100, 50 }, prefetch = { 0, 8, 1 }, verify_tls = { true, false },
        ca_file = { "/nonexistent" }, allow_insecure_http = { true, false },
        sleep = { function() end, raiser("sleep"), core.sleep },
        on_request = { function() end, raiser("on_request"), function(e) return e.nothing end },
        max_response_bytes = { 1024, 2 ^ 40, 4096 },
      }
      local BAD = {                       -- the right type, a wrong value
        token = { "tok en", "a\0b", "", "x\n" }, timeout = { 0, -1, 0 / 0, math.huge },
        connect_timeout = { 0, -math.huge }, max_retries = { 101, -1, 0.5 },
        rate_limit = { true, { requests = 0 }, { per = 0 / 0 }, { per = -1 }, { requests = 1.5 } },
        page_size = { 0, 101 }, prefetch = { 9, -1 }, ca_file = { "x\ny", "a\0b" },
        max_response_bytes = { 1023, 2 ^ 41 },
        proxy = { 5, true, {} },   -- never a proxy host: no proxy string ever reaches libcurl
      }
      local port = mock.port
      local loop = "http://127.0.0.1:" .. port
      local URLS = {
        mock.url, mock.url, mock.url, mock.url .. "/", mock.url .. "//", loop .. "/v1/../admin",
        loop .. "/v1?x=1", loop .. "/v1#f", "HTTP://127.0.0.1:" .. port .. "/v1",
        "https://127.0.0.1:" .. port .. "/v1", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/v1",
        "http://[::1]:" .. port .. "/v1", "http://localhost:" .. port .. "/v1",
        "http://127.0.0.1:1/v1", "http://127.0.0.1:99999999/v1", "http://127.0.0.1\0.x/v1",
        mock.url .. "\0", "://127.0.0.1", "http://", "http:///v1", "file:///etc/passwd",
        "javascript://127.0.0.1/", "http://127.0.0.1:" .. port .. "/v1/%00",
      }
      local KNOWN_URL = {}
      for _, u in ipairs(URLS) do KNOWN_URL[u] = true end
      for i = 1, N do
        local opts
        local r = rng.int(20)
        if r == 1 then
          opts = g.any()                    -- not a table, or a garbage table, or nil
          if type(opts) == "table" and rawget(opts, "base_url") == nil then
            rawset(opts, "base_url", mock.url)
          end
        else
          opts = { base_url = rng.chance(0.85) and rng.pick(URLS) or g.any() }
          -- (a garbage string that happened to look like a URL would be replaced too)
          if opts.base_url == nil or (type(opts.base_url) == "string" and not KNOWN_URL[opts.base_url]
              and opts.base_url:find(":", 1, true)) then
            opts.base_url = mock.url
          end
          local all_valid = rng.chance(0.4)
          opts.token = either(OPTS.token, 0.9)
          for name, valid in pairs(OPTS) do
            if name ~= "token" and rng.chance(0.35) then opts[name] = rng.pick(valid) end
          end
          if not all_valid then
            for name, bad in pairs(BAD) do
              if rng.chance(0.15) then opts[name] = rng.pick(bad) end
            end
            for name in pairs(OPTS) do
              if rng.chance(0.08) then opts[name] = g.any() end
            end
            if type(opts.proxy) == "string" then opts.proxy = nil end
          end
          if opts.verify_tls == false and type(opts.base_url) == "string"
              and opts.base_url:lower():find("^https") then
            opts.verify_tls = nil       -- (it works, and warns on stderr: keep the output clean)
          end
          if rng.chance(0.05) then opts[g.key()] = g.any() end
          if rng.chance(0.5) then opts.max_retries, opts.rate_limit = 0, false end
        end
        local res = try("helpcrunch.new#" .. i, nil, helpcrunch.new, pack(opts))
        local c = res[1] and res[2]
        if c then
          assert(type(c) == "table" and type(c.base_url) == "string", "new returned no client")
          -- (libcurl reads the URL as a C string: up to a NUL)
          local z = c.base_url:find("\0", 1, true)
          local seen = z and c.base_url:sub(1, z - 1) or c.base_url
          assert(seen:find("^https?://127%.0%.0%.1$") or seen:find("^https?://127%.0%.0%.1[:/]")
            or seen:find("^https?://%[::1%]") or seen:find("^https?://localhost[:/]") or type(opts) ~= "table"
            or rawget(opts, "base_url") == nil,
            "a client for a non-loopback host was made: " .. c.base_url)
          -- One request from clients that can only reach the mock, quickly.
          if c.base_url == mock.url and type(opts) == "table" and getmetatable(opts) == nil
              and opts.proxy == nil and opts.max_retries == 0 and opts.rate_limit == false then
            try("new->get#" .. i, nil, c.customers.get, pack(c.customers, 4994))
          end
          local ok = pcall(c.close, c)
          assert(ok, "client:close() raised")
        end
      end
      expect_clean()
    end)

    -- Found by this spec (fixed): a base_url holding a NUL was accepted, and
    -- libcurl read the URL only up to the NUL; a space, a line break, a % escape
    -- or port 99999999 was accepted and failed only at request time.
    it("helpcrunch.new refuses a base_url with a NUL, spaces, escapes or a bad port", function()
      for _, u in ipairs { mock.url .. "\0", mock.url .. "\0/../admin", mock.url .. " x",
          mock.url .. "\n", mock.url .. "/%00", "http://127.0.0.1:99999999/v1",
          "http://127.0.0.1\0.x/v1", "http://127.0.0.1:80x/v1", "https:///v1" } do
        local ok, msg = pcall(H.client, mock, { base_url = u, allow_insecure_http = true })
        assert.is_false(ok, "accepted " .. u)
        assert.truthy(tostring(msg):find("base_url", 1, true))
      end
      expect_clean()
    end)

    it("helpcrunch.new refuses timeouts it cannot honour", function()
      for _, t in ipairs { 1e-300, 0, -1, 1e308, 0 / 0, math.huge } do
        assert.has_error(function() H.client(mock, { timeout = t }) end)
        assert.has_error(function() H.client(mock, { connect_timeout = t }) end)
      end
    end)

    it("helpcrunch.new reads only the options pairs() shows", function()
      local opts = setmetatable({ token = H.TOKEN, base_url = mock.url },
        { __index = function() return "sneaky" end })
      local c = helpcrunch.new(opts)
      assert.equals(100, c.page_size)
      c:close()
    end)

    local bodies
    local function json_bodies()
      if not bodies then
        bodies = {}
        for _, f in ipairs { "seed000_list.json", "seed001_list.json", "seed003_broken.json",
            "seed003_fixed.json" } do
          bodies[#bodies + 1] = H.read("spec/fixtures/" .. f)
        end
        local p = client.customers:list { limit = 20 }
        bodies[#bodies + 1] = (core.encode({ total = p.total, data = { { id = 4994, name = "x",
          customData = { { property = "plan", value = "pro" } }, tags = { { name = "Lead" } },
          firstSeen = "1603885746" } } }))
        bodies[#bodies + 1] = '{"a":[1,2.5,-3e10,true,false,null,"\\u00e9\\ud83d\\ude00"],"b":{}}'
      end
      return bodies
    end

    -- A real JSON body, mutated one to three times; or random bytes; or garbage.
    local function json_text()
      local r = rng.int(10)
      if r == 1 then return g.any() end
      if r == 2 then return g.rstring() end
      local s = rng.pick(json_bodies())
      for _ = 1, rng.int(3) do
        local len = #s
        local at = rng.int(len + 1)
        local m = rng.int(12)
        if m == 1 then
          s = s:sub(1, at - 1) .. string.char(rng.int(256) - 1) .. s:sub(at + 1)
        elseif m == 2 then
          s = s:sub(1, at - 1) .. g.rstring():sub(1, 4) .. s:sub(at)
        elseif m == 3 then
          s = s:sub(1, at - 1) .. s:sub(at + rng.int(20))
        elseif m == 4 then
          s = s:sub(1, at - 1)
        elseif m == 5 then
          s = s:sub(1, at - 1) .. s:sub(at, at + rng.int(30)) .. s:sub(at)
        elseif m == 6 then
          s = s:sub(1, at - 1) .. "\0" .. s:sub(at)
        elseif m == 7 then
          s = s:sub(1, at - 1) .. rng.pick { "1e999", "-", "99999999999999999999999", "1e-400",
            "-0", "0.", ".5", "1e", "9223372036854775808", "-9223372036854775809" } .. s:sub(at)
        elseif m == 8 then
          s = s:sub(1, at - 1) .. string.rep(rng.chance(0.5) and "[" or '{"a":', 1000 * rng.int(20))
            .. s:sub(at)
        elseif m == 9 then
          s = s:sub(1, at - 1) .. rng.pick { "\\ud800", "\\udc00\\ud800", "\\u12", "\\x", "\\",
            '"', "\\u0000", "\\uDBFF\\uDFFF" } .. s:sub(at)
        elseif m == 10 then
          s = s:gsub('"', rng.pick { "'", "", '""' }, 1 + rng.int(3))
        elseif m == 11 then
          s = s:gsub("%d+", rng.pick { "null", '"x"', "{}", "[]", "1.5", "-1" }, rng.int(5))
        else
          s = s:sub(1, at - 1) .. rng.pick { "\255", "\xc3", "\xed\xa0\x80", "\xf5\x80\x80\x80" }
            .. s:sub(at)
        end
      end
      return s
    end

    it("helpcrunch.decode(text)", function()
      for i = 1, N do
        try("helpcrunch.decode#" .. i, nil, helpcrunch.decode, pack(json_text(), g.any()))
      end
      expect_clean()
    end)

    it("helpcrunch.is_error(v)", function()
      for i = 1, N do
        local res = try("helpcrunch.is_error#" .. i, nil, helpcrunch.is_error, pack(g.any(), g.any()))
        if res[1] and type(res[2]) ~= "boolean" then
          record("helpcrunch.is_error#" .. i, "returned a " .. type(res[2]), pack())
        end
      end
      expect_clean()
    end)

    it("core.decode(s), the C decoder directly", function()
      for i = 1, N do
        try("core.decode#" .. i, "core_decode", core.decode, pack(json_text(), g.any()))
      end
      expect_clean()
    end)

    -- A body for the encoder: garbage, or a map/list of garbage nested a bit.
    local function encodable(depth)
      depth = depth or 0
      local r = rng.int(6)
      if r == 1 or depth > 3 then return g.any() end
      if r == 2 then
        local t = {}
        for j = 1, rng.int(5) do t[j] = encodable(depth + 1) end
        return t
      end
      if r == 3 then
        return { name = g.string(), customData = { { property = g.string(), value = g.any() } },
          tags = { { name = g.string(), color = g.any() } }, n = g.number() }
      end
      local t = {}
      for _ = 1, rng.int(5) do t[rng.chance(0.8) and g.string() or g.key()] = encodable(depth + 1) end
      if rng.chance(0.1) then setmetatable(t, { __jsontype = "object" }) end
      return t
    end

    it("core.encode(v), the C encoder directly (its output always decodes)", function()
      for i = 1, N do
        local res = try("core.encode#" .. i, nil, core.encode, pack(encodable(), g.any()))
        if res[1] then
          if type(res[2]) ~= "string" then
            record("core.encode#" .. i, "returned a " .. type(res[2]), pack())
          else
            local ok, v, msg = pcall(core.decode, res[2])
            if not ok or (v == nil and msg) then
              record("core.encode#" .. i, "wrote JSON its decoder refuses: " .. show(res[2])
                .. " (" .. tostring(msg or v) .. ")", pack())
            end
          end
        end
      end
      expect_clean()
    end)
  end)

  describe("client.customers", function()
    it(":get(id)", function()
      local get = client.customers.get
      for i = 1, N do
        try("customers:get#" .. i, nil, get, pack(customers_self(), either(IDS, 0.3), g.any()))
      end
      expect_clean()
    end)

    it(":list(params)", function()
      local LIST = { offset = OFFSETS, limit = LIMITS, sort = SORT_NAMES, order = ORDERS }
      for i = 1, N do
        try("customers:list#" .. i, nil, client.customers.list, pack(customers_self(), params(LIST), g.any()))
      end
      expect_clean()
    end)

    it(":all(params), and a step or two of the iterator", function()
      local ALL = { sort = SORT_NAMES, order = ORDERS, max = { 0, 1, 2, 3, 2 ^ 53 },
        page_size = LIMITS, prefetch = small(0, 8) }
      for i = 1, N do
        local label = "customers:all#" .. i
        local args = pack(customers_self(), params(ALL), g.any())
        drain(label, try(label, nil, client.customers.all, args), args)
      end
      expect_clean()
    end)

    it(":create(fields)", function()
      local FIELD_VALUES = {
        name = { "Fuzz", "", LONG }, email = { "fuzz@example.com", "not-an-email" },
        userId = { "fuzz_1", "" }, company = { "ACME" }, phone = { "+100" },
        firstSeen = { 1603885746, "1603885746", -1 }, lastSeen = { 1603885746, "1603885746" },
        customData = { { plan = "pro", seats = 3, vip = true }, { { property = "a", value = 1 } }, {} },
        tags = { { "vip", { name = "x", color = "#ff0000" } }, {}, { "Lead" } },
        id = { 5 }, notes = { "n" }, unknownField = { "x", 1 },
      }
      for i = 1, N do
        local fields = params(FIELD_VALUES, 0.2)
        if type(fields) == "table" and getmetatable(fields) == nil and next(fields) == nil then
          fields.name = "Fuzz " .. i
        end
        try("customers:create#" .. i, nil, client.customers.create, pack(customers_self(), fields, g.any()))
      end
      expect_clean()
    end)

    it(":search()", function()
      for i = 1, N do
        try("customers:search#" .. i, nil, client.customers.search, pack(customers_self(), g.any()))
      end
      expect_clean()
    end)
  end)

  describe("search queries", function()
    local FIELD_NAMES = { "id", "email", "customers.email", "name", "userId", "tagsData",
      "customers.tagsData", "lastSeen", "createdAt", "customers.lastSeen", "city", "firstSeen" }
    local OPS = { "=", "!=", ">", "<", ">=", "<=", "~", "!~" }
    local VALUES = { 4994, "example", "1603885746", 1603885746, { "Lead" }, "Lead", { { name = "Paid" } },
      "a", 1.5, "" }

    it(":where(field, op, value)", function()
      for i = 1, N do
        try("query:where#" .. i, nil, Query.__index.where, pack(query_self(), either(FIELD_NAMES, 0.7),
          either(OPS, 0.7), either(VALUES, 0.6), g.any()))
      end
      expect_clean()
    end)

    local function tag_args()
      local args = { n = rng.int(5) - 1 }
      for j = 1, args.n do args[j] = either({ "Lead", "Paid", { name = "Lead" }, "" }, 0.6) end
      return args
    end

    for _, name in ipairs { "tagged", "tagged_any" } do
      it(":" .. name .. "(...)", function()
        local fn = Query.__index[name]
        for i = 1, N do
          local args = tag_args()
          table.insert(args, 1, query_self())
          args.n = args.n + 1
          try("query:" .. name .. "#" .. i, nil, fn, args)
        end
        expect_clean()
      end)
    end

    for _, name in ipairs { "any", "every", "body" } do
      it(":" .. name .. "()", function()
        local fn = Query.__index[name]
        for i = 1, N do
          try("query:" .. name .. "#" .. i, nil, fn, pack(query_self(), g.any()))
        end
        expect_clean()
      end)
    end

    it(":sort(field, order)", function()
      for i = 1, N do
        try("query:sort#" .. i, nil, Query.__index.sort, pack(query_self(), either(SORT_NAMES, 0.5),
          either(ORDERS, 0.5), g.any()))
      end
      expect_clean()
    end)

    it(":limit(n)", function()
      for i = 1, N do
        try("query:limit#" .. i, nil, Query.__index.limit, pack(query_self(), either(LIMITS, 0.4), g.any()))
      end
      expect_clean()
    end)

    it(":page(params)", function()
      local PAGE = { offset = OFFSETS, limit = LIMITS }
      for i = 1, N do
        try("query:page#" .. i, nil, Query.__index.page, pack(query_self(), params(PAGE), g.any()))
      end
      expect_clean()
    end)

    for _, name in ipairs { "first", "count" } do
      it(":" .. name .. "()", function()
        local fn = Query.__index[name]
        for i = 1, N do
          try("query:" .. name .. "#" .. i, name == "first" and "maybe_nil" or nil, fn,
            pack(query_self(), g.any()))
        end
        expect_clean()
      end)
    end

    it(":each(params), and a step or two of the iterator", function()
      local EACH = { page_size = LIMITS, prefetch = small(0, 8) }
      for i = 1, N do
        local label = "query:each#" .. i
        local args = pack(query_self(), params(EACH), g.any())
        drain(label, try(label, nil, Query.__index.each, args), args)
      end
      expect_clean()
    end)
  end)

  describe("a closed client", function()
    it("client:close() with garbage self, and on a client that then gets every call", function()
      local Client = getmetatable(client)
      for i = 1, N do
        local victim = g.any()
        if rawequal(victim, client) then victim = nil end
        real_self = false
        try("client:close#" .. i, "maybe_nil", Client.close, pack(victim))
      end
      real_self = true
      -- A client closed while an iterator has a page in flight.
      local c = H.client(mock, { timeout = 2, connect_timeout = 2 })
      local it = c.customers:all { page_size = 5, prefetch = 2 }
      assert.is_table(it())
      local q = c.customers:search():where("email", "~", "example")
      local qit = q:each { page_size = 5, prefetch = 2 }
      assert.is_table(qit())
      try("closed:close", "maybe_nil", c.close, pack(c))
      try("closed:close", "maybe_nil", c.close, pack(c))
      local calls = {
        function() return c.customers:get(either(IDS, 0.7)) end,
        function() return c.customers:list(params { limit = LIMITS, offset = OFFSETS }) end,
        function() return c.customers:create(params { name = { "Fuzz" }, email = { "f@example.com" } }) end,
        function() return q:page(params { limit = LIMITS }) end,
        function() return q:first() end,
        function() return q:count() end,
        function() return it() end,
        function() return qit() end,
        function() return c:close() end,
      }
      local iters = {
        function() return c.customers:all(params { page_size = LIMITS, max = { 1, 2 } }) end,
        function() return q:each(params { page_size = LIMITS }) end,
      }
      for i = 1, N do
        local r = rng.int(#calls + #iters)
        if r <= #calls then
          local how = (r == 5 or r >= 7) and "maybe_nil" or nil
          try("closed:call" .. r .. "#" .. i, how, calls[r], pack())
        else
          local label = "closed:iter" .. r .. "#" .. i
          drain(label, try(label, nil, iters[r - #calls], pack()), pack())
        end
      end
      pcall(it.close, it)
      pcall(qit.close, qit)
      expect_clean()
    end)
  end)

  describe("afterwards", function()
    it("the process is healthy and the client still works", function()
      collectgarbage()
      collectgarbage()
      local c, err = client.customers:get(4994)
      assert.is_nil(err)
      assert.equals("Serge Merge", c.name)
      local page = assert(client.customers:list { limit = 5 })
      assert.equals(5, #page.data)
      assert.is_table(client.customers:search():where("id", "=", 4994):first())
    end)

    it("the mock never saw an invalid path (no '..', no NUL, only the API's paths)", function()
      local log = mock:log()
      assert.truthy(#log > 0)
      local bad = {}
      for _, e in ipairs(log) do
        local p, t = e.path or "", e.target or ""
        local ok_path = p == "/v1/customers" or p == "/v1/customers/search"
          or p:match("^/v1/customers/[1-9]%d*$")
        for _, s in ipairs { p, t } do
          local l = s:lower()
          if s:find("..", 1, true) or s:find("\0", 1, true) or l:find("%00", 1, true)
              or l:find("%2e", 1, true) then
            ok_path = false
          end
        end
        if not ok_path and #bad < 10 then bad[#bad + 1] = e.method .. " " .. show(t) end
      end
      assert(#bad == 0, "invalid paths reached the mock: " .. table.concat(bad, "; "))
    end)
  end)
end)
