# treadsim.profile - register map of hil/treadsim, the simulated treadmill.
# Source: hil/treadsim.c in this repository (treadsim loads this very file, so the map
# and the simulator cannot drift apart). Addresses are protocol addresses from 0:
# mbpoll numbers from 1 unless given -0.

[device]
name = treadsim
source = hil/treadsim.c (this repository); checked by the hil tests
simulated = yes
min_gap_ms = 0

[registers]
# key          = kind      address  scale  units
speed_setpoint = holding   0x0000   0.01   km/h
grade_setpoint = holding   0x0001   0.1    %
command        = holding   0x0002   1      code
watchdog_ms    = holding   0x0003   1      ms
speed_actual   = input     0x0000   0.01   km/h
grade_actual   = input     0x0001   0.1    %
status         = input     0x0002   1      bits
fault_code     = input     0x0003   1      code
boot_count     = input     0x0004   1      count
button         = input     0x0005   1      bits

[command]
start = 0x0001
stop  = 0x0000
estop = 0x0002

[status]
running          = 0x0001
estop            = 0x0002
key_pulled       = 0x0004
watchdog_tripped = 0x0008
drive_fault      = 0x0010
homing           = 0x0020
