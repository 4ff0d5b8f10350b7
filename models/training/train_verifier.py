"""Second stage of the container threat detector: a verifier that looks again, at full resolution, at each place
the grid detector proposes.

Why: the grid detector (train_grid_detector.py) sees a 40 ft container at 16 mm per pixel, where a pistol is
12 x 8 pixels and a knife blade 2 pixels wide; at the thresholds that keep 99 % of firearms it flags most clean
scans. The scanner's own rendering is 4-6 mm per pixel. The verifier takes a square window of the rendering
around each proposal (48 grid-input pixels a side, ~0.8 m), resized to 128 x 128 (~6 mm per pixel), and scores
every threat class in it (multi-label). The runtime keeps a proposal when the verifier's score of its class
passes the verifier card's threshold (models/runtime/verify.ts).

Data: renderings at 6 mm/px (`npm run synth -- --kind container --mmpp 6 --no-raw`), and the committed grid's
raw logits on each of them (`npx tsx models/training/grid_proposals.mts <dir>`, same preprocessing as the
pipeline). Proposals are the grid's per-class local maxima at or over PROPOSAL_THRESHOLD (at most MAX_PROPOSALS
per rendering); training adds a window on every planted threat (jittered) and a few random windows. A window is
positive for a class when a box of that class overlaps its central half, ignored (no loss) when the box only
touches the rest of the window, negative otherwise.

Held-out: verify-val (seed 9100, disjoint from training seed 2500, never seen by the grid either) split in two
fixed halves: the first chooses the thresholds, the second gives every figure in the card.

Run (from the repo root):
  S="npx tsx models/synth/cli.ts --no-raw --kind container --mmpp 6"
  $S --threat-rate 0.6 --seed 2500 --count 3000 --out models/training/out/verify-train
  $S --threat-rate 0.5 --seed 9100 --count 800 --out models/training/out/verify-val
  npx tsx models/training/grid_proposals.mts models/training/out/verify-train   (and verify-val)
  /usr/bin/python3 models/training/train_verifier.py --epochs 4 --max-minutes 25
Continuing from the committed model (its .pt is not kept: the exported .onnx is read back, batch norm folded)
with hard negatives (each epoch, half of the threat-free windows are the ones the current weights score
highest, i.e. what clean scans get flagged for) on a second training set:
  $S --threat-rate 0.6 --seed 2600 --count 1500 --out models/training/out/verify-train2   (+ grid_proposals.mts)
  /usr/bin/python3 models/training/train_verifier.py --init models/registry/container-threat-verify.onnx \
    --train models/training/out/verify-train,models/training/out/verify-train2 --epochs 8 --per-epoch 50000 \
    --lr 6e-4 --hard-negatives 0.5 --max-minutes 55 --seed 23 --version 1.3.0 --out models/training/out/verify5
"""
import argparse, json, os, sys
import numpy as np
from PIL import Image
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
from common import Timer, average_precision, export_onnx, load_folded_onnx, set_warmup_cosine_lr, sha256, write_card
from train_grid_detector import LABELS, block

NAME = 'container-threat-verify'
MEAN, STD = 0.5, 0.25
# --material: the second input channel, the raw pair's low/high attenuation ratio (renderContainerMaterial in
# models/runtime/render.ts, written by `npm run synth -- --material`); a separate model, used when a gateway sends
# the raw pair (the grey-only one stays for scanners that export a rendering only)
NAME_DE = 'container-threat-verify-de'
MEAN_M, STD_M = 0.4, 0.25
# the deep plane (fcn_verifier.py --deep): the raw high-energy image in renderContainerDeep's window; most of a scan
# is lighter than that window's start, so it sits high
MEAN_D, STD_D = 0.7, 0.3
MEANS, STDS = [MEAN, MEAN_M, MEAN_D], [STD, STD_M, STD_D]
SIZE = 128            # verifier input, pixels a side
WINDOW = 48           # window side in grid-input pixels (the grid's 768 x 256 letterbox)
PROPOSAL_THRESHOLD = 0.05
MAX_PROPOSALS = 48
TRUTH_WINDOWS = 4     # training windows per planted threat (positives are ~1 % of the proposals)
RANDOM_WINDOWS = 2    # training windows anywhere in each rendering, besides the proposals (--random-windows)
DEFAULT_RANDOM_WINDOWS = RANDOM_WINDOWS  # the default, recorded in a card only when a run chose otherwise
FAINT_CONTRAST = 0.0  # > 0: planted threats under this contrast are never training positives (--faint-contrast)
DENSE_STRIDE = 0      # > 0: also a window every DENSE_STRIDE grid-input pixels over the whole scan (--dense-stride)
# per-window info: (rendering, proposed class, grid score, centre x, centre y, the grid's probability of every class
# around the centre...)
CENTRE = slice(3, 5)
AROUND = 5


