"""Blend a denoise model with the clean model it was fine-tuned from, on the held-out images.

A denoise run starts from the clean model of its scale, so the two sets of weights lie close
together and every point of the line between them, (1 − α)·clean + α·denoise, is a working model
of the same layers: α = 0 is the clean model, α = 1 the fine-tuned one. Moving along it trades
quality on clean inputs for quality on compressed ones smoothly. This script scores α = 0, 0.1 …
1 on the held-out images by the level's own validation criterion (degrade.VALIDATION_QUALITIES:
the mean over clean and JPEG 90 for level 1, JPEG 75 and 50 for levels 2 and 3), the same images
and score that chose the denoise checkpoint, and writes the best α's weights as a checkpoint that
export.py takes. Set5 chooses nothing.

    python training/blend.py --clean CLEAN/best.pt --denoise RUN/best.pt --out blended.pt

For a ×1 model the clean model has a different last layer (×2's), so only α = 1 exists: the
checkpoint is copied as it is.
"""
import argparse
import os

import torch

from data import list_images, load_rgb, make_pair
from degrade import VALIDATION_QUALITIES
from train import DATASETS, build_net, holdout_split, save_atomically, validate


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--clean', required=True, help='the clean model\'s checkpoint the denoise run started from')
    p.add_argument('--denoise', required=True, help='the denoise run\'s best.pt')
    p.add_argument('--out', required=True)
    p.add_argument('--holdout', type=int, default=10, help='as train.py\'s')
    args = p.parse_args()
    torch.set_num_threads(1)

    denoise = torch.load(args.denoise, map_location='cpu', weights_only=False)
    clean = torch.load(args.clean, map_location='cpu', weights_only=False)
    config = denoise['config']
    level, scale = config['degrade'], config['scale']
    clean_config = {k: v for k, v in config.items() if k != 'degrade'}
    if clean['config'] != clean_config:
        if scale == 1:
            print(f'x1: no clean model of this scale to blend with; {args.denoise} kept as it is (α = 1)')
            save_atomically(dict(denoise, blend=1.0), args.out)
            return
        p.error(f'{args.clean} holds {clean["config"]}, not the clean form of {config}')

    _, held = holdout_split(list_images([os.path.join(DATASETS, 'train', 'BSD200')]), args.holdout)
    qualities = VALIDATION_QUALITIES[level]
    held_sets = [[make_pair(load_rgb(path), scale, q) for path in held] for q in qualities]
    net = build_net(config)
    best = None
    for tenth in range(11):
        alpha = tenth / 10
        net.load_state_dict({k: (1 - alpha) * clean['model'][k] + alpha * denoise['model'][k]
                             for k in denoise['model']})
        score = validate(net, held_sets, scale, 'cpu')
        print(f'α {alpha:.1f}: held-out {score:.3f} dB', flush=True)
        if best is None or score > best[1]:
            best = (alpha, score, {k: v.clone() for k, v in net.state_dict().items()})
    alpha, score, weights = best
    versions = ', '.join('clean' if q is None else f'JPEG {q}' for q in qualities)
    print(f'x{scale} level {level}: α {alpha:.1f} (held-out {score:.3f} dB, mean over {versions}) → {args.out}')
    save_atomically(dict(model=weights, iter=denoise.get('iter'), psnr=score, config=config, blend=alpha),
                    args.out)


if __name__ == '__main__':
    main()
