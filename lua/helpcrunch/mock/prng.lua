--- A small seeded pseudo-random generator that gives the same numbers on every Lua.
--
-- `math.random` differs between Lua 5.4 (xoshiro256**) and LuaJIT, so the mock uses
-- L'Ecuyer's combined linear congruential generator (1988). Every product stays
-- below 2^47, so it is exact both in 5.4 integers and in LuaJIT doubles.
-- @module helpcrunch.mock.prng

local floor = math.floor

local M = {}

local M1, A1 = 2147483563, 40014
local M2, A2 = 2147483399, 40692

local Rng = {}
Rng.__index = Rng

--- Create a generator.
-- @tparam integer seed any integer (negative and huge values are folded)
-- @tparam[opt] integer stream a second number to get independent sequences from one seed
-- @treturn table generator with `:next()`, `:float()`, `:int(lo, hi)`, `:pick(list)`, `:chance(p)`
function M.new(seed, stream)
  seed = floor(tonumber(seed) or 0)
  stream = floor(tonumber(stream) or 0)
  if seed < 0 then seed = -seed end
  local self = setmetatable({
    s1 = seed % (M1 - 1) + 1,
    s2 = (floor(seed / (M1 - 1)) + stream * 7919 + 12345) % (M2 - 1) + 1,
  }, Rng)
  for _ = 1, 8 do self:next() end
  return self
end

--- Next raw value, an integer in [1, 2147483562].
-- @treturn integer
function Rng:next()
  local s1 = (self.s1 * A1) % M1
  local s2 = (self.s2 * A2) % M2
  self.s1, self.s2 = s1, s2
  local z = s1 - s2
  if z < 1 then z = z + (M1 - 1) end
  return z
end

--- A float in (0, 1).
-- @treturn number
function Rng:float()
  return self:next() / M1
end

--- An integer in [lo, hi].
-- @tparam integer lo
-- @tparam integer hi
-- @treturn integer
function Rng:int(lo, hi)
  return lo + floor(self:next() / M1 * (hi - lo + 1))
end

--- True with probability p.
-- @tparam number p
-- @treturn boolean
function Rng:chance(p)
  return self:float() < p
end

--- One element of a list.
-- @tparam table list
-- @return an element
function Rng:pick(list)
  return list[self:int(1, #list)]
end

return M
