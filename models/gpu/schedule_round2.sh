# The second call of the 2026-12-04 lease (sourced by models/gpu/lease.sh with
# SCHEDULE=models/gpu/schedule_round2.sh): the machine was free after schedule.sh's runs ended
# in 6 minutes, so each best run of that call goes on for a second cosine. With 445 s of the
# lease left (a fresh start takes ~90 s), `lease.sh 300` trains for ~190 s: VGG epochs took
# ~6 s (fer7), ~3.8 s (emo3) and the ViT's ~5.7 s there with 6 runs at once.
# Its data pack has no PublicTest (prepare.sh with NO_TEST=1: room for a third --init model);
# the cards' test numbers come from `emolens evaluate --update-card` here.
INIT=${INIT_DIR:-.gpu/init}
CNN=(--batch-size 128 --patience 200 --rotation 0.04 --warmup-epochs 2 --mix-prob 0.2)
CONT=(--unfreeze-from block1_conv1_conv "${CNN[@]}")

# fer7 CNN (target 70%): vgg_fer7_gpu_cont_hi's recipe again from its model, and at half the lr
run vgg_fer7_gpu2 --arch vgg --classes fer7 --epochs 26 --lr 2e-3 --no-class-weights \
  "${CONT[@]}" --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
run vgg_fer7_gpu2_lo --arch vgg --classes fer7 --epochs 26 --lr 1e-3 --no-class-weights \
  "${CONT[@]}" --init "$INIT/vgg_fer7_gpu_cont_hi.keras"
# emo3 CNN (target 85%): from vgg_emo3_gpu_cont, with fer7's best recipe (lr 2e-3, CutMix 20%)
run vgg_emo3_gpu2 --arch vgg --classes emo3 --epochs 40 --lr 2e-3 "${CONT[@]}" \
  --init "$INIT/vgg_emo3_gpu_cont.keras"
run vgg_emo3_gpu2_lo --arch vgg --classes emo3 --epochs 40 --lr 1e-3 "${CONT[@]}" \
  --init "$INIT/vgg_emo3_gpu_cont.keras"
# emo3 ViT (target 82%): from vit_hybrid_emo3_gpu, its own augmentation and a lighter one
VIT=(--arch vit --classes emo3 --epochs 26 --batch-size 128 --weight-decay 0.05 --patience 200
  --warmup-epochs 2 --init "$INIT/vit_hybrid_emo3_gpu.keras")
run vit_hybrid_emo3_gpu2 "${VIT[@]}" --lr 3e-4
run vit_hybrid_emo3_gpu2_light "${VIT[@]}" --lr 5e-4 --mix-prob 0.2 --rotation 0.04
