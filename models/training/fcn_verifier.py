"""The dual-energy threat verifier run fully convolutionally (issue 8's container lever): instead of cutting and
resampling each of a scan's ~340 sweep windows and running the verifier's layers on each, the whole rendering is
resampled once to the verifier's scale (128 px per window), its layers run once over it (a feature map at stride
32), and each window is pooled from its 4 x 4 cells exactly as the head pools a window's own map today (mean and
max, then the linear head). Windows then sit on a 32-px lattice of the resampled scan (a proposal's window snaps to
the nearest lattice point, at most 16 px away), and a window's border cells see the scan around it instead of the
crop's edge, so the weights trained on crops are not the same model in this form: this script measures how far
they move, refits the head on lattice features of training renderings (--refit-head), and can fine-tune every layer
in this form (--finetune-minutes) on whole renderings.

Held-out figures as the cards give them: verify-val's windows (the grid's proposals and the dense sweep), the
fusion with the grid and the neighbouring windows fitted on the first half, thresholds chosen there, every figure
on the second half.

Run (from the repo root; sets written with --material and their grid proposals, as train_verifier.py says; the
commands that made 2.0.0 are in models/README.md):
  /usr/bin/python3 models/training/fcn_verifier.py [--grey] [--init <a windowed or lattice .onnx>] [--out result.json]
      [--train models/training/out/verify-dense,models/training/out/verify-hn (--refit-head | --finetune-minutes M
       [--lr 1e-4] [--hard-negatives K])] [--export <dir> --version V]
"""
import argparse, json, os, sys
import numpy as np
from PIL import Image
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
import train_verifier as tv
from common import Timer, load_folded_onnx
from train_grid_detector import LABELS

CELL = 32                 # the verifier's output stride
CELLS = tv.SIZE // CELL   # a window's cells a side (4)
DEV = torch.device('cpu') # --device: where the layers run (scoring, mining, fine-tuning); canvases stay in host memory
PLANES = 2                # --grey: 1 (the grey verifier, for scans sent as renderings only), else grey + material;
                          # --deep: 3, grey + material + the deep plane (renderContainerDeep, sets written with `synth --deep`)


def use_kind(grey, deep=False):
    """Sets PLANES for the grey verifier (one plane) or the dual-energy one (grey + material, and with deep the deep
    plane); returns the registry's .onnx of that kind (the default start: the dual-energy one for either)."""
    global PLANES
    assert not (grey and deep), '--grey and --deep: the deep plane comes from the raw pair'
    PLANES = 1 if grey else 3 if deep else 2
    return f'models/registry/{model_name()}.onnx'


def model_name():
    return tv.NAME_DE if PLANES >= 2 else tv.NAME


CHANNELS = {1: 'grey', 2: 'grey+material', 3: 'grey+material+deep'}


def scale_of(im):
    """Resampled pixels per rendering pixel: a window of WINDOW grid-input px becomes SIZE px, as the crops are."""
    return tv.SIZE * im['sx'] / tv.WINDOW


def canvas(d, im, f):
    """The rendering and (unless PLANES is 1) its material channel resampled by f (PIL BOX, as the crops) on an air
    canvas whose sides are multiples of CELL with at least two cells of air around the scan: (planes uint8
    [PLANES, H, W], ox, oy)."""
    g, m = tv.load_planes(d, im, PLANES >= 2)
    dp = Image.open(os.path.join(d, 'deep', im['id'] + '.png')).convert('L') if PLANES == 3 else None
    return planes_canvas(g, m, f, dp)


