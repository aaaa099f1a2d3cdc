"""Turns the outputs of bench/soak.sh into bench/results/soak-<stamp>.{json,md} and the block in bench/README.md."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish, wrk  # noqa: E402

work, minutes = sys.argv[1], int(sys.argv[2])
windows = [wrk(os.path.join(work, n)) for n in sorted(os.listdir(work)) if n.startswith("minute-") and n.endswith(".wrk")]
rss = [int(line.split()[1]) for line in open(os.path.join(work, "rss.txt"))]
writers = {}
for name in ("pushes", "publishes", "trainings"):
    lines = [l.strip() for l in open(os.path.join(work, f"{name}.txt")) if l.strip()]
    writers[name] = {"ok": sum(1 for l in lines if l == "ok"), "errors": [l for l in lines if l != "ok"]}
scoring_errors = sum(w["non_2xx"] + w["socket_errors"] for w in windows)
errors = scoring_errors + sum(len(w["errors"]) for w in writers.values())
warm = rss[1] if len(rss) > 1 else rss[0]
growth = (rss[-1] - warm) / warm
# Readings every 5 s: the median of minutes 2-3 (warm) against the median of the last two minutes.
samples = [tuple(int(x) for x in line.split()) for line in open(os.path.join(work, "rss-samples.txt")) if len(line.split()) == 2]
median = lambda xs: sorted(xs)[len(xs) // 2]
warm_window = [kb for t, kb in samples if 60 <= t < 180]
end_window = [kb for t, kb in samples if t >= minutes * 60 - 120]
warm_median, end_median = median(warm_window), median(end_window)
median_growth = (end_median - warm_median) / warm_median
rows = [
    (f"errors over {minutes} min: scoring {scoring_errors} of {sum(w['requests'] for w in windows):,}; pushes {len(writers['pushes']['errors'])} of "
     f"{writers['pushes']['ok'] + len(writers['pushes']['errors'])}; event batches {len(writers['publishes']['errors'])} of "
     f"{writers['publishes']['ok'] + len(writers['publishes']['errors'])}; trainings {len(writers['trainings']['errors'])} of "
     f"{writers['trainings']['ok'] + len(writers['trainings']['errors'])}", f"{errors}", "0", errors == 0),
    ("`/predict` c16 requests/s per minute", " / ".join(f"{w['requests_per_second']:,.0f}" for w in windows), "-", None),
    ("`/predict` p99 per minute (ms)", " / ".join(f"{w['p99_ms']:.2f}" for w in windows), "-", None),
    (f"RSS growth, median of readings every 5 s: minutes 2-3 ({warm_median / 1024:.0f} MB) to the last two minutes ({end_median / 1024:.0f} MB); "
     f"readings ranged {min(kb for _, kb in samples) / 1024:.0f}-{max(kb for _, kb in samples) / 1024:.0f} MB", f"{median_growth:+.1%}", "<= +5%", median_growth <= 0.05),
    (f"RSS, single readings: end of minute 2 ({warm / 1024:.0f} MB) to the end ({rss[-1] / 1024:.0f} MB)", f"{growth:+.1%}", "-", None),
]
publish("soak", f"Soak, one monolith, {minutes} min of mixed load on loopback (scoring with wrk 1 thread c16 pinned to the last core; pushes, "
        f"event batches of 50, a training every 30 s); {machine()}.", rows, {"windows": windows, "rss_kb": rss, "rss_samples": samples, "writers": writers})
