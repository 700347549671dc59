# A third lease's runs: prepare with `SCHEDULE=models/gpu/schedule_round3.sh NO_TEST=1
# models/gpu/prepare.sh`, then `SCHEDULE=models/gpu/schedule_round3.sh bash models/gpu/lease.sh
# 570` (its epochs follow the time the lease allows). One more cosine, at lower learning rates,
# from the bundled fer7 and emo3 VGGs: vgg_fer7_soup_ft (validation 70.8%: round 2's two best
# fer7 runs averaged, one more epoch on the CPU, PreciseBN statistics) and vgg_emo3_soup (85.8%:
# vgg_emo3_gpu_cont and its two round-2 continuations averaged). Speeds as in
# schedule_round2.sh's header; CutMix on half the batches (round 2's best fer7 recipe) or on 20%.
# Runs of one start can then be averaged with it (`emolens soup --precise-bn`), as
# vgg_emo3_soup was.
# --precise-bn: each run ends by recomputing its BatchNorm statistics on its training images
# (PreciseBN; +0.6 to +2.0 validation points on every round-2 fer7 run, measured on the CPU).
SECONDS_LEFT=${LIMIT:-190}
FER7_EPOCHS=$((SECONDS_LEFT * 10 / 85)) # 8.5 s per epoch (CutMix on half the batches is slower)
EMO3_EPOCHS=$((SECONDS_LEFT * 10 / 50)) # 5 s
INIT=${INIT_DIR:-.gpu/init}
CNN=(--batch-size 128 --patience 200 --rotation 0.04 --warmup-epochs 1 --mix-prob 0.5 --precise-bn)
CONT=(--unfreeze-from block1_conv1_conv "${CNN[@]}")
FER7=(--arch vgg --classes fer7 --epochs "$FER7_EPOCHS" --no-class-weights "${CONT[@]}")

run vgg_fer7_gpu3 "${FER7[@]}" --lr 1e-3 --init "$INIT/vgg_fer7_soup_ft.keras"
run vgg_fer7_gpu3_lo "${FER7[@]}" --lr 5e-4 --init "$INIT/vgg_fer7_soup_ft.keras"
run vgg_fer7_gpu3_b "${FER7[@]}" --lr 1e-3 --mix-prob 0.2 --init "$INIT/vgg_fer7_soup_ft.keras"
run vgg_fer7_gpu3_b_lo "${FER7[@]}" --lr 5e-4 --mix-prob 0.2 --init "$INIT/vgg_fer7_soup_ft.keras"
EMO3=(--arch vgg --classes emo3 --epochs "$EMO3_EPOCHS" "${CONT[@]}" --init "$INIT/vgg_emo3_soup.keras")
run vgg_emo3_gpu3 "${EMO3[@]}" --lr 1e-3
run vgg_emo3_gpu3_lo "${EMO3[@]}" --lr 5e-4
