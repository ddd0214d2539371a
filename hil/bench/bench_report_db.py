#!/usr/bin/env python3
"""bench_report_db.py DB [N] [CASE.json]: fills a fresh treadlab store with N tests (default
100000) by direct SQL, for bench_report's list/show/export timings.

DB must be a store treadlabd has created and migrated (it holds the schema). Each patient
has 5 tests, 10 minutes apart in time; each test has 6 events, 8 resting pressures and the
classification of CASE.json's record (tests/data/report/typical.json), so that a record,
a listing and an export weigh what real ones do. One transaction."""
import json
import sqlite3
import sys
import time

db, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100000
case = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else None
rec = case["record"] if case else {}
cls = json.dumps(rec.get("classification")) if case else None
abi = json.dumps(rec.get("abi")) if case else None
proto_json = json.dumps(rec.get("protocol_as_run", {"name": "gardner-skinner"}))
t0 = time.monotonic()
con = sqlite3.connect(db)
if con.execute("PRAGMA user_version").fetchone()[0] < 6:
    sys.exit(f"{db}: not a migrated treadlab store (start treadlabd on it once)")
if con.execute("SELECT count(*) FROM tests").fetchone()[0]:
    sys.exit(f"{db}: already has tests; give a fresh store")
con.execute("BEGIN")
base = 1767225600  # 2026-01-01T00:00:00Z
def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
n_pat = (n + 4) // 5
con.executemany("INSERT INTO patients (id, mrn, created_at) VALUES (?, ?, ?)",
                ((p + 1, f"MRN-{p + 1:06d}", iso(base)) for p in range(n_pat)))
def tests():
    for i in range(n):
        t = base + i * 600
        cot = 100 + (i % 200)
        yield (i + 1, i % n_pat + 1, "gardner-skinner", "", proto_json, "bench", "complete",
               "max_claudication", iso(t), iso(t + 600), 1.0, cot, cot * 2.2, cot * 0.89,
               cot * 1.98, cot * 2.2, cot * 1.98, 60.0, abi, cls, "0.1.0")
con.executemany(
    "INSERT INTO tests (id, patient_id, protocol_name, protocol_text, protocol_json, operator,"
    " state, end_reason, started_at, ended_at, time_scale, cot_s, pwt_s, icd_m, acd_m,"
    " walking_time_s, distance_m, recovery_s, abi_json, classification_json, software_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tests())
def events():
    for i in range(n):
        at = iso(base + i * 600)
        for t_ms, kind in ((0, "start"), (0, "stage"), (120000, "onset"), (260000, "max"),
                           (260000, "walk_end"), (300000, "complete")):
            yield (i + 1, t_ms, kind, "bench", None, None, None, at)
con.executemany("INSERT INTO events (test_id, t_ms, kind, source, operator, detail, value,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", events())
def pressures():
    for i in range(n):
        at = iso(base + i * 600)
        for site, mmhg in (("brachial-left", 140), ("brachial-right", 136), ("pt-left", 98),
                           ("dp-left", 92), ("pt-right", 100), ("dp-right", 96),
                           ("toe-left", 60), ("toe-right", 70)):
            yield (i + 1, "rest", None, site, mmhg, "bench", "manual", at)
con.executemany("INSERT INTO pressures (test_id, phase, minute, site, mmhg, operator, source,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", pressures())
con.commit()
con.close()
print(f"bench_report_db: {n} tests of {n_pat} patients in {time.monotonic() - t0:.1f} s")
