#!/usr/bin/env bash
# Here, right before a lent GPU machine's `run` call (the device tool). That machine has JAX and
# no TensorFlow or Keras, and a call carries at most 64 MiB of working tree. This puts into
# .gpu/ (ignored by git) what it lacks: Keras 3 and the two of its needs missing there, as
# Python 3.12 wheels; the FER2013 npz files re-packed to 50 MB (models/gpu/pack_data.py; never
# commit them); and the schedule's --init models halved to float16 in .gpu/init. Refuses to
# start when models/weights has staged changes. The bundled weights (models/weights) would push
# the tree past 64 MiB, so they leave git's index for the call (the files stay on disk);
# models/gpu/collect.sh puts them back, and until then a pre-commit hook refuses commits. Run
# collect.sh even when the call fails.
# Usage: [SCHEDULE=models/gpu/schedule.sh] [NO_TEST=1] models/gpu/prepare.sh \
#          [DATA_DIR=../shared/data] [emo3|fer7 = fer7]
# Then:  run(command="bash models/gpu/lease.sh 570", carry=[".gpu"], timeout_s=600)
#        models/gpu/collect.sh FILES_AT
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
DATA=${1:-../shared/data}
CLASSES=${2:-fer7}
PY=${PY:-python3}
EXCLUDE=.git/info/exclude
mkdir -p .gpu/wheels "$(dirname $EXCLUDE)"
grep -qxF '/.gpu/' "$EXCLUDE" 2>/dev/null || echo '/.gpu/' >>"$EXCLUDE"
if ! ls .gpu/wheels/keras-*.whl >/dev/null 2>&1; then
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/wheels keras==3.15.1 namex==0.1.0 optree==0.20.0
fi
# One pack per class set (a fer7 run on an emo3 pack would train on 3 classes' rows).
# NO_TEST=1: no PublicTest in the pack (5 MB less, for a schedule with a third --init model).
PACK=.gpu/fer2013-$CLASSES${NO_TEST:+-notest}.tar.xz
rm -f $(ls .gpu/fer2013-*.tar.xz 2>/dev/null | grep -vxF "$PACK")
[ -f "$PACK" ] ||
  "$PY" models/gpu/pack_data.py "$DATA" "$PACK" --classes "$CLASSES" ${NO_TEST:+--no-test}
# The schedule's --init models ("$INIT/NAME.keras"), halved to float16 (models/gpu/pack_init.py),
# from runs/NAME/ or the bundled weights.
rm -rf .gpu/init
SCHEDULE=${SCHEDULE:-models/gpu/schedule.sh}
for name in $(grep -o 'INIT/[A-Za-z0-9_]*\.keras' "$SCHEDULE" | sed 's#INIT/##; s#\.keras##' | sort -u); do
  src=runs/$name/$name.keras
  [ -f "$src" ] || src=runs/gpu/$name/$name.keras # a run of an earlier lease
  [ -f "$src" ] || src=models/weights/$name.keras
  [ -f "$src" ] || { echo "the schedule starts from $name, found neither in runs/ nor models/weights"; exit 1; }
  "$PY" models/gpu/pack_init.py .gpu/init "$src"
done
git diff --cached --quiet -- models/weights ||
  { echo "models/weights has staged changes: commit or unstage them first"; exit 1; }
# What travels: tracked and untracked-not-ignored files, less the weights, plus .gpu/.
tree=$({ git ls-files -z -- . ':!models/weights'; git ls-files -z --others --exclude-standard; } |
  xargs -0 du -cb 2>/dev/null | awk '/\ttotal$/ {n += $1} END {print n + 0}' || true)
gpu=$(du -sb .gpu | cut -f1)
echo "travels: the working tree $((tree / 1048576)) MiB + .gpu $((gpu / 1048576)) MiB (limit 64 MiB)"
[ $((tree + gpu)) -lt $((64 * 1048576)) ] || { echo "too large for one call"; exit 1; }
git rm -r -q --cached --ignore-unmatch models/weights
grep -qxF '/models/weights/' "$EXCLUDE" || echo '/models/weights/' >>"$EXCLUDE"
# Until collect.sh: a commit would record the weights' deletion, so a hook refuses commits.
HOOK=$(git rev-parse --git-path hooks)/pre-commit
if [ ! -e "$HOOK" ]; then
  mkdir -p "$(dirname "$HOOK")"
  printf '#!/bin/sh\necho "models/weights is out of the index for a GPU lease: run models/gpu/collect.sh first" >&2\nexit 1\n' >"$HOOK"
  chmod +x "$HOOK"
  echo hook >.gpu/INDEX_OUT
else
  echo "WARNING: commit nothing until models/gpu/collect.sh (it restores models/weights)"
  echo nohook >.gpu/INDEX_OUT
fi
echo 'now: run(command="bash models/gpu/lease.sh 570", carry=[".gpu"], timeout_s=600)'
echo 'then (always): models/gpu/collect.sh FILES_AT'
