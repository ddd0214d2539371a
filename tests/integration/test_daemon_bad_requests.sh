# Bad requests get a 4xx with a clear message and change nothing.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[treadmill]" "max_grade_pct = 25" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"

events() { sqlite3 "$WORK/treadlab.db" "select count(*) from events where kind != 'stage'"; }
tests() { sqlite3 "$WORK/treadlab.db" 'select count(*) from tests'; }

check "malformed JSON: 400" expect 400 'malformed JSON' POST /v1/tests '{"protocol": '
check "not an object: 400" expect 400 'JSON object' POST /v1/tests '[1,2]'
check "unknown field: 400" expect 400 "unknown field 'speed'" POST /v1/tests '{"protocol":"bruce","patient":"P1","speed":9}'
check "missing field: 400" expect 400 'required' POST /v1/tests '{"protocol":"bruce"}'
check "wrong type: 400" expect 400 'required strings' POST /v1/tests '{"protocol":"bruce","patient":7}'
check "unknown protocol: 404" expect 404 "unknown protocol 'nope'" POST /v1/tests '{"protocol":"nope","patient":"P1"}'
check "protocol beyond the treadmill: 422" expect 422 '26.8 % is above the treadmill' POST /v1/tests '{"protocol":"two-stage","patient":"P1"}'
check "bad MRN: 400" expect 400 'not a valid MRN' POST /v1/tests '{"protocol":"bruce","patient":"a b;"}'
check "onset with no test: 409" expect 409 'no test is walking' POST /v1/onset ''
check "max with no test: 409" expect 409 'no test is walking' POST /v1/max ''
check "finish with no test: 409" expect 409 'not in recovery' POST /v1/finish ''
check "stop with no test: 409" expect 409 'not in progress' POST /v1/stop ''
check "relief with a bad posture: 400" expect 400 "'posture' must be one of" POST /v1/relief '{"posture":"lying"}'
check "show unknown test: 404" expect 404 'no test 42' GET /v1/tests/42
check "list unknown patient: 404" expect 404 "unknown patient 'NOBODY'" GET '/v1/tests?patient=NOBODY'
check "pressure for unknown test: 404" expect 404 'no test 42' POST /v1/tests/42/pressures '{"phase":"rest","site":"pt-left","mmhg":120}'
check "wrong method: 405" expect 405 'takes POST' GET /v1/onset
check "unknown path: 404" expect 404 'no such resource' GET /v1/nothing
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
check "oversized body: 413" expect 413 'larger than' POST /v1/tests "{\"x\":\"$big\"}"
check "no test was created by any of them" test "$(tests)" = 0

id=$("$T" start --protocol bruce --patient P1)
n=$(events)
check "start while one runs: 409" expect 409 'already in progress' POST /v1/tests '{"protocol":"bruce","patient":"P2"}'
check "relief while walking: 409" expect 409 'has not stopped' POST /v1/relief '{"posture":"sitting"}'
check "pressure out of range: 400" expect 400 "'mmhg' must be a number from 0 to 300" POST "/v1/tests/$id/pressures" '{"phase":"rest","site":"pt-left","mmhg":301}'
check "negative pressure: 400" expect 400 "'mmhg'" POST "/v1/tests/$id/pressures" '{"phase":"rest","site":"pt-left","mmhg":-5}'
check "post pressure without minute: 400" expect 400 "'minute'" POST "/v1/tests/$id/pressures" '{"phase":"post","site":"pt-left","mmhg":90}'
check "bad site: 400" expect 400 "'site' must be one of" POST "/v1/tests/$id/pressures" '{"phase":"rest","site":"ankle","mmhg":90}'
check "findings with an unknown key: 400" expect 400 'symptoms' PUT "/v1/tests/$id/findings" '{"symptoms":{"colour":"blue"}}'
check "findings with a wrong type: 400" expect 400 'symptoms.numbness' PUT "/v1/tests/$id/findings" '{"symptoms":{"numbness":"yes"}}'
check "still one test" test "$(tests)" = 1
check "no event added by the refused requests" test "$(events)" = "$n"
check "no pressure stored by the refused requests" test "$(sqlite3 "$WORK/treadlab.db" 'select count(*) from pressures')" = 0
check "refused commands are in the audit trail" test "$(sqlite3 "$WORK/treadlab.db" "select count(*) from audit where result = 'refused'")" -ge 5
check "the test still runs" test "$("$T" status --json | jq -r .state)" = running
finish
