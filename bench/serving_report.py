"""Turns the outputs of bench/serving.sh into bench/results/serving-<stamp>.{json,md} and the block in bench/README.md."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish, wrk_rounds  # noqa: E402

work = sys.argv[1]
# A measurement run several times (name.wrk, name~2.wrk, ...) is reported as each figure's median over its rounds.
rounds, runs, round_count = wrk_rounds(work)
inproc = json.load(open(os.path.join(work, "inprocess.json")))
rss_one = float(open(os.path.join(work, "rss_one_model.txt")).read())
rss_loaded = float(open(os.path.join(work, "rss_one_model_after_load.txt")).read())
rss_ten = float(open(os.path.join(work, "rss_ten_models.txt")).read())
ten = json.load(open(os.path.join(work, "ten_models.json")))["models"]
swaps = len(open(os.path.join(work, "swaps.txt")).read().split()) if os.path.exists(os.path.join(work, "swaps.txt")) else 0
swaps_logged = int(open(os.path.join(work, "swaps_logged.txt")).read().strip() or 0)

r = runs
# The bare Kestrel ceiling: the mean of the runs before and after Strata's.
for name in ("bare_predict_c32", "bare_infer1_c32", "bare_infer1_c1"):
    before, after = r[name + "_before"], r[name + "_after"]
    r[name] = {k: (before[k] + after[k]) / 2 for k in before}
fails = lambda x: x["non_2xx"] + x["socket_errors"]
overhead_ms = r["infer1_c1"]["p50_ms"] - inproc["score_p50_us"] / 1000
rows_per_s = {1: r["infer1_c32"]["requests_per_second"], 32: r["infer32_c32"]["requests_per_second"] * 32,
              1024: r["infer1024_c8"]["requests_per_second"] * 1024}
rows = [
    (f"`/v2/models/seed/infer` 1 row, c32: requests/s (bare Kestrel, same V2 JSON: {r['bare_infer1_c32']['requests_per_second']:,.0f}, mean of {r['bare_infer1_c32_before']['requests_per_second']:,.0f} before and {r['bare_infer1_c32_after']['requests_per_second']:,.0f} after)",
     f"{r['infer1_c32']['requests_per_second']:,.0f} = {r['infer1_c32']['requests_per_second'] / r['bare_infer1_c32']['requests_per_second']:.2f} of bare",
     ">= 0.50 of bare", r["infer1_c32"]["requests_per_second"] >= 0.5 * r["bare_infer1_c32"]["requests_per_second"]),
    (f"`/predict` 1 row, c32: requests/s (bare Kestrel, same JSON: {r['bare_predict_c32']['requests_per_second']:,.0f}, mean of {r['bare_predict_c32_before']['requests_per_second']:,.0f} and {r['bare_predict_c32_after']['requests_per_second']:,.0f})",
     f"{r['predict_c32']['requests_per_second']:,.0f} = {r['predict_c32']['requests_per_second'] / r['bare_predict_c32']['requests_per_second']:.2f} of bare",
     ">= 0.50 of bare", r["predict_c32"]["requests_per_second"] >= 0.5 * r["bare_predict_c32"]["requests_per_second"]),
    (f"p99 at c32: infer / predict (bare Kestrel: {r['bare_infer1_c32']['p99_ms']:.2f} / {r['bare_predict_c32']['p99_ms']:.2f} ms)",
     f"{r['infer1_c32']['p99_ms']:.2f} / {r['predict_c32']['p99_ms']:.2f} ms", "<= 2 ms",
     max(r["infer1_c32"]["p99_ms"], r["predict_c32"]["p99_ms"]) <= 2),
    ("prediction log at one in ten (default one in a hundred): infer 1 row, c32: requests/s, p99",
     f"{r['infer1_c32_log10']['requests_per_second']:,.0f}, {r['infer1_c32_log10']['p99_ms']:.2f} ms", "-", None),
    (f"`/predict` vs the seed's Flask + scikit-learn ({r['flask_c32']['requests_per_second']:,.0f} requests/s)",
     f"{r['predict_c32']['requests_per_second'] / r['flask_c32']['requests_per_second']:.0f}x", ">= 100x",
     r["predict_c32"]["requests_per_second"] >= 100 * r["flask_c32"]["requests_per_second"]),
    (f"server overhead: infer p50 at c1 ({r['infer1_c1']['p50_ms']:.3f} ms) - in-process scoring p50 ({inproc['score_p50_us']:.1f} µs); "
     f"bare Kestrel c1 p50 {r['bare_infer1_c1']['p50_ms']:.3f} ms",
     f"{overhead_ms:.3f} ms", "<= 0.2 ms", overhead_ms <= 0.2),
    ("batch throughput, rows/s: 1 row (c32) / 32 rows (c32) / 1024 rows (c8)",
     " / ".join(f"{rows_per_s[n]:,.0f}" for n in (1, 32, 1024)), "-", None),
    ("in-process `Infer`, rows/s: 1 / 32 / 1024 rows (no HTTP)",
     " / ".join(f"{inproc[f'infer_rows_per_second_{n}']:,.0f}" for n in (1, 32, 1024)), "-", None),
    ("64 single-row clients, micro-batching off / on (32 rows, 2 ms): requests/s",
     f"{r['infer1_c64_off']['requests_per_second']:,.0f} / {r['infer1_c64_on']['requests_per_second']:,.0f}", "-", None),
    ("64 single-row clients, micro-batching off / on: p50 / p99 ms",
     f"{r['infer1_c64_off']['p50_ms']:.2f} / {r['infer1_c64_off']['p99_ms']:.2f} vs {r['infer1_c64_on']['p50_ms']:.2f} / {r['infer1_c64_on']['p99_ms']:.2f}", "-", None),
    (f"hot swap: {swaps} alias flips in 12 s of c32 infer ({swaps_logged} swaps logged): failed requests",
     f"{fails(r['hotswap'])} of {r['hotswap']['requests']:,}", "0", fails(r["hotswap"]) == 0 and swaps_logged >= swaps),
    ("hot swap: p99 during the flips (p99 without: {:.2f} ms)".format(r["infer1_c32"]["p99_ms"]), f"{r['hotswap']['p99_ms']:.2f} ms", "-", None),
    (f"RSS serving {len(ten)} forest models, idle, each warmed ({rss_one:.0f} MB with one; {rss_loaded:.0f} MB with one after the load runs)",
     f"{rss_ten:.0f} MB", "<= 300 MB", rss_ten <= 300 and len(ten) == 10),
]
publish("serving", f"Serving, wrk 1 thread pinned to the last core, {os.environ.get('DURATION', '10s')} per run, loopback; single-row c32 figures (Strata and bare Kestrel) are medians of {round_count} runs; model: {inproc['model']} "
        f"({inproc['trees']} trees); {machine()}.", rows,
        {"runs": runs, "rounds": {k: v for k, v in rounds.items() if len(v) > 1}, "in_process": inproc, "rss_mb": {"one_model": rss_one, "one_model_after_load": rss_loaded, "ten_models": rss_ten}, "swaps": swaps, "swaps_logged": swaps_logged})
