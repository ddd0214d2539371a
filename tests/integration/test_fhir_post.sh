# The FHIR Bundle checked by two independent validators, and delivered by tl_fhir_post
# to a scripted local FHIR server (tests/records/fhir_server.mjs, node's http) answering
# 201 with a transaction-response, 400 with an OperationOutcome, 500, 429, a redirect, or
# never: each attempt ends DELIVERED, REJECTED with the server's issue texts, or RETRY (the
# timeout within its deadline), with the bearer token and the FHIR content type sent; over
# HTTPS, the server's certificate is verified (ca_file, host name).
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "SKIP: node missing"; exit 77; }
[ -d "$TL_SOURCE_DIR/tests/node_modules/@medplum/core" ] && [ -d "$TL_SOURCE_DIR/tests/node_modules/fhir" ] ||
	{ say "SKIP: npm packages missing (npm ci in tests/)"; exit 77; }
: "${FHIR_TOOL:?run through ctest (FHIR_TOOL)}"
REC="$TL_SOURCE_DIR/tests/records"
DATA="$TL_SOURCE_DIR/tests/data/records"
CHECK=(node --experimental-websocket "$REC/check_fhir.mjs")
NOW=2026-11-26T17:00:00.000Z
SERVER_PID=""
trap 'if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; cleanup' EXIT

printf '%%PDF-1.4\n%% a report\n%%%%EOF\n' >"$WORK/r.pdf"
"$FHIR_TOOL" bundle "$DATA/fhir_signed.json" TL1-42 "$NOW" "$WORK/r.pdf" >"$WORK/signed.json"
"$FHIR_TOOL" bundle "$DATA/fhir_hostile.json" TL1-43 "$NOW" >"$WORK/hostile.json"
out=$("${CHECK[@]}" "$WORK/signed.json" "$WORK/hostile.json" 2>&1) && rc=0 || rc=$?
say "$out" | sed 's/^/     /' | head -20
check "both Bundles pass @medplum/core and fhir ($rc)" test "$rc" = 0

# Each validator must be able to fail: a date that does not exist, a code outside a
# required binding.
node -e '
const fs = require("fs");
const b = JSON.parse(fs.readFileSync(process.argv[1]));
const d = structuredClone(b); d.entry[0].resource.birthDate = "1956-02-30x";
fs.writeFileSync(process.argv[2], JSON.stringify(d));
const c = structuredClone(b); c.entry[0].resource.gender = "woman";
fs.writeFileSync(process.argv[3], JSON.stringify(c));' "$WORK/signed.json" "$WORK/bad_date.json" "$WORK/bad_code.json"
out=$("${CHECK[@]}" "$WORK/bad_date.json" 2>&1) && rc=0 || rc=$?
check "@medplum/core refuses a bad date ($rc)" test "$rc" = 1
check "... naming it" grep -q '@medplum/core: .*birthDate: Invalid date' <<<"$out"
out=$("${CHECK[@]}" "$WORK/bad_code.json" 2>&1) && rc=0 || rc=$?
check "fhir refuses a code outside a required binding ($rc)" test "$rc" = 1
check "... naming it" grep -q 'fhir: .*Patient.gender: Code "woman" not found' <<<"$out"

