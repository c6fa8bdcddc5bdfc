--- The rate-limit store of every process on every machine: the sliding log
-- in Redis.
--
--     local store = helpcrunch.ratelimit.redis{ host = "10.0.0.5", port = 6379,
--       password = os.getenv("REDIS_PASSWORD"), db = 0, key = "helpcrunch:acme" }
--
-- One server-side script does a whole take or hold, atomically (Redis runs
-- scripts one at a time), on the server's clock (`TIME`), so the sharers'
-- own clocks never matter. The log is a sorted set of start times trimmed
-- to the window; a take starts when fewer than `requests` starts are in
-- the last `per + margin` seconds, else it says how long until the oldest
-- that counts leaves. Both keys expire a second after the window (or the
-- hold), so nothing grows. The script is sent as EVALSHA (loaded once),
-- and again whole with EVAL when the server answers NOSCRIPT (a restart).
--
-- Connections: in scripts LuaSocket, or LuaJIT's FFI in LuaJIT (Neovim
-- crashes in LuaSocket), one kept per store and replaced when it died (a
-- take after a Redis restart reconnects at once); cosockets in
-- OpenResty (lua-resty-redis when `require` finds it, else RESP over
-- ngx.socket.tcp), pooled with setkeepalive. AUTH and SELECT go first on
-- every new connection. No cluster or failover logic: point `host` at a
-- Sentinel-managed primary, or use a cluster-aware proxy (the two keys
-- share a hash tag, so they live in one slot).
-- @module helpcrunch.ratelimit.redis

local resp = require "helpcrunch.ratelimit.resp"
local util = require "helpcrunch.util"
local MARGIN = require("helpcrunch.ratelimit").MARGIN

local M = {}

local FNAME = "helpcrunch.ratelimit.redis"

-- KEYS[1]: the log, a sorted set of start times (microseconds); KEYS[2]:
-- the hold, a time. ARGV: "take", requests, window (us), now | "hold",
-- span (us), now; now is "" for the server's TIME. Returns microseconds to
-- wait, 0 when a start was recorded (or the hold written).
M.SCRIPT = [[
local now = tonumber(ARGV[#ARGV])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local held = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if ARGV[1] == 'hold' then
  local span = tonumber(ARGV[2])
  if now + span > held then
    redis.call('SET', KEYS[2], string.format('%d', now + span),
               'PX', string.format('%d', math.floor(span / 1000) + 1000))
  end
  return 0
end
if held > now then return held - now end
local requests, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
local n = redis.call('ZCARD', KEYS[1])
if n >= requests then
  local nth = redis.call('ZRANGE', KEYS[1], n - requests, n - requests, 'WITHSCORES')
  return tonumber(nth[2]) + window - now
end
local member, i = string.format('%d-%d', now, n), 0
while redis.call('ZADD', KEYS[1], 'NX', string.format('%d', now), member) == 0 do
  i = i + 1
  member = string.format('%d-%d.%d', now, n, i)
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.floor(window / 1000) + 1000))
return 0
]]

-- Each option: its check (nil when fine, else what it must be).
local OPTIONS = {
  host = function(v) return type(v) == "string" and v ~= "" or "a host name or address" end,
  port = function(v) return util.is_integral(v) and v >= 1 and v <= 65535 or "an integer from 1 to 65535" end,
  password = function(v) return type(v) == "string" or "a string" end,
  username = function(v) return type(v) == "string" and v ~= "" or "a non-empty string" end,
  db = function(v) return util.is_integral(v) and v >= 0 and v <= 1e6 or "an integer from 0" end,
  key = function(v) return type(v) == "string" and v ~= "" or "a non-empty string" end,
  timeout = function(v)
    return type(v) == "number" and v >= 0.001 and v <= 60 or "a number of seconds from 0.001 to 60"
  end,
  margin = function(v)
    return type(v) == "number" and v >= 0 and v <= 60 or "a number of seconds from 0 to 60"
  end,
  clock = function(v) return type(v) == "function" or "a function returning seconds" end,
}

