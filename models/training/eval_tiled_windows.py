"""Would the dual-energy verifier find more knives if it also looked at a regular tiling of the scan, not only where
the grid proposes? At 48 proposals a scan the windows miss 13 % of knives outright (the grid gives them no cell at
0.05), so no verifier can find those. This scores, on the same held-out renderings, (a) the proposal windows alone
(what the runtime does), and (b) the proposal windows plus a tiling at half a window's stride (every box then
overlaps some window's central half), each with the card's kind of fusion with the grid fitted on the calibration
half's windows, thresholds chosen there; figures on the test half. Nothing is written to the registry.

Run (from the repo root; verify-val written with --material, and its grid proposals):
  /usr/bin/python3 models/training/eval_tiled_windows.py [--model models/registry/container-threat-verify-de.onnx] [--out r.json]
"""
import argparse, json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from common import Timer, load_folded_onnx
from train_grid_detector import LABELS
from train_verifier import WINDOW, FlipAveraged, Net, build, grid_around, load_grid, load_rendering, predict, targets, window_box, window_planes
from eval_verifier_combos import summary


def tiles(d, model):
    """Every rendering's tiling: window scores, info rows (rendering, -1, 0, grid around...), targets, masks."""
    j, p = load_grid(d)
    vs, infos, ys, ms = [], [], [], []
    for n, im in enumerate(j['images']):
        boxes, img, mat = load_rendering(d, im, material=True)
        W, H = img.size
        centres = []
        for lo, size in ((im['padX'], W * im['sx']), (im['padY'], H * im['sy'])):
            k = max(1, int(np.ceil(size / (WINDOW / 2))))
            centres.append([min(lo + WINDOW / 4 + i * WINDOW / 2, lo + size - WINDOW / 4) for i in range(k)])
        xs = []
        for cy in centres[1]:
            for cx in centres[0]:
                b = window_box(im, cx, cy, WINDOW)
                t, m = targets(boxes, b)
                xs.append(window_planes(img, mat, b)); ys.append(t); ms.append(m)
                infos.append((n, -1, 0.0, *grid_around(p[n], cx, cy, j['stride'])))
        vs.append(predict(model, np.stack(xs)))
        if (n + 1) % 100 == 0:
            print(f'  tiled {n + 1}/{len(j["images"])}, {len(infos)} windows', flush=True)
    return np.concatenate(vs), np.array(infos, dtype=np.float64), np.stack(ys), np.stack(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--val', default='models/training/out/verify-val')
    ap.add_argument('--model', default='models/registry/container-threat-verify-de.onnx')
    ap.add_argument('--no-flip', action='store_true', help='score each window once, not averaged with its mirror image (half the time)')
    ap.add_argument('--out')
    a = ap.parse_args()
    t = Timer()
    net = Net(len(LABELS), fused=True, channels=2)
    load_folded_onnx(net, a.model)
    model = net if a.no_flip else FlipAveraged(net)
    vx, vy, vm, vinfo, vtruth, _ = build(a.val, False, np.random.default_rng(0), material=True)
    half = len(vtruth) // 2
    v = predict(model, vx)
    del vx
    print('proposal windows', len(v), t.s(), 's', flush=True)
    tv, tinfo, ty, tm = tiles(a.val, model)
    print('tiled windows', len(tv), t.s(), 's', flush=True)
    res = {'model': a.model, 'flipAveraged': not a.no_flip, 'heldOut': a.val, 'n': len(vtruth), 'proposalWindows': len(v), 'tiledWindows': len(tv)}
    res['proposals'] = summary('proposals', v, vinfo, vy, vm, vtruth, half)
    res['proposalsAndTiles'] = summary('proposals+tiles', np.concatenate([v, tv]), np.concatenate([vinfo, tinfo]),
                                       np.concatenate([vy, ty]), np.concatenate([vm, tm]), vtruth, half)
    res['wallSeconds'] = t.s()
    if a.out:
        json.dump(res, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
