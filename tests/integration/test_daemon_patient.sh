# Patient demographics and order data (issue 13; docs/api.md, Patients and orders):
# PUT and GET /v1/patients/{mrn} and PUT /v1/tests/{id}/order on the socket and by login
# (a technician may, a physician may not), every bad body refused with the field named,
# the record's "demographics" and "order" in the shape the HL7 and FHIR builders read,
# the values replaced kept in the audit trail, and treadlab patient / order round trips.
# (The signed report with demographics: integration.report_demographics.)
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { say "sqlite3 is not installed"; exit 77; }

write_config "$WORK/d.conf" "[api]" "listen = 127.0.0.1:0" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
url="http://$addr"
DB="$WORK/treadlab.db"
has() { jq -e "$1" >/dev/null <<<"$2"; } # has JQ-EXPRESSION JSON

say "== a patient registered before the walk =="
check "an unknown patient: 404" expect 404 "no patient 'PAT01'" GET /v1/patients/PAT01
check "PUT registers it (200) with what was sent" expect 200 '"family": ?"Doe"' PUT /v1/patients/PAT01 \
	'{"assigning_authority":"HOSP","family":"Doe","given":"Jane","birth_date":"1950-03-01","sex":"female","operator":"alice"}'
got=$(api GET /v1/patients/PAT01)
check "GET gives every field" has '.mrn == "PAT01" and .assigning_authority == "HOSP" and
	.family == "Doe" and .given == "Jane" and .birth_date == "1950-03-01" and .sex == "female"' "${got#* }"
check "a subset changes only what it names; null clears" expect 200 '"given": ?null' PUT /v1/patients/PAT01 \
	'{"family":"Roe","given":null}'
check "... the rest kept" bash -c "'$T' patient PAT01 --json | jq -e '.family == \"Roe\" and .sex == \"female\" and .birth_date == \"1950-03-01\"' >/dev/null"
check "the change is audited with what it replaced" test "$(sqlite3 "$DB" \
	"select json_extract(detail, '\$.previous.family') || ' ' || json_extract(detail, '\$.value.family')
	 from audit where command = 'patient' order by id desc limit 1")" = "Doe Roe"

say "== bad bodies: 400, the field named, nothing written =="
check "an unknown field" expect 400 "unknown field 'gender'" PUT /v1/patients/PAT01 '{"gender":"male"}'
check "a birth date that is no day" expect 400 "field birth_date '1950-02-30' is not a day" \
	PUT /v1/patients/PAT01 '{"birth_date":"1950-02-30"}'
check "a birth date in the future" expect 400 "field birth_date '2999-01-01' is after today" \
	PUT /v1/patients/PAT01 '{"birth_date":"2999-01-01"}'
check "a birth date in another format" expect 400 "is not a date YYYY-MM-DD" \
	PUT /v1/patients/PAT01 '{"birth_date":"01/03/1950"}'
check "a sex that is not a FHIR code" expect 400 "field sex 'F' is not one of female, male, other, unknown" \
	PUT /v1/patients/PAT01 '{"sex":"F"}'
check "a number for a name" expect 400 "field 'family' must be a string, or null" PUT /v1/patients/PAT01 '{"family":12}'
check "an empty name" expect 400 "field family must be 1 to 100 bytes" PUT /v1/patients/PAT01 '{"family":""}'
check "a control character" expect 400 "control character" PUT /v1/patients/PAT01 '{"given":"A\u0007"}'
check "nothing to set" expect 400 "names no field" PUT /v1/patients/PAT01 '{}'
check "a bad MRN in the path: 404" expect 404 "no such resource" GET '/v1/patients/A%20B'
check "nothing refused was written" bash -c "'$T' patient PAT01 --json | jq -e '.family == \"Roe\" and .sex == \"female\"' >/dev/null"
check "POST is not a method of it (405)" expect 405 "takes GET or PUT" POST /v1/patients/PAT01 '{}'

say "== the order of a test =="
id=$("$T" start --protocol gardner-skinner --patient PAT01 --operator alice)
"$T" estop >/dev/null
check "an unknown test: 404" expect 404 "no test 999" PUT /v1/tests/999/order '{"accession":"A1"}'
check "PUT the order answers the record" expect 200 '"accession": ?"ACC-42"' PUT "/v1/tests/$id/order" \
	'{"accession":"ACC-42","ordering_physician":{"id":"P7","family":"Quinn","given":"Mia"}}'
check "an unknown physician field" expect 400 "unknown field 'ordering_physician.name'" \
	PUT "/v1/tests/$id/order" '{"ordering_physician":{"name":"x"}}'
check "an accession too long" expect 400 "field accession must be 1 to 64 bytes" \
	PUT "/v1/tests/$id/order" "{\"accession\":\"$(printf 'A%.0s' {1..65})\"}"
check "a physician name with a space at the end" expect 400 "field ordering_physician.family 'Q ' starts or ends" \
	PUT "/v1/tests/$id/order" '{"ordering_physician":{"family":"Q "}}'
check "ordering_physician not an object" expect 400 "must be an object" PUT "/v1/tests/$id/order" '{"ordering_physician":"P7"}'

