#!/usr/bin/env bash
# The original project's lineup, trained as emo3 models: MobileNetV2, AlexNet, EfficientNetB0
# (LeNet, VGG, ResNet-34 and the ViT come from models/train_zoo.sh). One run after another on
# ONE core (taskset; the other core stays free to build and test), each resumable from its
# folder's per-epoch checkpoint: rerun this script after any stop and it continues where it
# was (finished runs are skipped by `emolens train` itself).
# Widths are scaled to 48x48 faces and to one CPU core (see each model's card).
# Usage: models/train_lineup.sh [DATA_DIR] [OUT_DIR] [CORE] [NAME ...]   (EMOLENS overrides the
# command). NAMEs pick runs (default: all), so two cores can each train part of the
# lineup at once (every model trains ~2x faster on 2 cores, so this costs the same), e.g.
#   models/train_lineup.sh ../shared/data runs 1 alexnet_emo3 efficientnetb0_emo3 &
#   models/train_lineup.sh ../shared/data runs 0 mobilenetv2_emo3 mobilenetv2_emo3_distill &
# Never start the same NAME twice at once: both would write its folder.
set -u
DATA=${1:-../shared/data}
OUT=${2:-runs}
CORE=${3:-1}
EM=${EMOLENS:-emolens}
shift $(( $# < 3 ? $# : 3 ))
WANT=" $* "
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
mkdir -p "$OUT"
run() { local name=$1; shift; [ "$WANT" = "  " ] || [[ "$WANT" == *" $name "* ]] || return 0; taskset -c "$CORE" $EM train --data "$DATA" --out "$OUT/$name" \
          --name "$name" --classes emo3 --batch-size 128 --lr 3e-3 --patience 40 "$@" \
          >>"$OUT/$name.log" 2>&1; echo "$name exit $?"; }

run alexnet_emo3 --arch alexnet --epochs 20 --arch-kwargs '{"width": 0.5}'
# BatchNorm momentum 0.99: keras.applications' 0.999 left validation at one class for 9 epochs.
# input_scale 1.5: faces resized to 72x72 inside the model, so the stride-32 backbones end on a
# 3x3 grid; at 48x48 (2x2) MobileNetV2 was at 50% validation accuracy after 17 of 25 epochs.
run mobilenetv2_emo3 --arch mobilenetv2 --epochs 25 \
    --arch-kwargs '{"alpha": 0.5, "bn_momentum": 0.99, "input_scale": 1.5}'
# Second stage: mobilenetv2_emo3 underfitted (training accuracy 0.57 under CutMix on half the
# batches; 63.1% on PublicTest), so 12 more epochs from its weights with lighter CutMix and
# targets half from the default model's probabilities (offline distillation).
run mobilenetv2_emo3_distill --arch mobilenetv2 --epochs 12 --lr 1e-3 --warmup-epochs 1 \
    --mix-prob 0.2 --teacher "$OUT/vgg_emo3_lowmix/vgg_emo3_lowmix.keras" --distill 0.5 \
    --init "$OUT/mobilenetv2_emo3/mobilenetv2_emo3.keras"
# EfficientNetB0 at width 0.5 (1.1M backbone parameters instead of 4.1M), batch 64 (twice the
# updates per epoch: the depthwise nets learn slowly per step), half the targets from
# vgg_emo3_lowmix (models/train_zoo.sh trains it into OUT). A first try with CutMix on 20% of
# batches and B0's stochastic depth (0.2) underfitted: 61.4% after 20 epochs with training accuracy level with validation (0.59); its
# files were lost with a session's checkout before a second stage ended. So: no CutMix and no
# stochastic depth, one run.
run efficientnetb0_emo3 --arch efficientnetb0 --epochs 18 --batch-size 64 --lr 2e-3 \
    --warmup-epochs 1 --mix none --teacher "$OUT/vgg_emo3_lowmix/vgg_emo3_lowmix.keras" --distill 0.5 \
    --arch-kwargs '{"width": 0.5, "input_scale": 1.5, "drop_connect": 0.0}'
# Second stage: 20 more epochs from its weights at half the peak learning rate, same targets
# (stage 1 ended at 61.7% with training accuracy 0.62; this one at 70.5%).
run efficientnetb0_emo3_distill --arch efficientnetb0 --epochs 20 --batch-size 64 --lr 1e-3 \
    --warmup-epochs 1 --mix none --teacher "$OUT/vgg_emo3_lowmix/vgg_emo3_lowmix.keras" --distill 0.5 \
    --init "$OUT/efficientnetb0_emo3/efficientnetb0_emo3.keras"
# The bundled lineup: each last stage with its BatchNorm statistics recomputed on the training
# images (PreciseBN: no training, a few minutes each; see the cards). EfficientNetB0 trained in
# batches of 64, so its statistics are taken over batches of 64.
pbn() { local name=$1 from=$2; shift 2; [ "$WANT" = "  " ] || [[ "$WANT" == *" $name "* ]] || return 0
        taskset -c "$CORE" $EM soup --models "$OUT/$from/$from.keras" --out "$OUT/$name" \
          --name "$name" --data "$DATA" --precise-bn "$@" >>"$OUT/$name.log" 2>&1; echo "$name exit $?"; }
pbn alexnet_emo3_pbn alexnet_emo3
pbn mobilenetv2_emo3_pbn mobilenetv2_emo3_distill
pbn efficientnetb0_emo3_pbn efficientnetb0_emo3_distill --bn-batch-size 64
