# The systemd unit passes `systemd-analyze verify` without a single complaint, and the
# sysusers.d file creates the user in the dialout group. The unit checked is the one
# CMake configured for this test (build/systemd-test/), whose ExecStart is this build's
# treadlabd; the installed one differs only in that path. Skips (77) without systemd-analyze.
source "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
	say "SKIP: systemd-analyze is not installed"
	exit 77
fi
unit="$TL_BUILD_DIR/systemd-test/treadlabd.service"
check "the configured test unit exists" test -f "$unit"
check "its ExecStart is this build's treadlabd" grep -qx "ExecStart=$TL_BUILD_DIR/treadlabd --config /etc/treadlab/treadlabd.conf" "$unit"
check "no placeholder is left in the unit" bash -c "! grep -q '@[A-Z_]*@' '$unit'"

# verify exits 0 on warnings such as an unknown key, so its output counts too: any line
# about the unit is a failure (lines about the host's own units are not ours to judge).
verify_clean() {
	local file=$1 out rc=0
	out=$(systemd-analyze verify "$file" 2>&1) || rc=$?
	if [ -n "$out" ]; then
		say "     systemd-analyze verify said:"
		sed 's/^/       /' <<<"$out"
	fi
	[ "$rc" -eq 0 ] || return 1
	! grep -Fq -e treadlabd.service -e "$file" <<<"$out"
}
complains() { ! verify_clean "$1" >/dev/null; }
check "systemd-analyze verify: no complaint" verify_clean "$unit"

# The check itself notices a broken unit: a misspelt key and a missing program.
mkdir "$WORK/key" "$WORK/exec"
sed -e 's/^Type=notify$/Tyep=notify/' "$unit" >"$WORK/key/treadlabd.service"
check "a misspelt key is a complaint" complains "$WORK/key/treadlabd.service"
sed -e "s|^ExecStart=[^ ]*|ExecStart=$WORK/no-such-treadlabd|" "$unit" >"$WORK/exec/treadlabd.service"
check "a missing ExecStart is a complaint" complains "$WORK/exec/treadlabd.service"

check "Type=notify with the main process notifying" bash -c "grep -qx 'Type=notify' '$unit' && grep -qx 'NotifyAccess=main' '$unit'"
check "a watchdog the slowest loop (5 ticks at 1 Hz) still feeds" bash -c "grep -qx 'WatchdogSec=10s' '$unit'"
check "serial ports stay reachable" bash -c "grep -qx 'SupplementaryGroups=dialout' '$unit' && ! grep -q '^PrivateDevices=yes' '$unit' && grep -qx 'DeviceAllow=char-ttyUSB rw' '$unit'"

if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$WORK/root/etc"
	check "systemd-sysusers accepts treadlab.sysusers" systemd-sysusers --root="$WORK/root" "$TL_SOURCE_DIR/config/treadlab.sysusers"
	check "it creates user and group treadlab" bash -c "grep -q '^treadlab:x:[0-9]*:[0-9]*:.*:/var/lib/treadlab:' '$WORK/root/etc/passwd' && grep -q '^treadlab:x:' '$WORK/root/etc/group'"
	check "treadlab is in group dialout" grep -Eq '^dialout:x:[0-9]+:(.*,)?treadlab(,|$)' "$WORK/root/etc/group"
else
	say "     (systemd-sysusers not installed: the sysusers.d file is not checked)"
fi
finish