rec=$("$T" show "$id" --json)
check "the record's demographics, exactly these keys" has '(.demographics | keys) ==
	["assigning_authority","birth_date","family","given","mrn","sex"] and .demographics.mrn == "PAT01" and
	.demographics.family == "Roe" and .demographics.given == null and .demographics.sex == "female"' "$rec"
check "the record's order, exactly these keys" has '(.order | keys) == ["accession","ordering_physician"]
	and (.order.ordering_physician | keys) == ["family","given","id"] and .order.accession == "ACC-42" and
	.order.ordering_physician == {"id":"P7","family":"Quinn","given":"Mia"}' "$rec"
txt=$("$T" show "$id")
check "show: the patient's demographics" grep -qx 'patient PAT01 (HOSP): Roe, -; born 1950-03-01; sex female' <<<"$txt"
check "show: the order" grep -qx 'order ACC-42, ordering physician P7 (Quinn, Mia)' <<<"$txt"
check "a test of a patient without demographics has them all null" bash -c "
	id2=\$('$T' start --protocol gardner-skinner --patient PAT02); '$T' estop >/dev/null
	'$T' show \$id2 --json | jq -e '.demographics == {\"mrn\":\"PAT02\",\"assigning_authority\":null,\"family\":null,\"given\":null,\"birth_date\":null,\"sex\":null}
		and .order == {\"accession\":null,\"ordering_physician\":{\"id\":null,\"family\":null,\"given\":null}}' >/dev/null"

say "== the command line =="
check "treadlab patient sets and prints" bash -c "'$T' patient PAT03 --authority CLINIC --family Smith --given Jo \
	--birth-date 1941-07-04 --sex male | grep -q '^birth date  1941-07-04$'"
check "treadlab patient shows" bash -c "'$T' patient PAT03 | grep -q '^family      Smith$'"
check "an empty value clears" bash -c "'$T' patient PAT03 --given '' --json | jq -e '.given == null and .family == \"Smith\"' >/dev/null"
check "a refused value: exit 1 and the daemon's words" bash -c "! '$T' patient PAT03 --sex M 2>'$WORK/err' && grep -q \"sex 'M' is not one of\" '$WORK/err'"
check "an unknown patient: exit 1" bash -c "! '$T' patient NOBODY 2>/dev/null"
check "treadlab order sets the accession and physician" bash -c "'$T' order $id --accession ACC-43 --physician-family House \
	| grep -q '^accession   ACC-43$'"
check "... keeping the physician's other fields" test "$("$T" show "$id" --json | jq -r '.order.ordering_physician | "\(.id) \(.family)"')" = "P7 House"
check "order without a field: usage (2)" bash -c "'$T' order $id 2>/dev/null; [ \$? -eq 2 ]"
check "the order's history: previous accession in the audit" test "$(sqlite3 "$DB" \
	"select json_extract(detail, '\$.previous.accession') from audit where command = 'order' order by id desc limit 1")" = ACC-42

say "== roles, by login over TCP =="
printf 'tech-pass-1\n' | "$T" user add tina --role technician >/dev/null
printf 'phys-pass-1\n' | "$T" user add paul --role physician >/dev/null
login() { # USER PASSWORD JAR: the CSRF token
	curl -s -c "$3" -X POST -H 'Content-Type: application/json' \
		--data-binary "{\"user\":\"$1\",\"password\":\"$2\"}" "$url/v1/session" | jq -r .csrf_token
}
tcp() { curl -s -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
paul=$(login paul phys-pass-1 "$WORK/paul")
tina=$(login tina tech-pass-1 "$WORK/tina")
check "a physician may read a patient" test "$(tcp -b "$WORK/paul" "$url/v1/patients/PAT01")" = 200
check "a physician may not change one (403)" test "$(tcp -b "$WORK/paul" -H "X-CSRF-Token: $paul" -X PUT \
	-d '{"family":"Mallory"}' "$url/v1/patients/PAT01")" = 403
check "... nor an order (403)" test "$(tcp -b "$WORK/paul" -H "X-CSRF-Token: $paul" -X PUT \
	-d '{"accession":"X"}' "$url/v1/tests/$id/order")" = 403
check "a technician may (200)" test "$(tcp -b "$WORK/tina" -H "X-CSRF-Token: $tina" -X PUT \
	-d '{"family":"Tech"}' "$url/v1/patients/PAT01")" = 200
check "... and the order too (200)" test "$(tcp -b "$WORK/tina" -H "X-CSRF-Token: $tina" -X PUT \
	-d '{"accession":"ACC-T"}' "$url/v1/tests/$id/order")" = 200
check "... the audit names the account" test "$(sqlite3 "$DB" \
	"select operator from audit where command = 'order' order by id desc limit 1")" = tina
check "... which the body cannot replace (403)" test "$(tcp -b "$WORK/tina" -H "X-CSRF-Token: $tina" -X PUT \
	-d '{"family":"X","operator":"alice"}' "$url/v1/patients/PAT01")" = 403
check "the physician's attempt changed nothing" test "$("$T" patient PAT01 --json | jq -r .family)" = Tech

stop_daemon
check "the daemon stops cleanly (status $DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
finish
