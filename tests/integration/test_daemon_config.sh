# Configuration errors name the file, the line and what is wrong; --check-config
# validates without starting anything.
source "$(dirname "$0")/lib.sh"

check "the shipped configuration is valid" "$D" --config "$TL_SOURCE_DIR/config/treadlabd.conf" --check-config

# refused CONFIG-TEXT MESSAGE-REGEX [ARGS]
refused() {
	local text=$1 re=$2
	shift 2
	printf '%b\n' "$text" >"$WORK/bad.conf"
	local out
	if out=$("$D" --config "$WORK/bad.conf" --check-config "$@" 2>&1); then
		say "     accepted: $out"
		return 1
	fi
	grep -Eq -- "$re" <<<"$out" || { say "     got: $out"; return 1; }
	[ "$(wc -l <<<"$out")" -eq 1 ] || { say "     more than one line: $out"; return 1; }
}
check "unknown key, with file:line" refused '[daemon]\ntick_hz = 10\ncolour = red' 'bad.conf:3: \[daemon\]: unknown key .colour.'
check "unknown section" refused '[deamon]\ntick_hz = 10' 'bad.conf:2: unknown section \[deamon\]'
check "bad number" refused '[limits]\nmax_speed_kmh = fast' "bad.conf:2: \[limits\] max_speed_kmh: 'fast' is not a number"
check "out of range" refused '[daemon]\ntick_hz = 5000' 'bad.conf:2: \[daemon\] tick_hz: 5000 is out of range'
check "button poll interval out of range" refused '[buttons]\nmodbus = false\npoll_ms = 0' 'bad.conf:3: \[buttons\] poll_ms: 0 is out of range \(1 to 1000\)'
check "button poll interval not a number" refused '[buttons]\npoll_ms = soon' "bad.conf:2: \[buttons\] poll_ms: 'soon' is not an integer"
check "negative debounce refused" refused '[buttons]\ndebounce_ms = -1' 'bad.conf:2: \[buttons\] debounce_ms: -1 is out of range \(0 to 1000\)'
check "unknown serial framing" refused '[treadmill]\ndriver = modbus\nframing = 7E1' "bad.conf:3: \[treadmill\] framing: '7E1' is not one of 8E1, 8O1, 8N2, 8N1"
check "unknown driver, with the registry's names" refused '[treadmill]\ndriver = magic' "bad.conf:2: \[treadmill\] driver: 'magic' is not one of sim, modbus, trackmaster\$"
# the destinations of issue 13 ([hl7], [fhir])
check "hl7 send_to without a port" refused '[hl7]\nsend_to = engine.example.org' "bad.conf:2: \[hl7\] send_to: 'engine.example.org' is not HOST:PORT \(port 1 to 65535\)"
check "hl7 send_to port out of range" refused '[hl7]\nsend_to = 127.0.0.1:70000' 'bad.conf:2: \[hl7\] send_to: .127.0.0.1:70000. is not HOST:PORT'
check "hl7 trigger" refused '[hl7]\ntrigger = later' "bad.conf:2: \[hl7\] trigger: 'later' is not one of sign, complete"
check "trigger = complete is refused, not silently ignored" refused '[fhir]\ntrigger = complete' "bad.conf:2: \[fhir\] trigger: 'complete' \(send when a test ends\) is not built yet; only 'sign' is"
check "an HL7 delimiter in a name" refused '[hl7]\nsending_facility = LAB|2' 'bad.conf:2: \[hl7\] sending_facility: .LAB\|2. holds an HL7 delimiter'
check "fhir url without a scheme" refused '[fhir]\nurl = fhir.example.org/r4' "bad.conf:2: \[fhir\] url: 'fhir.example.org/r4' is not an http:// or https:// URL"
check "fhir token file unreadable" refused '[fhir]\nurl = https://fhir.example.org/r4\ntoken_file = /nonexistent/token' '\[fhir\] token_file /nonexistent/token cannot be read'
check "fhir has no ack_timeout_ms" refused '[fhir]\nack_timeout_ms = 100' "bad.conf:2: \[fhir\]: unknown key 'ack_timeout_ms'"

# The driver's own keys are read through its option table (treadlabd --list-options).
# accepted CONFIG-TEXT: --check-config says ok
accepted() {
	printf '%b\n' "$1" >"$WORK/good.conf"
	local out
	out=$("$D" --config "$WORK/good.conf" --check-config 2>&1) || { say "     refused: $out"; return 1; }
}
check "another driver's key is refused, naming what this one takes" refused '[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\nframing = 8N1' \
	'bad.conf:4: \[treadmill\] framing: the trackmaster driver has no such option \(it takes: device, baud, response_timeout_ms, retries\)$'
