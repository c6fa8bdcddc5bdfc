std = "max"
files["spec"] = { std = "+busted" }
max_line_length = 120
exclude_files = { "build/**" }
files["examples/nvim"] = { globals = { "vim" } }
