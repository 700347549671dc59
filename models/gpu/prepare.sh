#!/usr/bin/env bash
# Here, right before a lent GPU machine's `run` call (the device tool). That machine has JAX and
# no TensorFlow or Keras, and a call carries at most 64 MiB of working tree. This puts into
# .gpu/ (ignored by git) what it lacks: Keras 3 and the two of its needs missing there, as
# Python 3.12 wheels, and the FER2013 npz files re-packed to ~57 MB (models/gpu/pack_data.py;
# never commit them). The bundled weights (models/weights) would push the tree past 64 MiB, so
# they leave git's index for the call (the files stay on disk); models/gpu/collect.sh puts them
# back. Run collect.sh even when the call fails.
# Usage: models/gpu/prepare.sh [DATA_DIR=../shared/data] [emo3|fer7 = fer7]
# Then:  run(command="bash models/gpu/lease.sh 540", carry=[".gpu"], timeout_s=600)
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
[ -f .gpu/fer2013.tar.xz ] ||
  "$PY" models/gpu/pack_data.py "$DATA" .gpu/fer2013.tar.xz --classes "$CLASSES"
git rm -r -q --cached --ignore-unmatch models/weights
grep -qxF '/models/weights/' "$EXCLUDE" || echo '/models/weights/' >>"$EXCLUDE"
tree=$({ git ls-files -z; git ls-files -z --others --exclude-standard; } |
  xargs -0 du -cb 2>/dev/null | awk '/\ttotal$/ {n += $1} END {print n + 0}')
gpu=$(du -sb .gpu | cut -f1)
echo "travels: the working tree $((tree / 1048576)) MiB + .gpu $((gpu / 1048576)) MiB (limit 64 MiB)"
[ $((tree + gpu)) -lt $((64 * 1048576)) ] || { echo "too large: run models/gpu/collect.sh"; exit 1; }
echo 'now: run(command="bash models/gpu/lease.sh 540", carry=[".gpu"], timeout_s=600)'
echo 'then (always): models/gpu/collect.sh FILES_AT'
