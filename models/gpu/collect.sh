#!/usr/bin/env bash
# Here, after a lent GPU machine's `run` call (see models/gpu/prepare.sh): puts the bundled
# weights back into git's index, then unpacks the call's files (one tar per run and lease.log)
# into runs/gpu/ and prints each run's card line. Safe to run twice, or with no FILES_AT.
# Usage: models/gpu/collect.sh [FILES_AT]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
git reset -q -- models/weights
sed -i '\#^/models/weights/$#d' .git/info/exclude 2>/dev/null || true
if [ -f .gpu/INDEX_OUT ]; then # the commit guard that prepare.sh installed
  [ "$(cat .gpu/INDEX_OUT)" != hook ] || rm -f "$(git rev-parse --git-path hooks)/pre-commit"
  rm -f .gpu/INDEX_OUT
fi
git status --short models/weights | grep . && echo "models/weights differs from HEAD: check it"
[ $# -ge 1 ] || exit 0
mkdir -p runs/gpu
cp "$1"/lease.log runs/gpu/ 2>/dev/null || true
for t in "$1"/*.tar; do
  [ -e "$t" ] || continue
  tar -xf "$t" -C runs/gpu
done
for run in runs/gpu/*/; do
  card=$run$(basename "$run").json # a run cut before its first epoch has only state.json
  [ -e "$card" ] || { echo "$(basename "$run"): no model (see runs/gpu/$(basename "$run").log)"; continue; }
  python3 - "$card" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
m = c.get("test") or c["validation"]
print(f"{c['name']}: {m['accuracy']:.4f} ({'test' if c.get('test') else 'val'}) | {c['training']}")
PY
done
