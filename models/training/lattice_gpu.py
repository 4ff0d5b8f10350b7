"""Fine-tunes the dual-energy verifier (with --grey, the grey one) in lattice form (fcn_verifier.py's recipe) on a
GPU, several variants at once: the training canvases are loaded once (in parallel), then each variant is a forked
process with its own CUDA context training on the shared canvases until a common deadline. Writes
<out>/<variant>.ft.pt (CPU tensors, for `fcn_verifier.py --load ... --export` on the CPU machine, which scores
verify-val and writes the card) and <out>/<variant>.json (steps, minutes, settings). No validation data is needed
here: the held-out figures are computed where the card is written.

Run (from the repo root; the sets need images/, material/, meta/ and grid.json, e.g. grid_proposals.mts
--geometry-only; gpu_finetune.sh makes them on a machine without the project's node_modules):
  python3 models/training/lattice_gpu.py --train a,b,c --out dir --deadline <unix s> \\
      --variant 'name:lr=1e-4,batch=32,hard=0,seed=31[,plane=20][,init=grey]' [--variant ...] [--grey | --deep] [--init model.onnx] [--workers 16]
--deep: the dual-energy verifier with the deep plane (fcn_verifier.py --deep; sets written with `synth --deep`, as
verify_sets.sh does since 2026-12-05); a variant's `plane` moves the plane's first-layer weights that many times as far
a step (fcn_verifier.py --new-plane-lr), its `init=grey` starts the plane from half the grey plane's weights
(fcn_verifier.py --deep-init grey; default zero).
"""
import argparse, json, os, sys, time
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(__file__))
import fcn_verifier as fv


def parse_variant(text):
    name, _, rest = text.partition(':')
    v = {'name': name, 'lr': 1e-4, 'batch': 32, 'hard': 0, 'seed': 31, 'plane': 1.0, 'init': 'zero'}
    for kv in filter(None, rest.split(',')):
        k, _, x = kv.partition('=')
        if k not in v:
            raise SystemExit(f'unknown variant setting {k} (lr, batch, hard, seed, plane, init)')
        if k == 'init' and x not in ('zero', 'grey'):
            raise SystemExit(f'variant init={x}: zero or grey')
        v[k] = x if k == 'init' else type(v[k])(float(x))
    return v


def run_variant(v, data, a):
    torch.manual_seed(v['seed'])
    fv.DEV = torch.device(a.device)
    if fv.DEV.type == 'cuda':
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    model = fv.load_init(a.init, v['init']).to(fv.DEV)
    rng = np.random.default_rng(v['seed'])
    t0 = time.time()
    hard = fv.hard_negatives(model, data, v['hard']) if v['hard'] > 0 else None
    mined = time.time() - t0
    minutes = max(0.1, (a.deadline - time.time()) / 60)
    print(f"[{v['name']}] hard negatives {len(hard) if hard else 0} in {mined:.0f} s; training {minutes:.1f} min", flush=True)
    steps = fv.finetune(model, data, minutes, v['lr'], rng, bs=v['batch'], hard=hard, new_plane_lr=v['plane'])
    model.to('cpu')
    torch.save(model.state_dict(), os.path.join(a.out, v['name'] + '.ft.pt'))
    res = {'finetuned': {'steps': steps, 'minutes': round(minutes, 2), 'lr': v['lr'], 'batch': v['batch'], 'train': a.train,
                         'hardNegativesPerCanvas': v['hard'], 'hardNegativeMiningSeconds': round(mined), 'seed': v['seed'],
                         **({'newPlaneLr': v['plane']} if v['plane'] != 1.0 else {}),
                         **({'deepInit': v['init']} if v['init'] != 'zero' else {}),
                         'device': torch.cuda.get_device_name(0) if fv.DEV.type == 'cuda' else 'cpu', 'torch': torch.__version__,
                         'command': ' '.join([sys.executable, 'models/training/lattice_gpu.py', *sys.argv[1:]])}}
    json.dump(res, open(os.path.join(a.out, v['name'] + '.json'), 'w'), indent=1)
    print(f"[{v['name']}] {steps} steps", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--init', help='starting weights (default: the registry\'s verifier of this kind)')
    ap.add_argument('--grey', action='store_true', help='the grey verifier (one plane; fcn_verifier.py --grey)')
    ap.add_argument('--deep', action='store_true', help='the dual-energy verifier with the deep plane (fcn_verifier.py --deep)')
    ap.add_argument('--train', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--deadline', type=float, required=True, help='unix seconds at which every variant stops training')
    ap.add_argument('--variant', action='append', required=True)
    ap.add_argument('--workers', type=int, default=os.cpu_count())
    ap.add_argument('--device', default='cuda', help='cuda (never probed in this process: a CUDA call before the fork would poison the variants)')
    a = ap.parse_args()
    registry_model = fv.use_kind(a.grey, a.deep)
    a.init = a.init or registry_model
    variants = [parse_variant(v) for v in a.variant]
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    data = fv.load_canvases(a.train.split(','), a.workers)  # before any CUDA context: the children fork from here
    print(f'canvases {len(data)} in {time.time() - t0:.0f} s', flush=True)
    torch.set_num_threads(max(1, (a.workers or 1) // len(variants)))
    import multiprocessing
    ctx = multiprocessing.get_context('fork')
    procs = [ctx.Process(target=run_variant, args=(v, data, a)) for v in variants]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [v['name'] for v, p in zip(variants, procs) if p.exitcode != 0]
    if bad:
        raise SystemExit(f'variants failed: {bad}')


if __name__ == '__main__':
    main()
