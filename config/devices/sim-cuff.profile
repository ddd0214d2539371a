# sim-cuff.profile - register map of treadsim's simulated cuff inflator (hil/sim_cuff.c).
# Source: hil/sim_cuff.c in this repository (treadsim loads this very file, so the map
# and the simulator cannot drift apart). Addresses are protocol addresses from 0.

[device]
name = treadsim-cuff
source = hil/sim_cuff.c (this repository); checked by the hil tests
simulated = yes
min_gap_ms = 0

[registers]
# key    = kind      address  scale  units
pressure = input     0x0000   0.1    mmHg
status   = input     0x0001   1      bits
setpoint = holding   0x0000   1      mmHg
rate     = holding   0x0001   0.1    mmHg/s
command  = holding   0x0002   1      code

[command]
inflate = 0x0001
deflate = 0x0002
vent    = 0x0003
