#!/usr/bin/env bash
# On a lent GPU machine (the device tool's `run`, from the repository root, .gpu/ carried: see
# models/gpu/prepare.sh). Trains the runs of models/gpu/schedule.sh at once on Keras's JAX
# backend, each with `emolens train --time-limit` so that it writes its model and card (the
# card says where the schedule was cut) before BUDGET seconds are up, and leaves in $OUT one
# tar per run (model, card, state, log; under 16 MiB each, at most 7 runs) and lease.log.
# checkpoint.keras (with the optimizer, ~26 MB for the VGG) stays behind: continue a cut run
# here with `--init runs/gpu/NAME/NAME.keras` (a new schedule), as the first GPU runs were;
# a second call on the still-warm machine continues the runs themselves (WORK is kept).
# --time-limit counts training epochs; loading, the final evaluation and packing share the
# last 90 s, and a run still going a minute past the limit is killed (exit 124, no model).
# Usage: bash models/gpu/lease.sh [BUDGET_S=540] [NAME ...]   (names pick runs; default all)
# PY (python3), SCHEDULE (models/gpu/schedule.sh), DATA (unpack .gpu/fer2013-*.tar.xz) and WHEELS
# (.gpu/wheels; none: use the installed packages) can be set to rehearse it without a GPU.
set -u
BUDGET=${1:-540}
shift $(($# > 0 ? 1 : 0))
WANT=" $* "
T0=$(date +%s)
PY=${PY:-python3}
OUT=${OUT:-/tmp/lease-out}
REPO=$(pwd)
WORK=${WORK:-/tmp/emolens-lease} # runs/ goes here: from the repo root, ./emolens would shadow
mkdir -p "$OUT" "$WORK/runs"   # the installed package (explain/ and models/ map into it)
exec > >(tee "$OUT/lease.log") 2>&1
WHEELS=${WHEELS:-.gpu/wheels}
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  SITE=/tmp/emolens-site
  rm -rf "$SITE" # a second call on a warm machine installs this tree's code, not the last one's
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl &&
    "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile \
      --target "$SITE" . || exit 1
  export PYTHONPATH=$SITE
fi
# Several JAX processes share the GPU: none may take 75% of its memory up front.
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
if [ -z "${DATA:-}" ]; then
  DATA=/tmp/emolens-data
  mkdir -p "$DATA" && tar -xJf .gpu/fer2013-*.tar.xz -C "$DATA" || exit 1
fi
cd "$WORK" || exit 1
"$PY" -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" || exit 1
LIMIT=$((BUDGET - ($(date +%s) - T0) - 90)) # 90 s: final evaluation, saving, packing
echo "$(date -u +%T) training for at most ${LIMIT}s"

pack() {
  local n=$1 files
  files=$(cd runs && ls -d "$n/$n.keras" "$n/$n.json" "$n/$n.md" "$n/state.json" 2>/dev/null)
  tar -cf "$OUT/$n.tar" -C runs "$n.log" $files
}
run() {
  local name=$1
  shift
  [ "$WANT" = "  " ] || [[ "$WANT" == *" $name "* ]] || return 0
  (
    timeout $((LIMIT + 60)) "$PY" -m emolens train --data "$DATA" --out "runs/$name" \
      --name "$name" --time-limit "$LIMIT" "$@" >"runs/$name.log" 2>&1
    rc=$? # 124: the guard killed it a minute past the limit (its tar holds only the log)
    echo "$(date -u +%T) $name exit $rc: $(tail -n 1 "runs/$name.log")"
    pack "$name"
  ) &
  PIDS+=($!)
}
PIDS=()
export INIT_DIR=${INIT_DIR:-$REPO/.gpu/init} # the --init models prepare.sh halved
SCHEDULE=${SCHEDULE:-models/gpu/schedule.sh}
[[ $SCHEDULE == /* ]] || SCHEDULE=$REPO/$SCHEDULE # relative to the repo root, not to WORK
. "$SCHEDULE"
if [ ${#PIDS[@]} -eq 0 ]; then
  echo "no run started: the names asked for ($*) are not in the schedule" && exit 2
fi
wait "${PIDS[@]}" # not a bare `wait`: it would also wait for the tee that logs this script
ls -la "$OUT"
echo "$(date -u +%T) done in $(($(date +%s) - T0))s"
