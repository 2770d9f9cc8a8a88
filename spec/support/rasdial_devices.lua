-- The simulator's devices option for `lua-rasdial --list-devices`
-- (spec/rasdial_spec.lua): a type the module does not know passes through,
-- and a hostile name must be shown escaped.
return {
  entries = { Branch = { step = 0.005 } },
  devices = { { name = "WAN Miniport (SSTP)", type = "vpn" }, { name = "/dev/ttyS0", type = "modem" },
              { name = "gre\27[2J0", type = "gre" } },
}
