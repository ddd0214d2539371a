# The API on TCP with TLS and a bearer token: what hospital IT needs to reach the daemon
# from beyond loopback (the test itself stays on 127.0.0.1).
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { say "openssl is not installed"; exit 77; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=treadlabd \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token"
chmod 600 "$WORK/token" "$WORK/key.pem"
write_config "$WORK/d.conf" "[api]" "listen = 127.0.0.1:0" "tls_cert = $WORK/cert.pem" \
	"tls_key = $WORK/key.pem" "token_file = $WORK/token" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]* https' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
check "the daemon reports the address it bound ($addr)" grep -Eq '^127\.0\.0\.1:[0-9]+$' <<<"$addr"
url="https://$addr"

code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" "$@" || true; }
check "no token: 401" test "$(code "$url/v1/status")" = 401
check "a wrong token: 401" test "$(code -H 'Authorization: Bearer 0123456789abcdef0123' "$url/v1/status")" = 401
check "the token: 200" test "$(code -H "Authorization: Bearer $(cat "$WORK/token")" "$url/v1/status")" = 200
check "a refused request changes nothing" test "$(code -X POST -H 'Content-Type: application/json' \
	-d '{"protocol":"bruce","patient":"TLS01"}' "$url/v1/tests")" = 401
check "plain HTTP is not served on the TLS port" bash -c "! curl -s -o /dev/null --max-time 5 'http://$addr/v1/status'"
check "an untrusted certificate is refused by the client" bash -c "! curl -s -o /dev/null --max-time 5 '$url/v1/status'"

export -n TREADLAB_SOCKET
tcp=(--url "$url" --cacert "$WORK/cert.pem" --token-file "$WORK/token")
id=$("$T" start --protocol bruce --patient TLS01 "${tcp[@]}")
check "a test started over HTTPS with the token" test "$id" = 1
check "status over HTTPS" test "$("$T" status --json "${tcp[@]}" | jq -r .state)" = running
check "the CLI without the token is refused" bash -c "! '$T' status --url '$url' --cacert '$WORK/cert.pem' 2>/dev/null"
check "the Unix socket needs no token" test "$("$T" status --json --socket "$WORK/api.sock" | jq -r .state)" = running
"$T" estop "${tcp[@]}" >/dev/null
check "emergency stop over HTTPS" test "$("$T" show 1 --json "${tcp[@]}" | jq -r .end_reason)" = emergency_stop

printf '[api]\nlisten = 0.0.0.0:8660\ntls_cert = %s\ntls_key = %s\ntoken_file = %s\n' \
	"$WORK/cert.pem" "$WORK/key.pem" "$WORK/token" >"$WORK/remote.conf"
check "beyond loopback is accepted with TLS and a token" "$D" --config "$WORK/remote.conf" --check-config
printf '[api]\nlisten = 0.0.0.0:8660\ntls_cert = %s\ntls_key = %s\n' "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/notoken.conf"
check "beyond loopback without a token is refused" bash -c "! '$D' --config '$WORK/notoken.conf' --check-config 2>/dev/null"
finish