def planes_canvas(g, m, f, dp=None):
    """canvas() of PIL 'L' images: grey, material unless it is None (then one plane), and the deep plane if given."""
    w, h = max(1, round(g.size[0] * f)), max(1, round(g.size[1] * f))
    srcs = [g] + ([m] if m is not None else []) + ([dp] if dp is not None else [])
    margin = 2 * CELL
    W = -(-(w + 2 * margin) // CELL) * CELL; H = -(-(h + 2 * margin) // CELL) * CELL
    ox, oy = margin, margin
    out = np.empty((len(srcs), H, W), np.uint8)
    # air: grey white, material 0 (air attenuates nothing), deep white (under the window's start)
    for k, (src, air) in enumerate(zip(srcs, (255, 0, 255))):
        out[k].fill(air)
        out[k, oy:oy + h, ox:ox + w] = np.asarray(src.resize((w, h), Image.BOX))
    return out, ox, oy


def window_cells(info_rows, im, f, ox, oy, gh, gw):
    """Each window's top-left cell on the lattice (clipped to the map of window positions gh x gw)."""
    out = []
    for r in info_rows:
        cx, cy = r[tv.CENTRE]
        x = (cx - im['padX']) / im['sx'] * f + ox; y = (cy - im['padY']) / im['sy'] * f + oy
        i = int(round((x - tv.SIZE / 2) / CELL)); j = int(round((y - tv.SIZE / 2) / CELL))
        out.append((min(max(j, 0), gh - 1), min(max(i, 0), gw - 1)))
    return np.array(out, np.int64).reshape(-1, 2)


def pool_cells(h):
    """Window features [N, 256, gh, gw] of every lattice position of feature maps h [N, 128, H, W]: the mean and max of
    each 4 x 4 block of cells, as the head pools a window's own map."""
    return torch.cat([F.avg_pool2d(h, CELLS, 1), F.max_pool2d(h, CELLS, 1)], 1)


def pooled(model, planes):
    """Window features [256, gh, gw] of every lattice position of one canvas."""
    return pool_cells(model.f(tv.normalise(planes[None], DEV)))[0]


def window_logits(model, planes, cells, flip=True):
    """Logits [N, classes] of the windows at these lattice cells; with flip the mean with the mirrored scan's."""
    p = pooled(model, planes)
    gw = p.shape[2]
    feats = p[:, cells[:, 0], cells[:, 1]].T
    z = model.head(feats)
    if flip:
        q = pooled(model, np.ascontiguousarray(planes[..., ::-1]))
        z = (z + model.head(q[:, cells[:, 0], gw - 1 - cells[:, 1]].T)) / 2
    return z


def build_train(d, rng):
    """Training windows of set d as build(train=True) places them (proposals, jittered windows on every planted
    threat, random windows) plus the dense sweep, without cutting crops: (None, targets, masks, info, truth, p)."""
    j, p = tv.load_grid(d)
    ys, ms, info = [], [], []
    truth = np.zeros((len(j['images']), len(LABELS)), bool)
    for n, im in enumerate(j['images']):
        boxes = tv.boxes_of(tv.read_meta(d, im))
        for lab, _ in boxes:
            truth[n, LABELS.index(lab)] = True
        wins = [(k, s, cx, cy) for k, s, cx, cy in tv.proposals(p[n], j['stride'])]
        wins += [(-1, 0.0, cx, cy) for cx, cy in tv.dense_centres(im)]
        for lab, (bx0, by0, bx1, by1) in boxes:
            for _ in range(tv.TRUTH_WINDOWS):
                gx = (bx0 + bx1) / 2 * im['sx'] + im['padX'] + rng.uniform(-tv.WINDOW / 5, tv.WINDOW / 5)
                gy = (by0 + by1) / 2 * im['sy'] + im['padY'] + rng.uniform(-tv.WINDOW / 5, tv.WINDOW / 5)
                wins.append((LABELS.index(lab), 0.0, gx, gy))
        for k, s, cx, cy in wins:
            t, mk = tv.targets(boxes, tv.window_box(im, cx, cy, tv.WINDOW))
            ys.append(t); ms.append(mk)
            info.append((n, k, s, cx, cy, *tv.grid_around(p[n], cx, cy, j['stride'])))
    return None, np.stack(ys), np.stack(ms), np.array(info, np.float64), truth, p


def by_rendering(info):
    n = info[:, 0].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, n[1:] != n[:-1]])
    return zip(n[starts], starts, np.r_[starts[1:], len(n)])


def score_set(model, d, info, flip=True, feats=False):
    """Window probabilities of set d's windows in the fully convolutional form (or, with feats, the pooled window
    features of the unflipped and the mirrored scan, for refitting the head)."""
    j = json.load(open(os.path.join(d, 'grid.json')))
    out = []
    model.eval()
    with torch.no_grad():
        for n, a, b in by_rendering(info):
            im = j['images'][n]
            f = scale_of(im)
            planes, ox, oy = canvas(d, im, f)
            if feats:
                p = pooled(model, planes); q = pooled(model, np.ascontiguousarray(planes[..., ::-1]))
                cells = window_cells(info[a:b], im, f, ox, oy, p.shape[1], p.shape[2])
                out.append(np.stack([p[:, cells[:, 0], cells[:, 1]].T.cpu().numpy(), q[:, cells[:, 0], p.shape[2] - 1 - cells[:, 1]].T.cpu().numpy()], 1))
            else:
                gh, gw = planes.shape[1] // CELL - CELLS + 1, planes.shape[2] // CELL - CELLS + 1
                cells = window_cells(info[a:b], im, f, ox, oy, gh, gw)
                out.append(torch.sigmoid(window_logits(model, planes, cells, flip)).cpu().numpy())
            if (n + 1) % 200 == 0:
                print(f'  {d}: {n + 1} renderings', flush=True)
    return np.concatenate(out)


