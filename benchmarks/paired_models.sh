#!/usr/bin/env bash
# Network time of models that should cost the same, paired: each round times every model once, in
# turn (backwards in even rounds), on the same 1080p luma input (`upscale-bench net`, median of 3 runs after a warm-up), so a
# busy machine slows all of them alike. Prints one line per round and the per-model medians.
#
#   bash benchmarks/paired_models.sh ROUNDS MODEL...   (built-in names or .bin files; release build;
#   python3 makes the input)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="$1"; shift
bench=.build/release/upscale-bench
input="$(mktemp)"; trap 'rm -f "$input" "$input".*' EXIT
# Seeded uniform values in [0, 1), like image luma: real activations, so that a model whose
# weights produced subnormal numbers would pay for them here.
python3 -c 'import array, random, sys; random.seed(1); array.array("f", (random.random() for _ in range(1080 * 1920))).tofile(sys.stdout.buffer)' > "$input"
declare -A file   # model as given → its weights file (a built-in name → models/NAME.bin)
for model in "$@"; do
    file[$model]="$model"; [[ -f "$model" ]] || file[$model]="models/$model.bin"
    [[ -f "${file[$model]}" ]] || { echo "no model file ${file[$model]}" >&2; exit 64; }
done
for ((r = 1; r <= rounds; r++)); do
    line="round $r:"
    order=("$@")
    if ((r % 2 == 0)); then   # even rounds run the list backwards: no model is always first
        order=(); for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
    fi
    for model in "${order[@]}"; do
        t="$("$bench" net --model "${file[$model]}" --input "$input" --size 1080x1920 --reps 3 --threads 2 |
             grep -oE 'median [0-9.]+ s' | grep -oE '[0-9.]+')"
        line+=" $model $t"
        echo "$model $t" >> "$input.times"
    done
    echo "$line"
done
echo "medians over rounds:"
for model in "$@"; do
    grep "^$model " "$input.times" | awk '{print $2}' | sort -n | awk -v m="$model" '{a[NR]=$1} END {print "  " m, a[int((NR+1)/2)] " s"}'
done
