"""The verifier's fusion fitted for what the card and the policy use: ranking whole renderings at few false alarms.

train_verifier.fit_fusion fits each class's [verifier, grid around, neighbours' best, 1] weights by logistic regression
over windows: the log-loss of every window. What decides a threat's recall is another thing: the image's best window
against the best windows of clean renderings, at 1-5 % of clean renderings flagged. A window's ranking among all
windows depends only on the direction of (verifier, grid, neighbour) weights, not on their scale or the intercept.
So, per class: the direction that maximises the calibration half's partial AUC of image scores (clean renderings
flagged at most --max-clean, 5 %), searched on a grid with the verifier's weight held at 1; then the scale and the
intercept by logistic regression over the calibration half's windows, so scores stay probabilities (the card's
0.05 floor and the thresholds mean what they meant). The test half is only measured.

    /usr/bin/python3 models/training/fusion_fit.py --scores <fcn_verifier.py --save-scores npz> [--floor 0.05] [--json out.json]
        [--card <the scored verifier's card> --version V --out-card <card path>]

Writes the card's figures (as fcn_verifier.report) for the logistic-regression fusion and the ranking one side by side;
with --card, that card again with the ranking fusion, its thresholds (over --floor) and its figures, as version V (the
.onnx and its sha256 are unchanged: the fusion and thresholds are the card's, not the graph's).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_verifier as tv  # noqa: E402
from train_verifier import LABELS  # noqa: E402
from common import write_card  # noqa: E402


def image_max(z, starts, image_of_start, n):
    """Per rendering, the highest value of z over its windows (renderings without windows score -inf)."""
    out = np.full(n, -np.inf)
    out[image_of_start] = np.maximum.reduceat(z, starts)
    return out


def partial_auc(pos, neg, max_clean):
    """Share of (positive, clean) pairs ranked right among the top max_clean of clean renderings (ties count half),
    normalised to 1: 1 when every positive outscores every clean rendering in that top share."""
    if len(pos) == 0 or len(neg) == 0:
        return None
    k = max(1, int(np.ceil(max_clean * len(neg))))
    top = np.sort(neg)[::-1][:k]
    wins = (pos[:, None] > top[None, :]).sum() + 0.5 * (pos[:, None] == top[None, :]).sum()
    return wins / (len(pos) * k)


def fit_scale(zdir, t, w0):
    """Logistic regression of t on [zdir, 1]: the scale and intercept over a fixed direction."""
    return tv.logistic_fit(np.stack([zdir, np.ones_like(zdir)], 1), t, w0)


def ranking_fusion(v, info, y, m, truth, nb, lr_fusion, max_clean=0.05, betas=None, deltas=None):
    """Per class, the (1, beta, delta) direction with the calibration half's best partial AUC, then scale and intercept
    (nb: the neighbours' best scores, train_verifier.neighbour_scores)."""
    n = len(truth); half = n // 2
    betas = np.round(np.arange(0, 2.001, 0.05), 2) if betas is None else betas
    deltas = np.round(np.arange(0, 2.001, 0.05), 2) if deltas is None else deltas
    around = info[:, tv.AROUND:]
    img = info[:, 0].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, img[1:] != img[:-1]])
    of_start = img[starts]
    cal_img = np.arange(n) < half
    clean = ~truth.any(1)
    cal_win = img < half
    out, chosen = {}, {}
    for j, lab in enumerate(LABELS):
        lv, lg, ln = tv.logit(v[:, j]), tv.logit(around[:, j]), tv.logit(nb[:, j])
        pos_i, neg_i = cal_img & truth[:, j], cal_img & clean
        a0 = lr_fusion[lab]
        best = None
        for b in betas:
            base = lv + b * lg
            for d in deltas:
                s = image_max(base + d * ln, starts, of_start, n)
                p = partial_auc(s[pos_i], s[neg_i], max_clean)
                if p is None:
                    continue
                # ties: the direction nearest the logistic regression's (its beta/a, delta/a)
                dist = abs(b - a0[1] / a0[0]) + abs(d - a0[2] / a0[0])
                if best is None or p > best[0] + 1e-12 or (abs(p - best[0]) <= 1e-12 and dist < best[3]):
                    best = (p, b, d, dist)
        if best is None:
            out[lab] = a0
            continue
        _, b, d, _ = best
        keep = cal_win & (m[:, j] > 0)
        zdir = (lv + b * lg + d * ln)[keep]
        k, c = fit_scale(zdir, y[keep, j].astype(np.float64), [a0[0], a0[3]])
        out[lab] = [round(float(k), 4), round(float(k * b), 4), round(float(k * d), 4), round(float(c), 4)]
        chosen[lab] = {'beta': float(b), 'delta': float(d), 'calibrationPartialAUC': round(float(best[0]), 4)}
    return out, chosen


