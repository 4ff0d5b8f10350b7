"""Scan embedders for the per-HS-code reference library.

`--kind container` (default): `container-embed`, 1 x 128 x 384 grey, letterboxed, trained on the 14 cargo kinds.
`--kind parcel`: `parcel-embed`, 3 x 128 x 128 pseudo-colour, letterboxed, trained on the 15 parcel item kinds
(presence, from each parcel's counts); serves parcel-xray and parcel-ct like the parcel detector.

One L2-normalised 128-d vector per scan. Trained as a cosine classifier (multi-label BCE on scaled
cosine logits of the kinds) on a synthetic set, with strong rendering augmentation (gamma, window, noise,
blur, stripes, scale, shift, flip) so the same goods land close together whatever the scanner's rendering.
The exported graph outputs the normalised embedding only.

Run (from the repo root, after models/training/gen_all.sh has written cls-train and cls-val):
  /usr/bin/python3 models/training/train_embedder.py --max-minutes 13
Parcels (datasets written straight at the model's input size):
  npx tsx models/synth/cli.ts --no-raw --kind parcel --input 128x128 --seed 3000 --count 6000 --out models/training/out/parcel-emb-train
  npx tsx models/synth/cli.ts --no-raw --kind parcel --input 128x128 --seed 9200 --count 1000 --out models/training/out/parcel-emb-val
  /usr/bin/python3 models/training/train_embedder.py --kind parcel --max-minutes 15
"""
import argparse, json, math, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
from common import CARGO_LABELS, PARCEL_ITEMS, Timer, export_onnx, load_images, load_meta, sha256, write_card
from common import category_targets as targets

MEAN, STD = 0.5, 0.25
DIM = 128
# per kind: name, input channels and size (H, W), labels, modalities beyond the card's first
KINDS = {
    'container': dict(name='container-embed', channels=1, size=(128, 384), labels=CARGO_LABELS, modality='container-xray', extra=[],
                      train='models/training/out/cls-train', val='models/training/out/cls-val'),
    'parcel': dict(name='parcel-embed', channels=3, size=(128, 128), labels=PARCEL_ITEMS, modality='parcel-xray', extra=['parcel-ct'],
                   train='models/training/out/parcel-emb-train', val='models/training/out/parcel-emb-val'),
}


def parcel_targets(meta):
    """Multi-hot presence [N, 15] from each parcel's counts."""
    return targets([{'categories': [l for l, n in (m.get('counts') or {}).items() if n > 0]} for m in meta], PARCEL_ITEMS)


def block(i, o, s):
    return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o, momentum=0.1), nn.ReLU(inplace=True))


class Embedder(nn.Module):
    def __init__(self, channels=1):
        super().__init__()
        self.f = nn.Sequential(block(channels, 16, 2), block(16, 32, 2), block(32, 64, 2), block(64, 96, 2),
                               block(96, 128, 2), block(128, 160, 1))
        self.proj = nn.Sequential(nn.Linear(320, 256), nn.ReLU(inplace=True), nn.Linear(256, DIM))

    def forward(self, x):
        h = self.f(x)
        return F.normalize(self.proj(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1)), dim=1)


class CosineHead(nn.Module):
    def __init__(self, n, scale=16.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, DIM) * 0.1)
        self.b = nn.Parameter(torch.full((n,), -4.0))
        self.scale = scale

    def forward(self, e):
        return self.scale * e @ F.normalize(self.w, dim=1).t() + self.b


