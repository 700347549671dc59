# A second lease's runs (sourced by models/gpu/lease.sh with
# SCHEDULE=models/gpu/schedule_round2.sh): each best run of the first lease (schedule.sh,
# 2026-12-04) goes on for a second cosine. Epochs follow the training time lease.sh allows
# (LIMIT seconds; 190 for `lease.sh 300`, 461 for `lease.sh 570`) at the speeds measured there
# with 6 runs at once (VGG ~6 s per fer7 epoch and ~3.5 s per emo3 epoch, the ViT ~5.5 s),
# with a margin for compilation and a slower machine.
# Its data pack has no PublicTest (prepare.sh with NO_TEST=1: room for a third --init model);
# the cards' test numbers come from `emolens evaluate --update-card` here.
SECONDS_LEFT=${LIMIT:-190}
FER7_EPOCHS=$((SECONDS_LEFT * 10 / 75)) # 7.5 s per epoch
EMO3_EPOCHS=$((SECONDS_LEFT * 10 / 45)) # 4.5 s
INIT=${INIT_DIR:-.gpu/init}
CNN=(--batch-size 128 --patience 200 --rotation 0.04 --warmup-epochs 2 --mix-prob 0.2)
CONT=(--unfreeze-from block1_conv1_conv "${CNN[@]}")

# fer7 CNN (target 70%): vgg_fer7_gpu_cont_hi's recipe again from its model, and at half the lr
run vgg_fer7_gpu2 --arch vgg --classes fer7 --epochs "$FER7_EPOCHS" --lr 2e-3 --no-class-weights \
  "${CONT[@]}" --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
run vgg_fer7_gpu2_lo --arch vgg --classes fer7 --epochs "$FER7_EPOCHS" --lr 1e-3 --no-class-weights \
  "${CONT[@]}" --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
# emo3 CNN (target 85%): from vgg_emo3_gpu_cont, with fer7's best recipe (lr 2e-3, CutMix 20%)
run vgg_emo3_gpu2 --arch vgg --classes emo3 --epochs "$EMO3_EPOCHS" --lr 2e-3 "${CONT[@]}" \
  --init "$INIT/vgg_emo3_gpu_cont.keras"
run vgg_emo3_gpu2_lo --arch vgg --classes emo3 --epochs "$EMO3_EPOCHS" --lr 1e-3 "${CONT[@]}" \
  --init "$INIT/vgg_emo3_gpu_cont.keras"
# fer7 again in the ViT's slots (the ViT target was met on the CPU by distillation,
# vit_hybrid_emo3_kd): FERPlus vote-blended targets, and CutMix on half the batches (the later
# --mix-prob wins)
run vgg_fer7_gpu2_fp --arch vgg --classes fer7 --epochs "$FER7_EPOCHS" --lr 2e-3 --no-class-weights \
  "${CONT[@]}" --ferplus 0.5 --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
run vgg_fer7_gpu2_mix --arch vgg --classes fer7 --epochs "$FER7_EPOCHS" --lr 2e-3 --no-class-weights \
  "${CONT[@]}" --mix-prob 0.5 --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
