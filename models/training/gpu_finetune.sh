#!/bin/bash
# Makes the lattice verifier's training sets and fine-tunes variants of it on a GPU machine that has PyTorch but
# not this project's Node toolchain (the workplace's device machine), in one command:
#   1. unpacks a kit made on the CPU machine: node (xz) and the synthetic generator and grid_proposals.mts bundled
#      with esbuild, with sharp's prebuilt libvips (`models/training/gpu_kit.sh` writes .dev/);
#   2. renders the training sets from their seeds on every core (as gen_all.sh, at 6 mm/px with the material
#      channel) and writes each set's grid mapping (grid_proposals.mts --geometry-only);
#   3. runs lattice_gpu.py: the canvases loaded once, each variant trained in its own process until a deadline.
# Usage (repo root): models/training/gpu_finetune.sh <out dir> <seconds for the whole run> -- <lattice_gpu.py --variant args>
# (add --grey to fine-tune the grey verifier, for scans sent as renderings only, on the same sets; --deep for the
# dual-energy one with the deep plane, e.g. --deep --variant d:lr=3e-4,batch=48,hard=8,seed=35,plane=20)
# PYTHON: the interpreter that has torch (default python3; on the CPU machine a pyenv python3 shadows Debian's, so
# PYTHON=/usr/bin/python3). Tried end to end on the 2-core CPU machine before a device round (2026-12-05, 175 s):
#   PYTHON=/usr/bin/python3 CHAIN=3 models/training/gpu_finetune.sh /tmp/gout 200 -- \
#     --variant a:lr=1e-4,batch=4,hard=2,seed=1 --variant b:lr=3e-4,batch=4,hard=0,seed=2 --device cpu --workers 2
#   renders 3 renderings a chain of all five sets, maps them, trains both variants to the deadline, writes a.ft.pt, b.ft.pt
# and with the deep plane (2026-12-05 evening, 217 s; CHAIN=2, `-- --deep --variant a:lr=1e-4,batch=4,hard=2,seed=1,plane=20
# --device cpu --workers 2`): every set with its deep/ folder, a.ft.pt of three planes, a.json with newPlaneLr 20
set -euo pipefail
OUT_DIR=$1; BUDGET=$2; shift 2; [ "${1:-}" = "--" ] && shift
T0=$(date +%s)
PY=${PYTHON:-python3}
K=.dev; W=/tmp/tw-gpu; rm -rf $W; mkdir -p $W $OUT_DIR
$PY -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open('$K/node.xz'), open('$W/node','wb'))"; chmod +x $W/node
$PY -c "import tarfile; tarfile.open('$K/js.tar.xz').extractall('$W')"
NODE=$W/node; echo "node $($NODE --version), $(nproc) cores, $(( $(date +%s) - T0 )) s"
SETS=/tmp/tw-sets; rm -rf $SETS; mkdir -p $SETS
. models/training/verify_sets.sh   # V, D, H: the flags gen_all.sh renders these sets with
S="$NODE $W/js/synth/cli.mjs --no-raw $V"
DENSE="$D --seed 2800"
HN="$H"
T3="--threat-rate 0.6 --seed 2700"
# 20 chains of N = 375 renderings (CHAIN=n to try it small): verify-dense and verify-hn 1,500 each, verify-train3 3,000,
# verify-fr and verify-steel 750 each (added 2026-12-05, not yet trained with)
N=${CHAIN:-375}
pids=()
for k in 0 1 2 3; do $S $DENSE --start $((k * N)) --count $N --out $SETS/verify-dense > $W/gen-d$k.log 2>&1 & pids+=($!); done
for k in 0 1 2 3; do $S $HN --start $((k * N)) --count $N --out $SETS/verify-hn > $W/gen-h$k.log 2>&1 & pids+=($!); done
for k in 0 1 2 3 4 5 6 7; do $S $T3 --start $((k * N)) --count $N --out $SETS/verify-train3 > $W/gen-t$k.log 2>&1 & pids+=($!); done
for k in 0 1; do $S $FR --start $((k * N)) --count $N --out $SETS/verify-fr > $W/gen-f$k.log 2>&1 & pids+=($!); done
for k in 0 1; do $S $ST --start $((k * N)) --count $N --out $SETS/verify-steel > $W/gen-s$k.log 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait $p; done
SETLIST="verify-dense verify-hn verify-train3 verify-fr verify-steel"
echo "rendered $(for s in $SETLIST; do printf '%s ' "$s=$(ls $SETS/$s/images | wc -l)"; done)in $(( $(date +%s) - T0 )) s"
for s in $SETLIST; do $NODE $W/js/training/grid_proposals.mjs $SETS/$s --geometry-only & done; wait
echo "mapped in $(( $(date +%s) - T0 )) s"
$PY models/training/lattice_gpu.py --train $(for s in $SETLIST; do printf '%s,' "$SETS/$s"; done | sed 's/,$//') --out $OUT_DIR \
  --deadline $(( T0 + BUDGET - 25 )) "$@"
echo "done in $(( $(date +%s) - T0 )) s"
