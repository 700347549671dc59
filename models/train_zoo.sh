#!/usr/bin/env bash
# Trains every bundled model of the zoo, in parallel, each resumable from its folder's
# per-epoch checkpoint (rerun to continue).
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
# Hybrid ViT: a VGG-like conv stem to a 6x6 token grid, 4 attention blocks (see its card).
run vit_hybrid_emo3 --arch vit --classes emo3 --epochs 22 --batch-size 128 --lr 1e-3 \
    --weight-decay 0.05 --warmup-epochs 2 --patience 40 --arch-kwargs \
    '{"stem":"conv","patch_size":8,"dim":192,"depth":4,"heads":6,"mlp_dim":384,"stem_widths":[32,64,128,192],"stem_depth":2}' &
(
  run vgg_fer7 --arch vgg --classes fer7 --epochs 30 "${CNN[@]}" &&
  run vgg_fer7_anneal --arch vgg --classes fer7 --epochs 5 --batch-size 128 --lr 5e-4 \
      --warmup-epochs 0 --patience 40 --unfreeze-from block1_conv1_conv \
      --init "$OUT/vgg_fer7/vgg_fer7.keras" &&
  run vgg_fer7_acc --arch vgg --classes fer7 --epochs 11 --batch-size 128 --lr 7e-4 \
      --warmup-epochs 1 --no-class-weights --mix-prob 0.25 --patience 40 \
      --unfreeze-from block1_conv1_conv --init "$OUT/vgg_fer7_anneal/vgg_fer7_anneal.keras" &&
  # lighter augmentation (rotation up to 14 degrees, CutMix on 10%): every earlier VGG underfit
  run vgg_fer7_lightaug --arch vgg --classes fer7 --epochs 11 --batch-size 128 --lr 1e-3 \
      --warmup-epochs 1 --mix-prob 0.1 --rotation 0.04 --no-class-weights --patience 40 \
      --unfreeze-from block1_conv1_conv --init "$OUT/vgg_fer7_acc/vgg_fer7_acc.keras" &&
  run vgg_fer7_lightaug2 --arch vgg --classes fer7 --epochs 7 --batch-size 128 --lr 7e-4 \
      --warmup-epochs 1 --mix-prob 0.1 --rotation 0.04 --no-class-weights --patience 40 \
      --unfreeze-from block1_conv1_conv --init "$OUT/vgg_fer7_lightaug/vgg_fer7_lightaug.keras"
) &
run_anneal() {  # second stage of vgg_emo3 (see its card)
  run vgg_emo3_anneal --arch vgg --classes emo3 --epochs 6 --batch-size 128 --lr 4e-4 \
      --warmup-epochs 0 --patience 40 --unfreeze-from block1_conv1_conv \
      --init "$OUT/vgg_emo3/vgg_emo3.keras"
}
wait
run_anneal
# third stage: lighter CutMix (see vgg_emo3_lowmix's card)
run vgg_emo3_lowmix --arch vgg --classes emo3 --epochs 10 --batch-size 128 --lr 3e-4 \
    --warmup-epochs 1 --mix-prob 0.2 --patience 40 --unfreeze-from block1_conv1_conv \
    --init "$OUT/vgg_emo3_anneal/vgg_emo3_anneal.keras"
# fourth stage: lighter augmentation (rotation up to 14 degrees, CutMix on 10%)
run vgg_emo3_lightaug --arch vgg --classes emo3 --epochs 12 --batch-size 128 --lr 1e-3 \
    --warmup-epochs 1 --mix-prob 0.1 --rotation 0.04 --patience 40 \
    --unfreeze-from block1_conv1_conv --init "$OUT/vgg_emo3_lowmix/vgg_emo3_lowmix.keras"
