"""A small anchor-free detector whose ONNX export has the Ultralytics YOLOv8 layout [N, 4 + C, anchors]
(centre x, centre y, width, height in input pixels, then sigmoid class scores), plus its loss."""
import torch, torch.nn as nn, torch.nn.functional as F

STRIDES = (8, 16, 32)


def cbr(i, o, k=3, s=1, bn=True):
    """Convolution, batch norm, SiLU; without batch norm (`bn=False`, a model continued from an export whose batch
    norms are folded into its convolutions) the convolution carries a bias instead."""
    if not bn:
        return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=True), nn.Identity(), nn.SiLU(inplace=True))
    return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o, momentum=0.1), nn.SiLU(inplace=True))


class Res(nn.Module):
    def __init__(self, c, bn=True):
        super().__init__()
        self.a, self.b = cbr(c, c, bn=bn), cbr(c, c, bn=bn)

    def forward(self, x):
        return x + self.b(self.a(x))


class YoloLite(nn.Module):
    def __init__(self, in_ch, n_cls, w=(16, 32, 64, 128, 192), bn=True):
        super().__init__()
        self.n_cls = n_cls
        self.stem = nn.Sequential(cbr(in_ch, w[0], 3, 2, bn), cbr(w[0], w[1], 3, 2, bn), Res(w[1], bn))
        self.s3 = nn.Sequential(cbr(w[1], w[2], 3, 2, bn), Res(w[2], bn))
        self.s4 = nn.Sequential(cbr(w[2], w[3], 3, 2, bn), Res(w[3], bn))
        self.s5 = nn.Sequential(cbr(w[3], w[4], 3, 2, bn), Res(w[4], bn))
        self.l5 = cbr(w[4], w[3], 1, bn=bn)
        self.f4 = cbr(w[3] * 2, w[3], bn=bn)
        self.l4 = cbr(w[3], w[2], 1, bn=bn)
        self.f3 = cbr(w[2] * 2, w[2], bn=bn)
        hc = (w[2], w[3], w[4])
        self.box = nn.ModuleList([nn.Sequential(cbr(c, 64, bn=bn), nn.Conv2d(64, 4, 1)) for c in hc])
        self.cls = nn.ModuleList([nn.Sequential(cbr(c, 64, bn=bn), nn.Conv2d(64, n_cls, 1)) for c in hc])
        for m in self.cls:
            nn.init.constant_(m[-1].bias, -4.6)

    def features(self, x):
        x = self.stem(x)
        p3 = self.s3(x); p4 = self.s4(p3); p5 = self.s5(p4)
        u4 = self.f4(torch.cat([F.interpolate(self.l5(p5), scale_factor=2.0, mode='nearest'), p4], 1))
        u3 = self.f3(torch.cat([F.interpolate(self.l4(u4), scale_factor=2.0, mode='nearest'), p3], 1))
        return [u3, u4, p5]

    def forward(self, x):
        """Training output: per level (raw box [N,4,H,W], class logits [N,C,H,W])."""
        return [(b(f), c(f)) for f, b, c in zip(self.features(x), self.box, self.cls)]


def anchors_for(h, w):
    pts, strides = [], []
    for s in STRIDES:
        gy, gx = torch.meshgrid(torch.arange(h // s), torch.arange(w // s), indexing='ij')
        pts.append(torch.stack([(gx.flatten() + 0.5) * s, (gy.flatten() + 0.5) * s], 1))
        strides.append(torch.full(((h // s) * (w // s),), float(s)))
    return torch.cat(pts).float(), torch.cat(strides)


def decode(raw_levels, anchors, strides):
    """raw levels → boxes xyxy [N, A, 4] and logits [N, A, C]."""
    boxes, logits = [], []
    for b, c in raw_levels:
        boxes.append(b.flatten(2).transpose(1, 2))
        logits.append(c.flatten(2).transpose(1, 2))
    b = torch.cat(boxes, 1); lg = torch.cat(logits, 1)
    s = strides[None, :, None]
    cxy = anchors[None] + (torch.sigmoid(b[..., :2]) * 4 - 2) * s
    wh = torch.exp(b[..., 2:].clamp(-6, 6)) * s
    return torch.cat([cxy - wh / 2, cxy + wh / 2], -1), lg


class Export(nn.Module):
    """Wraps the detector so the graph outputs [N, 4 + C, A] with centre-xywh boxes in input pixels."""

    def __init__(self, model, h, w):
        super().__init__()
        self.model = model
        a, s = anchors_for(h, w)
        self.register_buffer('anchors', a)
        self.register_buffer('strides', s)

    def forward(self, x):
        boxes, logits = decode(self.model(x), self.anchors, self.strides)
        xywh = torch.cat([(boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]], -1)
        return torch.cat([xywh, torch.sigmoid(logits)], -1).transpose(1, 2)


def giou(a, b):
    lt = torch.max(a[:, :2], b[:, :2]); rb = torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(1); area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(1)
    union = area_a + area_b - inter + 1e-7
    iou = inter / union
    clt = torch.min(a[:, :2], b[:, :2]); crb = torch.max(a[:, 2:], b[:, 2:])
    carea = (crb - clt).clamp(min=0).prod(1) + 1e-7
    return iou - (carea - union) / carea, iou


def level_of(max_side):
    return 0 if max_side <= 48 else (1 if max_side <= 112 else 2)


def assign(gts, anchors, strides, n_cls):
    """gts: list of (cls, x1, y1, x2, y2). Returns cls target [A, C], box target [A, 4], positive mask [A]."""
    A = anchors.shape[0]
    tcls = torch.zeros(A, n_cls); tbox = torch.zeros(A, 4); pos = torch.zeros(A, dtype=torch.bool)
    best_area = torch.full((A,), float('inf'))
    for c, x1, y1, x2, y2 in gts:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        s = float(STRIDES[level_of(max(x2 - x1, y2 - y1))])
        area = (x2 - x1) * (y2 - y1)
        # centre sampling: anchors of the object's level within one stride of its centre (2–3 per axis)
        on = (strides == s) & ((anchors[:, 0] - cx).abs() <= s) & ((anchors[:, 1] - cy).abs() <= s)
        if not on.any():
            d = ((anchors[:, 0] - cx) ** 2 + (anchors[:, 1] - cy) ** 2) + (strides != s).float() * 1e12
            on = torch.zeros(A, dtype=torch.bool); on[int(d.argmin())] = True
        take = on & (area < best_area)
        best_area[take] = area
        tcls[take] = 0; tcls[take, int(c)] = 1
        tbox[take] = torch.tensor([x1, y1, x2, y2])
        pos |= take
    return tcls, tbox, pos


def loss_fn(raw, anchors, strides, targets):
    boxes, logits = decode(raw, anchors, strides)
    tcls = torch.stack([t[0] for t in targets]); tbox = torch.stack([t[1] for t in targets]); pos = torch.stack([t[2] for t in targets])
    npos = max(1.0, float(pos.sum()))
    l_cls = F.binary_cross_entropy_with_logits(logits, tcls, reduction='sum') / npos
    if pos.any():
        g, _ = giou(boxes[pos], tbox[pos])
        l_box = (1 - g).sum() / npos
    else:
        l_box = boxes.sum() * 0
    return l_cls + 5.0 * l_box, float(l_cls), float(l_box)
