"""Turns the outputs of bench/mtls.sh into bench/results/mtls-<stamp>.{json,md} and the block in bench/README.md."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish, wrk_rounds  # noqa: E402

work = sys.argv[1]
_, r, count = wrk_rounds(work)
connections = {arm: int(open(os.path.join(work, f"{arm}.connections")).read().strip()) for arm in ("mtls", "plain")}
rows = []
for script, label in (("predict", "`POST /predict`"), ("infer", "`POST /v2/models/seed/infer`")):
    on, off = r[f"{script}_mtls"], r[f"{script}_plain"]
    ratio = on["requests_per_second"] / off["requests_per_second"]
    rows.append((f"{label} 1 row, c32 through the gateway: requests/s with mutual TLS / plain between processes ({on['requests_per_second']:,.0f} / {off['requests_per_second']:,.0f})",
                 f"{ratio:.3f}", "report (close to 1)", None))
    rows.append((f"{label} p99 with mutual TLS - plain ({on['p99_ms']:.2f} - {off['p99_ms']:.2f} ms)", f"{on['p99_ms'] - off['p99_ms']:+.2f} ms", "report", None))
    rows.append((f"{label} failed requests (non-2xx, socket errors), both arms", f"{sum(x['non_2xx'] + x['socket_errors'] for x in (on, off))}", "0",
                 on["non_2xx"] + on["socket_errors"] + off["non_2xx"] + off["socket_errors"] == 0))
total = sum(r[f"{s}_mtls"]["requests"] for s in ("predict", "infer"))
rows.append((f"gateway connections to serving open after {total:,} requests with mutual TLS (plain: {connections['plain']})", f"{connections['mtls']}",
             "reused (far fewer than requests)", connections["mtls"] < total / 1000))
publish("mtls", f"Mutual TLS between the microservices' processes, wrk 1 thread pinned to the last core, {os.environ.get('DURATION', '10s')} per run, loopback; medians of {count} "
        f"alternating rounds; both arms authenticate with an API key; {machine()}.", rows, {"runs": r, "connections": connections})
