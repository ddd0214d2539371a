# What the API refuses at its door (issue 9): text with control characters (C0, DEL, C1
# such as U+0085, which used to pass and fail in the store with a lasting store_error),
# two Content-Length headers, and test ids not in canonical decimal.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[sim]" "time_scale = 20" "[api]" "listen = 127.0.0.1:0"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)

tests() { sqlite3 "$WORK/treadlab.db" 'select count(*) from tests'; }

check "U+0085 in operator: 400 naming the field and the character" \
	expect 400 "field 'operator' has a control character \(U\+0085\)" \
	POST /v1/tests '{"protocol":"bruce","patient":"P1","operator":"a\u0085b"}'
check "U+009F in a stop reason: 400" expect 400 "field 'reason' has a control character \(U\+009F\)" \
	POST /v1/stop '{"reason":"x\u009f"}'
check "a tab in operator: 400" expect 400 "field 'operator' has a control character \(U\+0009\)" \
	POST /v1/onset '{"operator":"a\tb"}'
check "DEL in a nested findings text: 400 with its path" \
	expect 400 "field 'symptoms.location\[0\]' has a control character \(U\+007F\)" \
	PUT /v1/tests/1/findings '{"symptoms":{"location":["calf\u007f"]}}'
check "a C1 character in a key: 400" expect 400 "has a control character \(U\+0085\)" \
	POST /v1/tests '{"protocol":"bruce","patient":"P1","\u0085":1}'
# Raw bytes, not escapes: U+0085 as UTF-8, an overlong '/', a lone surrogate, a stray
# continuation byte.
check "raw C2 85 (U+0085) in operator: 400" expect 400 "control character \(U\+0085\)" \
	POST /v1/tests $'{"protocol":"bruce","patient":"P1","operator":"a\xc2\x85b"}'
check "an overlong UTF-8 sequence: 400" expect 400 "malformed JSON|invalid UTF-8" \
	POST /v1/tests $'{"protocol":"bruce","patient":"P1","operator":"a\xc0\xafb"}'
check "a UTF-8 surrogate: 400" expect 400 "malformed JSON|invalid UTF-8" \
	POST /v1/tests $'{"protocol":"bruce","patient":"P1","operator":"a\xed\xa0\x80b"}'
check "a stray continuation byte: 400" expect 400 "malformed JSON|invalid UTF-8" \
	POST /v1/stop $'{"reason":"a\x85b"}'
check "nothing was created" test "$(tests)" = 0
check "no store error is left" test "$("$T" status --json | jq -r .store_error)" = null
check "printable non-ASCII text is fine" expect 201 '"id"' \
	POST /v1/tests '{"protocol":"bruce","patient":"P1","operator":"Zoë Ångström"}'
"$T" stop >/dev/null

# raw REQUEST: sends it as is over TCP; prints the status line.
raw() {
	local line=""
	exec 5<>"/dev/tcp/${addr%:*}/${addr#*:}"
	printf '%b' "$1" >&5
	read -r -t 5 line <&5 || true
	exec 5>&-
	printf '%s\n' "${line%$'\r'}"
}
h="Host: $addr\r\nContent-Type: application/json\r\n"
check "two different Content-Length headers: 400" \
	test "$(raw "POST /v1/onset HTTP/1.1\r\n${h}Content-Length: 2\r\nContent-Length: 9\r\n\r\n{}")" = "HTTP/1.1 400 Bad Request"
check "the same Content-Length twice: 400" \
	test "$(raw "POST /v1/onset HTTP/1.1\r\n${h}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}")" = "HTTP/1.1 400 Bad Request"
check "one Content-Length: served (409, no test walks)" \
	test "$(raw "POST /v1/onset HTTP/1.1\r\n${h}Content-Length: 2\r\n\r\n{}")" = "HTTP/1.1 409 Conflict"

check "/v1/tests/1 is test 1" expect 200 '"id": 1' GET /v1/tests/1
for bad in +1 0001 01 1e0 0x1 -1 0 1.0 '1%20' 99999999999999999999; do
	check "/v1/tests/$bad: 404" expect 404 'no such resource' GET "/v1/tests/$bad"
done
check "/v1/tests/+1/pressures: 404" expect 404 'no such resource' \
	POST /v1/tests/+1/pressures '{"phase":"rest","site":"pt-left","mmhg":120}'
finish
