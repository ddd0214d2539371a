# The route table (src/daemon/api_route.c): every path reaches its handler, another
# method gets 405 naming the methods the path takes, and paths not in it get 404.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"

# Each path answers its own method (no test runs: the commands are refused by the
# control thread, which shows they reached it).
check "GET /v1/status: 200" expect 200 '"state": "idle"' GET /v1/status
check "GET /v1/protocols: 200" expect 200 '"name": "bruce"' GET /v1/protocols
check "GET /v1/metrics: 200" expect 200 '"ticks"' GET /v1/metrics
check "GET /v1/tests: 200" expect 200 '^\[\]$' GET /v1/tests
check "GET /v1/tests/7: 404 from the store" expect 404 'no test 7' GET /v1/tests/7
check "POST /v1/tests/7/pressures: 404 from the store" expect 404 'no test 7' \
	POST /v1/tests/7/pressures '{"phase":"rest","site":"pt-left","mmhg":120}'
check "PUT /v1/tests/7/findings: 404 from the store" expect 404 'no test 7' \
	PUT /v1/tests/7/findings '{"symptoms":{}}'
check "POST /v1/onset: the control thread" expect 409 'no test is walking' POST /v1/onset ''
check "POST /v1/max: the control thread" expect 409 'no test is walking' POST /v1/max ''
check "POST /v1/stop: the control thread" expect 409 'not in progress' POST /v1/stop ''
check "POST /v1/finish: the control thread" expect 409 'not in recovery' POST /v1/finish ''
check "POST /v1/relief: its own fields" expect 400 "'posture'" POST /v1/relief '{"posture":"x"}'
check "POST /v1/tests: its own fields" expect 400 'required strings' POST /v1/tests '{}'
check "POST /v1/treadmill/reconnect: the control thread" expect 200 '"connected": true' \
	POST /v1/treadmill/reconnect ''
first_event() {
	{ timeout 30 curl -sN --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/events || true; } |
		grep -m1 -q '^event: status$'
}
check "GET /v1/events: the stream" first_event

# 405: the methods the path takes, in the table's order.
check "PUT /v1/tests: 405 GET or POST" expect 405 '^\{"error": "/v1/tests takes GET or POST"\}$' \
	PUT /v1/tests '{}'
check "POST /v1/status: 405 GET" expect 405 '"/v1/status takes GET"' POST /v1/status '{}'
check "POST /v1/metrics: 405 GET" expect 405 '"/v1/metrics takes GET"' POST /v1/metrics '{}'
check "DELETE /v1/events: 405 GET" expect 405 '"/v1/events takes GET"' DELETE /v1/events
check "GET /v1/estop: 405 POST" expect 405 '"/v1/estop takes POST"' GET /v1/estop
check "GET /v1/treadmill/reconnect: 405 POST" expect 405 'reconnect takes POST' \
	GET /v1/treadmill/reconnect
check "GET /v1/tests/3/findings: 405 PUT" expect 405 '"/v1/tests/3/findings takes PUT"' \
	GET /v1/tests/3/findings
check "GET /v1/tests/3/pressures: 405 POST" expect 405 '"/v1/tests/3/pressures takes POST"' \
	GET /v1/tests/3/pressures
check "DELETE /v1/tests/3: 405 GET" expect 405 '"/v1/tests/3 takes GET"' DELETE /v1/tests/3
status=$(curl -s -o /dev/null -w '%{http_code}' -I --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/status)
check "HEAD /v1/status: 405" test "$status" = 405

# 404: not in the table; under /v1/tests/ the id is not one.
check "GET /v1/nothing: 404" expect 404 '"no such resource: /v1/nothing \(see docs/api.md\)"' \
	GET /v1/nothing
check "GET /v1/status/: 404" expect 404 'no such resource' GET /v1/status/
for bad in 0 01 abc 1x 1/ 1/other 1/pressures/2 1234567890123456789; do
	check "GET /v1/tests/$bad: 404" expect 404 "^\\{\"error\": \"no such resource: /v1/tests/$bad\"\\}\$" \
		GET "/v1/tests/$bad"
done
check "POST /v1/tests/abc/pressures: 404, not 405" expect 404 'no such resource' \
	POST /v1/tests/abc/pressures '{}'
finish
