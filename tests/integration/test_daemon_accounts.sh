# Operator accounts and login sessions (docs/api.md, Accounts and sessions): accounts
# made with the command line (the password on standard input), logins right, wrong,
# unknown and disabled, the session cookie's attributes (Secure under TLS), CSRF, the
# account as operator in the record and the audit, the emergency stop by cookie, the
# account endpoints refused over TCP but to an admin, revocation (logout, a new
# password, disable), idle expiry, and the refusal after repeated failures.
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { say "sqlite3 is not installed"; exit 77; }

head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token"
chmod 600 "$WORK/token"
write_config "$WORK/d.conf" "[api]" "listen = 127.0.0.1:0" "token_file = $WORK/token" \
	"[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
url="http://$addr"
DB="$WORK/treadlab.db"

say "== accounts, by the command line on the socket =="
check "no account at first" bash -c "'$T' user list | grep -q 'no users: add one with'"
check "user add root --role admin (password on stdin)" bash -c "printf 'root-pass-1\n' | '$T' user add root --role admin | grep -qx 'user root added (admin)'"
printf 'alice-pass-1\n' | "$T" user add alice --role technician >/dev/null
printf 'bob-pass-12\n' | "$T" user add bob --role physician >/dev/null
check "a short password is refused, saying the rule" bash -c "
	! printf 'short\n' | '$T' user add carl --role technician 2>'$WORK/err' &&
	grep -q 'shorter than 8 characters' '$WORK/err'"
check "no password at all is refused" bash -c "! '$T' user add carl --role technician </dev/null 2>/dev/null"
check "a taken name is refused (409)" bash -c "
	! printf 'another-pass\n' | '$T' user add alice --role admin 2>'$WORK/err' &&
	grep -q 'HTTP 409' '$WORK/err'"
check "a bad name is refused before asking" bash -c "! printf 'whatever-1\n' | '$T' user add Alice --role admin 2>/dev/null"
check "a bad role is refused" bash -c "! printf 'whatever-1\n' | '$T' user add dave --role nurse 2>/dev/null"
# on_tty ANSWER1 ANSWER2 ARGS...: runs treadlab ARGS on a pseudo-terminal, answering its
# two password prompts; prints what the terminal showed, then "exit N".
on_tty() {
	python3 - "$T" "$@" <<'PY'
import os, pty, signal, sys
signal.alarm(30)  # a prompt that never comes fails the check, not the whole run
prog, a1, a2, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(prog, [prog] + args)
out = b""
for prompt, answer in ((b"New password for", a1), (b"The same again: ", a2)):
    while prompt not in out:
        out += os.read(fd, 1024)
    os.write(fd, answer.encode() + b"\n")
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
_, status = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print("exit", os.waitstatus_to_exitcode(status))
PY
}
if command -v python3 >/dev/null; then
	shown=$(on_tty tty-pass-1 tty-pass-1 user add dana --role technician || true)
	check "on a terminal: asked twice, not echoed, added" bash -c "
		grep -q 'exit 0' <<<'$shown' && ! grep -q tty-pass-1 <<<'$shown' &&
		'$T' user list --json | jq -e 'any(.[]; .name == \"dana\")' >/dev/null"
	shown=$(on_tty tty-pass-1 tty-pass-2 user passwd dana || true)
	check "on a terminal: two different answers change nothing" bash -c "
		grep -q 'exit 1' <<<'$shown' && grep -q 'the two passwords differ' <<<'$shown'"
	"$T" user disable dana >/dev/null
fi
list=$("$T" user list --json)
check "user list: the accounts, by name, with roles" test \
	"$(jq -c '[.[] | select(.name != "dana") | [.name, .role, .disabled]]' <<<"$list")" = \
	'[["alice","technician",false],["bob","physician",false],["root","admin",false]]'
