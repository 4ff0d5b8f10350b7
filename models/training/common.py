"""Shared helpers for the training scripts: dataset loading from `npm run synth` output, AP, export, cards."""
import glob, hashlib, json, os, time
import numpy as np
from PIL import Image
import torch

torch.set_num_threads(2)

# The cargo categories of domain/categories.ts (CARGO_CATEGORIES), in the same order: the classifier's and
# the embedder's label indices.
CARGO_LABELS = ['empty', 'bulk-grain', 'sugar', 'frozen-cartons', 'fruit-veg', 'liquids', 'tyres', 'paper-rolls',
                'textiles-cartons', 'wood-furniture', 'stone-ceramics-glass', 'iron-steel', 'machinery-electronics', 'vehicles']

# The parcel items of domain/categories.ts (PARCEL_ITEMS), in the same order: the parcel detector's and the
# parcel embedder's label indices.
PARCEL_ITEMS = ['clothes', 'book', 'shoes', 'cosmetics-bottle', 'phone', 'laptop', 'toy', 'knife', 'gun', 'battery',
                'lighter', 'aerosol', 'liquid', 'scissors', 'ammunition']


def category_targets(meta, labels=CARGO_LABELS):
    """Multi-hot targets [N, len(labels)] from each sample's `categories`."""
    y = np.zeros((len(meta), len(labels)), np.float32)
    for k, m in enumerate(meta):
        for c in m['categories']:
            y[k, labels.index(c)] = 1
    return y


def load_images(d, channels):
    files = sorted(glob.glob(os.path.join(d, 'images', '*.png')))
    ids = [os.path.basename(f)[:-4] for f in files]
    mode = 'L' if channels == 1 else 'RGB'
    arr = np.stack([np.asarray(Image.open(f).convert(mode)) for f in files])
    if channels == 1:
        arr = arr[:, None]
    else:
        arr = arr.transpose(0, 3, 1, 2)
    return ids, np.ascontiguousarray(arr)


def load_meta(d, ids):
    return [json.load(open(os.path.join(d, 'meta', i + '.json'))) for i in ids]


def average_precision(scores, positives):
    """AP as the area under the precision-recall curve (all-point interpolation), VOC style."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    n_pos = positives.sum()
    if n_pos == 0:
        return None
    order = np.argsort(-scores, kind='stable')
    tp = positives[order].astype(np.float64)
    ctp = np.cumsum(tp)
    recall = ctp / n_pos
    precision = ctp / np.arange(1, len(tp) + 1)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[1.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def predict_sigmoid(model, x, mean, std, bs=64):
    """Sigmoid of the model's output over uint8 images x [N, C, H, W], in batches, normalised as the cards say."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb = (torch.from_numpy(x[i:i + bs]).float() / 255 - mean) / std
            out.append(torch.sigmoid(model(xb)).numpy())
    return np.concatenate(out)


def set_warmup_cosine_lr(opt, peak, progress, floor=3e-5):
    """Linear warm-up over the first 5 % of `progress` (0..1), then cosine decay to zero; never under `floor`."""
    p = progress
    lr = peak * (p / 0.05 if p < 0.05 else 0.5 * (1 + np.cos(np.pi * min(1.0, (p - 0.05) / 0.95))))
    for g in opt.param_groups:
        g['lr'] = max(floor, lr)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def export_onnx(model, example, path, output_name):
    model.eval()
    torch.onnx.export(model, example[:1], path, opset_version=13, input_names=['images'], output_names=[output_name],
                      dynamic_axes={'images': {0: 'batch'}, output_name: {0: 'batch'}}, do_constant_folding=True)


def layers_in_call_order(model, example, kind):
    """`model`'s layers of `kind` in the order a forward pass calls them (the order an ONNX export lists them;
    a module's registration order can differ, e.g. a detector whose box and class heads alternate per level)."""
    order, hooks = [], [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in model.modules() if isinstance(m, kind)]
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    return order


def load_folded_onnx(model, path, example=None):
    """Loads an exported .onnx's weights into `model`, built without batch norm (its convolutions with a bias):
    the export folded each batch norm into the convolution before it, so the weights are taken in graph order,
    convolutions first, then fully connected layers (Gemm), matched to the layers in registration order, or with
    `example` (an input) in the order a forward pass calls them. For continuing training from a committed model
    whose .pt checkpoint is not at hand."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for op, kind in (('Conv', torch.nn.Conv2d), ('Gemm', torch.nn.Linear)):
        nodes = [n for n in g.node if n.op_type == op]
        layers = layers_in_call_order(model, example, kind) if example is not None else [c for c in model.modules() if isinstance(c, kind)]
        assert len(layers) == len(nodes), f'{path} is not this architecture ({len(nodes)} {op} nodes, {len(layers)} layers)'
        with torch.no_grad():
            for layer, n in zip(layers, nodes):
                w = inits[n.input[1]]
                if op == 'Gemm' and not any(a.name == 'transB' and a.i == 1 for a in n.attribute):
                    w = w.T
                assert tuple(w.shape) == tuple(layer.weight.shape), f'{path}: {n.name} has weights {w.shape}, the layer {tuple(layer.weight.shape)}'
                layer.weight.copy_(torch.from_numpy(w.copy()))
                layer.bias.copy_(torch.from_numpy(inits[n.input[2]].copy()))


def write_card(card_path, card):
    with open(card_path, 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def s(self):
        return round(time.time() - self.t0, 1)
