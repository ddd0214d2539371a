# An emergency stop stops whatever its body is (issue 9): over 64 KiB (was 413 and the
# belt walked on), binary garbage under any Content-Type, chunked, sent in part and then
# stalled, and over HTTPS where libmicrohttpd serves it. Each is answered 200 with the
# test emergency-stopped.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { say "openssl is not installed"; exit 77; }

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[api]" "listen = 127.0.0.1:0"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)

# walk: starts a test and waits until its belt runs; prints its id.
walk() {
	local id
	wait_for '"treadmill":\{[^}]*"speed_kmh":0(\.0)?,[^}]*"running":false' 30
	id=$("$T" start --protocol gardner-skinner --patient BODY01 "$@")
	wait_for '"state":"running".*"belt_on":true' 30
	echo "$id"
}
# The e-stop's answer does not wait for the store. A command refused after it is answered
# once everything queued before it is committed: a barrier, before reading the record.
barrier() { "$T" onset >/dev/null 2>&1 || true; }
# stopped ID: test ID's record ends emergency_stop.
stopped() {
	barrier
	test "$("$T" show "$1" --json | jq -r .end_reason)" = emergency_stop
}

head -c 100000 /dev/zero | tr '\0' 'x' | sed 's/^/{"operator": "/; s/$/"}/' >"$WORK/big.json"
head -c 1048576 /dev/urandom >"$WORK/garbage.bin"

id=$(walk)
out=$(curl -s -m 3 -w ' %{http_code}' --unix-socket "$TREADLAB_SOCKET" -X POST \
	-H 'Content-Type: application/json' --data-binary @"$WORK/big.json" http://treadlabd/v1/estop) || true
check "a 100 kB JSON body: 200" test "${out##* }" = 200
check "... the body is named in a warning" grep -q '"warning"' <<<"$out"
check "... test $id is emergency-stopped" stopped "$id"

id=$(walk)
out=$(curl -s -m 3 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
	--data-binary @"$WORK/garbage.bin" "http://$addr/v1/estop") || true
check "1 MiB of binary garbage as text/plain over TCP: 200" test "$out" = 200
check "... test $id is emergency-stopped" stopped "$id"

id=$(walk)
out=$(printf 'not json at all' | curl -s -m 3 -o /dev/null -w '%{http_code}' -X POST \
	-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' --data-binary @- \
	"http://$addr/v1/estop") || true
check "a chunked body: 200" test "$out" = 200
check "... test $id is emergency-stopped" stopped "$id"

# Half a body and then nothing: the head is enough.
id=$(walk)
exec 5<>"/dev/tcp/${addr%:*}/${addr#*:}"
printf 'POST /v1/estop HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n{"oper' "$addr" >&5
status_line=""
read -r -t 3 status_line <&5 || true
exec 5>&-
check "half a body, then silence: answered ($status_line)" grep -q '^HTTP/1.1 200' <<<"$status_line"
check "... test $id is emergency-stopped" stopped "$id"

# Headers that stop half way: the request line is enough once the head's time is up.
id=$(walk)
exec 5<>"/dev/tcp/${addr%:*}/${addr#*:}"
printf 'POST /v1/estop HTTP/1.1\r\nHost: %s\r\nX-Half' "$addr" >&5
status_line=""
read -r -t 20 status_line <&5 || true
exec 5>&-
check "headers cut off, then silence: stopped and answered at the head's timeout ($status_line)" \
	grep -q '^HTTP/1.1 200' <<<"$status_line"
check "... test $id is emergency-stopped" stopped "$id"

# An operator in a body that came whole with the head is recorded.
id=$(walk)
out=$(api POST /v1/estop '{"operator": "kim"}')
check "a small body with an operator: 200 without a warning" test "$(jq -r '.warning // "none"' <<<"${out#* }")" = none
barrier
check "... the event names the operator" \
	test "$("$T" show "$id" --json | jq -r '[.events[] | select(.kind=="estop")][0].operator')" = kim
stop_daemon

# HTTPS: libmicrohttpd reads the body; one over 64 KiB still stops.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=treadlabd \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
chmod 600 "$WORK/key.pem"
write_config "$WORK/tls.conf" "[daemon]" "tick_hz = 100" "[api]" "listen = 127.0.0.1:0" \
	"tls_cert = $WORK/cert.pem" "tls_key = $WORK/key.pem"
: >"$WORK/daemon.log"
start_daemon "$WORK/tls.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]* https' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
id=$(walk)
out=$(curl -s -m 3 -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" -X POST \
	-H 'Content-Type: application/json' --data-binary @"$WORK/big.json" "https://$addr/v1/estop") || true
check "HTTPS, a 100 kB body: 200" test "$out" = 200
check "... test $id is emergency-stopped" stopped "$id"
stop_daemon
finish