# Then two GPU leases: models/gpu/schedule.sh continues this script's vgg_emo3_lightaug and
# vgg_fer7_lightaug2 (vgg_emo3_gpu_cont, vgg_fer7_gpu_cont_hi) and trains vit_hybrid_emo3_gpu;
# models/gpu/schedule_round2.sh continues those VGGs again (the bundled soups below average its
# runs). Run there by models/gpu/lease.sh (or here, slowly); models/gpu/collect.sh unpacks
# their runs into $OUT/gpu.
G=$OUT/gpu
# After the first lease: a lighter-augmentation continuation of vit_hybrid_emo3_gpu (see its card),
run vit_hybrid_emo3_light --arch vit --classes emo3 --epochs 8 --batch-size 128 --lr 3e-4 \
    --weight-decay 0.05 --warmup-epochs 1 --mix-prob 0.1 --rotation 0.04 --patience 40 \
    --init "$G/vit_hybrid_emo3_gpu/vit_hybrid_emo3_gpu.keras"
# then the bundled ViT: that continued with half of each target from three emo3 CNNs
run vit_hybrid_emo3_kd --arch vit --classes emo3 --epochs 12 --batch-size 128 --lr 3e-4 \
    --weight-decay 0.05 --warmup-epochs 1 --mix-prob 0.1 --rotation 0.04 --patience 40 \
    --teacher "$G/vgg_emo3_gpu_cont/vgg_emo3_gpu_cont.keras,$G/vgg_emo3_gpu/vgg_emo3_gpu.keras,$OUT/resnet34_emo3/resnet34_emo3.keras" \
    --distill 0.5 --init "$OUT/vit_hybrid_emo3_light/vit_hybrid_emo3_light.keras"
# After the second lease: the bundled emo3 VGG, the weight average of vgg_emo3_gpu_cont and its
# two continuations (see its card).
$EM soup --models "$G/vgg_emo3_gpu2/vgg_emo3_gpu2.keras,$G/vgg_emo3_gpu2_lo/vgg_emo3_gpu2_lo.keras,$G/vgg_emo3_gpu_cont/vgg_emo3_gpu_cont.keras" \
    --out "$OUT/vgg_emo3_soup" --name vgg_emo3_soup --data "$DATA" >"$OUT/vgg_emo3_soup.log" 2>&1
echo "vgg_emo3_soup exit $?"
# the greedy weight average of vgg_fer7_gpu_cont_hi and its four round-2 continuations,
# BatchNorm statistics recomputed on the training images (see its card, in docs/model_history)
F=vgg_fer7_gpu2
$EM soup --models "$G/${F}_mix/${F}_mix.keras,$G/${F}_lo/${F}_lo.keras,$G/$F/$F.keras,$G/vgg_fer7_gpu_cont_hi/vgg_fer7_gpu_cont_hi.keras,$G/${F}_fp/${F}_fp.keras" \
    --out "$OUT/vgg_fer7_soup" --name vgg_fer7_soup --data "$DATA" --greedy --precise-bn \
    >"$OUT/vgg_fer7_soup.log" 2>&1
echo "vgg_fer7_soup exit $?"
# then the bundled fer7 VGG: that soup trained one more epoch (its learning rate warming up to
# 1e-3), BatchNorm statistics recomputed (see its card)
run vgg_fer7_soup_ft --arch vgg --classes fer7 --epochs 1 --warmup-epochs 1 --batch-size 128 \
    --lr 1e-3 --rotation 0.04 --no-class-weights --patience 200 --precise-bn \
    --unfreeze-from block1_conv1_conv --init "$OUT/vgg_fer7_soup/vgg_fer7_soup.keras"
# The bundled ViT, ResNet-34 and LeNet: those runs with their BatchNorm statistics recomputed
# on the training images (PreciseBN, no training; see their cards)
for pair in vit_hybrid_emo3_kd:vit_hybrid_emo3_pbn resnet34_emo3:resnet34_emo3_pbn \
    lenet_emo3:lenet_emo3_pbn; do
  from=${pair%:*} name=${pair#*:}
  $EM soup --models "$OUT/$from/$from.keras" --out "$OUT/$name" --name "$name" \
      --data "$DATA" --precise-bn >"$OUT/$name.log" 2>&1
  echo "$name exit $?"
done
# Transfer learning and fine-tuning (LeNet and VGG): models/train_transfer.sh
