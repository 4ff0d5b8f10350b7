"""Held-out comparison of ways to score a proposal window with the committed container threat verifiers, on the
same windows: each verifier alone (its card's fusion with the grid), the two averaged (grey and dual-energy,
when a gateway sends the raw pair both can run), and each with a mirrored copy of the window averaged in
(test-time flip; training flipped half its batches).

Same split as the cards: verify-val's first half fits each combination's fusion and thresholds, the second half
gives every figure. Nothing here is written to the registry: it prints JSON for the model README.

Run (from the repo root; verify-val written with --material, and its grid proposals):
  /usr/bin/python3 models/training/eval_verifier_combos.py [--val models/training/out/verify-val] [--out result.json]
"""
import argparse, json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from common import Timer, load_folded_onnx
from train_grid_detector import LABELS
from train_verifier import Net, build, choose_thresholds, figures, fused_image_scores, predict, recall_at_clean_rate

REG = 'models/registry'


def scores(model, x, flip=False):
    """Window probabilities; with flip, the mean of the window's and its mirror image's (left-right)."""
    p = predict(model, x)
    return (p + predict(model, np.ascontiguousarray(x[..., ::-1]))) / 2 if flip else p


def summary(name, v, vinfo, vy, vm, vtruth, half):
    """Fusion fitted and thresholds chosen on the first half; figures on the second (as the cards)."""
    s, _ = fused_image_scores(v, vinfo, vy, vm, len(vtruth))
    thr = choose_thresholds(s[:half], vtruth[:half])
    res = figures(s[half:], vtruth[half:], thr)
    side = {lab: {f'at{int(r * 100)}pct': recall_at_clean_rate(s[half:], vtruth[half:], LABELS.index(lab), r) for r in (0.01, 0.05)}
            for lab in LABELS}
    out = {'imageMAP': res['imageMAP'], 'anyThreatRecall': res['anyThreatRecall'], 'cleanImagesFlagged': res['cleanImagesFlagged'],
           'apPerLabel': {l: res['perLabel'][l]['imageAP'] for l in LABELS}, 'recallAtCleanFlagRate': side}
    print(name, json.dumps({k: out[k] for k in ('imageMAP', 'anyThreatRecall', 'cleanImagesFlagged')}),
          'firearm', side['firearm'], 'knife', side['knife'], flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--val', default='models/training/out/verify-val')
    ap.add_argument('--out')
    a = ap.parse_args()
    t = Timer()
    rng = np.random.default_rng(0)
    vx, vy, vm, vinfo, vtruth, _ = build(a.val, False, rng, material=True)
    half = len(vtruth) // 2
    print('val windows', len(vx), 'renderings', len(vtruth), t.s(), 's', flush=True)
    grey = Net(len(LABELS), fused=True, channels=1)
    load_folded_onnx(grey, os.path.join(REG, 'container-threat-verify.onnx'))
    de = Net(len(LABELS), fused=True, channels=2)
    load_folded_onnx(de, os.path.join(REG, 'container-threat-verify-de.onnx'))
    versions = {n: json.load(open(os.path.join(REG, n + '.card.json')))['version'] for n in ('container-threat-verify', 'container-threat-verify-de')}
    vg = scores(grey, vx[:, :1]); vd = scores(de, vx)
    vgf = scores(grey, vx[:, :1], flip=True); vdf = scores(de, vx, flip=True)
    print('scored', t.s(), 's', flush=True)
    res = {'models': versions, 'heldOut': a.val, 'n': len(vtruth), 'windows': len(vx)}
    res['grey'] = summary('grey', vg, vinfo, vy, vm, vtruth, half)
    res['dualEnergy'] = summary('dual-energy', vd, vinfo, vy, vm, vtruth, half)
    res['greyFlip'] = summary('grey+flip', vgf, vinfo, vy, vm, vtruth, half)
    res['dualEnergyFlip'] = summary('dual-energy+flip', vdf, vinfo, vy, vm, vtruth, half)
    res['meanOfBoth'] = summary('mean of both', (vg + vd) / 2, vinfo, vy, vm, vtruth, half)
    res['meanOfBothFlip'] = summary('mean of both+flip', (vgf + vdf) / 2, vinfo, vy, vm, vtruth, half)
    res['wallSeconds'] = t.s()
    if a.out:
        json.dump(res, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
