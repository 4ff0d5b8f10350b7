#!/bin/sh
# Generates every training and held-out set, deterministic from the seeds (train 1000/2000/3000, held-out
# 9000/9100/9200: disjoint; cls-reefer (seed 1200, half the dry and empty containers drawn as reefers) the cargo classifier's second set and cls-6mm (seed 1300, the same at a scanner's 6 mm/px) its third (1.3.0); the verifier's 2500 / 9100 at 6 mm/px; parcel-train2, seed 3300, the parcel detector 1.2.0's second set); the parcel embedder's sets re-use the parcel seeds at its 128 x 128 input. Two chains run in parallel on a 2-core machine. Writes models/training/out/.
O=models/training/out
S="npx tsx models/synth/cli.ts --no-raw"
C="--kind container --mmpp 24 --input 384x128 --threat-rate 0.3"
P="--kind parcel --input 256x256"
T="--kind container --mmpp 16 --input 768x256"
# the cargo classifier at a scanner's 6 mm/px, letterboxed to its input (cls-6mm: 1.3.0's third set; cls-val6: cls-val so drawn)
M="--kind container --mmpp 6 --input 384x128 --threat-rate 0.3"
# held-out empty reefers (seed 9400), drawn at 24 and at 6 mm/px
E="--kind container --input 384x128 --threat-rate 0 --categories empty --reefer-rate 1 --seed 9400 --count 300"
( $S $C --seed 1000 --start 0 --count 6000 --out $O/cls-train &&
  $S $C --reefer-rate 0.5 --seed 1200 --start 0 --count 1000 --out $O/cls-reefer &&
  $S $M --reefer-rate 0.5 --seed 1300 --start 0 --count 1500 --out $O/cls-6mm &&
  $S $E --mmpp 24 --out $O/cls-empty-reefer-val &&
  $S $P --seed 3000 --start 0 --count 3000 --out $O/parcel-train &&
  $S $P --seed 3300 --start 0 --count 3000 --out $O/parcel-train2 &&
  $S $T --threat-rate 0.6 --seed 2000 --start 0 --count 5000 --out $O/threat-train &&
  $S --kind parcel --input 128x128 --seed 3000 --count 6000 --out $O/parcel-emb-train &&
  $S --kind parcel --input 128x128 --seed 9200 --count 1000 --out $O/parcel-emb-val ) > $O/gen-a.log 2>&1 &
( $S $C --seed 1000 --start 6000 --count 6000 --out $O/cls-train &&
  $S $C --reefer-rate 0.5 --seed 1200 --start 1000 --count 1000 --out $O/cls-reefer &&
  $S $M --reefer-rate 0.5 --seed 1300 --start 1500 --count 1500 --out $O/cls-6mm &&
  $S $C --seed 9000 --count 1500 --out $O/cls-val &&
  $S $M --seed 9000 --count 1500 --out $O/cls-val6 &&
  $S $E --mmpp 6 --out $O/cls-empty-reefer-val6 &&
  $S $P --seed 3000 --start 3000 --count 3000 --out $O/parcel-train &&
  $S $P --seed 3300 --start 3000 --count 3000 --out $O/parcel-train2 &&
  $S $P --seed 9200 --count 1000 --out $O/parcel-val &&
  $S $T --threat-rate 0.6 --seed 2000 --start 5000 --count 5000 --out $O/threat-train &&
  $S $T --threat-rate 0.5 --seed 9100 --count 800 --out $O/threat-val ) > $O/gen-b.log 2>&1 &
wait
# the threat verifiers' sets: renderings at a scanner's 6 mm/px with the raw pair's material channel (the grey
# verifier reads images/ only, the dual-energy one material/ too), then the committed grid's logits on each;
# verify-train2 (seed 2600) is the grey verifier 1.3.0's second set; verify-train3 (seed 2700) the dual-energy 1.3.0's;
# verify-dense (seed 2800, threat-rich: 3-6 threats in every scan, knives and firearms drawn 3 and 2 times as often as
# the rest) and verify-train3's first 1,500 (the --start 0 chain alone) the dual-energy 1.4.0's
# verify-hn (seed 3200): the four cargo kinds the dual-energy verifier confused most (V, D and H: verify_sets.sh)
# verify-fr (seed 3400) and verify-steel (seed 3500): fruit reefers with firearms and ivory, steel and machinery loads
# (FR and ST: verify_sets.sh), for the next lattice round (gpu_finetune.sh renders them too)
. "$(dirname "$0")/verify_sets.sh"
( $S $V --threat-rate 0.6 --seed 2500 --start 0 --count 1500 --out $O/verify-train &&
  $S $V --threat-rate 0.5 --seed 9100 --start 0 --count 400 --out $O/verify-val &&
  $S $V --threat-rate 0.6 --seed 2600 --start 0 --count 750 --out $O/verify-train2 &&
  $S $V --threat-rate 0.6 --seed 2700 --start 0 --count 1500 --out $O/verify-train3 &&
  $S $V $D --seed 2800 --start 0 --count 750 --out $O/verify-dense &&
  $S $V $H --start 0 --count 750 --out $O/verify-hn &&
  $S $V $FR --start 0 --count 375 --out $O/verify-fr &&
  $S $V $ST --start 0 --count 375 --out $O/verify-steel ) > $O/gen-c.log 2>&1 &
( $S $V --threat-rate 0.6 --seed 2500 --start 1500 --count 1500 --out $O/verify-train &&
  $S $V --threat-rate 0.5 --seed 9100 --start 400 --count 400 --out $O/verify-val &&
  $S $V --threat-rate 0.6 --seed 2600 --start 750 --count 750 --out $O/verify-train2 &&
  $S $V --threat-rate 0.6 --seed 2700 --start 1500 --count 1500 --out $O/verify-train3 &&
  $S $V $D --seed 2800 --start 750 --count 750 --out $O/verify-dense &&
  $S $V $H --start 750 --count 750 --out $O/verify-hn &&
  $S $V $FR --start 375 --count 375 --out $O/verify-fr &&
  $S $V $ST --start 375 --count 375 --out $O/verify-steel ) > $O/gen-d.log 2>&1 &
wait
for d in verify-train verify-val verify-train2 verify-train3 verify-dense verify-hn verify-fr verify-steel; do npx tsx models/training/grid_proposals.mts $O/$d || exit 1; done
