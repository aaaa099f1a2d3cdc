"""Turns the outputs of bench/training.sh into bench/results/training-<stamp>.{json,md} and the table in bench/README.md."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish  # noqa: E402

work = sys.argv[1]
strata = json.load(open(os.path.join(work, "strata.json")))
sklearn = json.load(open(os.path.join(work, "sklearn.json")))
version = open(os.path.join(work, "sklearn_version.txt")).read().strip()
r = {**strata, **sklearn}
rows = []
for name, title in (("seed", "seed-style data"), ("breast_cancer", "breast cancer")):
    peer = r[f"{name}/sklearn_rf"]
    forest = r[f"{name}/strata_fast_forest"]
    size = f"{forest['train_rows']:,} train / {forest['holdout_rows']:,} holdout rows"
    ratio = forest["fit_seconds"] / peer["fit_seconds"]
    rows.append((f"{title} ({size}): Strata forest fit time / scikit-learn RandomForestClassifier(n_estimators=100)",
                 f"{forest['fit_seconds']:.2f} s / {peer['fit_seconds']:.2f} s = {ratio:.2f}x", "<= 0.5x", ratio <= 0.5))
    rows.append((f"{title}: holdout AUC, Strata forest vs scikit-learn",
                 f"{forest['auc']:.4f} vs {peer['auc']:.4f} ({forest['auc'] - peer['auc']:+.4f})", ">= -0.005", forest["auc"] >= peer["auc"] - 0.005))
    for key, label in (("strata_lightgbm", "Strata LightGBM (100 iterations, one thread)"), ("sklearn_rf_all_cores", "scikit-learn forest, n_jobs=-1")):
        m = r[f"{name}/{key}"]
        rows.append((f"{title}: {label}: fit time, AUC", f"{m['fit_seconds']:.2f} s, {m['auc']:.4f}", "-", None))
header = (f"Training, Strata (ML.NET) vs scikit-learn {version} on the same split of the same rows, 100 trees each; "
          f"{machine()}. Fit time only (scoring and evaluation excluded on both sides).")
publish("training", header, rows, {"strata": strata, "sklearn": sklearn, "sklearn_version": version})
