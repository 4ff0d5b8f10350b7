"""What a fully convolutional dual-energy verifier would cost against today's window sweep (issue 8's container
lever): the verifier's own layers (random weights: time only) on a 40 ft scan's dense sweep as the runtime feeds it
(339 windows of 2 x 128 x 128, each with its mirror image) against one pass over the whole 6 mm/px rendering
(2 x 740 x 2050, and its mirror image). Prints both times and the feature map a window lattice would pool from.

    /usr/bin/python3 models/training/probe_fcn_cost.py [--windows 339] [--height 740] [--width 2050] [--threads 2]
"""
import argparse
import time

import torch

import train_verifier as tv


def timed(fn, n):
    fn()
    s = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - s) / n * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--windows', type=int, default=339)
    ap.add_argument('--height', type=int, default=740)
    ap.add_argument('--width', type=int, default=2050)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = tv.Net(len(tv.LABELS), channels=2).eval()
    with torch.no_grad():
        windows = torch.rand(a.windows * 2, 2, tv.SIZE, tv.SIZE)
        whole = torch.rand(2, 2, a.height, a.width)
        tw = timed(lambda: m(windows), a.repeats)
        tf = timed(lambda: m.f(whole), a.repeats)
        fmap = tuple(m.f(whole[:1]).shape)
    print(f'{a.windows} windows + mirrors: {tw:.0f} ms; whole {a.height} x {a.width} + mirror: {tf:.0f} ms '
          f'({tw / tf:.1f}x less); feature map {fmap} (stride {round(a.width / fmap[3])})')


if __name__ == '__main__':
    main()
