"""Container cargo-category classifier (multi-label, 1 × 128 × 384 grey, letterboxed by `npm run synth --input`).

Run (from the repo root, after models/training/gen_all.sh):
  /usr/bin/python3 models/training/train_classifier.py --epochs 8
`--train` takes several sets, comma-separated (1.1.0: cls-train and cls-veh, loads of vehicles alone).
"""
import argparse, json, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
from common import CARGO_LABELS, Timer, predict_sigmoid, average_precision, export_onnx, load_images, load_meta, sha256, write_card
from common import category_targets as targets

LABELS = CARGO_LABELS
MEAN, STD = 0.5, 0.25


def block(i, o, s):
    return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o, momentum=0.1), nn.ReLU(inplace=True))


class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.f = nn.Sequential(block(1, 16, 2), block(16, 32, 2), block(32, 64, 2), block(64, 96, 2),
                               block(96, 128, 2), block(128, 160, 1))
        self.head = nn.Linear(320, n)

    def forward(self, x):
        h = self.f(x)
        return self.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))


def evaluate(model, x, y, bs=128):
    p = predict_sigmoid(model, x, MEAN, STD, bs)
    top1 = float(np.mean(y[np.arange(len(y)), p.argmax(1)] == 1))
    exact = float(np.mean(np.all((p >= 0.5) == (y == 1), 1)))
    ap = {l: average_precision(p[:, j], y[:, j]) for j, l in enumerate(LABELS)}
    per = {}
    for j, l in enumerate(LABELS):
        pred, t = p[:, j] >= 0.5, y[:, j] == 1
        tp = int((pred & t).sum())
        per[l] = {'precision': round(tp / max(1, pred.sum()), 4), 'recall': round(tp / max(1, t.sum()), 4), 'ap': None if ap[l] is None else round(ap[l], 4), 'support': int(t.sum())}
    aps = [v for v in ap.values() if v is not None]
    single = y.sum(1) == 1
    top1_single = float(np.mean(y[single][np.arange(single.sum()), p[single].argmax(1)] == 1))
    return {'top1': round(top1, 4), 'top1SingleKind': round(top1_single, 4), 'exactSetAt0.5': round(exact, 4), 'mAP': round(float(np.mean(aps)), 4), 'perLabel': per, 'n': len(y)}, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', default='models/training/out/cls-train')
    ap.add_argument('--val', default='models/training/out/cls-val')
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--out', default='models/registry')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--version', default='1.0.0')
    a = ap.parse_args()
    torch.manual_seed(a.seed); np.random.seed(a.seed)
    t = Timer()
    train_dirs = a.train.split(',')
    parts = [load_images(d, 1) for d in train_dirs]
    x = np.concatenate([p[1] for p in parts])
    y = np.concatenate([targets(load_meta(d, p[0])) for d, p in zip(train_dirs, parts)])
    vids, vx = load_images(a.val, 1); vy = targets(load_meta(a.val, vids))
    print('loaded', x.shape, vx.shape, t.s(), 's', flush=True)
    model = Net(len(LABELS))
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=1e-4)
    bs = 64
    steps = a.epochs * (len(x) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps, pct_start=0.15)
    pos_w = torch.tensor(np.clip((len(y) - y.sum(0)) / np.maximum(1, y.sum(0)), 1, 10) ** 0.5, dtype=torch.float32)
    step = 0
    for ep in range(a.epochs):
        model.train()
        perm = np.random.permutation(len(x))
        tot = 0.0
        for i in range(0, len(perm) - bs + 1, bs):
            idx = np.sort(perm[i:i + bs])
            xb = (torch.from_numpy(x[idx]).float() / 255 - MEAN) / STD
            if step % 50 == 0:
                print(f'  step {step} loss {float(loss) if step else 0:.4f} t {t.s()} s', flush=True)
            step += 1
            if np.random.rand() < 0.5:
                xb = xb.flip(3)  # scans come from either direction
            xb = xb * (1 + 0.1 * torch.randn(len(idx), 1, 1, 1)) + 0.1 * torch.randn(len(idx), 1, 1, 1)
            loss = F.binary_cross_entropy_with_logits(model(xb), torch.from_numpy(y[idx]), pos_weight=pos_w)
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            tot += float(loss)
        m, _ = evaluate(model, vx, vy)
        print(f'epoch {ep} loss {tot / (len(x) // bs):.4f} val top1 {m["top1"]} exact {m["exactSetAt0.5"]} mAP {m["mAP"]} t {t.s()} s', flush=True)
    metrics, _ = evaluate(model, vx, vy)
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, 'container-cargo-cls.onnx')
    export_onnx(model, torch.zeros(1, 1, 128, 384), onnx_path, 'logits')
    sets = [json.load(open(os.path.join(d, 'dataset.json'))) for d in train_dirs]
    ds = sets[0]; vds = json.load(open(os.path.join(a.val, 'dataset.json')))
    card = {
        'name': 'container-cargo-cls', 'version': a.version, 'sha256': sha256(onnx_path), 'file': 'container-cargo-cls.onnx',
        'task': 'classify', 'modality': 'container-xray',
        'input': {'shape': ['batch', 1, 128, 384], 'channels': 'grey', 'normalisation': {'mean': [MEAN], 'std': [STD]}, 'resize': 'letterbox', 'padValue': 255},
        'output': {'name': 'logits', 'layout': 'multilabel-logits'},
        'labels': LABELS, 'thresholds': {l: 0.5 for l in LABELS},
        'metrics': {'split': 'held-out synthetic', 'heldOutSeed': vds['seed'], **metrics},
        'training': {'generator': ds['generator'], 'trainSeed': ds['seed'], 'trainCount': len(x), 'epochs': a.epochs, 'torchSeed': a.seed,
                     'trainSets': [{'seed': d['seed'], 'count': len(p[0]), 'categories': d.get('categories'), 'mmpp': float(d['mmpp']) if d.get('mmpp') else None, 'reeferRate': d.get('reeferRate')} for d, p in zip(sets, parts)],
                     'command': 'models/training/gen_all.sh && /usr/bin/python3 ' + ' '.join(sys.argv),
                     'wallSeconds': t.s(), 'machine': '2-core CPU, torch %s' % torch.__version__, 'params': sum(p.numel() for p in model.parameters())},
    }
    write_card(os.path.join(a.out, 'container-cargo-cls.card.json'), card)
    print(json.dumps({k: v for k, v in metrics.items() if k != 'perLabel'}), 'wall', t.s(), 's')


if __name__ == '__main__':
    main()
