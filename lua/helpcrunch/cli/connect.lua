--- The client a command talks through, from the environment and the flags:
-- the token from HELPCRUNCH_API_KEY or --token-file (never a flag of its own:
-- it would land in shell history and `ps`), the URL from HELPCRUNCH_BASE_URL
-- or --base-url, the limit from --rate N/S, shared through --redis URL. Its
-- waits and retries are shown by the command's progress display.
-- @module helpcrunch.cli.connect

local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"

local M = {}

--- Parse --rate: "N/S" (N requests in any S seconds).
-- @tparam string s
-- @treturn table|nil `{requests =, per =}`
-- @treturn string why not
function M.rate(s)
  local n, per = s:match("^%s*(%d+)%s*/%s*(%d+%.?%d*)%s*$")
  n, per = tonumber(n), tonumber(per)
  if not n or n < 1 or not per or per <= 0 then
    return nil, "--rate must be N/SECONDS with N >= 1 (e.g. 120/60, the API's), got " .. s
  end
  return { requests = math.floor(n), per = per }
end

--- Parse --redis: redis://[[user]:password@]host[:port][/db][?key=NAME]. The
-- password may come from HELPCRUNCH_REDIS_PASSWORD instead (better: a URL
-- with a password shows in `ps`).
-- @tparam string url
-- @treturn table|nil options of helpcrunch.ratelimit.redis
-- @treturn string why not
function M.redis(url)
  local bad = "--redis must look like redis://HOST[:PORT][/DB][?key=NAME]"
  local rest = url:match("^redis://(.+)$")
  if not rest then return nil, bad end
  local o = {}
  local query
  rest, query = rest:match("^([^?]*)%??(.*)$")
  local auth, hostpart = rest:match("^(.*)@([^@]*)$")
  if auth then
    local user, pass = auth:match("^([^:]*):(.*)$")
    if user then
      if user ~= "" then o.username = user end
      o.password = pass
    else
      o.password = auth
    end
  else
    hostpart = rest
  end
  local host, port, db = hostpart:match("^([^:/]+):?(%d*)/?(%d*)$")
  if not host then return nil, bad end
  o.host = host
  if port ~= "" then o.port = tonumber(port) end
  if db ~= "" then o.db = tonumber(db) end
  for k, v in query:gmatch("([^&=]+)=([^&]*)") do
    if k ~= "key" then return nil, bad .. " (the only query parameter is key)" end
    o.key = v
  end
  o.password = o.password or os.getenv("HELPCRUNCH_REDIS_PASSWORD")
  return o
end

local function read_token(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "--token-file: cannot read " .. tostring(err) end
  local line = f:read("*l")
  f:close()
  line = line and line:match("^%s*(.-)%s*$")
  if not line or line == "" then return nil, "--token-file: " .. path .. " holds no token" end
  return line
end

--- Make the client.
-- @tparam table o parsed flags: `token_file`, `base_url`, `rate`, `redis`
-- @tparam table ui `{ progress = <progress display or nil> }`, read at each
--   event (a command sets it once it knows its total)
-- @treturn table|nil client
-- @treturn string the usage error (exit 2)
function M.client(o, ui)
  local token = os.getenv("HELPCRUNCH_API_KEY")
  if o.token_file then
    local err
    token, err = read_token(o.token_file)
    if not token then return nil, err end
  end
  if not token or token == "" then
    return nil, "no API token: set HELPCRUNCH_API_KEY or pass --token-file FILE"
  end
  local rate = { requests = 120, per = 60 }
  if o.rate then
    local err
    rate, err = M.rate(o.rate)
    if not rate then return nil, err end
  end
  if o.redis then
    local ro, err = M.redis(o.redis)
    if not ro then return nil, err end
    local ok, store = pcall(helpcrunch.ratelimit.redis, ro)
    if not ok then return nil, "--redis: " .. tostring(store) end
    rate.store = store
  end
  local clock = {
    now = core.now,
    -- In slices of at most a second: the countdown moves, and Ctrl-C is
    -- taken between slices.
    sleep = function(seconds)
      local p = ui.progress
      if p then p:waiting(seconds) end
      local left = seconds
      while left > 0 do
        local d = left < 1 and left or 1
        core.sleep(d)
        left = left - d
        if p and left > 0 then p:waiting(left, true) end
      end
    end,
  }
  local ok, client = pcall(helpcrunch.new, {
    token = token, base_url = o.base_url, rate_limit = rate, clock = clock,
    on_request = function(ev) if ui.progress then ui.progress:event(ev) end end,
  })
  if not ok then return nil, (tostring(client):gsub("^helpcrunch%.new: ", "")) end
  return client
end

return M
