"""Writes test/fixtures/models/lattice.json (with --grey, lattice-grey.json; with --deep, lattice-deep.json): what
fcn_verifier.py computes for a small random scan (grey and material planes; --grey: grey alone; --deep: and the deep
plane), so the runtime's lattice form
(models/runtime/lattice.ts) is checked against it: the canvas (the planes resampled by Pillow's BOX filter onto air),
each window's lattice cell, and, with the committed lattice verifier, each window's logits (torch, the exported
WindowMap's arithmetic).

Run (from the repo root): /usr/bin/python3 models/training/lattice_fixture.py [--grey | --deep] [--model <a lattice .onnx>]
"""
import argparse, base64, json, os, sys
import numpy as np
from PIL import Image
import torch
sys.path.insert(0, os.path.dirname(__file__))
import fcn_verifier as fv
import train_verifier as tv
from train_grid_detector import LABELS

ap = argparse.ArgumentParser()
ap.add_argument('--grey', action='store_true', help='the grey lattice verifier (one plane)')
ap.add_argument('--deep', action='store_true', help='a dual-energy lattice verifier that also reads the deep plane (three planes)')
ap.add_argument('--model', help='default: the registry\'s lattice verifier of that kind')
ap.add_argument('--out', help='default: test/fixtures/models/lattice.json, with --grey lattice-grey.json, with --deep lattice-deep.json')
a = ap.parse_args()
registry_model = fv.use_kind(a.grey, a.deep)
a.model = a.model or registry_model
a.out = a.out or f"test/fixtures/models/lattice{'-grey' if a.grey else '-deep' if a.deep else ''}.json"
rng = np.random.default_rng(20261204)
W, H = 90, 50
grey = rng.integers(0, 256, (H, W), dtype=np.uint8)
material = rng.integers(0, 256, (H, W), dtype=np.uint8)
deep = rng.integers(0, 256, (H, W), dtype=np.uint8)  # drawn after the others: their fixtures' planes are unchanged
b64 = lambda x: base64.b64encode(x.tobytes()).decode()
model = tv.Net(len(LABELS), fused=True, channels=fv.PLANES)
fv.load_lattice_onnx(model, a.model)
model.eval()
cases = []
# the grid's placement of the scan (grid-input px per rendering px, padding): down-sampled by 0.92 as a 6 mm/px scan,
# and up-sampled by 1.3
for sx, padX, padY in ((0.345, 10.0, 3.5), (0.4875, 0.0, 12.25)):
    im = {'sx': sx, 'sy': sx, 'padX': padX, 'padY': padY}
    f = fv.scale_of(im)
    planes, ox, oy = fv.planes_canvas(Image.fromarray(grey), None if a.grey else Image.fromarray(material), f, Image.fromarray(deep) if a.deep else None)
    gh, gw = planes.shape[1] // fv.CELL - fv.CELLS + 1, planes.shape[2] // fv.CELL - fv.CELLS + 1
    # window centres (grid-input px): inside, on the edges, outside the scan
    centres = [(padX + 5, padY + 4), (padX + 20.3, padY + 9.9), (padX + W * sx, padY + H * sx), (padX - 30, padY + 30), (padX + 30.5, padY - 20)]
    info = np.array([(0, -1, 0.0, cx, cy) for cx, cy in centres], np.float64)
    cells = fv.window_cells(info, im, f, ox, oy, gh, gw)
    with torch.no_grad():
        z = fv.window_logits(model, planes, cells).numpy()
    # the resampled scan only (the rest of the canvas is air: grey 255, material 0, deep 255)
    w, h = round(W * f), round(H * f)
    assert (planes[0] != 255).sum() <= w * h and (a.grey or (planes[1] != 0).sum() <= w * h) and (not a.deep or (planes[2] != 255).sum() <= w * h)
    scan = planes[:, oy:oy + h, ox:ox + w]
    cases.append({'place': {'sx': sx, 'sy': sx, 'padX': padX, 'padY': padY}, 'scale': f, 'canvas': {'width': planes.shape[2], 'height': planes.shape[1], 'ox': ox, 'oy': oy,
                  'scanWidth': w, 'scanHeight': h, 'grey': b64(scan[0]), **({} if a.grey else {'material': b64(scan[1])}), **({'deep': b64(scan[2])} if a.deep else {})},
                  'centres': centres, 'cells': cells.tolist(), 'map': [gh, gw], 'logits': np.round(z, 5).tolist()})
json.dump({'model': a.model, 'width': W, 'height': H, 'grey': b64(grey), **({} if a.grey else {'material': b64(material)}), **({'deep': b64(deep)} if a.deep else {}),
           'cases': cases}, open(a.out, 'w'), separators=(',', ':'))
print('wrote', a.out, os.path.getsize(a.out), 'bytes')
