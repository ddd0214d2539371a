# delta-ms300.profile - Delta VFD-E / MS300 belt drive, Modbus RTU.
# Source: docs/hardware.md "Belt drives over Modbus": control word 0x2000 (run/stop and
# direction bits), frequency reference 0x2001 in 0.01 Hz, output frequency 0x2103,
# fault code 0x2100, communication watchdog Pr.09-03 (factory 0 = off; Pr.09-02 action,
# factory "keep running": set it to stop at commissioning), >= 10 ms between messages.
# NOT VERIFIED against the drive manual: the run/stop bit values of 0x2000, the address
# of Pr.09-03 (Delta maps Pr.GG-nn to 0xGGnn, here 0x0903) and its units (0.1 s), the
# status register and its bits (0x2101 assumed), kmh_per_hz (site-specific).
# The driver refuses a profile whose 'unverified' list is not empty.

[device]
name = delta-ms300
source = docs/hardware.md (Belt drives over Modbus); Delta VFD-E / MS300 user manuals
unverified = run/stop words, watchdog_ms address and units, status register and bits, kmh_per_hz
simulated = no
min_gap_ms = 10
kmh_per_hz = 0.2

[registers]
command        = holding   0x2000   1      code
speed_setpoint = holding   0x2001   0.01   Hz
fault_code     = holding   0x2100   1      code
status         = holding   0x2101   1      bits
speed_actual   = holding   0x2103   0.01   Hz
watchdog_ms    = holding   0x0903   0.1    s

[command]
start = 0x0012
stop  = 0x0001

[status]
running = 0x0003
