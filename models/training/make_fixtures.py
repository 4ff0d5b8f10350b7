"""Tiny hand-set ONNX models for the runtime tests (test/fixtures/models/tiny/): a 2-label classifier whose
logits are (mean pixel value, −mean pixel value) of a 1 × 8 × 8 input, and a YOLOv8-layout detector on
1 × 32 × 32 whose output is a fixed tensor (two overlapping boxes of class 0, one of class 1); and a lattice verifier
of three planes (grey + material + deep, output layout window-map) whose firearm logit is how dark the deep plane is
over each window, for the runtime's choice of verifier (test/fixtures/models/tiny-deep/, apart: the tiny folder is a
registry of its own in the runtime tests; test/integration/models-deep-runtime.test.ts).
Run: /usr/bin/python3 models/training/make_fixtures.py"""
import json, os, sys
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
from common import export_onnx, sha256
from train_grid_detector import LABELS

OUT = 'test/fixtures/models/tiny'
OUT_DEEP = 'test/fixtures/models/tiny-deep'


class Cls(nn.Module):
    def forward(self, x):
        m = x.mean((1, 2, 3))[:, None]
        return torch.cat([m, -m], 1)


class Det(nn.Module):
    def __init__(self):
        super().__init__()
        # [4 + 2, 3 anchors]: cx, cy, w, h rows then class scores
        t = torch.tensor([[10.0, 11.0, 24.0], [10.0, 10.0, 24.0], [8.0, 8.0, 6.0], [8.0, 8.0, 6.0],
                          [0.9, 0.8, 0.1], [0.05, 0.1, 0.7]])
        self.register_buffer('t', t)

    def forward(self, x):
        return self.t[None].expand(x.shape[0], -1, -1) + x.mean((1, 2, 3))[:, None, None] * 0


class DeepMap(nn.Module):
    """[N, 3, H, W] (pixels / 255) -> window-map logits [N, 8, H / 32 - 3, W / 32 - 3]: firearm 40 x (the deep plane's
    mean darkness over the window's 4 x 4 cells) - 4, every other class -10."""
    def forward(self, x):
        dark = 1 - x[:, 2:3]
        win = F.avg_pool2d(F.avg_pool2d(dark, 32, 32), 4, 1)
        return torch.cat([40 * win - 4, win * 0 - 10 + torch.zeros(1, 7, 1, 1)], 1)


def card(name, task, layout, shape, labels, out_name, thresholds):
    path = os.path.join(OUT, name + '.onnx')
    return {'name': name, 'version': '0.0.1', 'sha256': sha256(path), 'file': name + '.onnx', 'task': task,
            'modality': 'container-xray', 'input': {'shape': shape, 'channels': 'grey', 'normalisation': {'mean': [0.0], 'std': [1.0]}, 'resize': 'letterbox', 'padValue': 0},
            'output': {'name': out_name, 'layout': layout}, 'labels': labels, 'thresholds': thresholds, 'nms': {'iou': 0.5, 'maxDetections': 10}}


os.makedirs(OUT, exist_ok=True)
export_onnx(Cls(), torch.zeros(1, 1, 8, 8), os.path.join(OUT, 'tiny-cls.onnx'), 'logits')
export_onnx(Det(), torch.zeros(1, 1, 32, 32), os.path.join(OUT, 'tiny-det.onnx'), 'output0')
for c in [card('tiny-cls', 'classify', 'multilabel-logits', ['batch', 1, 8, 8], ['bright', 'dark'], 'logits', {'bright': 0.5, 'dark': 0.5}),
          card('tiny-det', 'detect', 'yolov8', ['batch', 1, 32, 32], ['a', 'b'], 'output0', {'a': 0.5, 'b': 0.5})]:
    with open(os.path.join(OUT, c['name'] + '.card.json'), 'w') as f:
        json.dump(c, f, indent=2); f.write('\n')

os.makedirs(OUT_DEEP, exist_ok=True)
torch.onnx.export(DeepMap(), torch.zeros(1, 3, 8 * 32, 12 * 32), os.path.join(OUT_DEEP, 'tiny-verify-deep.onnx'), opset_version=13, input_names=['images'],
                  output_names=['logits'], dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch', 2: 'rows', 3: 'columns'}})
deep = {'name': 'tiny-verify-deep', 'version': '0.0.1', 'sha256': sha256(os.path.join(OUT_DEEP, 'tiny-verify-deep.onnx')), 'file': 'tiny-verify-deep.onnx',
        'task': 'verify', 'modality': 'container-xray',
        'input': {'shape': ['batch', 3, 128, 128], 'channels': 'grey+material+deep', 'normalisation': {'mean': [0.0, 0.0, 0.0], 'std': [1.0, 1.0, 1.0]}, 'resize': 'stretch', 'padValue': 255},
        'output': {'name': 'logits', 'layout': 'window-map', 'stride': 32}, 'labels': LABELS, 'thresholds': {l: 0.5 for l in LABELS},
        'verifies': {'model': 'container-threat-grid', 'proposalThreshold': 0.05, 'maxProposals': 48, 'window': 48, 'minWindowPixels': 72, 'denseStride': 24}}
with open(os.path.join(OUT_DEEP, 'tiny-verify-deep.card.json'), 'w') as f:
    json.dump(deep, f, indent=2); f.write('\n')