def card_figures(v, info, truth, nb, fusion, floor=0.05):
    """fcn_verifier.report's figures for a given fusion: thresholds on the first half, figures on the second."""
    n = len(truth); half = n // 2
    s = tv.image_scores(tv.fused(v, info[:, tv.AROUND:], fusion, nb), info, n)
    thr = tv.choose_thresholds(s[:half], truth[:half], floor=floor)
    res = tv.figures(s[half:], truth[half:], thr)
    res['recallAtCleanFlagRate'] = {lab: {'at1pct': tv.recall_at_clean_rate(s[half:], truth[half:], LABELS.index(lab), 0.01),
                                          'at2pct': tv.recall_at_clean_rate(s[half:], truth[half:], LABELS.index(lab), 0.02),
                                          'at5pct': tv.recall_at_clean_rate(s[half:], truth[half:], LABELS.index(lab), 0.05)} for lab in LABELS}
    res['thresholds'] = thr
    res['fusion'] = fusion
    return res


def short(r):
    return {'imageMAP': r['imageMAP'], 'anyThreatRecall': r['anyThreatRecall'], 'cleanImagesFlagged': r['cleanImagesFlagged'],
            'AP': {l: r['perLabel'][l]['imageAP'] for l in LABELS}, 'recallAtCleanFlagRate': r['recallAtCleanFlagRate']}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--scores', required=True, help='fcn_verifier.py --save-scores output')
    ap.add_argument('--max-clean', type=float, default=0.05)
    ap.add_argument('--floor', type=float, default=0.05)
    ap.add_argument('--json')
    ap.add_argument('--card', help='the card of the verifier whose scores --scores holds')
    ap.add_argument('--version', help='with --card: the new card\'s version')
    ap.add_argument('--out-card', help='with --card: where the new card goes')
    a = ap.parse_args()
    if a.card and not (a.version and a.out_card):
        ap.error('--card needs --version and --out-card')
    z = np.load(a.scores)
    v, info, y, m, truth = z['v'], z['info'], z['y'], z['m'], z['truth'].astype(bool)
    n = len(truth)
    around = info[:, tv.AROUND:]
    nb = tv.neighbour_scores(v, info, 24)  # once: the logistic fit, the search and both figures read it (radius 24, the cards')
    cal = info[:, 0] < n // 2
    lr = tv.fit_fusion(v[cal], around[cal], y[cal], m[cal], nb[cal])
    base = card_figures(v, info, truth, nb, lr, a.floor)
    rank, chosen = ranking_fusion(v, info, y, m, truth, nb, lr, max_clean=a.max_clean)
    new = card_figures(v, info, truth, nb, rank, a.floor)
    res = {'scores': a.scores, 'maxClean': a.max_clean, 'logisticFusion': short(base) | {'fusion': lr},
           'rankingFusion': short(new) | {'fusion': rank, 'chosen': chosen, 'thresholds': new['thresholds']}}
    print(json.dumps(res, indent=1))
    if a.json:
        json.dump(res, open(a.json, 'w'), indent=1)
    if a.card:
        write_card(a.out_card, refitted_card(json.load(open(a.card)), new, chosen, a))
        print('wrote', a.out_card)


def refitted_card(card, new, chosen, a):
    """The verifier's card with the ranking fusion: thresholds, verifies.fusion and the held-out figures replaced
    (verifierWithoutFusion, the fusion-free comparison, is the graph's and stays)."""
    figures = {k: new[k] for k in ('anyThreatRecall', 'cleanImagesFlagged', 'imageMAP', 'perLabel', 'n', 'nClean')}
    figures['recallAtCleanFlagRate'] = {l: {k: new['recallAtCleanFlagRate'][l][k] for k in ('at1pct', 'at5pct')} for l in ('firearm', 'knife')}
    return {**card, 'version': a.version, 'thresholds': new['thresholds'],
            'verifies': {**card['verifies'], 'fusion': new['fusion']},
            'metrics': {**card['metrics'], **figures, 'thresholdFloor': a.floor},
            'training': {**card['training'], 'fusionRefit': {
                'from': f"{card['name']} {card['version']} (same .onnx)", 'method': 'per class, the direction of the (verifier, grid, neighbours) '
                f'weights with the best partial AUC of image scores at <= {a.max_clean:g} of clean renderings flagged on the calibration half, '
                'then scale and intercept by logistic regression over its windows', 'chosen': chosen,
                'command': '/usr/bin/python3 models/training/fusion_fit.py ' + ' '.join(sys.argv[1:])}}}


if __name__ == '__main__':
    main()