class Net(nn.Module):
    def __init__(self, n, fused=False, channels=1):
        super().__init__()
        f = fused
        self.f = nn.Sequential(block(channels, 16, 2, fused=f), block(16, 32, 2, fused=f), block(32, 48, 1, fused=f), block(48, 64, 2, fused=f),
                               block(64, 96, 1, fused=f), block(96, 128, 2, fused=f), block(128, 128, 2, fused=f))
        self.head = nn.Linear(256, n)

    def forward(self, x):
        h = self.f(x)
        return self.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))


class FlipAveraged(nn.Module):
    """The model's logits averaged over each window and its mirror image (left-right; training flipped half its
    batches): one batch of twice the windows through the same layers, so the exported graph keeps one copy of
    each weight (load_folded_onnx reads it back) and the runtime's input and output are unchanged."""
    def __init__(self, m):
        super().__init__()
        self.m = m
        self.register_buffer('rev', torch.arange(SIZE - 1, -1, -1))

    def forward(self, x):
        n = x.shape[0]
        y = self.m(torch.cat([x, x.index_select(3, self.rev)], 0))
        return (y[:n] + y[n:]) / 2


def load_grid(d):
    j = json.load(open(os.path.join(d, 'grid.json')))
    g = np.fromfile(os.path.join(d, 'grid.bin'), dtype=np.float32).reshape(j['dims'])
    return j, 1 / (1 + np.exp(-g))


def proposals(p, stride):
    """Per-class 3 x 3 local maxima at or over PROPOSAL_THRESHOLD, strongest first, one per cell (a window scores
    every class), at most MAX_PROPOSALS: [(class, score, cx, cy)] in grid-input px."""
    c, gh, gw = p.shape
    pad = np.pad(p, ((0, 0), (1, 1), (1, 1)), constant_values=-1)
    nb = np.max(np.stack([pad[:, 1 + dy:1 + dy + gh, 1 + dx:1 + dx + gw] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]), 0)
    ks, ys, xs = np.nonzero((p >= PROPOSAL_THRESHOLD) & (p >= nb))
    out = sorted(((int(k), float(p[k, y, x]), (x + 0.5) * stride, (y + 0.5) * stride) for k, y, x in zip(ks, ys, xs)), key=lambda t: -t[1])
    kept, cells = [], set()
    for k, s, cx, cy in out:
        if (cx, cy) in cells:
            continue
        cells.add((cx, cy))
        kept.append((k, s, cx, cy))
        if len(kept) == MAX_PROPOSALS:
            break
    return kept


def window_box(im, cx, cy, side):
    """The window (in rendering pixels) of `side` grid-input pixels centred at grid-input (cx, cy)."""
    x = (cx - im['padX']) / im['sx']
    y = (cy - im['padY']) / im['sy']
    h = side / im['sx'] / 2
    return x - h, y - h, x + h, y + h


def crop(img, b, air=255):
    """Window b of a grey PIL image (`air` outside it), area-resized to SIZE x SIZE, as uint8."""
    x0, y0, x1, y1 = (int(round(v)) for v in b)
    c = img.crop((x0, y0, x1, y1))  # PIL fills outside the image with 0: paint it as air
    a = np.asarray(c).copy()
    W, H = img.size
    if x0 < 0: a[:, :min(a.shape[1], -x0)] = air
    if y0 < 0: a[:min(a.shape[0], -y0), :] = air
    if x1 > W: a[:, max(0, a.shape[1] - (x1 - W)):] = air
    if y1 > H: a[max(0, a.shape[0] - (y1 - H)):, :] = air
    return np.asarray(Image.fromarray(a).resize((SIZE, SIZE), Image.BOX))


def targets(boxes, b, faint=frozenset()):
    """Multi-hot target and mask for window b: positive when a box overlaps the central half of the window. A box
    whose index is in `faint` (training with --faint-contrast) is never a positive: a window it touches is ignored for
    its class (no loss) unless a visible box of that class makes the window positive."""
    x0, y0, x1, y1 = b
    q = (x1 - x0) / 4
    cx0, cy0, cx1, cy1 = x0 + q, y0 + q, x1 - q, y1 - q
    y = np.zeros(len(LABELS), np.uint8)
    m = np.ones(len(LABELS), np.uint8)
    for i, (lab, (bx0, by0, bx1, by1)) in enumerate(boxes):
        k = LABELS.index(lab)
        if bx0 < cx1 and bx1 > cx0 and by0 < cy1 and by1 > cy0 and i not in faint:
            y[k] = 1
            m[k] = 1
        elif bx0 < x1 and bx1 > x0 and by0 < y1 and by1 > y0 and not y[k]:
            m[k] = 0
    return y, m


def contrast(item_gcm2, clutter_gcm2):
    """How much a planted item stands out against its clutter: item / (item + clutter) g/cm2 (its recorded
    visibility), as --faint-contrast and recall_by_visibility.py measure it."""
    return item_gcm2 / max(1e-9, item_gcm2 + clutter_gcm2)


