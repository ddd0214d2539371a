# The live stream (GET /v1/events) is well-formed Server-Sent Events: records
# "event: status|event" + "data: <one JSON object>" ended by an empty line, and nothing
# else (a NUL byte ended every record once, so a reader saw "\0event: ..." lines).
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 100"
start_daemon "$WORK/d.conf"

"$T" start --protocol gardner-skinner --patient SSE01 >/dev/null
# A test that walks publishes 100 statuses (about 500 bytes each) a second and a stage
# event every 1.2 s (test time 120 s at 100x): 200 kB is about 4 s of stream, with stage
# events in it. head ends the transfer.
{ timeout 60 curl -sN --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/events || true; } |
	head -c 200000 >"$WORK/stream"
check "the stream was read" test "$(wc -c <"$WORK/stream")" -eq 200000
check "no NUL byte in the stream" test "$(tr -d '\000' <"$WORK/stream" | wc -c)" -eq 200000

# Every complete record: an event line, a data line with a JSON object, an empty line.
records_ok() {
	awk '
		BEGIN { RS = ""; FS = "\n"; bad = 0; n = 0 }
		{ last = $0; lastn = NR
		  if (NF != 2 || $1 !~ /^event: (status|event)$/ || $2 !~ /^data: \{.*\}$/) { bad++; badrec = $0 }
		  n++ }
		END { if (bad > 1 || (bad == 1 && badrec != last)) { print "     bad record: " badrec; exit 1 }
		      if (n < 10) { print "     only " n " records"; exit 1 } }
	' "$WORK/stream"
}
check "records are event + data + empty line" records_ok
# The data lines are JSON objects (all but a last one cut by head).
data_ok() {
	grep '^data: ' "$WORK/stream" | sed '$d' | sed 's/^data: //' | jq -e -s 'length > 10 and all(type == "object")' >/dev/null
}
check "data lines parse as JSON" data_ok
check "status records carry the state" bash -c "grep -A1 '^event: status$' '$WORK/stream' | grep -q '^data: {\"state\":\"running\"'"
check "event records carry the event" bash -c "grep -A1 '^event: event$' '$WORK/stream' | grep -q '^data: {\"t_s\":[0-9.]*,\"kind\":\"'"

# `treadlab watch --count N` ends after N status updates, with --json too (it once
# ignored --count with --json and ran until killed).
count_json() {
	local out
	out=$(timeout 20 "$T" watch --json --count 5) || return 1
	[ "$(grep -c '^{"status": ' <<<"$out")" -eq 5 ]
}
check "watch --json --count 5 shows five status updates and ends" count_json
count_text() {
	local out
	out=$(timeout 20 "$T" watch --count 5) || return 1
	[ "$(grep -c ' t= ' <<<"$out")" -eq 5 ]
}
check "watch --count 5 shows five status lines and ends" count_text
finish
