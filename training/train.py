"""Train an x2/x3/x4 upscaling model from scratch, reproducibly.

    python training/train.py --scale 2 --arch thin --out training/checkpoints/x2
                                                  # writes OUT/{last,best}.pt and appends OUT/train.log
    python training/train.py --scale 2 --arch thin --out training/checkpoints/x2 --resume
                                                  # continues exactly where last.pt stopped
    python training/train.py ... --resume --restart --lr 3e-4 --iters 12000 [--loss mse]
                                                  # warm restart: a new cosine from 3e-4
    python training/train.py --scale 4 --arch thin --init-from training/checkpoints/x2/best.pt ...
                                                  # x3/x4 start from the x2 body

Architectures: `fsrcnn` (the first shipped models) and `thin` (model.ThinSR: a deep, thin stack
trained with collapsible linear blocks). Checkpoints are chosen on --holdout BSD200 images that
training never sees; Set5 is reported beside them and chooses nothing.

Then export the best checkpoint to the weights format:
    python training/export.py --checkpoint training/runs/x2/best.pt --out models/x2.bin

Data: ../shared/datasets/train/{T91,BSD200} (HR), validation ../shared/datasets/val/Set5.
Same command on CPU or GPU (picked automatically); seeds fixed by --seed.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

from data import (DEGRADE_MARGIN, load_rgb, list_images, make_pair, random_degraded_patches,
                  random_patches, training_images, training_set)
from degrade import VALIDATION_QUALITIES
from model import ResidualSR, ThinSR, fsrcnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(ROOT, '..', 'shared', 'datasets')


def psnr_y(sr, hr, shave):
    """PSNR in dB of luma in [0, 1], `shave` border pixels removed, SR rounded to 8-bit levels."""
    sr = np.clip(np.round(sr * 255.0), 0, 255)
    diff = (sr - hr * 255.0)[shave:-shave, shave:-shave]
    return 10 * math.log10(255.0 ** 2 / np.mean(diff ** 2))


def save_atomically(obj, path):
    """A kill (the end of a session) leaves the previous checkpoint or the new one, never half of one."""
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def build_net(config):
    if config.get('arch', 'fsrcnn') == 'thin':
        return ThinSR(config['scale'], config['channels'], config['blocks'], config['expand'],
                      last_kernel=config['last_kernel'])
    return ResidualSR(fsrcnn(config['scale'], config['width'], config['shrink'], config['maps']))


def holdout_split(paths, count):
    """Every (len/count)-th BSD200 image is held out to choose checkpoints; the rest train."""
    if count <= 0:
        return paths, []
    step = max(1, len(paths) // count)
    held = set(paths[::step][:count])
    return [p for p in paths if p not in held], [p for p in paths if p in held]


def validate(net, val_sets, scale, device):
    """Mean Y-PSNR over each set of (lr, bic, hr) pairs, then over the sets."""
    net.eval()
    means = []
    with torch.no_grad():
        for pairs in val_sets:
            scores = []
            for lr, bic, hr in pairs:
                t = lambda a: torch.from_numpy(a)[None, None].to(device)
                sr = net(t(lr), t(bic))[0, 0].clamp(0, 1).cpu().numpy()
                scores.append(psnr_y(sr, hr, scale))
            means.append(np.mean(scores))
    net.train()
    return float(np.mean(means))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scale', type=int, required=True, choices=(1, 2, 3, 4),
                   help='1: a denoise-only model (with --degrade)')
    p.add_argument('--arch', choices=('fsrcnn', 'thin'), default='fsrcnn')
    p.add_argument('--iters', type=int, default=60000)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--patch', type=int, default=0, help='LR patch size (default 96/scale)')
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--loss', choices=('l1', 'mse'), default='l1',
                   help='l1 (default) or mse, which is what PSNR measures (for a final fine-tune)')
    p.add_argument('--width', type=int, default=56, help='feature channels d')
    p.add_argument('--shrink', type=int, default=12, help='mapping channels s')
    p.add_argument('--maps', type=int, default=4, help='mapping layers m')
    p.add_argument('--channels', type=int, default=16, help='thin: feature channels c')
    p.add_argument('--blocks', type=int, default=5, help='thin: 3×3 body layers m')
    p.add_argument('--expand', type=int, default=64,
                   help='thin: collapsible expansion E (0: plain layers, no over-parameterisation)')
    p.add_argument('--last-kernel', type=int, default=3, help='thin: kernel of the last conv before PixelShuffle')
    p.add_argument('--holdout', type=int, default=10,
                   help='BSD200 images held out to choose checkpoints (0: choose on Set5, as the fsrcnn models did)')
    p.add_argument('--init-from', help='thin: start from this checkpoint\'s body (another scale\'s best.pt; '
                   'all of it when the scale is the same)')
    p.add_argument('--degrade', type=int, default=0, choices=(0, 1, 2, 3),
                   help='denoise level: LR patches degraded on the fly (degrade.py); validation at the '
                   'level\'s JPEG quality')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=0, help='CPU threads (0: torch default)')
    p.add_argument('--val-every', type=int, default=1000)
    p.add_argument('--out', default=None, help='run folder (default training/runs/x<scale>)')
    p.add_argument('--stop-at', type=int, default=0,
                   help='stop after this iteration (a validation point), as if interrupted; the schedule still aims at --iters')
    p.add_argument('--resume', action='store_true', help='continue from the run folder\'s last.pt')
    p.add_argument('--restart', action='store_true',
                   help='with --resume: warm restart from the weights alone (fresh optimizer, new cosine from --lr to --iters)')
    args = p.parse_args()

    out = args.out or os.path.join(ROOT, 'training', 'runs', f'x{args.scale}')
    os.makedirs(out, exist_ok=True)
    log_file = open(os.path.join(out, 'train.log'), 'a')

    def print(*parts, **_):   # every line also goes to OUT/train.log, which is committed with the checkpoints
        line = ' '.join(str(x) for x in parts)
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
        log_file.write(line + '\n')
        log_file.flush()

    print(f'# {time.strftime("%Y-%m-%d %H:%M:%S")} train.py {" ".join(sys.argv[1:])}')
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    patch = args.patch or 96 // args.scale

    t0 = time.time()
    bsd, held = holdout_split(list_images([os.path.join(DATASETS, 'train', 'BSD200')]), args.holdout)
    train_paths = list_images([os.path.join(DATASETS, 'train', 'T91')]) + bsd
    qualities = VALIDATION_QUALITIES[args.degrade] if args.degrade else (None,)
    if args.scale == 1:
        if not args.degrade:
            p.error('--scale 1 is for denoise models: add --degrade 1..3')
        # A clean ×1 input is the reference itself: its PSNR says nothing (infinite for the identity).
        qualities = tuple(q for q in qualities if q is not None)
    # What patches are cut from: HR images degraded on the fly (--degrade), or precomputed
    # (LR, bicubic, HR) triples.
    if args.degrade:
        train_data = [i for i in training_images(train_paths, args.scale)
                      if min(i.shape[:2]) >= (patch + 2 * DEGRADE_MARGIN) * args.scale]
    else:
        train_data = [t for t in training_set(train_paths, args.scale) if min(t[0].shape) >= patch]
    # Validation sets, one list of pairs per LR version (clean or a JPEG quality); a score is
    # their mean.
    set5_pairs = [[make_pair(load_rgb(p), args.scale, q) for p in list_images([os.path.join(DATASETS, 'val', 'Set5')])]
                  for q in qualities]
    held_pairs = [[make_pair(load_rgb(p), args.scale, q) for p in held] for q in qualities] if held else []
    val_pairs = held_pairs or set5_pairs
    if args.degrade:
        versions = ' and '.join('clean' if q is None else f'saved as JPEG quality {q}' for q in qualities)
        print(f'degradation level {args.degrade}: training patches degraded on the fly; held-out and Set5 '
              f'scored on the mean over their LR {versions}')
    print(f'data: {len(train_data)} training images, {len(held)} held out '
          f'({", ".join(os.path.basename(p) for p in held) or "none: Set5 chooses"}), {time.time() - t0:.0f}s', flush=True)

    if args.arch == 'thin':
        config = dict(arch='thin', scale=args.scale, channels=args.channels, blocks=args.blocks,
                      expand=args.expand, last_kernel=args.last_kernel)
        if args.degrade:
            config['degrade'] = args.degrade
    else:
        config = dict(scale=args.scale, width=args.width, shrink=args.shrink, maps=args.maps)
    net = build_net(config).to(device)
    if args.init_from and not args.resume:
        if args.arch != 'thin':
            p.error('--init-from is for --arch thin')
        source = torch.load(args.init_from, map_location='cpu', weights_only=False)
        taken = net.load_body(source['model'], with_last=source['config']['scale'] == args.scale)
        print(f'initialised {len(taken)} tensors from {args.init_from} (iteration {source.get("iter")})', flush=True)
    if args.degrade and not args.resume:
        print(f'before training: held-out {validate(net, val_pairs, args.scale, device):.3f} dB, '
              f'Set5 {validate(net, set5_pairs, args.scale, device):.3f} dB', flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    # Cosine annealing from base_lr at iteration `since` to 1% of it at args.iters. A warm restart
    # (--resume --restart) keeps the weights and Adam's moments and starts a new cosine from --lr.
    schedule = dict(base_lr=args.lr, since=0)
    start, best = 0, -1.0
    last_path, best_path = os.path.join(out, 'last.pt'), os.path.join(out, 'best.pt')
    if args.resume and os.path.exists(last_path):
        ck = torch.load(last_path, weights_only=False)
        if ck.get('config', config) != config:
            p.error(f'{last_path} holds {ck.get("config")}, not {config}')
        net.load_state_dict(ck['model'])
        start, best = ck['iter'], ck['best']
        if args.restart:
            # Only the weights carry over: fresh Adam moments, a new cosine, seeds derived from
            # (--seed, iteration), so a restart depends on nothing but the weights it starts from.
            schedule = dict(base_lr=args.lr, since=start)
            torch.manual_seed(args.seed * 1_000_003 + start)
            rng = np.random.default_rng([args.seed, start])
        else:
            opt.load_state_dict(ck['opt'])
            schedule = ck.get('schedule', dict(base_lr=1e-3, since=0))
            rng = ck['rng']
            torch.set_rng_state(ck['torch_rng'])
        print(f'resumed at iteration {start}, best {best:.3f} dB, learning rate {schedule["base_lr"]:.1e} '
              f'annealed from iteration {schedule["since"]} to {args.iters}', flush=True)
    elif args.restart:
        p.error('--restart needs --resume and a run to resume')

    def learning_rate(it):
        span = max(1, args.iters - schedule['since'])
        k = min(max(it - schedule['since'], 0), span)
        return schedule['base_lr'] * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * k / span)))

    loss_fn = torch.nn.functional.l1_loss if args.loss == 'l1' else torch.nn.functional.mse_loss
    loss_sum, t_last = 0.0, time.time()
    for it in range(start + 1, args.iters + 1):
        for group in opt.param_groups:
            group['lr'] = learning_rate(it - 1)
        batch = (random_degraded_patches(train_data, rng, args.batch, patch, args.scale, args.degrade)
                 if args.degrade else random_patches(train_data, rng, args.batch, patch, args.scale))
        lr_b, bic_b, hr_b = (torch.from_numpy(a).to(device) for a in batch)
        loss = loss_fn(net(lr_b, bic_b), hr_b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.item()
        if it % args.val_every == 0 or it == args.iters:
            score = validate(net, val_pairs, args.scale, device)
            set5 = validate(net, set5_pairs, args.scale, device) if held_pairs else score
            state = dict(model=net.state_dict(), opt=opt.state_dict(), schedule=schedule, iter=it,
                         best=max(best, score), rng=rng, torch_rng=torch.get_rng_state(), config=config)
            if score > best:
                best = score
                save_atomically(dict(model=net.state_dict(), iter=it, psnr=score, set5=set5, config=config),
                                best_path)
            save_atomically(state, last_path)
            rate = args.val_every / (time.time() - t_last)
            chooser = 'held-out' if held_pairs else 'Set5'
            print(f'x{args.scale} iter {it}/{args.iters} loss {loss_sum / args.val_every:.5f} '
                  f'lr {learning_rate(it):.2e} {chooser} {score:.3f} dB (best {best:.3f}) Set5 {set5:.3f} dB '
                  f'{rate:.1f} it/s', flush=True)
            loss_sum, t_last = 0.0, time.time()
            if args.stop_at and it >= args.stop_at:
                break


if __name__ == '__main__':
    main()
