"""Train an x2/x3/x4 upscaling model from scratch, reproducibly.

    python training/train.py --scale 2            # writes training/runs/x2/{last,best}.pt
    python training/train.py --scale 2 --resume   # continues from runs/x2/last.pt
    python training/train.py --scale 2 --resume --restart --lr 3e-4 --iters 12000
                                                  # warm restart: a new cosine from 3e-4

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import load_rgb, list_images, make_pair, random_patches, training_set  # noqa: E402
from model import ResidualSR, fsrcnn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(ROOT, '..', 'shared', 'datasets')


def psnr_y(sr, hr, shave):
    """PSNR in dB of luma in [0, 1], `shave` border pixels removed, SR rounded to 8-bit levels."""
    sr = np.clip(np.round(sr * 255.0), 0, 255)
    diff = (sr - hr * 255.0)[shave:-shave, shave:-shave]
    return 10 * math.log10(255.0 ** 2 / np.mean(diff ** 2))


def validate(net, val_pairs, scale, device):
    net.eval()
    scores = []
    with torch.no_grad():
        for lr, bic, hr in val_pairs:
            t = lambda a: torch.from_numpy(a)[None, None].to(device)
            sr = net(t(lr), t(bic))[0, 0].clamp(0, 1).cpu().numpy()
            scores.append(psnr_y(sr, hr, scale))
    net.train()
    return float(np.mean(scores))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scale', type=int, required=True, choices=(2, 3, 4))
    p.add_argument('--iters', type=int, default=60000)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--patch', type=int, default=0, help='LR patch size (default 96/scale)')
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--loss', choices=('l1', 'mse'), default='l1',
                   help='l1 (default) or mse, which is what PSNR measures (for a final fine-tune)')
    p.add_argument('--width', type=int, default=56, help='feature channels d')
    p.add_argument('--shrink', type=int, default=12, help='mapping channels s')
    p.add_argument('--maps', type=int, default=4, help='mapping layers m')
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
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    patch = args.patch or 96 // args.scale

    t0 = time.time()
    train_pairs = training_set([os.path.join(DATASETS, 'train', d) for d in ('T91', 'BSD200')], args.scale)
    train_pairs = [t for t in train_pairs if min(t[0].shape) >= patch]
    val_pairs = [make_pair(load_rgb(p), args.scale) for p in list_images([os.path.join(DATASETS, 'val', 'Set5')])]
    print(f'data: {len(train_pairs)} training images, {len(val_pairs)} validation, {time.time() - t0:.0f}s', flush=True)

    config = dict(scale=args.scale, width=args.width, shrink=args.shrink, maps=args.maps)
    net = ResidualSR(fsrcnn(args.scale, args.width, args.shrink, args.maps)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    # Cosine annealing from base_lr at iteration `since` to 1% of it at args.iters. A warm restart
    # (--resume --restart) keeps the weights and Adam's moments and starts a new cosine from --lr.
    schedule = dict(base_lr=args.lr, since=0)
    start, best = 0, -1.0
    last_path, best_path = os.path.join(out, 'last.pt'), os.path.join(out, 'best.pt')
    if args.resume and os.path.exists(last_path):
        ck = torch.load(last_path, weights_only=False)
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
        lr_b, bic_b, hr_b = (torch.from_numpy(a).to(device)
                             for a in random_patches(train_pairs, rng, args.batch, patch, args.scale))
        loss = loss_fn(net(lr_b, bic_b), hr_b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.item()
        if it % args.val_every == 0 or it == args.iters:
            score = validate(net, val_pairs, args.scale, device)
            state = dict(model=net.state_dict(), opt=opt.state_dict(), schedule=schedule, iter=it,
                         best=max(best, score), rng=rng, torch_rng=torch.get_rng_state(), config=config)
            if score > best:
                best = score
                torch.save(dict(model=net.state_dict(), iter=it, psnr=score, config=config), best_path)
            torch.save(state, last_path)
            rate = args.val_every / (time.time() - t_last)
            print(f'x{args.scale} iter {it}/{args.iters} loss {loss_sum / args.val_every:.5f} '
                  f'lr {learning_rate(it):.2e} Set5 {score:.3f} dB (best {best:.3f}) {rate:.1f} it/s',
                  flush=True)
            loss_sum, t_last = 0.0, time.time()
            if args.stop_at and it >= args.stop_at:
                break


if __name__ == '__main__':
    main()
