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


# ---------------------------------------------------------------------------------------------
# Deep, thin, plain stacks trained with collapsible linear blocks (after SESR, Bhardwaj et al.
# 2022). Inference form, all at LR resolution except the last layer:
#
#   feature  5×5  1 → c   PReLU
#   body     3×3  c → c   PReLU   × m        (each an identity-residual block, folded)
#   last     k×k  c → r²  then PixelShuffle(r) == one ConvTranspose2d, kernel r·k, stride r,
#                                               padding r·(k − 1)/2 (its bias shared by the r² phases)
#   output = stack(lr) + bicubic(lr)
#
# During training each k×k layer is over-parameterised as a k×k conv C → E followed by a 1×1 conv
# E → D (plus the identity when C = D). Both are linear, so every step multiplies them out into one
# k×k weight first (W = W2·W1 + I, b = W2·b1 + b2) and convolves once: the cost of a step is the
# plain stack's, and the exported file holds only the collapsed layers.
# ---------------------------------------------------------------------------------------------
import torch.nn.functional as F  # noqa: E402


class CollapsibleConv(nn.Module):
    """A k×k conv C → E, then a 1×1 conv E → D, plus x itself when `identity` (C = D)."""

    def __init__(self, c_in, c_out, k, expand, identity, bias_repeat=1):
        super().__init__()
        assert not identity or c_in == c_out
        assert c_out % bias_repeat == 0
        self.c_in, self.c_out, self.k, self.identity = c_in, c_out, k, identity
        self.bias_repeat = bias_repeat
        if expand == 0:
            # No over-parameterisation: the plain layer (for comparing against the collapsible one).
            self.w = nn.Parameter(torch.empty(c_out, c_in, k, k))   # (D, C, k, k)
            nn.init.kaiming_normal_(self.w, a=0.25)
            if identity:
                self.w.data.mul_(0.1)
            self.b2 = nn.Parameter(torch.zeros(c_out // bias_repeat))
            return
        self.w1 = nn.Parameter(torch.empty(expand, c_in, k, k))   # (E, C, k, k)
        self.w2 = nn.Parameter(torch.empty(c_out, expand))        # (D, E)
        if bias_repeat == 1:
            self.b1 = nn.Parameter(torch.zeros(expand))           # (E)
        else:
            # Each bias value serves `bias_repeat` consecutive output channels (the r² phases of
            # one pixel-shuffled channel, which a ConvTranspose2d gives a single bias), so the
            # expansion has no bias of its own: W2·b1 would differ between the phases.
            self.register_buffer('b1', torch.zeros(expand))
        self.b2 = nn.Parameter(torch.zeros(c_out // bias_repeat))  # (D / bias_repeat)
        nn.init.kaiming_normal_(self.w1, a=0.25)
        nn.init.normal_(self.w2, 0.0, (1.0 / expand) ** 0.5)

    def collapsed(self):
        """(weight (D, C, k, k), bias (D)) of the single conv equal to this block."""
        if not hasattr(self, 'w1'):
            return self._with_identity(self.w), self.bias()
        w = self._with_identity(torch.einsum('de,eckl->dckl', self.w2, self.w1))
        return w, self.w2 @ self.b1 + self.bias()

    def _with_identity(self, w):
        if self.identity:
            eye = torch.zeros_like(w)
            centre = self.k // 2
            eye[torch.arange(self.c_out), torch.arange(self.c_in), centre, centre] = 1.0
            w = w + eye
        return w

    def bias(self):
        return self.b2.repeat_interleave(self.bias_repeat)  # (D)

    def forward(self, x):
        w, b = self.collapsed()
        return F.conv2d(x, w, b, padding=self.k // 2)

    def forward_expanded(self, x):
        """The over-parameterised graph itself (two convs and the skip), for the collapse test."""
        if not hasattr(self, 'w1'):
            y = F.conv2d(x, self.w, self.bias(), padding=self.k // 2)
            return y + x if self.identity else y
        y = F.conv2d(x, self.w1, self.b1, padding=self.k // 2)
        y = F.conv2d(y, self.w2[:, :, None, None], self.bias())
        return y + x if self.identity else y


class ThinSR(nn.Module):
    """The deep, thin stack above. forward(lr, bicubic) → SR, like ResidualSR."""

    def __init__(self, scale, channels=16, blocks=5, expand=64, first_kernel=5, last_kernel=3):
        super().__init__()
        self.scale = scale
        self.first = CollapsibleConv(1, channels, first_kernel, expand, identity=False)
        self.first_act = nn.PReLU(channels)
        self.body = nn.ModuleList(CollapsibleConv(channels, channels, 3, expand, identity=True)
                                  for _ in range(blocks))
        self.body_acts = nn.ModuleList(nn.PReLU(channels) for _ in range(blocks))
        self.last = CollapsibleConv(channels, scale * scale, last_kernel, expand, identity=False,
                                    bias_repeat=scale * scale)
        with torch.no_grad():      # the residual over bicubic starts near zero
            (self.last.w2 if expand else self.last.w).mul_(1e-2)

    def residual(self, lr, expanded=False):
        run = (lambda block, x: block.forward_expanded(x)) if expanded else (lambda block, x: block(x))
        x = self.first_act(run(self.first, lr))
        for block, act in zip(self.body, self.body_acts):
            x = act(run(block, x))
        return F.pixel_shuffle(run(self.last, x), self.scale)

    def forward(self, lr, bicubic, expanded=False):
        return self.residual(lr, expanded) + bicubic

    def load_body(self, state, with_last=False):
        """Initialise from another model's state dict: every tensor but the last layer's (another
        scale's), or every tensor (`with_last`: the same scale, e.g. a denoise model from the clean one)."""
        own = self.state_dict()
        taken = {k: v for k, v in state.items() if (with_last or not k.startswith('last.')) and k in own
                 and own[k].shape == v.shape}
        own.update(taken)
        self.load_state_dict(own)
        return sorted(taken)

    @torch.no_grad()
    def plain_stack(self):
        """The inference form: an nn.Sequential of Conv2d/ConvTranspose2d and PReLU, residual excluded."""
        layers = []
        for block, act in [(self.first, self.first_act)] + list(zip(self.body, self.body_acts)):
            w, b = block.collapsed()
            conv = nn.Conv2d(block.c_in, block.c_out, block.k, padding=block.k // 2)
            conv.weight.copy_(w)
            conv.bias.copy_(b)
            prelu = nn.PReLU(act.weight.numel())
            prelu.weight.copy_(act.weight)
            layers += [conv, prelu]
        layers.append(conv_pixel_shuffle_as_transpose(*self.last.collapsed(), self.scale))
        return nn.Sequential(*layers)


@torch.no_grad()
def conv_pixel_shuffle_as_transpose(weight, bias, r):
    """A k×k 'same' conv (weight (C'·r², C, k, k), bias (C'·r²) or None) followed by PixelShuffle(r),
    as the one ConvTranspose2d computing the same function: kernel r·k, stride r, padding r·(k − 1)/2.

    Output pixel (r·y + i, r·x + j) of channel o is conv channel o·r² + i·r + j at (y, x), which reads
    input (y + a − h, x + b − h) with weight[.., a, b], h = (k − 1)/2. The transpose conv reaches that
    output from input y + a − h through kernel row i + r·(k − 1 − a), so
        // src = conv weight (C'·r², C, k, k) / dst = transpose weight (C, C', r·k, r·k)
        dst[c, o, i + r·(k − 1 − a), j + r·(k − 1 − b)] = src[o·r² + i·r + j, c, a, b]
    Exact only when the r² phase biases of each output channel are equal (a ConvTranspose2d has one
    bias per output channel); otherwise ValueError.
    """
    n, c_in, k, k2 = weight.shape
    if k != k2 or k % 2 == 0 or n % (r * r) != 0:
        raise ValueError(f'only an odd square conv to C·r² channels folds into PixelShuffle({r}); weight is {tuple(weight.shape)}')
    c_out = n // (r * r)
    src = weight.reshape(c_out, r, r, c_in, k, k)          # (o, i, j, c, a, b)
    src = src.flip(-1, -2)                                  # index k − 1 − a, k − 1 − b
    dst = src.permute(3, 0, 4, 1, 5, 2).reshape(c_in, c_out, r * k, r * k)   # (c, o, a', i, b', j)
    conv = nn.ConvTranspose2d(c_in, c_out, r * k, stride=r, padding=r * (k - 1) // 2, bias=bias is not None)
    conv.weight.copy_(dst)
    if bias is not None:
        phases = bias.reshape(c_out, r * r)
        if not torch.equal(phases, phases[:, :1].expand(c_out, r * r)):
            raise ValueError('the r² phases of a pixel-shuffled channel have different biases: '
                             'a ConvTranspose2d has one bias per output channel')
        conv.bias.copy_(phases[:, 0])
    return conv


def fold_pixel_shuffle(conv, r):
    """An nn.Conv2d followed by PixelShuffle(r) as one ConvTranspose2d (conv_pixel_shuffle_as_transpose):
    the one fold for every script (training's export, the benchmarks). The conv must be the kind the
    fold is exact for: odd square kernel, 'same' padding, stride 1, no dilation, one group."""
    k = conv.kernel_size[0]
    if conv.kernel_size != (k, k) or k % 2 == 0 or tuple(conv.padding) != ((k - 1) // 2,) * 2 \
            or tuple(conv.stride) != (1, 1) or tuple(conv.dilation) != (1, 1) or conv.groups != 1:
        raise ValueError(f"{conv}: only an odd square stride-1 'same' conv folds into PixelShuffle({r})")
    return conv_pixel_shuffle_as_transpose(conv.weight.detach(), None if conv.bias is None else conv.bias.detach(), r)
