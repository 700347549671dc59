# The runs of one GPU lease (sourced by models/gpu/lease.sh, which adds --data, --out, --name
# and --time-limit): the schedules that the accuracy targets need and this CPU cannot give.
# All run at once, one JAX process each (16 CPU cores there). The first lease (2026-11, 5 runs
# at once) trained an emo3 VGG epoch in ~5 s and a fer7 one in ~9 s; each schedule below is
# sized to end inside ~7 minutes at those speeds, and --time-limit cuts any that does not (its
# card says where): a cut run comes back as its best epoch. Ran on 2026-12-04 (`lease.sh 570`):
# all six ended within 343 s (emo3 VGG ~3.5 s/epoch, fer7 ~6 s, ViT ~5.5 s); the best three
# are bundled (vgg_emo3_gpu_cont, vgg_fer7_gpu_cont_hi, vit_hybrid_emo3_gpu), and
# schedule_round2.sh continues them on the next lease.
# Rotation up to 14 degrees, not the old default's 36: the CPU continuations with it gained
# 3.3 points on fer7 (vgg_fer7_lightaug, _lightaug2) and 1.4 on emo3 (vgg_emo3_lightaug), and
# every earlier VGG underfit its training set.
# --init from INIT_DIR: the best CPU models, halved to float16 by models/gpu/prepare.sh so that
# they fit in the call (lease.sh sets INIT_DIR to the carried .gpu/init).
INIT=${INIT_DIR:-.gpu/init}
CNN=(--batch-size 128 --patience 200 --rotation 0.04)
CONT=(--warmup-epochs 2 --mix-prob 0.1 --unfreeze-from block1_conv1_conv "${CNN[@]}")

# emo3 CNN (target 85%): a long second cosine from the best CPU model, and one from scratch
run vgg_emo3_gpu_cont --arch vgg --classes emo3 --epochs 50 --lr 1e-3 "${CONT[@]}" \
  --init "$INIT/vgg_emo3_lightaug.keras"
run vgg_emo3_gpu --arch vgg --classes emo3 --epochs 60 --lr 3e-3 --mix-prob 0.2 "${CNN[@]}"
# fer7 CNN (target 70%): no class weights; two continuations (peak lr 1e-3, and 2e-3 with
# CutMix on 20%) and one run from scratch
run vgg_fer7_gpu_cont --arch vgg --classes fer7 --epochs 36 --lr 1e-3 --no-class-weights \
  "${CONT[@]}" --init "$INIT/vgg_fer7_lightaug2.keras"
run vgg_fer7_gpu_cont_hi --arch vgg --classes fer7 --epochs 36 --lr 2e-3 --no-class-weights \
  "${CONT[@]}" --mix-prob 0.2 --init "$INIT/vgg_fer7_lightaug2.keras"
run vgg_fer7_gpu --arch vgg --classes fer7 --epochs 40 --lr 3e-3 --no-class-weights \
  --mix-prob 0.2 "${CNN[@]}"
# emo3 ViT (target 82%): the bundled hybrid ViT's architecture on a schedule 3x as long
run vit_hybrid_emo3_gpu --arch vit --classes emo3 --epochs 60 --batch-size 128 --lr 1e-3 \
  --weight-decay 0.05 --warmup-epochs 3 --patience 200 --arch-kwargs \
  '{"stem":"conv","patch_size":8,"dim":192,"depth":4,"heads":6,"mlp_dim":384,"stem_widths":[32,64,128,192],"stem_depth":2}'
