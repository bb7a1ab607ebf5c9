"""Side-by-side picture for models/README.md: a crop of a photo whose low-resolution version was
saved as JPEG, upscaled by bicubic, by the clean built-in model and by a denoise model.

    ../venv/bin/python tools/denoise_figure.py samples/astronaut.png --scale 4 --quality 75 \
        --crop 32,40,64,48 --out models/denoise-x4-jpeg75.png [--denoise-model x4-denoise2.bin]

The low-resolution image is made as `upscale eval --degrade jpeg:Q` makes it (MATLAB bicubic
downscale of the 8-bit RGB image, then a baseline 4:2:0 JPEG at quality Q); the upscalers are the
`upscale` binary (.build/release/upscale, or UPSCALE_BIN) and MATLAB bicubic. The crop (x, y, w, h)
is in low-resolution pixels; each panel is the crop's upscale, enlarged `--zoom` times more with
nearest neighbour so the pixels stay visible. Development only: needs numpy and Pillow.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'training'))
from degrade import jpeg_roundtrip  # noqa: E402
from matlab_resize import imresize  # noqa: E402


def upscale(binary, lr_path, out_path, args):
    subprocess.run([binary, lr_path, '-o', out_path, '--overwrite', '--quiet'] + args, check=True)
    return np.asarray(Image.open(out_path).convert('RGB'))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('image')
    p.add_argument('--scale', type=int, default=4)
    p.add_argument('--quality', type=int, default=75)
    p.add_argument('--crop', default='32,40,64,48', help='x,y,w,h in low-resolution pixels')
    p.add_argument('--zoom', type=int, default=1)
    p.add_argument('--denoise-level', type=int, default=2)
    p.add_argument('--denoise-model', help='a weights file instead of the built-in xS-denoiseN')
    p.add_argument('--out', required=True)
    args = p.parse_args()
    binary = os.environ.get('UPSCALE_BIN', os.path.join(ROOT, '.build', 'release', 'upscale'))
    s = args.scale
    x, y, w, h = (int(v) for v in args.crop.split(','))

    hr = np.asarray(Image.open(args.image).convert('RGB'))
    hr = hr[:hr.shape[0] // s * s, :hr.shape[1] // s * s]
    lr = jpeg_roundtrip(imresize(hr, scale=1.0 / s), args.quality)
    with tempfile.TemporaryDirectory() as tmp:
        lr_path = os.path.join(tmp, 'lr.png')   # the decoded JPEG, lossless, so every upscaler sees it
        Image.fromarray(lr).save(lr_path)
        clean = upscale(binary, lr_path, os.path.join(tmp, 'clean.png'), ['-s', str(s)])
        model = (['-m', args.denoise_model] if args.denoise_model
                 else ['-s', str(s), '--denoise', str(args.denoise_level)])
        denoised = upscale(binary, lr_path, os.path.join(tmp, 'denoise.png'), model)
    bicubic = np.clip(np.round(imresize(lr.astype(np.float64), scale=s)), 0, 255).astype(np.uint8)

    panels = [('bicubic', bicubic), (f'x{s} (clean)', clean), (f'x{s} denoise {args.denoise_level}', denoised),
              ('original', hr)]
    crops = []
    for label, img in panels:
        c = img[y * s:(y + h) * s, x * s:(x + w) * s]
        c = np.repeat(np.repeat(c, args.zoom, axis=0), args.zoom, axis=1)
        crops.append((label, c))
    ch, cw = crops[0][1].shape[:2]
    gap, caption = 8, 22
    sheet = Image.new('RGB', (len(crops) * cw + (len(crops) - 1) * gap, ch + caption), 'white')
    draw = ImageDraw.Draw(sheet)
    for i, (label, c) in enumerate(crops):
        sheet.paste(Image.fromarray(c), (i * (cw + gap), caption))
        draw.text((i * (cw + gap) + 4, 4), label, fill='black')
    sheet.save(args.out, optimize=True)
    print(f'wrote {args.out}: LR saved as JPEG quality {args.quality}, crop {w}x{h} LR px at ({x}, {y}), x{s}')


if __name__ == '__main__':
    main()
