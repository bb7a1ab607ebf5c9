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
scale="${1:?usage: training/recipe.sh 2|3|4}"
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