def refit_head(model, feats, y, m, steps=300, lr=0.05, seed=5):
    """The linear head refitted on lattice features (both the scan and its mirror as samples), masked BCE, from the
    crop-trained head."""
    torch.manual_seed(seed)
    x = torch.from_numpy(feats.reshape(-1, feats.shape[-1]))
    yy = torch.from_numpy(np.repeat(y, 2, 0)).float(); mm = torch.from_numpy(np.repeat(m, 2, 0)).float()
    pos = yy.sum(0).clamp(min=1); neg = (mm.sum(0) - pos).clamp(min=1)
    # positives are rare: weight them to half of each class's loss, as training drew half its windows from threats
    wpos = (neg / pos).clamp(max=50)
    opt = torch.optim.LBFGS(model.head.parameters(), lr=lr, max_iter=steps, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        z = model.head(x)
        l = (F.binary_cross_entropy_with_logits(z, yy, reduction='none', pos_weight=wpos) * mm).sum() / mm.sum()
        l = l + 1e-4 * model.head.weight.pow(2).sum()
        l.backward()
        return l
    opt.step(closure)
    return float(closure())


def lattice_targets(boxes, im, f, ox, oy, gh, gw):
    """Targets and masks [gh, gw, classes] of every lattice window of a canvas (train_verifier.targets on the
    window's box in rendering pixels)."""
    y = np.zeros((gh, gw, len(LABELS)), np.uint8); m = np.ones((gh, gw, len(LABELS)), np.uint8)
    if not boxes:
        return y, m
    for j in range(gh):
        for i in range(gw):
            x0, y0 = (i * CELL - ox) / f, (j * CELL - oy) / f
            y[j, i], m[j, i] = tv.targets(boxes, (x0, y0, x0 + tv.SIZE / f, y0 + tv.SIZE / f))
    return y, m


def load_canvas(d, im):
    """One training rendering as a canvas with its lattice targets and its planted threats' centres (canvas px)."""
    f = scale_of(im)
    planes, ox, oy = canvas(d, im, f)
    boxes = tv.load_boxes(d, im)
    gh, gw = planes.shape[1] // CELL - CELLS + 1, planes.shape[2] // CELL - CELLS + 1
    y, m = lattice_targets(boxes, im, f, ox, oy, gh, gw)
    centres = [((b[0] + b[2]) / 2 * f + ox, (b[1] + b[3]) / 2 * f + oy) for _, b in boxes]
    return planes, y, m, centres


def _load_canvas(job):
    return load_canvas(*job)


def load_canvases(dirs, workers=1):
    """Every training rendering of these sets as load_canvas gives it, in order (workers processes)."""
    jobs = [(d, im) for d in dirs for im in json.load(open(os.path.join(d, 'grid.json')))['images']]
    if workers <= 1:
        return [load_canvas(d, im) for d, im in jobs]
    import multiprocessing
    with multiprocessing.get_context('fork').Pool(workers) as pool:
        return pool.map(_load_canvas, jobs, chunksize=8)


def hard_negatives(model, data, per_canvas=8):
    """The threat-free lattice windows the current weights score highest (any class, windows with no target and no
    ignored class), up to per_canvas a canvas: [(canvas, row, column, score)], what a clean scan gets flagged for."""
    out = []
    model.eval()
    with torch.no_grad():
        for n, (planes, y, m, _) in enumerate(data):
            z = model.head(pooled(model, planes).permute(1, 2, 0))
            p = torch.sigmoid(z).max(2).values.cpu().numpy()
            clean = (y.max(2) == 0) & (m.min(2) == 1)
            p = np.where(clean[:p.shape[0], :p.shape[1]], p, -1)
            for k in np.argsort(-p, axis=None)[:per_canvas]:
                j, i = divmod(int(k), p.shape[1])
                if p[j, i] > 0:
                    out.append((n, j, i, float(p[j, i])))
    return out


def finetune(model, data, minutes, lr, rng, patch=384, bs=12, hard=None, new_plane_lr=1.0, plane_only=False, steps=0):
    """Every layer trained in the lattice form on patches of the training canvases (patch x patch px on the lattice:
    (patch / 32 - 3)^2 windows each), half of them around a planted threat, with train_verifier's augmentation;
    masked BCE over every window of the patch. Warm-up then cosine decay over the time budget, or over `steps` steps
    when given (a budget in steps repeats a run whatever the machine's speed; minutes are then ignored). With `hard`
    (hard_negatives), a third of the patches are centred on one of those windows instead of drawn at random. With
    new_plane_lr > 1 (three planes) the deep plane's first-layer weights move that many times as far each step as
    AdamW moves them: added at zero, they otherwise stay near it (3.0.0: norm 0.2 against 8-9 after 7,115 steps).
    With plane_only (three planes) nothing else trains: the deep plane's first-layer weights alone, without weight
    decay, so the model stays its start everywhere the plane adds nothing."""
    from common import set_warmup_cosine_lr
    first = next(c for c in model.f.modules() if isinstance(c, torch.nn.Conv2d))
    if plane_only:
        assert first.weight.shape[1] == 3, 'plane_only: a three-plane (--deep) model'
        for p in model.parameters():
            p.requires_grad_(False)
        first.weight.requires_grad_(True)
        kept = first.weight[:, :2].detach().clone()
        opt = torch.optim.AdamW([first.weight], lr, weight_decay=0)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=1e-4)
    boost = new_plane_lr != 1.0 and first.weight.shape[1] == 3
    k = patch // CELL
    gp = k - CELLS + 1
    t0 = Timer(); step = 0; budget = minutes * 60
    with_threat = [i for i, c in enumerate(data) if c[3]]
    model.train()
    while (step < steps) if steps else (t0.s() < budget):
        xs, ys, ms = [], [], []
        for b in range(bs):
            hn = hard[rng.integers(len(hard))] if hard and b % 3 == 1 else None
            planes, y, m, centres = data[hn[0] if hn else rng.choice(with_threat) if b % 2 == 0 else rng.integers(len(data))]
            H, W = planes.shape[1] // CELL, planes.shape[2] // CELL
            if hn:  # the hard window's corner cell somewhere inside the patch's window positions
                i = hn[2] - int(rng.integers(0, gp)); j = hn[1] - int(rng.integers(0, gp))
            elif b % 2 == 0:
                cx, cy = centres[rng.integers(len(centres))]
                i = int(round(cx / CELL - k / 2 + rng.uniform(-2, 2))); j = int(round(cy / CELL - k / 2 + rng.uniform(-2, 2)))
            else:
                i = int(rng.integers(0, max(1, W - k + 1))); j = int(rng.integers(0, max(1, H - k + 1)))
            i = min(max(i, 0), max(0, W - k)); j = min(max(j, 0), max(0, H - k))
            x = np.full((planes.shape[0], k * CELL, k * CELL), 0, np.uint8); x[0] = 255; x[2:] = 255  # air, as planes_canvas
            part = planes[:, j * CELL:(j + k) * CELL, i * CELL:(i + k) * CELL]
            x[:, :part.shape[1], :part.shape[2]] = part
            yy = np.zeros((gp, gp, len(LABELS)), np.uint8); mm = np.zeros((gp, gp, len(LABELS)), np.uint8)
            ty, tm = y[j:j + gp, i:i + gp], m[j:j + gp, i:i + gp]
            yy[:ty.shape[0], :ty.shape[1]] = ty; mm[:tm.shape[0], :tm.shape[1]] = tm
            if rng.random() < 0.5:
                x, yy, mm = x[..., ::-1], yy[:, ::-1], mm[:, ::-1]
            xs.append(np.ascontiguousarray(x)); ys.append(np.ascontiguousarray(yy)); ms.append(np.ascontiguousarray(mm))
        xb = tv.normalise(np.stack(xs), DEV)
        n = len(xs)
        xb[:, :1] = xb[:, :1] * (1 + 0.15 * torch.randn(n, 1, 1, 1, device=DEV)) + 0.15 * torch.randn(n, 1, 1, 1, device=DEV)
        xb[:, 1:] = xb[:, 1:] * (1 + 0.05 * torch.randn(n, 1, 1, 1, device=DEV)) + 0.1 * torch.randn(n, 1, 1, 1, device=DEV)
        xb = xb + 0.05 * torch.randn_like(xb)
        h = model.f(xb)
        z = model.head(pool_cells(h).permute(0, 2, 3, 1))
        yb, mb = torch.from_numpy(np.stack(ys)).to(DEV).float(), torch.from_numpy(np.stack(ms)).to(DEV).float()
        loss = (F.binary_cross_entropy_with_logits(z, yb, reduction='none') * mb).sum() / mb.sum().clamp(min=1)
        set_warmup_cosine_lr(opt, lr, step / steps if steps else min(1.0, t0.s() / budget))
        opt.zero_grad(); loss.backward()
        before = first.weight[:, 2:].detach().clone() if boost else None
        opt.step()
        if boost:  # AdamW's step is per element: scaling the step (not the gradient) scales that plane's learning rate
            with torch.no_grad():
                first.weight[:, 2:] += (new_plane_lr - 1) * (first.weight[:, 2:] - before)
        if plane_only:  # the grey and material planes' weights as they were (their gradients are not used)
            with torch.no_grad():
                first.weight[:, :2] = kept
        step += 1
        if step % 100 == 0:
            print(f'  finetune step {step} loss {float(loss):.4f} t {t0.s()} s', flush=True)
    model.eval()
    return step