def faint_boxes(meta, where, threshold):
    """Indices (in the meta file's box order, as load_boxes gives them) of a rendering's planted threats standing out
    by less than `threshold` against their clutter: within the detector noise over the goods around them, so a label
    the verifier cannot learn from the pixels (models/README.md, "Where the dual-energy verifier misses"). Training
    only: every figure still counts them. `where` names the rendering in an error."""
    if threshold <= 0:
        return frozenset()
    out = set()
    for i, b in enumerate(meta['boxes']):
        v = b.get('visibility')
        if v is None and b['label'] == 'hidden-compartment':  # a false wall is the container's own: no item g/cm2
            continue
        if v is None:
            raise SystemExit(f'{where}: a {b["label"]} box without visibility: regenerate it with the current generator')
        if contrast(v['itemGcm2'], v['clutterGcm2']) < threshold:
            out.add(i)
    return frozenset(out)


def read_meta(d, im):
    """A rendering's meta file: its planted boxes (with their visibility) and what else the generator recorded."""
    return json.load(open(os.path.join(d, 'meta', im['id'] + '.json')))


def boxes_of(meta):
    """The planted boxes of a meta file [(label, box)]."""
    return [(b['label'], b['box']) for b in meta['boxes']]


def load_boxes(d, im):
    """A rendering's planted boxes [(label, box)]."""
    return boxes_of(read_meta(d, im))


def load_planes(d, im, material=False):
    """A rendering's grey image and (with material) its material one, else None."""
    img = Image.open(os.path.join(d, 'images', im['id'] + '.png')).convert('L')
    mat = Image.open(os.path.join(d, 'material', im['id'] + '.png')).convert('L') if material else None
    return img, mat


def load_rendering(d, im, material=False):
    """A rendering of set d: its planted boxes [(label, box)], the grey image and (with material) the material one."""
    return (load_boxes(d, im), *load_planes(d, im, material))


def window_planes(img, mat, b):
    """Window b as the verifier's input planes: grey, and the material channel when given (0 outside the scan, as
    the runtime pads it: air attenuates nothing)."""
    return np.stack([crop(img, b), crop(mat, b, 0)]) if mat is not None else crop(img, b)[None]


def dense_centres(im):
    """With DENSE_STRIDE, window centres (grid-input px) every DENSE_STRIDE pixels over the letterboxed scan, so
    every point of it lies in the central half of a window when DENSE_STRIDE <= WINDOW / 2."""
    if DENSE_STRIDE <= 0:
        return []
    # the scan's size in the grid's input: the runtime's placement newW x newH, whole pixels
    x0, y0 = im['padX'], im['padY']
    x1, y1 = x0 + round(im['width'] * im['sx']), y0 + round(im['height'] * im['sy'])
    nx = max(1, int(np.ceil((x1 - x0) / DENSE_STRIDE))); ny = max(1, int(np.ceil((y1 - y0) / DENSE_STRIDE)))
    # centred on the scan: the same margin left and right, top and bottom
    ox = x0 + ((x1 - x0) - (nx - 1) * DENSE_STRIDE) / 2; oy = y0 + ((y1 - y0) - (ny - 1) * DENSE_STRIDE) / 2
    return [(ox + i * DENSE_STRIDE, oy + k * DENSE_STRIDE) for k in range(ny) for i in range(nx)]


