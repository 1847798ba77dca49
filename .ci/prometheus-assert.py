#!/usr/bin/env python3
"""Queries a running Prometheus (the one .ci/prometheus-test starts) and checks the MAESTRO
series it scraped against the rApp's own report.

Usage: prometheus-assert.py PROMETHEUS_URL RAPP_REPORT.json
Waits up to 60 s for both targets and every series, then checks values once; prints what it
saw and exits non-zero on the first failed check list.
"""

import json
import re
import sys
import time
import urllib.parse
import urllib.request

BASE, REPORT = sys.argv[1], sys.argv[2]
N_PRB = 106  # config/xapp.json: 40 MHz at 30 kHz SCS (TS 38.101-1 Table 5.3.2-1)


def query(expr):
    url = f"{BASE}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]


def by_slice(expr):
    return {m.get("slice"): v for m, v in query(expr)}


with open(REPORT) as f:
    report = json.load(f)
slices = {s["slice"]: s for s in report["slices"]}

# Wait until both targets are up and every series has been scraped at least once after the
# rApp's pass (its counters only move when the pass is done).
needed = [
    'up{job="maestro-xapp"} == 1',
    'up{job="maestro-rapp"} == 1',
    "maestro_slice_target_dl_bps > 0",
    "maestro_slice_dl_throughput_bps",
    "maestro_slice_cqi_mean",
    "maestro_rapp_negotiation_rounds > 0",
    "maestro_rapp_consensus_dl_bps",
]
deadline = time.time() + 60
while True:
    try:
        missing = [e for e in needed if not query(e)]
    except OSError as e:
        missing = [f"prometheus not answering ({e})"]
    if not missing:
        break
    if time.time() > deadline:
        print("FAIL: never seen:", ", ".join(missing))
        sys.exit(1)
    time.sleep(1)
# A few more scrapes so the 10 s averages below have material.
time.sleep(5)

failures = []
passed = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    (passed if cond else failures).append(msg)


for job in ("maestro-xapp", "maestro-rapp"):
    up = query(f'up{{job="{job}"}}')
    check(len(up) == 1 and up[0][1] == 1.0, f"up{{job={job}}} = {[v for _, v in up]}")

consensus_bps = report["consensus_mbps"] * 1e6
target = by_slice("maestro_slice_target_dl_bps")
measured = by_slice("avg_over_time(maestro_slice_dl_throughput_bps[10s])")
cqi = by_slice("maestro_slice_cqi_mean")
cqi_median = by_slice('maestro_slice_cqi{quantile="0.5"}')
quota = by_slice("maestro_slice_prb_quota")
capacity = [v for _, v in query("maestro_cell_capacity_dl_bps")]
consensus = by_slice("maestro_rapp_consensus_dl_bps")
holds = by_slice("maestro_rapp_slice_holds_target")

check(set(target) == set(slices), f"target series per slice: {sorted(target)} (report: {sorted(slices)})")
for s in sorted(slices):
    t = target.get(s, float("nan"))
    # A1 carries kbps: the xApp's target is the consensus rounded to 1 kbps
    # (Rust rounds a half away from zero, Python's round() to even, so the
    # check allows half a kbps plus float noise rather than re-rounding here),
    # and it is exactly what the rApp reports it sent for the slice.
    sent = slices[s]["target_mbps"] * 1e6
    check(abs(t - consensus_bps) <= 500.0 + 1e-9 * consensus_bps and abs(t - sent) < 1.0, f"{s}: maestro_slice_target_dl_bps = {t / 1e6:.4f} Mbps (consensus {report['consensus_mbps']:.4f} Mbps, sent {sent / 1e6:.4f})")
    m = measured.get(s, float("nan"))
    check(0.5 * t < m < 1.5 * t, f"{s}: avg_over_time(maestro_slice_dl_throughput_bps[10s]) = {m / 1e6:.3f} Mbps, {m / t:.3f} of target")
    c = cqi.get(s, float("nan"))
    check(1.0 <= c <= 15.0, f"{s}: maestro_slice_cqi_mean = {c:.2f} (CQI index 1..15)")
    cm = cqi_median.get(s, float("nan"))
    check(0.0 <= cm <= 15.0 and float(cm).is_integer(), f"{s}: maestro_slice_cqi{{quantile=0.5}} = {cm:g}")
    q = quota.get(s, float("nan"))
    check(1 <= q <= N_PRB, f"{s}: maestro_slice_prb_quota = {q:g} PRBs (of {N_PRB})")
    rc = consensus.get(s, float("nan"))
    check(abs(rc - sent) < 1.0 and abs(rc - t) < 1e3, f"{s}: maestro_rapp_consensus_dl_bps = {rc / 1e6:.4f} Mbps (report: {sent / 1e6:.4f}; A1 target above)")
    check(holds.get(s) == (1.0 if slices[s]["holds_target"] else 0.0), f"{s}: maestro_rapp_slice_holds_target = {holds.get(s)}")
check(sum(quota.values()) <= N_PRB, f"sum of PRB quotas = {sum(quota.values()):g} <= {N_PRB}")
check(len(capacity) == 1 and 1e6 < capacity[0] < 200e6, f"maestro_cell_capacity_dl_bps = {[round(c / 1e6, 2) for c in capacity]} Mbps")
if capacity:
    check(sum(target.values()) <= capacity[0] * 1.05, "the targets fit the cell's capacity")
# Every per-slice and per-UE series names its cell, the one the capacity series names.
capacity_cells = {m.get("cell") for m, _ in query("maestro_cell_capacity_dl_bps")}
for expr in ("maestro_slice_target_dl_bps", "maestro_slice_dl_throughput_bps", "maestro_slice_cqi_mean", "maestro_ue_wb_cqi"):
    cells = {m.get("cell") for m, _ in query(expr)}
    check(len(cells) == 1 and None not in cells and cells == capacity_cells, f"{expr}: cell label {sorted(map(str, cells))} (capacity's: {sorted(map(str, capacity_cells))})")

rounds = query("maestro_rapp_negotiation_rounds")
check(len(rounds) == 1 and rounds[0][1] == report["rounds"] and rounds[0][1] >= 1, f"maestro_rapp_negotiation_rounds = {[v for _, v in rounds]} (report: {report['rounds']})")
total = query("sum(maestro_rapp_negotiations_total)")
check(len(total) == 1 and total[0][1] == 1.0, f"sum(maestro_rapp_negotiations_total) = {[v for _, v in total]}")
outcome = "converged" if report["converged"] else "round_cap"
conv = query(f'maestro_rapp_negotiations_total{{outcome="{outcome}"}}')
check(len(conv) == 1 and conv[0][1] == 1.0, f"maestro_rapp_negotiations_total{{outcome={outcome}}} = {[v for _, v in conv]}")
a1 = query('sum(maestro_xapp_a1_requests_total{method="PUT"})')
check(len(a1) == 1 and a1[0][1] >= len(slices), f"A1 PUTs counted by the xApp = {[v for _, v in a1]}")

# The Grafana dashboard names only series Prometheus really has.
names = {m["__name__"] for m, _ in query('count by (__name__) ({__name__=~"maestro_.+"})')}
with open("config/grafana/maestro-dashboard.json") as f:
    dash = json.load(f)
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
used = set()
for e in exprs:
    for name in re.findall(r"\bmaestro_[a-z0-9_]+", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        used.add(name if name in names else base)
unknown = sorted(n for n in used if n not in names)
check(not unknown, f"dashboard: {len(exprs)} expressions over {len(used)} series, all scraped" + (f"; unknown: {unknown}" if unknown else ""))

print(f"prometheus: {len(passed)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
