--- Webhooks from HelpCrunch: check the `X-HelpCrunch-Signature` header and read
-- the event.
--
--     local event, err = helpcrunch.webhook.parse(raw_body, signature, secret)
--
-- The signature is the lowercase hex HMAC-SHA1 of the raw request body, keyed
-- with the account's "HTTP Webhook Signing Key" (API-REFERENCE.md §6.1). The
-- HMAC comes from a well-kept library, never from Lua: `ngx.hmac_sha1` inside
-- OpenResty, else OpenSSL's libcrypto through the C core (`core.hmac_sha1`).
-- Verify the bytes exactly as they arrived, before any JSON parsing: the sender
-- writes `\/` and `\uXXXX` escapes that a re-encoder would change.
-- @module helpcrunch.webhook

local errors = require "helpcrunch.errors"
local util = require "helpcrunch.util"

local M = {}

--- The HTTP header that carries the signature.
M.HEADER = "X-HelpCrunch-Signature"

local hmac_hex, implementation      -- chosen on first use (see choose)

local function to_hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- ngx.hmac_sha1 where it exists (OpenResty), else libcrypto via the core.
local function choose()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.hmac_sha1) == "function" then
    local hmac_sha1 = ngx.hmac_sha1
    return function(key, data) return to_hex(hmac_sha1(key, data)) end, "ngx"
  end
  return require("helpcrunch.core").hmac_sha1, "libcrypto"
end

--- Which HMAC implementation is in use: "ngx" (ngx.hmac_sha1) or "libcrypto".
-- @treturn string
function M.implementation()
  if not hmac_hex then hmac_hex, implementation = choose() end
  return implementation
end

-- Programmer errors raise (DESIGN.md): a body or secret that is not a string,
-- an empty secret, a signature that is neither a string nor nil. No message
-- ever shows the secret.
local function check(fname, raw_body, signature, secret)
  if type(raw_body) ~= "string" then
    error(fname .. ": raw_body must be a string (the request body exactly as received), got "
      .. util.describe(raw_body), 3)
  end
  if type(secret) ~= "string" or secret == "" then
    error(fname .. ": secret must be a non-empty string (the HTTP Webhook Signing Key from "
      .. "Settings > Developers > Webhooks, not the API key), got "
      .. (type(secret) == "string" and "an empty string" or util.describe(secret)), 3)
  end
  if signature ~= nil and type(signature) ~= "string" then
    error(fname .. ": signature must be the " .. M.HEADER .. " header as a string, or nil, got "
      .. util.describe(signature), 3)
  end
end

-- Equal strings of the same length, compared in constant time: every byte
-- is looked at whatever the first difference.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    local d = a:byte(i) - b:byte(i)
    diff = diff + d * d
  end
  return diff == 0
end

local function verify(raw_body, signature, secret)
  if signature == nil or signature == "" then
    return false, "missing signature (no " .. M.HEADER .. " header)"
  end
  if #signature ~= 40 or signature:find("[^%x]") then
    return false, "malformed signature: expected 40 hexadecimal digits (HMAC-SHA1)"
  end
  if not hmac_hex then hmac_hex, implementation = choose() end
  if same(hmac_hex(secret, raw_body), signature:lower()) then return true end
  return false, "signature mismatch: the body was not signed with this secret, or was changed"
end

--- Sign a body as HelpCrunch does: for tests of your own receiver.
-- @tparam string raw_body the exact bytes to send
-- @tparam string secret the signing key
-- @treturn string 40 lowercase hex digits, the header's value
function M.sign(raw_body, secret)
  check("helpcrunch.webhook.sign", raw_body, nil, secret)
  if not hmac_hex then hmac_hex, implementation = choose() end
  return hmac_hex(secret, raw_body)
end

--- Check a delivery's signature.
-- @tparam string raw_body the request body exactly as received
-- @tparam string|nil signature the `X-HelpCrunch-Signature` header (hex, any case)
-- @tparam string secret the signing key
-- @treturn boolean true when the body was signed with this secret
-- @treturn string|nil why not: missing, malformed, mismatch
function M.verify(raw_body, signature, secret)
  check("helpcrunch.webhook.verify", raw_body, signature, secret)
  return verify(raw_body, signature, secret)
end

-- Customers inside an event go through the core's one normaliser (the root
-- object of a decode is normalised as a customer), so they read like every
-- other customer: customData a map, tags a list, timestamps integers.
local function normalised(core, t)
  if type(t) == "string" then                 -- eventData sent as a JSON string
    local v = core.decode(t)
    return v ~= nil and v or t
  end
  if type(t) ~= "table" then return t end
  local ok, text = pcall(core.encode, t)
  if not ok then return t end
  local v = core.decode(text)
  return v ~= nil and v or t
end

local function webhook_error(code, message, offset)
  return errors.new { kind = "webhook", code = code, message = message, offset = offset }
end

--- Verify and decode a delivery.
-- @tparam string raw_body the request body exactly as received
-- @tparam string|nil signature the `X-HelpCrunch-Signature` header
-- @tparam string secret the signing key
-- @treturn table|nil the event: `event` (its name), `eventData`, `attempts`,
--   `lastAttemptAt`, `createdAt`, `id`; the customer of a `customer.*` event
--   (`eventData`) and `eventData.customer` of other events normalised
-- @treturn table|nil the error: `kind = "webhook"`, `code = "bad_signature"`
--   (message says why) or `"not_json"`
function M.parse(raw_body, signature, secret)
  check("helpcrunch.webhook.parse", raw_body, signature, secret)
  local ok, why = verify(raw_body, signature, secret)
  if not ok then return nil, webhook_error("bad_signature", why) end
  local core = require "helpcrunch.core"
  local event, msg, at = core.decode(raw_body)
  if event == nil then
    return nil, webhook_error("not_json", "the body is not JSON: " .. tostring(msg or "null"), at)
  end
  if type(event) ~= "table" or event[1] ~= nil then
    return nil, webhook_error("not_json", "the body is not a JSON object")
  end
  local name = event.event
  if type(name) == "string" and name:sub(1, 9) == "customer." then
    event.eventData = normalised(core, event.eventData)
  else
    local data = event.eventData
    if type(data) == "string" then data = normalised(core, data) end
    if type(data) == "table" and type(data.customer) == "table" then
      data.customer = normalised(core, data.customer)
    end
    event.eventData = data
  end
  return event
end

return M
