#!/bin/bash
# Writes .dev/ (git-ignored through .git/info/exclude) for gpu_finetune.sh: this machine's node binary (xz), and the
# synthetic generator and grid_proposals.mts bundled with esbuild with the node_modules they load at run time
# (sharp and its prebuilt libvips; a stub for onnxruntime-node, which --geometry-only does not run). ~31 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.dev/' >> .git/info/exclude; }
rm -rf .dev && mkdir -p .dev/js
npx esbuild models/synth/cli.ts models/training/grid_proposals.mts --bundle --platform=node --format=esm --target=node20 \
  --external:sharp --external:onnxruntime-node --outdir=.dev/js --out-extension:.js=.mjs --log-level=warning
for p in sharp @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 @img/colour detect-libc semver; do
  mkdir -p .dev/js/node_modules/$(dirname $p); cp -r node_modules/$p .dev/js/node_modules/$p
done
mkdir -p .dev/js/node_modules/onnxruntime-node
echo '{"name":"onnxruntime-node","version":"0.0.0-stub","type":"module","main":"index.js"}' > .dev/js/node_modules/onnxruntime-node/package.json
cat > .dev/js/node_modules/onnxruntime-node/index.js <<'JS'
// stub: the kit runs no ONNX model from Node (grid_proposals.mts --geometry-only)
const fail = () => { throw new Error('onnxruntime-node is not in this kit'); };
export const InferenceSession = { create: fail };
export class Tensor { constructor() { fail(); } }
export default { InferenceSession, Tensor, env: {} };
JS
(cd .dev && tar cJf js.tar.xz js && rm -rf js)
xz -T0 -6 -c "$(command -v node)" > .dev/node.xz
du -sh .dev/*
