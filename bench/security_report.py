"""Turns the outputs of bench/security.sh into bench/results/security-<stamp>.{json,md} and the block in bench/README.md."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish, wrk_rounds  # noqa: E402

work = sys.argv[1]
_, r, count = wrk_rounds(work)
rows = []
for script, label in (("predict", "`POST /predict`"), ("infer", "`POST /v2/models/seed/infer`")):
    on, off = r[f"{script}_on"], r[f"{script}_off"]
    ratio = on["requests_per_second"] / off["requests_per_second"]
    rows.append((f"{label} 1 row, c32: requests/s with authentication and rate limit / opened route ({on['requests_per_second']:,.0f} / {off['requests_per_second']:,.0f})",
                 f"{ratio:.3f}", ">= 0.90", ratio >= 0.90))
    rows.append((f"{label} p99 with authentication and rate limit - opened route ({on['p99_ms']:.2f} - {off['p99_ms']:.2f} ms)",
                 f"{on['p99_ms'] - off['p99_ms']:+.2f} ms", "<= +0.3 ms", on["p99_ms"] - off["p99_ms"] <= 0.3))
    rows.append((f"{label} failed requests (non-2xx, socket errors), both arms", f"{sum(x['non_2xx'] + x['socket_errors'] for x in (on, off))}", "0",
                 on["non_2xx"] + on["socket_errors"] + off["non_2xx"] + off["socket_errors"] == 0))
publish("security", f"Authentication and rate-limit cost, wrk 1 thread pinned to the last core, {os.environ.get('DURATION', '10s')} per run, loopback; medians of {count} "
        f"alternating rounds; same key header sent to both arms; {machine()}.", rows, {"runs": r})
