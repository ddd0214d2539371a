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
check "unknown serial framing" refused '[treadmill]\nframing = 7E1' "bad.conf:2: \[treadmill\] framing: '7E1' is not one of 8E1, 8O1, 8N2, 8N1"
check "unknown driver" refused '[treadmill]\ndriver = magic' "bad.conf:2: \[treadmill\] driver: 'magic' is not one of"
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
