-- The scenarios of rasdial_scenarios.lua with "Office VPN" already up, as
-- if another program had dialled it, and an activity for --watch: Branch
-- comes up, then Office VPN goes down.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local options = dofile(dir .. "rasdial_scenarios.lua")
options.established = { "Office VPN" }
options.activity = {
  { at = 0.2, dial = "Branch" },
  { at = 0.5, hangup = "Office VPN" },
}
return options
