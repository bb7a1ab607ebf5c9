"""The network: an FSRCNN-style stack of ConvTranspose2d layers with PReLU, predicting the
residual over the bicubic upscale of the luma channel.

  feature  5×5  1 → d   PReLU      (stride-1 ConvTranspose2d == convolution with a flipped kernel)
  shrink   1×1  d → s   PReLU
  map      3×3  s → s   PReLU  × m
  expand   1×1  s → d   PReLU
  deconv   9×9  d → 1   stride = scale, padding/output_padding chosen so that out = scale · in

Everything is a ConvTranspose2d so that the exported stack is exactly what the Swift engine runs.
"""
import torch
from torch import nn

# 2·p − op = 9 − scale with 0 ≤ op < scale gives out = scale·in for the 9×9 deconv.
DECONV_PADDING = {2: (4, 1), 3: (3, 0), 4: (3, 1)}


def same(k):
    """Padding of a stride-1 ConvTranspose2d with a k×k kernel that keeps the size: p = (k − 1)/2."""
    return (k - 1) // 2


def fsrcnn(scale, d=56, s=12, m=4):
    layers = [nn.ConvTranspose2d(1, d, 5, padding=same(5)), nn.PReLU(d),
              nn.ConvTranspose2d(d, s, 1), nn.PReLU(s)]
    for _ in range(m):
        layers += [nn.ConvTranspose2d(s, s, 3, padding=same(3)), nn.PReLU(s)]
    layers += [nn.ConvTranspose2d(s, d, 1), nn.PReLU(d)]
    pad, out_pad = DECONV_PADDING[scale]
    layers += [nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=pad, output_padding=out_pad)]
    stack = nn.Sequential(*layers)
    for module in stack:
        if isinstance(module, nn.ConvTranspose2d):
            # He init for the PReLU-activated layers, small for the last (residual starts near 0).
            fan = module.in_channels * module.kernel_size[0] * module.kernel_size[1] // max(1, module.stride[0] ** 2)
            nn.init.normal_(module.weight, 0.0, (2.0 / fan) ** 0.5)
            nn.init.zeros_(module.bias)
    last = stack[-1]
    nn.init.normal_(last.weight, 0.0, 1e-3)
    return stack


class ResidualSR(nn.Module):
    """stack(lr) + bicubic(lr): the bicubic upscale is precomputed by the data pipeline (MATLAB imresize)."""

    def __init__(self, stack):
        super().__init__()
        self.stack = stack

    def forward(self, lr, bicubic):
        return self.stack(lr) + bicubic