# The lowest card threshold (--threshold-floor): the runtime emits nothing under a class's card threshold, so the
# policy's thresholds cannot go under it either (scripts/match-budget.ts keeps to the card's).
THRESHOLD_FLOOR = 0.05
# --save-scores: where report() keeps the held-out window scores it was given (the latest call's), for refitting the
# fusion without scoring the set again (fusion_fit.py)
SAVE_SCORES = None


def report(v, info, y, m, truth):
    """The card's figures for window scores v: fusion (grid + neighbours, radius 24) and thresholds on the first half,
    figures on the second."""
    n = len(truth); half = n // 2
    if SAVE_SCORES:
        np.savez_compressed(SAVE_SCORES, v=v, info=info, y=y, m=m, truth=truth)
    s, fusion = tv.fused_image_scores(v, info, y, m, n, 24)
    thr = tv.choose_thresholds(s[:half], truth[:half], floor=THRESHOLD_FLOOR)
    res = tv.figures(s[half:], truth[half:], thr)
    plain = tv.image_scores(v, info, n)
    # a comparison figure, never emitted: its thresholds keep the fixed 0.05 floor so that it compares across cards
    res['verifierWithoutFusion'] = {k: tv.figures(plain[half:], truth[half:], tv.choose_thresholds(plain[:half], truth[:half]))[k] for k in ('anyThreatRecall', 'cleanImagesFlagged', 'imageMAP')}
    res['recallAtCleanFlagRate'] = {lab: {'at1pct': tv.recall_at_clean_rate(s[half:], truth[half:], LABELS.index(lab), 0.01),
                                          'at5pct': tv.recall_at_clean_rate(s[half:], truth[half:], LABELS.index(lab), 0.05)} for lab in ('firearm', 'knife')}
    res['thresholds'] = thr
    res['fusion'] = fusion
    return res


