#!/usr/bin/env bash
# Breast cancer: Strata's model trained on a feature service vs scikit-learn's random forest, same split (see
# bench/breast_cancer.py). Needs python3-sklearn (installed when missing). Writes bench/results/breast-cancer-<stamp>.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
dpkg -s python3-sklearn >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn >/dev/null; }
PY=/usr/bin/python3  # Debian's, which has python3-sklearn (not a pyenv shim)
CSV=$("$PY" -c 'import sklearn.datasets, os; print(os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "breast_cancer.csv"))')
WORK="$(mktemp -d /tmp/strata-bench-breast-cancer-XXXXXX)"
dotnet build src/Strata.Cli -c Release -nologo -v quiet >/dev/null
"$PY" bench/breast_cancer.py "$ROOT" "$WORK" "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll" "$CSV"
