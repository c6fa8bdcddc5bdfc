--- A tiny Neovim plugin on helpcrunch-lua: `:HelpCrunchCustomer <id>` opens a
-- scratch buffer with the customer; `:HelpCrunchSearch <text>` lists the
-- customers whose e-mail or name contains text, and <CR> on a line opens one.
-- The editor never waits: the calls run in helpcrunch.nvim's async and come
-- back through vim.schedule, where vim.api may be used.
local hcn = require "helpcrunch.nvim"

local M = {}

local client
local function get_client()
  -- token from HELPCRUNCH_API_KEY, URL from HELPCRUNCH_BASE_URL (or the API)
  client = client or hcn.new {}
  return client
end

local function scratch(name, lines)
  vim.cmd("enew")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype, vim.bo[buf].bufhidden, vim.bo[buf].swapfile = "nofile", "wipe", false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  return buf
end

local function describe(c)
  local lines = {
    ("%s <%s>"):format(c.name or "(no name)", c.email or "no e-mail"),
    ("id %d   userId %s   company %s"):format(c.id, c.userId or "-", c.company or "-"),
    ("first seen %s   last seen %s"):format(
      c.firstSeen and os.date("!%Y-%m-%d", c.firstSeen) or "-",
      c.lastSeen and os.date("!%Y-%m-%d", c.lastSeen) or "-"),
  }
  local tags = {}
  for _, t in ipairs(c.tags or {}) do tags[#tags + 1] = t.name end
  lines[#lines + 1] = "tags: " .. (#tags > 0 and table.concat(tags, ", ") or "-")
  local keys = {}
  for k in pairs(c.customData or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do lines[#lines + 1] = ("  %s = %s"):format(k, tostring(c.customData[k])) end
  return lines
end

--- :HelpCrunchCustomer <id>
function M.customer(id)
  hcn.async(function()
    local c, err = get_client().customers:get(id)
    if not c then
      vim.notify(tostring(err), vim.log.levels.ERROR)
      return
    end
    scratch("helpcrunch://customer/" .. c.id, describe(c))
  end)
end

--- :HelpCrunchSearch <text>
function M.search(text)
  hcn.async(function()
    local hc = get_client()
    local q = hc.customers:search():any():where("email", "~", text):where("name", "~", text)
    local lines, ids = {}, {}
    for c in q:limit(200):each() do
      lines[#lines + 1] = ("%-10d %-30s %s"):format(c.id, c.name or "", c.email or "")
      ids[#lines] = c.id
    end
    if #lines == 0 then lines[1] = "no customer matches " .. text end
    local buf = scratch("helpcrunch://search/" .. text, lines)
    vim.keymap.set("n", "<CR>", function()
      local id = ids[vim.api.nvim_win_get_cursor(0)[1]]
      if id then M.customer(id) end
    end, { buffer = buf })
  end)
end

return M