# start_server MODE [CERT KEY]: the scripted server on a free port (PORT), HTTPS with a
# certificate, ready when it says so.
start_server() {
	rm -f "$WORK/server.log" "$WORK/server.out"
	mkfifo "$WORK/server.out"
	node "$REC/fhir_server.mjs" "$1" "$WORK/server.log" "${@:2}" >"$WORK/server.out" &
	SERVER_PID=$!
	local line=""
	read -r -t 30 line <"$WORK/server.out" || true
	rm -f "$WORK/server.out"
	PORT=${line#listening }
	[ -n "$PORT" ] && [ "$line" = "listening $PORT" ]
}
stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}
# post TIMEOUT_MS [TOKEN]: one attempt with the signed Bundle; RESULT, DETAIL, MS.
post() {
	local line
	line=$("$FHIR_TOOL" post "http://127.0.0.1:$PORT/fhir" "$@" 2>&1)
	IFS=$'\t' read -r RESULT DETAIL MS <<<"$line"
	say "     $RESULT | $DETAIL | $MS ms"
}
# got RESULT DETAIL-REGEX [MIN_MS MAX_MS]: what the last post came to, and how soon.
got() {
	[ "$RESULT" = "$1" ] && grep -Eq -- "$2" <<<"$DETAIL" &&
		{ [ $# -lt 4 ] || { [ "$MS" -ge "$3" ] && [ "$MS" -lt "$4" ]; }; }
}

check "the server starts (201)" start_server 201
post 30000 "$WORK/signed.json" secret-token
check "201: delivered, the first entry's location as detail" \
	got DELIVERED '^Patient/1/_history/1$'
check "one POST to the base URL, with the bearer token and application/fhir+json" \
	node -e '
const fs = require("fs");
const reqs = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const sent = fs.readFileSync(process.argv[2], "utf8");
const r = reqs[0];
process.exit(reqs.length === 1 && r.method === "POST" && r.path === "/fhir" &&
	r.authorization === "Bearer secret-token" && r.content_type === "application/fhir+json" &&
	r.body === sent ? 0 : 1);' "$WORK/server.log" "$WORK/signed.json"
post 30000 "$WORK/signed.json"
check "no token: delivered" got DELIVERED .
check "... without an Authorization header" grep -q '"authorization":null' <(tail -1 "$WORK/server.log")
printf 'tok\nen' >"$WORK/bad_token"
post 30000 "$WORK/signed.json" "$(cat "$WORK/bad_token")"
check "a token with a line break is refused before sending" \
	got REJECTED 'line break'
check "... and nothing sent" test "$(wc -l <"$WORK/server.log")" = 2
stop_server

check "the server starts (400)" start_server 400
post 30000 "$WORK/signed.json" secret-token
check "400: rejected with every issue of the OperationOutcome" \
	got REJECTED '^400: error: Patient.birthDate: 1956-02-30 is not a date; error: DiagnosticReport.code is required$'
stop_server

check "the server starts (500)" start_server 500
post 30000 "$WORK/signed.json" secret-token
check "500: retry, with the server's reason" \
	got RETRY '^500: fatal: database unavailable$'
stop_server

check "the server starts (timeout)" start_server timeout
post 1000 "$WORK/signed.json" secret-token
check "no answer: retry once the 1000 ms deadline has passed ($MS ms)" \
	got RETRY 'no answer from .* within 1000 ms' 950 10000
check "... after the request reached the server" test -s "$WORK/server.log"
stop_server

check "the server starts (429)" start_server 429
post 30000 "$WORK/signed.json"
check "429: retry (the server asks to come back later)" got RETRY '429 Too Many Requests'
stop_server

check "the server starts (302)" start_server 302
post 30000 "$WORK/signed.json"
check "302: rejected, the redirect not followed" got REJECTED '302 Found'
check "... one request only" test "$(wc -l <"$WORK/server.log")" = 1
stop_server

# TLS is verified: the server's certificate (for 127.0.0.1 only) must chain to the CA
# file given, and name the host the URL does. The deadline is long (30 s): these checks
# are about the verdict, and a loaded sanitizer run once took over 5 s for a handshake
# (a RETRY for "no answer", not for the certificate).
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fhir-test \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
	check "the server starts (201, HTTPS)" start_server 201 "$WORK/cert.pem" "$WORK/key.pem"
	line=$("$FHIR_TOOL" post "https://127.0.0.1:$PORT/fhir" 30000 "$WORK/signed.json" secret-token)
	IFS=$'\t' read -r RESULT DETAIL MS <<<"$line"
	say "     $RESULT | $DETAIL | $MS ms"
	check "a certificate the system does not trust: retry, not delivered" got RETRY 'certificate'
	line=$(FHIR_CA_FILE="$WORK/cert.pem" "$FHIR_TOOL" post "https://127.0.0.1:$PORT/fhir" 30000 \
		"$WORK/signed.json" secret-token)
	IFS=$'\t' read -r RESULT DETAIL MS <<<"$line"
	check "... trusted through ca_file: delivered" got DELIVERED '^Patient/1/_history/1$'
	line=$(FHIR_CA_FILE="$WORK/cert.pem" "$FHIR_TOOL" post "https://localhost:$PORT/fhir" 30000 \
		"$WORK/signed.json" secret-token)
	IFS=$'\t' read -r RESULT DETAIL MS <<<"$line"
	say "     $RESULT | $DETAIL"
	check "... but not for another host name: retry" got RETRY 'subject name|certificate'
	check "only the trusted exchange reached the server" test "$(wc -l <"$WORK/server.log")" = 1
	stop_server
else
	say "openssl missing: TLS verification not checked"
fi

# Nobody listens on that port any more: a connection error is worth another attempt.
post 2000 "$WORK/signed.json"
check "connection refused: retry" got RETRY "Failed to connect|refused"
PORT=1
RESULT=$("$FHIR_TOOL" post "ftp://127.0.0.1/fhir" 1000 "$WORK/signed.json" | cut -f1)
check "a URL that is not http(s) is refused, not retried" test "$RESULT" = REJECTED
RESULT=$("$FHIR_TOOL" post "https://127.0.0.1:$PORT/fhir" 1000 "$WORK/signed.json" | cut -f1)
check "https with nobody there: retry" test "$RESULT" = RETRY
finish
