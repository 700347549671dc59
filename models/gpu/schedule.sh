# The runs of one GPU lease (sourced by models/gpu/lease.sh, which adds --data, --out, --name
# and --time-limit): the schedules that the accuracy targets need and this CPU cannot give.
# All run at once, one JAX process each. The first lease (2026-11, 5 runs at once) trained
# 27 VGG epochs in its 15 minutes; with 3 runs each should get further, and --time-limit cuts
# any that does not finish (its card says where): a cut run comes back as its best epoch.
# Rotation up to 14 degrees, not the old default's 36: the CPU continuations with it gained
# 2.9 points on fer7 (vgg_fer7_lightaug), and every earlier VGG underfit its training set.
CNN=(--batch-size 128 --lr 3e-3 --patience 200 --rotation 0.04)

# emo3 CNN (target 85%): the default VGG's recipe, one long cosine, lighter CutMix from the start
run vgg_emo3_gpu --arch vgg --classes emo3 --epochs 60 --mix-prob 0.3 "${CNN[@]}"
# fer7 CNN (target 70%): no class weights and CutMix on 25% of batches (+5.6 points on CPU)
run vgg_fer7_gpu --arch vgg --classes fer7 --epochs 60 --no-class-weights --mix-prob 0.25 \
  "${CNN[@]}"
# emo3 ViT (target 82%): the bundled hybrid ViT's architecture on a schedule 3x as long
run vit_hybrid_emo3_gpu --arch vit --classes emo3 --epochs 60 --batch-size 128 --lr 1e-3 \
  --weight-decay 0.05 --warmup-epochs 3 --patience 200 --arch-kwargs \
  '{"stem":"conv","patch_size":8,"dim":192,"depth":4,"heads":6,"mlp_dim":384,"stem_widths":[32,64,128,192],"stem_depth":2}'