def grid_around(pn, cx, cy, stride):
    """The grid's probability of every class around grid-input (cx, cy): the max over its 3 x 3 cells."""
    gx, gy = int(cx // stride), int(cy // stride)
    around = pn[:, max(0, gy - 1):gy + 2, max(0, gx - 1):gx + 2]
    return around.max((1, 2)) if around.size else np.zeros(len(LABELS))


class LazyWindows:
    """A held-out set's windows, cropped when read: x[i:j], x[indices] or x[rows, ...] give what the stacked uint8
    crops [N, C, SIZE, SIZE] would. With the dense sweep verify-val has ~250,000 windows, ~8 GB held at once; this keeps
    only (rendering, box) per window and the rendering last read (windows come rendering by rendering)."""
    def __init__(self, d, images, material, rows):
        self.d, self.images, self.material, self.rows = d, images, material, rows
        self.channels = 2 if material else 1
        self.current = (None, None, None)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        # x[rows, ...]: the rows cropped, then the rest of the index applied to them (x[:, :1]: the grey plane)
        key, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        picked = self.rows[key] if isinstance(key, slice) else [self.rows[i] for i in np.atleast_1d(key)]
        out = np.empty((len(picked), self.channels, SIZE, SIZE), np.uint8)
        for i, (n, b) in enumerate(picked):
            if self.current[0] != n:
                self.current = (n, *load_planes(self.d, self.images[n], self.material))
            out[i] = window_planes(self.current[1], self.current[2], b)
        return out[(slice(None), *rest)] if rest else out


def build(d, train, rng, material=False):
    """Windows of every rendering in d: (crops [N, 1 or 2, SIZE, SIZE], targets, masks, per-window info). A
    held-out set (train False) gives its crops as LazyWindows: read when predicted, never all held."""
    j, p = load_grid(d)
    xs, ys, ms, info = [], [], [], []
    truth = np.zeros((len(j['images']), len(LABELS)), bool)
    for n, im in enumerate(j['images']):
        meta = read_meta(d, im)  # once a rendering: its boxes, their visibility and the rendering's truth
        boxes = boxes_of(meta)
        for lab, _ in boxes:
            truth[n, LABELS.index(lab)] = True
        # a held-out set's images are read when its windows are (LazyWindows): only the boxes here
        img, mat = load_planes(d, im, material) if train else (None, None)
        faint = faint_boxes(meta, f'{d}/{im["id"]}', FAINT_CONTRAST) if train else frozenset()
        wins = [(k, s, cx, cy, 'proposal') for k, s, cx, cy in proposals(p[n], j['stride'])]
        if not train:  # the dense sweep (training draws random windows anywhere already)
            wins += [(-1, 0.0, cx, cy, 'dense') for cx, cy in dense_centres(im)]
        else:
            for i, (lab, (bx0, by0, bx1, by1)) in enumerate(boxes):  # every planted threat, TRUTH_WINDOWS times, jittered
                for _ in range(0 if i in faint else TRUTH_WINDOWS):
                    gx = (bx0 + bx1) / 2 * im['sx'] + im['padX'] + rng.uniform(-WINDOW / 5, WINDOW / 5)
                    gy = (by0 + by1) / 2 * im['sy'] + im['padY'] + rng.uniform(-WINDOW / 5, WINDOW / 5)
                    wins.append((LABELS.index(lab), 0.0, gx, gy, 'truth'))
            for _ in range(RANDOM_WINDOWS):
                wins.append((-1, 0.0, rng.uniform(0, 768), rng.uniform(0, 256), 'random'))
        for k, s, cx, cy in ((w[0], w[1], w[2], w[3]) for w in wins):
            side = WINDOW * (rng.uniform(0.85, 1.15) if train else 1.0)
            b = window_box(im, cx, cy, side)
            t, m = targets(boxes, b, faint)
            xs.append(window_planes(img, mat, b) if train else (n, b)); ys.append(t); ms.append(m)
            # where the window is and what the grid says around its centre, for the fusion
            info.append((n, k, s, cx, cy, *grid_around(p[n], cx, cy, j['stride'])))
        if (n + 1) % 500 == 0:
            print(f'  {d}: {n + 1}/{len(j["images"])} renderings, {len(xs)} windows', flush=True)
    x = np.stack(xs) if train else LazyWindows(d, j['images'], material, xs)
    return x, np.stack(ys), np.stack(ms), np.array(info, dtype=np.float64), truth, p


def normalise(xb, device='cpu'):
    """uint8 windows [N, C, H, W] (numpy) -> the model's input on `device`, per channel as the card says (the
    bytes move to the device before they are widened to floats)."""
    mean = torch.tensor(MEANS[:xb.shape[1]], device=device).view(1, -1, 1, 1)
    std = torch.tensor(STDS[:xb.shape[1]], device=device).view(1, -1, 1, 1)
    return (torch.from_numpy(xb).to(device).float() / 255 - mean) / std


def predict(model, x, bs=256):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(torch.sigmoid(model(normalise(x[i:i + bs]))).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(LABELS)), np.float32)


def image_scores(v, info, n_images):
    """Per rendering and class: the highest verifier score of that class over all its proposals."""
    s = np.zeros((n_images, len(LABELS)))
    for n, row in zip(info[:, 0], v):
        s[int(n)] = np.maximum(s[int(n)], row)
    return s


def whole(x):
    """A float option as the card writes it: 24, not 24.0, when it is a whole number."""
    return int(x) if float(x).is_integer() else x


def logit(q):
    q = np.clip(q, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def neighbour_scores(v, info, radius):
    """Per window and class, the highest verifier score of that class among the other windows of its rendering
    whose centres lie within `radius` grid-input pixels (Chebyshev) of its own; the window's own score when none
    does. A threat seen by the windows around it scores high in several; a speck of noise that fools one window
    often does not fool its neighbours, which see it off-centre."""
    out = v.copy()
    n = info[:, 0].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, n[1:] != n[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(n)]):
        c = info[a:b, CENTRE]
        near = (np.abs(c[:, None, :] - c[None, :, :]) <= radius + 1e-6).all(2)
        np.fill_diagonal(near, False)
        has = near.any(1)
        # a masked max, class by class (a rendering has a few hundred windows)
        best = np.where(near[:, :, None], v[None, a:b], -np.inf).max(1)
        out[a:b][has] = best[has]
    return out


def fit_fusion(v, around, y, m, neighbour=None):
    """Per class, logistic regression of the window's target on [logit(verifier), logit(grid around), 1] (with
    `neighbour`, [logit(verifier), logit(grid around), logit(neighbours' best), 1]) over the given windows (Newton's
    method, a little ridge): the card's `verifies.fusion`."""
    out = {}
    for j, l in enumerate(LABELS):
        keep = m[:, j] > 0
        cols = [logit(v[keep, j]), logit(around[keep, j])] + ([] if neighbour is None else [logit(neighbour[keep, j])])
        X = np.stack(cols + [np.ones(keep.sum())], 1)
        w = logistic_fit(X, y[keep, j].astype(np.float64), [1.0] + [0.0] * (X.shape[1] - 1))
        out[l] = [round(float(x), 4) for x in w]
    return out


