#!/usr/bin/env bash
# Transfer learning and fine-tuning as the original project did, offline, for two
# architectures: pretrain on fer7, transfer to emo3 with a frozen backbone, then fine-tune.
# Usage: models/train_transfer.sh [DATA_DIR] [OUT_DIR]   (EMOLENS overrides the command)
# The VGG chain starts from vgg_fer7_anneal, which models/train_zoo.sh and that model's card make.
set -eu
DATA=${1:-../shared/data}
OUT=${2:-runs}
EM=${EMOLENS:-emolens}
COMMON=(--data "$DATA" --batch-size 128 --patience 40)

# LeNet: pretrain on fer7, frozen transfer, fine-tune.
$EM train "${COMMON[@]}" --arch lenet --classes fer7 --epochs 30 --lr 3e-3 \
    --out "$OUT/lenet_fer7" --name lenet_fer7
$EM train "${COMMON[@]}" --arch lenet --classes emo3 --epochs 10 --lr 3e-3 --freeze \
    --init "$OUT/lenet_fer7/lenet_fer7.keras" --out "$OUT/lenet_emo3_transfer" --name lenet_emo3_transfer
$EM train "${COMMON[@]}" --arch lenet --classes emo3 --epochs 20 --lr 5e-4 --warmup-epochs 0 \
    --unfreeze-from conv1 --init "$OUT/lenet_emo3_transfer/lenet_emo3_transfer.keras" \
    --out "$OUT/lenet_emo3_finetune" --name lenet_emo3_finetune
# The bundled fine-tuned LeNet: its BatchNorm statistics recomputed on the emo3 training images
# (PreciseBN, no training). Not the frozen transfer model: its head was fit to the fer7
# statistics of its frozen backbone, and recomputing them costs it 5.8 validation points.
$EM soup --models "$OUT/lenet_emo3_finetune/lenet_emo3_finetune.keras" --data "$DATA" \
    --out "$OUT/lenet_emo3_finetune_pbn" --name lenet_emo3_finetune_pbn --precise-bn

# VGG: from the fer7 VGG, frozen transfer (new emo3 head), then fine-tune every layer.
$EM train "${COMMON[@]}" --arch vgg --classes emo3 --epochs 3 --lr 3e-3 --warmup-epochs 0 \
    --freeze --init "$OUT/vgg_fer7_anneal/vgg_fer7_anneal.keras" \
    --out "$OUT/vgg_emo3_transfer" --name vgg_emo3_transfer
$EM train "${COMMON[@]}" --arch vgg --classes emo3 --epochs 14 --lr 1e-3 --warmup-epochs 1 \
    --unfreeze-from block1_conv1_conv --init "$OUT/vgg_emo3_transfer/vgg_emo3_transfer.keras" \
    --out "$OUT/vgg_emo3_finetune" --name vgg_emo3_finetune