check "the list carries no hash" bash -c "! grep -q argon2 <<<'$list'"
check "the store keeps Argon2id hashes, never the password" bash -c "
	[ \$(sqlite3 '$DB' \"SELECT count(*) FROM users WHERE pwhash NOT LIKE '\\\$argon2id\\\$%'\") = 0 ] &&
	! sqlite3 '$DB' .dump | grep -q 'alice-pass-1'"

say "== logging in over TCP =="
# login USER PASSWORD JAR: POST /v1/session; prints the status, keeps the headers and body.
login() {
	curl -s -o "$WORK/body" -D "$WORK/head" -c "$3" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "{\"user\":\"$1\",\"password\":\"$2\"}" "$url/v1/session"
}
check "alice logs in (200)" test "$(login alice alice-pass-1 "$WORK/alice")" = 200
check "the answer names the account, its role and a CSRF token" \
	jq -e >/dev/null '.user == "alice" and .role == "technician" and (.csrf_token | length) == 43' "$WORK/body"
alice_csrf=$(jq -r .csrf_token "$WORK/body")
cookie=$(grep -i '^Set-Cookie: treadlab_session=' "$WORK/head" | tr -d '\r')
check "the cookie is 256 random bits in base64url" grep -Eq 'treadlab_session=[A-Za-z0-9_-]{43};' <<<"$cookie"
check "HttpOnly, SameSite=Strict, Path=/" bash -c "grep -q '; HttpOnly' <<<'$cookie' && grep -q '; SameSite=Strict' <<<'$cookie' && grep -q '; Path=/' <<<'$cookie'"
check "not Secure on plain HTTP" bash -c "! grep -qi '; Secure' <<<'$cookie'"
check "a wrong password: 401" test "$(login alice wrong-password "$WORK/x")" = 401
wrong=$(jq -r .error "$WORK/body")
status=$(login nobody wrong-password "$WORK/x")
check "an unknown user: 401, in the same words" test "$status $(jq -r .error "$WORK/body")" = "401 $wrong"
check "no cookie is set for a failed login" bash -c "! grep -qi '^Set-Cookie' '$WORK/head'"
"$T" user disable bob >/dev/null
check "a disabled account: 403 (with its right password)" test "$(login bob bob-pass-12 "$WORK/x")" = 403

# tcp [CURL ARGS...] PATH: a TCP request; prints the status, the body in $WORK/body.
tcp() { curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' "$@"; }
json=(-H 'Content-Type: application/json')
check "TCP without token or cookie: 401" test "$(tcp "$url/v1/status")" = 401
check "the session cookie takes the token's place" test "$(tcp -b "$WORK/alice" "$url/v1/status")" = 200
check "GET /v1/session: who is logged in" bash -c "[ \$(curl -s -b '$WORK/alice' '$url/v1/session' | jq -r .user) = alice ]"
check "a command by cookie without X-CSRF-Token: 403" test "$(tcp -b "$WORK/alice" "${json[@]}" -X POST \
	-d '{"protocol":"bruce","patient":"ACC01"}' "$url/v1/tests")" = 403
check "... and a wrong X-CSRF-Token: 403" test "$(tcp -b "$WORK/alice" "${json[@]}" -H 'X-CSRF-Token: AAAA' -X POST \
	-d '{"protocol":"bruce","patient":"ACC01"}' "$url/v1/tests")" = 403
check "nothing was started" test "$("$T" status --json | jq -r .state)" = idle
check "an operator other than the account is refused (403)" test "$(tcp -b "$WORK/alice" "${json[@]}" \
	-H "X-CSRF-Token: $alice_csrf" -X POST -d '{"protocol":"bruce","patient":"ACC01","operator":"mallory"}' \
	"$url/v1/tests")" = 403
check "with the CSRF token the test starts (201)" test "$(tcp -b "$WORK/alice" "${json[@]}" \
	-H "X-CSRF-Token: $alice_csrf" -X POST -d '{"protocol":"bruce","patient":"ACC01"}' "$url/v1/tests")" = 201
id=$(jq -r .id "$WORK/body")
check "the record names the account as operator" test "$("$T" show "$id" --json | jq -r .operator)" = alice
check "the audit names the account for the start" test \
	"$(sqlite3 "$DB" "SELECT operator FROM audit WHERE command = 'start' ORDER BY id DESC LIMIT 1")" = alice
check "the emergency stop by cookie alone (no token, no CSRF token)" test \
	"$(tcp -b "$WORK/alice" -X POST "$url/v1/estop")" = 200
# The stop is answered once the driver has it; its record follows.
for _ in $(seq 100); do
	[ "$("$T" show "$id" --json | jq -r .end_reason)" = emergency_stop ] && break
	sleep 0.1
done
check "the belt stopped: emergency_stop, by alice" \
	bash -c "'$T' show $id --json | jq -e '.end_reason == \"emergency_stop\" and
		([.events[] | select(.kind == \"estop\")][0].operator == \"alice\")' >/dev/null"
check "no stop without a cookie or the token" test "$(tcp -X POST "$url/v1/estop")" = 401

say "== roles: a physician's session watches =="
"$T" user enable bob >/dev/null
check "bob (physician) logs in" test "$(login bob bob-pass-12 "$WORK/bob")" = 200
bob_csrf=$(jq -r .csrf_token "$WORK/body")
check "a physician's session cannot start a test (403)" test "$(tcp -b "$WORK/bob" "${json[@]}" \
	-H "X-CSRF-Token: $bob_csrf" -X POST -d '{"protocol":"bruce","patient":"ACC02"}' "$url/v1/tests")" = 403
check "... saying a technician's login is needed" grep -q "need a technician's login" "$WORK/body"
check "... nor record a pressure (403)" test "$(tcp -b "$WORK/bob" "${json[@]}" -H "X-CSRF-Token: $bob_csrf" \
	-X POST -d '{"phase":"rest","site":"pt-left","mmhg":100}' "$url/v1/tests/$id/pressures")" = 403
check "no pressure was recorded" test "$(sqlite3 "$DB" "SELECT count(*) FROM pressures WHERE test_id = $id")" = 0
check "but it can watch (GET /v1/status)" test "$(tcp -b "$WORK/bob" "$url/v1/status")" = 200
check "and stop the belt (the e-stop is everyone's)" test "$(tcp -b "$WORK/bob" -X POST "$url/v1/estop")" = 200
check "a CSRF token without its session's cookie is a session that ended (401)" test "$(tcp "${json[@]}" \
	-H "Authorization: Bearer $(cat "$WORK/token")" -H "X-CSRF-Token: $bob_csrf" -X POST \
	-d '{"protocol":"bruce","patient":"ACC03"}' "$url/v1/tests")" = 401

say "== the account endpoints =="
check "over TCP with the bearer token alone: refused" test "$(tcp -H "Authorization: Bearer $(cat "$WORK/token")" \
	"$url/v1/users")" = 403
check "to a technician's session: refused" test "$(tcp -b "$WORK/alice" "$url/v1/users")" = 403
check "... also a change" test "$(tcp -b "$WORK/alice" "${json[@]}" -H "X-CSRF-Token: $alice_csrf" -X PUT \
	-d '{"disabled":true}' "$url/v1/users/root")" = 403
login root root-pass-1 "$WORK/root" >/dev/null
root_csrf=$(jq -r .csrf_token "$WORK/body")
check "to an admin's session: the list" bash -c "curl -s -b '$WORK/root' '$url/v1/users' | jq -e 'map(.name) | index(\"root\")' >/dev/null"
check "an admin adds an account over TCP (201)" test "$(tcp -b "$WORK/root" "${json[@]}" -H "X-CSRF-Token: $root_csrf" \
	-X POST -d '{"name":"erin","role":"technician","password":"erin-pass-1"}' "$url/v1/users")" = 201
check "... but not without the CSRF token" test "$(tcp -b "$WORK/root" "${json[@]}" -X POST \
	-d '{"name":"fred","role":"technician","password":"fred-pass-1"}' "$url/v1/users")" = 403
check "the audit names the admin for the account added" test \
	"$(sqlite3 "$DB" "SELECT operator FROM audit WHERE command = 'user add' ORDER BY id DESC LIMIT 1")" = root

say "== sessions end =="
printf 'alice-pass-2\n' | "$T" user passwd alice >/dev/null
check "a new password ends the account's sessions" test "$(tcp -b "$WORK/alice" "$url/v1/status")" = 401
check "... saying so" grep -q 'log in again' "$WORK/body"
check "the new password logs in" test "$(login alice alice-pass-2 "$WORK/alice")" = 200
check "the old one does not" test "$(login alice alice-pass-1 "$WORK/x")" = 401
login erin erin-pass-1 "$WORK/erin" >/dev/null
"$T" user disable erin >/dev/null
check "disabling ends the account's sessions" test "$(tcp -b "$WORK/erin" "$url/v1/status")" = 401
check "logout needs the CSRF token" test "$(tcp -b "$WORK/root" "${json[@]}" -X DELETE "$url/v1/session")" = 403
check "logout (200)" test "$(tcp -b "$WORK/root" "${json[@]}" -H "X-CSRF-Token: $root_csrf" -X DELETE \
	"$url/v1/session")" = 200
check "the logged-out cookie is refused" test "$(tcp -b "$WORK/root" "$url/v1/status")" = 401

say "== failed logins =="
for i in 1 2 3 4 5; do login alice "not-it-$i" "$WORK/x" >/dev/null; done
check "after 5 failures: 429" test "$(login alice alice-pass-2 "$WORK/x")" = 429
check "... with Retry-After in seconds" grep -Eiq '^Retry-After: [1-9][0-9]*' "$WORK/head"
check "every login is in the audit trail, refusals with why" bash -c "
	[ \$(sqlite3 '$DB' \"SELECT count(*) FROM audit WHERE command = 'login' AND result = 'ok'\") -ge 4 ] &&
	[ \$(sqlite3 '$DB' \"SELECT count(*) FROM audit WHERE command = 'login' AND result LIKE 'refused%'\") -ge 9 ]"
check "no password is in the store" bash -c "! sqlite3 '$DB' .dump | grep -Eq 'not-it-|alice-pass|wrong-password|root-pass'"
stop_daemon
check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0

say "== under TLS, with a short idle time =="
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=treadlabd \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
	chmod 600 "$WORK/key.pem"
	write_config "$WORK/t.conf" "[api]" "listen = 127.0.0.1:0" "tls_cert = $WORK/cert.pem" \
		"tls_key = $WORK/key.pem" "token_file = $WORK/token" "session_idle_min = 0.05"
	: >"$WORK/daemon.log"
	start_daemon "$WORK/t.conf"
	addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]* https' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
	url="https://$addr"
	tls=(--cacert "$WORK/cert.pem")
	status=$(curl -s "${tls[@]}" -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X POST "${json[@]}" \
		-d '{"user":"alice","password":"alice-pass-2"}' "$url/v1/session")
	check "login over HTTPS (200)" test "$status" = 200
	cookie=$(grep -i '^Set-Cookie: treadlab_session=' "$WORK/head" | tr -d '\r')
	check "the cookie is Secure under TLS" grep -q '; Secure' <<<"$cookie"
	value=$(sed 's/^[^=]*=\([^;]*\);.*/\1/' <<<"$cookie")
	code() { curl -s "${tls[@]}" -o /dev/null -w '%{http_code}' -H "Cookie: treadlab_session=$value" "$url/v1/session"; }
	check "the session answers at once" test "$(code)" = 200
	# Idle 3 s: used after 1.5 s it lives on (each use starts the idle time again), left
	# 3.5 s it has ended. The waits are the idle time itself, no longer.
	sleep 1.5
	check "used within the idle time it lives on" test "$(code)" = 200
	sleep 3.5
	expired=false
	[ "$(code)" = 401 ] && expired=true
	check "an idle session expires (session_idle_min = 0.05)" $expired
	stop_daemon
	check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0
else
	say "skipped: openssl is not installed"
fi
finish
