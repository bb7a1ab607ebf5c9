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
variant=""
if [[ "${1:-}" == thin ]]; then
    variant="${2:?usage: training/ship.sh thin VARIANT [SCALE...]}"
    shift 2
fi
[[ $# -gt 0 ]] && scales=("$@") || scales=(2 3 4)
run_dir() {   # the folder holding scale $1's best.pt
    if [[ -z "$variant" ]]; then echo "training/runs/x$1"
    elif [[ "$1" == 2 ]]; then echo "training/checkpoints/compare/$variant"
    else echo "training/checkpoints/$variant-x$1"; fi
}

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
    json="$(.build/release/upscale eval -m "x$s" "$set5" --json)"
    read -r psnr ssim < <("$python" -c 'import json,sys; m=json.load(sys.stdin)["mean"]; print("%.2f %.4f" % (m["psnr"], m["ssim"]))' <<<"$json")
    echo "x$s: Set5 Y-PSNR $psnr dB, SSIM $ssim (upscale eval)"
    "$python" training/export.py --checkpoint "$snap/x$s.pt" --out "models/x$s.bin" \
        --meta "set5_psnr=$psnr" --meta "set5_ssim=$ssim"
done
bash tools/embed_models.sh
swift build -c release --product upscale
.build/release/upscale models
