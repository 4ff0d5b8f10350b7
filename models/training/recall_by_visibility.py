"""Threat recall by how visible the threat is: which firearms and knives a verifier misses, in physical terms.

A card gives one recall per class (e.g. knives at 1 % of clean renderings flagged). The synthetic generator draws
a single knife blade as 0.6-3 cm of steel edge-on to the beam, sometimes over a metre of machinery; some of those
change the transmission by less than the detector's noise, and no model (nor an officer) sees them. The generator
records each planted threat's visibility in its meta file (models/synth/threats.ts `Visibility`: the most the item
adds along one ray, and the mean mass already over its box, g/cm2). This script scores renderings as the card
does (its `verifies.fusion` and `neighbourRadius` over the window scores a train_verifier.py run saved in
<out>/<name>.val.npz), takes per class the threshold that flags `--rate` of the clean renderings of verify-val's
test half (as the card's recallAtCleanFlagRate), and reports recall at it split by the threat's own mass, its
contrast against the clutter (item / (item + clutter)) and the clutter alone:

  # verify-val itself (its test half: threats and clean renderings)
  /usr/bin/python3 models/training/recall_by_visibility.py --card models/registry/container-threat-verify-de.card.json \
    --clean-val models/training/out/verify-val --clean-scores models/training/out/eval141/container-threat-verify-de.val.npz
  # a threat-rich held-out set (every rendering of it), the threshold still from verify-val's clean renderings
  ... --val models/training/out/verify-vis --scores models/training/out/evalvis/container-threat-verify-de.val.npz

Sets must be written by a generator that records visibility (their meta boxes carry `visibility`).
"""
import argparse, json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from train_verifier import AROUND, CENTRE, LABELS, WINDOW, contrast, fused, image_scores, load_grid, neighbour_scores, targets, window_box

STEEL = 7.85  # g/cm3: a blade's steel thickness along the beam is itemGcm2 / STEEL cm


def planted(val, im, label):
    """A rendering's planted items of `label`: [(box in rendering px, (item g/cm2, clutter g/cm2))]."""
    meta = json.load(open(os.path.join(val, 'meta', im['id'] + '.json')))
    out = []
    for b in meta['boxes']:
        if b['label'] != label:
            continue
        if b.get('visibility') is None:
            raise SystemExit(f'{im["id"]}: a {label} box without visibility: regenerate {val} with the current generator')
        out.append((b['box'], (b['visibility']['itemGcm2'], b['visibility']['clutterGcm2'])))
    return out


def band_rows(caught, values, edges, fmt):
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = [c for c, v in zip(caught, values) if lo <= v < hi]
        rows.append({'band': fmt(lo, hi), 'items': len(sel), 'located': int(sum(sel)),
                     'recall': None if not sel else round(sum(sel) / len(sel), 4)})
    return rows


def card_scores(card, npz):
    """The verifier's fused score per window, and per rendering (the best window), as the runtime computes them from
    the card; with the windows' info rows and the renderings' truth."""
    z = np.load(npz)
    v, info = z['v'], z['info']
    spec = card['verifies']
    radius = spec.get('neighbourRadius', 0)
    nb = neighbour_scores(v, info, radius) if radius > 0 else None
    w = fused(v, info[:, AROUND:], spec['fusion'], nb)
    return w, image_scores(w, info, len(z['truth'])), info, z['truth']


def located(w, rows, info, im, k, label, box, t):
    """Whether one of a rendering's windows (`rows` of info) scores class k over t and counts `box` as its positive,
    by train_verifier.py's own rule (targets: the box overlaps the window's central half)."""
    for r in rows[w[rows, k] > t]:
        if targets([(label, box)], window_box(im, *info[r, CENTRE], WINDOW))[0][k]:
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--card', required=True, help='the verifier card whose fusion and neighbour radius score the windows')
    ap.add_argument('--clean-val', default='models/training/out/verify-val', help='the set whose test half\'s clean renderings set the thresholds')
    ap.add_argument('--clean-scores', required=True, help='that set\'s window scores (.val.npz of a train_verifier.py run of the same weights)')
    ap.add_argument('--val', help='the set whose threats are counted (default: --clean-val, its test half)')
    ap.add_argument('--scores', help='its window scores (default: --clean-scores)')
    ap.add_argument('--rate', type=float, default=0.01, help='share of clean test renderings each class may flag')
    ap.add_argument('--json', help='also write the tables here')
    a = ap.parse_args()
    card = json.load(open(a.card))
    w, s_clean, info, truth_clean = card_scores(card, a.clean_scores)
    n_clean = len(truth_clean)
    assert n_clean == len(load_grid(a.clean_val)[0]['images']), f'{a.clean_scores} does not hold {a.clean_val}\'s renderings'
    clean = ~truth_clean.any(1) & (np.arange(n_clean) >= n_clean // 2)
    same = a.val is None
    val, scores = (a.clean_val, a.clean_scores) if same else (a.val, a.scores)
    if same:
        truth = truth_clean
    else:
        w, _, info, truth = card_scores(card, scores)
    images = load_grid(val)[0]['images']
    assert len(images) == len(truth), f'{scores} does not hold {val}\'s renderings'
    first = len(images) // 2 if same else 0
    report = {'card': f"{card['name']} {card['version']}", 'set': val, 'renderings': 'test half' if same else 'all',
              'threshold': f"per class, flagging {a.rate:g} of {a.clean_val}'s test-half clean renderings ({int(clean.sum())})",
              'located': 'an item is located when a window whose central half overlaps its box scores its class over the threshold',
              'classes': {}}
    cm = lambda lo, hi: f'{lo:g}-{hi:g} cm' if hi < 1e9 else f'>= {lo:g} cm'
    pct = lambda lo, hi: f'{100 * lo:g}-{100 * hi:g} %'
    gcm = lambda lo, hi: f'{lo:g}-{hi:g} g/cm2' if hi < 1e9 else f'>= {lo:g} g/cm2'
    n_of = info[:, 0].astype(np.int64)
    rows_of = {n: np.flatnonzero(n_of == n) for n in np.unique(n_of)}
    for label in ('firearm', 'knife'):
        k = LABELS.index(label)
        neg = np.sort(s_clean[clean, k])[::-1]
        t = float(neg[int(np.floor(a.rate * len(neg)))])
        items = [(n, box, vis) for n in range(first, len(images)) for box, vis in planted(val, images[n], label)]
        caught = [located(w, rows_of.get(n, np.zeros(0, np.int64)), info, images[n], k, label, box, t) for n, box, vis in items]
        steel = [vis[0] / STEEL for _, _, vis in items]
        contrasts = [contrast(*vis) for _, _, vis in items]
        clutter = [vis[1] for _, _, vis in items]
        report['classes'][label] = {
            'threshold': round(t, 4), 'items': len(items), 'located': int(sum(caught)), 'recall': round(sum(caught) / max(1, len(items)), 4),
            'bySteelCm': band_rows(caught, steel, [0, 1, 2, 3, 5, 1e12], cm),
            'byContrast': band_rows(caught, contrasts, [0, 0.05, 0.1, 0.2, 1.01], pct),
            'byClutter': band_rows(caught, clutter, [0, 30, 60, 100, 150, 1e12], gcm),
            'missed': [{'id': images[n]['id'], 'steelCm': round(vis[0] / STEEL, 2), 'clutterGcm2': vis[1]}
                       for (n, _, vis), c in zip(items, caught) if not c],
        }
    print(json.dumps(report, indent=1))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(report, f, indent=1)
            f.write('\n')


if __name__ == '__main__':
    main()
