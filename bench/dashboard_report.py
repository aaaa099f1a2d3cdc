"""Summarises bench/dashboard.sh: per page the browser's load time (p50, p95), the server's answer, and the API peer."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchreport

work, runs, versions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pages = json.load(open(os.path.join(work, "dashboard.json")))
loads = pages[0]["loads"]
header = (f"Dashboard pages in chromium (Playwright, headless) on a monolith whose registry holds {versions:,} versions of one model "
          f"and {runs:,} runs (50 metrics each); {loads} loads per page after 2 warm-ups; {benchreport.machine()}. "
          "Load: navigation start to the load event (HTML parsed, styles applied, scripts run, charts drawn); "
          "response: the page's HTML received; API: the JSON of the same data over HTTP (the peer).")
rows = []
for p in pages:
    rows.append((f"{p['name']} ({p['html_bytes'] / 1024:,.0f} KiB): load p50 / p95",
                 f"{p['load_p50_ms']:.0f} / {p['load_p95_ms']:.0f} ms", "p95 <= 500 ms", p["load_p95_ms"] <= 500))
    rows.append((f"{p['name']}: response p50; API p50; response / API",
                 f"{p['response_p50_ms']:.1f} ms; {p['api_p50_ms']:.1f} ms; {p['response_p50_ms'] / max(p['api_p50_ms'], 0.01):.2f}", "-", None))
benchreport.publish("dashboard", header, rows, {"runs": runs, "versions": versions, "pages": pages})
