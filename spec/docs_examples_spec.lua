-- The examples in the reference (`make docs`: the LDoc comments at the top of
-- each module), run against the mock like the README's (spec/readme_spec.lua):
-- an example is the indented block of a module's leading comment. Each module
-- that has one has a rule here -- run it, only compile it (saying why), or skip
-- it (an interface listing, not code) -- and a module with an example but no
-- rule fails the spec, so no example can rot unnoticed.
local H = require "spec.helper"
local readme = require "spec.support.readme"
local helpcrunch = require "helpcrunch"

local RULES = {
  ["helpcrunch"] = "run",
  ["helpcrunch.pipeline"] = "run",
  ["helpcrunch.webhook"] = "run",
  ["helpcrunch.nvim"] = "compile",                -- needs Neovim (spec/hosts/nvim_spec.lua)
  ["helpcrunch.ratelimit.redis"] = "compile",     -- a Redis at another address
  ["helpcrunch.ratelimit.shdict"] = "skip",       -- nginx.conf and a line for inside nginx
  ["helpcrunch.ratelimit"] = "skip",              -- the store interface, listed
  ["helpcrunch.transport.curl"] = "skip",         -- the transport interface, listed
  ["helpcrunch.cli.csv"] = "skip",                -- a loop shape (`do ... end`)
  ["helpcrunch.cli.records"] = "skip",            -- a loop shape (`do ... end`)
}

-- The example of a module: the lines indented by 4 or more in the leading comment.
local function example(path)
  local lines, first = {}, nil
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    if not line:match("^%-%-") then break end
    local code = line:match("^%-%-     (.*)$") or line:match("^%-%-    (.*)$")
    if code then
      first = first or n
      lines[#lines + 1] = code
    elseif #lines > 0 and not line:match("^%-%-%s*$") then
      break
    end
  end
  if #lines == 0 then return nil end
  return { code = table.concat(lines, "\n"), line = first }
end

local function modules()
  local out = {}
  local p = io.popen("find lua/helpcrunch -name '*.lua' ! -path '*/mock/*' | sort")
  for path in p:lines() do
    local name = path:gsub("^lua/", ""):gsub("/init%.lua$", ""):gsub("%.lua$", ""):gsub("/", ".")
    local ex = example(path)
    if ex then
      ex.name, ex.path = name, path
      out[#out + 1] = ex
    end
  end
  p:close()
  return out
end

describe("the reference's examples #mock", function()
  local mock
  setup(function() mock = H.mock { customers = 30 } end)
  teardown(function() mock:stop() end)

  local function env()
    local fake_os = setmetatable({ getenv = function(k)
      if k == "HELPCRUNCH_API_KEY" then return H.TOKEN end
      if k == "HELPCRUNCH_BASE_URL" then return mock.url end
      return os.getenv(k)
    end }, { __index = os })
    local client = H.client(mock)
    return { os = fake_os, helpcrunch = helpcrunch, client = client,
             raw_body = '{"event":"customer.created"}', signature = "00", secret = "s3cret",
             require = function(name)
               -- a client made by the example talks to the mock
               if name == "helpcrunch" then
                 return setmetatable({ new = function(o)
                   o = o or {}
                   o.base_url = o.base_url or mock.url
                   return helpcrunch.new(o)
                 end }, { __index = helpcrunch })
               end
               return require(name)
             end }
  end

  it("has a rule for every module's example", function()
    for _, ex in ipairs(modules()) do
      assert(RULES[ex.name], ex.path .. ":" .. ex.line .. " has an example but no rule here")
    end
  end)

  for _, ex in ipairs(modules()) do
    local rule = RULES[ex.name]
    if rule == "run" then
      it("runs " .. ex.path .. "'s example", function()
        readme.run({ code = ex.code, line = ex.line }, env())
      end)
    elseif rule == "compile" then
      it("compiles " .. ex.path .. "'s example", function()
        readme.compile { code = ex.code, line = ex.line }
      end)
    end
  end
end)
