-- helpcrunch-lua's example plugin: load it with `nvim --cmd "set rtp+=examples/nvim"`
-- (with lua/ and the LuaJIT build of helpcrunch.core on package.path/cpath: see run.sh).
vim.api.nvim_create_user_command("HelpCrunchCustomer", function(o)
  require("helpcrunch_example").customer(o.args)
end, { nargs = 1, desc = "Show a HelpCrunch customer by id" })

vim.api.nvim_create_user_command("HelpCrunchSearch", function(o)
  require("helpcrunch_example").search(o.args)
end, { nargs = 1, desc = "Search HelpCrunch customers by e-mail or name" })
