#!/bin/bash
# The technician's page as files (src/daemon/api_static.c): served at / and /web/NAME
# with their types and the headers that keep the page to itself; nothing outside
# [api] web_root is served (.., %2e%2e, %00, a symbolic link out, a directory).
. "$(dirname "$0")/lib.sh"

root="$WORK/web"
mkdir -p "$root/sub" "$WORK/outside"
printf '<!doctype html><title>t</title>\n' >"$root/index.html"
printf 'body{}\n' >"$root/style.css"
printf 'export const x = 1;\n' >"$root/app.js"
printf 'secret\n' >"$WORK/outside/secret.txt"
printf 'hidden\n' >"$root/.hidden.txt"
ln -s "$WORK/outside/secret.txt" "$root/link.txt"
ln -s "$root/style.css" "$root/sub/in.css"
write_config "$WORK/d.conf" "[api]" "listen = 127.0.0.1:0" "web_root = $root"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
check "the daemon reports its TCP address ($addr)" grep -Eq '^127\.0\.0\.1:[0-9]+$' <<<"$addr"
U="http://$addr"

# head PATH: the status line and headers of a GET (curl keeps the path as given).
head_of() { curl -s --path-as-is -o /dev/null -D - "$U$1" | tr -d '\r'; }
status_of() { curl -s --path-as-is -o /dev/null -w '%{http_code}' "$U$1"; }

h=$(head_of /)
check "/ is index.html as HTML" grep -q '^Content-Type: text/html; charset=utf-8$' <<<"$h"
check "/ has its body" grep -q '<title>t</title>' <(curl -s "$U/")
check "a strict Content-Security-Policy" grep -q "^Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'$" <<<"$h"
check "nosniff" grep -q '^X-Content-Type-Options: nosniff$' <<<"$h"
check "no referrer" grep -q '^Referrer-Policy: no-referrer$' <<<"$h"
check "revalidated every time" grep -q '^Cache-Control: no-cache$' <<<"$h"
etag=$(sed -n 's/^ETag: //p' <<<"$h")
check "an ETag ($etag)" test -n "$etag"
check "If-None-Match with it: 304" test "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$U/")" = 304
check "a JavaScript module as text/javascript" grep -q '^Content-Type: text/javascript; charset=utf-8$' <(head_of /web/app.js)
check "a style sheet as text/css" grep -q '^Content-Type: text/css; charset=utf-8$' <(head_of /web/style.css)
check "a link inside the root is served" test "$(status_of /web/sub/in.css)" = 200
check "HEAD of a file: 200" test "$(curl -s -I -o /dev/null -w '%{http_code}' "$U/web/app.js")" = 200

for p in /web/missing.js /web/../web/index.html /web/..%2f..%2foutside/secret.txt /web/%2e%2e/outside/secret.txt \
	/web/link.txt /web/.hidden.txt /web/sub /web/sub/ /web/ /web//index.html '/web/index.html%00.js' \
	'/web/index.html%00' /web/sub%2f..%2fapp.js '/web/a\b.js'; do
	check "$p is not served (404)" test "$(status_of "$p")" = 404
done
check "nothing of outside/ came out" bash -c "! curl -s --path-as-is '$U/web/..%2f..%2foutside/secret.txt' | grep -qx secret"
check "POST to a page file: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$U/web/app.js")" = 405
check "another Host: 403 (DNS rebinding)" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example:80' "$U/")" = 403
check "a stale session cookie still gets the page (to log in again)" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: treadlab_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' "$U/")" = 200
check "... but not the API (401)" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: treadlab_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' "$U/v1/status")" = 401
check "the API is still there: /v1/status 200" test "$(status_of /v1/status)" = 200
check "GET /v1/protocols/gardner-skinner: its stage table" bash -c "curl -s '$U/v1/protocols/gardner-skinner' | jq -e '.name == \"gardner-skinner\" and (.stages | length) > 5 and .stages[1].grade_pct == 2' >/dev/null"
check "GET /v1/protocols/nope: 404" test "$(status_of /v1/protocols/nope)" = 404
check "GET /v1/protocols/..%2fetc: 404" test "$(status_of '/v1/protocols/..%2fetc')" = 404
check "POST /v1/protocols/bruce: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$U/v1/protocols/bruce")" = 405
check "a NUL in an API path is no route (404)" test "$(status_of '/v1/status%00x')" = 404
stop_daemon

# The default root: a daemon of the build tree serves the source tree's web/.
write_config "$WORK/d2.conf" "[api]" "listen = 127.0.0.1:0"
: >"$WORK/daemon.log"
start_daemon "$WORK/d2.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
check "without web_root: the source tree's web/index.html" cmp -s <(curl -s "http://$addr/") "$TL_SOURCE_DIR/web/index.html"
stop_daemon
finish
