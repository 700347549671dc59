#!/usr/bin/env bash
# Transfer learning and fine-tuning as the original project did, offline (LeNet, emo3):
# pretrain on fer7, transfer to emo3 with a frozen backbone, then fine-tune everything.
# Usage: models/train_transfer.sh [DATA_DIR] [OUT_DIR]   (EMOLENS overrides the command)
set -eu
DATA=${1:-../shared/data}
OUT=${2:-runs}
EM=${EMOLENS:-emolens}
COMMON=(--data "$DATA" --arch lenet --batch-size 128 --patience 40)
$EM train "${COMMON[@]}" --classes fer7 --epochs 30 --lr 3e-3 \
    --out "$OUT/lenet_fer7" --name lenet_fer7
$EM train "${COMMON[@]}" --classes emo3 --epochs 10 --lr 3e-3 --freeze \
    --init "$OUT/lenet_fer7/lenet_fer7.keras" --out "$OUT/lenet_emo3_transfer" --name lenet_emo3_transfer
$EM train "${COMMON[@]}" --classes emo3 --epochs 20 --lr 5e-4 --warmup-epochs 0 \
    --unfreeze-from conv1 --init "$OUT/lenet_emo3_transfer/lenet_emo3_transfer.keras" \
    --out "$OUT/lenet_emo3_finetune" --name lenet_emo3_finetune
