#!/usr/bin/env bash
# Training comparison with scikit-learn (Debian python3-sklearn), one run on this machine, same rows on both sides:
#   training_peer.py prepare writes the seed-style dataset (ROWS rows, default 1,000,000) and scikit-learn's bundled
#   breast-cancer data, each split once 80/20 (stratified, random_state=42) into train/test CSV files; then
#   Strata's random forest (fast_forest, the default trainer) and LightGBM, 100 trees (bench/Strata.Bench.Training), and
#   scikit-learn's RandomForestClassifier(n_estimators=100) (its defaults: one job; also n_jobs=-1 for reference) fit
#   the train file and are scored on the test file. Fit time (Strata: the whole pipeline, standardisation and
#   calibration included) and holdout AUC side by side. Targets: Strata's forest <= 0.5x scikit-learn's fit time with
#   AUC no more than 0.005 below it.
# Writes bench/results/training-<stamp>.{json,md} and the table in bench/README.md. Runs one side at a time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3 # Debian's, which has python3-sklearn (a pyenv python on PATH does not)
"$PY" -c 'import sklearn' 2>/dev/null || { echo "python3-sklearn is not installed: apt-get install -y python3-sklearn"; exit 1; }
WORK="$(mktemp -d /tmp/strata-bench-training-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
dotnet build bench/Strata.Bench.Training -c Release -nologo -v quiet
"$PY" bench/training_peer.py prepare "$WORK"
dotnet bench/Strata.Bench.Training/bin/Release/net10.0/training-bench.dll "$WORK" > "$WORK/strata.json"
"$PY" bench/training_peer.py sklearn "$WORK" > "$WORK/sklearn.json"
"$PY" -c 'import sklearn; print(sklearn.__version__)' > "$WORK/sklearn_version.txt"
python3 bench/training_report.py "$WORK"
