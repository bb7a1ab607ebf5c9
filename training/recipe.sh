#!/usr/bin/env bash
# Trains one shipped model from scratch, exactly as it was trained: a 5000-iteration cosine run,
# then warm restarts (the learning rate jumps back up and anneals again; see models/README.md). Fixed seeds; one thread per run, as on the 2-core
# machine the models were trained on (PyTorch's CPU kernels may sum in another order with more
# threads, so the bits can differ; the quality does not). Then `training/ship.sh` exports,
# measures and embeds.
#
#   bash training/recipe.sh 2        # → training/runs/x2/{best,last}.pt and training/runs/x2.log
#   PYTHON=/path/to/venv/bin/python bash training/recipe.sh 4
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"

# Issue 14's deep, thin models (model.ThinSR): `recipe.sh thin VARIANT [SCALE]`. Every stage
# resumes from OUT/last.pt when it exists, so running the same command again in a new session
# continues where the last one stopped (checkpoints and logs are committed in
# training/checkpoints/). Seeds are fixed; one thread, as on the 2-core machine. The shipped run:
#   x2  L1, cosine from 1e-3 planned over 200k steps, stopped at 79,000 (the held-out best had
#       not moved since 49,000); its best checkpoint is kept as l1-best.pt. Then an MSE fine-tune,
#       a new cosine from 2e-4 to step 99,000 (--restart: fresh Adam, the weights only).
#   x3, x4  from l1-best.pt's body, L1, a cosine from 5e-4 over 60k steps.
# The order above is the order they ran; x3/x4 read l1-best.pt, so they do not depend on the MSE stage.
if [[ "${1:-}" == thin ]]; then
    variant="${2:?usage: training/recipe.sh thin c16m5plain|c16m5e64 [2|3|4]}"
    scale="${3:-2}"
    case "$variant" in
        c16m5plain) arch=(--arch thin --channels 16 --blocks 5 --expand 0) ;;
        c16m5e64) arch=(--arch thin --channels 16 --blocks 5 --expand 64) ;;
        *) echo "recipe.sh: unknown variant $variant" >&2; exit 64 ;;
    esac
    common=("${arch[@]}" --val-every 1000 --batch 16 --threads 1)
    x2="training/checkpoints/compare/$variant"   # the comparison runs continue as the long run
    if [[ "$scale" == 2 ]]; then
        step() { [[ -e "$x2/last.pt" ]] && "$python" -c 'import sys, torch; print(torch.load(sys.argv[1], weights_only=False)["iter"])' "$x2/last.pt" || echo 0; }
        if (( $(step) < 79000 )); then
            resume=(); [[ -e "$x2/last.pt" ]] && resume=(--resume)
            "$python" training/train.py --scale 2 "${common[@]}" --patch 48 --iters 200000 --stop-at 79000 \
                --out "$x2" "${resume[@]}"
            cp "$x2/best.pt" "$x2/l1-best.pt"
        fi
        # The MSE stage: a warm restart at its first step, a plain resume inside it.
        restart=(); (( $(step) == 79000 )) && restart=(--restart)
        "$python" training/train.py --scale 2 "${common[@]}" --patch 48 --iters 99000 --out "$x2" \
            --resume "${restart[@]}" --loss mse --lr 2e-4
    else
        out="training/checkpoints/$variant-x$scale"
        init=(--init-from "$x2/l1-best.pt")
        [[ -e "$out/last.pt" ]] && init=(--resume)
        "$python" training/train.py --scale "$scale" "${common[@]}" --patch $((96 / scale)) --lr 5e-4 \
            --iters 60000 --out "$out" "${init[@]}"
    fi
    exit 0
fi

# Issue 18's denoise models: `recipe.sh denoise VARIANT SCALE LEVEL` (SCALE 1, 2 or 4) fine-tunes the
# clean model of that scale (its best.pt, last layer included) on LR patches degraded on the fly at LEVEL 1..3
# (training/degrade.py: clean, plain JPEG, or blur, bicubic/bilinear/area downscale, noise, one or
# two JPEG saves): L1, a cosine from 2e-4 over 12k steps (the held-out score of 30k-step runs moved
# little after the first few thousand), checkpoints chosen on the held-out images: the mean over
# clean and JPEG 90 for level 1, JPEG 75 and 50 for levels 2 and 3. Resumes like the thin stages.
if [[ "${1:-}" == denoise ]]; then
    variant="${2:?usage: training/recipe.sh denoise VARIANT SCALE LEVEL}"
    scale="${3:?usage: training/recipe.sh denoise VARIANT SCALE LEVEL}"
    level="${4:?usage: training/recipe.sh denoise VARIANT SCALE LEVEL}"
    case "$variant" in
        c16m5e64) arch=(--arch thin --channels 16 --blocks 5 --expand 64) ;;
        *) echo "recipe.sh: unknown variant $variant" >&2; exit 64 ;;
    esac
    clean="training/checkpoints/$variant-x$scale"
    # ×1 (denoise only) starts from the clean ×2 model's body, its last layer fresh, on 48-pixel
    # patches (the ×2 runs' LR size).
    [[ "$scale" == 2 || "$scale" == 1 ]] && clean="training/checkpoints/compare/$variant"
    patch=$((96 / scale)); [[ "$scale" == 1 ]] && patch=48
    out="training/checkpoints/$variant-x$scale-denoise$level"
    init=(--init-from "$clean/best.pt")
    [[ -e "$out/last.pt" ]] && init=(--resume)
    "$python" training/train.py --scale "$scale" "${arch[@]}" --val-every 1000 --batch 16 --threads 1 \
        --patch "$patch" --degrade "$level" --lr 2e-4 --iters 12000 --out "$out" "${init[@]}"
    exit 0
fi

scale="${1:?usage: training/recipe.sh 2|3|4, or training/recipe.sh thin VARIANT [SCALE]}"
# The shipped runs: phase 1 from scratch; for x2 and x3 the start of a longer run at the original
# schedule, stopped at a validation point (--stop-at); then warm restarts from the weights reached,
# each "LR:ITERS" a new cosine from LR to iteration ITERS.
case "$scale" in
    2) phase2=(--iters 16000 --stop-at 5500); restarts=(3e-4:12000) ;;
    3) phase2=(--iters 20000 --stop-at 6500); restarts=(3e-4:13000 5e-4:18000 4e-4:26000) ;;
    4) phase2=(); restarts=(3e-4:11000) ;;
    *) echo "recipe.sh: scale must be 2, 3 or 4" >&2; exit 64 ;;
esac
run="training/runs/x$scale"
if [[ -e "$run/last.pt" ]]; then
    echo "recipe.sh: $run already holds a run; move it away to train from scratch." >&2
    exit 1
fi
mkdir -p training/runs
"$python" training/train.py --scale "$scale" --iters 5000 --val-every 250 --threads 1 | tee -a "$run.log"
if [[ ${#phase2[@]} -gt 0 ]]; then
    "$python" training/train.py --scale "$scale" "${phase2[@]}" --val-every 500 --threads 1 --resume | tee -a "$run.log"
fi
for restart in "${restarts[@]}"; do
    "$python" training/train.py --scale "$scale" --iters "${restart#*:}" --val-every 500 --threads 1 \
        --resume --restart --lr "${restart%%:*}" | tee -a "$run.log"
done
