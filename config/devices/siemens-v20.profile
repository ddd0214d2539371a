# siemens-v20.profile - Siemens SINAMICS V20 belt drive, Modbus RTU (USS/Modbus).
# Source: docs/hardware.md "Belt drives over Modbus": control word STW at 40100 (write 0x047E
# then 0x047F to run), speed reference at 40101, status ZSW at 40110, actual speed at
# 40111, communication watchdog P2014 (default 0 = off, fault F72).
# 4xxxx numbers are converted to protocol addresses (40100 -> 99).
# NOT VERIFIED against the drive manual: the scale of the speed reference and actual
# (here 16384 = 50 Hz, i.e. 0.0030517578 Hz per count), the Modbus address of P2014 and
# its units, the stop and quick-stop words, the status bits, and kmh_per_hz (depends on
# the motor, gearbox and roller of the treadmill: measure at commissioning).
# The driver refuses a profile whose 'unverified' list is not empty.

[device]
name = siemens-v20
source = docs/hardware.md (Belt drives over Modbus); Siemens SINAMICS V20 operating instructions
unverified = speed scale, watchdog_ms address and units, stop/estop words, status bits, kmh_per_hz
simulated = no
min_gap_ms = 5
kmh_per_hz = 0.2

[registers]
command        = holding   99       1             code
speed_setpoint = holding   100      0.0030517578  Hz
status         = holding   109      1             bits
speed_actual   = holding   110      0.0030517578  Hz
watchdog_ms    = holding   2013     1             ms

[command]
start = 0x047E 0x047F
stop  = 0x047E
estop = 0x047A

[status]
running     = 0x0004
drive_fault = 0x0008