local function check_options(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(FNAME .. ": options must be a table, got " .. util.describe(opts), 4)
  end
  for k, v in pairs(opts) do
    local check = OPTIONS[k]
    if not check then
      error(FNAME .. ": unknown option " .. util.describe(k) .. " (options: "
        .. util.key_list(OPTIONS) .. ")", 4)
    end
    local ok = check(v)
    if ok ~= true then
      local shown = k == "password" and type(v) or util.describe(v)
      error(FNAME .. ": option '" .. k .. "' must be " .. ok .. ", got " .. shown, 4)
    end
  end
  return opts
end

-- Secrets live here, not in a field a dump of the store would show.
local SECRETS = setmetatable({}, { __mode = "k" })
local AUTH = setmetatable({}, { __mode = "k" })
-- A cosocket pool per server, database and credentials (credentials by a
-- number: a pool's name is no place for a password).
local credential_ids, last_id = {}, 0

local function in_nginx()
  local ngx = rawget(_G, "ngx")
  return type(ngx) == "table" and type(ngx.socket) == "table"
    and type(ngx.get_phase) == "function"
end

local Store = {}
function Store.__index(self, k)
  if k == "secrets" then return SECRETS[self] end
  return Store[k]
end

--- A store in Redis.
-- @tparam table opts `host` (default "127.0.0.1"), `port` (6379), `password`,
--   `username` (Redis 6 ACL), `db` (0), `key` (the keys' prefix, default
--   "helpcrunch"; sharers use the same), `timeout` (seconds for each connect,
--   send and receive, default 1), `margin` (seconds, default
--   helpcrunch.ratelimit.MARGIN), `clock` (a function returning seconds, used
--   instead of the server's TIME: for tests, every sharer the same)
-- @treturn table the store
function M.new(opts)
  opts = check_options(opts)
  if not in_nginx() and not resp.uses_ffi() and not pcall(require, "socket") then
    error(FNAME .. ": needs LuaSocket outside OpenResty (Debian: apt-get install lua-socket; "
      .. "or luarocks install luasocket)", 2)
  end
  local host, port, db = opts.host or "127.0.0.1", opts.port or 6379, opts.db or 0
  local password = opts.password ~= "" and opts.password or nil
  local cred = (opts.username or "") .. "\0" .. (password or "")
  if not credential_ids[cred] then
    last_id = last_id + 1
    credential_ids[cred] = last_id
  end
  local tag = "{" .. (opts.key or "helpcrunch") .. "}"
  local self = setmetatable({
    where = "redis " .. host .. ":" .. port .. (db ~= 0 and (" db " .. db) or ""),
    host = host, port = port, db = db, timeout = opts.timeout or 1,
    margin = opts.margin or MARGIN, clock = opts.clock,
    log_key = tag .. ":log", hold_key = tag .. ":hold",
    pool = "helpcrunch.ratelimit:" .. host .. ":" .. port .. ":" .. db .. ":"
      .. credential_ids[cred],
  }, Store)
  SECRETS[self] = password and { [password] = "<password>" } or nil
  local username = opts.username
  AUTH[self] = password and function(link)
    if username then return link:call("AUTH", username, password) end
    return link:call("AUTH", password)
  end or nil
  return self
end

-- A connection ready for the script (AUTH and SELECT done), or nil, message.
function Store:link()
  if not in_nginx() then
    local kept = self.kept
    if kept then
      kept.reused = true
      return kept
    end
  end
  local link, err
  if in_nginx() then
    link, err = resp.resty(self.host, self.port, self.timeout, self.pool)
    if link == false then
      link, err = resp.cosocket(self.host, self.port, self.timeout, self.pool)
    end
  else
    link, err = resp.script(self.host, self.port, self.timeout)
  end
  if not link then return nil, "cannot connect: " .. tostring(err) end
  if not link.reused then
    local auth = AUTH[self]
    local ok, aerr = true, nil
    if auth then
      ok, aerr = auth(link)
      if not ok then aerr = "AUTH failed: " .. tostring(aerr) end
    end
    if ok and self.db ~= 0 then
      ok, aerr = link:call("SELECT", self.db)
      if not ok then aerr = "SELECT " .. self.db .. " failed: " .. tostring(aerr) end
    end
    if not ok then
      link:close()
      return nil, aerr
    end
  end
  if not in_nginx() then self.kept = link end
  return link
end

-- The script over one link: EVALSHA, loading it first when this store has
-- not yet, and EVAL when the server forgot it.
function Store:eval(link, ...)
  if not self.sha then
    local sha, err, broken = link:call("SCRIPT", "LOAD", M.SCRIPT)
    if not sha then return nil, err, broken end
    self.sha = sha
  end
  local v, err, broken = link:call("EVALSHA", self.sha, 2, self.log_key, self.hold_key, ...)
  if v == nil and not broken and tostring(err):find("^NOSCRIPT") then
    v, err, broken = link:call("EVAL", M.SCRIPT, 2, self.log_key, self.hold_key, ...)
  end
  return v, err, broken
end

-- Run the script. A kept or pooled connection found dead (Redis restarted,
-- an idle timeout) is dropped and the next one tried: nginx's pool may hold
-- several (16 at most), a script's store one.
function Store:run(...)
  local err
  for _ = 1, 18 do
    local link, lerr = self:link()
    if not link then return nil, lerr end
    local v, e, broken = self:eval(link, ...)
    if v ~= nil then
      link:release()
      return v
    end
    if not broken then
      link:release()
      return nil, "the server replied: " .. tostring(e)
    end
    link:close()
    self.kept = nil
    err = tostring(e)
    if not link.reused or err == "timeout" then break end
  end
  return nil, "connection lost: " .. tostring(err)
end

local function us(seconds)
  return string.format("%d", math.floor(seconds * 1e6 + 0.5))
end

-- Run, turning anything raised (a cosocket where nginx allows none) and
-- every failure into one message naming the server and never the password.
function Store:call(...)
  local ok, v, err = pcall(self.run, self, ...)
  if ok and type(v) == "number" then return v end
  if ok and v ~= nil then err = "unexpected reply " .. util.describe(v) end
  if not ok then err = v end
  local msg = self.where .. ": " .. tostring(err)
  for secret, label in pairs(SECRETS[self] or {}) do
    local i = msg:find(secret, 1, true)
    while i do
      msg = msg:sub(1, i - 1) .. label .. msg:sub(i + #secret)
      i = msg:find(secret, i + #label, true)
    end
  end
  return nil, msg
end

--- See helpcrunch.ratelimit: 0 when a start was recorded, else seconds to
-- wait, or nil and a message; `now` is ignored (the server's clock rules).
function Store:take(requests, per)
  local now = self.clock and us(self.clock()) or ""
  local wait, err = self:call("take", requests, us(per + self.margin), now)
  if not wait then return nil, err end
  if wait <= 0 then return 0 end
  return wait / 1e6
end

--- See helpcrunch.ratelimit: nobody sharing the key starts before
-- now + seconds.
function Store:hold(seconds)
  local now = self.clock and us(self.clock()) or ""
  local ok, err = self:call("hold", us(seconds), now)
  if not ok then return nil, err end
  return true
end

--- Drop the kept connection (scripts; nginx pools its own). Safe twice.
function Store:close()
  if self.kept then self.kept:close() end
  self.kept = nil
end

return M
