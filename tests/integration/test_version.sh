# One version, set by project() in CMakeLists.txt: treadlab, treadlabd and treadsim print
# it, the Debian package carries it (debian/changelog), and every test the daemon records
# says which software measured it, in `treadlab show` and in the test's JSON.
source "$(dirname "$0")/lib.sh"

version=$(sed -n 's/^project(treadlab VERSION \([0-9][0-9.]*\).*/\1/p' "$TL_SOURCE_DIR/CMakeLists.txt")
check "CMakeLists.txt sets a version ($version)" grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' <<<"$version"

prints_version() { [ "$("$1" --version)" = "$2 $version" ]; }
check "treadlab --version" prints_version "$T" treadlab
check "treadlabd --version" prints_version "$D" treadlabd
check "treadsim --version" prints_version "$TL_BUILD_DIR/hil/treadsim" treadsim
check "treadlabd --help lists --version" bash -c "'$D' --help | grep -q -- --version"

# debian/changelog's newest entry, "treadlab (VERSION) ...": a native package, so the
# package's version is the project's (a release changes both).
deb=$(sed -n '1s/^treadlab (\([^)]*\)).*/\1/p' "$TL_SOURCE_DIR/debian/changelog")
check "debian/changelog's version is $version (${deb:-none})" test "$deb" = "$version"

write_config "$WORK/d.conf" "[sim]" "time_scale = 50"
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient VER001 --operator alice)
"$T" estop >/dev/null
check "the test's JSON says which software measured it" \
	test "$("$T" show "$id" --json | jq -r .software_version)" = "$version"
check "treadlab show says it" bash -c "'$T' show '$id' | grep -qx 'measured by treadlab $version'"
check "so does the API's record" bash -c "curl -s --unix-socket '$TREADLAB_SOCKET' http://treadlabd/v1/tests/$id | jq -e '.software_version == \"$version\"' >/dev/null"
stop_daemon
check "the daemon stopped cleanly" test "$DAEMON_STATUS" = 0
finish
