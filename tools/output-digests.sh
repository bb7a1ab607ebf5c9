#!/usr/bin/env bash
# Prints a SHA-256 of every output of a fixed set of upscale runs: each sample at each built-in
# scale, through each path (file to file, stdin to stdout, --tta, one thread, small tiles, JPEG
# output, an imported RGB model with input padding). Run it before and after a change that must
# not change output bytes, and diff the two listings:
#   tools/output-digests.sh > /tmp/before.txt   # (on the old build)
#   tools/output-digests.sh > /tmp/after.txt && diff /tmp/before.txt /tmp/after.txt
# Uses UPSCALE_BIN when set, otherwise .build/release/upscale (build it first).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${UPSCALE_BIN:-.build/release/upscale}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
digest() { printf '%-44s %s\n' "$1" "$(sha256sum < "$2" | cut -c1-64)"; }

for sample in samples/*.png samples/*.jpg; do
    name=$(basename "$sample")
    for scale in 2 3 4; do
        "$bin" "$sample" -s "$scale" -o "$work/out.png" --overwrite --quiet
        digest "$name x$scale file" "$work/out.png"
    done
done
"$bin" - -s 2 -f png < samples/camera.png > "$work/stdout.png"
digest "camera.png x2 stdin-stdout" "$work/stdout.png"
"$bin" - -s 3 -f png < samples/coffee.jpg > "$work/stdout.png"
digest "coffee.jpg x3 stdin-stdout" "$work/stdout.png"
"$bin" samples/chelsea.png -s 2 --tta -o "$work/tta.png" --quiet
digest "chelsea.png x2 tta" "$work/tta.png"
"$bin" samples/astronaut.png -s 4 -j 1 --tile 64 -o "$work/small.png" --quiet
digest "astronaut.png x4 -j1 tile64" "$work/small.png"
"$bin" samples/rocket.jpg -s 2 -o "$work/out.jpg" --quiet
digest "rocket.jpg x2 jpeg" "$work/out.jpg"
fixtures=Tests/UpscaleKitTests/Fixtures
"$bin" import "$fixtures/import/upconv7_x2_f32.param" -o "$work/upconv7.bin" >/dev/null
"$bin" samples/camera.png -m "$work/upconv7.bin" -o "$work/upconv7.png" --quiet
digest "camera.png upconv7 (rgb, padding)" "$work/upconv7.png"
"$bin" import "$fixtures/import/srvgg_x4_f32.param" -o "$work/srvgg.bin" >/dev/null
"$bin" samples/chelsea.png -m "$work/srvgg.bin" --tile 96 -o "$work/srvgg.png" --quiet
digest "chelsea.png srvgg x4 (nearest residual)" "$work/srvgg.png"
"$bin" samples/camera.png -m "$fixtures/model/mixed_rgb_x2_f32.bin" -o "$work/mixed.png" --quiet
digest "camera.png mixed_rgb_x2" "$work/mixed.png"
