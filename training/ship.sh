#!/usr/bin/env bash
# Ships the trained models: exports each scale's best.pt to models/, measures each one
# through the Swift engine with `upscale eval` on Set5 (the literature's protocol), stores the
# measured PSNR/SSIM in the model's metadata (shown by `upscale models`), and embeds the models in
# the binary. Development only (needs the training venv's torch and safetensors).
#
#   training/ship.sh [SCALE...]        default: 2 3 4; runs in training/runs/x{2,3,4}
#   training/ship.sh thin VARIANT [SCALE...]   issue 14's deep, thin runs (training/recipe.sh thin):
#                                      x2 in training/checkpoints/compare/VARIANT, x3 and x4 in
#                                      training/checkpoints/VARIANT-x{3,4}
#   PYTHON=/path/to/venv/bin/python training/ship.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
set5="$root/../shared/datasets/val/Set5"

run_dir() {   # the folder holding scale $1's clean best.pt ($variant: "" for training/runs, else a thin variant)
    if [[ -z "$variant" ]]; then echo "training/runs/x$1"
    elif [[ "$1" == 2 ]]; then echo "training/checkpoints/compare/$variant"
    else echo "training/checkpoints/$variant-x$1"; fi
}
measure() {   # measure MODEL [DEGRADE] → "PSNR SSIM"
    local json
    json="$(.build/release/upscale eval -m "$1" "$set5" --json ${2:+--degrade "$2"})"
    "$python" -c 'import json,sys; m=json.load(sys.stdin)["mean"]; print("%.2f %.4f" % (m["psnr"], m["ssim"]))' <<<"$json"
}
# Issue 18's denoise models: `ship.sh denoise VARIANT SCALE LEVEL` exports
# training/checkpoints/VARIANT-xSCALE-denoiseLEVEL/best.pt as models/xSCALE-denoiseLEVEL.bin (the
# built-in that `--denoise LEVEL -s SCALE` picks), blended with the clean model it started from as far
# as the held-out images say (training/blend.py), measures it with `upscale eval` on Set5 clean and
# with the LR saved as JPEG 50/75/90, stores those numbers in its metadata, and embeds it.
if [[ "${1:-}" == denoise ]]; then
    variant="${2:?usage: training/ship.sh denoise VARIANT SCALE LEVEL}"
    scale="${3:?usage: training/ship.sh denoise VARIANT SCALE LEVEL}"
    level="${4:?usage: training/ship.sh denoise VARIANT SCALE LEVEL}"
    name="x$scale-denoise$level"
    snap="$(mktemp -d)"
    trap 'rm -rf "$snap"' EXIT
    cp "training/checkpoints/$variant-x$scale-denoise$level/best.pt" "$snap/run.pt"
    clean="$(run_dir "$([[ "$scale" == 1 ]] && echo 2 || echo "$scale")")"   # x1 started from the x2 body
    "$python" training/blend.py --clean "$clean/best.pt" --denoise "$snap/run.pt" --out "$snap/best.pt"
    "$python" training/export.py --checkpoint "$snap/best.pt" --out "models/$name.bin"
    swift build -c release --product upscale
    meta=()
    read -r psnr ssim < <(measure "models/$name.bin")
    meta+=(--meta "set5_psnr=$psnr" --meta "set5_ssim=$ssim")
    for q in 50 75 90; do
        read -r psnr ssim < <(measure "models/$name.bin" "jpeg:$q")
        meta+=(--meta "set5_jpeg${q}_psnr=$psnr")
    done
    "$python" training/export.py --checkpoint "$snap/best.pt" --out "models/$name.bin" "${meta[@]}"
    bash tools/embed_models.sh
    swift build -c release --product upscale
    .build/release/upscale models
    exit 0
fi
variant=""
if [[ "${1:-}" == thin ]]; then
    variant="${2:?usage: training/ship.sh thin VARIANT [SCALE...]}"
    shift 2
fi
[[ $# -gt 0 ]] && scales=("$@") || scales=(2 3 4)

# A snapshot of each checkpoint, so that a training run still writing best.pt cannot make the
# measured numbers and the shipped weights disagree.
snap="$(mktemp -d)"
trap 'rm -rf "$snap"' EXIT
for s in "${scales[@]}"; do
    cp "$(run_dir "$s")/best.pt" "$snap/x$s.pt"
    "$python" training/export.py --checkpoint "$snap/x$s.pt" --out "models/x$s.bin"
done
bash tools/embed_models.sh
swift build -c release --product upscale
for s in "${scales[@]}"; do
    read -r psnr ssim < <(measure "x$s")
    echo "x$s: Set5 Y-PSNR $psnr dB, SSIM $ssim (upscale eval)"
    "$python" training/export.py --checkpoint "$snap/x$s.pt" --out "models/x$s.bin" \
        --meta "set5_psnr=$psnr" --meta "set5_ssim=$ssim"
done
bash tools/embed_models.sh
swift build -c release --product upscale
.build/release/upscale models
