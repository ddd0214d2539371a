#!/bin/bash
# bench_outbox.sh - the outbox's figures (prints them, asserts nothing):
#  1. messages delivered per second to a local MLLP peer that ACKs at once (npm
#     @medplum/hl7's Hl7Server, tests/records/mllp_peer.mjs): N copies of a signed test's
#     ORU^R01 (each with its own MSH-10) queued while the daemon is stopped, then the time
#     from the first attempt to the last delivery, from the outbox's history;
#  2. the delay from a signature to its ACK: M signatures one after another, each from the
#     signature's time (taken before the PDF is rendered) to the message's delivered_at
#     (written once the AA came), p50 and p99.
# Usage: TL_BUILD_DIR=build TL_SOURCE_DIR=. tests/records/bench_outbox.sh [N [M]]
source "$(dirname "$0")/../integration/lib.sh"
N=${1:-2000}
M=${2:-40}
DB="$WORK/treadlab.db"
PEER_PID=""
stop_peer() { [ -z "$PEER_PID" ] || { kill "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; }; }
trap 'stop_peer; cleanup' EXIT
mkfifo "$WORK/peer.out"
node --experimental-websocket "$TL_SOURCE_DIR/tests/records/mllp_peer.mjs" AA "$WORK/peer.log" 0 >"$WORK/peer.out" &
PEER_PID=$!
read -r line <"$WORK/peer.out"
port=${line#listening }

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120" \
	"[hl7]" "send_to = 127.0.0.1:$port" "ack_timeout_ms = 2000" "retry_min_ms = 100"
start_daemon "$WORK/d.conf"
printf 'bench-pw-123\n' | "$T" user add dr.b --role physician >/dev/null
"$T" patient B01 --authority HOSP --family Bench --birth-date 1950-01-01 --sex female >/dev/null
id=$("$T" start --protocol gardner-skinner --patient B01)
"$T" order "$id" --accession ACC-B >/dev/null
wait_for '"state":"recovery"' 60
"$T" finish >/dev/null

# wait_all: until no message is queued or sending
wait_all() {
	while [ "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE state IN ('queued','sending')")" != 0 ]; do
		sleep 0.05
	done
}

# 2. sign -> ACK
for ((i = 0; i < M; i++)); do
	printf 'bench-pw-123\n' | "$T" sign "$id" --user dr.b >/dev/null
	wait_all
done
sqlite3 "$DB" "SELECT (julianday(delivered_at) - julianday(created_at)) * 86400000.0 FROM outbox
	WHERE state = 'delivered' ORDER BY 1" >"$WORK/delays"
bytes=$(sqlite3 "$DB" "SELECT length(payload) FROM outbox WHERE id = 1")
read -r p50 p99 max < <(awk '{ v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.5); i99 = int(NR * 0.99 + 0.5);
	if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; printf "%.0f %.0f %.0f\n", v[i50], v[i99], v[NR] }' "$WORK/delays")

# 1. throughput: N copies of message 1, each with its own MSH-10, queued while stopped
stop_daemon
first=$(sqlite3 "$DB" "SELECT max(id) + 1 FROM outbox")
sqlite3 "$DB" "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N),
	s(p) AS (SELECT prefix FROM outbox_station),
	m AS (SELECT * FROM outbox WHERE id = 1)
	INSERT INTO outbox (id, test_id, kind, report_version, resend_of, control_id, payload,
		created_at, state, attempts, next_at)
	SELECT $first + i, m.test_id, 'hl7', m.report_version, 1, 'TL' || s.p || '-' || ($first + i),
		CAST(replace(CAST(m.payload AS TEXT), '|' || m.control_id || '|',
			'|TL' || s.p || '-' || ($first + i) || '|') AS BLOB),
		strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'queued', 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
	FROM k, s, m;"
start_daemon "$WORK/d.conf"
wait_all
read -r n_ok span_ms < <(sqlite3 -separator ' ' "$DB" "SELECT count(*),
	(julianday(max(delivered_at)) - julianday((SELECT min(at) FROM outbox_history
		WHERE outbox_id >= $first AND event = 'attempt'))) * 86400000.0
	FROM outbox WHERE id >= $first AND state = 'delivered'")
got=$(awk -v f="$first" -F'[- ]' '{ if ($2 + 0 >= f) n++ } END { print n + 0 }' "$WORK/peer.log")
stop_daemon
say "outbox benchmark ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)), message $bytes bytes (PDF embedded)"
awk -v n="$n_ok" -v ms="$span_ms" -v got="$got" -v N="$N" 'BEGIN {
	printf "  throughput: %d of %d delivered in %.0f ms: %.0f messages/s (the peer logged %d)\n",
		n, N, ms, n * 1000.0 / ms, got }'
say "  sign -> ACK over $M signatures: p50 $p50 ms, p99 $p99 ms, max $max ms"
