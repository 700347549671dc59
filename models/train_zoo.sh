#!/usr/bin/env bash
# Trains every bundled model of the zoo, in parallel, each resumable (rerun to continue).
# Usage: models/train_zoo.sh [DATA_DIR] [OUT_DIR]     (EMOLENS overrides the command)
# The bundled weights were made with exactly these commands (see each model card).
set -u
DATA=${1:-../shared/data}
OUT=${2:-runs}
EM=${EMOLENS:-emolens}
mkdir -p "$OUT"
run() { local name=$1; shift; $EM train --data "$DATA" --out "$OUT/$name" --name "$name" "$@" \
          >"$OUT/$name.log" 2>&1; echo "$name exit $?"; }
CNN=(--batch-size 128 --lr 3e-3 --patience 40)

run vgg_emo3 --arch vgg --classes emo3 --epochs 60 "${CNN[@]}" &
run resnet34_emo3 --arch resnet34 --classes emo3 --epochs 50 "${CNN[@]}" &
run lenet_emo3 --arch lenet --classes emo3 --epochs 30 "${CNN[@]}" &
run vit_emo3 --arch vit --classes emo3 --epochs 60 --batch-size 128 --lr 1e-3 \
    --weight-decay 0.05 --warmup-epochs 5 --patience 60 &
(
  run vgg_fer7 --arch vgg --classes fer7 --epochs 30 "${CNN[@]}" &&
  run vgg_emo3_transfer --arch vgg --classes emo3 --epochs 5 "${CNN[@]}" --freeze \
      --init "$OUT/vgg_fer7/vgg_fer7.keras" &&
  run vgg_emo3_finetune --arch vgg --classes emo3 --epochs 10 --batch-size 128 --lr 3e-4 \
      --warmup-epochs 1 --patience 40 --unfreeze-from block1_conv1_conv \
      --init "$OUT/vgg_emo3_transfer/vgg_emo3_transfer.keras"
) &
wait
