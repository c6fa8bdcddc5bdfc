--- An in-process stand-in for `ngx.shared.DICT`, for running the shdict
-- store's algorithm in virtual time outside nginx: the operations it uses
-- (get, safe_add, safe_set, incr) with their documented results, expiry on
-- the given clock, a capacity in keys (for "no memory"), and a hook run
-- before each operation (to put another worker's take in between two of
-- this one's). The real dict is exercised in spec/hosts/ratelimit_nginx_spec.lua.
local M = {}

local Dict = {}
Dict.__index = Dict

--- A dict on `clock` (a function returning seconds), holding at most
-- `capacity` keys.
function M.new(clock, capacity)
  return setmetatable({ data = {}, clock = clock, capacity = capacity or math.huge }, Dict)
end

function Dict:live(key)
  local e = self.data[key]
  if e and e.exp and e.exp <= self.clock() then
    self.data[key] = nil
    return nil
  end
  return e
end

function Dict:count()
  local n = 0
  for k in pairs(self.data) do
    if self:live(k) then n = n + 1 end
  end
  return n
end

function Dict:hook(op, key)
  local h = self.before
  if h then
    self.before = nil          -- once, and not for what the hook itself does
    h(op, key)
  end
end

local function store(self, key, value, ttl)
  self.data[key] = { value = value, exp = ttl and ttl > 0 and self.clock() + ttl or nil }
end

function Dict:get(key)
  self:hook("get", key)
  local e = self:live(key)
  if e then return e.value, 0 end
  return nil
end

function Dict:safe_add(key, value, ttl)
  self:hook("safe_add", key)
  if self:live(key) then return false, "exists" end
  if self:count() >= self.capacity then return false, "no memory" end
  store(self, key, value, ttl)
  return true
end

function Dict:safe_set(key, value, ttl)
  self:hook("safe_set", key)
  if not self:live(key) and self:count() >= self.capacity then return false, "no memory" end
  store(self, key, value, ttl)
  return true
end

function Dict:incr(key, by, init)
  self:hook("incr", key)
  local e = self:live(key)
  if not e then
    if init == nil then return nil, "not found" end
    store(self, key, init + by)
    return init + by
  end
  e.value = e.value + by
  return e.value
end

return M
