-- Simulator scenarios for spec/rasdial_spec.lua: a file that
-- `lua-rasdial --scenario FILE` loads and hands to ras.open("sim", ...).
-- The password is one the specs look for in every output.
return {
  entries = {
    ["Office VPN"] = { username = "alice", password = "s3cret-Pa55", step = 0.005,
                       device_name = "WAN Miniport (SSTP)",
                       local_address = "192.0.2.10", remote_address = "192.0.2.1" },
    Slow = { username = "alice", password = "s3cret-Pa55", step = 0.15 },
    Busy = { step = 0.005, fail = { at = "ConnectDevice", error = 676 } },
    Never = { step = 60 },
    Branch = { step = 0.005 },
  },
}
