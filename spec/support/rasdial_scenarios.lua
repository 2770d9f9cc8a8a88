-- Simulator scenarios for spec/rasdial_spec.lua: a file that
-- `lua-rasdial --scenario FILE` loads and hands to ras.open("sim", ...).
-- The password is one the specs look for in every output; the scenario's
-- user name and password are also the entry's saved credentials.
return {
  entries = {
    ["Office VPN"] = { username = "alice", password = "s3cret-Pa55", step = 0.005,
                       device_name = "WAN Miniport (SSTP)",
                       local_address = "192.0.2.10", remote_address = "192.0.2.1",
                       speed = 100000000, bytes_sent_per_second = 20000,
                       bytes_received_per_second = 90000, frame_size = 1000,
                       projection = { interface = "ppp7", auth_protocol = "mschapv2",
                                      encryption = "MPPE 128", compression = "MPPC",
                                      ipv4 = { address = "192.0.2.10", server_address = "192.0.2.1",
                                               dns = { "192.0.2.53", "192.0.2.54" } },
                                      ipv6 = { interface_id = "02:00:00:ff:fe:00:00:0a",
                                               server_interface_id = "02:00:00:ff:fe:00:00:01" } } },
    Slow = { username = "alice", password = "s3cret-Pa55", step = 0.15 },
    Busy = { step = 0.005, fail = { at = "ConnectDevice", error = 676 } },
    Never = { step = 60 },
    Branch = { step = 0.005 },
    -- a configuration error (720): ras.error_info says a retry cannot cure it
    NoProtocols = { step = 0.005, fail = { at = "Authenticate", error = 720 } },
  },
}
