# `cmake --install` into a DESTDIR: every file lands where the unit and the programs
# expect it, and the installed programs read the installed protocols (not the source
# tree's), while the build tree's keep reading the source tree's.
source "$(dirname "$0")/lib.sh"

stage="$WORK/stage"
DESTDIR="$stage" "${TL_CMAKE:-cmake}" --install "$TL_BUILD_DIR" >"$WORK/install.log" 2>&1 ||
	{ cat "$WORK/install.log"; exit 1; }
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$TL_BUILD_DIR/CMakeCache.txt")
root="$stage$prefix"
share="$root/share/treadlab/protocols"

check "treadlab, treadlabd and treadsim are installed" test -x "$root/bin/treadlab" -a -x "$root/bin/treadlabd" -a -x "$root/bin/treadsim"
check "every shipped protocol is installed" test "$(ls "$share" | wc -l)" = "$(ls "$TL_SOURCE_DIR"/protocols/*.protocol | wc -l)"
check "the configuration is in /etc/treadlab" cmp "$stage/etc/treadlab/treadlabd.conf" "$TL_SOURCE_DIR/config/treadlabd.conf"
check "the device profiles are in /etc/treadlab/devices" test -f "$stage/etc/treadlab/devices/treadsim.profile"
check "the unit is in lib/systemd/system" test -f "$root/lib/systemd/system/treadlabd.service"
check "its ExecStart is the installed treadlabd" grep -qx "ExecStart=$prefix/bin/treadlabd --config /etc/treadlab/treadlabd.conf" "$root/lib/systemd/system/treadlabd.service"
check "the sysusers.d file is installed" cmp "$root/lib/sysusers.d/treadlab.conf" "$TL_SOURCE_DIR/config/treadlab.sysusers"
check "the API documentation is installed" test -s "$root/share/doc/treadlab/api.md"
check "bash completion is installed" cmp "$root/share/bash-completion/completions/treadlab" "$TL_SOURCE_DIR/config/treadlab.bash-completion"
if ! grep -q '^SCDOC:FILEPATH=.*NOTFOUND' "$TL_BUILD_DIR/CMakeCache.txt"; then
	check "the man pages are installed" test -s "$root/share/man/man8/treadlabd.8" -a -s "$root/share/man/man5/treadlabd.conf.5" -a -s "$root/share/man/man1/treadlab.1" -a -s "$root/share/man/man1/treadsim.1"
fi

check "the page's files are installed in share/treadlab/web" bash -c "for f in '$TL_SOURCE_DIR'/web/*; do cmp \"\$f\" '$root/share/treadlab/web/'\"\${f##*/}\" || exit 1; done"
printf '<!-- installed-copy -->\n' >>"$root/share/treadlab/web/index.html"

# A protocol only the installed directory has tells which directory a program reads.
sed -e 's/^title = .*/title = Installed copy (install test)/' "$share/bruce.protocol" >"$share/installed-only.protocol"
installed_lists() { "$1" protocols | grep -q installed-only; }
check "the installed treadlab reads the installed protocols" installed_lists "$root/bin/treadlab"
check "the build tree's treadlab reads the source tree's" bash -c "! '$T' protocols | grep -q installed-only"
check "TREADLAB_PROTOCOLS still overrides" bash -c "! TREADLAB_PROTOCOLS='$TL_SOURCE_DIR/protocols' '$root/bin/treadlab' protocols | grep -q installed-only"

# The installed daemon, with the installed configuration (database and socket moved
# into this test's directory), lists and runs the installed protocol.
D="$root/bin/treadlabd"
start_daemon "$stage/etc/treadlab/treadlabd.conf" --listen 127.0.0.1:0
check "the installed daemon lists the installed protocol" bash -c "curl -s --unix-socket '$TREADLAB_SOCKET' http://treadlabd/v1/protocols | jq -e 'any(.[]; .name == \"installed-only\")' >/dev/null"
out=$(api POST /v1/tests '{"protocol":"installed-only","patient":"INST01"}')
check "and starts a test with it" test "${out%% *}" = 201
api POST /v1/estop >/dev/null
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
check "the installed daemon serves the installed page" bash -c "curl -s 'http://$addr/' | grep -q installed-copy"
finish