check "the default driver (sim) takes no [treadmill] device" refused '[treadmill]\ndevice = /dev/ttyS0' \
	'bad.conf:2: \[treadmill\] device: the sim driver has no such option \(it takes: \[sim\] patient_onset_s, \[sim\] patient_max_s\)$'
check "the virtual patient is the sim driver's" refused '[treadmill]\ndriver = modbus\nprofile = p\ndevice = /dev/ttyS0\n[sim]\npatient_onset_s = 10' \
	'bad.conf:6: \[sim\] patient_onset_s: the modbus driver has no such option'
check "a key no driver takes is an unknown key" refused '[treadmill]\ndriver = modbus\ncolour = red' "bad.conf:3: \[treadmill\]: unknown key 'colour'"
check "driver = after the driver's keys" accepted '[treadmill]\ndevice = /dev/ttyS0\nprofile = p\nframing = 8N1\n[sim]\ntime_scale = 1\n[treadmill]\ndriver = modbus'
check "driver = after the keys: a bad value keeps its own line" refused '[treadmill]\nbaud = 19201\nunit_id = 300\ndriver = modbus' \
	'bad.conf:3: \[treadmill\] unit_id: 300 is out of range \(1 to 247\)'
check "a driver's range is its own" refused '[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\nbaud = 9600' \
	'bad.conf:4: \[treadmill\] baud: 9600 is out of range \(4800 to 4800\)'
check "the driver's rules: trackmaster needs a device" refused '[treadmill]\ndriver = trackmaster' "driver = trackmaster needs 'device'"
check "the driver's rules: modbus over TCP needs no device" accepted '[treadmill]\ndriver = modbus\nprofile = p\ntcp = 127.0.0.1:1502'
check "a button register needs a driver that has one" refused '[buttons]\nmodbus = true' 'needs a driver with a button register \(driver = modbus\)'
check "time scale allowed on a simulator behind a wire" accepted '[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\nsimulated = true\n[sim]\ntime_scale = 10'
check "time scale and the virtual patient on the sim driver" accepted '[sim]\ntime_scale = 10\npatient_onset_s = 5\npatient_max_s = 50'
for f in "$TL_SOURCE_DIR"/config/treadlabd-*.conf; do
	check "the shipped $(basename "$f") is valid" "$D" --config "$f" --check-config
done
check "--list-options lists every driver's keys" bash -c "'$D' --list-options | awk -F'\t' 'NF == 7 { n[\$1]++ } END { exit !(n[\"sim\"] == 2 && n[\"modbus\"] == 9 && n[\"trackmaster\"] == 4) }'"
check "syntax error" refused '[daemon\ntick_hz = 10' 'bad.conf:1:'
check "reminders must increase" refused '[daemon]\nreminder_minutes = 5, 3' 'minutes must increase'
check "time scale refused on a real treadmill" refused '[treadmill]\ndriver = trackmaster\ndevice = /dev/ttyS0\n[sim]\ntime_scale = 10' 'only a simulated treadmill'
check "non-loopback listen refused" refused '[api]\nlisten = 0.0.0.0:8660' 'loopback'
check "modbus without a profile" refused '[treadmill]\ndriver = modbus\ndevice = /dev/ttyS0' "needs 'profile'"
check "missing file" refused '' 'nope.conf: No such file' --config "$WORK/nope.conf"
check "a key set twice, with the second's line" refused '[daemon]\ntick_hz = 10\n[api]\n[daemon]\ntick_hz = 20' 'bad.conf:5: \[daemon\] tick_hz is set twice; keep one'
check "a NUL in a value, with its line" refused '[daemon]\ntick_hz = 10\n[store]\ndatabase = /tmp/a\0b.db' 'bad.conf:4: a NUL byte in the file'
long=$(printf 'x%.0s' $(seq 1 250))
check "a line too long to read whole, with its line" refused "[store]\ndatabase = /tmp/$long.db" 'bad.conf:2: a line longer than 198 characters'
check "a directory is not a configuration" refused '' "$WORK: is a directory, not a configuration file" --config "$WORK"
# timeout: before the fix, /dev/zero was read forever and a FIFO waited for a writer.
check "a device is refused at once" refused '' '/dev/zero: is not a regular file' --config /dev/zero
mkfifo "$WORK/fifo.conf"
check "a FIFO is refused without waiting for a writer" timeout 10 bash -c "'$D' --config '$WORK/fifo.conf' --check-config 2>&1 | grep -q 'fifo.conf: is not a regular file'"
head -c 300000 /dev/zero | tr '\0' '#' >"$WORK/big.conf"
check "an oversized file is refused" bash -c "'$D' --config '$WORK/big.conf' --check-config 2>&1 | grep -q 'big.conf: longer than 262144 bytes'"
check "--listen override is checked too" refused '[daemon]' 'loopback' --listen 10.0.0.1:80
finish
