--- The rate-limit store of one nginx: the sliding log in a lua_shared_dict,
-- shared by every worker.
--
--     lua_shared_dict helpcrunch 1m;      # nginx.conf, http block: a dict of its own
--     local store = helpcrunch.ratelimit.shdict(ngx.shared.helpcrunch)
--
-- The log is a numbered sequence of starts: key `<key>:<k>` holds the time
-- of start k. Start k may be taken only when start k - requests is at least
-- `per + margin` old, and it is claimed with `safe_add`, which is atomic
-- across workers and fails when another worker claimed k first: the loser
-- moves on to k + 1 and checks again. Claims are therefore consecutive and
-- each is checked against the start `requests` before it, so the sharers
-- together never start more than `requests` in any window. No lock, no
-- lock holder to die, and a take is a few dict operations. A counter
-- (`incr`) remembers the last k as a hint where to begin; a start's key
-- expires one second after its window, so an absent key is an old start and
-- nothing grows. The hold a 429 asks for is one key holding a time.
--
-- Time is nginx's (`ngx.now()` after `ngx.update_time()`): one machine, one
-- clock for every worker. The dict must be used by nothing else that could
-- evict its keys (a forgotten log allows a fresh burst).
-- @module helpcrunch.ratelimit.shdict

local util = require "helpcrunch.util"
local MARGIN = require("helpcrunch.ratelimit").MARGIN

local M = {}

local Store = {}
Store.__index = Store

local FNAME = "helpcrunch.ratelimit.shdict"
-- The most claims a take walks past (others taking at the same moment)
-- before it asks the caller to come back in a millisecond.
local MAX_WALK = 64
-- What a start's key outlives its window by (seconds).
local TTL_SLACK = 1

local function nginx_clock()
  local ngx = rawget(_G, "ngx")
  ngx.update_time()
  return ngx.now()
end

local function check_dict(dict)
  local t = type(dict)
  if (t == "table" or t == "userdata") then
    local ok, missing = pcall(function()
      for _, m in ipairs { "get", "safe_add", "safe_set", "incr" } do
        if type(dict[m]) ~= "function" then return m end
      end
    end)
    if ok and not missing then return end
  end
  error(FNAME .. ": expects a shared dict, ngx.shared.NAME (declare it in nginx.conf's "
    .. "http block: lua_shared_dict NAME 1m), got " .. util.describe(dict), 3)
end

--- A store in a shared dict.
-- @param dict `ngx.shared.NAME`
-- @tparam[opt] table opts `key` (prefix of its keys, default "helpcrunch"; sharers
--   use the same), `margin` (seconds, default helpcrunch.ratelimit.MARGIN), `clock`
--   (a function returning seconds; default nginx's clock; for tests)
-- @treturn table the store
function M.new(dict, opts)
  check_dict(dict)
  if opts ~= nil and type(opts) ~= "table" then
    error(FNAME .. ": options must be a table, got " .. util.describe(opts), 3)
  end
  opts = util.check_params(FNAME, opts, { key = true, margin = true, clock = true }, 3)
  if opts.key ~= nil and (type(opts.key) ~= "string" or opts.key == "") then
    error(FNAME .. ": key must be a non-empty string, got " .. util.describe(opts.key), 3)
  end
  local margin = opts.margin
  if margin ~= nil and not (type(margin) == "number" and margin >= 0 and margin <= 60) then
    error(FNAME .. ": margin must be a number of seconds from 0 to 60, got "
      .. util.describe(margin), 3)
  end
  local clock = opts.clock
  if clock ~= nil and type(clock) ~= "function" then
    error(FNAME .. ": clock must be a function returning seconds, got " .. util.describe(clock), 3)
  end
  if clock == nil then
    local ngx = rawget(_G, "ngx")
    if type(ngx) ~= "table" or type(ngx.now) ~= "function" then
      error(FNAME .. ": outside nginx a clock option is needed", 3)
    end
    clock = nginx_clock
  end
  local prefix = (opts.key or "helpcrunch") .. ":"
  return setmetatable({
    dict = dict, clock = clock, margin = margin or MARGIN,
    seq_key = prefix .. "seq", hold_key = prefix .. "hold", prefix = prefix,
  }, Store)
end

--- See helpcrunch.ratelimit: 0 when a start was recorded, else seconds to
-- wait; `now` is ignored (the store has its own clock).
function Store:take(requests, per)
  local dict, prefix = self.dict, self.prefix
  local now = self.clock()
  local held = dict:get(self.hold_key)
  if held and held > now then return held - now end
  local window = per + self.margin
  local k = (dict:get(self.seq_key) or 0) + 1
  for _ = 1, MAX_WALK do
    local oldest = k > requests and dict:get(prefix .. (k - requests)) or nil
    if oldest and oldest + window > now then return oldest + window - now end
    local ok, err = dict:safe_add(prefix .. k, now, window + TTL_SLACK)
    if ok then
      dict:incr(self.seq_key, 1, 0)          -- only a hint: a lost one costs a step
      return 0
    end
    if err ~= "exists" then
      return nil, "the shared dict refused a write (" .. tostring(err) .. "): give the "
        .. "rate limit a lua_shared_dict of its own, or a larger one"
    end
    k = k + 1                                -- another worker took k first
  end
  return 0.001
end

--- See helpcrunch.ratelimit: nobody sharing the dict starts before
-- now + seconds.
function Store:hold(seconds)
  local dict = self.dict
  local until_ = self.clock() + seconds
  local held = dict:get(self.hold_key)
  if held and held >= until_ then return true end
  -- Not atomic with the get: two 429s in the same microsecond may leave the
  -- shorter of their two holds, which the next 429 would lengthen again.
  local ok, err = dict:safe_set(self.hold_key, until_, seconds + TTL_SLACK)
  if not ok then return nil, "the shared dict refused a write (" .. tostring(err) .. ")" end
  return true
end

return M
