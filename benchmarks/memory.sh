#!/usr/bin/env bash
# Peak resident memory of `upscale` (built-in x2) on large images: a memory benchmark, not a test.
#
# usage: benchmarks/memory.sh [CASE...]      from the repository root, after `swift build -c release`
#   CASE is one of the names below (default: all, in the order below). Inputs are made once in
#   $MEMORY_DIR (default /tmp/upscale-memory) by benchmarks/make_large_image.py from a sample photo,
#   and kept; outputs are removed after each run. Prints one line per case: input size, peak RSS
#   (/usr/bin/time -v, "Maximum resident set size"), wall time, and the RSS ratio to the case of the
#   same format and width with a tenth of the rows (the "width class" reference).
# Needs /usr/bin/time and a Python with numpy and Pillow ($PYTHON, default /work/venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${UPSCALE:-.build/release/upscale}
DIR=${MEMORY_DIR:-/tmp/upscale-memory}
PYTHON=${PYTHON:-/work/venv/bin/python}
SAMPLE=samples/astronaut.png

# name  width  height  extension  reference (same width, fewer rows)
CASES="
png-2000x2000     2000  2000  png  -
png-20000x2000   20000  2000  png  -
png-20000x20000  20000 20000  png  png-20000x2000
jpg-2000x2000     2000  2000  jpg  -
jpg-16000x1200   16000  1200  jpg  -
jpg-16000x12000  16000 12000  jpg  jpg-16000x1200
"

[ -x "$BIN" ] || { echo "error: $BIN not found; run swift build -c release first." >&2; exit 1; }
mkdir -p "$DIR"
selected=("$@")

printf '%-16s %12s %10s %10s %9s %s\n' case input_MP peak_RSS_MB wall_s ratio reference
echo "$CASES" | while read -r name width height ext reference; do
    [ -n "$name" ] || continue
    if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " =~ " $name " ]]; then continue; fi
    input="$DIR/$name.$ext"
    [ -s "$input" ] || "$PYTHON" benchmarks/make_large_image.py "$SAMPLE" "$width" "$height" "$input"
    output="$DIR/$name-x2.$ext"
    log="$DIR/$name.time"
    rm -f "$output"
    /usr/bin/time -v "$BIN" "$input" -o "$output" --overwrite --quiet 2> "$log"
    rm -f "$output"
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}')
    echo "$rss_kb" > "$DIR/$name.rss"
    ratio="-"
    if [ "$reference" != "-" ] && [ -s "$DIR/$reference.rss" ]; then
        ratio=$(awk -v a="$rss_kb" -v b="$(cat "$DIR/$reference.rss")" 'BEGIN { printf "%.2f", a / b }')
    fi
    printf '%-16s %12.1f %10.0f %10.0f %9s %s\n' "$name" "$(echo "$width * $height / 1000000" | bc -l)" \
        "$(echo "$rss_kb / 1024" | bc -l)" "$wall" "$ratio" "$reference"
done
