#!/usr/bin/env bash
# Here, after a lent GPU machine's `run` call (see models/gpu/prepare.sh): puts the bundled
# weights back into git's index, then unpacks the call's files (one tar per run and lease.log)
# into runs/gpu/ and prints each run's card line. Safe to run twice, or with no FILES_AT.
# Usage: models/gpu/collect.sh [FILES_AT]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
git reset -q -- models/weights
sed -i '\#^/models/weights/$#d' .git/info/exclude 2>/dev/null || true
git status --short models/weights | grep . && echo "models/weights differs from HEAD: check it"
[ $# -ge 1 ] || exit 0
mkdir -p runs/gpu
cp "$1"/lease.log runs/gpu/ 2>/dev/null || true
for t in "$1"/*.tar; do
  [ -e "$t" ] || continue
  tar -xf "$t" -C runs/gpu
done
for card in runs/gpu/*/*.json; do
  [ -e "$card" ] || continue
  python3 - "$card" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
m = c.get("test") or c["validation"]
print(f"{c['name']}: {m['accuracy']:.4f} ({'test' if c.get('test') else 'val'}) | {c['training']}")
PY
done
