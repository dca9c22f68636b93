#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the pipelines on the sample in data/ and
# prints a summary of the reports.
#   scripts/demo.sh           the sample shipped in data/ (a few minutes on 2 cores)
#   scripts/demo.sh --smoke   a reduced run for CI (tiny epochs/iterations, same steps)
#   scripts/demo.sh --full    the seed's full schedule on larger freshly generated data (hours on a CPU)
# Outputs go to runs/demo (or $CARGOVISION_DEMO_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-sample}"
case "$mode" in sample|--smoke|--full) ;; *) echo "demo: unknown option '$mode' (use --smoke or --full)" >&2; exit 2 ;; esac

bash scripts/setup.sh
bash scripts/build.sh
bin=build/bin
out="${CARGOVISION_DEMO_OUT:-runs/demo}"
mkdir -p "$out"
start=$(date +%s)

echo "== cargo classifier =="
cargo_data=data/cargo
cargo_args=(--config configs/cargo_demo.json)
case "$mode" in
  --smoke) cargo_args+=(--epochs 2 --image-size 64 --backbone resnet18) ;;
  --full)
    cargo_data="$out/cargo_data"
    "$bin/synth_cargo" --output "$cargo_data" --train 4000 --test 800 --seed 2026
    cargo_args=(--config configs/cargo_resnet152.json) ;;
esac
"$bin/preprocess" "${cargo_args[@]}" --train-dir "$cargo_data/train" --output-dir "$out/classifier"
"$bin/test" --checkpoint "$out/classifier/best.pt" --test-dir "$cargo_data/test" --output "$out/classifier/"

echo
echo "== summary ($(( $(date +%s) - start )) s) =="
echo "cargo classifier: $out/classifier/test_report.csv"
grep -E "^(Average Accuracy|Inference Speed)" "$out/classifier/test_report.csv" | sed 's/^/  /'
echo "  training history: $out/classifier/history.csv, $out/classifier/history.png"