def logistic_fit(X, t, w0, ridge=1e-2):
    """Weights w of logistic regression of targets t on the columns of X (a little ridge), from w0. Damped Newton:
    a full step that raises the loss is halved until it does not (a class the verifier separates perfectly, its
    logits saturated, made the plain iteration diverge to weights of ~1e4)."""
    w = np.array(w0, dtype=np.float64)

    def loss(w):
        z = X @ w
        return float(np.sum(np.logaddexp(0, z) - t * z) + ridge / 2 * w @ w)
    for _ in range(50):
        q = 1 / (1 + np.exp(-X @ w))
        g = X.T @ (q - t) + ridge * w
        H = (X * (q * (1 - q))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(H, g)
        f0, k = loss(w), 1.0
        while k > 1e-4 and not loss(w - k * step) <= f0:
            k /= 2
        if k <= 1e-4:
            break
        w = w - k * step
    return w


def fused(v, around, fusion, neighbour=None):
    f = np.array([fusion[l] for l in LABELS])
    z = f[:, 0] * logit(v) + f[:, 1] * logit(around) + f[:, -1]
    if neighbour is not None:
        z = z + f[:, 2] * logit(neighbour)
    return 1 / (1 + np.exp(-z))


def fused_image_scores(v, info, y, m, n_images, neighbour_radius=0):
    """The fusion with the grid (and, with neighbour_radius, the neighbouring windows) fitted on the calibration
    half's windows (the first n_images // 2 renderings), and each rendering's fused scores with it: (scores
    [n_images, classes], fusion)."""
    around = info[:, AROUND:]
    nb = neighbour_scores(v, info, neighbour_radius) if neighbour_radius > 0 else None
    cal = info[:, 0] < n_images // 2
    fusion = fit_fusion(v[cal], around[cal], y[cal], m[cal], None if nb is None else nb[cal])
    return image_scores(fused(v, around, fusion, nb), info, n_images), fusion


def grid_image_scores(p):
    return p.max((2, 3))


def choose_thresholds(s, truth, recall=0.99, floor=0.05):
    thr = {}
    for j, l in enumerate(LABELS):
        pos = np.sort(s[truth[:, j], j])
        k = int(np.floor((1 - recall) * len(pos)))
        thr[l] = 0.5 if len(pos) == 0 else round(float(max(floor, min(0.95, pos[k] * 0.999))), 4)
    return thr


def figures(s, truth, thr):
    per = {}
    for j, l in enumerate(LABELS):
        pred = s[:, j] >= thr[l]
        tp = int((pred & truth[:, j]).sum())
        ap = average_precision(s[:, j], truth[:, j])
        clean = ~truth.any(1)
        per[l] = {'imageRecall': round(tp / max(1, truth[:, j].sum()), 4), 'imageAP': None if ap is None else round(ap, 4),
                  'cleanFlagged': round(float((pred & clean).sum() / max(1, clean.sum())), 4), 'support': int(truth[:, j].sum())}
    anyp = np.stack([s[:, j] >= thr[l] for j, l in enumerate(LABELS)], 1).any(1)
    anyt = truth.any(1)
    aps = [v['imageAP'] for v in per.values() if v['imageAP'] is not None]
    return {'anyThreatRecall': round(float((anyp & anyt).sum() / max(1, anyt.sum())), 4),
            'cleanImagesFlagged': round(float((anyp & ~anyt).sum() / max(1, (~anyt).sum())), 4),
            'imageMAP': round(float(np.mean(aps)), 4), 'perLabel': per, 'n': len(truth), 'nClean': int((~anyt).sum())}


def recall_at_clean_rate(s, truth, j, rate):
    """Image recall of class j at the threshold that flags `rate` of clean renderings for that class."""
    clean = ~truth.any(1)
    neg = np.sort(s[clean, j])[::-1]
    t = neg[int(np.floor(rate * len(neg)))] if len(neg) else 1.0
    pos = s[truth[:, j], j]
    return round(float((pos > t).mean()), 4) if len(pos) else None


def main():
    global MAX_PROPOSALS, DENSE_STRIDE, RANDOM_WINDOWS, FAINT_CONTRAST
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', default='models/training/out/verify-train', help='training set folders, comma-separated')
    ap.add_argument('--val', default='models/training/out/verify-val')
    ap.add_argument('--epochs', type=int, default=4)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--max-minutes', type=float, default=25)
    ap.add_argument('--out', default='models/registry')
    ap.add_argument('--version', default='1.0.0')
    ap.add_argument('--seed', type=int, default=17)
    ap.add_argument('--init', help='start from these weights: a .pt a previous run wrote, or an exported .onnx (batch norm '
                    'folded into the convolutions, so the net is built without it); with --epochs 0, only evaluate and write the card')
    ap.add_argument('--per-epoch', type=int, default=40000, help='windows drawn (without replacement) per epoch')
    ap.add_argument('--hard-negatives', type=float, default=0.0,
                    help='share of each epoch\'s threat-free windows taken from the hardest ones (highest score of any class '
                         'under the current weights, among --hard-pool drawn at random); the rest are drawn at random')
    ap.add_argument('--hard-pool', type=int, default=40000, help='threat-free windows scored per epoch to find the hard ones')
    ap.add_argument('--max-proposals', type=int, default=MAX_PROPOSALS, help='proposals re-scored per rendering (the card\'s '
                    'verifies.maxProposals); at 48 the strongest other classes crowd out 13 %% of knives and 1 %% of firearms (verify-val)')
    ap.add_argument('--flip-average', action='store_true', help='export (and evaluate) the logits averaged over each window and '
                    'its mirror image; with --epochs 0 --init <.onnx>, the card keeps the training block of the .onnx\'s card')
    ap.add_argument('--material', action='store_true', help='two input channels, grey and the material channel (sets written with '
                    '`synth --material`): writes container-threat-verify-de; --init from the grey model starts with the material '
                    'weights at zero, i.e. exactly the grey model')
    ap.add_argument('--neighbour-radius', type=float, default=0, help='fuse each window\'s score with the best score of '
                    'the windows whose centres lie within this many grid-input pixels (card: verifies.neighbourRadius)')
    ap.add_argument('--window-scores', help='with --epochs 0: take the held-out window scores from the .val.npz an earlier '
                    'run of the same weights wrote (e.g. to refit the fusion with --neighbour-radius) instead of scoring again')
    ap.add_argument('--random-windows', type=int, default=RANDOM_WINDOWS, help='training windows placed anywhere in each rendering '
                    'besides the proposals and the planted threats: the run-time sweep scores windows everywhere, so '
                    'more of them teach the verifier more of the cargo it must not flag')
    ap.add_argument('--dense-stride', type=float, default=0, help='also score a window every this many grid-input pixels over '
                    'the whole scan (the card\'s verifies.denseStride), so no threat depends on the grid proposing it; 0: off')
    ap.add_argument('--faint-contrast', type=float, default=0, help='training only: a planted threat standing out by less than '
                    'this against its clutter (item / (item + clutter) g/cm2, its recorded visibility) is never a positive; '
                    'windows on it are ignored for its class. Held-out figures count every item. 0: off')
    a = ap.parse_args()
    FAINT_CONTRAST = a.faint_contrast
    MAX_PROPOSALS = a.max_proposals
    DENSE_STRIDE = a.dense_stride
    RANDOM_WINDOWS = a.random_windows
    name = NAME_DE if a.material else NAME
    ch = 2 if a.material else 1
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t = Timer()
    if a.epochs == 0 and a.init:  # evaluate given weights: no training windows needed
        x = np.zeros((0, ch, SIZE, SIZE), np.uint8); y = np.zeros((0, len(LABELS)), np.uint8); m = y
    else:
        parts = [build(d, True, rng, a.material)[:3] for d in a.train.split(',')]
        x, y, m = (np.concatenate([p[k] for p in parts]) for k in range(3))
        del parts
    vx, vy, vm, vinfo, vtruth, vp = build(a.val, False, rng, a.material)
    print('windows', x.shape, 'positives per class', y.sum(0).tolist(), 'val windows', len(vx), t.s(), 's', flush=True)
    n_img = len(vtruth)
    half = n_img // 2
    if a.init and a.init.endswith('.onnx'):
        model = Net(len(LABELS), fused=True, channels=ch)
        try:
            load_folded_onnx(model, a.init)
        except (AssertionError, RuntimeError):
            if ch == 1:
                raise
            # a grey model: its weights, and zero weights from the material channel
            grey = Net(len(LABELS), fused=True)
            load_folded_onnx(grey, a.init)
            with torch.no_grad():
                for (k, p), q in zip(model.state_dict().items(), grey.state_dict().values()):
                    p.copy_(torch.cat([q, torch.zeros_like(q)], 1) if p.shape != q.shape else q)
            print('material channel added to the grey model', a.init, 'with zero weights', flush=True)
    else:
        model = Net(len(LABELS), channels=ch)
        if a.init:
            model.load_state_dict(torch.load(a.init))
    opt = torch.optim.AdamW(model.parameters(), a.lr, weight_decay=1e-4)
    per_epoch = max(1, min(len(x), a.per_epoch))
    steps = max(1, a.epochs * (per_epoch // a.bs))
    budget = a.max_minutes * 60
    step, stopped = 0, False

    def evaluate():
        v = predict(model, vx)
        s = image_scores(v, vinfo, n_img)
        return v, s

    for ep in range(a.epochs):
        model.train()
        # half of every epoch from windows with a threat in them, half from the rest
        pos = np.nonzero(y.any(1))[0]; neg = np.nonzero(~y.any(1))[0]
        n_hard = int(per_epoch // 2 * a.hard_negatives)
        hard = np.zeros(0, np.int64)
        if n_hard:
            # the threat-free windows the current weights score highest (masked classes left out): what a clean
            # scan is flagged for
            pool = rng.choice(neg, min(len(neg), a.hard_pool), replace=False)
            worst = (predict(model, x[pool]) * m[pool]).max(1)
            hard = pool[np.argsort(-worst)[:n_hard]]
            print(f'  hard negatives: {n_hard} of {len(pool)} scored, score >= {float(np.sort(worst)[-n_hard]):.3f}, t {t.s()} s', flush=True)
            model.train()
        rest = np.setdiff1d(neg, hard)
        perm = rng.permutation(np.concatenate([rng.choice(pos, per_epoch // 2, replace=len(pos) < per_epoch // 2), hard,
                                               rng.choice(rest, per_epoch // 2 - len(hard), replace=False)]))
        tot = 0.0
        for i in range(0, len(perm) - a.bs + 1, a.bs):
            idx = np.sort(perm[i:i + a.bs])
            xb = normalise(x[idx])
            yb, mb = torch.from_numpy(y[idx]).float(), torch.from_numpy(m[idx]).float()
            if rng.random() < 0.5:
                xb = xb.flip(3)
            # grey: vendors' windows and gammas differ; material: a little calibration drift between scanners
            xb[:, :1] = xb[:, :1] * (1 + 0.15 * torch.randn(len(idx), 1, 1, 1)) + 0.15 * torch.randn(len(idx), 1, 1, 1)
            if ch == 2:
                xb[:, 1:] = xb[:, 1:] * (1 + 0.05 * torch.randn(len(idx), 1, 1, 1)) + 0.1 * torch.randn(len(idx), 1, 1, 1)
            xb = xb + 0.05 * torch.randn_like(xb)
            bce = F.binary_cross_entropy_with_logits(model(xb), yb, reduction='none')
            loss = (bce * mb).sum() / mb.sum().clamp(min=1)
            p = max(step / steps, t.s() / budget)
            set_warmup_cosine_lr(opt, a.lr, p)
            opt.zero_grad(); loss.backward(); opt.step()
            tot += float(loss); step += 1
            if step % 200 == 0:
                print(f'  step {step}/{steps} loss {float(loss):.4f} t {t.s()} s', flush=True)
            if p >= 1 and step < steps:
                stopped = True
                break
        _, s = evaluate()
        thr = choose_thresholds(s[:half], vtruth[:half])
        f = figures(s[:half], vtruth[:half], thr)
        print(f'epoch {ep} loss {tot / max(1, per_epoch // a.bs):.4f} calib-half recall {f["anyThreatRecall"]} clean flagged {f["cleanImagesFlagged"]} mAP {f["imageMAP"]} t {t.s()} s', flush=True)
        if stopped:
            print('stopped at the time limit', flush=True)
            break
    trained = model
    if a.flip_average:
        model = FlipAveraged(model)
    if a.window_scores:
        # the same weights' held-out window scores from an earlier run: only the fusion and thresholds are refitted
        z = np.load(a.window_scores)
        assert a.epochs == 0 and z['info'].shape == vinfo.shape and np.array_equal(z['info'], vinfo), \
            f'{a.window_scores} holds the windows of another held-out set (or layout); run without --window-scores'
        v = z['v']
    else:
        v, _ = evaluate()
    # fusion with the grid's own belief around each window, fitted on the calibration half's windows only
    s, fusion = fused_image_scores(v, vinfo, vy, vm, n_img, a.neighbour_radius)
    s_plain = image_scores(v, vinfo, n_img)
    thr = choose_thresholds(s[:half], vtruth[:half])
    res = figures(s[half:], vtruth[half:], thr)
    res_plain = figures(s_plain[half:], vtruth[half:], choose_thresholds(s_plain[:half], vtruth[:half]))
    g = grid_image_scores(vp)
    grid_thr = choose_thresholds(g[:half], vtruth[:half])
    base = figures(g[half:], vtruth[half:], grid_thr)
    # firearm/knife recall when each may flag at most 1 % (and 5 %) of clean renderings, both stages, test half
    side = {}
    for lab in ('firearm', 'knife'):
        j = LABELS.index(lab)
        side[lab] = {'gridOnly': {'at1pct': recall_at_clean_rate(g[half:], vtruth[half:], j, 0.01), 'at5pct': recall_at_clean_rate(g[half:], vtruth[half:], j, 0.05)},
                     'verifierAlone': {'at1pct': recall_at_clean_rate(s_plain[half:], vtruth[half:], j, 0.01), 'at5pct': recall_at_clean_rate(s_plain[half:], vtruth[half:], j, 0.05)},
                     'withVerifier': {'at1pct': recall_at_clean_rate(s[half:], vtruth[half:], j, 0.01), 'at5pct': recall_at_clean_rate(s[half:], vtruth[half:], j, 0.05)}}
    os.makedirs(a.out, exist_ok=True)
    # for analysis beside the card: the held-out windows' scores and where they came from
    np.savez_compressed(os.path.join(a.out, name + '.val.npz'), v=v, info=vinfo, truth=vtruth, grid=g, y=vy, m=vm)
    torch.save(trained.state_dict(), os.path.join(a.out, name + '.pt'))
    onnx_path = os.path.join(a.out, name + '.onnx')
    export_onnx(model, torch.zeros(1, ch, SIZE, SIZE), onnx_path, 'logits')
    vds = json.load(open(os.path.join(a.val, 'dataset.json')))
    gj = json.load(open(os.path.join(a.val, 'grid.json')))
    card = {
        'name': name, 'version': a.version, 'sha256': sha256(onnx_path), 'file': name + '.onnx',
        'task': 'verify', 'modality': 'container-xray',
        'input': {'shape': ['batch', ch, SIZE, SIZE], 'channels': 'grey+material' if a.material else 'grey',
                  'normalisation': {'mean': MEANS[:ch], 'std': STDS[:ch]}, 'resize': 'stretch', 'padValue': 255},
        'output': {'name': 'logits', 'layout': 'multilabel-logits'},
        'labels': LABELS, 'thresholds': thr,
        'verifies': {'model': gj['model'], 'proposalThreshold': PROPOSAL_THRESHOLD, 'maxProposals': MAX_PROPOSALS, 'window': WINDOW,
                     # the smallest windows training saw: a 20 ft box at 6 mm/px gives 84 px, jittered by 0.85
                     'minWindowPixels': 72, **({'denseStride': whole(DENSE_STRIDE)} if DENSE_STRIDE > 0 else {}),
                     **({'neighbourRadius': whole(a.neighbour_radius)} if a.neighbour_radius > 0 else {}), 'fusion': fusion},
        'metrics': {'split': 'held-out synthetic, second half of verify-val (the first half chose the thresholds)', 'heldOutSeed': vds['seed'],
                    'renderingMmPerPixel': vds.get('mmpp'), **res,
                    'gridAloneSameRenderings': {k: base[k] for k in ('anyThreatRecall', 'cleanImagesFlagged', 'imageMAP')},
                    'verifierWithoutFusion': {k: res_plain[k] for k in ('anyThreatRecall', 'cleanImagesFlagged', 'imageMAP')},
                    'recallAtCleanFlagRate': side},
        'training': training_block(a, len(x), step, stopped, model, t, gj),
    }
    write_card(os.path.join(a.out, name + '.card.json'), card)
    print(json.dumps({k: v for k, v in res.items() if k != 'perLabel'}), json.dumps(thr))
    print('grid alone', json.dumps({k: v for k, v in base.items() if k != 'perLabel'}))
    print('verifier without fusion', json.dumps({k: v for k, v in res_plain.items() if k != 'perLabel'}), 'fusion', json.dumps(fusion))
    print('firearm/knife recall at clean flag rate', json.dumps(side), 'wall', t.s(), 's')


def training_block(a, windows, step, stopped, model, t, gj):
    """The card's `training`: this run's, or (an evaluation-only run re-exporting a committed model with
    --flip-average) the committed card's, with how this card was written."""
    command = '/usr/bin/python3 models/training/train_verifier.py ' + ' '.join(sys.argv[1:])
    prev = a.init[:-len('.onnx')] + '.card.json' if a.init and a.init.endswith('.onnx') else None
    if a.epochs == 0 and prev and os.path.exists(prev):
        return json.load(open(prev))['training'] | {'flipAverage': a.flip_average, 'cardCommand': command, 'cardWallSeconds': t.s()}
    sets = [json.load(open(os.path.join(d, 'dataset.json'))) | {'images': len(json.load(open(os.path.join(d, 'grid.json')))['images'])} for d in a.train.split(',')]
    ds = sets[0]
    return {'generator': ds['generator'], 'trainSeed': ds['seed'], 'trainCount': sets[0]['images'],
            **({'trainSets': [{'seed': d['seed'], 'renderings': d['images']} for d in sets]} if len(sets) > 1 else {}),
            'windows': int(windows), 'epochs': a.epochs,
            'stoppedAtTimeLimit': stopped, 'steps': step, 'peakLearningRate': a.lr, 'torchSeed': a.seed,
            'proposalsFrom': f"{gj['model']} {gj['version']}",
            **({'continuedFrom': a.init} if a.init else {}), **({'randomWindows': a.random_windows} if a.random_windows != DEFAULT_RANDOM_WINDOWS else {}), **({'hardNegatives': a.hard_negatives, 'hardPool': a.hard_pool} if a.hard_negatives else {}),
            **({'flipAverage': True} if a.flip_average else {}),
            **({'faintContrast': a.faint_contrast} if a.faint_contrast else {}),
            'command': command, 'wallSeconds': t.s(), 'machine': '2-core CPU, torch %s' % torch.__version__,
            'params': sum(q.numel() for q in model.parameters())}


if __name__ == '__main__':
    main()