def augment(p, g):
    """p: [B,1,H,W] in 0..1 (1 = air/pad). A different scanner's rendering of the same goods."""
    b, _, h, w = p.shape
    r = lambda *s: torch.rand(*s, generator=g)
    if r(1).item() < 0.6:  # scale: a coarser or finer mm/px, pasted at a random place on the white canvas
        s = 0.65 + 0.35 * r(1).item()
        nh, nw = max(8, int(h * s)), max(8, int(w * s))
        small = F.interpolate(p, size=(nh, nw), mode='area')
        out = torch.ones_like(p)
        y0, x0 = int(r(1).item() * (h - nh)), int(r(1).item() * (w - nw))
        out[:, :, y0:y0 + nh, x0:x0 + nw] = small
        p = out
    flip = r(b) < 0.5
    p = torch.where(flip[:, None, None, None], p.flip(3), p)
    gamma = torch.exp((r(b, 1, 1, 1) - 0.5) * 1.2)  # 0.55..1.8: windowing / tone curve
    p = p.clamp(1e-4, 1) ** gamma
    lo, hi = r(b, 1, 1, 1) * 0.15, 1 - r(b, 1, 1, 1) * 0.15
    p = ((p - lo) / (hi - lo)).clamp(0, 1)
    if r(1).item() < 0.5:  # blur (detector/focal spot)
        k = 3 if r(1).item() < 0.6 else 5
        p = torch.lerp(p, F.avg_pool2d(p, k, 1, k // 2, count_include_pad=False), r(b, 1, 1, 1))
    if r(1).item() < 0.4:  # per-row / per-column gain stripes
        p = p * (1 + 0.06 * torch.randn(b, 1, h, 1, generator=g)) * (1 + 0.04 * torch.randn(b, 1, 1, w, generator=g))
    if p.shape[1] == 3 and r(1).item() < 0.5:  # another vendor's palette: per-channel gain
        p = p * (1 + 0.1 * torch.randn(b, 3, 1, 1, generator=g))
    p = p + torch.randn(p.shape, generator=g) * (r(b, 1, 1, 1) * 0.06)  # detector noise
    return p.clamp(0, 1)


def embed_all(model, x, bs=256, aug=None):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            p = torch.from_numpy(x[i:i + bs]).float() / 255
            if aug is not None:
                p = augment(p, aug)
            out.append(model((p - MEAN) / STD).numpy())
    return np.concatenate(out)


def knn_eval(e, cls, n_labels, k=5, query=None):
    """Leave-one-out kNN top-1 (cosine, similarity-weighted vote) among single-kind scans."""
    q = e if query is None else query
    s = q @ e.T
    np.fill_diagonal(s, -np.inf)
    nn_idx = np.argsort(-s, 1)[:, :k]
    hit1 = float(np.mean(cls[nn_idx[:, 0]] == cls))
    votes = np.zeros((len(q), n_labels))
    for j in range(k):
        np.add.at(votes, (np.arange(len(q)), cls[nn_idx[:, j]]), s[np.arange(len(q)), nn_idx[:, j]])
    hitk = float(np.mean(votes.argmax(1) == cls))
    return round(hit1, 4), round(hitk, 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kind', choices=sorted(KINDS), default='container')
    ap.add_argument('--train', help='default: cls-train (container) or parcel-emb-train (parcel) under models/training/out')
    ap.add_argument('--val')
    ap.add_argument('--max-minutes', type=float, default=13)
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--out', default='models/registry')
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--version', default='1.0.0')
    a = ap.parse_args()
    K = KINDS[a.kind]
    LABELS, NAME, C = K['labels'], K['name'], K['channels']
    a.train, a.val = a.train or K['train'], a.val or K['val']
    torch.manual_seed(a.seed); np.random.seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    t = Timer()
    tg = targets if a.kind == 'container' else parcel_targets
    ids, x = load_images(a.train, C); y = tg(load_meta(a.train, ids))
    vids, vx = load_images(a.val, C); vy = tg(load_meta(a.val, vids))
    assert x.shape[2:] == K['size'], 'the dataset must be written at the model input size %s, got %s' % (K['size'], x.shape[2:])
    print('loaded', x.shape, vx.shape, t.s(), 's', flush=True)
    model, head = Embedder(C), CosineHead(len(LABELS))
    opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), 2e-3, weight_decay=1e-4)
    bs, peak = 64, 3e-3
    total = a.epochs * (len(x) // bs)
    budget = a.max_minutes * 60
    step, done = 0, False
    for ep in range(a.epochs):
        model.train(); head.train()
        perm = np.random.permutation(len(x))
        tot, n = 0.0, 0
        for i in range(0, len(perm) - bs + 1, bs):
            progress = max(step / total, t.s() / budget)
            if progress >= 1:
                done = True
                break
            lr = peak * (progress / 0.1 if progress < 0.1 else 0.5 * (1 + math.cos(math.pi * (progress - 0.1) / 0.9)))
            for pg in opt.param_groups:
                pg['lr'] = lr
            idx = np.sort(perm[i:i + bs])
            p = augment(torch.from_numpy(x[idx]).float() / 255, g)
            loss = F.binary_cross_entropy_with_logits(head(model((p - MEAN) / STD)), torch.from_numpy(y[idx]))
            opt.zero_grad(); loss.backward(); opt.step()
            tot += float(loss); n += 1; step += 1
            if step % 50 == 0:
                print(f'  step {step} loss {tot / n:.4f} lr {lr:.5f} t {t.s()} s', flush=True)
        print(f'epoch {ep} steps {step} loss {tot / max(1, n):.4f} t {t.s()} s', flush=True)
        if done:
            break
    single = vy.sum(1) == 1
    cls = vy[single].argmax(1)
    ev = embed_all(model, vx[single])
    ev_aug = embed_all(model, vx[single], aug=torch.Generator().manual_seed(99))
    nn1, nn5 = knn_eval(ev, cls, len(LABELS))
    a1, a5 = knn_eval(ev, cls, len(LABELS), query=ev_aug)
    pos = (cls[:, None] == cls[None, :]) & ~np.eye(len(cls), dtype=bool)
    sims = ev @ ev.T
    metrics = {
        'split': 'held-out synthetic (single-kind scans of the held-out seed)', 'heldOutSeed': json.load(open(os.path.join(a.val, 'dataset.json')))['seed'],
        'n': int(single.sum()), 'looNearestTop1': nn1, 'looKnn5Top1': nn5,
        'augmentedQueryNearestTop1': a1, 'augmentedQueryKnn5Top1': a5,
        'meanCosineSameKind': round(float(sims[pos].mean()), 4), 'meanCosineOtherKind': round(float(sims[~pos & ~np.eye(len(cls), dtype=bool)].mean()), 4),
        'note': 'kNN figures by number of references per HS code: npm run eval -- --knn (models/README.md)',
    }
    print(json.dumps(metrics), flush=True)
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, NAME + '.onnx')
    hh, ww = K['size']
    export_onnx(model, torch.zeros(1, C, hh, ww), onnx_path, 'embedding')
    ds = json.load(open(os.path.join(a.train, 'dataset.json')))
    card = {
        'name': NAME, 'version': a.version, 'sha256': sha256(onnx_path), 'file': NAME + '.onnx',
        'task': 'embed', 'modality': K['modality'], **({'modalities': K['extra']} if K['extra'] else {}),
        'input': {'shape': ['batch', C, hh, ww], 'channels': 'grey' if C == 1 else 'rgb', 'normalisation': {'mean': [MEAN] * C, 'std': [STD] * C}, 'resize': 'letterbox', 'padValue': 255},
        'output': {'name': 'embedding', 'layout': 'embedding', 'dimensions': DIM, 'normalised': True},
        # labels: the cargo kinds the embedding was trained to separate; the thresholds are unused by the
        # runtime for an embedder (matching thresholds live in domain/assessment/reference-match.ts)
        'labels': LABELS, 'thresholds': {l: 0.5 for l in LABELS},
        'metrics': metrics,
        'training': {'generator': ds['generator'], 'trainSeed': ds['seed'], 'trainCount': len(x), 'steps': step, 'torchSeed': a.seed,
                     'loss': 'multi-label BCE on scaled cosine logits (scale 16) of the %d %s kinds' % (len(LABELS), 'cargo' if a.kind == 'container' else 'parcel item'),
                     'augmentation': 'scale 0.65-1 + random placement, flip, gamma 0.55-1.8, window, blur, row/column stripes, noise' + (', per-channel gain' if C == 3 else ''),
                     'command': '/usr/bin/python3 models/training/train_embedder.py ' + ' '.join(sys.argv[1:]),
                     'wallSeconds': t.s(), 'machine': '2-core CPU (shared), torch %s' % torch.__version__,
                     'params': sum(p.numel() for p in model.parameters())},
    }
    write_card(os.path.join(a.out, NAME + '.card.json'), card)
    print('wall', t.s(), 's')


if __name__ == '__main__':
    main()
