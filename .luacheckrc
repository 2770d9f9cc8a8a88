std = "lua54"
max_line_length = 120
exclude_files = { "build/**", "luarocks-tree/**" }
files["spec/**/*_spec.lua"] = { std = "+busted" }