def load_lattice_onnx(model, path):
    """Loads a lattice verifier this script exported (WindowMap: its layers appear twice, for the scan and its mirror
    image, on shared weights) into tv.Net(fused=True): the convolutions' weights in order of first use, the last
    one (1 x 1) the head."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    seen, convs = set(), []
    for n in g.node:
        if n.op_type == 'Conv' and n.input[1] not in seen:
            seen.add(n.input[1]); convs.append((inits[n.input[1]], inits[n.input[2]]))
    layers = [c for c in model.f.modules() if isinstance(c, torch.nn.Conv2d)]
    assert len(convs) == len(layers) + 1, f'{path} is not a lattice verifier of this architecture'
    with torch.no_grad():
        for layer, (w, b) in zip(layers, convs):
            layer.weight.copy_(torch.from_numpy(w.copy())); layer.bias.copy_(torch.from_numpy(b.copy()))
        w, b = convs[-1]
        model.head.weight.copy_(torch.from_numpy(w[:, :, 0, 0].copy())); model.head.bias.copy_(torch.from_numpy(b.copy()))


def onnx_planes(path):
    """The input planes of an exported verifier (1 grey, 2 grey + material)."""
    import onnx
    return onnx.load(path).graph.input[0].type.tensor_type.shape.dim[1].dim_value


def load_init(path, deep_init='zero'):
    """The verifier's weights from a windowed export (1.5.0 and before) or a lattice one (2.0.0 on) as tv.Net of PLANES
    input planes. A grey + material export read as a grey one keeps its first layer's grey weights (the material
    plane's dropped): a start for the grey verifier from the dual-energy one, to be fine-tuned. A grey + material
    export read for --deep gets zero weights from the deep plane (deep_init 'zero'): it starts as the same model and
    learns to use it; or (deep_init 'grey') the grey plane's weights split in half between the grey and the deep plane:
    the deep plane reads like a rendering (dark = dense, normalised to about the same range), so the grey filters
    mean something there from the first step, and where the two planes agree the first layer's output is unchanged."""
    have = onnx_planes(path)
    assert have in (1, 2, 3) and (have >= PLANES or (have == 2 and PLANES == 3)), f'{path}: {have} input planes, {PLANES} wanted'
    model = tv.Net(len(LABELS), fused=True, channels=have)
    try:
        load_folded_onnx(model, path)
    except AssertionError:
        load_lattice_onnx(model, path)
    if have != PLANES:  # the first layer's weights cut to the planes kept, or widened with zeros for the added ones
        state = model.state_dict()
        first = next(k for k in state if k.endswith('weight'))
        w = state[first]
        if have > PLANES:
            state[first] = w[:, :PLANES].clone()
        elif deep_init == 'grey':
            assert have == 2 and PLANES == 3, 'deep_init grey: a grey + material start widened for --deep'
            state[first] = torch.cat([w[:, :1] * 0.5, w[:, 1:2], w[:, :1] * 0.5], 1)
        else:
            state[first] = torch.cat([w, torch.zeros(w.shape[0], PLANES - have, *w.shape[2:])], 1)
        model = tv.Net(len(LABELS), fused=True, channels=PLANES)
        model.load_state_dict(state)
        if have < PLANES:
            print(f'{path}: {PLANES - have} input plane(s) added, {deep_init} weights', flush=True)
    return model


