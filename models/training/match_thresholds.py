"""Policy thresholds for a new verifier at the false-alarm budget of the one it sits beside.

The default policy gives each verifier thresholds of its own (`security.modelThreatThresholds`): its fused scores
are window probabilities, not a detector's scores. A new verifier (e.g. the dual-energy one) scores on another
scale, so the old thresholds do not carry over. This picks, per class, the lowest threshold at which the new
verifier flags no more clean renderings than the old one does at its policy threshold, on the calibration half of
verify-val (the first 200 renderings: the same windows the fusion was fitted on; never the card's test half nor
the assessment benchmark's streams), and never under the old threshold.

Both verifiers' held-out windows come from `train_verifier.py --epochs 0 --init <model> [--material] --out DIR`
(DIR/<name>.val.npz). Run:
  /usr/bin/python3 models/training/match_thresholds.py \\
    --old models/training/out/verify-grey48/container-threat-verify.val.npz --old-name container-threat-verify \\
    --new models/training/out/verify-de48/container-threat-verify-de.val.npz
"""
import argparse, json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(__file__))
from train_verifier import LABELS, fused_image_scores


def calibrated_scores(path):
    """Image scores (fused as the card's fusion is fitted: on the calibration half's windows), truth, half."""
    z = np.load(path)
    truth = z['truth']
    s, _ = fused_image_scores(z['v'], z['info'], z['y'], z['m'], len(truth))
    return s, truth, len(truth) // 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--old', required=True)
    ap.add_argument('--old-name', required=True, help='the old verifier\'s name in the policy')
    ap.add_argument('--new', required=True)
    ap.add_argument('--policy', default='domain/policy/default-policy.json')
    a = ap.parse_args()
    pol = json.load(open(a.policy))['security']['modelThreatThresholds'][a.old_name]
    old, truth, half = calibrated_scores(a.old)
    new, truth2, _ = calibrated_scores(a.new)
    assert (truth == truth2).all(), 'the two sets of windows are not from the same renderings'
    cal = slice(0, half)
    clean = ~truth[cal].any(1)
    out = {}
    for j, label in enumerate(LABELS):
        t = pol[label]
        budget = (old[cal][clean, j] >= t).mean()
        neg = np.sort(new[cal][clean, j])[::-1]
        k = int(np.floor(budget * len(neg) + 1e-9))
        thr = max(t, float(neg[k]) * 1.001) if k < len(neg) else t
        out[label] = round(thr, 4)
        pos = truth[cal][:, j]
        print(f'{label:20s} old {t:.4f}: clean flagged {budget:.3f}, recall {(old[cal][pos, j] >= t).mean():.3f} | '
              f'new {thr:.4f}: clean flagged {(new[cal][clean, j] >= thr).mean():.3f}, recall {(new[cal][pos, j] >= thr).mean():.3f}')
    print(json.dumps(out))


if __name__ == '__main__':
    main()
