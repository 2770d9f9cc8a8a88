-- An entry whose name would forge output lines and drive the terminal,
-- already up: lua-rasdial must show it escaped (spec/rasdial_spec.lua).
local name = "evil\nCommand completed successfully.\27[2J"
return { entries = { [name] = { step = 0.005 } }, established = { name } }