class WindowMap(torch.nn.Module):
    """The exported form: a canvas [N, C, H, W] (H, W multiples of CELL) -> the logits of every lattice window
    [N, classes, H / CELL - 3, W / CELL - 3], averaged with the mirrored canvas's (as the windowed verifier's
    --flip-average export): one graph, one run a scan."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def one(self, x):
        p = pool_cells(self.m.f(x))
        return F.conv2d(p, self.m.head.weight[:, :, None, None], self.m.head.bias)

    def forward(self, x):
        return (self.one(x) + torch.flip(self.one(torch.flip(x, [3])), [3])) / 2


def export(model, res, a, t, trained):
    """Writes <out dir>/container-threat-verify-de.onnx (or, --grey, container-threat-verify.onnx) and its card
    (layout window-map)."""
    from common import sha256, write_card
    os.makedirs(a.export, exist_ok=True)
    name = model_name()
    path = os.path.join(a.export, name + '.onnx')
    model.eval()
    torch.onnx.export(WindowMap(model), torch.zeros(1, PLANES, 8 * CELL, 12 * CELL), path, opset_version=13, input_names=['images'],
                      output_names=['logits'], dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch', 2: 'rows', 3: 'columns'}},
                      do_constant_folding=True)
    vds = json.load(open(os.path.join(a.val, 'dataset.json')))
    gj = json.load(open(os.path.join(a.val, 'grid.json')))
    prev = json.load(open(a.init[:-len('.onnx')] + '.card.json')) if a.init.endswith('.onnx') else {}
    card = {
        'name': name, 'version': a.version, 'sha256': sha256(path), 'file': name + '.onnx', 'task': 'verify', 'modality': 'container-xray',
        'input': {'shape': ['batch', PLANES, tv.SIZE, tv.SIZE], 'channels': CHANNELS[PLANES],
                  'normalisation': {'mean': tv.MEANS[:PLANES], 'std': tv.STDS[:PLANES]}, 'resize': 'stretch', 'padValue': 255},
        'output': {'name': 'logits', 'layout': 'window-map', 'stride': CELL},
        'labels': LABELS, 'thresholds': res['thresholds'],
        'verifies': {'model': gj['model'], 'proposalThreshold': tv.PROPOSAL_THRESHOLD, 'maxProposals': tv.MAX_PROPOSALS, 'window': tv.WINDOW,
                     'minWindowPixels': 72, 'denseStride': 24, 'neighbourRadius': 24, 'fusion': res['fusion']},
        'metrics': {'split': 'held-out synthetic, second half of verify-val (the first half chose the thresholds)', 'heldOutSeed': vds['seed'],
                    'renderingMmPerPixel': vds.get('mmpp'), 'form': 'lattice: the whole scan resampled once, windows on a 32-px lattice', 'thresholdFloor': THRESHOLD_FLOOR,
                    **{k: v for k, v in res.items() if k not in ('thresholds', 'fusion')}},
        'training': {'generator': vds['generator'], 'continuedFrom': f"{a.init} ({prev.get('name')} {prev.get('version')}, " + ('lattice form)' if prev.get('output', {}).get('layout') == 'window-map' else 'trained on windows)'),
                     **({'latticeFineTune': {'patch': 384, 'batch': 12} | {k: trained[k] for k in ('train', 'minutes', 'steps', 'lr', 'batch', 'hardNegativesPerCanvas', 'newPlaneLr', 'deepInit', 'planeOnly', 'seed', 'device', 'torch', 'command') if k in trained}} if trained else {}),
                     'cardCommand': '/usr/bin/python3 models/training/fcn_verifier.py ' + ' '.join(sys.argv[1:]), 'cardWallSeconds': t.s(),
                     'machine': (f"fine-tuned on {trained['device']} (torch {trained.get('torch')}); card scored on a 2-core CPU, torch {torch.__version__}"
                                 if trained and trained.get('device') else '2-core CPU, torch %s' % torch.__version__), 'params': sum(q.numel() for q in model.parameters())},
    }
    write_card(os.path.join(a.export, name + '.card.json'), card)
    print('wrote', path, flush=True)


def short(r):
    return {k: r[k] for k in ('anyThreatRecall', 'cleanImagesFlagged', 'imageMAP', 'recallAtCleanFlagRate')} | {
        'AP': {l: r['perLabel'][l]['imageAP'] for l in LABELS}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--init', help='starting weights (default: the registry\'s verifier of this kind)')
    ap.add_argument('--grey', action='store_true', help='the grey verifier (renderings only, one input plane); --init may '
                    'be a dual-energy export, whose first layer then keeps its grey weights')
    ap.add_argument('--deep', action='store_true', help='the dual-energy verifier with a third input plane, the deep window '
                    '(sets written with `synth --deep`); from a grey + material start its weights begin at zero')
    ap.add_argument('--deep-init', choices=('zero', 'grey'), default='zero', help='with --deep from a grey + material start: '
                    'the deep plane\'s first-layer weights start at zero (the same model) or take half the grey plane\'s')
    ap.add_argument('--val', default='models/training/out/verify-val')
    ap.add_argument('--train', default='')
    ap.add_argument('--refit-head', action='store_true')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=29)
    ap.add_argument('--finetune-minutes', type=float, default=0)
    ap.add_argument('--finetune-steps', type=int, default=0, help='fine-tune for this many steps instead of --finetune-minutes '
                    '(the learning-rate schedule then follows the step count, so the run repeats on any machine)')
    ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--hard-negatives', type=int, default=0, help='fine-tuning: mine this many highest-scoring threat-free '
                    'windows a training canvas with the starting weights; a third of the patches are centred on them')
    ap.add_argument('--new-plane-lr', type=float, default=1.0, help='with --deep, fine-tuning: the deep plane\'s first-layer '
                    'weights at this many times the learning rate')
    ap.add_argument('--plane-only', action='store_true', help='with --deep, fine-tuning: train the deep plane\'s first-layer '
                    'weights alone (no weight decay); every other weight stays as it started')
    ap.add_argument('--skip-crop-head', action='store_true', help='do not score the crop-trained head first')
    ap.add_argument('--export', help='write the lattice model (.onnx, window-map layout) and its card to this folder')
    ap.add_argument('--version', default='2.0.0')
    ap.add_argument('--load', help='the weights a fine-tuning run of this script saved (<out>.ft.pt), over --init')
    ap.add_argument('--trained-by', help='with --load and --export: that run\'s result JSON (--out), whose fine-tuning the card records')
    ap.add_argument('--threshold-floor', type=float, default=0.05, help='the lowest card threshold of any class (what the '
                    'runtime emits from; a policy threshold cannot go under it)')
    ap.add_argument('--save-scores', help='keep the held-out window scores behind the figures in this .npz (v, info, y, m, truth)')
    ap.add_argument('--out')
    a = ap.parse_args()
    registry_model = use_kind(a.grey, a.deep)
    a.init = a.init or registry_model
    torch.set_num_threads(a.threads)
    tv.DENSE_STRIDE = 24
    global THRESHOLD_FLOOR, SAVE_SCORES
    THRESHOLD_FLOOR, SAVE_SCORES = a.threshold_floor, a.save_scores
    t = Timer()
    rng = np.random.default_rng(a.seed)
    model = load_init(a.init, a.deep_init)
    if a.load:
        model.load_state_dict(torch.load(a.load, map_location='cpu'))
    _, vy, vm, vinfo, vtruth, _ = tv.build(a.val, False, rng, PLANES >= 2)
    print('val windows', len(vinfo), t.s(), 's', flush=True)
    result = {'init': a.init, 'val': a.val, 'valWindows': len(vinfo), 'command': '/usr/bin/python3 models/training/fcn_verifier.py ' + ' '.join(sys.argv[1:])}
    full = {}  # the latest figures in full, for the card
    if not a.skip_crop_head:
        full = report(score_set(model, a.val, vinfo), vinfo, vy, vm, vtruth)
        result['asTrainedOnCrops'] = short(full)
        print('lattice, crop-trained head', json.dumps(result['asTrainedOnCrops']), t.s(), 's', flush=True)
    if a.refit_head and a.train:
        feats, ys, ms = [], [], []
        for d in a.train.split(','):
            _, y, m, info, _, _ = build_train(d, rng)
            feats.append(score_set(model, d, info, feats=True)); ys.append(y); ms.append(m)
            print(' ', d, len(info), 'windows', t.s(), 's', flush=True)
        loss = refit_head(model, np.concatenate(feats), np.concatenate(ys), np.concatenate(ms))
        v2 = score_set(model, a.val, vinfo)
        result['headRefitted'] = short(report(v2, vinfo, vy, vm, vtruth)) | {'trainLoss': round(loss, 4), 'train': a.train}
        print('lattice, head refitted', json.dumps(result['headRefitted']), t.s(), 's', flush=True)
        torch.save(model.state_dict(), (a.out or 'fcn') + '.pt')
    if (a.finetune_minutes > 0 or a.finetune_steps > 0) and a.train:
        torch.manual_seed(a.seed)
        data = load_canvases(a.train.split(','))
        print('canvases', len(data), t.s(), 's', flush=True)
        hard = None
        if a.hard_negatives > 0:
            hard = hard_negatives(model, data, a.hard_negatives)
            print('hard negatives', len(hard), 'scores >=', round(min(h[3] for h in hard), 4) if hard else None, t.s(), 's', flush=True)
        tf = Timer()
        steps = finetune(model, data, a.finetune_minutes, a.lr, rng, hard=hard, new_plane_lr=a.new_plane_lr, plane_only=a.plane_only,
                         steps=a.finetune_steps)
        del data
        full = report(score_set(model, a.val, vinfo), vinfo, vy, vm, vtruth)
        result['finetuned'] = short(full) | {'steps': steps, 'minutes': a.finetune_minutes if not a.finetune_steps else round(tf.s() / 60, 1), 'lr': a.lr, 'train': a.train, 'command': result['command'],
                                             **({'hardNegativesPerCanvas': a.hard_negatives} if a.hard_negatives else {}),
                                             **({'newPlaneLr': a.new_plane_lr} if a.new_plane_lr != 1.0 else {}),
                                             **({'deepInit': a.deep_init} if a.deep and a.deep_init != 'zero' else {}),
                                             **({'planeOnly': True} if a.plane_only else {})}
        print('lattice, fine-tuned', json.dumps(result['finetuned']), t.s(), 's', flush=True)
        torch.save(model.state_dict(), (a.out or 'fcn') + '.ft.pt')
    result['wallSeconds'] = t.s()
    if a.export:
        if not full:  # e.g. --load with --skip-crop-head: the loaded weights' figures for the card
            full = report(score_set(model, a.val, vinfo), vinfo, vy, vm, vtruth)
            result['exported'] = short(full)
        trained = result.get('finetuned') or (json.load(open(a.trained_by))['finetuned'] if a.trained_by else None)
        export(model, full, a, t, trained)
    if a.out:
        json.dump(result, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
