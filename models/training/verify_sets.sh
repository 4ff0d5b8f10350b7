# The threat verifiers' set flags, sourced by gen_all.sh and gpu_finetune.sh (one definition: a set rendered on
# another machine is the same set): renderings at a scanner's 6 mm/px with the raw pair's material channel
# and its deep plane (renderContainerDeep: the high-energy image past the vendor window, for a verifier that reads it).
V="--kind container --mmpp 6 --material --deep"
# verify-dense (seed 2800): 3-6 threats in every scan, knives and firearms drawn 3 and 2 times as often as the rest
D="--threat-rate 1 --threats-per-scan 3-6 --threat-classes knife,knife,knife,firearm,firearm,ammunition,cigarettes,drugs,currency,ivory"
# verify-hn (seed 3200): the four cargo kinds the dual-energy verifier confused most, the dual-energy 1.5.0's third set
H="--categories textiles-cartons,machinery-electronics,vehicles,tyres --threat-rate 0.5 --seed 3200"
# verify-fr (seed 3400): fruit in reefers, mostly with firearms and ivory: where 2.2.0 missed visible pistols and ivory
# on the assessment streams (models/README.md "What 2.2.0 misses"), positives for the next round
FR="--categories fruit-veg --threat-rate 0.7 --threat-classes firearm,firearm,ivory,ivory,knife,ammunition --seed 3400"
# verify-steel (seed 3500): steel and machinery loads, mostly without threats: 2.2.0's confident ammunition false alarms
ST="--categories iron-steel,machinery-electronics --threat-rate 0.3 --seed 3500"
