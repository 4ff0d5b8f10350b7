"""Writes test/fixtures/models/window-box.json: windows of a small random image cropped and resampled exactly as
train_verifier.py makes the verifier's windows (its crop(): PIL crop, air outside, Image.BOX resize), so the
runtime's sampleWindow (models/runtime/verify.ts) is checked byte for byte against what training saw.

Run (from the repo root): /usr/bin/python3 models/training/window_fixture.py
"""
import json, os, sys
import numpy as np
from PIL import Image
sys.path.insert(0, os.path.dirname(__file__))
import train_verifier as tv

W, H = 37, 23
rng = np.random.default_rng(20261203)
grey = rng.integers(0, 256, (H, W), dtype=np.uint8)
material = rng.integers(0, 256, (H, W), dtype=np.uint8)
# (x0, y0, x1, y1, size): up-sampling, down-sampling, both, identity, windows leaving the image on every side, a
# side one pixel longer than the other (as window_box's rounding gives)
CASES = [(-3, -2, 9, 8, 16), (5, 4, 30, 20, 16), (20, 10, 45, 30, 16), (0, 0, 37, 23, 8), (10, 5, 13, 9, 16),
         (2, 3, 20, 21, 16), (7, 1, 23, 17, 16), (-5, 12, 14, 31, 16), (30, -6, 47, 10, 16), (1, 1, 18, 17, 16),
         # one or two source samples per output both ways (as a 40 ft container's 133 px windows to 128), inside the
         # image across, the second also above it
         (1, 0, 36, 23, 22), (3, -4, 24, 17, 20)]
out = {'width': W, 'height': H, 'grey': grey.ravel().tolist(), 'material': material.ravel().tolist(), 'cases': []}
for x0, y0, x1, y1, size in CASES:
    tv.SIZE = size
    b = (x0, y0, x1, y1)
    g = tv.crop(Image.fromarray(grey), b)
    m = tv.crop(Image.fromarray(material), b, 0)
    out['cases'].append({'window': [x0, y0, x1, y1], 'size': size, 'grey': g.ravel().tolist(),
                         'greyMaterial': np.stack([g, m], -1).ravel().tolist()})
path = 'test/fixtures/models/window-box.json'
with open(path, 'w') as f:
    json.dump(out, f, separators=(',', ':'))
    f.write('\n')
print('wrote', path, len(CASES), 'cases')
