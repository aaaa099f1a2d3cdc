#!/usr/bin/env python3
"""Breast cancer, Strata vs scikit-learn on the same split (bench/breast_cancer.sh runs this).

The Wisconsin data Debian's python3-sklearn ships, split by samples/breast-cancer/prepare.py (train: patient_id % 5 != 0,
455 patients; test: the other 114). Strata (`strata up`, monolith, Release): the tumours dataset, the sample's feature
repository applied over the export, a model trained on the `diagnosis` feature service from the diagnoses label dataset
(point-in-time), scored on the test patients by id through V2 infer. scikit-learn: the same 30 measurements (and the
three on-demand features, computed the same way) of the same train patients, scored on the same test patients.
Both forests: 100 trees. Reports test AUC for each, and Strata's own holdout AUC (its internal split of the train set)."""
import csv, json, os, subprocess, sys, time, urllib.request
from datetime import datetime, timezone

root, work, dll, source = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seed = int(os.environ.get("SEED", "1"))
sample = os.path.join(root, "samples", "breast-cancer")
subprocess.run([sys.executable, os.path.join(sample, "prepare.py"), source, work], check=True)

def call(url, body=None, content_type="application/json", method=None):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"), headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")

import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
base = f"http://127.0.0.1:{port}"
proc = subprocess.Popen(["dotnet", dll, "up", "-p", str(port), "-d", os.path.join(work, "data")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/health/ready", timeout=2); break
        except Exception:
            time.sleep(0.2)
    call(base + "/api/data/datasets/tumours", open(os.path.join(work, "tumours.csv"), "rb").read(), "text/csv")
    export = urllib.request.urlopen(base + "/api/features/definitions").read().decode()
    started = time.perf_counter()
    applied = call(base + "/api/features/apply", {"files": [{"name": "current.json", "content": export},
                                                            {"name": "features.yaml", "content": open(os.path.join(sample, "features.yaml")).read()}]})
    apply_ms = (time.perf_counter() - started) * 1000
    for _ in range(300):
        online = call(base + "/api/features/get-online-features", {"entities": {"patient_id": [0, 568]}, "feature_service": "diagnosis"})
        if all(s == "PRESENT" for s in online["results"][1]["statuses"]): break
        time.sleep(0.2)
    call(base + "/api/data/datasets/diagnoses", open(os.path.join(work, "diagnoses.csv"), "rb").read(), "text/csv")
    started = time.perf_counter()
    trained = call(base + "/api/training/train", {"dataset": "diagnoses", "feature_service": "diagnosis", "label": "malignant",
                                                 "model": "tumour", "trainer": "fast_forest", "trees": 100, "seed": seed})
    train_s = time.perf_counter() - started
    test = [(int(r["patient_id"]), int(r["malignant"])) for r in csv.DictReader(open(os.path.join(work, "test.csv")))]
    for _ in range(100):
        try:
            infer = call(base + "/v2/models/tumour/infer", {"inputs": [{"name": "patient_id", "datatype": "INT64", "shape": [len(test)], "data": [t[0] for t in test]}]})
            break
        except Exception:
            time.sleep(0.2)
    strata_scores = next(o for o in infer["outputs"] if o["name"] == "probability")["data"]
    feature_names = call(base + f"/api/registry/models/tumour/versions/{trained['version']}")["feature_names"]
finally:
    proc.terminate(); proc.wait(timeout=30)

from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
tumours = {int(r["patient_id"]): r for r in csv.DictReader(open(os.path.join(work, "tumours.csv")))}
def row(pid):
    t = {k: float(v) for k, v in tumours[pid].items() if k not in ("patient_id", "event_timestamp")}
    t["radius_growth"] = t["worst_radius"] / t["mean_radius"]
    t["compactness_ratio"] = t["mean_area"] / (3.14159 * t["mean_radius"] ** 2)
    t["concave_flag"] = 1.0 if t["worst_concave_points"] > 0.15 else 0.0
    return [t[n] for n in feature_names]
train = [(int(r["patient_id"]), int(r["malignant"])) for r in csv.DictReader(open(os.path.join(work, "diagnoses.csv")))]
forest = RandomForestClassifier(n_estimators=100, random_state=seed).fit([row(p) for p, _ in train], [y for _, y in train])
sk_scores = forest.predict_proba([row(p) for p, _ in test])[:, 1]
labels = [y for _, y in test]
result = {
    "split": {"train": len(train), "test": len(test)},
    "strata": {"trainer": "fast_forest", "trees": 100, "test_auc": round(roc_auc_score(labels, strata_scores), 4),
               "holdout_auc": round(trained["metrics"]["auc"], 4), "train_seconds": round(train_s, 2), "apply_ms": round(apply_ms, 1)},
    "sklearn": {"model": "RandomForestClassifier(n_estimators=100)", "test_auc": round(roc_auc_score(labels, sk_scores), 4)},
}
stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
json.dump(result, open(os.path.join(root, "bench", "results", f"breast-cancer-{stamp}.json"), "w"), indent=2)
print(json.dumps(result, indent=2))
