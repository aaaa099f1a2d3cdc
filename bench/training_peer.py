"""The scikit-learn side of bench/training.sh (run with Debian's /usr/bin/python3 and python3-sklearn).

  prepare DIR      writes DIR/{seed,breast_cancer}-{train,test}.csv (header f0..fN-1,label): the seed-style dataset
                   (age, income; target = income / age > 2500 with 10% label noise) at ROWS rows, and scikit-learn's
                   bundled breast-cancer data; one stratified 80/20 split each (random_state=42), shared by both sides.
  sklearn DIR      RandomForestClassifier(n_estimators=100) (scikit-learn's defaults otherwise: one job), fit on the
                   train file, holdout AUC on the test file; the same with n_jobs=-1 for reference. JSON on stdout.
"""
import json, os, sys, time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

DATASETS = ("seed", "breast_cancer")


def write(path, x, y):
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.10g")


def prepare(out, rows):
    rng = np.random.default_rng(42)
    age = rng.integers(18, 81, rows).astype(np.float64)
    income = rng.integers(10_000, 200_001, rows).astype(np.float64)
    y = ((income / age > 2500) != (rng.random(rows) < 0.1)).astype(np.int64)
    sets = {"seed": (np.column_stack([age, income]), y)}
    cancer = load_breast_cancer()
    sets["breast_cancer"] = (cancer.data, cancer.target)
    for name, (x, y) in sets.items():
        xt, xh, yt, yh = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
        write(os.path.join(out, f"{name}-train.csv"), xt, yt)
        write(os.path.join(out, f"{name}-test.csv"), xh, yh)


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(np.int64)


def measure(out):
    results = {}
    for name in DATASETS:
        xt, yt = load(os.path.join(out, f"{name}-train.csv"))
        xh, yh = load(os.path.join(out, f"{name}-test.csv"))
        for label, jobs in (("sklearn_rf", None), ("sklearn_rf_all_cores", -1)):
            model = RandomForestClassifier(n_estimators=100, n_jobs=jobs, random_state=0)
            start = time.perf_counter()
            model.fit(xt, yt)
            fit = time.perf_counter() - start
            auc = roc_auc_score(yh, model.predict_proba(xh)[:, 1])
            results[f"{name}/{label}"] = {"fit_seconds": fit, "auc": auc, "train_rows": len(yt), "holdout_rows": len(yh)}
            print(f"{name} {label}: fit {fit:.2f} s, AUC {auc:.4f}", file=sys.stderr)
            del model
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "prepare":
        prepare(out, int(os.environ.get("ROWS", "1000000")))
    else:
        measure(out)
