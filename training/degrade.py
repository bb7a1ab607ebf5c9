"""Photo-like degradations for the denoise models (`--denoise 1..3`, issue 18): HR → LR as real
photos get it, the HR kept clean.

Each training LR patch is one of three kinds, drawn with the level's probabilities:
  * clean (`clean`): the MATLAB bicubic downscale alone, the clean models' input (level 1 only,
    so that it keeps what the clean model does on clean photos);
  * plain (`plain`): the bicubic downscale saved once as JPEG at a quality of the band: the most
    common real case (a photo resized, then saved) and the `--degrade jpeg:Q` protocol;
  * mixed (the rest):
      - blur, with probability `blur`: Gaussian, isotropic or anisotropic (σ 0.2–1.5 px on the HR
        grid, any angle), 9×9 taps, borders reflected;
      - a downscale by `scale`, by MATLAB bicubic (the literature's), bilinear or area (Pillow),
        chosen at random;
      - noise, with probability `noise_p`: Gaussian (σ up to `sigma` levels of 255, gray or per
        channel) or Poisson (photon noise at a random strength);
      - JPEG at a quality in `jpeg`, and with probability `double` again at another quality of
        the band.
JPEG is Pillow's, whose encoder is libjpeg-turbo (standard tables, 4:2:0): the artifacts are the
real ones.

Levels (the bands are what `--denoise N` means; docs/cli.md says the same):
  1  light:  JPEG 80–95, noise σ ≤ 2;  half the patches clean, 30% plain JPEG
  2  medium: JPEG 45–90, noise σ ≤ 5;  half plain JPEG; a second JPEG for 25% of the rest
  3  strong: JPEG 25–75, noise σ ≤ 10; half plain JPEG; a second JPEG for 40% of the rest

(Level 1 was first JPEG 75–95 with 40% clean patches: the x2 model lost 0.62 dB on clean inputs
after 3,000 steps, twice what a light level may cost. Before 2026-12-03 every patch was mixed, with more blur and noise: the level-2 models then
improved on the fixed protocol for only the first 1,000 steps, the capacity of a 16-channel model
going to blur and noise that the protocol does not have.)

Validation and `upscale eval --degrade jpeg:Q` use the fixed protocol instead: MATLAB bicubic
downscale, then one JPEG at quality Q (`jpeg_roundtrip`), no blur and no noise.
Everything draws from the numpy Generator it is handed, so a seeded run is reproducible.
"""
import io
import math

import numpy as np
from PIL import Image

from matlab_resize import imresize

LEVELS = {
    1: dict(clean=0.5, plain=0.3, blur=0.1, noise_p=0.4, sigma=2.0, jpeg=(80, 95), double=0.1),
    2: dict(clean=0.0, plain=0.5, blur=0.3, noise_p=0.5, sigma=5.0, jpeg=(45, 90), double=0.25),
    3: dict(clean=0.0, plain=0.5, blur=0.3, noise_p=0.6, sigma=10.0, jpeg=(25, 75), double=0.4),
}
# What each level is validated on (checkpoint choice): the mean PSNR over these LR versions, a JPEG
# quality inside the band, or None for the clean LR. Level 1 must keep clean photos as they were.
VALIDATION_QUALITIES = {1: (None, 90), 2: (75,), 3: (50,)}


def jpeg_roundtrip(rgb, quality):
    """(H, W, 3) uint8 → the same image saved as JPEG at `quality` (4:2:0) and decoded."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format='JPEG', quality=int(quality))
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert('RGB'))


def gaussian_kernel(rng, size=9):
    """A normalised 2-D Gaussian, σ along two random perpendicular axes (equal half the time)."""
    s1 = rng.uniform(0.2, 1.5)
    s2 = s1 if rng.random() < 0.5 else rng.uniform(0.2, 1.5)
    theta = rng.uniform(0, math.pi)
    c, s = math.cos(theta), math.sin(theta)
    half = size // 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    u, v = c * x + s * y, -s * x + c * y
    k = np.exp(-0.5 * ((u / s1) ** 2 + (v / s2) ** 2))
    return k / k.sum()


def blur(img, kernel):
    """(H, W, C) float64 convolved with `kernel`, borders reflected."""
    half = kernel.shape[0] // 2
    padded = np.pad(img, ((half, half), (half, half), (0, 0)), mode='reflect')
    out = np.zeros_like(img)
    h, w = img.shape[:2]
    for dy in range(kernel.shape[0]):
        for dx in range(kernel.shape[1]):
            out += kernel[dy, dx] * padded[dy:dy + h, dx:dx + w]
    return out


def downscale(img, scale, rng, method=None):
    """(H, W, 3) float64 in [0, 255], H and W multiples of `scale` → (H/scale, W/scale, 3) uint8, by
    `method` (0 MATLAB bicubic, 1 bilinear, 2 area), drawn at random when None."""
    h, w = img.shape[0] // scale, img.shape[1] // scale
    method = rng.integers(3) if method is None else method
    if method == 0:
        return np.clip(np.round(imresize(img, scale=1.0 / scale)), 0, 255).astype(np.uint8)
    pil = Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8))
    resample = Image.BILINEAR if method == 1 else Image.BOX
    return np.asarray(pil.resize((w, h), resample))


def add_noise(img, sigma_max, rng):
    """uint8 image → noisy uint8 image: Gaussian (gray or colour) or Poisson."""
    x = img.astype(np.float64)
    if rng.random() < 0.6:
        sigma = rng.uniform(0.5, sigma_max)
        shape = x.shape[:2] + (1,) if rng.random() < 0.4 else x.shape
        x = x + rng.normal(0.0, sigma, shape)
    else:
        # Photon noise: counts = value · peak / 255 with the peak drawn so that mid-grey's noise
        # σ stays within the band.
        peak = 128.0 * 255.0 / max(sigma_max, 1.0) ** 2 * rng.uniform(1.0, 8.0)
        x = rng.poisson(np.clip(x, 0, 255) * peak / 255.0) * 255.0 / peak
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def degrade(hr_rgb, scale, level, rng):
    """HR (H, W, 3) uint8, H and W multiples of `scale` → LR (H/scale, W/scale, 3) uint8."""
    band = LEVELS[level]
    low, high = band['jpeg']
    kind = rng.random()
    if kind < band['clean'] + band['plain']:
        lr = downscale(hr_rgb.astype(np.float64), scale, rng, method=0)
        return lr if kind < band['clean'] else jpeg_roundtrip(lr, rng.integers(low, high + 1))
    img = hr_rgb.astype(np.float64)
    if rng.random() < band['blur']:
        img = blur(img, gaussian_kernel(rng))
    lr = downscale(img, scale, rng)
    if rng.random() < band['noise_p']:
        lr = add_noise(lr, band['sigma'], rng)
    lr = jpeg_roundtrip(lr, rng.integers(low, high + 1))
    if rng.random() < band['double']:
        lr = jpeg_roundtrip(lr, rng.integers(low, high + 1))
    return lr
