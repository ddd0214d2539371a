# The HTTP API is closed to other sites (issue 9): a request that changes anything needs
# Content-Type: application/json (a page's "simple" text/plain POST is refused), a foreign
# Origin or an unknown Host (DNS rebinding) is refused, the emergency stop is exempt, and
# the audit trail names the real peer of every command: the socket's uid and pid, or the
# TCP address and port.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[sim]" "time_scale = 20" "[api]" "listen = 127.0.0.1:0" \
	"allowed_hosts = station7.example, 10.1.2.3:8660"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
port=${addr#*:}
url="http://$addr"
tests() { sqlite3 "$WORK/treadlab.db" 'select count(*) from tests'; }

printf '[api]\nsocket = %s\nallowed_hosts = ok.example, bad/host\n' "$WORK/x.sock" >"$WORK/bad.conf"
out=$("$D" --config "$WORK/bad.conf" --check-config 2>&1) && out="accepted: $out"
check "a bad [api] allowed_hosts is refused with file and line ($out)" \
	grep -q "bad.conf:3: \[api\] allowed_hosts: '/' cannot be in a host name" <<<"$out"
# code ARGS...: the status of a curl call to the TCP listener.
code() { curl -s -o "$WORK/body" -w '%{http_code}' -m 5 "$@" || true; }
start='{"protocol":"bruce","patient":"SITE01"}'

check "a text/plain start (a page's simple POST): 415" \
	test "$(code -X POST -H 'Content-Type: text/plain' --data-binary "$start" "$url/v1/tests")" = 415
check "... saying what is needed" grep -q 'needs Content-Type: application/json' "$WORK/body"
check "a start with no Content-Type: 415" \
	test "$(code -X POST --data-binary "$start" -H 'Content-Type:' "$url/v1/tests")" = 415
check "a form-encoded start: 415" test "$(code -X POST -d "$start" "$url/v1/tests")" = 415
check "nothing started" test "$(tests)" = 0
check "the belt never moved" test "$("$T" status --json | jq -r .command.belt_on)" = false

json=(-H 'Content-Type: application/json')
check "a foreign Origin: 403" test "$(code -X POST "${json[@]}" -H 'Origin: http://evil.example' \
	--data-binary "$start" "$url/v1/tests")" = 403
check "... saying why" grep -q 'another site' "$WORK/body"
check "Origin null: 403" test "$(code -H 'Origin: null' "$url/v1/status")" = 403
check "a foreign Origin reading status: 403" test "$(code -H 'Origin: https://evil.example' "$url/v1/status")" = 403
check "an unknown Host (DNS rebinding): 403" test "$(code -H "Host: evil.example:$port" "$url/v1/status")" = 403
check "... saying why" grep -q "unknown Host 'evil.example:$port'" "$WORK/body"
check "the right host on another port: 403" test "$(code -H "Host: localhost:1" "$url/v1/status")" = 403
check "nothing started" test "$(tests)" = 0

check "Host localhost:PORT: 200" test "$(code -H "Host: localhost:$port" "$url/v1/status")" = 200
check "Host [::1]:PORT: 200" test "$(code -H "Host: [::1]:$port" "$url/v1/status")" = 200
check "a Host from [api] allowed_hosts: 200" test "$(code -H "Host: station7.example" "$url/v1/status")" = 200
check "its own Origin: allowed" test "$(code -H "Origin: http://$addr" "$url/v1/status")" = 200
check "a JSON start with a charset over TCP: 201" test "$(code -X POST \
	-H 'Content-Type: application/json; charset=utf-8' --data-binary "$start" "$url/v1/tests")" = 201

# The e-stop is exempt: it can only stop.
check "an e-stop as a foreign page would send it: 200" test "$(code -X POST -H 'Content-Type: text/plain' \
	-H 'Origin: http://evil.example' -H 'Host: evil.example' --data-binary 'stop' "$url/v1/estop")" = 200
check "... the test is emergency-stopped" test "$("$T" status --json | jq -r .state)" = emergency_stopped

# The command line sends JSON and works as before over the socket.
check "the belt comes to rest" wait_for '"treadmill":\{[^}]*"speed_kmh":0(\.0)?,[^}]*"running":false' 30
id=$("$T" start --protocol bruce --patient SITE01 --operator alice)
check "the command line starts a test over the socket" test "$id" = 2
"$T" stop --operator alice >/dev/null
"$T" pressure "$id" --phase rest --site pt-left --mmhg 120 --operator alice >/dev/null
code -X POST "${json[@]}" --data-binary '{"operator":"bob"}' "$url/v1/finish" >/dev/null
"$T" estop >/dev/null
"$T" onset >/dev/null 2>&1 || true # refused, answered once all before it is committed
peer() { sqlite3 "$WORK/treadlab.db" "select peer from audit where command = '$1' order by id desc limit 1"; }
check "the socket's start is audited with uid and pid" grep -Eq "^uid $(id -u) pid [0-9]+$" <<<"$(peer start)"
check "... as is its stop" grep -Eq "^uid $(id -u) pid [0-9]+$" <<<"$(peer stop)"
check "... and its pressure" grep -Eq "^uid $(id -u) pid [0-9]+$" <<<"$(peer pressure)"
check "a TCP command is audited with address and port" grep -Eq '^127\.0\.0\.1:[0-9]+$' <<<"$(peer finish)"
check "... beside the operator it named" \
	test "$(sqlite3 "$WORK/treadlab.db" "select operator from audit where command = 'finish'")" = bob
check "the e-stop over the socket is audited with its peer" grep -Eq "^uid $(id -u) pid [0-9]+$" <<<"$(peer estop)"
check "the first e-stop (TCP) too" test "$(sqlite3 "$WORK/treadlab.db" \
	"select count(*) from audit where command = 'estop' and peer like '127.0.0.1:%'")" = 1
stop_daemon

# With a bearer token on TCP, the e-stop's own path asks for it too (it is not a site
# check): without it 401 and nothing stops; a head cut short stops nothing either.
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token"
write_config "$WORK/t.conf" "[sim]" "time_scale = 20" "[api]" "listen = 127.0.0.1:0" \
	"token_file = $WORK/token"
: >"$WORK/daemon.log"
start_daemon "$WORK/t.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
url="http://$addr"
"$T" start --protocol bruce --patient SITE02 >/dev/null
check "a walking test" wait_for '"state":"running".*"belt_on":true' 30
check "an e-stop over TCP without the token: 401" test "$(code -X POST "$url/v1/estop")" = 401
exec 5<>"/dev/tcp/${addr%:*}/${addr#*:}"
printf 'POST /v1/estop HTTP/1.1\r\nHost: %s\r\n' "$addr" >&5
exec 5>&-
check "... nor one cut short before its headers end: still running" \
	test "$("$T" status --json | jq -r .state)" = running
check "with the token: 200" test "$(code -X POST -H "Authorization: Bearer $(cat "$WORK/token")" \
	"$url/v1/estop")" = 200
check "... and the test is emergency-stopped" test "$("$T" status --json | jq -r .state)" = emergency_stopped
finish
